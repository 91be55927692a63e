import ConvBankTestSupport
import Foundation
import Testing
@testable import ConvBankBatch
@testable import ConvBankEngine
@testable import ConvBankImageIO

/// TIFF and WebP decoding against independent references (`scripts/make_format_fixtures.py` →
/// `Fixtures/formats/cases.json`): each file with the float32 (H, W, C) array it must decode to — the source array
/// for lossless files (checked there against tifffile's own codecs), numpy for orientations, palettes, min-is-white
/// and sub-byte gray, Pillow's or tifffile's decoders for lossy files (within the tolerance each case states) — or
/// the kind of error it must be refused with.
@Suite struct FormatDecodeTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var file: String, note: String, expected: String?, tolerance: Float, error: String?
        var testDescription: String { "\(file) (\(note))" }
        var url: URL { Fixtures.formats.appendingPathComponent(file) }
    }

    static let cases: [Case] = {
        guard let list = try? Fixtures.json(Fixtures.formats.appendingPathComponent("cases.json")) as? [[String: Any]] else { return [] }
        return list.map { Case(file: $0["file"] as! String, note: $0["note"] as! String, expected: $0["expected"] as? String,
                               tolerance: ($0["tolerance"] as? NSNumber)?.floatValue ?? 0, error: $0["error"] as? String) }
    }()
    static let decodable = cases.filter { $0.expected != nil }
    static let refused = cases.filter { $0.error != nil }

    @Test func corpusIsComplete() {
        #expect(Self.decodable.filter { $0.file.hasPrefix("tiff_") }.count == 47)
        #expect(Self.decodable.filter { $0.file.hasPrefix("webp_") }.count == 5)
        #expect(Self.refused.count == 14)
        // Every sample kind, every orientation.
        for kind in ["u8", "u16", "f32"] { for mode in ["gray", "graya", "rgb", "rgba"] {
            #expect(Self.decodable.contains { $0.file == "tiff_\(kind)_\(mode).tif" })
        } }
        for value in 1...8 { #expect(Self.decodable.contains { $0.file == "tiff_orientation_\(value).tif" }) }
    }

    /// The decoded tensor equals the reference array: bit for bit where the tolerance is 0 (float samples included).
    @Test(arguments: decodable)
    func decodesToTheReference(_ c: Case) throws {
        let image = try ImageCodec.decode(path: c.url.path)
        let npy = try Float32NPY(contentsOf: Fixtures.formats.appendingPathComponent(c.expected!), rank: 3)
        let t = image.tensor
        try #require([t.height, t.width, t.channels] == npy.shape, "shape \([t.height, t.width, t.channels]) vs \(npy.shape)")
        let got = t.interleaved
        var worst: Float = 0, at = 0
        for i in got.indices {
            let d = c.tolerance == 0 ? (got[i].bitPattern == npy.values[i].bitPattern ? 0 : .infinity) : abs(got[i] - npy.values[i])
            if d > worst { worst = d; at = i }
        }
        #expect(worst <= c.tolerance, "sample \(at): \(got[at]) vs \(npy.values[at]) (largest difference \(worst))")
        #expect(image.format == (c.file.hasPrefix("tiff_") ? .tiff : .webp))
    }

    @Test(arguments: refused)
    func refusesCleanly(_ c: Case) throws {
        do {
            _ = try ImageCodec.decode(path: c.url.path)
            Issue.record("\(c.file) decoded")
        } catch {
            let kind: ImageCodecError.Kind = switch c.error {
            case "unsupported": .unsupported
            case "tooLarge": .tooLarge
            default: .corrupt
            }
            #expect(error.kind == kind, "\(error)")
            #expect(error.description.hasPrefix("cannot decode '\(c.url.path)': \(c.file.hasPrefix("tiff_") ? "TIFF" : "WebP"): "), "\(error)")
            #expect(!error.description.contains("\n"))
        }
    }

    /// What `ImageCodec.header(of:)` tells the memory budget matches the decode: the upright size and channels.
    @Test(arguments: decodable)
    func headerAgreesWithDecode(_ c: Case) throws {
        let bytes = try Fixtures.bytes(c.url)
        let header = try #require(ImageCodec.header(of: bytes))
        let image = try ImageCodec.decode(bytes: bytes, path: c.file)
        #expect(header.extent == image.tensor.extent)
        #expect(header.channels == image.tensor.channels)
        #expect(header.rawBytesPerPixel >= image.tensor.channels * image.bitDepth / 8)
        #expect(header.format == image.format)
    }

    /// TIFF and WebP never stream: the row reader decodes them whole at the first read, and its rows are the decode's.
    @Test(arguments: ["tiff_rgb_tiles.tif", "tiff_orientation_6.tif", "tiff_f32_tiles.tif", "webp_lossless_rgba.webp"])
    func rowReaderTakesThemWhole(_ file: String) throws {
        let bytes = try Fixtures.bytes(Fixtures.formats.appendingPathComponent(file))
        let reader = try ImageRowReader(bytes: bytes, path: file)
        #expect(!reader.isStreamable)
        #expect(reader.wholeImageBytes > 0)
        let image = try ImageCodec.decode(bytes: bytes, path: file)
        #expect(reader.width == image.tensor.width && reader.height == image.tensor.height && reader.channels == image.tensor.channels)
        var rows: [Tensor] = []
        while reader.rowsLeft > 0 { rows.append(try reader.nextRows(5)) }
        let plane = image.tensor.height * image.tensor.width
        for c in 0..<image.tensor.channels {
            let joined = rows.flatMap { Array($0.storage[(c * $0.height * $0.width)..<((c + 1) * $0.height * $0.width)]) }
            #expect(joined == Array(image.tensor.storage[(c * plane)..<((c + 1) * plane)]))
        }
    }

    /// Depth, orientation and format as `DecodedImage` reports them.
    @Test func reportsDepthAndOrientation() throws {
        func decode(_ file: String) throws -> DecodedImage { try ImageCodec.decode(path: Fixtures.formats.appendingPathComponent(file).path) }
        #expect(try decode("tiff_u8_rgb.tif").bitDepth == 8)
        #expect(try decode("tiff_u16_gray.tif").bitDepth == 16)
        #expect(try decode("tiff_f32_rgba.tif").bitDepth == 32)
        #expect(try decode("tiff_palette8.tif").bitDepth == 16)
        #expect(try decode("tiff_orientation_6.tif").orientation == .rotatedClockwise)
        #expect(try decode("tiff_u8_rgb.tif").orientation == .up)
        #expect(try decode("webp_lossy_rgb.webp").bitDepth == 8)
    }

    /// The format is the bytes', never the name's: a TIFF called `.png` and a WebP called `.jpg` decode as themselves.
    @Test func contentDecides() throws {
        let tiff = try Fixtures.bytes(Fixtures.formats.appendingPathComponent("tiff_u8_rgb.tif"))
        let webp = try Fixtures.bytes(Fixtures.formats.appendingPathComponent("webp_lossless_rgb.webp"))
        #expect(try ImageCodec.decode(bytes: tiff, path: "photo.png").format == .tiff)
        #expect(try ImageCodec.decode(bytes: webp, path: "photo.jpg").format == .webp)
        #expect(ImageCodec.sniff(Array("II+\u{0}".utf8) + [8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) == .tiff)  // BigTIFF
        #expect(ImageCodec.sniff(Array("MM".utf8) + [0, 42, 0, 0, 0, 8]) == .tiff)
        #expect(ImageCodec.sniff(Array("RIFF\u{0}\u{0}\u{0}\u{0}WAVE".utf8)) == nil)
        do {
            _ = try ImageCodec.decode(bytes: Array("RIFF\u{0}\u{0}\u{0}\u{0}WAVEfmt ".utf8), path: "a.webp")
            Issue.record("a WAVE file decoded")
        } catch {
            #expect(error.kind == .notAnImage && error.detail.contains("not a PNG, JPEG, TIFF or WebP file"), "\(error)")
        }
    }

    /// The pixel limit refuses from the header, naming how to lift it; the same files decode under a larger limit.
    @Test func pixelLimitFromTheHeader() throws {
        for file in ["tiff_rgb_tiles.tif", "webp_lossy_rgb.webp", "webp_animated.webp", "tiff_u8_rgba_separate_tiles.tif"] {
            let bytes = try Fixtures.bytes(Fixtures.formats.appendingPathComponent(file))
            #expect(throws: ImageCodecError.self) { try ImageCodec.decode(bytes: bytes, path: file, maxPixels: 100) }
            do { _ = try ImageCodec.decode(bytes: bytes, path: file, maxPixels: 100) } catch {
                #expect(error.kind == .tooLarge && error.detail.contains("--max-pixels"), "\(error)")
            }
            do { _ = try ImageRowReader(bytes: bytes, path: file, maxPixels: 100) } catch {
                #expect(error.kind == .tooLarge, "\(error)")
            }
            _ = try ImageCodec.decode(bytes: bytes, path: file, maxPixels: 1000)
        }
    }

    /// Every prefix of a TIFF and of a WebP, and every single-byte change in their headers, decodes or is refused:
    /// never a crash, never a message on stderr from a library (checked by the fuzzer; here, no trap).
    @Test(arguments: ["tiff_rgb_lzw.tif", "tiff_u8_rgba_separate_tiles.tif", "tiff_jpeg_ycbcr.tif", "webp_lossy_rgba.webp", "webp_animated.webp"])
    func damageIsAnErrorValue(_ file: String) throws {
        let bytes = try Fixtures.bytes(Fixtures.formats.appendingPathComponent(file))
        let whole = try ImageCodec.decode(bytes: bytes, path: file)
        var refusedPrefixes = 0
        for cut in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 200)) {
            do {
                let image = try ImageCodec.decode(bytes: Array(bytes[0..<cut]), path: file)
                // A TIFF whose directory comes first can lose only bytes it does not need (unused tag data).
                #expect(image.tensor == whole.tensor, "a prefix of \(cut) bytes decoded to something else")
            } catch {
                refusedPrefixes += 1
                #expect(!error.description.contains("\n"))
            }
        }
        #expect(refusedPrefixes > 0)
        var random = SeededRandom(seed: 12)
        for _ in 0..<300 {
            var damaged = bytes
            let i = Int(random.next() % UInt64(min(bytes.count, 512)))
            damaged[i] ^= UInt8(truncatingIfNeeded: random.next() | 1)
            _ = try? ImageCodec.decode(bytes: damaged, path: file)
        }
    }
}

/// Decoder bombs for the new formats: a 100000×100000 TIFF header and a 60000×60000 WebP canvas, tiny files,
/// refused from the header under the default pixel limit before anything image-sized is allocated.
@Suite struct FormatBombTests {
    @Test func hugeHeadersLeavePeakMemoryFlat() async throws {
        let result = await #expect(processExitsWith: .success, observing: [\.standardErrorContent]) {
            try FormatBombTests.decodeHugeHeadersAndReport()
        }
        let report = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(report.contains("refused=2"), "child said: \(report)")
        let growth = report.split(separator: " ").first { $0.hasPrefix("peak_growth_bytes=") }.flatMap { Double($0.dropFirst(18)) }
        let bytes = try #require(growth, "child said: \(report)")
        #expect(bytes < 16e6, "peak memory grew by \(bytes / 1e6) MB refusing two huge headers")
    }

    static func decodeHugeHeadersAndReport() throws {
        let files = ["tiff_huge_header.tif", "webp_huge_canvas.webp"].map { Fixtures.formats.appendingPathComponent($0) }
        let inputs = try files.map(Fixtures.bytes)
        ChildProcess.capAddressSpace(above: 1 << 30)
        let before = ProcessRunner.ownPeakResidentBytes()
        var refused = 0
        for (bytes, url) in zip(inputs, files) {
            do { _ = try ImageCodec.decode(bytes: bytes, path: url.lastPathComponent) } catch {
                if error.kind == .tooLarge { refused += 1 }
            }
        }
        let growth = ProcessRunner.ownPeakResidentBytes() - before
        FileHandle.standardError.write(Data("peak_growth_bytes=\(growth) refused=\(refused)\n".utf8))
    }
}
