import ConvBankEngine
import Foundation

extension ImportedModel {
    /// The Keras layer classes convbank skips: they do nothing at inference.
    static let kerasNoOps: Set<String> = ["Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
                                          "GaussianDropout", "AlphaDropout", "ActivityRegularization", "Identity"]

    /// Where a Keras model's weights are: the Keras 3 layout (`layers/<group>/vars/<i>`, in a `.keras` archive's
    /// `model.weights.h5`) or the Keras 2 one (`model_weights/<layer>/…`, listed by `weight_names`, in a full-model `.h5`).
    struct KerasWeights {
        let file: HDF5File
        let legacy: Bool
        /// Keras 3: each layer's `vars` group by the layer's name (its `name` attribute), and the groups in file order.
        private var owners: [String: String] = [:]
        private var groups: Set<String> = []

        init(file: HDF5File, legacy: Bool) throws(HDF5File.Failure) {
            self.file = file
            self.legacy = legacy
            guard !legacy else { return }
            for d in file.datasets {
                guard let range = d.path.range(of: "/vars/", options: .backwards) else { continue }
                let owner = String(d.path[..<range.lowerBound])
                guard !groups.contains(owner) else { continue }
                groups.insert(owner)
                if let name = try file.string("name", of: owner + "/vars"), owners[name] == nil { owners[name] = owner }
            }
        }

        /// The weights of layer `name` in Keras's order (`get_weights()`), each at most `limit` values. `group` is the
        /// Keras 3 group name a layer has when the file does not record layer names (its class in snake case,
        /// numbered from the second layer of that class: `conv2d`, `conv2d_1`).
        func arrays(layer name: String, group: String, limit: Int) throws(HDF5File.Failure) -> [NPYArray] {
            if legacy {
                let names = try file.strings("weight_names", of: "model_weights/" + name) ?? []
                var arrays: [NPYArray] = []
                for w in names { arrays.append(try file.read("model_weights/\(name)/\(w)", limit: limit)) }
                return arrays
            }
            let owner = owners[name] ?? (groups.contains("layers/" + group) && owners.isEmpty ? "layers/" + group : nil)
            guard let owner else { return [] }
            var arrays: [NPYArray] = []
            var i = 0
            while file.dataset("\(owner)/vars/\(i)") != nil {
                arrays.append(try file.read("\(owner)/vars/\(i)", limit: limit))
                i += 1
            }
            return arrays
        }
    }

    /// Keras's `to_snake_case` of a class name (`DepthwiseConv2D` → `depthwise_conv2d`, `PReLU` → `p_re_lu`).
    static func snakeCase(_ name: String) -> String {
        var s = name.replacingOccurrences(of: "\\W+", with: "", options: .regularExpression)
        s = s.replacingOccurrences(of: "(.)([A-Z][a-z]+)", with: "$1_$2", options: .regularExpression)
        s = s.replacingOccurrences(of: "([a-z])([A-Z])", with: "$1_$2", options: .regularExpression)
        return s.lowercased()
    }

    /// Translates a Keras model: its configuration (`config.json` of a `.keras` archive, the `model_config` attribute
    /// of an `.h5`) and its weights. Sequential and Functional models whose layers form a chain; the stack ends at
    /// the first layer convbank does not run (a branch or merge, an unknown class, an unsupported setting).
    /// - Parameters:
    ///   - config: the model's configuration JSON.
    ///   - weights: where its weights are.
    ///   - format: `keras` or `h5`.
    /// - Throws: a one-line reason when the configuration is not a Keras model's or a weight is missing or malformed.
    static func keras(config: [UInt8], weights: KerasWeights, format: String) throws(HDF5File.Failure) -> ImportedModel {
        let root: JSONValue
        switch JSONValue.parse(config) {
        case .success(let value): root = value
        case .failure(let error): throw HDF5File.Failure(reason: "model configuration: \(error)")
        }
        let className = string(root, "class_name") ?? "?"
        guard let modelConfig = member(root, "config"), case .array(let items)? = member(modelConfig, "layers") else {
            throw HDF5File.Failure(reason: "model configuration of class '\(className)' lists no layers (a subclassed model: its layers are not in the file)")
        }
        let modelName = string(modelConfig, "name") ?? className
        let functional = className != "Sequential"
        var layers: [NetworkLayer] = []
        var convolutions: [ConvolutionLayer] = []
        var stop: Stop?
        var preprocess = Preprocess.none
        var channels: Int?
        var previous: String?
        var classCounts: [String: Int] = [:]
        let limit = WeightFile.maximumArrayBytes / 4

        for (index, item) in items.enumerated() {
            let type = string(item, "class_name") ?? "?"
            let config = member(item, "config") ?? .object([])
            let name = string(config, "name") ?? string(item, "name") ?? "layer\(index)"
            var group = snakeCase(type)
            if type != "InputLayer" {
                let k = classCounts[group, default: 0]
                classCounts[group] = k + 1
                if k > 0 { group += "_\(k)" }
            }
            defer { previous = name }
            func halt(_ reason: String) { if stop == nil { stop = Stop(layer: name, type: type, reason: reason) } }

            if let shape = intList(member(config, "batch_shape") ?? member(config, "batch_input_shape")), stop == nil, layers.isEmpty {
                guard shape.count == 4 else { halt("input of shape \(shape) is not an image (batch, height, width, channels)"); continue }
                channels = shape[3] > 0 ? shape[3] : nil
            }
            if type == "InputLayer" { continue }
            // A functional model's layer must read exactly the layer before it, once.
            if functional, stop == nil, case .array(let nodes)? = member(item, "inbound_nodes") {
                let sources = nodes.map(kerasSources)
                if nodes.count > 1 {
                    halt("the layer is called \(nodes.count) times (a shared layer)")
                } else if let s = sources.first, s.count != 1 || s.first != previous {
                    halt(s.count == 1 ? "reads '\(s[0])', not the layer before it (a branch)" : "reads \(s.count) inputs (\(s.map { "'\($0)'" }.joined(separator: ", "))): a merge")
                }
            }
            // Weights are read only for the layers that use them (not a Dense layer's, which may be huge), and past
            // the stop only for convolutions (listed); a malformed layer past the stop is left out, not an error.
            let weighted: Set<String> = stop == nil ? ["Conv2D", "DepthwiseConv2D", "BatchNormalization", "PReLU"] : ["Conv2D", "DepthwiseConv2D"]
            if stop != nil, !weighted.contains(type) { continue }
            let arrays: [NPYArray]
            let translated: Translation
            do {
                arrays = weighted.contains(type) ? try weights.arrays(layer: name, group: group, limit: limit) : []
                translated = try translate(type: type, name: name, config: config, weights: arrays)
            } catch {
                if stop != nil { continue }
                throw HDF5File.Failure(reason: "layer '\(name)' (\(type)): \(error.reason)")
            }
            switch translated {
            case .layer(let kind):
                if case .convolution(let bank) = kind, let kernel = arrays.first {
                    convolutions.append(ConvolutionLayer(name: name, storedShape: kernel.shape, layout: type == "DepthwiseConv2D" ? "HWCM" : "HWIO", bank: bank))
                }
                // The layer's name names its output folder: made safe as ONNX node names are (a hostile file's
                // "../x" must not lead out of the output folder).
                if stop == nil { layers.append(NetworkLayer(name: ImportedModel.folderName(name, index: index), kind: kind)) }
            case .skip:
                break
            case .rescaling(let scale, let offset):
                guard stop == nil else { break }
                guard layers.isEmpty, case .none = preprocess else { halt("a Rescaling after the first layer (only a leading one becomes the preprocessing)"); break }
                let c = channels ?? max(scale.count, offset.count)
                guard c > 0, scale.count == 1 || scale.count == c, offset.count == 1 || offset.count == c else {
                    halt("scale and offset do not match the input's channels"); break
                }
                preprocess = .affine(scale: scale.count == c ? scale : Array(repeating: scale[0], count: c),
                                     offset: offset.count == c ? offset : Array(repeating: offset[0], count: c), bgr: false)
            case .unsupported(let reason, let bank):
                if let bank, let kernel = arrays.first {
                    convolutions.append(ConvolutionLayer(name: name, storedShape: kernel.shape, layout: type == "DepthwiseConv2D" ? "HWCM" : "HWIO", bank: bank))
                }
                halt(reason)
            }
        }
        return ImportedModel(format: format, name: modelName, layers: layers, stop: stop, convolutions: convolutions, preprocess: preprocess)
    }

    /// What one Keras layer becomes.
    enum Translation {
        /// A layer convbank runs.
        case layer(NetworkLayer.Kind)
        /// A no-op at inference.
        case skip
        /// A `Rescaling`: `x · scale + offset` (one value or one per channel).
        case rescaling(scale: [Float], offset: [Float])
        /// Not run, and why; a convolution's bank when it is one (listed, not run).
        case unsupported(String, FilterBank?)
    }

    /// Translates one layer of class `type` with its configuration and weights (Keras's `get_weights()` order).
    static func translate(type: String, name: String, config: JSONValue, weights: [NPYArray]) throws(HDF5File.Failure) -> Translation {
        func fail(_ reason: String) -> HDF5File.Failure { HDF5File.Failure(reason: reason) }
        if let format = string(config, "data_format"), format != "channels_last" {
            return .unsupported("data_format \(format) (only channels_last is read)", nil)
        }
        if kerasNoOps.contains(type) { return .skip }
        switch type {
        case "Conv2D", "DepthwiseConv2D":
            let depthwise = type == "DepthwiseConv2D"
            guard let kernel = weights.first, kernel.shape.count == 4 else {
                throw fail("no 4-D kernel among its \(weights.count) weights")
            }
            let useBias = bool(config, "use_bias") ?? true
            guard weights.count == (useBias ? 2 : 1) else { throw fail("\(weights.count) weights, \(useBias ? 2 : 1) expected (kernel\(useBias ? ", bias" : ""))") }
            let size = intPair(member(config, "kernel_size")) ?? [kernel.shape[0], kernel.shape[1]]
            guard size == [kernel.shape[0], kernel.shape[1]] else { throw fail("kernel_size \(size) but a kernel of shape \(kernel.shape)") }
            var members: [(key: String, value: JSONValue)] = [("name", .string(name)), ("layout", .string(depthwise ? "HWCM" : "HWIO")),
                                                              (depthwise ? "depthwise_kernel" : "kernel", nested(kernel))]
            if useBias { members.append(("bias", nested(weights[1]))) } else { members.append(("use_bias", .bool(false))) }
            if !depthwise, let groups = int(member(config, "groups")), groups > 1 { members.append(("groups", .number(Double(groups)))) }
            let stride = intPair(member(config, "strides")) ?? [1, 1], dilation = intPair(member(config, "dilation_rate")) ?? [1, 1]
            members.append(("stride", .array(stride.map { .number(Double($0)) })))
            members.append(("dilation", .array(dilation.map { .number(Double($0)) })))
            let padding = (string(config, "padding") ?? "valid").lowercased()
            members.append(("padding", .string(padding == "same" ? "same" : "valid")))
            let activationName = activation(config) ?? "linear"
            let known = Activation(name: activationName)
            members.append(("activation", .string((known ?? .linear).rawValue)))
            let bank: FilterBank
            do { bank = try FilterBank(jsonValue: .object(members), source: name) } catch { throw fail("\(error)") }
            if padding != "same", padding != "valid" { return .unsupported("padding '\(padding)' (valid and same are read)", nil) }
            guard known != nil else { return .unsupported("activation '\(activationName)' is not one convbank runs", nil) }
            return .layer(.convolution(bank))
        case "MaxPooling2D", "AveragePooling2D":
            guard let size = intPair(member(config, "pool_size")) else { throw fail("no pool_size") }
            let stride = intPair(member(config, "strides")) ?? size
            let padding = (string(config, "padding") ?? "valid").lowercased()
            guard padding == "valid" || padding == "same" else { return .unsupported("padding '\(padding)' (valid and same are read)", nil) }
            guard size.allSatisfy({ $0 >= 1 }), stride.allSatisfy({ $0 >= 1 }) else { throw fail("pool_size \(size) and strides \(stride) must be positive") }
            return .layer(.pooling(Pooling(kind: type == "MaxPooling2D" ? .max : .average, size: Extent2D(height: size[0], width: size[1]),
                                           stride: Extent2D(height: stride[0], width: stride[1]), padding: padding == "same" ? .same : .valid)))
        case "BatchNormalization":
            let axis = intList(member(config, "axis")) ?? int(member(config, "axis")).map { [$0] } ?? [-1]
            guard axis == [-1] || axis == [3] else { return .unsupported("axis \(axis) (only the channel axis, -1 or 3, is read)", nil) }
            let scale = bool(config, "scale") ?? true, center = bool(config, "center") ?? true
            let expected = 2 + (scale ? 1 : 0) + (center ? 1 : 0)
            guard weights.count == expected, let c = weights.first?.shape.first, weights.allSatisfy({ $0.shape == [c] }), c > 0 else {
                throw fail("\(weights.count) weights of shapes \(weights.map(\.shape)), \(expected) vectors of one length expected")
            }
            var k = 0
            func next() -> [Float] { defer { k += 1 }; return weights[k].values.map { Float($0) } }
            let gamma = scale ? next() : Array(repeating: 1, count: c)
            let beta = center ? next() : Array(repeating: 0, count: c)
            let mean = next(), variance = next()
            let epsilon = number(member(config, "epsilon")) ?? 0.001
            guard variance.allSatisfy({ $0 + Float(epsilon) > 0 }) else { throw fail("a moving variance plus epsilon is not positive") }
            var norm = BatchNorm(gamma: gamma, beta: beta, mean: mean, variance: variance, epsilon: Float(epsilon))
            (norm.scale, norm.center) = (scale, center)
            return .layer(.batchNorm(norm))
        case "Activation":
            let a = activation(config) ?? "?"
            guard let known = Activation(name: a) else { return .unsupported("activation '\(a)' is not one convbank runs", nil) }
            return .layer(.activation(known))
        case "ReLU":
            let maxValue = number(member(config, "max_value")), slope = number(member(config, "negative_slope")) ?? 0
            let threshold = number(member(config, "threshold")) ?? 0
            guard slope == 0, threshold == 0 else { return .unsupported("a ReLU with negative_slope \(slope) or threshold \(threshold)", nil) }
            switch maxValue {
            case nil: return .layer(.activation(.relu))
            case 6?: return .layer(.activation(.relu6))
            case let m?: return .unsupported("a ReLU with max_value \(m) (only none and 6 are read)", nil)
            }
        case "LeakyReLU":
            let slope = number(member(config, "negative_slope") ?? member(config, "alpha")) ?? 0.3
            guard Float(slope) == 0.2 else { return .unsupported("negative_slope \(slope) (convbank's leaky_relu has 0.2)", nil) }
            return .layer(.activation(.leakyRelu))
        case "PReLU":
            guard weights.count == 1, let alpha = weights.first else { throw fail("\(weights.count) weights, 1 expected (alpha)") }
            guard alpha.shape.count == 3, alpha.shape[0] == 1, alpha.shape[1] == 1, alpha.shape[2] > 0 else {
                return .unsupported("slopes of shape \(alpha.shape): only one per channel (shared_axes [1, 2]) is read", nil)
            }
            return .layer(.prelu(alpha: alpha.values.map { Float($0) }))
        case "Rescaling":
            let offset = member(config, "offset").map(numberList) ?? [0]
            guard let scale = numberList(member(config, "scale")), let offset, !scale.isEmpty, !offset.isEmpty else { throw fail("scale and offset are not numbers or lists of numbers") }
            return .rescaling(scale: scale.map { Float($0) }, offset: offset.map { Float($0) })
        case "Sequential", "Functional", "Model":
            return .unsupported("a nested model", nil)
        default:
            return .unsupported("not a layer kind convbank runs", nil)
        }
    }

    /// The layers a Keras functional node reads: every `keras_history` (Keras 3) or `[name, node, tensor, …]` (Keras 2).
    static func kerasSources(_ node: JSONValue) -> [String] {
        switch node {
        case .object(let members):
            if case .array(let history)? = members.first(where: { $0.key == "keras_history" })?.value, case .string(let s)? = history.first {
                return [s]
            }
            return members.flatMap { kerasSources($0.value) }
        case .array(let items):
            if items.count >= 3, case .string(let s) = items[0], case .number = items[1] { return [s] }
            return items.flatMap(kerasSources)
        default:
            return []
        }
    }

    // MARK: - JSON helpers

    static func member(_ value: JSONValue?, _ key: String) -> JSONValue? {
        if case .object(let members)? = value { return members.first { $0.key == key }?.value }
        return nil
    }

    static func string(_ value: JSONValue?, _ key: String) -> String? {
        if case .string(let s)? = member(value, key) { return s }
        return nil
    }

    static func bool(_ value: JSONValue?, _ key: String) -> Bool? {
        if case .bool(let b)? = member(value, key) { return b }
        return nil
    }

    static func number(_ value: JSONValue?) -> Double? {
        if case .number(let d)? = value { return d }
        return nil
    }

    static func int(_ value: JSONValue?) -> Int? {
        guard let d = number(value), d == d.rounded(), abs(d) < 1e9 else { return nil }
        return Int(d)
    }

    /// A list of integers; `null` members (an unknown batch size or side) become -1.
    static func intList(_ value: JSONValue?) -> [Int]? {
        guard case .array(let items)? = value else { return nil }
        var out: [Int] = []
        for item in items {
            if case .null = item { out.append(-1); continue }
            guard let i = int(item) else { return nil }
            out.append(i)
        }
        return out
    }

    /// `N` or `[H, W]` as `[H, W]`.
    static func intPair(_ value: JSONValue?) -> [Int]? {
        if let i = int(value) { return [i, i] }
        guard let list = intList(value), list.count == 2 else { return nil }
        return list
    }

    static func numberList(_ value: JSONValue?) -> [Double]? {
        if let d = number(value) { return [d] }
        guard case .array(let items)? = value else { return nil }
        let out = items.compactMap(number)
        return out.count == items.count ? out : nil
    }

    /// The activation's name: a string, or a serialized function (`{"class_name": "function", "config": "relu"}`).
    static func activation(_ config: JSONValue) -> String? {
        switch member(config, "activation") {
        case .string(let s)?: return s
        case let object?: return string(object, "config") ?? string(object, "class_name")
        case nil: return nil
        }
    }

    /// An array as nested JSON arrays, for the bank reader.
    static func nested(_ array: NPYArray) -> JSONValue {
        func build(_ values: ArraySlice<Double>, _ shape: ArraySlice<Int>) -> JSONValue {
            guard let first = shape.first else { return .number(values.first ?? 0) }
            let step = shape.dropFirst().reduce(1, *)
            return .array((0..<first).map { i in
                let lo = values.startIndex + i * step
                return build(values[lo..<(lo + step)], shape.dropFirst())
            })
        }
        return build(array.values[...], array.shape[...])
    }
}
