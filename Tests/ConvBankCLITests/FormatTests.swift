import ConvBankBatch
import ConvBankEngine
import ConvBankImageIO
import ConvBankPictures
import ConvBankTestSupport
import Foundation
import Testing

/// `--format png|png16|npy` and `--normalize clamp|minmax|abs|symmetric` on a map small enough to work out.
///
/// Input (2×3, 8-bit gray) `[[0, 41, 100], [200, 255, 128]]`, one 1×1 filter of weight 1.5 and bias −20:
/// the map is `1.5·v − 20` = `[−20, 41.5, 130, 280, 362.5, 172]` (all exact in `Float`).
@Suite("Formats and normalization")
struct FormatTests {
    static let input = [[0, 41, 100], [200, 255, 128]]
    static let bank = TestBank.single(name: "lin", weights: [[[1.5]]], bias: -20)
    static let map: [Float] = [-20, 41.5, 130, 280, 362.5, 172]

    struct Case: Sendable, CustomTestStringConvertible {
        var format: String, normalize: String, expected: [Float]
        var testDescription: String { "\(format) \(normalize)" }
    }

    static let cases: [Case] = [
        // clamp: round half away from zero, clip to [0, max]: 41.5 → 42, 362.5 → 255 / 363.
        Case(format: "png", normalize: "clamp", expected: [0, 42, 130, 255, 255, 172]),
        Case(format: "png16", normalize: "clamp", expected: [0, 42, 130, 280, 363, 172]),
        // abs: |−20| = 20, then as clamp.
        Case(format: "png", normalize: "abs", expected: [20, 42, 130, 255, 255, 172]),
        Case(format: "png16", normalize: "abs", expected: [20, 42, 130, 280, 363, 172]),
        // minmax: (v + 20) · max / 382.5; for 8 bits that is (v + 20) · 2/3, which gives the input back,
        // and for 16 bits the input · 257 (65535 / 255).
        Case(format: "png", normalize: "minmax", expected: [0, 41, 100, 200, 255, 128]),
        Case(format: "png16", normalize: "minmax", expected: [0, 41 * 257, 100 * 257, 200 * 257, 65535, 128 * 257]),
        // symmetric: (v / 725 + ½) · max, max|v| = 362.5:
        // 8 bits:  −20 → 127.5 − 7.03 = 120.47 → 120; 41.5 → 127.5 + 14.60 → 142; 130 → 127.5 + 45.72 → 173;
        //          280 → 127.5 + 98.48 → 226; 362.5 → 255; 172 → 127.5 + 60.50 = 187.997 → 188.
        Case(format: "png", normalize: "symmetric", expected: [120, 142, 173, 226, 255, 188]),
        // 16 bits: 32767.5 + v · 65535 / 725 = 32767.5 + 90.393·v: 30959.64, 36518.8, 44518.6, 58077.6, 65535, 48315.1.
        Case(format: "png16", normalize: "symmetric", expected: [30960, 36519, 44519, 58078, 65535, 48315]),
    ]

    @Test(arguments: cases)
    func pngLevels(_ c: Case) throws {
        try withTemporaryFolder { dir in
            let image = try dir.write("m.png", TestPNG.gray8(Self.input)).path
            let bank = try dir.write("b.json", text: Self.bank).path
            let out = dir.file("out")
            let r = try CLI.run(["apply", image, "--bank", bank, "--output", out.path, "--format", c.format, "--normalize", c.normalize])
            #expect(r.status == 0, "\(r)")
            #expect(filesUnder(out) == ["m/lin.png"])
            let decoded = try ImageCodec.decode(path: out.appendingPathComponent("m/lin.png").path)
            #expect(decoded.format == .png)
            #expect(decoded.bitDepth == (c.format == "png" ? 8 : 16))
            #expect(decoded.tensor.channels == 1 && decoded.tensor.height == 2 && decoded.tensor.width == 3)
            #expect(decoded.tensor.storage == c.expected)
        }
    }

    @Test func defaultIsEightBitClamp() throws {
        try withTemporaryFolder { dir in
            let image = try dir.write("m.png", TestPNG.gray8(Self.input)).path
            let bank = try dir.write("b.json", text: Self.bank).path
            let out = dir.file("out")
            let r = try CLI.run(["apply", image, "--bank", bank, "--output", out.path])
            #expect(r.status == 0, "\(r)")
            let decoded = try ImageCodec.decode(path: out.appendingPathComponent("m/lin.png").path)
            #expect(decoded.bitDepth == 8)
            #expect(decoded.tensor.storage == [0, 42, 130, 255, 255, 172])
        }
    }

    /// npy holds the values before any normalization, whatever `--normalize` says.
    @Test(arguments: ["clamp", "minmax", "abs", "symmetric"])
    func npyIsRaw(_ normalize: String) throws {
        try withTemporaryFolder { dir in
            let image = try dir.write("m.png", TestPNG.gray8(Self.input)).path
            let bank = try dir.write("b.json", text: Self.bank).path
            let out = dir.file("out")
            let r = try CLI.run(["apply", image, "--bank", bank, "--output", out.path, "--format", "npy", "--normalize", normalize])
            #expect(r.status == 0, "\(r)")
            #expect(filesUnder(out) == ["m/lin.npy"])
            let raw = try bytes(of: out.appendingPathComponent("m/lin.npy"))
            let npy = try Float32NPY(bytes: raw, rank: 2)
            #expect(npy.shape == [2, 3])
            #expect(npy.values == Self.map)
            // The header as NumPy 1.0 writes it: 10 bytes of preamble + 59 of dict + a newline = 70, so padded
            // with spaces to 128 (a multiple of 64), then 6 float32 values.
            let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
            #expect(Array(raw[8..<10]) == [118, 0])  // header length 128 − 10, little-endian
            #expect(String(decoding: raw[10..<128], as: UTF8.self) == dict + String(repeating: " ", count: 128 - 10 - 59 - 1) + "\n")
            #expect(raw.count == 128 + 6 * 4)
        }
    }

    /// A constant map: minmax gives 0, symmetric gives v/(2v) + ½ = 1 → white; an all-zero map is mid-gray.
    @Test func constantMaps() throws {
        try withTemporaryFolder { dir in
            let image = try dir.write("c.png", TestPNG.gray8([[50, 50], [50, 50]])).path
            let zero = try dir.write("z.png", TestPNG.gray8([[0, 0], [0, 0]])).path
            let bank = try dir.write("b.json", text: TestBank.single(name: "id", weights: [[[1]]])).path
            func levels(_ normalize: String, _ format: String = "png") throws -> [String: [Float]] {
                let out = dir.file("out-\(normalize)-\(format)")
                let r = try CLI.run(["apply", image, zero, "--bank", bank, "--output", out.path, "--normalize", normalize, "--format", format])
                #expect(r.status == 0, "\(r)")
                return [
                    "c": try ImageCodec.decode(path: out.appendingPathComponent("c/id.png").path).tensor.storage,
                    "z": try ImageCodec.decode(path: out.appendingPathComponent("z/id.png").path).tensor.storage,
                ]
            }
            #expect(try levels("minmax") == ["c": [0, 0, 0, 0], "z": [0, 0, 0, 0]])
            // ½ · 255 = 127.5 rounds away from zero to 128; ½ · 65535 = 32767.5 → 32768.
            #expect(try levels("symmetric") == ["c": [255, 255, 255, 255], "z": [128, 128, 128, 128]])
            #expect(try levels("symmetric", "png16") == ["c": [65535, 65535, 65535, 65535], "z": [32768, 32768, 32768, 32768]])
            #expect(try levels("clamp") == ["c": [50, 50, 50, 50], "z": [0, 0, 0, 0]])
        }
    }
}
