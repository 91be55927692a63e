import Foundation
import Testing

/// Helpers for `ResumeTests`: a `convbank` process that can be killed mid-run, a run under a pseudo-terminal,
/// snapshots of output trees, and the closing summary and manifest parsed.
enum ProcessHelpers {
    /// A `convbank` run started in the background; stdout and stderr go to files (never pipes, which could fill).
    final class Spawned {
        let process = Process()
        private let scratch: URL
        private let errURL: URL

        init(_ arguments: [String]) throws {
            try #require(FileManager.default.isExecutableFile(atPath: CLI.binary.path),
                         "the convbank binary is missing at \(CLI.binary.path): run `swift build --build-tests` first")
            scratch = FileManager.default.temporaryDirectory.appendingPathComponent("convbank-spawn-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            errURL = scratch.appendingPathComponent("stderr")
            _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
            let err = try FileHandle(forWritingTo: errURL)
            process.executableURL = CLI.binary
            process.arguments = arguments
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = err
            try process.run()
            try err.close()
        }

        deinit { try? FileManager.default.removeItem(at: scratch) }

        /// Sends SIGKILL (the process may already have ended; then nothing happens).
        func killNow() {
            if process.isRunning { _ = kill(process.processIdentifier, SIGKILL) }
        }

        /// Waits for the end; `killed` when a signal ended it.
        func wait() -> (status: Int32, killed: Bool, stderr: String) {
            process.waitUntilExit()
            let text = String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self)
            return (process.terminationStatus, process.terminationReason == .uncaughtSignal, text)
        }
    }

    /// Runs `convbank arguments…` with a pseudo-terminal as stdin, stdout and stderr, through util-linux
    /// `script -qec CMD /dev/null`; returns everything the terminal received. Nil when `script` is missing.
    static func runInPseudoTerminal(_ arguments: [String]) throws -> (status: Int32, output: String)? {
        let script = ["/usr/bin/script", "/bin/script"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let script else { return nil }
        let command = ([CLI.binary.path] + arguments).map(shellQuoted).joined(separator: " ")
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("convbank-pty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("out")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: script)
        process.arguments = ["-qec", command, "/dev/null"]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = out
        try process.run()
        process.waitUntilExit()
        try out.close()
        return (process.terminationStatus, String(decoding: try Data(contentsOf: outURL), as: UTF8.self))
    }

    static func shellQuoted(_ word: String) -> String { "'" + word.replacingOccurrences(of: "'", with: #"'\''"#) + "'" }

    /// Runs a system tool (e.g. `mount`), output discarded; its exit status.
    @discardableResult
    static func system(_ tool: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return -1 }
        process.waitUntilExit()
        return process.terminationReason == .exit ? process.terminationStatus : -1
    }

    /// Whether a tmpfs can be mounted here (root in a sandbox that allows it): mounts and unmounts one.
    static let canMountTmpfs: Bool = {
        let probe = FileManager.default.temporaryDirectory.appendingPathComponent("convbank-mount-probe-\(UUID().uuidString)")
        guard (try? FileManager.default.createDirectory(at: probe, withIntermediateDirectories: true)) != nil else { return false }
        defer { try? FileManager.default.removeItem(at: probe) }
        guard system("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe.path]) == 0 else { return false }
        return system("/bin/umount", [probe.path]) == 0
    }()

    // MARK: - Output trees

    /// Identity of a file on disk: a rewrite (temp + rename) changes the inode; mtime in nanoseconds.
    struct Stamp: Equatable, CustomStringConvertible {
        var inode: UInt64, seconds: Int, nanoseconds: Int, size: Int64
        var description: String { "inode \(inode), mtime \(seconds).\(nanoseconds), \(size) bytes" }
    }

    static func stamp(_ url: URL) -> Stamp? {
        var info = stat()
        guard stat(url.path, &info) == 0 else { return nil }
        return Stamp(inode: UInt64(info.st_ino), seconds: Int(info.st_mtim.tv_sec), nanoseconds: Int(info.st_mtim.tv_nsec),
                     size: Int64(info.st_size))
    }

    /// Whether any component of a relative path is hidden (starts with `.`).
    static func isHidden(_ relative: String) -> Bool { relative.split(separator: "/").contains { $0.hasPrefix(".") } }

    /// Whether a file name is one of `AtomicFile`'s temporary names, `.NAME.tmp-PID-RANDOM`.
    static func isTemporary(_ relative: String) -> Bool {
        let name = (relative as NSString).lastPathComponent
        return name.hasPrefix(".") && name.contains(".tmp-")
    }

    /// The non-hidden files under `root` (records, manifests and temporary files left out), with their bytes.
    static func visibleTree(_ root: URL) throws -> [String: [UInt8]] {
        var tree: [String: [UInt8]] = [:]
        for relative in filesUnder(root) where !isHidden(relative) {
            tree[relative] = try bytes(of: root.appendingPathComponent(relative))
        }
        return tree
    }

    /// Temporary files (`.NAME.tmp-…`) anywhere under `root`.
    static func temporaryFiles(_ root: URL) -> [String] {
        filesUnder(root, includingBookkeeping: true).filter(isTemporary)
    }

    static func stamps(_ root: URL) -> [String: Stamp] {
        var out: [String: Stamp] = [:]
        for relative in filesUnder(root) where !isHidden(relative) { out[relative] = stamp(root.appendingPathComponent(relative)) }
        return out
    }

    // MARK: - Summary and manifest

    /// Complete lines in a file (0 when it is missing).
    static func lineCount(_ url: URL) -> Int {
        guard let data = FileManager.default.contents(atPath: url.path) else { return 0 }
        return data.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    }

    struct Summary: Equatable, CustomStringConvertible {
        var inputs = 0, succeeded = 0, skipped = 0, failed = 0
        var megapixels = 0.0, seconds = 0.0, rate = 0.0
        var description: String { "\(inputs) inputs: \(succeeded) succeeded, \(skipped) skipped, \(failed) failed" }
        /// The counts only.
        var counts: [Int] { [inputs, succeeded, skipped, failed] }
    }

    /// The closing summary line `N inputs: a succeeded, b skipped, c failed; X MP in T s (R MP/s)` in `text`.
    static func summary(in text: String) -> Summary? {
        let pattern = #/(\d+) inputs?: (\d+) succeeded, (\d+) skipped, (\d+) failed; ([0-9.]+) MP in ([0-9.]+) s \(([0-9.]+) MP\/s\)/#
        guard let m = text.matches(of: pattern).last else { return nil }
        return Summary(inputs: Int(m.1)!, succeeded: Int(m.2)!, skipped: Int(m.3)!, failed: Int(m.4)!,
                       megapixels: Double(m.5) ?? -1, seconds: Double(m.6) ?? -1, rate: Double(m.7) ?? -1)
    }

    /// One manifest line.
    struct ManifestLine {
        var object: [String: Any]
        var input: String { object["input"] as? String ?? "" }
        var key: String { object["key"] as? String ?? "" }
        var status: String { object["status"] as? String ?? "" }
        var outputs: [String] { object["outputs"] as? [String] ?? [] }
        var error: String? { object["error"] as? String }
    }

    struct MalformedManifest: Error, CustomStringConvertible { var description: String }

    /// Every line of a manifest, parsed (a line that is not a JSON object throws).
    static func manifest(_ url: URL) throws -> [ManifestLine] {
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        let text = String(decoding: try Data(contentsOf: url), as: UTF8.self)
        var lines: [ManifestLine] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw MalformedManifest(description: "line \(n + 1) of \(url.lastPathComponent) is not a JSON object: \(line)")
            }
            lines.append(ManifestLine(object: object))
        }
        if !text.isEmpty, !text.hasSuffix("\n") { throw MalformedManifest(description: "\(url.lastPathComponent) does not end with a newline") }
        return lines
    }

    // MARK: - Inputs

    /// A deterministic 32-bit LCG.
    struct LCG {
        var state: UInt32
        mutating func next() -> UInt32 {
            state = state &* 1_664_525 &+ 1_013_904_223
            return state
        }
        mutating func below(_ n: Int) -> Int { Int(next() >> 8) % n }
    }

    /// An 8-bit RGB PNG of `width × height` with gradients and noise from `seed`: every seed gives other maps.
    static func photo(width: Int, height: Int, seed: UInt32) -> [UInt8] {
        var random = LCG(state: seed &* 2_654_435_761 &+ 7)
        let a = random.below(7) + 1, b = random.below(5) + 1, c = random.below(256)
        var samples: [Int] = []
        samples.reserveCapacity(width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let noise = random.below(64)
                samples += [(x * a + c) % 256, (y * b + noise) % 256, ((x + y) * 3 + noise * 2) % 256]
            }
        }
        return TestPNG.encode(width: width, height: height, color: .rgb, bitDepth: 8, samples: samples)
    }
}
