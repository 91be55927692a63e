import ConvBankTestSupport
import Foundation
import Testing
@testable import ConvBankBatch
@testable import ConvBankEngine
@testable import ConvBankImageIO
@testable import ConvBankPictures

/// What the decoder fuzzers (`fuzz/`, `make fuzz`) found, kept as inputs that must be refused with an
/// `ImageCodecError` and never crash; plus a small deterministic mutation fuzz that runs with every `make test`.
@Suite struct FuzzRegressionTests {
    static var findings: URL { Fixtures.root.appendingPathComponent("fuzz") }

    /// The regression inputs in `Fixtures/fuzz/` (one file per finding; `README.md` says what each one was).
    static let findingFiles: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: findings.path)) ?? []
        return names.filter { $0.hasSuffix(".png") || $0.hasSuffix(".jpg") || $0.hasSuffix(".bin") }.sorted()
    }()

    /// Every kept finding decodes to an error (the fuzzer's crash, leak or timeout is gone) in well under the
    /// fuzzer's 10 s timeout.
    @Test(arguments: findingFiles)
    func findingIsRefused(_ name: String) throws {
        let bytes = try Fixtures.bytes(Self.findings.appendingPathComponent(name))
        let start = ContinuousClock.now
        #expect(throws: ImageCodecError.self) { try ImageCodec.decode(bytes: bytes, path: name, maxPixels: 1 << 22) }
        #expect(ContinuousClock.now - start < .seconds(5), "\(name) took \(ContinuousClock.now - start)")
    }

    /// Finding 1 (fixed): a 16 KB progressive JPEG declaring 8192×8192 gray and holding 160 AC scans that skip
    /// every block by EOB runs. libjpeg used to walk all 1,048,576 blocks once per scan (1–2 s, ~200 MB; a 1 MB
    /// file ~60 s) before the damage warnings were looked at. `cio_decode_jpeg` now gives up at the first damage
    /// warning (and past 300 scans), so the error is that first warning, raised while the first bad scan is read.
    @Test func progressiveScanFloodIsRefusedAtTheFirstWarning() throws {
        let name = "jpeg_progressive_scan_flood_8192.jpg"
        let bytes = try Fixtures.bytes(Self.findings.appendingPathComponent(name))
        do {
            _ = try ImageCodec.decode(bytes: bytes, path: name)
            Issue.record("the scan flood was accepted")
        } catch {
            #expect(error.kind == .corrupt)
            #expect(error.detail.contains("progression"), "\(error)")
        }
    }

    // MARK: - Deterministic mutation fuzz

    /// Seeds of every decoder path: 8-bit RGB, interlaced 2-bit palette, 16-bit gray+alpha; progressive gray
    /// JPEG with EXIF orientation, baseline 4:2:0 with restart markers.
    static let seeds = ["pngsuite/basn2c08.png", "pngsuite/basi3p02.png", "pngsuite/basn4a16.png",
                        "jpeg/gray_progressive_orient6.jpg", "jpeg/ycc420_odd_restart.jpg"]
    static let mutationsPerSeed = 400

    /// 2,000 seeded mutations (byte flips, truncations, insertions, deletions, PNG chunk-length and chunk-field
    /// edits with a valid CRC, JPEG marker and segment-length edits) of five seeds: every one decodes or throws an
    /// `ImageCodecError`, and what decodes has a sane shape and samples in range. Same inputs on every run.
    @Test func seededMutationsDecodeOrThrow() throws {
        var decoded = 0, refused = 0
        var failures: [String] = []
        for (s, seed) in Self.seeds.enumerated() {
            let original = try Fixtures.bytes(Fixtures.testdata.appendingPathComponent(seed))
            var rng = SeededRandom(seed: 0xF022 &+ UInt64(s))
            for k in 0..<Self.mutationsPerSeed {
                var bytes = original
                let rounds = Int.random(in: 1...3, using: &rng)
                var how: [String] = []
                for _ in 0..<rounds { how.append(Mutator.mutate(&bytes, using: &rng)) }
                do {
                    let image = try ImageCodec.decode(bytes: bytes, path: seed, maxPixels: 1 << 20)
                    if let problem = Self.problem(image) { failures.append("\(seed) #\(k) [\(how.joined(separator: ", "))]: \(problem)") }
                    decoded += 1
                } catch {
                    // Typed throws: an ImageCodecError by construction; it must say something.
                    if error.detail.isEmpty || error.path != seed { failures.append("\(seed) #\(k): bad error \(error)") }
                    refused += 1
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.count) broken results, first: \(failures.prefix(5))")
        #expect(decoded + refused == Self.seeds.count * Self.mutationsPerSeed)
        // Both outcomes occur, so the mutations neither all miss nor all break the files.
        #expect(decoded > 50 && refused > 500, "decoded \(decoded), refused \(refused)")
    }

    /// Why a decoded image breaks the contract, or nil.
    static func problem(_ image: DecodedImage) -> String? {
        let t = image.tensor
        guard t.height >= 1, t.width >= 1, t.height * t.width <= 1 << 20 else { return "shape \(t.height)×\(t.width)" }
        guard (1...4).contains(t.channels), t.storage.count == t.height * t.width * t.channels else { return "channels \(t.channels)" }
        guard image.bitDepth == 8 || image.bitDepth == 16 else { return "bit depth \(image.bitDepth)" }
        let top: Float = image.bitDepth == 16 ? 65535 : 255
        if let bad = t.storage.first(where: { !($0 >= 0 && $0 <= top) }) { return "sample \(bad)" }
        if image.format == .png, image.orientation != .up || image.wasCMYK { return "PNG with orientation or CMYK" }
        return nil
    }

    /// The mutator works as described, so the test above covers what it claims.
    @Test func mutatorEditsStructure() throws {
        let png = try Fixtures.bytes(Fixtures.testdata.appendingPathComponent("pngsuite/basn2c08.png"))
        let chunks = Mutator.pngChunks(png)
        #expect(chunks.map(\.type) == ["IHDR", "gAMA", "IDAT", "IEND"])
        var edited = png
        var rng = SeededRandom(seed: 1)
        Mutator.editPNGChunkField(&edited, using: &rng)
        #expect(edited != png && edited.count == png.count)
        // The edited chunk's CRC still matches, so libpng looks past the CRC check.
        for c in Mutator.pngChunks(edited) {
            let body = Array(edited[(c.offset + 4)..<(c.offset + 8 + c.length)])
            let stored = edited[(c.offset + 8 + c.length)..<(c.offset + 12 + c.length)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            #expect(Mutator.crc(body) == stored, "chunk \(c.type)")
        }
        let jpeg = try Fixtures.bytes(Fixtures.testdata.appendingPathComponent("jpeg/ycc420_odd_restart.jpg"))
        let markers = Mutator.jpegMarkers(jpeg).map { jpeg[$0 + 1] }
        #expect(markers.first == 0xD8 && markers.contains(0xDA) && markers.contains(0xDD) && markers.contains(0xD0))
    }
}

/// Structure-aware byte mutations for PNG and JPEG.
enum Mutator {
    static let jpegMarkerChoices: [UInt8] = [0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xC9, 0xCA, 0xCC, 0xD0, 0xD7, 0xD8, 0xD9, 0xDA,
                                             0xDB, 0xDC, 0xDD, 0xE0, 0xE1, 0xEE, 0xFE, 0x01, 0xFF]
    static let interesting16: [Int] = [0, 1, 2, 3, 7, 8, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF]
    static let interesting32: [UInt32] = [0, 1, 2, 13, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x10000, 0xFFFF]

    /// Applies one random mutation in place and says which.
    @discardableResult
    static func mutate(_ bytes: inout [UInt8], using rng: inout SeededRandom) -> String {
        if bytes.isEmpty { bytes = [UInt8.random(in: 0...255, using: &rng)]; return "seed byte" }
        let isPNG = ImageCodec.sniff(bytes) == .png, isJPEG = ImageCodec.sniff(bytes) == .jpeg
        switch Int.random(in: 0..<10, using: &rng) {
        case 0, 1:
            let i = Int.random(in: 0..<bytes.count, using: &rng)
            bytes[i] ^= UInt8(1) << UInt8.random(in: 0...7, using: &rng)
            return "bit flip at \(i)"
        case 2:
            let i = Int.random(in: 0..<bytes.count, using: &rng)
            bytes[i] = [0, 0xFF, 0x7F, 0x80, UInt8.random(in: 0...255, using: &rng)].randomElement(using: &rng)!
            return "byte set at \(i)"
        case 3:
            let n = Int.random(in: 0..<bytes.count, using: &rng)
            bytes.removeLast(bytes.count - n)
            return "truncate to \(n)"
        case 4:
            let i = Int.random(in: 0...bytes.count, using: &rng)
            let n = Int.random(in: 1...16, using: &rng)
            bytes.insert(contentsOf: (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: i)
            return "insert \(n) at \(i)"
        case 5:
            let i = Int.random(in: 0..<bytes.count, using: &rng)
            let n = min(Int.random(in: 1...32, using: &rng), bytes.count - i)
            bytes.removeSubrange(i..<(i + n))
            return "delete \(n) at \(i)"
        case 6, 7:
            if isPNG { return Bool.random(using: &rng) ? editPNGChunkLength(&bytes, using: &rng) : editPNGChunkField(&bytes, using: &rng) }
            if isJPEG { return editJPEGMarker(&bytes, using: &rng) }
            return mutate(&bytes, using: &rng)
        default:
            if isPNG { return editPNGChunkField(&bytes, using: &rng) }
            if isJPEG { return editJPEGSegment(&bytes, using: &rng) }
            return mutate(&bytes, using: &rng)
        }
    }

    struct Chunk { var offset: Int, length: Int, type: String }

    /// The chunks of a PNG whose length fields fit in the data (walk stops at the first that does not).
    static func pngChunks(_ b: [UInt8]) -> [Chunk] {
        var chunks: [Chunk] = [], o = 8
        while o + 12 <= b.count {
            let length = Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3])
            guard o + 12 + length <= b.count else { break }
            chunks.append(Chunk(offset: o, length: length, type: String(decoding: b[(o + 4)..<(o + 8)], as: UTF8.self)))
            o += 12 + length
        }
        return chunks
    }

    static func put32(_ v: UInt32, _ b: inout [UInt8], at o: Int) {
        for k in 0..<4 { b[o + k] = UInt8(truncatingIfNeeded: v >> (24 - 8 * k)) }
    }

    /// Rewrites one chunk's length field (CRC left as is).
    static func editPNGChunkLength(_ b: inout [UInt8], using rng: inout SeededRandom) -> String {
        guard let c = pngChunks(b).randomElement(using: &rng) else { return mutate(&b, using: &rng) }
        let choices = interesting32 + [UInt32(c.length + 1), UInt32(max(c.length - 1, 0)), UInt32(c.length * 2)]
        let v = choices.randomElement(using: &rng)!
        put32(v, &b, at: c.offset)
        return "\(c.type) length \(v)"
    }

    /// Changes bytes inside one chunk's data (IHDR most often) and recomputes its CRC, so the change gets past
    /// libpng's CRC check to the code that reads the field.
    static func editPNGChunkField(_ b: inout [UInt8], using rng: inout SeededRandom) -> String {
        let chunks = pngChunks(b).filter { $0.length > 0 }
        guard !chunks.isEmpty else { return mutate(&b, using: &rng) }
        let c = Bool.random(using: &rng) ? chunks[0] : chunks.randomElement(using: &rng)!
        let start = c.offset + 8
        let i = start + Int.random(in: 0..<c.length, using: &rng)
        if c.type == "IHDR", Bool.random(using: &rng) {
            // width or height (4 bytes) to an interesting value, or bit depth / colour type / interlace to 0…16
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: put32(interesting32.randomElement(using: &rng)!, &b, at: start)
            case 1: put32(interesting32.randomElement(using: &rng)!, &b, at: start + 4)
            default: b[start + 8 + Int.random(in: 0..<5, using: &rng)] = UInt8.random(in: 0...16, using: &rng)
            }
        } else {
            b[i] = UInt8.random(in: 0...255, using: &rng)
        }
        put32(crc(Array(b[(c.offset + 4)..<(start + c.length)])), &b, at: start + c.length)
        return "\(c.type) field edit, CRC fixed"
    }

    /// Offsets of `FF xx` markers (xx not 00, FF or a fill), the entropy-coded data included.
    static func jpegMarkers(_ b: [UInt8]) -> [Int] {
        guard b.count >= 2 else { return [] }
        return (0..<(b.count - 1)).filter { b[$0] == 0xFF && b[$0 + 1] != 0 && b[$0 + 1] != 0xFF }
    }

    /// Replaces one marker's code with another (SOF ↔ SOF, SOS, EOI, RST, DHT, …).
    static func editJPEGMarker(_ b: inout [UInt8], using rng: inout SeededRandom) -> String {
        guard let o = jpegMarkers(b).randomElement(using: &rng) else { return mutate(&b, using: &rng) }
        let old = b[o + 1]
        b[o + 1] = jpegMarkerChoices.randomElement(using: &rng)!
        return String(format: "marker %02X → %02X at %d", old, b[o + 1], o)
    }

    /// Edits a marker segment: its length field, or a byte of its header (dimensions, component counts,
    /// sampling factors, table ids, restart interval, EXIF fields).
    static func editJPEGSegment(_ b: inout [UInt8], using rng: inout SeededRandom) -> String {
        let segments = jpegMarkers(b).filter { o in
            let m = b[o + 1]
            return o + 4 <= b.count && m != 0xD8 && m != 0xD9 && m != 0x01 && !(0xD0...0xD7).contains(m)
        }
        guard let o = segments.randomElement(using: &rng) else { return mutate(&b, using: &rng) }
        let length = Int(b[o + 2]) << 8 | Int(b[o + 3])
        if Bool.random(using: &rng) {
            let v = (interesting16 + [length + 1, max(length - 1, 0), length + 64]).randomElement(using: &rng)! & 0xFFFF
            b[o + 2] = UInt8(v >> 8)
            b[o + 3] = UInt8(v & 0xFF)
            return String(format: "segment %02X length %d → %d", b[o + 1], length, v)
        }
        let end = min(o + 2 + max(length, 2), b.count)
        guard end > o + 4 else { return mutate(&b, using: &rng) }
        let i = Int.random(in: (o + 4)..<end, using: &rng)
        b[i] = Bool.random(using: &rng) ? UInt8.random(in: 0...255, using: &rng) : [0, 1, 2, 3, 4, 0x11, 0x22, 0x44, 0xFF].randomElement(using: &rng)!
        return String(format: "segment %02X byte %d", b[o + 1], i - o)
    }

    /// PNG's CRC-32.
    static func crc(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            c ^= UInt32(byte)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return c ^ 0xFFFF_FFFF
    }
}
