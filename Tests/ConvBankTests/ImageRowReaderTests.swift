import ConvBankTestSupport
import Foundation
import Testing
@testable import ConvBankEngine
@testable import ConvBankImageIO

#if canImport(Glibc)
import Glibc
#endif

/// The row reader against the whole-image decoder: every valid fixture read in uneven chunks gives the same tensor,
/// value for value; every damaged, truncated or hostile file fails as the whole-image decoder does (same kind and
/// message), at the row where its data ends or at the end check, and never crashes; memory grows with the width.
@Suite struct ImageRowReaderTests {
    static let valid: [String] = ImageCodecTests.expected.map(\.file)
    static let chunks = [1, 7, 64]

    /// Reads every row, in chunks of 1, 7, 64 and then the rest, into one tensor.
    static func readAll(_ reader: ImageRowReader, chunks: [Int] = chunks) throws(ImageCodecError) -> Tensor {
        var parts: [Tensor] = []
        for n in chunks { parts.append(try reader.nextRows(n)) }
        parts.append(try reader.nextRows(reader.rowsLeft))
        return stack(parts, width: reader.width, channels: reader.channels)
    }

    /// Tensors of consecutive rows stacked into one.
    static func stack(_ parts: [Tensor], width: Int, channels: Int) -> Tensor {
        let height = parts.reduce(0) { $0 + $1.height }
        var storage: [Float] = []
        storage.reserveCapacity(height * width * channels)
        for c in 0..<channels {
            for part in parts { storage += part.storage[(c * part.height * width)..<((c + 1) * part.height * width)] }
        }
        return Tensor(height: height, width: width, channels: channels, storage: storage)
    }

    /// The whole-image decode, or its error.
    static func whole(_ bytes: [UInt8], _ path: String, maxPixels: Int = ImageCodec.defaultMaxPixels) -> Result<Tensor, ImageCodecError> {
        Result { () throws(ImageCodecError) in try ImageCodec.decode(bytes: bytes, path: path, maxPixels: maxPixels).tensor }
    }

    /// The rows read in `chunks`, or the error (from `init` or a read) and the row it came at.
    static func streamed(_ bytes: [UInt8], _ path: String, chunks: [Int] = chunks, maxPixels: Int = ImageCodec.defaultMaxPixels)
        -> (result: Result<Tensor, ImageCodecError>, failedAtRow: Int?) {
        let reader: ImageRowReader
        do { reader = try ImageRowReader(bytes: bytes, path: path, maxPixels: maxPixels) } catch { return (.failure(error), nil) }
        do { return (.success(try readAll(reader, chunks: chunks)), nil) } catch { return (.failure(error), reader.rowsRead) }
    }

    /// Both decoders agree: the same tensor, or the same error (kind, file and message).
    static func expectAgreement(_ bytes: [UInt8], _ path: String, chunks: [Int] = chunks, maxPixels: Int = ImageCodec.defaultMaxPixels,
                                _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        let expected = whole(bytes, path, maxPixels: maxPixels)
        let got = streamed(bytes, path, chunks: chunks, maxPixels: maxPixels).result
        switch (expected, got) {
        case (.success(let a), .success(let b)):
            #expect(a == b, "rows differ from the whole decode \(comment.map { "(\($0))" } ?? "")", sourceLocation: sourceLocation)
        case (.failure(let a), .failure(let b)):
            #expect(a == b, "errors differ \(comment.map { "(\($0))" } ?? "")", sourceLocation: sourceLocation)
        default:
            Issue.record("whole: \(expected), rows: \(got) \(comment.map { "(\($0))" } ?? "")", sourceLocation: sourceLocation)
        }
    }

    static func fixture(_ file: String) throws -> [UInt8] {
        try Fixtures.bytes(Fixtures.testdata.appendingPathComponent(file))
    }

    // MARK: - Valid images

    @Test func everyValidFixtureIsListed() {
        #expect(Self.valid.count == 179)
    }

    /// Every valid PngSuite, EXIF and JPEG fixture, read in chunks of 1, 7, 64 and the rest: the whole-image tensor,
    /// value for value, with the same facts (size, channels, depth, orientation, CMYK).
    @Test(arguments: valid)
    func rowsEqualTheWholeDecode(_ file: String) throws {
        let bytes = try Self.fixture(file)
        let image = try ImageCodec.decode(bytes: bytes, path: file)
        let reader = try ImageRowReader(bytes: bytes, path: file)
        #expect(reader.format == image.format && reader.bitDepth == image.bitDepth)
        #expect(reader.orientation == image.orientation && reader.wasCMYK == image.wasCMYK)
        #expect(reader.width == image.tensor.width && reader.height == image.tensor.height && reader.channels == image.tensor.channels)
        #expect(reader.isStreamable == [.up, .mirrored].contains(image.orientation))
        let rows = try Self.readAll(reader)
        #expect(rows.storage.map(\.bitPattern) == image.tensor.storage.map(\.bitPattern))
        #expect(reader.rowsRead == reader.height && reader.rowsLeft == 0)
        let after = try reader.nextRows(5)
        #expect(after.height == 0 && after.width == reader.width)
    }

    /// Other schedules: row by row, all at once, and a seeded random mix, on images of every kind (interlaced,
    /// palette, 16-bit, progressive, CMYK, mirrored, not streamable).
    @Test(arguments: ["pngsuite/basn3p04.png", "pngsuite/basi3p02.png", "pngsuite/basi6a16.png", "pngsuite/f99n0g04.png",
                      "jpeg/cmyk.jpg", "jpeg/ycck.jpg", "jpeg/gray_progressive.jpg", "jpeg/ycc420_odd_restart.jpg",
                      "exif/Landscape_2.jpg", "exif/Landscape_6.jpg"])
    func anyScheduleGivesTheSameRows(_ file: String) throws {
        let bytes = try Self.fixture(file)
        let expected = try ImageCodec.decode(bytes: bytes, path: file).tensor
        var rng = SeededRandom(seed: UInt64(file.utf8.count))
        let random = (0..<40).map { _ in Int.random(in: 0...37, using: &rng) }
        for schedule in [[Int](repeating: 1, count: expected.height), [expected.height + 10], random] {
            let reader = try ImageRowReader(bytes: bytes, path: file)
            var parts: [Tensor] = []
            for n in schedule where reader.rowsLeft > 0 { parts.append(try reader.nextRows(n)) }
            parts.append(try reader.nextRows(reader.rowsLeft))
            #expect(Self.stack(parts, width: reader.width, channels: reader.channels) == expected, "schedule \(schedule.prefix(8))…")
        }
    }

    /// `read(rows:into:planeStride:)` writes planes at the caller's stride and leaves the rest of the buffer alone.
    @Test func readsIntoCallerPlanes() throws {
        let file = "pngsuite/basn6a08.png"  // 32×32 RGBA
        let bytes = try Self.fixture(file)
        let expected = try ImageCodec.decode(bytes: bytes, path: file).tensor
        let reader = try ImageRowReader(bytes: bytes, path: file)
        let stride = 10 * 32 + 5
        var buffer = [Float](repeating: -1, count: 4 * stride)
        var y = 0
        while reader.rowsLeft > 0 {
            let n = try buffer.withUnsafeMutableBufferPointer { planes in
                try Result { () throws(ImageCodecError) in try reader.read(rows: 10, into: planes, planeStride: stride) }.get()
            }
            for c in 0..<4 {
                for r in 0..<n { for x in 0..<32 { #expect(buffer[c * stride + r * 32 + x] == expected[y + r, x, c]) } }
                #expect(buffer[(c * stride + 10 * 32)..<(c * stride + stride)].allSatisfy { $0 == -1 })
            }
            y += n
        }
        #expect(y == 32)
    }

    /// What the reader holds for the whole image: nothing for a plain PNG or a baseline JPEG; the raw samples of
    /// an interlaced PNG; libjpeg's coefficients (2 bytes per sample) for a progressive JPEG.
    @Test func wholeImageBytesSayWhatIsBuffered() throws {
        func reader(_ file: String) throws -> ImageRowReader { try ImageRowReader(bytes: try Self.fixture(file), path: file) }
        #expect(try reader("pngsuite/basn2c16.png").wholeImageBytes == 0)
        #expect(try reader("exif/Landscape_1.jpg").wholeImageBytes == 0)
        #expect(try reader("exif/Landscape_2.jpg").wholeImageBytes == 0)
        #expect(try reader("pngsuite/basi2c16.png").wholeImageBytes == 32 * 32 * 6)
        #expect(try reader("pngsuite/basi3p08.png").wholeImageBytes == 32 * 32)  // one index per pixel
        let progressive = try reader("jpeg/gray_progressive.jpg")
        let blocks = (progressive.width + 7) / 8 * ((progressive.height + 7) / 8)
        #expect(progressive.wholeImageBytes == blocks * 128)
        let turned = try reader("exif/Landscape_6.jpg")
        #expect(!turned.isStreamable && turned.wholeImageBytes >= 1800 * 1200 * 3 * 5)
    }

    // MARK: - Damaged and hostile files

    /// PngSuite's 14 corrupt files: refused, with the whole-image decoder's error.
    @Test(arguments: ImageCodecTests.corrupt)
    func refusesCorruptFixtures(_ file: String) throws {
        let bytes = try Self.fixture(file)
        #expect(throws: ImageCodecError.self) { try Self.readAll(try ImageRowReader(bytes: bytes, path: file)) }
        Self.expectAgreement(bytes, file)
    }

    /// Every cut of a file is an error, never a crash or gray rows, and the same error as the whole-image decoder's.
    @Test(arguments: ["pngsuite/basn2c08.png", "pngsuite/basi6a16.png", "pngsuite/basn3p01.png", "jpeg/ycc420_odd_restart.jpg",
                      "jpeg/gray_progressive.jpg", "jpeg/cmyk.jpg", "exif/Landscape_2.jpg", "exif/Landscape_3.jpg"])
    func refusesTruncations(_ file: String) throws {
        let bytes = try Self.fixture(file)
        var cuts = [0, 1, 2, 3, 7, 8, 20, 33, 100, bytes.count / 3, bytes.count / 2, bytes.count - 40, bytes.count - 13,
                    bytes.count - 12, bytes.count - 2, bytes.count - 1]
        cuts += stride(from: 0, to: bytes.count, by: max(1, bytes.count / 40))
        for cut in Set(cuts).sorted() where cut < bytes.count {
            let prefix = Array(bytes.prefix(cut))
            #expect(throws: ImageCodecError.self, "cut at \(cut)") { try Self.readAll(try ImageRowReader(bytes: prefix, path: file)) }
            Self.expectAgreement(prefix, file, "cut at \(cut)")
        }
    }

    /// A truncated file fails at the row where its data ends: the rows before are the intact file's, the rows after
    /// are never produced. Cut after the image data (PNG without IEND, JPEG without EOI), it fails at the last read.
    @Test(arguments: ["png", "jpeg"])
    func truncationFailsWhereTheDataEnds(_ kind: String) throws {
        let (bytes, path): ([UInt8], String)
        if kind == "png" {
            // 96×2400 gray noise, stored (deflate level 0): 97 bytes of stream per row.
            var rng = SeededRandom(seed: 5)
            let samples = (0..<(96 * 2400)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            bytes = try ImageCodec.encodePNG(gray8: samples, width: 96, height: 2400, level: 0)
            path = "noise.png"
        } else {
            bytes = try Self.fixture("exif/Landscape_1.jpg")  // baseline, 1800×1200
            path = "exif/Landscape_1.jpg"
        }
        let intact = try ImageCodec.decode(bytes: bytes, path: path).tensor
        var failedRows: [Int] = []
        for fraction in [0.25, 0.5, 0.75] {
            let cut = Array(bytes.prefix(Int(Double(bytes.count) * fraction)))
            let reader = try ImageRowReader(bytes: cut, path: path)
            var rows: [Tensor] = []
            var failure: ImageCodecError?
            while reader.rowsLeft > 0 {
                do { rows.append(try reader.nextRows(1)) } catch { failure = error; break }
            }
            let error = try #require(failure, "cut at \(fraction): read to the end")
            #expect(error.kind == .corrupt && error.path == path)
            guard case .failure(let wholeError) = Self.whole(cut, path) else { Issue.record("whole decode succeeded"); continue }
            #expect(error == wholeError)
            // Where the data ends: inside the image, later for a later cut. For the PNG of stored rows, the rows whose
            // data is complete, less those in the last 8 KiB libpng asked for (it reads IDAT data 8 KiB at a time).
            let row = rows.count
            failedRows.append(row)
            #expect(row > 0 && row < intact.height, "cut at \(fraction): failed at row \(row) of \(intact.height)")
            if kind == "png" {
                let complete = (cut.count - 100) / 97  // less the signature, IHDR, chunk and block headers
                #expect(row <= complete && row >= complete - 8192 / 97 - 2, "cut at \(fraction): failed at row \(row), data for \(complete)")
            }
            let good = Self.stack(rows, width: intact.width, channels: intact.channels)
            for c in 0..<intact.channels {
                let plane = intact.height * intact.width
                #expect(Array(good.storage[(c * row * intact.width)..<((c + 1) * row * intact.width)])
                        == Array(intact.storage[(c * plane)..<(c * plane + row * intact.width)]), "rows before the cut")
            }
            // After the error, the reader is dead: the same error again, nothing more read.
            #expect(throws: error) { try reader.nextRows(1) }
            #expect(reader.rowsRead == row)
        }
        #expect(failedRows == failedRows.sorted() && Set(failedRows).count == 3, "failed at rows \(failedRows)")
        // Cut after the image data: every row but the last comes out, the last read makes the end check.
        let tail = kind == "png" ? 12 : 2  // IEND, EOI
        let reader = try ImageRowReader(bytes: Array(bytes.dropLast(tail)), path: path)
        let band = kind == "png" ? 1 : 32  // libjpeg decodes the last MCU row (16 rows) as context for the one before
        _ = try reader.nextRows(reader.height - band)
        do {
            _ = try Self.readAll(reader)
            Issue.record("\(kind) without its end marker was read")
        } catch {
            #expect(error.kind == .corrupt)
            if kind == "png" { #expect(error.detail == "PNG: file ends early (truncated)", "\(error)") }
        }
        Self.expectAgreement(Array(bytes.dropLast(tail)), path, "without the end marker")
    }

    /// Random bytes after a PNG or JPEG signature, and random damage to real files: always the whole-image
    /// decoder's outcome (the same rows, or the same error), never a crash.
    @Test func hostileBytesAgreeWithTheWholeDecoder() throws {
        var rng = SeededRandom(seed: 17)
        for _ in 0..<50 {
            let noise = (0..<300).map { _ in UInt8.random(in: 0...255, using: &rng) }
            Self.expectAgreement([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + noise, "n.png")
            Self.expectAgreement([0xFF, 0xD8, 0xFF] + noise, "n.jpg")
        }
        for file in ["pngsuite/basn0g08.png", "pngsuite/basi0g08.png", "pngsuite/basn3p08.png", "jpeg/ycc411.jpg",
                     "jpeg/gray_progressive.jpg", "jpeg/arith_ycc422.jpg"] {
            let good = try Self.fixture(file)
            for _ in 0..<30 {
                var bytes = good
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
                Self.expectAgreement(bytes, file, "damaged \(file)")
            }
        }
        // Not an image at all: the same messages as the whole-image decoder.
        Self.expectAgreement([], "e")
        Self.expectAgreement(Array("hello, I am text".utf8), "t.jpg")
        #expect(throws: ImageCodecError(.notAnImage, path: "e", detail: "empty file")) { try ImageRowReader(bytes: [], path: "e") }
    }

    // MARK: - Pixel limit and decoder bombs

    /// The pixel limit is enforced by `init`, from the header, with the whole-image decoder's error.
    @Test func pixelLimitAtOpen() throws {
        var png = try Self.fixture("pngsuite/basn0g08.png")
        for (k, b) in [UInt8(0), 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0].enumerated() { png[16 + k] = b }  // 100000×100000
        let crc = crc32(Array(png[12..<29]))
        for k in 0..<4 { png[29 + k] = UInt8((crc >> (24 - 8 * UInt32(k))) & 0xFF) }
        do {
            _ = try ImageRowReader(bytes: png, path: "big.png")
            Issue.record("a 10-gigapixel header was accepted")
        } catch {
            #expect(error.kind == .tooLarge && error.description.contains("100000×100000"))
            #expect(error.detail.contains(ImageCodec.pixelLimitHelp))
        }
        Self.expectAgreement(png, "big.png")
        let small = try Self.fixture("pngsuite/basn0g08.png")
        #expect(throws: ImageCodecError.self) { try ImageRowReader(bytes: small, path: "s.png", maxPixels: 32 * 32 - 1) }
        #expect(try ImageRowReader(bytes: small, path: "s.png", maxPixels: 32 * 32).height == 32)
        for file in ["jpeg/gray_progressive.jpg", "exif/Landscape_6.jpg", "pngsuite/basi0g08.png"] {
            let bytes = try Self.fixture(file)
            let pixels = try ImageCodec.decode(bytes: bytes, path: file).tensor.extent
            #expect(throws: ImageCodecError.self) { try ImageRowReader(bytes: bytes, path: file, maxPixels: pixels.height * pixels.width - 1) }
            Self.expectAgreement(bytes, file, maxPixels: pixels.height * pixels.width - 1)
            Self.expectAgreement(bytes, file, maxPixels: -5)
        }
        // A JPEG frame header claiming 65000×65000: refused at once.
        var jpeg = try Self.fixture("jpeg/gray_progressive.jpg")
        var sof = 2
        while sof + 4 < jpeg.count, jpeg[sof] == 0xFF, jpeg[sof + 1] != 0xC2 { sof += 2 + (Int(jpeg[sof + 2]) << 8 | Int(jpeg[sof + 3])) }
        jpeg.replaceSubrange((sof + 5)..<(sof + 9), with: [0xFD, 0xE8, 0xFD, 0xE8])
        let start = ContinuousClock.now
        #expect(throws: ImageCodecError.self) { try ImageRowReader(bytes: jpeg, path: "huge.jpg") }
        #expect(ContinuousClock.now - start < .milliseconds(100))
        Self.expectAgreement(jpeg, "huge.jpg")
    }

    /// The IDAT stream that goes on for 8 GiB after the last row (`DecoderBombTests`): streamed, the last read stops
    /// 8 KiB past the last row and checks the rest of the file without inflating it, as the whole-image decoder does.
    @Test(arguments: [false, true])
    func trailingIDATBombIsNotInflated(interlaced: Bool) throws {
        let png = try BombPNG.trailingIDAT(side: 16, interlaced: interlaced, mebibytes: 8192)
        let start = ContinuousClock.now
        let reader = try ImageRowReader(bytes: png, path: "trailing.png")
        #expect(try Self.readAll(reader, chunks: [3, 5]).storage == BombPNG.pattern(side: 16))
        #expect(ContinuousClock.now - start < .seconds(1))
        var badCRC = png
        badCRC[png.count / 2] ^= 0x01
        for (name, bytes) in [("without IEND", Array(png.dropLast(12))), ("cut at 1/2", Array(png.prefix(png.count / 2))),
                              ("a bad CRC half way", badCRC)] {
            let start = ContinuousClock.now
            let (result, row) = Self.streamed(bytes, "trailing.png", chunks: [1, 7])
            #expect(throws: ImageCodecError.self, "\(name)") { try result.get() }
            // Interlaced, the first read decodes the whole image, end check included.
            #expect(row == (interlaced ? 0 : 8), "\(name): the end check belongs to the read of the last row")
            Self.expectAgreement(bytes, "trailing.png", chunks: [1, 7], "\(name)")
            #expect(ContinuousClock.now - start < .seconds(2), "\(name)")
        }
    }

    /// Ancillary chunks stay skipped unread (1024 zTXt chunks of 1 MiB each) and one before IHDR is refused.
    @Test func ancillaryChunksAreSkipped() throws {
        let png = try BombPNG.textFlood(chunks: 1024, mebibytesEach: 1)
        let start = ContinuousClock.now
        #expect(try Self.readAll(try ImageRowReader(bytes: png, path: "ztxt.png")).storage == BombPNG.pattern(side: 4))
        #expect(ContinuousClock.now - start < .seconds(1))
        let good = BombPNG.png(side: 4)
        let early = Array(good.prefix(8)) + BombPNG.chunk("tEXt", [0, 0, 0, 1]) + good.suffix(from: 8)
        #expect(throws: ImageCodecError(.corrupt, path: "o.png", detail: "PNG: tEXt: missing IHDR")) { try ImageRowReader(bytes: early, path: "o.png") }
    }

    /// The scan flood (8192 progressive scans): refused past 300 scans, as the whole-image decoder does.
    @Test func scanFloodIsCapped() throws {
        let bytes = try Fixtures.bytes(Fixtures.root.appendingPathComponent("fuzz").appendingPathComponent("jpeg_progressive_scan_flood_8192.jpg"))
        let start = ContinuousClock.now
        #expect(throws: ImageCodecError.self) { try Self.readAll(try ImageRowReader(bytes: bytes, path: "flood.jpg")) }
        #expect(ContinuousClock.now - start < .seconds(1))
        Self.expectAgreement(bytes, "flood.jpg")
    }

    // MARK: - Memory

    /// A 4000×4000 gray PNG (a 600 KB file built here, `WidePNG`), in a child process so that peak memory can be read:
    /// read 64 rows at a time it must raise the peak by under 16 MB; decoded whole it takes its raster and its
    /// `Float` tensor (80 MB), which shows the measurement works.
    @Test func memoryGrowsWithTheWidth() async throws {
        let result = await #expect(processExitsWith: .success, observing: [\.standardErrorContent]) {
            try ImageRowReaderTests.streamWideImageAndReport()
        }
        let report = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        let numbers = Self.numbers(in: report)
        let streaming = try #require(numbers["stream_growth_bytes"], "child said: \(report)")
        let whole = try #require(numbers["whole_growth_bytes"], "child said: \(report)")
        #expect(numbers["rows_ok"] == 1, "child said: \(report)")
        #expect(streaming < 16e6, "streaming raised the peak by \(streaming / 1e6) MB")
        #expect(whole > 64e6, "the whole decode raised the peak by only \(whole / 1e6) MB: is the measurement working?")
    }

    /// The child of `memoryGrowsWithTheWidth`: `stream_growth_bytes=… whole_growth_bytes=… rows_ok=0|1` on standard error.
    static func streamWideImageAndReport() throws {
        let side = 4000
        let png = WidePNG.gray(width: side, height: side)
        var ok = true
        let before = ProcessRunner.ownPeakResidentBytes()
        let reader = try ImageRowReader(bytes: png, path: "wide.png")
        while reader.rowsLeft > 0 {
            let y = reader.rowsRead
            let rows = try reader.nextRows(64)
            ok = ok && rows.width == side && rows[0, 1234, 0] == Float(WidePNG.sample(x: 1234)) && (y + rows.height == reader.rowsRead)
        }
        let streamed = ProcessRunner.ownPeakResidentBytes()
        let image = try ImageCodec.decode(bytes: png, path: "wide.png")
        ok = ok && image.tensor[side - 1, 1234, 0] == Float(WidePNG.sample(x: 1234))
        let whole = ProcessRunner.ownPeakResidentBytes()
        FileHandle.standardError.write(Data("stream_growth_bytes=\(streamed - before) whole_growth_bytes=\(whole - streamed) rows_ok=\(ok ? 1 : 0)\n".utf8))
    }

    /// Opt-in: set `CONVBANK_ROWS_BIG_PNG` to a PNG (`python3 bench/make_big_png.py OUT 20000 20000`) to print the
    /// peak memory of streaming it (256 rows at a time) and of decoding it whole, each in its own child process.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["CONVBANK_ROWS_BIG_PNG"] != nil))
    func bigImagePeakMemory() async throws {
        let streamed = await #expect(processExitsWith: .success, observing: [\.standardErrorContent]) {
            try ImageRowReaderTests.measureBigImage(stream: true)
        }
        let whole = await #expect(processExitsWith: .success, observing: [\.standardErrorContent]) {
            try ImageRowReaderTests.measureBigImage(stream: false)
        }
        for result in [streamed, whole] { print(String(decoding: result?.standardErrorContent ?? [], as: UTF8.self), terminator: "") }
    }

    static func measureBigImage(stream: Bool) throws {
        let path = ProcessInfo.processInfo.environment["CONVBANK_ROWS_BIG_PNG"]!
        let bytes = try Fixtures.bytes(URL(fileURLWithPath: path))
        let before = ProcessRunner.ownPeakResidentBytes()
        let start = ContinuousClock.now
        var sum = 0.0
        if stream {
            let reader = try ImageRowReader(bytes: bytes, path: path, maxPixels: Int.max)
            while reader.rowsLeft > 0 { sum += Double(try reader.nextRows(256).storage.last ?? 0) }
        } else {
            let image = try ImageCodec.decode(bytes: bytes, path: path, maxPixels: Int.max)
            sum = Double(image.tensor.storage.last ?? 0)
        }
        let peak = ProcessRunner.ownPeakResidentBytes()
        FileHandle.standardError.write(Data("mode=\(stream ? "stream" : "whole") file_bytes=\(bytes.count) peak_bytes=\(peak) growth_bytes=\(peak - before) seconds=\((ContinuousClock.now - start).components.seconds) check=\(sum)\n".utf8))
    }


    static func numbers(in report: String) -> [String: Double] {
        Dictionary(report.split(whereSeparator: \.isWhitespace).compactMap { word -> (String, Double)? in
            let parts = word.split(separator: "=")
            guard parts.count == 2, let value = Double(parts[1]) else { return nil }
            return (String(parts[0]), value)
        }, uniquingKeysWith: { _, last in last })
    }
}

/// A large gray PNG built in little memory: every row is `sample(x:)` (filter 0), the first one as deflate literals,
/// the rest as copies of the row above (fixed Huffman codes, length 258, distance width + 1), about 25 bits per
/// 258 bytes. Its zlib Adler-32 is updated a row at a time in closed form.
enum WidePNG {
    static func sample(x: Int) -> UInt8 { UInt8((x * 7 + x / 256) & 0xFF) }

    static func gray(width: Int, height: Int) -> [UInt8] {
        let row = [UInt8(0)] + (0..<width).map { sample(x: $0) }
        var bits = BitWriter()
        bits.write(1, count: 1)  // BFINAL
        bits.write(1, count: 2)  // BTYPE 01: fixed Huffman codes
        for byte in row { bits.literal(Int(byte)) }
        var left = (height - 1) * row.count
        let distance = row.count
        let (distanceCode, distanceBase, distanceExtra) = distanceSymbol(distance)
        while left >= 258 {
            bits.huffman(0b1100_0101, count: 8)  // length code 285: 258, no extra bits
            bits.huffman(distanceCode, count: 5)
            bits.write(distance - distanceBase, count: distanceExtra)
            left -= 258
        }
        // The rest of the last row as literals: the bytes of the row that end the stream.
        for k in (row.count - left)..<row.count { bits.literal(Int(row[k])) }
        bits.huffman(0, count: 7)  // end of block (256)
        // Adler-32 of `height` copies of the row: a' = a + S, b' = b + n·a + T per row, T = Σ (n − i) · r_i.
        let n = row.count
        let s = row.reduce(0) { $0 + Int($1) } % 65521
        let t = row.enumerated().reduce(0) { ($0 + (n - $1.offset) * Int($1.element)) % 65521 }
        var a = 1, b = 0
        for _ in 0..<height {
            b = (b + n % 65521 * a + t) % 65521
            a = (a + s) % 65521
        }
        let stream = [0x78, 0x01] + bits.finished + BombPNG.be32(UInt32(b << 16 | a))
        var ihdr = BombPNG.be32(UInt32(width)) + BombPNG.be32(UInt32(height))
        ihdr += [8, 0, 0, 0, 0]
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + BombPNG.chunk("IHDR", ihdr)
        for start in stride(from: 0, to: stream.count, by: 1 << 16) {
            png += BombPNG.chunk("IDAT", Array(stream[start..<min(start + (1 << 16), stream.count)]))
        }
        return png + BombPNG.chunk("IEND", [])
    }

    /// Deflate's distance code for `distance`: (code, first distance of the code, extra bits).
    static func distanceSymbol(_ distance: Int) -> (Int, Int, Int) {
        var base = 1
        for code in 0..<30 {
            let extra = code < 4 ? 0 : code / 2 - 1
            if distance < base + (1 << extra) { return (code, base, extra) }
            base += 1 << extra
        }
        preconditionFailure("distance \(distance) over 32768")
    }

    /// Deflate's bit order: values least significant bit first, Huffman codes most significant bit first.
    struct BitWriter {
        var bytes: [UInt8] = []
        var buffer = 0, used = 0
        mutating func write(_ value: Int, count: Int) {
            buffer |= value << used
            used += count
            while used >= 8 {
                bytes.append(UInt8(buffer & 0xFF))
                buffer >>= 8
                used -= 8
            }
        }
        mutating func huffman(_ code: Int, count: Int) {
            var reversed = 0
            for k in 0..<count where code >> k & 1 == 1 { reversed |= 1 << (count - 1 - k) }
            write(reversed, count: count)
        }
        /// A literal byte in the fixed code: 0…143 are 8 bits from 0x30, 144…255 are 9 bits from 0x190.
        mutating func literal(_ byte: Int) {
            if byte < 144 { huffman(0x30 + byte, count: 8) } else { huffman(0x190 + byte - 144, count: 9) }
        }
        var finished: [UInt8] { used > 0 ? bytes + [UInt8(buffer & 0xFF)] : bytes }
    }
}
