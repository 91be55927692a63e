import Foundation
import Testing

/// Runs the real `convbank` binary (`.build/debug/convbank`, built by `swift build --build-tests`) as a
/// subprocess, so exit codes and standard error are the ones users see.
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

    /// What one run of the binary produced.
    struct Result: CustomStringConvertible {
        var status: Int32
        var stdout: String
        var stderr: String
        /// Non-empty standard-error lines.
        var errorLines: [String] { stderr.split(separator: "\n").map(String.init).filter { !$0.isEmpty } }
        var description: String { "exit \(status)\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)" }
    }

    /// Runs `convbank arguments…` in `directory`. Fails the test (never skips) when the binary is missing.
    static func run(_ arguments: [String], in directory: URL? = nil,
                    sourceLocation: SourceLocation = #_sourceLocation) throws -> Result {
        try #require(FileManager.default.isExecutableFile(atPath: binary.path),
                     "the convbank binary is missing at \(binary.path): run `swift build --build-tests` first",
                     sourceLocation: sourceLocation)
        // Output goes to files, not pipes, so a chatty run can never fill a pipe and deadlock.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("convbank-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout"), errURL = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        #expect(process.terminationReason == .exit, "convbank was killed by signal \(process.terminationStatus)",
                sourceLocation: sourceLocation)
        return Result(status: process.terminationStatus,
                      stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                      stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }
}

/// A fresh temporary folder, removed when the value is released (`withTemporaryFolder`).
struct TemporaryFolder {
    let url: URL
    var path: String { url.path }

    func file(_ relative: String) -> URL { url.appendingPathComponent(relative) }

    /// Writes `bytes` at `relative`, creating parent folders.
    @discardableResult
    func write(_ relative: String, _ bytes: [UInt8]) throws -> URL {
        let target = file(relative)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: target)
        return target
    }

    @discardableResult
    func write(_ relative: String, text: String) throws -> URL { try write(relative, Array(text.utf8)) }

    /// Copies `source` to `relative`.
    @discardableResult
    func copy(_ source: URL, to relative: String) throws -> URL {
        try write(relative, [UInt8](try Data(contentsOf: source)))
    }
}

func withTemporaryFolder<R>(_ body: (TemporaryFolder) throws -> R) throws -> R {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("convbank-cli-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(TemporaryFolder(url: url))
}

/// Every regular file under `root`, as sorted paths relative to `root` (hidden names included); empty when
/// `root` does not exist.
/// The files under `root` (relative, sorted), leaving out a run's bookkeeping: the per-input records
/// (`.convbank-record.json`) and the manifests (`manifest*.jsonl`), which `ResumeTests` checks on their own.
/// Anything else hidden (a leftover temporary file) is listed.
func filesUnder(_ root: URL) -> [String] {
    filesUnder(root, includingBookkeeping: false)
}

func filesUnder(_ root: URL, includingBookkeeping: Bool) -> [String] {
    guard let enumerator = FileManager.default.enumerator(atPath: root.path) else { return [] }
    var files: [String] = []
    while let relative = enumerator.nextObject() as? String {
        let name = (relative as NSString).lastPathComponent
        if !includingBookkeeping, name == ".convbank-record.json" || (!relative.contains("/") && name.hasPrefix("manifest") && name.hasSuffix(".jsonl")) {
            continue
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: root.appendingPathComponent(relative).path, isDirectory: &isDirectory),
           !isDirectory.boolValue {
            files.append(relative)
        }
    }
    return files.sorted()
}

/// Every entry (files and folders) under `root`, relative and sorted.
/// Files and folders under `root`, without the run's bookkeeping (records and manifests, see `filesUnder`).
func entriesUnder(_ root: URL) -> [String] {
    guard let enumerator = FileManager.default.enumerator(atPath: root.path) else { return [] }
    var entries: [String] = []
    while let relative = enumerator.nextObject() as? String {
        let name = (relative as NSString).lastPathComponent
        if name == ".convbank-record.json" || (!relative.contains("/") && name.hasPrefix("manifest") && name.hasSuffix(".jsonl")) { continue }
        entries.append(relative)
    }
    return entries.sorted()
}

func bytes(of url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }
