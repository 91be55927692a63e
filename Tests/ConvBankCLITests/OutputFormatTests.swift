import ConvBankBatch
import ConvBankEngine
import ConvBankImageIO
import ConvBankTestSupport
import Foundation
import Testing

/// `--format jpeg|webp|tiff|tiff16` and `--quality` through the binary: file names, the same maps as the library's
/// encoders write (whose files EncoderTests checks against libtiff, libwebp, Pillow and tifffile), usage errors,
/// resume fingerprints and atomic writes.
@Suite("Output formats jpeg, webp, tiff, tiff16 through the CLI")
struct OutputFormatTests {
    /// Two filters of different sign on a small photo: `f` and `g` maps with negatives and fractions.
    static let bank = """
        {"name": "two", "padding": "same", "padding_mode": "replicate", "activation": "linear",
         "filters": [{"name": "f", "weights": [[[0.5, 0], [0, -1.25]]], "bias": 0.125}, {"name": "g", "weights": [[[0.25, 0.25], [0.25, 0.25]]]}]}
        """

    /// The npy maps of one run, as tensors by filter name.
    static func npyMaps(_ image: String, _ bank: String, in dir: TemporaryFolder) throws -> [String: Tensor] {
        let out = dir.file("npy")
        let r = try CLI.run(["apply", image, "--bank", bank, "--output", out.path, "--format", "npy"])
        #expect(r.status == 0, "\(r)")
        var maps: [String: Tensor] = [:]
        for name in ["f", "g"] {
            let npy = try Float32NPY(bytes: bytes(of: out.appendingPathComponent("p/\(name).npy")), rank: 2)
            maps[name] = Tensor(height: npy.shape[0], width: npy.shape[1], channels: 1, storage: npy.values)
        }
        return maps
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var format: OutputFormat, arguments: [String], ext: String, quality: Int?
        var testDescription: String { ([format.rawValue] + arguments).joined(separator: " ") }
    }

    static let cases = [
        Case(format: .jpeg, arguments: [], ext: "jpg", quality: nil),
        Case(format: .jpeg, arguments: ["--quality", "35"], ext: "jpg", quality: 35),
        Case(format: .webp, arguments: [], ext: "webp", quality: nil),
        Case(format: .webp, arguments: ["--quality", "80"], ext: "webp", quality: 80),
        Case(format: .tiff, arguments: [], ext: "tif", quality: nil),
        Case(format: .tiff16, arguments: ["--normalize", "symmetric"], ext: "tif", quality: nil),
    ]

    /// Each map file is named `<filter>.<ext>` and holds exactly what `MapEncoder` makes of the npy map of the same
    /// run: `tiff` the npy values themselves, the others their levels.
    @Test(arguments: cases)
    func filesAreTheNPYMapsEncoded(_ c: Case) throws {
        try withTemporaryFolder { dir in
            let image = try dir.write("p.png", TestPNG.photo(width: 37, height: 23, seed: 9)).path
            let bank = try dir.write("b.json", text: Self.bank).path
            let maps = try Self.npyMaps(image, bank, in: dir)
            let out = dir.file("out")
            let r = try CLI.run(["apply", image, "--bank", bank, "--output", out.path, "--format", c.format.rawValue] + c.arguments)
            #expect(r.status == 0, "\(r)")
            #expect(filesUnder(out) == ["p/f.\(c.ext)", "p/g.\(c.ext)"])
            let normalization = c.arguments.contains("symmetric") ? Normalization.symmetric : .clamp
            for name in ["f", "g"] {
                let expected = try MapEncoder.encode(maps[name]!, format: c.format, normalization: normalization, quality: c.quality)
                let same = try bytes(of: out.appendingPathComponent("p/\(name).\(c.ext)")) == expected
                #expect(same, "\(name).\(c.ext) is not MapEncoder's file of the npy map")
            }
            if c.format == .jpeg {
                // And it is a JPEG whose pixels are near the clamped levels.
                let decoded = try ImageCodec.decode(path: out.appendingPathComponent("p/g.jpg").path)
                let levels = Normalization.clamp.levels(maps["g"]!.storage, maximum: 255)
                let worst = zip(decoded.tensor.storage, levels).map { abs(Int($0) - $1) }.max() ?? 0
                #expect(decoded.format == .jpeg && worst <= (c.quality == nil ? 12 : 40), "largest error \(worst)")
            }
        }
    }

    @Test(arguments: [
        (["--format", "jpeg", "--quality", "0"], "--quality must be 1…100"),
        (["--format", "webp", "--quality", "101"], "--quality must be 1…100"),
        (["--quality", "80"], "--quality applies to --format jpeg or webp only (not png)"),
        (["--format", "png16", "--quality", "80"], "not png16"),
        (["--format", "npy", "--quality", "80"], "not npy"),
        (["--format", "tiff", "--quality", "80"], "not tiff"),
        (["--format", "tiff16", "--quality", "80"], "not tiff16"),
    ])
    func usageErrors(_ arguments: [String], _ message: String) throws {
        try withTemporaryFolder { dir in
            let image = try dir.write("p.png", TestPNG.photo(width: 8, height: 8, seed: 1)).path
            let out = dir.file("out")
            let r = try CLI.run(["apply", image, "--bank", "sobel", "--output", out.path] + arguments)
            #expect(r.status == 64, "\(r)")
            #expect(r.stderr.contains(message), "\(r)")
            #expect(!FileManager.default.fileExists(atPath: out.path), "nothing is processed")
        }
    }

    /// The quality is in the resume fingerprint: the same command skips, a changed quality redoes the input.
    @Test func qualityChangeRedoesTheOutputs() throws {
        try withTemporaryFolder { dir in
            let image = try dir.write("in/p.png", TestPNG.photo(width: 40, height: 30, seed: 4)).path
            let out = dir.file("out")
            func run(_ extra: [String]) throws -> (summary: RunReport.Summary, file: [UInt8]) {
                let r = try CLI.run(["apply", image, "--bank", "gaussian", "--output", out.path] + extra)
                #expect(r.status == 0, "\(r)")
                let summary = try #require(RunReport.summary(in: r.stderr), "\(r)")
                let ext = extra.contains("webp") ? "webp" : "jpg"
                return (summary, try bytes(of: out.appendingPathComponent("p/gaussian.\(ext)")))
            }
            let first = try run(["--format", "jpeg"])
            #expect(first.summary.counts == [1, 1, 0, 0])
            #expect(try run(["--format", "jpeg", "--quality", "90"]).summary.counts == [1, 0, 1, 0], "90 is the default: the same outputs")
            let q40 = try run(["--format", "jpeg", "--quality", "40"])
            #expect(q40.summary.counts == [1, 1, 0, 0], "a changed quality redoes the input")
            let changed = q40.file != first.file
            #expect(changed)
            #expect(try run(["--format", "webp"]).summary.counts == [1, 1, 0, 0])
            #expect(try run(["--format", "webp"]).summary.counts == [1, 0, 1, 0])
            #expect(try run(["--format", "webp", "--quality", "75"]).summary.counts == [1, 1, 0, 0], "lossless → lossy redoes it")
        }
    }

    /// A map that cannot be put in place (a folder where `p/g.tif` must go) fails the input: its other map is
    /// removed, no temporary file is left, the error names the file, the next input goes on.
    @Test(arguments: [OutputFormat.tiff, .jpeg, .webp, .tiff16])
    func unwritableMapLeavesNothing(_ format: OutputFormat) throws {
        try withTemporaryFolder { dir in
            try dir.write("in/p.png", TestPNG.photo(width: 30, height: 20, seed: 2))
            try dir.write("in/q.png", TestPNG.photo(width: 30, height: 20, seed: 3))
            let bank = try dir.write("b.json", text: Self.bank).path
            let out = dir.file("out")
            let blocker = out.appendingPathComponent("p/g.\(format.fileExtension)")
            try FileManager.default.createDirectory(at: blocker.appendingPathComponent("x"), withIntermediateDirectories: true)
            let r = try CLI.run(["apply", dir.file("in").path, "--bank", bank, "--output", out.path, "--format", format.rawValue])
            #expect(r.status == 1, "\(r)")
            let errors = r.errorLines.filter { $0.contains("error:") }
            #expect(errors.count == 1 && errors[0].contains(blocker.path), "\(r)")
            let left = filesUnder(out, includingBookkeeping: true)
            #expect(!left.contains("p/f.\(format.fileExtension)"), "the input's other map is removed: \(left)")
            #expect(left.contains("q/f.\(format.fileExtension)") && left.contains("q/g.\(format.fileExtension)"), "\(left)")
            #expect(OutputTree.temporaryFiles(out).isEmpty, "\(left)")
        }
    }

    /// The memory budget counts the encoders' buffers (`MapEncoder.peakBytes`): what a webp (lossless) or tiff run
    /// needs beyond a png run of the same whole-image path, measured as the process's peak, stays within what the
    /// estimate adds; and a `--max-memory` between the two estimates refuses the webp input while png goes through.
    @Test func memoryBudgetCountsTheEncoders() throws {
        try withTemporaryFolder { dir in
            let png = TestPNG.photo(width: 1400, height: 1200, seed: 21)
            let image = try dir.write("big.png", png).path
            let header = try #require(ImageCodec.header(of: png))
            let bank = try #require(BuiltinBank.named("gaussian"))
            func estimate(_ format: OutputFormat) throws -> Int {
                var settings = ApplySettings()
                settings.format = format
                settings.normalization = .minmax  // not streamed: the whole-image path for every format
                settings.jobs = 1
                return try settings.memoryNeeded(bank: bank, header: header, fileBytes: png.count)
            }
            func peak(_ format: OutputFormat, _ extra: [String] = []) throws -> CLI.Result {
                try CLI.run(["apply", image, "--bank", "gaussian", "--output", dir.file("out-\(format.rawValue)-\(extra.count)").path,
                             "--format", format.rawValue, "--normalize", "minmax", "--jobs", "1"] + extra)
            }
            let base = try peak(.png)
            #expect(base.status == 0, "\(base)")
            for format in [OutputFormat.webp, .tiff] {
                let r = try peak(format)
                #expect(r.status == 0, "\(r)")
                let measured = (r.peakKiB - base.peakKiB) * 1024, counted = try estimate(format) - estimate(.png)
                #expect(measured <= counted, "\(format): \(measured >> 20) MiB more than png, the estimate adds \(counted >> 20) MiB")
            }
            let budget = (try estimate(.png) + estimate(.webp)) / 2
            #expect(try peak(.png, ["--max-memory", "\(budget)"]).status == 0)
            let refused = try peak(.webp, ["--max-memory", "\(budget)"])
            #expect(refused.status == 1 && refused.stderr.contains("memory"), "\(refused)")
        }
    }
}
