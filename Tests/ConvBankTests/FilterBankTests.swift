import ConvBankTestSupport
import Foundation
import Testing
@testable import ConvBankBatch
@testable import ConvBankEngine
@testable import ConvBankImageIO
@testable import ConvBankPictures

private func load(_ text: String) throws(BankError) -> FilterBank { try FilterBank(json: Array(text.utf8), source: "b.json") }

/// The error text for a bank, or nil if it loads.
private func problem(_ text: String) -> String? {
    do { _ = try load(text); return nil } catch { return error.description }
}

@Suite struct FilterBankTests {
    /// The three forms decode to the same canonical filters: w[f][c][i][j] = 1000f + 100c + 10i + j.
    @Test func threeFormsAgree() throws {
        let (F, C, kh, kw) = (2, 3, 2, 3)
        func w(_ f: Int, _ c: Int, _ i: Int, _ j: Int) -> Int { 1000 * f + 100 * c + 10 * i + j }
        let perFilter = "{\"stride\": [2, 1], \"padding\": [1, 0, 2, 0], \"padding_mode\": \"circular\", \"activation\": \"relu\", \"filters\": [" + (0..<F).map { f in
            "{\"name\": \"f\(f)\", \"bias\": \(f + 1), \"weights\": [" + (0..<C).map { c in "[" + (0..<kh).map { i in "[" + (0..<kw).map { j in "\(w(f, c, i, j))" }.joined(separator: ",") + "]" }.joined(separator: ",") + "]" }.joined(separator: ",") + "]}"
        }.joined(separator: ",") + "]}"
        let hwio = "{\"layout\": \"HWIO\", \"stride\": [2, 1], \"padding\": [1, 0, 2, 0], \"padding_mode\": \"circular\", \"activation\": \"relu\", \"kernel\": [" + (0..<kh).map { i in "[" + (0..<kw).map { j in "[" + (0..<C).map { c in "[" + (0..<F).map { f in "\(w(f, c, i, j))" }.joined(separator: ",") + "]" }.joined(separator: ",") + "]" }.joined(separator: ",") + "]" }.joined(separator: ",") + "], \"bias\": [1, 2]}"
        let oihw = "{\"layout\": \"OIHW\", \"stride\": [2, 1], \"padding\": [1, 0, 2, 0], \"padding_mode\": \"circular\", \"activation\": \"relu\", \"weight\": [" + (0..<F).map { f in "[" + (0..<C).map { c in "[" + (0..<kh).map { i in "[" + (0..<kw).map { j in "\(w(f, c, i, j))" }.joined(separator: ",") + "]" }.joined(separator: ",") + "]" }.joined(separator: ",") + "]" }.joined(separator: ",") + "], \"bias\": [1, 2], \"names\": [\"f0\", \"f1\"]}"
        let a = try load(perFilter), b = try load(hwio), c = try load(oihw)
        #expect(a.filters == b.filters && b.filters == c.filters)
        #expect(a.stride == Extent2D(height: 2, width: 1) && a.padding == .explicit(EdgeInsets(top: 1, bottom: 0, left: 2, right: 0)))
        #expect(a.paddingMode == .circular && a.activation == .relu)
        #expect(a.filters[1][2, 1, 2] == Float(w(1, 2, 1, 2)))
        #expect(a.parameterCount == F * (kh * kw * C + 1))
    }

    /// A 64-filter 7×7×3 first layer has 64·(7·7·3 + 1) = 9472 parameters, as Keras reports.
    @Test func kerasParameterCount() throws {
        let kernel = Array(repeating: Array(repeating: Array(repeating: Array(repeating: "0.5", count: 64), count: 3), count: 7), count: 7)
        let text = "{\"layout\": \"HWIO\", \"kernel\": " + "[" + kernel.map { r in "[" + r.map { c in "[" + c.map { "[" + $0.joined(separator: ",") + "]" }.joined(separator: ",") + "]" }.joined(separator: ",") + "]" }.joined(separator: ",") + "]" + "}"
        let bank = try load(text)
        #expect(bank.filters.count == 64 && bank.parameterCount == 9472)
        #expect(bank.filters[3].name == "f3" && bank.filters[0].bias == 0)
    }

    @Test func defaultsAreKeras() throws {
        let bank = try load("{\"filters\": [{\"weights\": [[1, 2], [3, 4]]}]}")
        #expect(bank.stride == Extent2D(1) && bank.dilation == Extent2D(1) && bank.padding == .valid)
        #expect(bank.paddingMode == .zeros && bank.activation == .linear)
        #expect(bank.channels == 1 && bank.filters[0].name == "f0")
    }

    /// Each bad bank names the JSON path of the problem.
    @Test(arguments: [
        ("{\"filters\": [{\"weights\": [[[1,2],[3,4]]]}, {\"weights\": [[[1,2],[3,4]],[[1,2],[3,4]]]}]}", "filters[1].weights: expected 1 channel"),
        ("{\"filters\": [{\"weights\": [[[1,2],[3]]]}]}", "filters[0].weights[0][1]: ragged array"),
        ("{\"filters\": [{\"weights\": [[[1,2],[3,\"x\"]]]}]}", "filters[0].weights[0][1][1]: expected a number"),
        ("{\"filters\": [{\"weights\": [[[1,2],[3,true]]]}]}", "filters[0].weights[0][1][1]: expected a number, found a boolean"),
        ("{\"filters\": [{\"weights\": [[[1,2],[3,NaN]]]}]}", "NaN"),
        ("{\"filters\": [{\"weights\": [[[1,2],[3,Infinity]]]}]}", "Infinity"),
        ("{\"filters\": [{\"weights\": [[[1,2],[3,1e39]]]}]}", "filters[0].weights[0][1][1]: 1e+39 is outside the range"),
        ("{\"stride\": 0, \"filters\": [{\"weights\": [[1]]}]}", "stride: must be at least 1"),
        ("{\"dilation\": [1, -2], \"filters\": [{\"weights\": [[1]]}]}", "dilation[1]: must be at least 1"),
        ("{\"padding\": [1, 1, -1, 0], \"filters\": [{\"weights\": [[1]]}]}", "padding[2]: must be at least 0"),
        ("{\"padding\": \"full\", \"filters\": [{\"weights\": [[1]]}]}", "padding: expected"),
        ("{\"padding_mode\": \"mirror\", \"filters\": [{\"weights\": [[1]]}]}", "padding_mode: unknown padding mode"),
        ("{\"activation\": \"swishy\", \"filters\": [{\"weights\": [[1]]}]}", "activation: unknown activation"),
        ("{\"filters\": []}", "filters: a bank needs at least one filter"),
        ("{\"filters\": [{\"name\": \"a\", \"weights\": [[1]]}, {\"name\": \"a\", \"weights\": [[1]]}]}", "filters[1].name: duplicate filter name"),
        ("{\"filters\": [{\"name\": \"../x\", \"weights\": [[1]]}]}", "filters[0].name"),
        ("{\"filters\": [{\"weights\": [[1]]}], \"strdie\": 2}", "strdie: unknown key"),
        ("{\"layout\": \"HWIO\", \"kernel\": [[[[1, 2]]]], \"bias\": [1]}", "bias: expected 2 values"),
        ("{\"layout\": \"OIHW\", \"weight\": [[[[1, 2]]], [[[1]]]]}", "weight[1][0][0]: ragged array"),
        ("{\"layout\": \"NCHW\", \"weight\": [[[[1]]]]}", "layout: unknown layout"),
        ("{\"filters\": [{\"weights\": [[1]]}]", "invalid JSON at line 1"),
        ("[1, 2]", "a bank is a JSON object"),
        ("{\"filters\": [{\"weights\": []}]}", "filters[0].weights: empty array"),
    ])
    func refusals(_ text: String, _ expected: String) {
        let message = problem(text)
        #expect(message != nil, "accepted: \(text)")
        #expect(message?.contains(expected) == true, "\(message ?? "-") lacks \(expected)")
        #expect(message?.hasPrefix("bank 'b.json': ") == true)
    }

    @Test func deepNestingIsRefusedNotACrash() {
        let text = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(problem(text)?.contains("nested deeper") == true)
    }

    /// `banks NAME` JSON reads back to the same bank.
    @Test func jsonTextRoundTrips() throws {
        var rng = SeededRandom(seed: 1)
        let filters = (0..<3).map { f in
            Filter(name: "f\(f) \"q\"", kernel: Extent2D(height: 2, width: 3), channels: 2,
                   weights: (0..<12).map { _ in Float.random(in: -3...3, using: &rng) }, bias: Float.random(in: -1...1, using: &rng))
        }
        let bank = FilterBank(name: "rt", filters: filters, stride: Extent2D(height: 1, width: 2), dilation: Extent2D(2),
                              padding: .explicit(EdgeInsets(top: 1, bottom: 2, left: 3, right: 4)), paddingMode: .replicate,
                              activation: .gelu, summary: "a test")
        #expect(try load(bank.jsonText) == bank)
        for builtin in BuiltinBank.all { #expect(try load(builtin.jsonText) == builtin) }
    }

    @Test func loadsBuiltinsByName() throws {
        #expect(try FilterBank.load("edges").filters.count == 8)
        #expect(try FilterBank.load("EDGES").name == "edges")
        #expect(throws: BankError.unknownBuiltin("nope", known: BuiltinBank.all.map(\.name))) { try FilterBank.load("nope") }
        #expect(throws: BankError.self) { try FilterBank.load("missing/bank.json") }
    }

    @Test func summaryTable() throws {
        let bank = try load("{\"padding\": \"same\", \"stride\": 2, \"filters\": [{\"name\": \"ones\", \"weights\": [[[1,1],[1,1]],[[1,1],[1,1]],[[1,1],[1,1]]]}]}")
        let text = try bank.summary(input: Extent2D(height: 6, width: 5))
        #expect(text.contains("Total params: 13"))
        #expect(text.contains("3×3"))  // ceil(6/2) × ceil(5/2)
        #expect(text.contains("0,0,0,1"))  // H: total (3−1)·2+2−6 = 0; W: (3−1)·2+2−5 = 1 → 0/1
        #expect(text.contains("Multiply-adds per image: 108"))  // 3·3 outputs · 12 taps
    }
}

@Suite struct OutputTests {
    @Test func normalizations() {
        let v: [Float] = [-300, -0.5, 0.5, 1.5, 254.5, 400]
        #expect(Normalization.clamp.levels(v, maximum: 255) == [0, 0, 1, 2, 255, 255])
        #expect(Normalization.abs.levels(v, maximum: 255) == [255, 1, 1, 2, 255, 255])
        // minmax: (v + 300) / 700 · 255
        #expect(Normalization.minmax.levels([-300, 50, 400], maximum: 255) == [0, 128, 255])  // 127.5 → 128
        #expect(Normalization.minmax.levels([3, 3], maximum: 255) == [0, 0])
        // symmetric: v / (2 · 400) + ½ → −300 → 0.125·255 = 31.875 → 32; 400 → 255; 0 → 127.5 → 128
        #expect(Normalization.symmetric.levels([-300, 0, 400], maximum: 255) == [32, 128, 255])
        #expect(Normalization.symmetric.levels([0, 0], maximum: 65535) == [32768, 32768])
        #expect(Normalization.clamp.levels([70000, 65534.5], maximum: 65535) == [65535, 65535])
    }

    /// The NumPy 1.0 header, byte for byte as `numpy.save` writes it for a (2, 3) float32 array.
    @Test func npyHeader() throws {
        let map = Tensor(height: 2, width: 3, channels: 1, storage: [0, 1, -2.5, 3, 4, 1e-3])
        let bytes = MapEncoder.npy(map)
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
        #expect(Array(bytes[0..<10]) == [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, 118, 0])
        #expect(String(decoding: bytes[10..<(10 + header.utf8.count)], as: UTF8.self) == header)
        #expect(bytes[127] == 0x0A && (bytes.count - 128) == 24)
        let back = try Float32NPY(bytes: bytes)
        #expect(back.shape == [2, 3] && back.values == map.storage)
    }

    @Test func atomicWriteLeavesNoTemporary() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cb-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("a/b/c.bin").path
        try AtomicFile.write([1, 2, 3], to: path)
        try AtomicFile.write([4, 5], to: path)
        #expect(try Fixtures.bytes(URL(fileURLWithPath: path)) == [4, 5])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("a/b").path) == ["c.bin"])
        // A folder where the file's parent should be: an error naming the path, nothing left behind.
        #expect(throws: ImageCodecError.self) { try AtomicFile.write([1], to: path + "/x") }
    }
}
