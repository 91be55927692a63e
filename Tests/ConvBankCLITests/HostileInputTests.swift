import Foundation
import Testing

/// Regression tests for hostile input, one or more per class: parameters that overflow or explode memory, banks
/// of very many filters, the memory budget, broken standard streams, and the smaller holes (output folder equal
/// to the input, run-file names, over-long names). Each runs the real binary; peak memory is the child's own
/// (`wait4`), never the test process's.
@Suite struct HostileInputTests {
    static let intMax = "9223372036854775807"

    // MARK: - Parameters

    /// Integers near `Int.max` on the command line are usage errors (64) with a message, never a trap.
    @Test(arguments: [
        ["apply", "IMG", "--bank", "sobel", "--output", "OUT", "--padding", intMax],
        ["apply", "IMG", "--bank", "sobel", "--output", "OUT", "--padding", "1,1,1,\(intMax)"],
        ["apply", "IMG", "--bank", "sobel", "--output", "OUT", "--stride", intMax],
        ["apply", "IMG", "--bank", "sobel", "--output", "OUT", "--dilation", "1,\(intMax)"],
        ["apply", "IMG", "--bank", "sobel", "--output", "OUT", "--stride", "1000000000"],
        ["summary", "--bank", "sobel", "--input-size", "\(intMax),\(intMax)"],
        ["explain", "--bank", "sobel", "IMG", "--at", "\(intMax),0"],
        ["apply", "IMG", "--bank", "sobel", "--output", "OUT", "--max-memory", "99999999999999999999G"],
    ])
    func hugeCommandLineIntegers(_ arguments: [String]) throws {
        try withTemporaryFolder { folder in
            let image = try folder.write("a.png", TestPNG.gray8([[1, 2, 3], [4, 5, 6], [7, 8, 9]]))
            let args = arguments.map { $0 == "IMG" ? image.path : $0 == "OUT" ? folder.file("out").path : $0 }
            let result = try CLI.run(args)
            #expect(result.status == 64, "\(result)")
            #expect(result.stderr.lowercased().contains("error") && result.stderr.contains("invalid"), "\(result)")
        }
    }

    /// The largest legal values run, and give the hand-computed maps: stride 999,999,999 on a 16×16 image is one
    /// output (its first pixel × 2); `--stride 1,1000` on a 65535×1 row picks every 1000th pixel, in little memory.
    @Test func largestStridesRunInLittleMemory() throws {
        try withTemporaryFolder { folder in
            let pixels = (0..<16).map { y in (0..<16).map { x in (y * 16 + x + 5) % 256 } }
            let square = try folder.write("in/square.png", TestPNG.gray8(pixels))
            let bank = try folder.write("bank.json", text: #"{"stride": 999999999, "padding": "same", "filters": [{"name": "twice", "weights": [[2]]}]}"#)
            let first = try Measured.run([square.path, "--bank", bank.path, "--output", folder.file("out").path, "--format", "npy"].applying)
            #expect(first.status == 0 && first.signal == 0, "\(first)")
            let square1 = try NPYMatrix(contentsOf: folder.file("out/square/twice.npy"))
            #expect(square1.rows == 1 && square1.columns == 1 && square1.values == [10])
            #expect(first.peakKiB < 200 * 1024, "\(first.peakKiB) KiB")

            let row = (0..<65535).map { ($0 * 7) % 256 }
            let wide = try folder.write("in/wide.png", TestPNG.gray8([row]))
            let identity = try folder.write("id.json", text: #"{"filters": [{"name": "id", "weights": [[1]]}]}"#)
            let second = try Measured.run([wide.path, "--bank", identity.path, "--stride", "1,1000", "--output", folder.file("out").path, "--format", "npy"].applying)
            #expect(second.status == 0 && second.signal == 0, "\(second)")
            let map = try NPYMatrix(contentsOf: folder.file("out/wide/id.npy"))
            #expect(map.rows == 1 && map.columns == 66)
            #expect(map.values == (0..<66).map { Float(row[$0 * 1000]) })
            #expect(second.peakKiB < 200 * 1024, "\(second.peakKiB) KiB")
        }
    }

    /// Bank values beyond the limits are refused before any image is touched, naming the JSON path.
    @Test(arguments: [
        (#"{"stride": 1000000000, "filters": [{"weights": [[1]]}]}"#, "stride: must be at most 999999999"),
        (#"{"dilation": [1, 9223372036854775807], "filters": [{"weights": [[1]]}]}"#, "dilation[1]: must be at most 999999999"),
        (#"{"padding": [0, 0, 0, 1e300], "filters": [{"weights": [[1]]}]}"#, "padding[3]: must be at most 999999999"),
    ])
    func hugeBankValues(_ json: String, _ message: String) throws {
        try withTemporaryFolder { folder in
            let image = try folder.write("a.png", TestPNG.gray8([[1]]))
            let bank = try folder.write("b.json", text: json)
            let result = try CLI.run(["apply", image.path, "--bank", bank.path, "--output", folder.file("out").path])
            #expect(result.status == 64 && result.stderr.contains(message), "\(result)")
            #expect(!FileManager.default.fileExists(atPath: folder.file("out/a").path))
        }
    }

    /// Built-in parameters that would give zero-width Gaussians or infinite weights are refused (64) by `apply`,
    /// `summary` and `banks`; `banks` never prints non-JSON.
    @Test(arguments: ["gaussian:sigma=1e-200", "dog:sigma=1e-200", "unsharp:sigma=1e-200", "log:sigma=1e-10", "unsharp:amount=1e300"])
    func hostileBuiltinParameters(_ reference: String) throws {
        for command in [["summary", "--bank", reference], ["banks", reference]] {
            let result = try CLI.run(command)
            #expect(result.status == 64 || result.status == 1, "\(command): \(result)")
            #expect(result.stderr.contains("sigma: must be at least 0.01") || result.stderr.contains("amount: must be at most 1000000"), "\(result)")
            #expect(!result.stdout.contains("inf") && !result.stdout.contains("nan"))
        }
    }

    /// Slurm variables at the ends of `Int` name no shard: a clean usage error, not an overflow trap.
    @Test func slurmVariablesAtTheEndsOfInt() throws {
        try withTemporaryFolder { folder in
            let image = try folder.write("a.png", TestPNG.gray8([[1]]))
            for (id, minimum) in [("0", "-9223372036854775808"), (Self.intMax, "-1"), ("-9223372036854775808", Self.intMax)] {
                let result = try Measured.run(["apply", image.path, "--bank", "sobel", "--output", folder.file("out").path],
                                              environment: ["SLURM_ARRAY_TASK_ID": id, "SLURM_ARRAY_TASK_COUNT": "2", "SLURM_ARRAY_TASK_MIN": minimum])
                #expect(result.status == 64 && result.signal == 0, "\(id) \(minimum): \(result)")
            }
        }
    }

    // MARK: - Many filters

    /// Memory is linear in the bank: 40,000 one-tap filters on a 1×1 image (the old engine took 3.7 GB for 30,000
    /// and aborted at 60,000), every map right (filter k has weight k − 20000: map = 3·(k − 20000)).
    @Test func fortyThousandFilters() throws {
        try withTemporaryFolder { folder in
            let image = try folder.write("one.png", TestPNG.gray8([[3]]))
            let filters = (0..<40000).map { #"{"name": "f\#($0)", "weights": [[\#($0 - 20000)]]}"# }.joined(separator: ",")
            let bank = try folder.write("many.json", text: #"{"filters": [\#(filters)]}"#)
            let result = try Measured.run([image.path, "--bank", bank.path, "--output", folder.file("out").path, "--format", "npy", "-q"].applying)
            #expect(result.status == 0 && result.signal == 0, "\(result)")
            #expect(result.peakKiB < 400 * 1024, "\(result.peakKiB) KiB")
            for k in [0, 1, 19999, 20000, 39999] {
                #expect(try NPYMatrix(contentsOf: folder.file("out/one/f\(k).npy")).values == [Float(3 * (k - 20000))])
            }
        }
    }

    // MARK: - Memory budget

    /// An input over `--max-memory` is refused before decoding, with one line naming it, the need and the budget;
    /// the batch goes on (exit 1) and leaves nothing of it behind.
    @Test func memoryBudgetRefusesOneInput() throws {
        try withTemporaryFolder { folder in
            try folder.write("in/small.png", TestPNG.constant(width: 8, height: 8, color: .gray, bitDepth: 8, pixel: [9]))
            try folder.write("in/large.png", TestPNG.constant(width: 2000, height: 2000, color: .rgb, bitDepth: 8, pixel: [1, 2, 3]))
            let out = folder.file("out")
            let result = try Measured.run([folder.file("in").path, "--bank", "edges", "--output", out.path, "--max-memory", "64M"].applying)
            #expect(result.status == 1 && result.signal == 0, "\(result)")
            let lines = result.stderr.split(separator: "\n").filter { $0.contains("error") }
            #expect(lines.count == 1 && lines[0].contains("large.png") && lines[0].contains("over the memory budget of 64.0 MiB"), "\(result)")
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("small/sobel_x.png").path))
            #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("large").path))
            #expect(result.peakKiB < 64 * 1024, "\(result.peakKiB) KiB")
            // Raised, the same input runs.
            let again = try CLI.run(["apply", folder.file("in/large.png").path, "--bank", "edges", "--output", out.path, "--max-memory", "2G", "-q"])
            #expect(again.status == 0, "\(again)")
        }
    }

    // MARK: - Standard streams

    /// A full disk behind standard error: every input is still processed and recorded in the manifest.
    @Test func fullStandardErrorDoesNotStopTheBatch() throws {
        try withTemporaryFolder { folder in
            try folder.write("in/a.png", TestPNG.gray8([[1, 2], [3, 4]]))
            try folder.write("in/b.png", text: "not an image")
            try folder.write("in/c.png", TestPNG.gray8([[5, 6], [7, 8]]))
            let out = folder.file("out")
            let result = try Measured.run([folder.file("in").path, "--bank", "sobel", "--output", out.path].applying, stderrPath: "/dev/full")
            #expect(result.status == 1 && result.signal == 0, "\(result)")
            let manifest = try String(contentsOf: out.appendingPathComponent("manifest.jsonl"), encoding: .utf8).split(separator: "\n")
            #expect(manifest.count == 3)
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("c/sobel_x.png").path))
        }
    }

    /// With standard error closed, error lines never land in the manifest: it stays one JSON object per line.
    @Test func closedStandardErrorKeepsTheManifestClean() throws {
        try withTemporaryFolder { folder in
            try folder.write("in/a.png", TestPNG.gray8([[1, 2], [3, 4]]))
            try folder.write("in/b.png", text: "not an image")
            let out = folder.file("out")
            let result = try Measured.run([folder.file("in").path, "--bank", "sobel", "--output", out.path].applying, stderrPath: nil)
            #expect(result.status == 1 && result.signal == 0, "\(result)")
            let lines = try String(contentsOf: out.appendingPathComponent("manifest.jsonl"), encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 2)
            for line in lines { #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil, "\(line)") }
        }
    }

    // MARK: - Smaller holes

    @Test func outputFolderEqualToTheInputIsAUsageError() throws {
        try withTemporaryFolder { folder in
            try folder.write("in/a.png", TestPNG.gray8([[1]]))
            let result = try CLI.run(["apply", folder.file("in").path, "--bank", "sobel", "--output", folder.file("in/.").path])
            #expect(result.status == 64 && result.stderr.contains("is the input folder"), "\(result)")
            #expect(filesUnder(folder.file("in")) == ["a.png"])
        }
    }

    /// Input folders named like the run's own files get `-2` like any other clash; the run files stay files.
    @Test func inputFoldersNamedLikeRunFiles() throws {
        try withTemporaryFolder { folder in
            for name in ["manifest.jsonl", "stats.csv", "index.html"] { try folder.write("in/\(name)/x.png", TestPNG.gray8([[1, 2], [3, 4]])) }
            let out = folder.file("out")
            let result = try CLI.run(["apply", folder.file("in").path, "--bank", "sobel", "--output", out.path, "--stats", "--gallery", "-q"])
            #expect(result.status == 0, "\(result)")
            for name in ["manifest.jsonl", "stats.csv", "index.html"] {
                var isDirectory: ObjCBool = true
                #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(name).path, isDirectory: &isDirectory) && !isDirectory.boolValue, "\(name)")
            }
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("manifest.jsonl-2/x/sobel_x.png").path))
        }
    }

    /// A filter name whose files could not fit 255 bytes is refused with the bank, before any input fails.
    @Test func overLongFilterNameIsABankError() throws {
        try withTemporaryFolder { folder in
            let image = try folder.write("a.png", TestPNG.gray8([[1]]))
            let bank = try folder.write("b.json", text: #"{"filters": [{"name": "\#(String(repeating: "n", count: 240))", "weights": [[1]]}]}"#)
            let result = try CLI.run(["apply", image.path, "--bank", bank.path, "--output", folder.file("out").path])
            #expect(result.status == 64 && result.stderr.contains("at most 200 bytes"), "\(result)")
        }
    }

    /// Temporary files of `stats.csv` and `index.html` that a killed run left are removed by the next run (those of a
    /// live process are kept).
    @Test func staleRunFileTemporariesAreRemoved() throws {
        try withTemporaryFolder { folder in
            try folder.write("in/a.png", TestPNG.gray8([[1]]))
            let out = folder.file("out")
            let dead = try folder.write("out/.stats.csv.tmp-999999999-12345", text: "partial")
            let deadIndex = try folder.write("out/.index.html.tmp-999999999-1", text: "partial")
            let live = try folder.write("out/.stats.csv.tmp-\(getpid())-7", text: "being written")
            let result = try CLI.run(["apply", folder.file("in").path, "--bank", "sobel", "--output", out.path, "--stats", "--gallery", "-q"])
            #expect(result.status == 0, "\(result)")
            #expect(!FileManager.default.fileExists(atPath: dead.path) && !FileManager.default.fileExists(atPath: deadIndex.path))
            #expect(FileManager.default.fileExists(atPath: live.path))
        }
    }
}

private extension Array where Element == String {
    /// `apply` followed by these arguments.
    var applying: [String] { ["apply"] + self }
}

/// Runs the binary with `posix_spawn` and reaps it with `wait4`, for its own peak memory and the signal that
/// ended it, if any. Standard output goes to a file; standard error to a file, to `stderrPath`, or closed (nil).
enum Measured {
    struct Result: CustomStringConvertible {
        var status: Int32
        var signal: Int32
        var peakKiB: Int
        var stderr: String
        var description: String { "exit \(status), signal \(signal), peak \(peakKiB) KiB\n--- stderr\n\(stderr)" }
    }

    static func run(_ arguments: [String], environment: [String: String] = [:], stderrPath: String? = "",
                    timeout: Double = 120) throws -> Result {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("convbank-measured-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let errPath = stderrPath == "" ? scratch.appendingPathComponent("stderr").path : stderrPath
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, scratch.appendingPathComponent("stdout").path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if let errPath {
            posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        } else {
            posix_spawn_file_actions_addclose(&actions, 2)
        }
        let argv = [CLI.binary.path] + arguments
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SLURM_") && $0.key != "JOB_COMPLETION_INDEX" }
        for (key, value) in environment { env[key] = value }
        let cArgs = argv.map { strdup($0) } + [nil]
        let cEnv = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { cArgs.forEach { free($0) }; cEnv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, CLI.binary.path, &actions, nil, cArgs, cEnv)
        try #require(spawned == 0, "posix_spawn failed: \(spawned)")
        var status: Int32 = 0
        var usage = rusage()
        let deadline = Date().addingTimeInterval(timeout)
        // The child's own high-water mark, from /proc while it runs: wait4's ru_maxrss would also carry the test
        // process's size, which a vfork-style spawn hands to the child until it calls exec.
        var peakKiB = 0
        while true {
            if let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
               let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
               let kib = Int(line.dropFirst(6).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "") {
                peakKiB = max(peakKiB, kib)
            }
            let reaped = wait4(pid, &status, WNOHANG, &usage)
            if reaped == pid { break }
            if Date() > deadline {
                kill(pid, SIGKILL)
                _ = wait4(pid, &status, 0, &usage)
                Issue.record("convbank \(arguments) did not finish in \(timeout) s")
                break
            }
            usleep(1000)
        }
        let signaled = (status & 0x7F) != 0 && (status & 0x7F) != 0x7F
        let stderr = errPath.flatMap { FileManager.default.contents(atPath: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? ""
        return Result(status: signaled ? -1 : (status >> 8) & 0xFF, signal: signaled ? status & 0x7F : 0, peakKiB: peakKiB,
                      stderr: stderrPath == "/dev/full" ? "" : stderr)
    }
}
