import ConvBankTestSupport
import Foundation
import Testing
@testable import ConvBankEngine
@testable import ConvBankImageIO

/// `.npz` and `.safetensors` weight files as NumPy and the safetensors library write them, and hostile ones
/// (`scripts/make_reader_fixtures.py`): every kernel imported equals the canonical weights NumPy's transposes give.
@Suite struct WeightFileTests {
    static let dir = Fixtures.root.appendingPathComponent("readers")

    static func file(_ name: String) throws -> WeightFile {
        try WeightFile(bytes: Fixtures.bytes(dir.appendingPathComponent(name)), path: name)
    }

    static func bytes(_ name: String) throws -> [UInt8] { try Fixtures.bytes(dir.appendingPathComponent(name)) }

    /// The reason a file is refused for, or a test failure if it is read.
    static func refusal(_ bytes: [UInt8], _ path: String = "x.npz") -> String {
        do {
            _ = try WeightFile(bytes: bytes, path: path)
            Issue.record("'\(path)' was read")
            return ""
        } catch {
            #expect(error.description.hasPrefix("cannot read '\(path)': "))
            #expect(!error.description.contains("\n"))
            return error.reason
        }
    }

    static var expected: [String: [String: [String: Any]]] {
        try! Fixtures.json(dir.appendingPathComponent("expected.json")) as! [String: [String: [String: Any]]]
    }

    /// "FILE LAYER" for every kernel the generator wrote expected weights for.
    static var layers: [String] { expected.keys.sorted().flatMap { f in expected[f]!.keys.sorted().map { "\(f) \($0)" } } }

    @Test(arguments: layers)
    func kernelEqualsNumPy(_ key: String) throws {
        let parts = key.split(separator: " ").map(String.init)
        let e = Self.expected[parts[0]]![parts[1]]!
        let file = try Self.file(parts[0])
        let (bank, chosen) = try file.bank(layer: parts[1], layout: nil, names: nil, bankName: "b", source: parts[0])
        #expect(chosen.layout == e["layout"] as? String)
        let weights = e["weights"] as! [[[[Double]]]]
        let bias = e["bias"] as? [Double]
        #expect(bank.filters.count == weights.count)
        #expect(bank.filters.map(\.name) == (0..<weights.count).map { "f\($0)" })
        #expect(bank.stride == Extent2D(height: 1, width: 1) && bank.padding == .valid)
        #expect(bank.groups == (e["groups"] as? Int ?? 1))
        for (f, filter) in bank.filters.enumerated() {
            #expect(filter.bias == Float(bias?[f] ?? 0))
            #expect(filter.channels == weights[f].count)
            for c in 0..<filter.channels {
                for i in 0..<filter.kernel.height {
                    for j in 0..<filter.kernel.width { #expect(filter[c, i, j] == Float(weights[f][c][i][j])) }
                }
            }
        }
    }

    @Test func arraysByNameInFileOrder() throws {
        let keras = try Self.file("keras.npz")
        #expect(keras.format == .npz)
        #expect(keras.entries.map(\.name) == ["conv2d/kernel", "conv2d/bias", "conv2d_1/kernel", "conv2d_1/bias", "dense/kernel", "dense/bias"])
        #expect(keras["dense/kernel"]?.shape == [8, 3] && keras["dense/kernel"]?.values.allSatisfy { $0 == 1 } == true)
        #expect(keras.convolutions().map(\.name) == ["conv2d/kernel", "conv2d_1/kernel"])
        #expect(keras.convolutions().map(\.bias) == ["conv2d/bias", "conv2d_1/bias"])
        let torch = try Self.file("torch.npz")
        #expect(torch.convolutions().map(\.bias) == ["conv1.bias", nil])
        let st = try Self.file("torch.safetensors")
        #expect(st.format == .safetensors)
        #expect(Set(st.entries.map(\.name)) == ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "bn.running_mean", "step"])
        #expect(st["step"] == NPYArray(shape: [], values: [7]))
        #expect(st.convolutions().map(\.name).sorted() == ["conv1.weight", "conv2.weight"])
        let dims = try #require(st.convolutions().first { $0.name == "conv1.weight" }?.dimensions)
        #expect(dims.filters == 4 && dims.channels == 3 && dims.height == 3 && dims.width == 2)
    }

    @Test func withoutLayer() throws {
        let (bank, chosen) = try Self.file("single.safetensors").bank(layer: nil, layout: nil, names: nil, bankName: "b", source: "s")
        #expect(chosen.name == "w" && chosen.layout == "HWIO" && chosen.layoutSource == "shape" && bank.filters.count == 2)
        #expect(throws: WeightFile.LayerError.self) { try Self.file("keras.npz").bank(layer: nil, layout: nil, names: nil, bankName: "b", source: "k") }
        #expect(throws: WeightFile.LayerError.self) { try Self.file("keras.npz").bank(layer: "dense/kernel", layout: nil, names: nil, bankName: "b", source: "k") }
        #expect(throws: WeightFile.LayerError.self) { try Self.file("keras.npz").bank(layer: "nope", layout: nil, names: nil, bankName: "b", source: "k") }
        // Forcing the other layout reads the same numbers another way: (3, 3, 3, 4) as OIHW is 3 filters 3×4×3.
        let (forced, _) = try Self.file("keras.npz").bank(layer: "conv2d/kernel", layout: "OIHW", names: nil, bankName: "b", source: "k")
        #expect(forced.filters.count == 3 && forced.channels == 3 && forced.filters[0].kernel == Extent2D(height: 3, width: 4))
    }

    @Test func layoutAndBiasNaming() {
        #expect(WeightFile.inferLayout(name: "conv2d/kernel:0", shape: [3, 3, 3, 8]) == ("HWIO", "name"))
        #expect(WeightFile.inferLayout(name: "block1_conv1/depthwise_kernel", shape: [3, 3, 3, 1]) == ("HWCM", "name"))
        #expect(WeightFile.inferLayout(name: "features.0.weight", shape: [64, 3, 3, 3]) == ("OIHW", "name"))
        #expect(WeightFile.inferLayout(name: "w", shape: [3, 3, 1, 2]) == ("HWIO", "shape"))
        #expect(try! Self.file("depthwise.npz").convolutions().map(\.bias) == ["depthwise_conv2d/bias"])
        #expect(WeightFile.inferLayout(name: "w", shape: [8, 1, 5, 5]) == ("OIHW", "shape"))
        #expect(WeightFile.inferLayout(name: "w", shape: [3, 3, 3, 3]) == (nil, ""))
        #expect(WeightFile.biasName(for: "conv1.weight") == "conv1.bias")
        #expect(WeightFile.biasName(for: "model/conv2d/kernel:0") == "model/conv2d/bias:0")
        #expect(WeightFile.biasName(for: "dw/depthwise_kernel") == "dw/bias")
        #expect(WeightFile.biasName(for: "conv1.weight_v") == nil)
    }

    // MARK: - Hostile files

    @Test func hostileFixtures() throws {
        // The bomb costs its declared 1,000 bytes, not its 16 MiB: 1,000 refusals take milliseconds (inflating 16 MiB
        // a thousand times would take seconds).
        let bomb = try Self.bytes("bomb.npz")
        let start = ContinuousClock.now
        for _ in 0..<1000 { #expect(Self.refusal(bomb).contains("member 'a.npy': inflates past its declared 1000 bytes")) }
        #expect(ContinuousClock.now - start < .seconds(1), "1000 refusals of the bomb took \(ContinuousClock.now - start)")
        #expect(Self.refusal(try Self.bytes("overlap.npz")).contains("overlap"))
        #expect(Self.refusal(try Self.bytes("huge.npz")).contains("more than 256 MiB"))
        #expect(Self.refusal(try Self.bytes("huge_shape.safetensors"), "h.safetensors").contains("too large"))
        #expect(Self.refusal(try Self.bytes("offsets.safetensors"), "o.safetensors").contains("lie outside the 16 bytes"))
        #expect(Self.refusal(try Self.bytes("overlap.safetensors"), "o.safetensors").contains("overlap another tensor"))
    }

    /// Found by fuzz/swift/readers.sh: a member name holding a control character made a two-line error.
    @Test func controlCharactersInNamesStayOneLine() throws {
        let why = Self.refusal(try Self.bytes("fuzz_control_name.npz"))
        #expect(!why.isEmpty && !why.contains("\n") && !why.unicodeScalars.contains { $0.value < 0x20 }, "\(why)")
    }

    /// Offsets of the first central-directory entry of a zip.
    static func centralEntry(_ zip: [UInt8]) -> Int {
        var at = zip.count - 22
        while !(zip[at] == 0x50 && zip[at + 1] == 0x4B && zip[at + 2] == 5 && zip[at + 3] == 6) { at -= 1 }
        return Int(zip[at + 16]) | Int(zip[at + 17]) << 8 | Int(zip[at + 18]) << 16 | Int(zip[at + 19]) << 24
    }

    @Test func damagedZips() throws {
        let good = try Self.bytes("torch.npz")
        let cd = Self.centralEntry(good)
        func patched(_ at: Int, _ values: [UInt8]) -> [UInt8] {
            var b = good
            for (i, v) in values.enumerated() { b[at + i] = v }
            return b
        }
        // Declared 200 MiB from 529 compressed bytes: more than deflate's 1032:1, refused before allocating.
        #expect(Self.refusal(patched(cd + 24, [0, 0, 0x80, 0x0C])).contains("more than deflate can give"))
        #expect(Self.refusal(patched(cd + 24, [0x10, 0, 0, 0])).contains("inflates past its declared 16 bytes"))
        #expect(Self.refusal(patched(cd + 24, [0x00, 0x10, 0, 0])).contains("fewer than its declared 4096"))
        #expect(Self.refusal(patched(cd + 16, [1, 2, 3, 4])).contains("CRC mismatch"))
        #expect(Self.refusal(patched(cd + 10, [12, 0])).contains("compression method 12"))
        #expect(Self.refusal(patched(cd + 8, [1, 0])).contains("encrypted"))
        #expect(Self.refusal(patched(cd + 42, [0xF0, 0xFF, 0, 0])).contains("no local header"))
        #expect(Self.refusal(patched(cd, [0, 0])).contains("central directory entry 0"))
        #expect(Self.refusal(Array(good.prefix(good.count - 10))).contains("end-of-directory"))
        #expect(Self.refusal(Array(good.prefix(40))).contains("end-of-directory"))
        // Deflate data damaged: a block type of 3 is invalid.
        let data = 30 + Int(good[26]) + Int(good[28])
        #expect(Self.refusal(patched(data, [0x07])).contains("corrupt deflate data"))
        #expect(Self.refusal(Array("PK\u{5}\u{6}".utf8) + [UInt8](repeating: 0, count: 18)).contains("no .npy members"))
    }

    @Test func damagedSafetensors() throws {
        let good = try Self.bytes("torch.safetensors")
        func with(header: String, data: [UInt8] = [0, 0, 0, 0]) -> [UInt8] {
            let h = Array(header.utf8)
            var n = UInt64(h.count)
            return (0..<8).map { _ in defer { n >>= 8 }; return UInt8(n & 0xFF) } + h + data
        }
        #expect(Self.refusal(Array(good.prefix(5)), "t.safetensors").contains("truncated safetensors"))
        #expect(Self.refusal(Array(good.prefix(100)), "t.safetensors").contains("runs past the end of the file"))
        #expect(Self.refusal([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, UInt8(ascii: "{")], "t.safetensors").contains("limit"))
        #expect(Self.refusal(with(header: "{\"a\": [1,"), "t.safetensors").contains("invalid JSON"))
        #expect(Self.refusal(with(header: "[1]", data: []), "t.safetensors").contains("not an object"))
        #expect(Self.refusal(with(header: String(repeating: "[", count: 5000)), "t.safetensors").contains("invalid JSON"))
        let cases: [(String, String)] = [
            (#"{"w": {"dtype": "F8_E4M3", "shape": [4], "data_offsets": [0, 4]}}"#, "F8_E4M3 is not supported"),
            (#"{"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}"#, "not a non-negative integer"),
            (#"{"w": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}"#, "not a non-negative integer"),
            (#"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}"#, "needs 8"),
            (#"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}}"#, "lie outside"),
            (#"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 1e300]}}"#, "not a pair"),
            (#"{"w": {"dtype": "F32", "shape": [1]}}"#, "data_offsets"),
            (#"{"w": {"shape": [1], "data_offsets": [0, 4]}}"#, "dtype"),
            (#"{"w": 3}"#, "dtype"),
            (#"{"w": {"dtype": "F16", "shape": [1], "data_offsets": [2, 4]}}"#, "gap"),
            (#"{"w": {"dtype": "F16", "shape": [1], "data_offsets": [0, 2]}}"#, "2 bytes of data after"),
            (#"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}"#, "duplicate key"),
        ]
        for (header, reason) in cases {
            let why = Self.refusal(with(header: header), "t.safetensors")
            #expect(why.contains(reason), "\(header): \(why)")
        }
        // Zero-sized tensors and metadata are fine.
        let ok = try WeightFile(bytes: with(header: #"{"__metadata__": {"a": "b"}, "e": {"dtype": "F32", "shape": [0, 3], "data_offsets": [0, 0]}, "w": {"dtype": "I32", "shape": [], "data_offsets": [0, 4]}}"#, data: [0xFE, 0xFF, 0xFF, 0xFF]), path: "t")
        #expect(ok["e"]?.shape == [0, 3] && ok["w"] == NPYArray(shape: [], values: [-2]))
    }

    @Test func otherFormatsNamed() throws {
        #expect(Self.refusal([0x89] + Array("HDF\r\n".utf8) + [0x1A, 0x0A, 0, 0], "m.h5").contains("HDF5"))
        #expect(Self.refusal(Array("hello world".utf8), "m.onnx").contains("not a weight file"))
        #expect(Self.refusal([], "m.safetensors").contains("truncated safetensors"))
    }

    /// Every prefix of each valid file and 3,000 seeded byte flips are read or refused with a `FormatError`, never a
    /// trap (as `FormatDecodeTests` does for images); `make fuzz` widens it (`CONVBANK_READER_FLIPS`).
    @Test func prefixesAndFlipsNeverTrap() throws {
        let flips = ProcessInfo.processInfo.environment["CONVBANK_READER_FLIPS"].flatMap { Int($0) } ?? 3000
        var rng = SeededRandom(seed: ProcessInfo.processInfo.environment["CONVBANK_READER_SEED"].flatMap { UInt64($0) } ?? 1313)
        let names = ["keras.npz", "torch.npz", "torch.safetensors", "bf16.safetensors", "single.safetensors"]
        let files = try names.map { try Self.bytes($0) }
        func attempt(_ bytes: [UInt8], _ path: String) {
            do {
                let file = try WeightFile(bytes: bytes, path: path)
                for k in file.convolutions() { _ = try? file.bank(layer: k.name, layout: nil, names: nil, bankName: "b", source: path) }
            } catch {
                #expect(!error.reason.isEmpty)
            }
        }
        for (name, bytes) in zip(names, files) {
            for n in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 300)) { attempt(Array(bytes.prefix(n)), name) }
        }
        for _ in 0..<flips {
            let which = rng.below(files.count)
            var bytes = files[which]
            for _ in 0..<rng.int(1...4) {
                let at = rng.below(bytes.count)
                bytes[at] = rng.chance(0.5) ? UInt8(truncatingIfNeeded: rng.next()) : bytes[at] ^ (1 << UInt8(rng.below(8)))
            }
            attempt(bytes, names[which])
        }
    }
}
