import ConvBankTestSupport
import Foundation
import Testing

/// Regression tests for hostile input, one or more per class: parameters that overflow or explode memory, banks
/// of very many filters, the memory budget, broken standard streams, and the smaller holes (output folder equal
/// to the input, run-file names, over-long names). Each runs the real binary; peak memory is the child's own
/// (`ProcessRunner`), never the test process's.
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
            let first = try CLI.run([square.path, "--bank", bank.path, "--output", folder.file("out").path, "--format", "npy"].applying,
                                    timeout: 120)
            #expect(first.status == 0 && first.signal == 0, "\(first)")
            let square1 = try Float32NPY(contentsOf: folder.file("out/square/twice.npy"), rank: 2)
            #expect(square1.rows == 1 && square1.columns == 1 && square1.values == [10])
            #expect(first.peakKiB < 200 * 1024, "\(first.peakKiB) KiB")

            let row = (0..<65535).map { ($0 * 7) % 256 }
            let wide = try folder.write("in/wide.png", TestPNG.gray8([row]))
            let identity = try folder.write("id.json", text: #"{"filters": [{"name": "id", "weights": [[1]]}]}"#)
            let second = try CLI.run([wide.path, "--bank", identity.path, "--stride", "1,1000", "--output", folder.file("out").path, "--format", "npy"].applying,
                                     timeout: 120)
            #expect(second.status == 0 && second.signal == 0, "\(second)")
            let map = try Float32NPY(contentsOf: folder.file("out/wide/id.npy"), rank: 2)
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
                let result = try CLI.run(["apply", image.path, "--bank", "sobel", "--output", folder.file("out").path],
                                         environment: ["SLURM_ARRAY_TASK_ID": id, "SLURM_ARRAY_TASK_COUNT": "2", "SLURM_ARRAY_TASK_MIN": minimum],
                                         timeout: 120)
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
            let result = try CLI.run([image.path, "--bank", bank.path, "--output", folder.file("out").path, "--format", "npy", "-q"].applying,
                                     timeout: 120)
            #expect(result.status == 0 && result.signal == 0, "\(result)")
            #expect(result.peakKiB < 400 * 1024, "\(result.peakKiB) KiB")
            for k in [0, 1, 19999, 20000, 39999] {
                #expect(try Float32NPY(contentsOf: folder.file("out/one/f\(k).npy"), rank: 2).values == [Float(3 * (k - 20000))])
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
            let result = try CLI.run([folder.file("in").path, "--bank", "edges", "--output", out.path, "--max-memory", "64M"].applying,
                                     timeout: 120)
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
            let result = try CLI.run([folder.file("in").path, "--bank", "sobel", "--output", out.path].applying,
                                     standardError: .file("/dev/full"), timeout: 120)
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
            let result = try CLI.run([folder.file("in").path, "--bank", "sobel", "--output", out.path].applying,
                                     standardError: .closed, timeout: 120)
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
