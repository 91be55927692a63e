import ConvBankImageIO
import ConvBankTestSupport
import Foundation
import Testing

/// `apply --per-channel` through the real binary, against `scripts/make_per_channel_goldens.py`'s PNG inputs
/// (written by Pillow: gray, gray+alpha, RGB, RGBA, palette) and its float64 references: npy `(H, W, C)` values,
/// and PNG levels under every `--normalize`, computed from the exact values with the contract's formulas (one
/// min/max over all channels for `minmax` and `symmetric`). Output PNGs are read back with libpng.
@Suite("apply --per-channel")
struct PerChannelCLITests {
    static let folder = CLI.repository.appendingPathComponent("Tests/ConvBankTests/Fixtures/per_channel")

    struct Input { var file: String, mode: String, channels: Int, expected: [String: String] }
    struct Level: Sendable, CustomTestStringConvertible {
        var file: String, filter: String, format: String, normalize: String, expected: String
        var testDescription: String { "\(file) \(filter) \(format) \(normalize)" }
    }

    static func cli() -> [String: Any] {
        guard let data = try? Data(contentsOf: folder.appendingPathComponent("cases.json")),
              let all = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        return all["cli"] as? [String: Any] ?? [:]
    }

    static let inputs: [Input] = (cli()["inputs"] as? [[String: Any]] ?? []).map {
        Input(file: $0["file"] as! String, mode: $0["mode"] as! String, channels: $0["channels"] as! Int,
              expected: $0["expected"] as! [String: String])
    }

    static let levels: [Level] = (cli()["levels"] as? [[String: Any]] ?? []).map {
        Level(file: $0["file"] as! String, filter: $0["filter"] as! String, format: $0["format"] as! String,
              normalize: $0["normalize"] as! String, expected: $0["expected"] as! String)
    }

    /// The (format, normalize) pairs of `levels`, one run each.
    static let runs: [String] = Array(Set(levels.map { "\($0.format) \($0.normalize)" })).sorted()

    static func copyInputs(to dir: TemporaryFolder) throws -> String {
        for input in inputs { _ = try dir.copy(folder.appendingPathComponent(input.file), to: "in/\(input.file)") }
        _ = try dir.copy(folder.appendingPathComponent("cli_bank.json"), to: "bank.json")
        return dir.file("in").path
    }

    static func stem(_ file: String) -> String { String(file.dropLast(4)) }

    @Test func fixturesArePresent() {
        #expect(Self.inputs.map(\.mode).sorted() == ["L", "LA", "P", "RGB", "RGBA"])
        #expect(Self.levels.count == 32 && Self.runs.count == 8)
    }

    /// npy: shape (H, W, C) with C the input's colour channels (gray (H, W, 1), alpha dropped, palette RGB), values
    /// exactly the float64 reference's (integer images, dyadic weights).
    @Test func npyValues() throws {
        try withTemporaryFolder { dir in
            let input = try Self.copyInputs(to: dir)
            let r = try CLI.run(["apply", input, "--bank", dir.file("bank.json").path, "--output", dir.file("out").path,
                                 "--per-channel", "--format", "npy"])
            #expect(r.status == 0, "\(r)")
            for item in Self.inputs {
                for (filter, expectedFile) in item.expected {
                    let expected = try Float32NPY(contentsOf: Self.folder.appendingPathComponent(expectedFile))
                    let got = try Float32NPY(contentsOf: dir.file("out/\(Self.stem(item.file))/\(filter).npy"))
                    #expect(got.shape == [7, 9, item.channels], "\(item.file) \(filter): \(got.shape)")
                    #expect(expected.shape == got.shape)
                    #expect(got.values == expected.values, "\(item.file) \(filter)")
                }
            }
        }
    }

    /// PNG and png16 under each normalization: RGB inputs give RGB files, gray ones gray files, with the levels the
    /// contract's formulas give (joint range for minmax and symmetric).
    @Test(arguments: runs)
    func pngLevels(_ run: String) throws {
        let parts = run.split(separator: " ").map(String.init)
        try withTemporaryFolder { dir in
            let input = try Self.copyInputs(to: dir)
            let r = try CLI.run(["apply", input, "--bank", dir.file("bank.json").path, "--output", dir.file("out").path,
                                 "--per-channel", "--format", parts[0], "--normalize", parts[1]])
            #expect(r.status == 0, "\(r)")
            for level in Self.levels where level.format == parts[0] && level.normalize == parts[1] {
                let expected = try Float32NPY(contentsOf: Self.folder.appendingPathComponent(level.expected))
                let decoded = try ImageCodec.decode(path: dir.file("out/\(Self.stem(level.file))/\(level.filter).png").path)
                #expect(decoded.bitDepth == (parts[0] == "png" ? 8 : 16))
                #expect([decoded.tensor.height, decoded.tensor.width, decoded.tensor.channels] == expected.shape, "\(level)")
                #expect(decoded.tensor.interleaved == expected.values, "\(level)")
            }
            // The other inputs: alpha dropped (RGBA → RGB, gray+alpha → gray), palette → RGB.
            for (file, channels) in [("cli_rgba", 3), ("cli_la", 1), ("cli_p", 3)] {
                let decoded = try ImageCodec.decode(path: dir.file("out/\(file)/blur.png").path)
                #expect(decoded.tensor.channels == channels, "\(file)")
            }
        }
    }

    /// A bank whose filters read several channels is a usage error (exit 64, nothing written); so is --partials.
    @Test func usageErrors() throws {
        try withTemporaryFolder { dir in
            let input = try Self.copyInputs(to: dir)
            let edges = try CLI.run(["apply", input, "--bank", "edges", "--output", dir.file("out").path, "--per-channel"])
            #expect(edges.status == 64, "\(edges)")
            #expect(edges.stderr.contains("--per-channel") && edges.stderr.contains("one-channel"), "\(edges.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir.file("out").path), "nothing is made for a usage error")
            let partials = try CLI.run(["apply", input, "--bank", dir.file("bank.json").path, "--output", dir.file("out").path,
                                        "--per-channel", "--partials"])
            #expect(partials.status == 64, "\(partials)")
            #expect(partials.stderr.contains("--partials"), "\(partials.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir.file("out").path))
        }
    }

    /// The same bytes for any --jobs (a low-rank Gaussian and a dense 3×3 on a photo), and a resume that skips
    /// per-channel outputs but redoes them without --per-channel.
    @Test func jobsAndResume() throws {
        try withTemporaryFolder { dir in
            _ = try dir.copy(CLI.sampleImages.appendingPathComponent("chelsea.png"), to: "in/chelsea.png")
            _ = try dir.copy(Self.folder.appendingPathComponent("cli_bank.json"), to: "bank.json")
            var trees: [[String: [UInt8]]] = []
            for (jobs, bank) in [("1", "gaussian:sigma=2"), ("2", "gaussian:sigma=2"), ("1", "bank.json"), ("2", "bank.json")] {
                let out = dir.file("out-\(jobs)-\(bank.count)")
                let r = try CLI.run(["apply", "in", "--bank", bank, "--output", out.path, "--per-channel", "--jobs", jobs,
                                     "--normalize", "minmax"], in: dir.url)
                #expect(r.status == 0, "\(r)")
                trees.append(try OutputTree.visibleFiles(out).filter { !$0.key.hasPrefix("manifest") })
            }
            #expect(trees[0] == trees[1] && trees[2] == trees[3])
            #expect(trees[0].keys.sorted() == ["chelsea/gaussian_sigma2.png"])
            let again = try CLI.run(["apply", "in", "--bank", "bank.json", "--output", "out-2-9", "--per-channel", "--jobs", "2",
                                     "--normalize", "minmax"], in: dir.url)
            #expect(again.stderr.contains("1 skipped"), "\(again.stderr)")
            let luma = try CLI.run(["apply", "in", "--bank", "bank.json", "--output", "out-2-9", "--jobs", "2", "--normalize", "minmax"],
                                   in: dir.url)
            #expect(luma.stderr.contains("1 succeeded"), "\(luma.stderr)")
            #expect(try ImageCodec.decode(path: dir.file("out-2-9/chelsea/blur.png").path).tensor.channels == 1)
        }
    }

    /// stats.csv: one row per input and filter, over every sample of the colour result (all channels).
    @Test func statsOverAllSamples() throws {
        try withTemporaryFolder { dir in
            let input = try Self.copyInputs(to: dir)
            let r = try CLI.run(["apply", input, "--bank", dir.file("bank.json").path, "--output", dir.file("out").path,
                                 "--per-channel", "--stats", "--sheet", "--gallery"])
            #expect(r.status == 0, "\(r)")
            let records = parseCSV(try String(contentsOf: dir.file("out/stats.csv"), encoding: .utf8))
            let item = try #require(Self.inputs.first { $0.mode == "RGB" })
            let expected = try Float32NPY(contentsOf: Self.folder.appendingPathComponent(item.expected["edge"]!)).values.map(Double.init)
            let row = try #require(records.first { $0.first?.hasSuffix(item.file) == true && $0[1] == "edge" }, "\(records)")
            let mean = expected.reduce(0, +) / Double(expected.count)
            let std = (expected.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(expected.count)).squareRoot()
            let numbers = row.dropFirst(2).compactMap { Double($0) }
            try #require(numbers.count == 5, "\(row)")
            #expect(approximatelyEqual(numbers[0], expected.min()!) && approximatelyEqual(numbers[1], expected.max()!), "\(row)")
            #expect(approximatelyEqual(numbers[2], mean) && approximatelyEqual(numbers[3], std), "\(row) vs \(mean), \(std)")
            #expect(approximatelyEqual(numbers[4], Double(expected.filter { $0 == 0 }.count) / Double(expected.count)), "\(row)")
            // Sheets and the gallery come too; the sheet shows the colour result in colour.
            #expect(FileManager.default.fileExists(atPath: dir.file("out/cli_rgb.sheet.png").path))
            #expect(FileManager.default.fileExists(atPath: dir.file("out/index.html").path))
        }
    }
}
