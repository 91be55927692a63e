import ConvBankTestSupport
import Foundation
import Testing
@testable import ConvBankEngine
@testable import ConvBankImageIO

/// Keras model files (`.keras`, full-model `.h5`) and HDF5 weights (`.weights.h5`, Keras 2 layout) against real
/// Keras 3 models made by `scripts/make_keras_model_goldens.py` under `Fixtures/keras/`: the imported stack run by
/// the engine against Keras's outputs of every runnable layer, the stop, every convolution listed, parameter counts
/// against `count_params()`, weights-only files, and malformed files as one-line errors.
@Suite struct KerasModelTests {
    static var folder: URL { Fixtures.root.appendingPathComponent("keras") }
    static func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    struct LayerCase: Sendable { var name: String, output: String, shape: [Int], params: Int }
    struct ModelCase: Sendable, CustomTestStringConvertible {
        var name: String, file: String, stop: (layer: String, type: String)?, countParams: Int, layers: [LayerCase], convolutions: [String]
        var testDescription: String { file }
    }

    static let cases: [ModelCase] = {
        guard let root = try? Fixtures.json(folder.appendingPathComponent("cases.json")) as? [String: Any],
              let list = root["models"] as? [[String: Any]] else { return [] }
        return list.flatMap { m in
            (m["files"] as! [String]).map { file in
                let stop = (m["stop"] as? [String: String]).map { ($0["layer"]!, $0["type"]!) }
                return ModelCase(name: m["name"] as! String, file: file, stop: stop, countParams: m["count_params"] as! Int,
                                 layers: (m["layers"] as! [[String: Any]]).map {
                                     LayerCase(name: $0["name"] as! String, output: $0["output"] as! String, shape: $0["shape"] as! [Int],
                                               params: $0["params"] as! Int)
                                 },
                                 convolutions: m["convolutions"] as! [String])
            }
        }
    }()

    static func image() throws -> Tensor {
        let input = try Float32NPY(contentsOf: folder.appendingPathComponent("input.npy"))
        return Tensor(height: input.shape[0], width: input.shape[1], channels: input.shape[2], interleaved: input.values)
    }

    static func model(_ file: String) throws -> ImportedModel {
        guard case .model(let model) = try ImportSource.read(contentsOfFile: path(file)) else {
            Issue.record("\(file) was read as weights, not a model")
            throw CancellationError()
        }
        return model
    }

    @Test func fixturesArePresent() {
        #expect(Self.cases.count == 5)
        #expect(Self.cases.flatMap(\.layers).count >= 20)
    }

    @Test(arguments: cases)
    func everyLayerMatchesKeras(_ c: ModelCase) throws {
        let model = try Self.model(c.file)
        #expect(model.format == (c.file.hasSuffix(".keras") ? "keras" : "h5"))
        if c.stop == nil {   // the whole model runs: its parameters are Keras's count_params()
            #expect(try model.network().parameterCount == c.countParams)
        }
        #expect(model.name == c.name)
        #expect(model.layers.map(\.name) == c.layers.map(\.name))
        #expect(model.stop?.layer == c.stop?.layer && model.stop?.type == c.stop?.type, "\(String(describing: model.stop))")
        #expect(model.convolutions.map(\.name) == c.convolutions)
        let network = try model.network()
        let image = try Self.image()
        let outputs = try network.run(image, keep: Set(network.layers.indices), jobs: 2)
        for (k, layer) in c.layers.enumerated() {
            let expected = try Float32NPY(contentsOf: Self.folder.appendingPathComponent(layer.output))
            NetworkTests.expectClose(outputs[k]!, expected, "\(c.file).\(layer.name)")
            // Keras count_params(): chain's c2 has use_bias=False and its bn scale=False, which count no bias or gamma.
            #expect(network.layers[k].parameterCount == layer.params, "\(c.file).\(layer.name) parameters")
        }
    }

    /// The stack's pieces: HWCM with a depth multiplier, relu6 fused, Dropout skipped, batch norm without scale,
    /// the Rescaling as preprocessing, a grouped dilated convolution without bias.
    @Test func translationDetails() throws {
        let stack = try Self.model("stack.keras")
        #expect(!stack.layers.contains { $0.name == "drop" })
        let dw = stack.convolutions.first { $0.name == "dw" }!
        #expect(dw.layout == "HWCM" && dw.storedShape == [3, 3, 6, 2] && dw.bank.filters.count == 12 && dw.bank.groups == 6)
        #expect(stack.convolutions.first { $0.name == "conv2" }!.bank.activation == .relu6)
        #expect(stack.preprocess == .none)

        let chain = try Self.model("chain.h5")
        #expect(chain.preprocess == .affine(scale: [Float](repeating: Float(1 / 127.5), count: 3), offset: [-1, -1, -1], bgr: false))
        let c2 = chain.convolutions.first { $0.name == "c2" }!.bank
        #expect(c2.groups == 2 && c2.dilation == Extent2D(2) && c2.padding == .same && c2.filters.allSatisfy { $0.bias == 0 })
        #expect(chain.convolutions.first { $0.name == "c1" }!.bank.stride == Extent2D(2))
        guard case .batchNorm(let bn) = chain.layers.first(where: { $0.name == "bn" })!.kind else { Issue.record("bn is not batch norm"); return }
        #expect(bn.gamma == [Float](repeating: 1, count: 6))
    }

    @Test func listingNamesTheStop() throws {
        let text = try Self.model("stack.keras").listing(path: "stack.keras")
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.first == "'stack.keras' (.keras model 'stack'): 8 layers convbank runs, 3 convolution layers")
        #expect(lines.contains("  dw     (3, 3, 6, 2)  HWCM  12 filters 3×3×6 groups 6  stride 1  dilation 1  padding \"same\"  linear"), "\(text)")
        #expect(lines.last == "stack ends before 'flatten' (Flatten): not a layer kind convbank runs")
    }

    /// Weights only: Keras 3 `.weights.h5` (layer names from the `vars` groups, depthwise by the group's class) and
    /// the Keras 2 layout; a kernel and bias taken from them, run with same padding, gives Keras's conv1 output.
    @Test(arguments: [("stack.weights.h5", "conv1/kernel", "dw/depthwise_kernel"), ("stack_legacy.weights.h5", "stack/conv1/kernel", nil)])
    func weightsOnlyFiles(_ file: String, _ conv1: String, _ depthwise: String?) throws {
        guard case .weights(let weights) = try ImportSource.read(contentsOfFile: Self.path(file)) else {
            Issue.record("\(file) was read as a model"); return
        }
        #expect(weights.format == .h5)
        let (bank, chosen) = try weights.bank(layer: conv1, layout: nil, names: nil, bankName: "conv1", source: file)
        #expect(chosen.layout == "HWIO" && chosen.bias != nil)
        var same = bank
        same.padding = .same
        let out = try ConvolutionPlan(bank: same, input: Self.image().extent).runStacked(Self.image(), jobs: 1, kernels: .best)
        NetworkTests.expectClose(out, try Float32NPY(contentsOf: Self.folder.appendingPathComponent("stack_conv1.npy")), "\(file) conv1")
        if let depthwise {
            let found = weights.convolutions().first { $0.name == depthwise }
            #expect(found?.layout == "HWCM" && found?.bias == "dw/bias")
        }
        // Every array of the model, batch norm statistics included.
        #expect(weights.entries.count == 13)
    }

    /// A tf.keras 2 full-model file read as arrays: its `weight_names`, the layout and bias by those names.
    @Test func keras2FileAsArrays() throws {
        let file = try WeightFile(contentsOfFile: Self.path("keras2.h5"))
        #expect(file.format == .h5)
        #expect(file.convolutions().map { "\($0.name) \($0.layout ?? "?") \($0.bias ?? "-")" }
                == ["conv2d/kernel:0 HWIO conv2d/bias:0", "depthwise_conv2d/depthwise_kernel:0 HWCM depthwise_conv2d/bias:0"])
    }

    /// Each malformed file: a one-line error naming the file, never a crash.
    @Test(arguments: [("bad_strings.weights.h5", "holds strings"), ("bad_huge.weights.h5", "256 MiB"), ("bad_config.h5", "invalid JSON"),
                      ("bad_noweights.keras", "without model.weights.h5"), ("bad_badconfig.keras", "invalid JSON")])
    func malformedFiles(_ file: String, _ reason: String) {
        do {
            _ = try ImportSource.read(contentsOfFile: Self.path(file))
            Issue.record("\(file) was accepted")
        } catch {
            #expect(error.description.hasPrefix("cannot read '\(Self.path(file))': "), "\(error)")
            #expect(error.description.contains(reason), "\(error)")
            #expect(!error.description.contains("\n"))
        }
    }

    /// Truncations at many lengths, the signature then garbage, and seeded byte flips of every model file: refused
    /// cleanly or (a flip in unused bytes) read; never a crash, always one line.
    @Test(arguments: ["stack.h5", "stack.keras", "stack.weights.h5", "chain.h5"])
    func damagedFiles(_ file: String) throws {
        let bytes = try Fixtures.bytes(Self.folder.appendingPathComponent(file))
        var variants: [[UInt8]] = stride(from: 0, to: bytes.count, by: max(bytes.count / 40, 1)).map { Array(bytes[..<$0]) }
        variants.append(Array(bytes[..<8]) + SeededRandom.bytes(4000, seed: 7))
        var random = SeededRandom(seed: 20261130)
        for _ in 0..<60 {
            var damaged = bytes
            for _ in 0..<4 { damaged[Int(random.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: random.next()) }
            variants.append(damaged)
        }
        var refused = 0
        for v in variants {
            do { _ = try ImportSource.read(bytes: v, path: file) } catch {
                refused += 1
                #expect(error.description.hasPrefix("cannot read '\(file)': ") && !error.description.contains("\n"), "\(error)")
            }
        }
        #expect(refused >= 40)
    }

    /// The libhdf5 1.10.8 failures fuzzing found, rebuilt from `stack.h5` (its global heap of strings at the
    /// "GCOL" signature): an object whose size runs past its collection (a SEGV in `H5HG_read`'s memcpy), a free-space
    /// object of size 0 (an endless loop), a string descriptor naming an object index the collection lacks, and one
    /// stating a length other than its object's (a SEGV or a heap overflow). Each is refused before libhdf5 reads it.
    @Test func globalHeapDamageIsRefused() throws {
        let bytes = try Fixtures.bytes(Self.folder.appendingPathComponent("stack.h5"))
        func le(_ at: Int, _ n: Int) -> Int { (0..<n).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
        let gcol = (0..<(bytes.count - 4)).first { Array(bytes[$0..<($0 + 4)]) == Array("GCOL".utf8) }!
        // The objects: index 2, references 2, reserved 4, size 8, data padded to 8.
        var objects: [(index: Int, at: Int, size: Int)] = []
        var p = gcol + 16
        while le(p, 2) != 0 {
            objects.append((le(p, 2), p, le(p + 8, 8)))
            p += 16 + (le(p + 8, 8) + 7) / 8 * 8
        }
        let free = p
        // model_config's descriptor: its length, the collection's address and its index, found by value.
        let config = objects.max { $0.size < $1.size }!
        let pattern = (0..<4).map { UInt8(truncatingIfNeeded: config.size >> (8 * $0)) } + (0..<8).map { UInt8(truncatingIfNeeded: gcol >> (8 * $0)) }
            + (0..<4).map { UInt8(truncatingIfNeeded: config.index >> (8 * $0)) }
        let descriptor = (0..<(bytes.count - 16)).first { Array(bytes[$0..<($0 + 16)]) == pattern }!
        var cases: [(String, [UInt8], String)] = []
        var huge = bytes; huge[config.at + 15] = 0xCA
        cases.append(("object past its collection", huge, "damaged object"))
        var loop = bytes; for k in 0..<8 { loop[free + 8 + k] = 0 }
        cases.append(("free space of 0 bytes", loop, "free space"))
        var index = bytes; index[descriptor + 14] = 0x83
        cases.append(("descriptor index", index, "names no global-heap object"))
        var length = bytes; length[descriptor] = UInt8(truncatingIfNeeded: config.size - 1)
        cases.append(("descriptor length", length, "names no global-heap object"))
        for (label, damaged, reason) in cases {
            do {
                _ = try ImportSource.read(bytes: damaged, path: "stack.h5")
                Issue.record("\(label): accepted")
            } catch {
                #expect(error.description.contains(reason), "\(label): \(error)")
            }
        }
    }

    static func config(_ text: String) -> JSONValue {
        guard case .success(let value) = JSONValue.parse(Array(text.utf8)) else { fatalError("bad test JSON: \(text)") }
        return value
    }

    static func reason(_ t: ImportedModel.Translation) -> String? {
        if case .unsupported(let reason, _) = t { return reason }
        return nil
    }

    /// Layer settings the fixtures do not cover, each translated or stopped as the README says.
    @Test func settingsBeyondTheFixtures() throws {
        func translate(_ type: String, _ json: String, _ weights: [NPYArray] = []) throws -> ImportedModel.Translation {
            try ImportedModel.translate(type: type, name: "x", config: Self.config(json), weights: weights)
        }
        func kind(_ t: ImportedModel.Translation) -> NetworkLayer.Kind? {
            if case .layer(let k) = t { return k }
            return nil
        }
        #expect(kind(try translate("ReLU", #"{"max_value": null, "negative_slope": 0, "threshold": 0}"#)) == .activation(.relu))
        #expect(kind(try translate("ReLU", #"{"max_value": 6.0}"#)) == .activation(.relu6))
        #expect(Self.reason(try translate("ReLU", #"{"max_value": 4.0}"#))?.contains("max_value 4.0") == true)
        #expect(Self.reason(try translate("ReLU", #"{"negative_slope": 0.1}"#)) != nil)
        #expect(kind(try translate("LeakyReLU", #"{"negative_slope": 0.2}"#)) == .activation(.leakyRelu))
        #expect(kind(try translate("LeakyReLU", #"{"alpha": 0.2}"#)) == .activation(.leakyRelu))   // Keras 2 spelling
        #expect(Self.reason(try translate("LeakyReLU", #"{"negative_slope": 0.3}"#))?.contains("0.2") == true)
        #expect(kind(try translate("Activation", #"{"activation": "swish"}"#)) == .activation(.swish))
        #expect(kind(try translate("Activation", #"{"activation": {"class_name": "function", "config": "tanh"}}"#)) == .activation(.tanh))
        #expect(Self.reason(try translate("Activation", #"{"activation": "softmax"}"#)) == "activation 'softmax' is not one convbank runs")
        #expect(Self.reason(try translate("Conv2D", #"{"data_format": "channels_first", "filters": 1}"#))?.contains("channels_first") == true)
        #expect(Self.reason(try translate("Flatten", "{}")) == "not a layer kind convbank runs")
        #expect(Self.reason(try translate("Functional", #"{"layers": []}"#)) == "a nested model")
        if case .skip = try translate("SpatialDropout2D", #"{"rate": 0.5}"#) {} else { Issue.record("SpatialDropout2D is not skipped") }
        guard case .rescaling(let scale, let offset) = try translate("Rescaling", #"{"scale": [0.5, 1, 2], "offset": 0}"#) else {
            Issue.record("Rescaling"); return
        }
        #expect(scale == [0.5, 1, 2] && offset == [0])
        // A PReLU with one slope per pixel is a stop; a batch norm of other axes too.
        #expect(Self.reason(try translate("PReLU", "{}", [NPYArray(shape: [4, 4, 2], values: .init(repeating: 0.1, count: 32))]))?.contains("per channel") == true)
        #expect(Self.reason(try translate("BatchNormalization", #"{"axis": 1}"#))?.contains("axis [1]") == true)
        // A convolution whose kernel does not match its kernel_size is an error, not a bank.
        #expect(throws: HDF5File.Failure.self) {
            try translate("Conv2D", #"{"kernel_size": [5, 5], "use_bias": false}"#, [NPYArray(shape: [3, 3, 1, 1], values: .init(repeating: 1, count: 9))])
        }
        // Pooling with strides null takes the window; same padding.
        guard case .pooling(let pool)? = kind(try translate("MaxPooling2D", #"{"pool_size": [3, 3], "strides": null, "padding": "same"}"#)) else {
            Issue.record("pooling"); return
        }
        #expect(pool.stride == Extent2D(3) && pool.padding == .same && pool.kind == .max)
    }

    /// The layers a functional node reads, in Keras 3's and Keras 2's spellings.
    @Test func inboundNodesOfBothVersions() {
        let keras3 = Self.config(#"[{"args": [[{"class_name": "__keras_tensor__", "config": {"shape": [null, 4], "keras_history": ["a", 0, 0]}}, {"class_name": "__keras_tensor__", "config": {"keras_history": ["b", 0, 0]}}]], "kwargs": {}}]"#)
        #expect(ImportedModel.kerasSources(keras3) == ["a", "b"])
        let keras2 = Self.config(#"[[["conv1", 0, 0, {}]]]"#)
        #expect(ImportedModel.kerasSources(keras2) == ["conv1"])
    }

    /// Keras's layer-group names when a file does not record layer names.
    @Test func snakeCaseAsKeras() {
        #expect(ImportedModel.snakeCase("DepthwiseConv2D") == "depthwise_conv2d")
        #expect(ImportedModel.snakeCase("PReLU") == "p_re_lu")
        #expect(ImportedModel.snakeCase("BatchNormalization") == "batch_normalization")
        #expect(ImportedModel.snakeCase("Conv2D") == "conv2d")
    }
}
