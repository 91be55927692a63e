import ConvBankTestSupport
import Foundation
import Testing
@testable import ConvBankEngine
@testable import ConvBankImageIO

/// The ONNX reader of `convbank import` against onnxruntime: models built with `onnx.helper` and run by onnxruntime
/// in `scripts/make_onnx_goldens.py`, committed under `Fixtures/onnx/` — every runnable node's output, where the chain
/// stops and why, the convolutions listed, and malformed files as one-line errors.
@Suite struct ONNXImportTests {
    static var folder: URL { Fixtures.root.appendingPathComponent("onnx") }

    struct Golden: Sendable { var name: String, golden: String, shape: [Int] }
    struct ModelCase: Sendable, CustomTestStringConvertible {
        var file: String, names: [String], layers: [Golden], stop: [String: String]?, convolutions: [(name: String, shape: [Int])]
        var testDescription: String { file }
    }

    static var root: [String: Any] { (try? Fixtures.json(folder.appendingPathComponent("cases.json")) as? [String: Any]) ?? [:] }

    static let cases: [ModelCase] = ((root["models"] as? [[String: Any]]) ?? []).map { m in
        ModelCase(file: m["file"] as! String, names: m["names"] as! [String],
                  layers: (m["layers"] as! [[String: Any]]).map { Golden(name: $0["name"] as! String, golden: $0["golden"] as! String, shape: $0["shape"] as! [Int]) },
                  stop: m["stop"] as? [String: String],
                  convolutions: (m["convolutions"] as! [[String: Any]]).map { ($0["name"] as! String, $0["shape"] as! [Int]) })
    }

    static let malformed: [String] = (root["malformed"] as? [String]) ?? []

    static func model(_ file: String) throws -> ImportedModel {
        let path = folder.appendingPathComponent(file).path
        guard case .model(let model) = try ImportSource.read(contentsOfFile: path) else {
            Issue.record("\(file): read as weights")
            throw CancellationError()
        }
        return model
    }

    static func image() throws -> Tensor {
        let input = try Float32NPY(contentsOf: folder.appendingPathComponent("input.npy"))
        return Tensor(height: input.shape[0], width: input.shape[1], channels: input.shape[2], interleaved: input.values)
    }

    @Test func fixturesArePresent() {
        #expect(Self.cases.count >= 41)
        #expect(Self.cases.flatMap(\.layers).count >= 60)
        #expect(Self.malformed.count >= 10)
    }

    @Test(arguments: cases)
    func everyLayerMatchesOnnxruntime(_ c: ModelCase) throws {
        let model = try Self.model(c.file)
        #expect(model.format == "onnx")
        #expect(model.layers.map(\.name) == c.names)
        #expect(model.stop.map { ["layer": $0.layer, "type": $0.type] } == c.stop, "\(String(describing: model.stop))")
        if let stop = model.stop { #expect(!stop.reason.isEmpty) }
        #expect(model.convolutions.map(\.name) == c.convolutions.map(\.name))
        #expect(model.convolutions.map(\.storedShape) == c.convolutions.map(\.shape))
        #expect(model.convolutions.allSatisfy { $0.layout == "OIHW" })
        guard !c.layers.isEmpty else { return }
        let network = try model.network()
        let outputs = try network.run(try Self.image(), keep: Set(network.layers.indices), jobs: 2)
        for g in c.layers {
            let index = try #require(network.layerIndex(named: g.name))
            let expected = try Float32NPY(contentsOf: Self.folder.appendingPathComponent(g.golden))
            NetworkTests.expectClose(outputs[index]!, expected, "\(c.file).\(g.name)")
        }
    }

    /// The stack's layers as the contract's kinds, with the settings read from the attributes.
    @Test func stackLayersAndSettings() throws {
        let model = try Self.model("stack.onnx")
        #expect(model.name == "stack")
        let kinds = model.layers.map(\.kind)
        guard case .convolution(let conv1) = kinds[0], case .batchNorm(let bn) = kinds[1], case .activation(.relu) = kinds[2],
              case .pooling(let pool1) = kinds[3], case .convolution(let conv2) = kinds[4], case .prelu(let alpha) = kinds[5],
              case .convolution(let conv3) = kinds[6], case .pooling(let pool3) = kinds[7] else {
            Issue.record("kinds \(kinds)")
            return
        }
        #expect(conv1.padding == .explicit(EdgeInsets(1)) && conv1.filters.count == 8 && conv1.channels == 3)
        #expect(bn.epsilon == 1e-3 && bn.channels == 8)
        #expect(pool1 == Pooling(kind: .max, size: Extent2D(3), stride: Extent2D(2), padding: .same))
        #expect(conv2.groups == 2 && conv2.padding == .same && conv2.filters[0].channels == 4)
        #expect(alpha.count == 8)
        // pads [0, 1, 2, 1] are [top, left, bottom, right].
        #expect(conv3.padding == .explicit(EdgeInsets(top: 0, bottom: 2, left: 1, right: 1)) && conv3.dilation == Extent2D(2))
        #expect(conv3.filters.allSatisfy { $0.bias == 0 })
        #expect(pool3 == Pooling(kind: .average, size: Extent2D(2), stride: Extent2D(2), padding: .valid))
        #expect(model.stop?.reason == "not a layer kind convbank runs")
        // Keras-style parameter counts: conv 8·(27+1), bn 4·8, conv 8·(36+1), prelu 8, conv 6·72 + 6 biases (zero).
        // c3 has no bias input (PyTorch bias=False): its 6 weights of kh·kw·C each, no biases.
        #expect(try model.network().parameterCount == 224 + 32 + 296 + 8 + 432)
    }

    @Test func listingNamesEveryConvolutionAndTheStop() throws {
        let model = try Self.model("stack.onnx")
        let lines = model.listing(path: "stack.onnx").split(separator: "\n").map(String.init)
        #expect(lines == [
            "'stack.onnx' (.onnx model 'stack'): 8 layers convbank runs, 3 convolution layers",
            "  conv1        (8, 3, 3, 3)  OIHW  8 filters 3×3×3  stride 1  dilation 1  padding 1  linear",
            "  block2_conv  (8, 4, 3, 3)  OIHW  8 filters 3×3×8 groups 2  stride 1  dilation 1  padding \"same\"  linear",
            "  c3           (6, 8, 3, 3)  OIHW  6 filters 3×3×8  stride 1  dilation 2  padding [0, 2, 1, 1]  linear",
            "stack ends before 'flatten' (Flatten): not a layer kind convbank runs",
        ])
    }

    /// Why each stop happened, in words a person can act on.
    @Test(arguments: [
        ("stops/branch.onnx", "'x' feeds 2 nodes (a branch"),
        ("stops/slope_input.onnx", "also reads 'other', which is not a weight"),
        ("stops/maxpool_pads_not_same.onnx", "pads [1, 1, 1, 1] differ from what same gives ([0, 0, 0, 0])"),
        ("stops/maxpool_ceil.onnx", "ceil_mode 1"),
        ("stops/avgpool_count_pad.onnx", "count_include_pad 1 with padding"),
        ("stops/global_pool.onnx", "not a layer kind convbank runs"),
        ("stops/clip_other.onnx", "bounds -1.0…1.0"),
        ("stops/prelu_vector.onnx", "slope of shape [4] broadcasts over the trailing axes"),
        ("stops/conv_after_stop.onnx", "not a layer kind convbank runs"),
        ("stops/external_data.onnx", "tensor 'k' is stored in an external data file"),
        ("stops/pool_pads_unknown_size.onnx", "pads [0, 0, 1, 1] on an input of unknown size"),
    ])
    func stopReasons(_ file: String, _ reason: String) throws {
        let model = try Self.model(file)
        #expect(model.stop?.reason.contains(reason) == true, "\(String(describing: model.stop))")
    }

    /// Each malformed file: a `FormatError` naming the file, in one line, with the problem.
    @Test(arguments: [
        ("truncated.onnx", "not an ONNX model (protobuf: truncated)"),
        // A field of the wrong wire type is skipped as unknown: no graph is left.
        ("wrong_wire_type.onnx", "not an ONNX model (no graph)"),
        ("raw_data_short.onnx", "tensor 'k': dims [4, 3, 3, 3] need 108 values, the file holds 424 bytes of raw_data"),
        ("huge_dim.onnx", "tensor 'k': dims [1099511627776, 3, 3, 3] declare more than 268435456 elements"),
        ("negative_dim.onnx", "tensor 'k': dimension -3 in [4, -3, 3, 3]"),
        ("overflow_dims.onnx", "declare more than 268435456 elements"),
        ("attribute_type.onnx", "attribute 'group' is string where an int is expected"),
        ("no_nodes.onnx", "an ONNX model whose graph has no nodes"),
        ("no_input_shape.onnx", "input 'image' is not a tensor of known rank"),
        ("deep_nesting.onnx", "not an ONNX model (protobuf: messages nested deeper than 64)"),
    ])
    func malformedFilesAreOneLineErrors(_ file: String, _ reason: String) {
        let path = Self.folder.appendingPathComponent("malformed").appendingPathComponent(file).path
        #expect(Self.malformed.contains(file))
        do {
            _ = try ImportSource.read(contentsOfFile: path)
            Issue.record("\(file): read")
        } catch {
            #expect(error.description.hasPrefix("cannot read '\(path)': "), "\(error)")
            #expect(error.description.contains(reason), "\(error)")
            #expect(!error.description.contains("\n"))
        }
    }

    /// Without the extension an ONNX file is told by decoding; other files are not mistaken for one.
    @Test func detectedByContent() throws {
        let bytes = try Fixtures.bytes(Self.folder.appendingPathComponent("stack.onnx"))
        guard case .model(let model) = try ImportSource.read(bytes: bytes, path: "model.bin") else {
            Issue.record("not read as a model")
            return
        }
        #expect(model.name == "stack" && model.layers.count == 8)
        let npy = try Fixtures.bytes(Fixtures.root.appendingPathComponent("import/keras_kernel.npy"))
        guard case .weights = try ImportSource.read(bytes: npy, path: "k.npy") else { Issue.record("npy read as a model"); return }
        #expect(!ImportedModel.looksLikeONNX(Array("hello, not a model".utf8)))
        #expect(!ImportedModel.looksLikeONNX(npy))
        #expect(throws: WeightFile.FormatError.self) { try ImportSource.read(bytes: Array(repeating: 0x41, count: 64), path: "x.bin") }
    }

    /// Layer names become folder names: no '/', no leading '.', unique.
    @Test func layerNamesAreFolderNames() {
        #expect(ONNXReader.folderName("/features/features.0/Conv", index: 0) == "features_features.0_Conv")
        #expect(ONNXReader.folderName(".hidden", index: 0) == "_hidden")
        #expect(ONNXReader.folderName("", index: 7) == "node7")
        #expect(ONNXReader.folderName("a\nb\u{7F}", index: 0) == "a_b_")
        #expect(ONNXReader.folderName("///", index: 2) == "node2")
        #expect(ONNXReader.folderName(String(repeating: "é", count: 300), index: 0).utf8.count <= Filter.maximumNameBytes - 8)
    }

    /// Nodes sharing a name get `_2`, `_3`, … (skipping names taken by other nodes), in time linear in the nodes:
    /// 20,000 Relu nodes all called `x` after a Conv also called `x`, and one called `x_3`.
    @Test func repeatedNodeNamesAreNumberedQuickly() throws {
        var model = Onnx_ModelProto()
        model.irVersion = 8
        var graph = Onnx_GraphProto()
        var input = Onnx_ValueInfoProto()
        input.name = "image"
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = 1
        tensorType.shape.dim = [Int64(1), 3, 4, 4].map { v in var d = Onnx_TensorShapeProto.Dimension(); d.dimValue = v; return d }
        input.type.tensorType = tensorType
        graph.input = [input]
        var k = Onnx_TensorProto()
        k.name = "k"
        k.dataType = 1
        k.dims = [2, 3, 1, 1]
        k.floatData = [1, 2, 3, 4, 5, 6]
        graph.initializer = [k]
        func node(_ op: String, _ name: String, _ inputs: [String], _ output: String) -> Onnx_NodeProto {
            var n = Onnx_NodeProto()
            n.opType = op
            n.name = name
            n.input = inputs
            n.output = [output]
            return n
        }
        graph.node = [node("Conv", "x", ["image", "k"], "t0"), node("Relu", "x_3", ["t0"], "u")]
        graph.node += (1...20_000).map { node("Relu", "x", [$0 == 1 ? "u" : "t\($0 - 1)"], "t\($0)") }
        model.graph = graph
        let bytes: [UInt8] = try model.serializedBytes()
        let clock = ContinuousClock(), start = clock.now
        let imported = try ImportedModel(onnx: bytes, path: "many.onnx")
        #expect(clock.now - start < .seconds(20))
        #expect(imported.layers.count == 20_002 && imported.stop == nil)
        #expect(Array(imported.layers.prefix(5).map(\.name)) == ["x", "x_3", "x_2", "x_4", "x_5"])
        #expect(Set(imported.layers.map(\.name)).count == 20_002)
    }

    /// IEEE half precision by hand: 1.0, −2.0, the smallest subnormal, 65504, infinity.
    @Test func halfPrecisionByHand() {
        #expect(ONNXReader.halfToFloat(0x3C00) == 1)
        #expect(ONNXReader.halfToFloat(0xC000) == -2)
        #expect(ONNXReader.halfToFloat(0x0001) == 0x1p-24)
        #expect(ONNXReader.halfToFloat(0x7BFF) == 65504)
        #expect(ONNXReader.halfToFloat(0x3555) == 0.333251953125)
        #expect(ONNXReader.halfToFloat(0xFC00) == -.infinity)
        #expect(ONNXReader.halfToFloat(0x7E00).isNaN)
    }

    /// Every prefix and thousands of seeded byte flips of a real model: a model or a `FormatError`, never a crash.
    @Test func damagedFilesNeverCrash() throws {
        let bytes = try Fixtures.bytes(Self.folder.appendingPathComponent("stack.onnx"))
        var read = 0, refused = 0
        func attempt(_ b: [UInt8]) {
            do {
                if case .model(let m) = try ImportSource.read(bytes: b, path: "d.onnx"), !m.layers.isEmpty {
                    _ = try? m.network()
                }
                read += 1
            } catch { refused += 1 }
        }
        for n in stride(from: 0, to: bytes.count, by: 7) { attempt(Array(bytes[0..<n])) }
        var random = SeededRandom(seed: 13)
        for _ in 0..<3000 {
            var b = bytes
            for _ in 0..<1 + Int(random.next() % 4) { b[Int(random.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: random.next()) }
            attempt(b)
        }
        #expect(read > 0 && refused > 0)
    }
}
