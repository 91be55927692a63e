import ConvBankEngine
import ConvBankImageIO
import ConvBankTestSupport
import Foundation
import Testing

/// The `jpeg`, `webp`, `tiff` and `tiff16` encoders (`MapEncoder.encode`, `ImageCodec.encodeJPEG/WebP/TIFF`) against
/// independent references: libtiff and libwebp reading our files back (`ReferenceReaders`), Pillow's JPEG and WebP of
/// the same levels and tifffile's reading of committed files (`scripts/make_encoder_fixtures.py`, fixtures in
/// `Fixtures/encoders/`). Gray (1-channel) and colour (3-channel, planar as `Tensor`) maps go through every encoder.
@Suite("Output encoders: jpeg, webp, tiff, tiff16")
struct EncoderTests {
    static let folder = Fixtures.root.appendingPathComponent("encoders")

    /// A fixture array as a planar tensor: (H, W) → 1 channel; (H, W, C) channels last → C planes.
    static func tensor(_ name: String) throws -> Tensor {
        let npy = try Float32NPY(contentsOf: folder.appendingPathComponent(name))
        let channels = npy.shape.count == 3 ? npy.shape[2] : 1
        return Tensor(height: npy.shape[0], width: npy.shape[1], channels: channels, interleaved: npy.values)
    }

    /// The fixture's values in file order (channels last = interleaved).
    static func values(_ name: String) throws -> [Float] { try Float32NPY(contentsOf: folder.appendingPathComponent(name)).values }

    // MARK: - tiff: the values before normalization, bit for bit as npy

    @Test(arguments: ["map-gray.npy", "map-rgb.npy"])
    func floatTIFFHoldsTheExactValues(_ name: String) throws {
        let map = try Self.tensor(name)
        let file = try MapEncoder.encode(map, format: .tiff, normalization: .minmax)  // normalization does not apply
        #expect(Array(file.prefix(4)) == [0x49, 0x49, 42, 0], "little-endian classic TIFF")
        let tiff = try ReferenceReaders.tiff(file)
        #expect(tiff.width == map.width && tiff.height == map.height && tiff.channels == map.channels)
        #expect(tiff.bitsPerSample == 32 && tiff.sampleFormat == 3, "IEEE float")
        #expect(tiff.compression == 8 && tiff.predictor == 3, "Adobe deflate, floating-point predictor")
        #expect(tiff.photometric == (map.channels == 1 ? 1 : 2) && tiff.planarConfig == 1 && tiff.extraSamples == 0)
        #expect(tiff.littleEndian && tiff.directories == 1)
        // Every bit pattern, NaN, ±inf, −0 and the subnormal included, in the npy's (interleaved) order.
        let expected = try Self.values(name).map(\.bitPattern)
        let differing = zip(tiff.floatBits, expected).filter { $0 != $1 }.count
        #expect(tiff.floatBits.count == expected.count && differing == 0, "\(differing) of \(expected.count) samples differ")
        // And the same numbers as the npy output of the same map.
        let npy = try Float32NPY(bytes: MapEncoder.npy(Tensor(height: map.height, width: map.width, channels: 1, storage: Array(map.storage.prefix(map.height * map.width)))))
        let firstChannel = tiff.floatBits.enumerated().filter { $0.offset % map.channels == 0 }.map(\.element)
        #expect(firstChannel.elementsEqual(npy.values.map(\.bitPattern)), "channel 0 differs from the npy of that channel")
    }

    /// A map taller than one strip: strips of whole rows, about 64 KiB each, all read back.
    @Test func floatTIFFInStrips() throws {
        var random = SeededRandom(seed: 7)
        let map = Tensor(height: 300, width: 200, channels: 1, storage: (0..<60000).map { _ in Float.random(in: -1000..<1000, using: &random) })
        let tiff = try ReferenceReaders.tiff(try MapEncoder.encode(map, format: .tiff, normalization: .clamp))
        #expect(tiff.rowsPerStrip == 65536 / (200 * 4))
        #expect(tiff.floatBits == map.storage.map { $0.bitPattern })
    }

    /// tifffile (and Pillow) read the committed files back equal to their source arrays (the generator's check);
    /// this test pins that the encoder writes exactly those files. `CONVBANK_UPDATE_ENCODER_FIXTURES=1` rewrites them
    /// (then rerun the generator, which checks them).
    @Test func committedTIFFsAreTheEncoders() throws {
        let rgbLevels = try Self.tensor("levels-rgb.npy")
        let cases: [(String, [UInt8])] = [
            ("convbank-float-gray.tif", try MapEncoder.encode(try Self.tensor("map-gray.npy"), format: .tiff, normalization: .clamp)),
            ("convbank-float-rgb.tif", try MapEncoder.encode(try Self.tensor("map-rgb.npy"), format: .tiff, normalization: .clamp)),
            // levels · 257 under minmax is levels · 257 when the levels span 0…255; clamp of (levels · 257) is exact anyway.
            ("convbank-u16-rgb.tif", try MapEncoder.encode(Tensor(height: rgbLevels.height, width: rgbLevels.width, channels: 3,
                                                                  storage: rgbLevels.storage.map { $0 * 257 }), format: .tiff16, normalization: .clamp)),
        ]
        for (name, bytes) in cases {
            let url = Self.folder.appendingPathComponent(name)
            if ProcessInfo.processInfo.environment["CONVBANK_UPDATE_ENCODER_FIXTURES"] == "1" {
                try Data(bytes).write(to: url)
            }
            let same = try Fixtures.bytes(url) == bytes
            #expect(same, "\(name): the encoder no longer writes the file tifffile checked")
        }
    }

    // MARK: - tiff16: the levels of png16

    /// `map-gray.npy` without its special values (its first seven: −0, a subnormal, ±inf, NaN, 3e38, −1.5e−7), which
    /// would leave `minmax` and `symmetric` one or two levels.
    static func finiteGrayMap() throws -> Tensor {
        let map = try tensor("map-gray.npy")
        return Tensor(height: map.height, width: map.width, channels: 1, storage: [Float](repeating: 0, count: 7) + map.storage.dropFirst(7))
    }

    @Test(arguments: Normalization.allCases)
    func tiff16HoldsThePNG16Levels(_ normalization: Normalization) throws {
        let map = try Self.finiteGrayMap()
        let png16 = try ImageCodec.decode(bytes: try MapEncoder.encode(map, format: .png16, normalization: normalization), path: "png16")
        let tiff = try ReferenceReaders.tiff(try MapEncoder.encode(map, format: .tiff16, normalization: normalization))
        #expect(tiff.bitsPerSample == 16 && tiff.sampleFormat == 1 && tiff.channels == 1 && tiff.photometric == 1)
        #expect(tiff.compression == 8 && tiff.predictor == 2, "Adobe deflate, horizontal differencing")
        #expect(tiff.uint16.map(Float.init) == png16.tensor.storage)
        #expect(Set(tiff.uint16).count > 10, "a map of many levels")
    }

    /// A colour tiff16: interleaved RGB, minmax over all channels together (one range for the whole map).
    @Test func tiff16ColourJointRange() throws {
        let map = try Self.tensor("map-rgb.npy")
        let tiff = try ReferenceReaders.tiff(try MapEncoder.encode(map, format: .tiff16, normalization: .symmetric))
        #expect(tiff.channels == 3 && tiff.photometric == 2 && tiff.planarConfig == 1)
        // Reference: symmetric over the whole (H, W, 3) array, in file order.
        let values = try Self.values("map-rgb.npy")
        #expect(tiff.uint16.map(Int.init) == Normalization.symmetric.levels(values, maximum: 65535))
    }

    // MARK: - jpeg: Pillow's file of the same levels

    struct JPEGCase: Sendable, CustomTestStringConvertible {
        var levels: String, pillow: String, decoded: String, quality: Int?
        var testDescription: String { pillow }
    }

    static let jpegCases = [
        JPEGCase(levels: "levels-gray.npy", pillow: "pillow-gray-q90.jpg", decoded: "pillow-decoded-gray-q90.npy", quality: nil),  // default 90
        JPEGCase(levels: "levels-rgb.npy", pillow: "pillow-rgb-q90.jpg", decoded: "pillow-decoded-rgb-q90.npy", quality: 90),
        JPEGCase(levels: "levels-rgb.npy", pillow: "pillow-rgb-q50.jpg", decoded: "pillow-decoded-rgb-q50.npy", quality: 50),
    ]

    /// Same quality, same libjpeg-turbo defaults: the decoded pixels equal Pillow's (decoded by libjpeg here, by
    /// Pillow in the generator), and the scan data is the same bytes.
    @Test(arguments: jpegCases)
    func jpegMatchesPillow(_ c: JPEGCase) throws {
        let map = try Self.tensor(c.levels)
        let ours = try MapEncoder.encode(map, format: .jpeg, normalization: .clamp, quality: c.quality)
        let pillow = try Fixtures.bytes(Self.folder.appendingPathComponent(c.pillow))
        let identical = ours == pillow
        #expect(identical, "byte-identical to Pillow's file (\(ours.count) against \(pillow.count) bytes)")
        let decoded = try ImageCodec.decode(bytes: ours, path: "ours.jpg")
        #expect(decoded.format == .jpeg && decoded.tensor.channels == map.channels)
        let reference = try Self.tensor(c.decoded)
        let differing = zip(decoded.tensor.storage, reference.storage).filter { $0 != $1 }.count
        #expect(differing == 0, "\(differing) samples differ from Pillow's decoding of Pillow's file")
    }

    /// Baseline (SOF0); gray is one component; colour is three with 4:2:0 sampling (luma 2×2, chroma 1×1).
    @Test func jpegFrameHeader() throws {
        func frame(_ bytes: [UInt8]) -> [UInt8]? {
            var i = 2
            while i + 4 < bytes.count, bytes[i] == 0xFF {
                let length = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
                if (0xC0...0xCF).contains(bytes[i + 1]) && bytes[i + 1] != 0xC4 { return Array(bytes[(i + 1)..<(i + 2 + length)]) }
                i += 2 + length
            }
            return nil
        }
        let gray = try #require(frame(try MapEncoder.encode(try Self.tensor("levels-gray.npy"), format: .jpeg, normalization: .clamp)))
        #expect(gray[0] == 0xC0 && gray[8] == 1, "baseline, one component")
        let rgb = try #require(frame(try MapEncoder.encode(try Self.tensor("levels-rgb.npy"), format: .jpeg, normalization: .clamp)))
        #expect(rgb[0] == 0xC0 && rgb[8] == 3)
        #expect([rgb[10], rgb[13], rgb[16]] == [0x22, 0x11, 0x11], "4:2:0: Y 2×2, Cb and Cr 1×1")
        #expect(Array(rgb[5...6]) == [0, 45] && Array(rgb[3...4]) == [0, 45] || Array(rgb[4...7]) == [0, 45, 0, 61])
    }

    @Test func jpegQualityChangesTheFile() throws {
        let map = try Self.tensor("levels-rgb.npy")
        let q90 = try MapEncoder.encode(map, format: .jpeg, normalization: .clamp, quality: 90)
        #expect(try MapEncoder.encode(map, format: .jpeg, normalization: .clamp) == q90, "default quality is 90")
        let q20 = try MapEncoder.encode(map, format: .jpeg, normalization: .clamp, quality: 20)
        #expect(q20.count < q90.count)
        #expect(try MapEncoder.encode(map, format: .jpeg, normalization: .clamp, quality: 100).count > q90.count)
    }

    // MARK: - webp

    @Test(arguments: ["levels-gray.npy", "levels-rgb.npy"])
    func webpLosslessIsExact(_ name: String) throws {
        let map = try Self.tensor(name)
        let file = try MapEncoder.encode(map, format: .webp, normalization: .clamp)
        #expect(Array(file[0..<4]) == Array("RIFF".utf8) && Array(file[8..<16]) == Array("WEBPVP8L".utf8), "lossless bitstream")
        let decoded = try ReferenceReaders.webp(file)
        #expect(decoded.width == map.width && decoded.height == map.height)
        // Gray is stored as R = G = B.
        let expected = try Self.values(name).flatMap { map.channels == 1 ? [$0, $0, $0] : [$0] }
        #expect(decoded.samples.map(Float.init) == expected)
    }

    /// Lossy at quality 90: within 1 dB of Pillow's lossy WebP of the same levels at the same quality.
    @Test(arguments: ["gray", "rgb"])
    func webpLossyPSNR(_ kind: String) throws {
        let map = try Self.tensor("levels-\(kind).npy")
        let file = try MapEncoder.encode(map, format: .webp, normalization: .clamp, quality: 90)
        #expect(Array(file[8..<16]) == Array("WEBPVP8 ".utf8), "lossy bitstream")
        let decoded = try ReferenceReaders.webp(file)
        let expected = try Self.values("levels-\(kind).npy").flatMap { map.channels == 1 ? [$0, $0, $0] : [$0] }
        let mse = zip(decoded.samples, expected).reduce(0.0) { $0 + pow(Double($1.0) - Double($1.1), 2) } / Double(expected.count)
        let psnr = 10 * log10(255 * 255 / mse)
        let bounds = try Fixtures.json(Self.folder.appendingPathComponent("webp-psnr.json")) as! [String: Any]
        let pillow = try #require(bounds["\(kind)_q90"] as? Double)
        #expect(psnr >= pillow - 1, "PSNR \(psnr) dB against Pillow's \(pillow) dB")
        #expect(psnr < 60, "lossy is not exact here")
        #expect(file.count < (try MapEncoder.encode(map, format: .webp, normalization: .clamp)).count, "smaller than lossless")
    }

    /// Four channels keep their alpha in WebP and TIFF; JPEG ignores it.
    @Test func fourChannels() throws {
        var random = SeededRandom(seed: 3)
        let samples = (0..<(9 * 7 * 4)).map { _ in UInt8(random.next() % 256) }
        let webp = try ReferenceReaders.webp(try ImageCodec.encodeWebP(samples, width: 9, height: 7, channels: 4), alpha: true)
        #expect(webp.samples == samples)
        let tiff = try ReferenceReaders.tiff(try ImageCodec.encodeTIFF(uint16: samples.map { UInt16($0) * 250 }, width: 9, height: 7, channels: 4))
        #expect(tiff.extraSamples == 1 && tiff.channels == 4 && tiff.uint16 == samples.map { UInt16($0) * 250 })
        let rgb = (0..<(9 * 7)).flatMap { p in samples[(4 * p)..<(4 * p + 3)] }
        #expect(try ImageCodec.encodeJPEG(samples, width: 9, height: 7, channels: 4) == ImageCodec.encodeJPEG(Array(rgb), width: 9, height: 7, channels: 3))
    }

    // MARK: - errors: a status and a message, never a crash

    @Test func encoderLimitsAreErrors() throws {
        let wide = [UInt8](repeating: 9, count: 70000)
        #expect {
            try ImageCodec.encodeJPEG(wide, width: 70000, height: 1, channels: 1, path: "out/wide.jpg")
        } throws: { error in
            let e = error as! ImageCodecError
            return e.kind == .unwritable && e.description.contains("out/wide.jpg") && e.description.contains("65500")
        }
        #expect {
            try ImageCodec.encodeWebP(wide, width: 70000, height: 1, channels: 1, path: "out/wide.webp")
        } throws: { error in
            (error as! ImageCodecError).description.contains("16383")
        }
        #expect(throws: ImageCodecError.self) { try ImageCodec.encodeJPEG([1, 2], width: 1, height: 1, channels: 2) }
    }
}
