import ConvBankTestSupport
import Foundation
import Testing

/// Runs the real `convbank` binary (`.build/debug/convbank`, built by `swift build --build-tests`) as a child
/// process through `ProcessRunner`, so exit codes and standard error are the ones users see.
enum CLI {
    /// The repository root: the first folder above this file holding `Package.swift`.
    static let repository: URL = {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while url.path != "/" {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
            url = url.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }()

    static var binary: URL { repository.appendingPathComponent(".build/debug/convbank") }
    static var sampleImages: URL { repository.appendingPathComponent("SampleImages") }
    static var testdata: URL { repository.appendingPathComponent("Tests/ConvBankTests/Fixtures/testdata") }

    /// This process's environment without the variables that pick a shard (`SLURM_*`, `JOB_COMPLETION_INDEX`,
    /// `CONVBANK_SHARD_COUNT`), so a test run inside a Slurm job array or an Indexed Job still sees every input;
    /// then `extra`.
    static func environment(adding extra: [String: String] = [:]) -> [String: String] {
        ProcessInfo.processInfo.environment
            .filter { !$0.key.hasPrefix("SLURM_") && $0.key != "JOB_COMPLETION_INDEX" && $0.key != "CONVBANK_SHARD_COUNT" }
            .merging(extra) { $1 }
    }

    /// What one run of the binary produced.
    struct Result: CustomStringConvertible {
        /// The exit status; -1 when a signal ended the run.
        var status: Int32
        /// The signal that ended the run; 0 when none did.
        var signal: Int32
        /// The run's own peak resident memory in KiB (`ProcessRunner`: `VmHWM` sampled while it ran).
        var peakKiB: Int
        var stdout: String
        /// Empty when standard error was not captured.
        var stderr: String
        /// Non-empty standard-error lines.
        var errorLines: [String] { stderr.split(separator: "\n").map(String.init).filter { !$0.isEmpty } }
        var description: String {
            "exit \(status)\(signal == 0 ? "" : ", signal \(signal)"), peak \(peakKiB) KiB\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)"
        }
    }

    /// Runs `convbank arguments…` in `directory` (environment: `environment(adding:)`), standard output captured,
    /// standard error captured or where `standardError` says. A run still going after `timeout` seconds is killed
    /// and recorded as an issue; one ended by a signal is an issue too. Fails the test (never skips) when the
    /// binary is missing.
    static func run(_ arguments: [String], in directory: URL? = nil, environment extra: [String: String] = [:],
                    standardError: ProcessRunner.Output = .capture, timeout: Double? = nil,
                    sourceLocation: SourceLocation = #_sourceLocation) throws -> Result {
        try run(bytes: arguments.map { Array($0.utf8) }, in: directory, environment: extra, standardError: standardError,
                timeout: timeout, sourceLocation: sourceLocation)
    }

    /// `run` with raw byte arguments (names that are not UTF-8).
    static func run(bytes arguments: [[UInt8]], in directory: URL? = nil, environment extra: [String: String] = [:],
                    standardError: ProcessRunner.Output = .capture, timeout: Double? = nil,
                    sourceLocation: SourceLocation = #_sourceLocation) throws -> Result {
        try requireBinary(sourceLocation: sourceLocation)
        let outcome = try ProcessRunner.run(ProcessRunner.Command(
            binary.path, bytes: arguments, directory: directory?.path, environment: environment(adding: extra),
            standardError: standardError, timeout: timeout))
        if outcome.timedOut {
            Issue.record("convbank \(arguments.map { String(decoding: $0, as: UTF8.self) }) did not finish in \(timeout ?? 0) s",
                         sourceLocation: sourceLocation)
        } else if let signal = outcome.signal {
            Issue.record("convbank was killed by signal \(signal) (\(ProcessRunner.signalName(signal)))", sourceLocation: sourceLocation)
        }
        return Result(status: outcome.status, signal: outcome.signal ?? 0, peakKiB: outcome.peakRSSKiB,
                      stdout: outcome.stdoutText, stderr: outcome.stderrText)
    }

    /// Starts `convbank arguments…` in the background (standard output discarded, standard error captured), to be
    /// killed mid-run or run alongside another.
    static func start(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> ProcessRunner.Running {
        try requireBinary(sourceLocation: sourceLocation)
        return try ProcessRunner.start(ProcessRunner.Command(binary.path, arguments, environment: environment(), standardOutput: .discard))
    }

    /// Runs `convbank arguments…` with a pseudo-terminal as stdin, stdout and stderr, through util-linux
    /// `script -qec CMD /dev/null`; returns everything the terminal received. Nil when `script` is missing.
    static func runInPseudoTerminal(_ arguments: [String]) throws -> (status: Int32, output: String)? {
        let script = ["/usr/bin/script", "/bin/script"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let script else { return nil }
        let command = ([binary.path] + arguments).map(shellQuoted).joined(separator: " ")
        let outcome = try ProcessRunner.run(ProcessRunner.Command(
            script, ["-qec", command, "/dev/null"], environment: environment(), standardError: .standardOutput))
        return (outcome.status, outcome.stdoutText)
    }

    static func shellQuoted(_ word: String) -> String { "'" + word.replacingOccurrences(of: "'", with: #"'\''"#) + "'" }

    private static func requireBinary(sourceLocation: SourceLocation) throws {
        try #require(FileManager.default.isExecutableFile(atPath: binary.path),
                     "the convbank binary is missing at \(binary.path): run `swift build --build-tests` first",
                     sourceLocation: sourceLocation)
    }
}
