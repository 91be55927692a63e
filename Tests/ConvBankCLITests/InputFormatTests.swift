import ConvBankTestSupport
import Foundation
import Testing

/// TIFF and WebP inputs through the real binary: folders take `.tif .tiff .webp` (any letter case) besides PNG and
/// JPEG and count the files they pass over in the closing summary; file arguments are decoded by their bytes; damaged
/// files are one error line each while the rest of the batch goes on; float TIFF samples reach `npy` maps unchanged.
/// Fixtures: `Tests/ConvBankTests/Fixtures/formats/` (`scripts/make_format_fixtures.py`).
@Suite struct InputFormatTests {
    static let formats = CLI.repository.appendingPathComponent("Tests/ConvBankTests/Fixtures/formats")
    static func fixture(_ name: String) -> URL { formats.appendingPathComponent(name) }

    /// One 1×1 filter of weight 1 on one channel: its map is the (gray, or luma of the) input itself.
    static let identityBank = #"{"name": "id", "padding": "same", "filters": [{"name": "v", "weights": [[[1]]], "bias": 0}]}"#

    /// The summary line's tail: `; N other file(s) passed over`, or nil when there is none.
    static func passedOver(in stderr: String) -> Int? {
        guard let line = stderr.split(separator: "\n").last(where: { $0.contains(" inputs: ") || $0.contains(" input: ") }),
              let match = line.firstMatch(of: #/; (\d+) other files? passed over$/#) else { return nil }
        return Int(match.1)
    }

    @Test("a folder takes .tif .tiff .webp in any case, passes over the rest and counts them")
    func folderTakesNewExtensionsAndCountsTheRest() throws {
        try withTemporaryFolder { tmp in
            try tmp.copy(Self.fixture("tiff_u8_rgb.tif"), to: "in/a.tif")
            try tmp.copy(Self.fixture("tiff_u16_gray.tif"), to: "in/b.TIFF")
            try tmp.copy(Self.fixture("webp_lossless_rgb.webp"), to: "in/c.webp")
            try tmp.copy(Self.fixture("webp_lossy_rgba.webp"), to: "in/sub/d.WebP")
            try tmp.copy(Self.fixture("tiff_orientation_6.tif"), to: "in/sub/e.Tif")
            try tmp.copy(CLI.testdata.appendingPathComponent("pngsuite/basn0g08.png"), to: "in/f.PNG")
            // Passed over: a text file, a GIF, a file without extension, a TIFF named .bmp; hidden names are not counted.
            try tmp.write("in/notes.txt", text: "not an image")
            try tmp.write("in/anim.gif", Array("GIF89a".utf8) + [1, 0, 1, 0, 0, 0, 0])
            try tmp.write("in/README", text: "read me")
            try tmp.copy(Self.fixture("tiff_u8_gray.tif"), to: "in/sub/scan.bmp")
            try tmp.write("in/.hidden.txt", text: "hidden")
            try tmp.write("in/.thumbs/x.txt", text: "hidden folder")
            let bank = try tmp.write("bank.json", text: Self.identityBank)
            let result = try CLI.run(["apply", tmp.file("in").path, "--bank", bank.path, "--output", tmp.file("out").path, "--format", "npy"])
            #expect(result.status == 0, "\(result)")
            let summary = try #require(RunReport.summary(in: result.stderr), "\(result)")
            #expect(summary.counts == [6, 6, 0, 0], "\(result)")
            #expect(Self.passedOver(in: result.stderr) == 4, "\(result)")
            for key in ["a", "b", "c", "sub/d", "sub/e", "f"] {
                #expect(FileManager.default.fileExists(atPath: tmp.file("out/\(key)/v.npy").path), "no map for \(key)")
            }
            #expect(!FileManager.default.fileExists(atPath: tmp.file("out/sub/scan").path))
            // The Orientation tag turned the 5×3 image upright: its map is 3 wide and 5 high.
            let turned = try Float32NPY(contentsOf: tmp.file("out/sub/e/v.npy"), rank: 2)
            #expect(turned.shape == [5, 3])
            // The manifest names the inputs only (passed-over files are counted in the summary, not listed).
            let manifest = try RunReport.manifest(tmp.file("out/manifest.jsonl"))
            #expect(manifest.count == 6 && manifest.allSatisfy { $0.status == "ok" })

            // --quiet: no summary, so no count either; one other file: singular.
            let quiet = try CLI.run(["apply", tmp.file("in").path, "--bank", bank.path, "--output", tmp.file("out2").path, "--quiet"])
            #expect(quiet.status == 0 && quiet.stderr.isEmpty, "\(quiet)")
            try FileManager.default.removeItem(at: tmp.file("in/sub"))
            try FileManager.default.removeItem(at: tmp.file("in/notes.txt"))
            try FileManager.default.removeItem(at: tmp.file("in/anim.gif"))
            let one = try CLI.run(["apply", tmp.file("in").path, "--bank", bank.path, "--output", tmp.file("out3").path])
            #expect(one.errorLines.last?.hasSuffix("; 1 other file passed over") == true, "\(one)")
            // Nothing passed over: no tail at all.
            try FileManager.default.removeItem(at: tmp.file("in/README"))
            let none = try CLI.run(["apply", tmp.file("in").path, "--bank", bank.path, "--output", tmp.file("out4").path])
            #expect(none.status == 0 && Self.passedOver(in: none.stderr) == nil && !none.stderr.contains("passed over"), "\(none)")
        }
    }

    @Test("shards count the files they pass over by the same hash as inputs: the counts add up")
    func shardsAddUp() throws {
        try withTemporaryFolder { tmp in
            try tmp.copy(Self.fixture("tiff_u8_rgb.tif"), to: "in/a.tif")
            for i in 0..<9 { try tmp.write("in/other\(i).txt", text: "\(i)") }
            let bank = try tmp.write("bank.json", text: Self.identityBank)
            var total = 0
            for k in 0..<3 {
                let result = try CLI.run(["apply", tmp.file("in").path, "--bank", bank.path, "--output", tmp.file("out").path, "--shard", "\(k)/3"])
                #expect(result.status == 0, "\(result)")
                total += Self.passedOver(in: result.stderr) ?? 0
            }
            #expect(total == 9)
        }
    }

    @Test("file arguments are decoded by their bytes, whatever their extension")
    func fileArgumentsByContent() throws {
        try withTemporaryFolder { tmp in
            let tiff = try tmp.copy(Self.fixture("tiff_f32_gray.tif"), to: "scan.png")
            let webp = try tmp.copy(Self.fixture("webp_lossless_rgb.webp"), to: "picture.dat")
            let bank = try tmp.write("bank.json", text: Self.identityBank)
            let result = try CLI.run(["apply", tiff.path, webp.path, "--bank", bank.path, "--output", tmp.file("out").path, "--format", "npy"])
            #expect(result.status == 0, "\(result)")
            // Float samples stay float: the identity map of the float TIFF is its samples, bit for bit.
            let map = try Float32NPY(contentsOf: tmp.file("out/scan/v.npy"), rank: 2)
            let expected = try Float32NPY(contentsOf: Self.fixture("tiff_f32_gray.npy"), rank: 3)
            #expect(map.shape == Array(expected.shape.prefix(2)))
            #expect(map.values.map(\.bitPattern) == expected.values.map(\.bitPattern))
            #expect(FileManager.default.fileExists(atPath: tmp.file("out/picture/v.npy").path))
        }
    }

    @Test("truncated and corrupt TIFF and WebP: one line each naming the file, the others processed, exit 1")
    func damagedFilesAreCleanErrors() throws {
        try withTemporaryFolder { tmp in
            let bad = ["tiff_truncated_strips.tif", "tiff_truncated_directory.tif", "webp_truncated_lossless.webp",
                       "webp_truncated_lossy.webp", "tiff_cmyk.tif", "tiff_f32_nan.tif"]
            for name in bad { try tmp.copy(Self.fixture(name), to: "in/\(name)") }
            try tmp.copy(Self.fixture("tiff_rgb_lzw.tif"), to: "in/good.tif")
            try tmp.copy(Self.fixture("webp_lossy_rgb.webp"), to: "in/good.webp")
            let bank = try tmp.write("bank.json", text: Self.identityBank)
            for format in ["png", "npy"] {  // the streaming settings and the whole-image ones
                let out = tmp.file("out-\(format)")
                let result = try CLI.run(["apply", tmp.file("in").path, "--bank", bank.path, "--output", out.path, "--format", format],
                                         timeout: 120)
                #expect(result.status == 1, "\(result)")
                let errors = result.errorLines.filter { $0.hasPrefix("convbank: error: ") }
                #expect(errors.count == bad.count, "\(result)")
                for name in bad {
                    let lines = errors.filter { $0.contains("'\(tmp.file("in/\(name)").path)'") }
                    #expect(lines.count == 1, "\(name): \(result)")
                    #expect(lines.first?.contains(name.hasPrefix("tiff") ? ": TIFF: " : ": WebP: ") == true, "\(lines)")
                    #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent(String(name.split(separator: ".")[0])).path))
                }
                for good in ["good.tif", "good.webp"] {  // one stem in one folder: both keep their extensions
                    #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("\(good)/v.\(format)").path), "\(result)")
                }
                let summary = try #require(RunReport.summary(in: result.stderr))
                #expect(summary.counts == [bad.count + 2, 2, 0, bad.count], "\(result)")
            }
        }
    }

    @Test("the memory budget reads TIFF and WebP headers: over it, refused before decoding")
    func memoryBudgetSeesTheHeader() throws {
        try withTemporaryFolder { tmp in
            // Headers of 100000×100000 and 60000×60000 pixels, the pixel limit lifted: the budget refuses them.
            try tmp.copy(Self.fixture("tiff_huge_header.tif"), to: "in/a.tif")
            try tmp.copy(Self.fixture("webp_huge_canvas.webp"), to: "in/b.webp")
            let bank = try tmp.write("bank.json", text: Self.identityBank)
            let result = try CLI.run(["apply", tmp.file("in").path, "--bank", bank.path, "--output", tmp.file("out").path,
                                      "--max-pixels", "100000000000", "--max-memory", "1G"])
            #expect(result.status == 1, "\(result)")
            #expect(result.errorLines.filter { $0.contains("over the memory budget") }.count == 2, "\(result)")
            #expect(result.peakKiB < 512 * 1024, "\(result)")
            #expect(result.stderr.contains("a 100000×100000 image needs about") && result.stderr.contains("a 60000×60000 image needs about"), "\(result)")
        }
    }
}
