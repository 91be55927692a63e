import ConvBankTestSupport
import Foundation
import Testing
@testable import ConvBankBatch
@testable import ConvBankEngine
@testable import ConvBankImageIO
@testable import ConvBankPictures

/// Decoding against independent references: PngSuite through pure-Python `pypng`, JPEGs through Pillow
/// (`scripts/make_goldens.py` → `Fixtures/decode/expected.json`), hashed as little-endian float32 H×W×C samples.
@Suite struct ImageCodecTests {
    struct Expected: Sendable, CustomTestStringConvertible {
        var file: String, width: Int, height: Int, channels: Int, hash: String, sum: Double
        var testDescription: String { file }
    }

    static let expected: [Expected] = {
        guard let list = try? Fixtures.json(Fixtures.decode.appendingPathComponent("expected.json")) as? [[String: Any]] else { return [] }
        return list.map { Expected(file: $0["file"] as! String, width: $0["width"] as! Int, height: $0["height"] as! Int,
                                   channels: $0["channels"] as! Int, hash: $0["fnv1a64"] as! String, sum: ($0["sum"] as! NSNumber).doubleValue) }
    }()

    static let corrupt: [String] = (try? Fixtures.json(Fixtures.decode.appendingPathComponent("corrupt.json")) as? [String]) ?? []

    @Test func corpusIsComplete() {
        #expect(Self.expected.filter { $0.file.hasPrefix("pngsuite/") }.count == 161)
        #expect(Self.expected.filter { $0.file.hasPrefix("exif/") }.count == 9)
        #expect(Self.expected.filter { $0.file.hasPrefix("jpeg/") }.count == 9)
        #expect(Self.corrupt.count == 14)
    }

    @Test(arguments: expected)
    func decodesExactly(_ e: Expected) throws {
        let image = try ImageCodec.decode(path: Fixtures.testdata.appendingPathComponent(e.file).path)
        let t = image.tensor
        #expect(t.width == e.width && t.height == e.height && t.channels == e.channels)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(t.storage.count * 4)
        for v in t.interleaved { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        #expect(String(format: "%016llx", fnv1a64(bytes)) == e.hash, "sum \(t.storage.reduce(0.0) { $0 + Double($1) }) vs \(e.sum)")
    }

    @Test(arguments: corrupt)
    func refusesCorrupt(_ file: String) {
        #expect(throws: ImageCodecError.self) { try ImageCodec.decode(path: Fixtures.testdata.appendingPathComponent(file).path) }
    }

    /// Every way a file can be cut short is an error, never a crash or a gray-filled image.
    @Test(arguments: ["pngsuite/basn2c08.png", "pngsuite/basi6a16.png", "jpeg/ycc420_odd_restart.jpg", "jpeg/gray_progressive.jpg", "exif/Landscape_3.jpg"])
    func refusesTruncations(_ file: String) throws {
        let bytes = try Fixtures.bytes(Fixtures.testdata.appendingPathComponent(file))
        for cut in [0, 1, 7, 8, 20, 33, bytes.count / 3, bytes.count / 2, bytes.count - 40, bytes.count - 1] {
            #expect(throws: ImageCodecError.self, "cut at \(cut)") { try ImageCodec.decode(bytes: Array(bytes.prefix(cut)), path: file) }
        }
    }

    @Test func refusesGarbageAndBadCRC() throws {
        #expect(throws: ImageCodecError(.notAnImage, path: "e", detail: "empty file")) { try ImageCodec.decode(bytes: [], path: "e") }
        #expect(throws: ImageCodecError.self) { try ImageCodec.decode(bytes: Array("hello, I am text".utf8), path: "t.jpg") }
        var rng = SeededRandom(seed: 3)
        for _ in 0..<50 {
            let noise = (0..<300).map { _ in UInt8.random(in: 0...255, using: &rng) }
            #expect(throws: ImageCodecError.self) { try ImageCodec.decode(bytes: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + noise, path: "n.png") }
            #expect(throws: ImageCodecError.self) { try ImageCodec.decode(bytes: [0xFF, 0xD8, 0xFF] + noise, path: "n.jpg") }
        }
        // Flip a byte inside IDAT: the CRC no longer matches.
        var png = try Fixtures.bytes(Fixtures.testdata.appendingPathComponent("pngsuite/basn0g08.png"))
        let idat = try #require(png.indices.first { png[$0...].starts(with: Array("IDAT".utf8)) })
        png[idat + 10] ^= 0x55
        #expect(throws: ImageCodecError.self) { try ImageCodec.decode(bytes: png, path: "crc.png") }
        // Damage JPEG entropy data in the middle: libjpeg only warns; it must still be an error.
        var jpeg = try Fixtures.bytes(Fixtures.testdata.appendingPathComponent("jpeg/ycc411.jpg"))
        for k in stride(from: jpeg.count / 2, to: jpeg.count / 2 + 64, by: 2) { jpeg[k] = 0xFF; jpeg[k + 1] = 0xD3 }
        #expect(throws: ImageCodecError.self) { try ImageCodec.decode(bytes: jpeg, path: "bad.jpg") }
    }

    /// A header claiming 100000×100000 pixels is refused before any pixel buffer exists.
    @Test func pixelLimitFromHeader() throws {
        var png = try Fixtures.bytes(Fixtures.testdata.appendingPathComponent("pngsuite/basn0g08.png"))
        // IHDR width/height at bytes 16…23; fix the CRC so only the limit can refuse it.
        for (k, b) in [UInt8(0), 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0].enumerated() { png[16 + k] = b }
        let crc = crc32(Array(png[12..<29]))
        for k in 0..<4 { png[29 + k] = UInt8((crc >> (24 - 8 * UInt32(k))) & 0xFF) }
        do {
            _ = try ImageCodec.decode(bytes: png, path: "big.png")
            Issue.record("a 10-gigapixel header was accepted")
        } catch {
            #expect(error.kind == .tooLarge)
            #expect(error.description.contains("100000×100000"))
        }
        let small = try Fixtures.bytes(Fixtures.testdata.appendingPathComponent("pngsuite/basn0g08.png"))
        #expect(throws: ImageCodecError.self) { try ImageCodec.decode(bytes: small, path: "s.png", maxPixels: 32 * 32 - 1) }
        #expect(try ImageCodec.decode(bytes: small, path: "s.png", maxPixels: 32 * 32).tensor.width == 32)
    }

    @Test func sixteenBitRoundTrip() throws {
        var rng = SeededRandom(seed: 11)
        let samples = (0..<(37 * 23)).map { _ in UInt16.random(in: 0...65535, using: &rng) } + []
        let png = try ImageCodec.encodePNG(gray16: samples, width: 37, height: 23)
        let back = try ImageCodec.decode(bytes: png, path: "rt16.png")
        #expect(back.bitDepth == 16 && back.tensor.channels == 1)
        #expect(back.tensor.storage == samples.map { Float($0) })
        let eight = (0..<(5 * 3)).map { UInt8($0 * 17) }
        let back8 = try ImageCodec.decode(bytes: try ImageCodec.encodePNG(gray8: eight, width: 5, height: 3), path: "rt8.png")
        #expect(back8.tensor.storage == eight.map { Float($0) })
    }

    /// Sample images: every decode path has one, and the 16-bit coffee is the 8-bit one × 257.
    @Test func sampleImages() throws {
        let dir = Fixtures.repository.appendingPathComponent("SampleImages")
        let coffee = try ImageCodec.decode(path: dir.appendingPathComponent("coffee.png").path)
        let coffee16 = try ImageCodec.decode(path: dir.appendingPathComponent("coffee-16bit.png").path)
        #expect(coffee16.bitDepth == 16)
        #expect(coffee16.tensor.storage == coffee.tensor.storage.map { $0 * 257 })
        #expect(try ImageCodec.decode(path: dir.appendingPathComponent("chelsea-gray.png").path).tensor.channels == 1)
        #expect(try ImageCodec.decode(path: dir.appendingPathComponent("astronaut-palette.png").path).tensor.channels == 3)
        #expect(try ImageCodec.decode(path: dir.appendingPathComponent("kde-grey.jpg").path).tensor.channels == 1)
    }

    @Test func exifOrientationParsing() throws {
        for k in 0...8 {
            let bytes = try Fixtures.bytes(Fixtures.testdata.appendingPathComponent("exif/Landscape_\(k).jpg"))
            #expect(ExifOrientation.fromJPEG(bytes).rawValue == max(k, 1))
        }
        #expect(ExifOrientation.fromJPEG([0xFF, 0xD8, 0xFF, 0xE1, 0x00]) == .up)  // cut inside a segment
    }

    @Test func channelAdaptation() throws {
        let rgb = Tensor(height: 1, width: 2, channels: 3, storage: [10, 20, 100, 200, 50, 60])
        let gray = try rgb.adapted(toChannels: 1)
        #expect(gray.storage == [Float(0.299 * 10 + 0.587 * 100 + 0.114 * 50), Float(0.299 * 20 + 0.587 * 200 + 0.114 * 60)])
        let g = Tensor(height: 1, width: 2, channels: 1, storage: [7, 9])
        #expect(try g.adapted(toChannels: 3).storage == [7, 9, 7, 9, 7, 9])
        let rgba = Tensor(height: 1, width: 1, channels: 4, storage: [1, 2, 3, 4])
        #expect(try rgba.adapted(toChannels: 3).storage == [1, 2, 3])
        #expect(try rgba.adapted(toChannels: 4).storage == [1, 2, 3, 4])
        let ga = Tensor(height: 1, width: 1, channels: 2, storage: [5, 255])
        #expect(try ga.adapted(toChannels: 3).storage == [5, 5, 5])
        #expect(throws: ConvolutionError.channelMismatch(image: 3, bank: 2)) { try rgb.adapted(toChannels: 2) }
    }
}

/// CRC-32 (PNG's), for building test files.
func crc32(_ bytes: [UInt8]) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        c ^= UInt32(b)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    }
    return c ^ 0xFFFF_FFFF
}
