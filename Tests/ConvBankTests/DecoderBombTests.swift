import ConvBankTestSupport
import Foundation
import Testing
@testable import ConvBankBatch
@testable import ConvBankEngine
@testable import ConvBankImageIO
@testable import ConvBankPictures

#if canImport(Glibc)
import Glibc
#endif

/// Decoder bombs outside the pixels, which the pixel limit cannot see: PNG text chunks that inflate to gigabytes,
/// an IDAT zlib stream that goes on for gigabytes after the last row, chunks over libpng's size limit, and JPEG
/// marker floods. The bomb PNGs are built here in memory from one committed kilobyte of deflate data (`BombPNG`).
///
/// Before the fix (`Sources/CImageIO/png.c`), measured on the standalone C decoder: 1000 zTXt chunks of 7 MiB took
/// 51 s and 7.2 GB of memory; a 16×16 PNG followed by 8 GiB in its IDAT stream took 17 s.
@Suite struct DecoderBombTests {
    static let wellUnderASecond: Duration = .seconds(1)

    // MARK: - PNG text chunks

    /// 1024 zTXt chunks of 1 MiB each (a 1.1 MB file, 1 GiB of text): libpng used to inflate every one (twice)
    /// and keep it. Every ancillary chunk is now skipped unread, so this is as fast as the 4×4 image itself.
    @Test func compressedTextFloodIsSkippedUnread() throws {
        let png = try BombPNG.textFlood(chunks: 1024, mebibytesEach: 1)
        #expect(png.count < 1_200_000)
        let start = ContinuousClock.now
        let image = try ImageCodec.decode(bytes: png, path: "ztxt.png")
        let elapsed = ContinuousClock.now - start
        #expect(image.tensor.storage == BombPNG.pattern(side: 4))
        #expect(elapsed < Self.wellUnderASecond, "took \(elapsed)")
    }

    /// The issue's file, 1000 zTXt chunks of 7 MiB (7.3 GB of text), decoded in a child process so that its peak
    /// memory can be read (`VmHWM`): the decode must not raise it by more than 64 MB. The child's address
    /// space is capped 1 GiB above what it had mapped, so a regression fails here instead of taking 7 GB.
    @Test func compressedTextFloodLeavesPeakMemoryFlat() async throws {
        let result = await #expect(processExitsWith: .success, observing: [\.standardErrorContent]) {
            try DecoderBombTests.decodeTextFloodAndReport()
        }
        let report = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        let numbers = Dictionary(report.split(whereSeparator: \.isWhitespace).compactMap { word -> (String, Double)? in
            let parts = word.split(separator: "=")
            guard parts.count == 2, let value = Double(parts[1]) else { return nil }
            return (String(parts[0]), value)
        }, uniquingKeysWith: { _, last in last })
        let growth = try #require(numbers["peak_growth_bytes"], "child said: \(report)")
        #expect(numbers["pixels_ok"] == 1, "child said: \(report)")
        #expect(growth < 64e6, "peak memory grew by \(growth / 1e6) MB decoding the text flood")
        #expect((numbers["seconds"] ?? .infinity) < 1, "child said: \(report)")
    }

    /// The body of the exit test above, run in the child: builds the bomb, caps the address space, decodes, and
    /// reports `peak_growth_bytes=… seconds=… pixels_ok=0|1` on standard error.
    static func decodeTextFloodAndReport() throws {
        let png = try BombPNG.textFlood(chunks: 1000, mebibytesEach: 7)
        ChildProcess.capAddressSpace(above: 1 << 30)
        let before = ProcessRunner.ownPeakResidentBytes()
        let start = ContinuousClock.now
        let image = try ImageCodec.decode(bytes: png, path: "ztxt.png")
        let elapsed = ContinuousClock.now - start
        let growth = ProcessRunner.ownPeakResidentBytes() - before
        let ok = image.tensor.storage == BombPNG.pattern(side: 4)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        FileHandle.standardError.write(Data("peak_growth_bytes=\(growth) seconds=\(seconds) pixels_ok=\(ok ? 1 : 0)\n".utf8))
    }

    /// 100,000 small tEXt chunks (libpng used to keep 1000 and then warn about each further one): skipped.
    @Test func manySmallTextChunksAreCheap() throws {
        let text = BombPNG.chunk("tEXt", Array("Comment\u{0}convbank".utf8))
        let png = BombPNG.png(side: 4, beforeIDAT: BombPNG.repeated(text, 100_000))
        let start = ContinuousClock.now
        let image = try ImageCodec.decode(bytes: png, path: "texts.png")
        #expect(ContinuousClock.now - start < Self.wellUnderASecond)
        #expect(image.tensor.storage == BombPNG.pattern(side: 4))
    }

    // MARK: - PNG data after the last row

    /// A 16×16 PNG whose IDAT stream goes on with 8 GiB of letters after the last row (an 8.5 MB file): libpng
    /// inflated all of it looking for the end of the stream (17 s). `cio_decode_png` reads at most 8 KiB past the
    /// last row; the pixels are complete, so the image decodes and the rest is ignored, as libpng itself does
    /// (its "Too much image data" is only a warning). The same result as with 1 MiB of trailing data, which stays
    /// inside the bound and is inflated by libpng as before.
    @Test(arguments: [false, true], [1, 8192])
    func trailingIDATDataIsNotInflated(interlaced: Bool, mebibytes: Int) throws {
        let png = try BombPNG.trailingIDAT(side: 16, interlaced: interlaced, mebibytes: mebibytes)
        let start = ContinuousClock.now
        let image = try ImageCodec.decode(bytes: png, path: "trailing.png")
        let elapsed = ContinuousClock.now - start
        #expect(image.tensor.height == 16 && image.tensor.width == 16 && image.tensor.channels == 1)
        #expect(image.tensor.storage == BombPNG.pattern(side: 16))
        #expect(elapsed < Self.wellUnderASecond, "took \(elapsed)")
    }

    /// Stopped inside the trailing data, the decoder still checks the rest of the file without inflating it:
    /// without IEND, or cut anywhere in the 8 GiB of stream, it is truncated; a bad CRC in an IDAT chunk that
    /// libpng did not reach is a CRC error, as libpng would have said. All quickly.
    @Test(arguments: [false, true])
    func damagedTrailingIDATBombIsRefused(interlaced: Bool) throws {
        let png = try BombPNG.trailingIDAT(side: 16, interlaced: interlaced, mebibytes: 8192)
        var badCRC = png
        badCRC[png.count / 2] ^= 0x01  // inside a chunk of trailing pieces, whose CRC no longer matches
        for (name, bytes, problem) in [("without IEND", Array(png.dropLast(12)), "truncated"),
                                       ("cut at 1/2", Array(png.prefix(png.count / 2)), "truncated"),
                                       ("cut at 300 KB", Array(png.prefix(300_000)), "truncated"),
                                       ("a bad CRC half way", badCRC, "IDAT: CRC error")] {
            let start = ContinuousClock.now
            do {
                _ = try ImageCodec.decode(bytes: bytes, path: "trailing.png")
                Issue.record("\(name): decoded")
            } catch {
                #expect(error.kind == .corrupt, "\(name): \(error)")
                #expect(error.detail.contains(problem), "\(name): \(error)")
            }
            #expect(ContinuousClock.now - start < Self.wellUnderASecond, "\(name)")
        }
    }

    // MARK: - PNG chunk sizes and order

    /// A 9 MiB private chunk, over libpng's 8 MiB chunk limit (`png_set_chunk_malloc_max`): libpng only warns about
    /// the length, and the chunk is skipped without being allocated, so the image decodes.
    @Test func chunkOverTheSizeLimitIsSkipped() throws {
        let png = BombPNG.png(side: 4, beforeIDAT: BombPNG.chunk("prVt", [UInt8](repeating: 0x5A, count: 9 << 20)))
        let image = try ImageCodec.decode(bytes: png, path: "big-chunk.png")
        #expect(image.tensor.storage == BombPNG.pattern(side: 4))
    }

    /// A chunk claiming 2^31 − 1 bytes in a small file is refused as truncated, quickly (libpng used to allocate
    /// the claimed size for a known chunk such as zTXt before reading it); a length over 2^31 − 1 is corrupt.
    @Test(arguments: ["zTXt", "iCCP", "prVt"])
    func hugeChunkLengthIsRefused(type: String) throws {
        let good = BombPNG.png(side: 4)
        for length: UInt32 in [0x7FFF_FFFF, 0xFFFF_FFFF] {
            var bytes = Array(good.prefix(33)) + BombPNG.be32(length) + Array(type.utf8) + [UInt8](repeating: 7, count: 4096)
            bytes += good.suffix(from: 33)
            let start = ContinuousClock.now
            do {
                _ = try ImageCodec.decode(bytes: bytes, path: "huge.png")
                Issue.record("\(type) of \(length) bytes: decoded")
            } catch {
                #expect(error.kind == .corrupt, "\(type) of \(length) bytes: \(error)")
            }
            #expect(ContinuousClock.now - start < Self.wellUnderASecond)
        }
    }

    /// Ancillary chunks are no longer read, but one before IHDR still makes the file corrupt (libpng's handlers
    /// refused it; unknown ancillary chunks there are refused too now).
    @Test(arguments: ["tEXt", "gAMA", "prVt"])
    func ancillaryChunkBeforeIHDRIsRefused(type: String) throws {
        let good = BombPNG.png(side: 4)
        let bytes = Array(good.prefix(8)) + BombPNG.chunk(type, [0, 0, 0, 1]) + good.suffix(from: 8)
        do {
            _ = try ImageCodec.decode(bytes: bytes, path: "order.png")
            Issue.record("decoded")
        } catch {
            #expect(error.kind == .corrupt)
            #expect(error.detail == "PNG: \(type): missing IHDR", "\(error)")
        }
    }

    /// The builders make what they say: a plain PNG decodes to the pattern (interlaced too), the checksums are
    /// right, and the closed-form Adler-32 of the trailing letters equals the one computed byte by byte.
    @Test func buildersAreSound() throws {
        for side in [1, 4, 13, 16] {
            for interlaced in [false, true] {
                let image = try ImageCodec.decode(bytes: BombPNG.png(side: side, interlaced: interlaced), path: "p.png")
                #expect(image.tensor.storage == BombPNG.pattern(side: side), "side \(side), interlaced \(interlaced)")
            }
        }
        #expect(BombPNG.adler32(Array("Wikipedia".utf8)) == 0x11E6_0398)
        #expect(BombPNG.crc(Array("IEND".utf8)) == 0xAE42_6082)
        for n in [0, 1, 2, 65520, 65521, 65522, 100_003, 300_001] {
            let letters = [UInt8](repeating: BombPNG.letter, count: n)
            #expect(BombPNG.adler32(BombPNG.adler32(Array("Wiki".utf8)), appendingLetters: n)
                    == BombPNG.adler32(Array("Wiki".utf8) + letters), "n = \(n)")
        }
        // The same closed form at 8 GiB, against Python's zlib.adler32 (scripts/make_bomb_fixtures.py builds the same stream).
        #expect(BombPNG.adler32(1, appendingLetters: 8 << 30) == 0xACC1_7243)
        let piece = try BombPNG.piece()
        #expect(piece.count < 1100 && piece.suffix(4) == [0x00, 0x00, 0xFF, 0xFF], "a full flush ends the piece")
    }

    // MARK: - JPEG markers

    /// 1000 APPn/COM segments of 32 KB and 20,000 empty COMs before the frame: libjpeg skips them unread (no
    /// `jpeg_save_markers`), the EXIF reader walks past them to the orientation, and the pixels are the file's.
    @Test func jpegMarkerFloodIsCheap() throws {
        let name = "jpeg/gray_progressive_orient6.jpg"
        let base = try Fixtures.bytes(Fixtures.testdata.appendingPathComponent(name))
        var flood: [UInt8] = []
        flood.reserveCapacity(1000 * 32_768 + 20_000 * 4)
        for k in 0..<1000 {
            let marker: UInt8 = k % 17 == 16 ? 0xFE : 0xE0 + UInt8(k % 17)
            flood += [0xFF, marker, 0x80, 0x00] + [UInt8](repeating: UInt8(k & 0xFF), count: 0x8000 - 2)
        }
        for _ in 0..<20_000 { flood += [0xFF, 0xFE, 0x00, 0x02] }
        let bytes = Array(base.prefix(2)) + flood + base.dropFirst(2)
        let expected = try ImageCodec.decode(bytes: base, path: name)
        let start = ContinuousClock.now
        let image = try ImageCodec.decode(bytes: bytes, path: name)
        let elapsed = ContinuousClock.now - start
        #expect(image.orientation == .rotatedClockwise)
        #expect(image.tensor == expected.tensor)
        #expect(elapsed < Self.wellUnderASecond, "took \(elapsed)")
    }

    /// A JPEG whose frame header claims 65000×65000 is refused from the header, before libjpeg allocates anything.
    @Test func jpegClaimingHugeDimensionsIsRefusedFromTheHeader() throws {
        var bytes = try Fixtures.bytes(Fixtures.testdata.appendingPathComponent("jpeg/gray_progressive.jpg"))
        var sof = 2  // walk the segments to the frame header (SOF2)
        while sof + 4 < bytes.count, bytes[sof] == 0xFF, bytes[sof + 1] != 0xC2 {
            sof += 2 + (Int(bytes[sof + 2]) << 8 | Int(bytes[sof + 3]))
        }
        try #require(sof + 9 < bytes.count && bytes[sof + 1] == 0xC2)
        bytes.replaceSubrange((sof + 5)..<(sof + 9), with: [0xFD, 0xE8, 0xFD, 0xE8])
        let start = ContinuousClock.now
        do {
            _ = try ImageCodec.decode(bytes: bytes, path: "huge.jpg")
            Issue.record("decoded")
        } catch {
            #expect(error.kind == .tooLarge, "\(error)")
            #expect(error.detail.contains("65000×65000"), "\(error)")
        }
        #expect(ContinuousClock.now - start < .milliseconds(100))
    }
}

/// PNG files built in memory for the bomb tests. The bulk comes from one committed piece of deflate data,
/// `Fixtures/bombs/a_1MiB.deflate` (`scripts/make_bomb_fixtures.py`): 1 MiB of the letter "A", byte-aligned,
/// non-final blocks, no reference to anything before its start, so copies can follow one another in one zlib stream.
enum BombPNG {
    static let mebibyte = 1 << 20
    static let letter: UInt8 = 0x41

    static func piece() throws -> [UInt8] {
        try Fixtures.bytes(Fixtures.root.appendingPathComponent("bombs").appendingPathComponent("a_1MiB.deflate"))
    }

    /// The test image: 8-bit gray, sample (y, x) = (17·y + 5·x) mod 256, as floats in row order.
    static func pattern(side: Int) -> [Float] {
        (0..<side).flatMap { y in (0..<side).map { x in Float((17 * y + 5 * x) % 256) } }
    }

    /// The pattern's scanlines as the zlib stream holds them: filter byte 0 before each row (of each Adam7 pass).
    static func rawRows(side: Int, interlaced: Bool) -> [UInt8] {
        let passes = interlaced ? [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
                                : [(0, 0, 1, 1)]
        var out: [UInt8] = []
        for (x0, y0, dx, dy) in passes where x0 < side {
            for y in stride(from: y0, to: side, by: dy) {
                out.append(0)
                for x in stride(from: x0, to: side, by: dx) { out.append(UInt8((17 * y + 5 * x) % 256)) }
            }
        }
        return out
    }

    static let crcTable: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// CRC-32 as PNG chunks use it.
    static func crc(_ bytes: [UInt8]) -> UInt32 {
        crcTable.withUnsafeBufferPointer { table in
            bytes.withUnsafeBufferPointer { b in
                var c: UInt32 = 0xFFFF_FFFF
                for byte in b { c = table[Int((c ^ UInt32(byte)) & 0xFF)] ^ (c >> 8) }
                return c ^ 0xFFFF_FFFF
            }
        }
    }

    static func adler32(_ bytes: [UInt8], from start: UInt32 = 1) -> UInt32 {
        var a = start & 0xFFFF, b = start >> 16
        for byte in bytes {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        return b << 16 | a
    }

    /// Adler-32 after `n` more letters c, in closed form: a grows by n·c, b by n·a + c·n(n+1)/2 (mod 65521).
    static func adler32(_ adler: UInt32, appendingLetters n: Int) -> UInt32 {
        let m = 65521, c = Int(letter)
        let a = Int(adler & 0xFFFF), b = Int(adler >> 16)
        let triangle = n % 2 == 0 ? (n / 2 % m) * ((n + 1) % m) % m : (n % m) * ((n + 1) / 2 % m) % m
        let newA = (a + n % m * c) % m
        let newB = (b + n % m * a + c * triangle) % m
        return UInt32(newB << 16 | newA)
    }

    /// `count` copies of `bytes`, one after another.
    static func repeated(_ bytes: [UInt8], _ count: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * count)
        for _ in 0..<count { out.append(contentsOf: bytes) }
        return out
    }

    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return be32(UInt32(data.count)) + body + be32(crc(body))
    }

    /// `data` (< 64 KiB) as one stored deflate block.
    static func stored(_ data: [UInt8], final: Bool) -> [UInt8] {
        let n = UInt16(data.count)
        return [final ? 1 : 0, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8(~n >> 8)] + data
    }

    /// A gray PNG of the pattern; `beforeIDAT` goes between IHDR and IDAT; `idat` replaces the image data chunks.
    static func png(side: Int, interlaced: Bool = false, beforeIDAT: [UInt8] = [], idat: [UInt8]? = nil, iend: Bool = true) -> [UInt8] {
        let header = be32(UInt32(side)) + be32(UInt32(side)) + [8, 0, 0, 0, interlaced ? 1 : 0]
        let rows = rawRows(side: side, interlaced: interlaced)
        let data = idat ?? chunk("IDAT", [0x78, 0x01] + stored(rows, final: true) + be32(adler32(rows)))
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header)
        out += beforeIDAT
        out += data
        if iend { out += chunk("IEND", []) }
        return out
    }

    /// A 4×4 PNG with `chunks` zTXt chunks before IDAT, each a zlib stream of `mebibytesEach` MiB of letters.
    static func textFlood(chunks: Int, mebibytesEach: Int) throws -> [UInt8] {
        let piece = try piece()
        let stream = [0x78, 0xDA] + repeated(piece, mebibytesEach) + [0x03, 0x00]
            + be32(adler32(1, appendingLetters: mebibytesEach * mebibyte))
        let text = chunk("zTXt", Array("Comment".utf8) + [0, 0] + stream)
        return png(side: 4, beforeIDAT: repeated(text, chunks))
    }

    /// A gray PNG whose single zlib stream holds the image's rows and then `mebibytes` MiB of letters, in IDAT
    /// chunks of 64 pieces (~66 KB); its Adler-32 and every CRC are right, so only the length is hostile.
    static func trailingIDAT(side: Int, interlaced: Bool, mebibytes: Int) throws -> [UInt8] {
        let piece = try piece()
        let rows = rawRows(side: side, interlaced: interlaced)
        var idat = chunk("IDAT", [0x78, 0xDA] + stored(rows, final: false))
        let group = chunk("IDAT", repeated(piece, 64))
        idat.reserveCapacity(idat.count + mebibytes / 64 * group.count + group.count + 64)
        for _ in 0..<(mebibytes / 64) { idat += group }
        if mebibytes % 64 > 0 { idat += chunk("IDAT", repeated(piece, mebibytes % 64)) }
        idat += chunk("IDAT", [0x03, 0x00] + be32(adler32(adler32(rows), appendingLetters: mebibytes * mebibyte)))
        return png(side: side, interlaced: interlaced, idat: idat)
    }
}

/// What a child process (an exit test) does to itself.
enum ChildProcess {
    /// Limits this process's address space to what it has mapped now plus `extra` bytes, so a runaway
    /// allocation fails in this process instead of taking the machine's memory.
    static func capAddressSpace(above extra: Int) {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
              let pages = statm.split(separator: " ").first.flatMap({ Int($0) }) else { return }
        let limit = rlim_t(pages * Int(sysconf(Int32(_SC_PAGESIZE))) + extra)
        var rl = rlimit(rlim_cur: limit, rlim_max: limit)
        setrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &rl)
    }
}
