import ConvBankEngine
import Foundation
import SwiftProtobuf

extension ImportedModel {
    /// The deepest nesting of protobuf messages decoded from an `.onnx` file: 64 (a graph is 4 deep; subgraphs of
    /// `If`/`Loop` attributes nest further, hostile files much further).
    public static let maximumONNXMessageDepth = 64
    /// The most elements one ONNX weight tensor may declare: 2^28 (1 GiB of `Float`), checked before anything is
    /// allocated and again against the bytes the file really holds.
    public static let maximumONNXTensorElements = 1 << 28
    /// The most filters (output channels) one ONNX `Conv` may have: 65,536 (VGG16's widest layer has 512); each
    /// filter is an object of its own, so a hostile file of tiny filters is bounded here, not by its weights.
    public static let maximumONNXFilters = 1 << 16

    /// Reads an ONNX model (`ModelProto`, protobuf, decoded with SwiftProtobuf through the committed
    /// `onnx.pb.swift`) as the chain of nodes that starts at the graph's image input (NCHW, channels from its shape).
    ///
    /// Run: `Conv` (2-D; `group`, `strides`, `dilations`, `pads` or `auto_pad`, optional bias; weights OIHW from
    /// initializers or `Constant` nodes, `FLOAT`, `FLOAT16`, `BFLOAT16` or `DOUBLE`, in typed fields or little-endian
    /// `raw_data`), `Relu`, `Sigmoid`, `Tanh`, `Clip` (0…6 → `relu6`, 0…∞ → `relu`), `LeakyRelu` (slope 0.2 →
    /// `leaky_relu`, any other → a PReLU of that slope on every channel), `Elu` (α = 1), `Selu`, `Softplus`,
    /// `Softsign`, `Exp`, `Gelu` (exact), `HardSigmoid` (α = 1/6, β = 0.5, Keras 3's), `PRelu` (slope `[C,1,1]`,
    /// `[1,C,1,1]` or one value; a `[C]` slope broadcasts over the width in ONNX), `BatchNormalization` (inference), `MaxPool` and `AveragePool` (2-D,
    /// `ceil_mode` 0, dilations 1; pads must be none, `auto_pad` `SAME_UPPER`, or what `same` gives on the input's
    /// size; an average over padded windows needs `count_include_pad` 0); `Identity` and `Dropout` are skipped.
    /// The chain ends (`stop`) at the first other node, at a branch (a tensor read by two nodes), at a node that
    /// reads a second tensor made by the graph, or at an attribute value or tensor convbank does not run
    /// (external data included), with the reason. Every `Conv` node is in `convolutions`, also after the stop.
    ///
    /// Layer names are node names (or the first output's name when empty), made folder names: `/` and control
    /// characters become `_` (leading `/` dropped), a leading `.` becomes `_`, repeats get `_2`, `_3`, …
    ///
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - path: how errors name it; its stem names a graph without a name.
    /// - Throws: `WeightFile.FormatError` naming the file and the problem (not protobuf, no graph, no image input,
    ///   a tensor whose data does not match its dims, dims ≤ 0 or too large).
    /// - Complexity: O(file size) to decode, then O(weights) to convert.
    public init(onnx bytes: [UInt8], path: String) throws(WeightFile.FormatError) {
        do {
            var reader = try ONNXReader(bytes: bytes, path: path)
            self = try reader.read()
        } catch let error as ONNXReader.Failure {
            throw WeightFile.FormatError(path: path, reason: WeightFile.oneLine(error.reason))
        } catch let error as BinaryDecodingError {
            let why = switch error {
            case .truncated: "truncated"
            case .invalidUTF8: "a string that is not UTF-8"
            case .messageDepthLimit: "messages nested deeper than \(Self.maximumONNXMessageDepth)"
            case .malformedProtobuf, .trailingGarbage: "malformed"
            default: "\(error)"
            }
            throw WeightFile.FormatError(path: path, reason: "not an ONNX model (protobuf: \(why))")
        } catch {
            throw WeightFile.FormatError(path: path, reason: WeightFile.oneLine("not an ONNX model (\(error))"))
        }
    }

    /// Whether `bytes` decode as an ONNX `ModelProto` whose graph has nodes and which states an IR version: how a
    /// file without the `.onnx` extension is recognised (ONNX has no magic number).
    /// - Parameter bytes: the whole file.
    public static func looksLikeONNX(_ bytes: [UInt8]) -> Bool {
        guard let model = try? ONNXReader.decode(bytes) else { return false }
        return model.irVersion > 0 && model.hasGraph && !model.graph.node.isEmpty
    }
}

/// Turns a decoded `Onnx_ModelProto` into an `ImportedModel` (see `ImportedModel.init(onnx:path:)`).
struct ONNXReader {
    /// A malformed file: the message of the one-line error.
    struct Failure: Error { var reason: String }
    /// Why a node is not run: the `Stop`'s reason.
    struct Unsupported: Error { var reason: String }

    let model: Onnx_ModelProto
    let path: String
    /// Initializers and `Constant` outputs by name.
    var constants: [String: Onnx_TensorProto] = [:]

    init(bytes: [UInt8], path: String) throws {
        model = try Self.decode(bytes)
        self.path = path
    }

    static func decode(_ bytes: [UInt8]) throws -> Onnx_ModelProto {
        var options = BinaryDecodingOptions()
        options.messageDepthLimit = ImportedModel.maximumONNXMessageDepth
        options.discardUnknownFields = true
        return try Onnx_ModelProto(serializedBytes: bytes, options: options)
    }

    /// The operators convbank runs (with some attribute values; see `layer(_:name:cursor:)`).
    static let operators: Set<String> = ["Conv", "Relu", "Sigmoid", "Tanh", "Softplus", "Softsign", "Exp", "Elu", "Selu",
                                         "HardSigmoid", "Gelu", "LeakyRelu", "Clip", "PRelu", "BatchNormalization",
                                         "MaxPool", "AveragePool", "Identity", "Dropout"]

    /// The state of the walk along the chain.
    struct Cursor {
        var tensor: String
        var channels: Int
        /// Height and width when the input's shape fixes them (then followed layer by layer).
        var extent: Extent2D?
    }

    mutating func read() throws -> ImportedModel {
        guard model.hasGraph, !model.graph.node.isEmpty else {
            throw Failure(reason: model.hasGraph ? "an ONNX model whose graph has no nodes" : "not an ONNX model (no graph)")
        }
        let graph = model.graph
        for t in graph.initializer { constants[t.name] = t }
        for node in graph.node where node.opType == "Constant" && node.domain.isEmpty {
            guard let out = node.output.first else { continue }
            for a in node.attribute {
                switch a.name {
                case "value" where a.hasT: constants[out] = a.t
                case "value_float" where a.hasF:
                    var t = Onnx_TensorProto()
                    t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
                    t.floatData = [a.f]
                    constants[out] = t
                case "value_floats":
                    var t = Onnx_TensorProto()
                    t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
                    t.dims = [Int64(a.floats.count)]
                    t.floatData = a.floats
                    constants[out] = t
                default: continue
                }
            }
        }
        // The image input: the first graph input that is not an initializer.
        guard let input = graph.input.first(where: { constants[$0.name] == nil }) else {
            throw Failure(reason: "the graph has no input besides its weights")
        }
        let (channels, extent) = try Self.imageShape(input)

        // Node names, made folder names, unique; how many nodes read each tensor.
        // (The next suffix to try is kept per name, so thousands of nodes of one name cost linear time.)
        var names: [String] = [], taken = Set<String>(), nextSuffix: [String: Int] = [:]
        for (k, node) in graph.node.enumerated() {
            let base = Self.folderName(node.name.isEmpty ? (node.output.first ?? "") : node.name, index: k)
            var name = base
            if taken.contains(name) {
                var n = nextSuffix[base] ?? 2
                repeat { name = "\(base)_\(n)"; n += 1 } while taken.contains(name)
                nextSuffix[base] = n
            }
            taken.insert(name)
            names.append(name)
        }
        var readers: [String: [Int]] = [:]
        for (k, node) in graph.node.enumerated() where !(node.opType == "Constant" && node.domain.isEmpty) {
            for i in Set(node.input) where !i.isEmpty && constants[i] == nil { readers[i, default: []].append(k) }
        }

        // The chain.
        var layers: [NetworkLayer] = []
        var stop: ImportedModel.Stop?
        var chainBanks: [Int: FilterBank] = [:]
        var cursor = Cursor(tensor: input.name, channels: channels, extent: extent)
        var visited = Set<Int>()
        while let readBy = readers[cursor.tensor] {
            let k = readBy[0]
            let node = graph.node[k]
            func halt(_ reason: String) {
                stop = ImportedModel.Stop(layer: names[k], type: WeightFile.oneLine(node.opType), reason: WeightFile.oneLine(reason))
            }
            if readBy.count > 1 {
                halt("'\(cursor.tensor)' feeds \(readBy.count) nodes (a branch; convbank runs a chain of layers)")
                break
            }
            guard visited.insert(k).inserted else { halt("the graph has a cycle"); break }
            guard Self.operators.contains(node.opType), node.domain.isEmpty || node.domain == "ai.onnx" else {
                halt(node.domain.isEmpty || node.domain == "ai.onnx" ? "not a layer kind convbank runs"
                     : "an operator of domain '\(node.domain)' (convbank runs standard ONNX operators)")
                break
            }
            if let other = node.input.dropFirst().first(where: { !$0.isEmpty && constants[$0] == nil }) {
                halt("it also reads '\(other)', which is not a weight in the file (convbank runs a chain of layers)")
                break
            }
            if node.input.first != cursor.tensor {
                halt("it reads '\(cursor.tensor)' as an input other than its first")
                break
            }
            // Only the first output goes on; a second one read by another node (pooling indices, a dropout mask)
            // is a branch.
            if let extra = node.output.dropFirst().first(where: { !$0.isEmpty && readers[$0] != nil }) {
                halt("its second output '\(extra)' is read by another node (convbank runs a chain of layers)")
                break
            }
            let next: NetworkLayer?
            do {
                next = try layer(node, name: names[k], cursor: cursor)
            } catch let error as Unsupported {
                halt(error.reason)
                break
            }
            if let next {
                if case .convolution(let bank) = next.kind { chainBanks[k] = bank }
                if let e = cursor.extent { cursor.extent = try? next.outputExtent(input: e) }
                cursor.channels = next.outputChannels(input: cursor.channels)
                layers.append(next)
            }
            guard let out = node.output.first, !out.isEmpty else { break }
            cursor.tensor = out
        }

        // Every Conv node, in file order: the chain's bank where the chain reached it, else read on its own.
        var convolutions: [ImportedModel.ConvolutionLayer] = []
        for (k, node) in graph.node.enumerated() where node.opType == "Conv" && node.domain.isEmpty {
            guard node.input.count > 1, let weights = constants[node.input[1]] else { continue }
            var bank = chainBanks[k]
            if bank == nil {
                // Read on its own; a Conv convbank does not run (external data, 1-D, …) is left out of the list.
                do { bank = try convolution(node, name: names[k], channels: nil, extent: nil) } catch is Unsupported { continue }
            }
            guard let bank else { continue }
            convolutions.append(ImportedModel.ConvolutionLayer(name: names[k], storedShape: weights.dims.map { Int($0) }, layout: "OIHW", bank: bank))
        }

        var name = graph.name
        if name.isEmpty {
            let file = path.split(separator: "/").last.map(String.init) ?? path
            name = file.lowercased().hasSuffix(".onnx") ? String(file.dropLast(5)) : file
        }
        return ImportedModel(format: "onnx", name: name, layers: layers, stop: stop, convolutions: convolutions)
    }

    /// The channel count and (when fixed) height and width of an NCHW image input.
    static func imageShape(_ input: Onnx_ValueInfoProto) throws -> (Int, Extent2D?) {
        guard input.hasType, case .tensorType(let tensor)? = input.type.value, tensor.hasShape else {
            throw Failure(reason: "input '\(input.name)' is not a tensor of known rank (convbank reads an NCHW image)")
        }
        let dims = tensor.shape.dim.map { d -> Int? in
            if case .dimValue(let v)? = d.value, v > 0 { return Int(v) } else { return nil }
        }
        guard dims.count == 4 else {
            throw Failure(reason: "input '\(input.name)' has \(dims.count) dimensions; convbank reads an NCHW image (4)")
        }
        guard let c = dims[1] else {
            throw Failure(reason: "input '\(input.name)': its channel count (NCHW dimension 1) is not fixed")
        }
        guard c <= 1 << 20 else { throw Failure(reason: "input '\(input.name)': \(c) channels is more than convbank reads") }
        if let h = dims[2], let w = dims[3], Extent2D.componentRange.contains(h), Extent2D.componentRange.contains(w) {
            return (c, Extent2D(height: h, width: w))
        }
        return (c, nil)
    }

    /// `name` as a layer (folder) name (`ImportedModel.folderName(_:index:)`).
    static func folderName(_ name: String, index: Int) -> String { ImportedModel.folderName(name, index: index) }

    // MARK: - Nodes

    /// The layer a node becomes; nil for a node skipped (`Identity`, `Dropout`).
    /// - Throws: `Unsupported` (the stop's reason) or `Failure` (a malformed file).
    func layer(_ node: Onnx_NodeProto, name: String, cursor: Cursor) throws -> NetworkLayer? {
        guard node.domain.isEmpty || node.domain == "ai.onnx" else {
            throw Unsupported(reason: "an operator of domain '\(node.domain)' (convbank runs standard ONNX operators)")
        }
        let attrs = Attributes(node)
        func act(_ a: Activation) -> NetworkLayer { NetworkLayer(name: name, kind: .activation(a)) }
        switch node.opType {
        case "Conv":
            return NetworkLayer(name: name, kind: .convolution(try convolution(node, name: name, channels: cursor.channels, extent: cursor.extent)))
        case "Relu": return act(.relu)
        case "Sigmoid": return act(.sigmoid)
        case "Tanh": return act(.tanh)
        case "Softplus": return act(.softplus)
        case "Softsign": return act(.softsign)
        case "Exp": return act(.exponential)
        case "Elu":
            let alpha = try attrs.float("alpha") ?? 1
            guard alpha == 1 else { throw Unsupported(reason: "alpha \(alpha) (convbank's elu has alpha 1)") }
            return act(.elu)
        case "Selu":
            let alpha = try attrs.float("alpha") ?? 1.67326319217681884765625, gamma = try attrs.float("gamma") ?? 1.05070102214813232421875
            guard abs(alpha - 1.6732632) < 1e-6, abs(gamma - 1.050701) < 1e-6 else {
                throw Unsupported(reason: "alpha \(alpha), gamma \(gamma) (convbank's selu has the standard constants)")
            }
            return act(.selu)
        case "HardSigmoid":
            let alpha = try attrs.float("alpha") ?? 0.2, beta = try attrs.float("beta") ?? 0.5
            guard abs(alpha - 1.0 / 6) < 1e-6, beta == 0.5 else {
                throw Unsupported(reason: "alpha \(alpha), beta \(beta) (convbank's hard_sigmoid is Keras 3's: alpha 1/6, beta 0.5)")
            }
            return act(.hardSigmoid)
        case "Gelu":
            let approximate = try attrs.string("approximate") ?? "none"
            guard approximate == "none" else { throw Unsupported(reason: "approximate '\(approximate)' (convbank's gelu is exact)") }
            return act(.gelu)
        case "LeakyRelu":
            let alpha = try attrs.float("alpha") ?? 0.01
            if alpha == 0.2 { return act(.leakyRelu) }
            return NetworkLayer(name: name, kind: .prelu(alpha: [Float](repeating: alpha, count: cursor.channels)))
        case "Clip":
            return act(try clip(node, attrs))
        case "PRelu":
            guard node.input.count == 2 else { throw Unsupported(reason: "\(node.input.count) inputs (expected X, slope)") }
            let slope = try floats(node.input[1], of: node)
            let shape = Array(try tensor(node.input[1], of: node).dims.drop { $0 == 1 })
            if slope.count == 1 {
                return NetworkLayer(name: name, kind: .prelu(alpha: [Float](repeating: slope[0], count: cursor.channels)))
            }
            // ONNX broadcasts as numpy, from the last axis: only [C, 1, 1] (or [1, C, 1, 1]) is one slope per channel.
            guard shape == [Int64(cursor.channels), 1, 1] else {
                throw Unsupported(reason: "slope of shape \(try tensor(node.input[1], of: node).dims) broadcasts over the trailing axes (a [C] slope over the width); convbank's PReLU has one slope per channel, [C,1,1]")
            }
            return NetworkLayer(name: name, kind: .prelu(alpha: slope))
        case "BatchNormalization":
            if try attrs.int("training_mode") ?? 0 != 0 { throw Unsupported(reason: "training_mode 1 (convbank runs inference batch normalization)") }
            guard node.input.count == 5 else { throw Unsupported(reason: "\(node.input.count) inputs (expected X, scale, B, mean, var)") }
            let epsilon = try attrs.float("epsilon") ?? 1e-5
            var vectors: [[Float]] = []
            for i in 1...4 {
                let v = try floats(node.input[i], of: node)
                guard v.count == cursor.channels else {
                    throw Unsupported(reason: "'\(node.input[i])' has \(v.count) values for \(cursor.channels) channels")
                }
                vectors.append(v)
            }
            guard epsilon.isFinite, epsilon >= 0 else { throw Unsupported(reason: "epsilon \(epsilon)") }
            return NetworkLayer(name: name, kind: .batchNorm(BatchNorm(gamma: vectors[0], beta: vectors[1], mean: vectors[2], variance: vectors[3], epsilon: epsilon)))
        case "MaxPool", "AveragePool":
            return NetworkLayer(name: name, kind: .pooling(try pooling(node, attrs, extent: cursor.extent)))
        case "Identity":
            return nil
        case "Dropout":
            return nil
        default:
            throw Unsupported(reason: "not a layer kind convbank runs")
        }
    }

    /// `Clip`'s bounds (inputs from opset 11, attributes before) as an activation.
    func clip(_ node: Onnx_NodeProto, _ attrs: Attributes) throws -> Activation {
        var low: Float? = try attrs.float("min"), high: Float? = try attrs.float("max")
        if node.input.count > 1, !node.input[1].isEmpty { low = try scalar(node.input[1], of: node) }
        if node.input.count > 2, !node.input[2].isEmpty { high = try scalar(node.input[2], of: node) }
        if low == 0, high == 6 { return .relu6 }
        if low == 0, high == nil || high == .infinity { return .relu }
        throw Unsupported(reason: "bounds \(low.map { "\($0)" } ?? "-inf")…\(high.map { "\($0)" } ?? "inf") (convbank runs clip 0…6 as relu6 and 0…inf as relu)")
    }

    /// A `Conv` node as a bank; `channels` and `extent` describe its input when the chain reaches it.
    func convolution(_ node: Onnx_NodeProto, name: String, channels: Int?, extent: Extent2D?) throws -> FilterBank {
        let attrs = Attributes(node)
        guard node.input.count >= 2, !node.input[1].isEmpty else { throw Unsupported(reason: "no weights input") }
        let w = try tensor(node.input[1], of: node)
        guard w.dims.count == 4 else {
            throw Unsupported(reason: "weights of \(w.dims.count) dimensions \(w.dims) (convbank runs 2-D convolutions: OIHW)")
        }
        let shape = try Self.checkedDims(w, named: node.input[1])
        let (f, cg, kh, kw) = (shape[0], shape[1], shape[2], shape[3])
        guard f <= ImportedModel.maximumONNXFilters else {
            throw Failure(reason: "node '\(name)': \(f) filters (at most \(ImportedModel.maximumONNXFilters))")
        }
        if let ks = try attrs.ints("kernel_shape"), ks != [kh, kw] {
            throw Failure(reason: "node '\(name)': kernel_shape \(ks) differs from its weights' \([kh, kw])")
        }
        let group = try attrs.int("group") ?? 1
        guard group >= 1, f % group == 0, cg <= Int.max / group else {
            throw Failure(reason: "node '\(name)': group \(group) does not divide its \(f) filters")
        }
        let inputChannels = cg * group
        if let channels, channels != inputChannels {
            throw Unsupported(reason: "it reads \(inputChannels) channels (weights \(shape), group \(group)); its input has \(channels)")
        }
        let stride = try pair(attrs, "strides", node: name) ?? Extent2D(1)
        let dilation = try pair(attrs, "dilations", node: name) ?? Extent2D(1)
        let padding = try padding(attrs, node: name, kernel: Extent2D(height: kh, width: kw), stride: stride, dilation: dilation, extent: extent, pooling: false)
        let weights = try floats(node.input[1], of: node)
        var bias = [Float](repeating: 0, count: f)
        if node.input.count > 2, !node.input[2].isEmpty {
            bias = try floats(node.input[2], of: node)
            guard bias.count == f else { throw Failure(reason: "node '\(name)': bias '\(node.input[2])' has \(bias.count) values for \(f) filters") }
        }
        let per = cg * kh * kw
        let filters = (0..<f).map { k in
            Filter(name: "f\(k)", kernel: Extent2D(height: kh, width: kw), channels: cg, weights: Array(weights[k * per..<(k + 1) * per]), bias: bias[k])
        }
        var bank = FilterBank(name: name, filters: filters, stride: stride, dilation: dilation, padding: padding, groups: group)
        bank.usesBias = node.input.count > 2 && !node.input[2].isEmpty  // PyTorch bias=False exports no bias input
        return bank
    }

    /// A `MaxPool`/`AveragePool` node as a pooling layer.
    func pooling(_ node: Onnx_NodeProto, _ attrs: Attributes, extent: Extent2D?) throws -> Pooling {
        let name = node.name
        guard let ks = try attrs.ints("kernel_shape"), ks.count == 2 else {
            throw Unsupported(reason: "kernel_shape \((try? attrs.ints("kernel_shape")).flatMap { $0 }.map { "\($0)" } ?? "missing") (convbank pools 2-D windows)")
        }
        guard ks.allSatisfy(Extent2D.componentRange.contains) else { throw Failure(reason: "node '\(name)': kernel_shape \(ks) out of range") }
        let size = Extent2D(height: ks[0], width: ks[1])
        if try attrs.int("ceil_mode") ?? 0 != 0 { throw Unsupported(reason: "ceil_mode 1 (convbank's pooling floors, as Keras)") }
        if let d = try pair(attrs, "dilations", node: name), d != Extent2D(1) { throw Unsupported(reason: "dilations \([d.height, d.width]) (convbank pools adjacent pixels)") }
        let stride = try pair(attrs, "strides", node: name) ?? Extent2D(1)
        let padding = try self.padding(attrs, node: name, kernel: size, stride: stride, dilation: Extent2D(1), extent: extent, pooling: true)
        let kind: Pooling.Kind = node.opType == "MaxPool" ? .max : .average
        if kind == .average, try attrs.int("count_include_pad") ?? 0 != 0, padding != .valid {
            // Counting the padded zeros differs from Keras's average unless nothing is padded.
            let insets = extent.flatMap { try? ConvolutionGeometry.resolve(input: $0, kernel: size, stride: stride, dilation: Extent2D(1), padding: padding).insets }
            if insets != EdgeInsets.zero { throw Unsupported(reason: "count_include_pad 1 with padding (convbank's average counts real pixels only, as Keras)") }
        }
        return Pooling(kind: kind, size: size, stride: stride, padding: padding)
    }

    /// `auto_pad` and `pads` as a padding. Convolutions take any pads; pooling only `valid` or `same`.
    func padding(_ attrs: Attributes, node: String, kernel: Extent2D, stride: Extent2D, dilation: Extent2D, extent: Extent2D?, pooling: Bool) throws -> Padding {
        let auto = try attrs.string("auto_pad") ?? "NOTSET"
        // What same gives on this input, when its size is known.
        func sameInsets(lower: Bool) -> EdgeInsets? {
            func axis(_ n: Int, _ k: Int, _ s: Int, _ d: Int) -> (Int, Int) {
                let out = (n + s - 1) / s
                let total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
                return lower ? (total - total / 2, total / 2) : (total / 2, total - total / 2)
            }
            if let extent {
                let (t, b) = axis(extent.height, kernel.height, stride.height, dilation.height)
                let (l, r) = axis(extent.width, kernel.width, stride.width, dilation.width)
                return EdgeInsets(top: t, bottom: b, left: l, right: r)
            }
            // Stride 1: the total is (k − 1)·d whatever the size.
            guard stride == Extent2D(1) else { return nil }
            let th = (kernel.height - 1) * dilation.height, tw = (kernel.width - 1) * dilation.width
            return lower ? EdgeInsets(top: th - th / 2, bottom: th / 2, left: tw - tw / 2, right: tw / 2)
                : EdgeInsets(top: th / 2, bottom: th - th / 2, left: tw / 2, right: tw - tw / 2)
        }
        switch auto {
        case "VALID": return .valid
        case "SAME_UPPER": return .same
        case "SAME_LOWER":
            guard let insets = sameInsets(lower: true) else {
                throw Unsupported(reason: "auto_pad SAME_LOWER with stride \([stride.height, stride.width]) on an input of unknown size")
            }
            if insets == sameInsets(lower: false) { return .same }
            if pooling { throw Unsupported(reason: "auto_pad SAME_LOWER pads \(insets.onnxText) here, not what same gives (convbank pools with valid or same)") }
            return .explicit(insets)
        case "NOTSET", "":
            guard let pads = try attrs.ints("pads") else { return .valid }
            guard pads.count == 4 else { throw Failure(reason: "node '\(node)': pads \(pads) (a 2-D node has 4: top, left, bottom, right)") }
            guard pads.allSatisfy(EdgeInsets.componentRange.contains) else {
                throw Unsupported(reason: "pads \(pads) (each from 0 to \(EdgeInsets.componentRange.upperBound))")
            }
            let insets = EdgeInsets(top: pads[0], bottom: pads[2], left: pads[1], right: pads[3])
            if insets == .zero { return .valid }
            if !pooling { return .explicit(insets) }
            guard extent != nil || stride == Extent2D(1), let same = sameInsets(lower: false) else {
                throw Unsupported(reason: "pads \(pads) on an input of unknown size (convbank pools with valid or same)")
            }
            guard insets == same else {
                throw Unsupported(reason: "pads \(insets.onnxText) differ from what same gives (\(same.onnxText)) (convbank pools with valid or same)")
            }
            return .same
        default:
            throw Failure(reason: "node '\(node)': unknown auto_pad '\(auto)'")
        }
    }

    /// A two-value attribute (`strides`, `dilations`) as an extent.
    func pair(_ attrs: Attributes, _ key: String, node: String) throws -> Extent2D? {
        guard let v = try attrs.ints(key) else { return nil }
        guard v.count == 2 else { throw Unsupported(reason: "\(key) \(v) (convbank runs 2-D nodes)") }
        guard v.allSatisfy(Extent2D.componentRange.contains) else { throw Failure(reason: "node '\(node)': \(key) \(v) out of range 1…\(Extent2D.componentRange.upperBound)") }
        return Extent2D(height: v[0], width: v[1])
    }

    // MARK: - Tensors

    /// The tensor called `name`: an initializer or a `Constant` node's value.
    func tensor(_ name: String, of node: Onnx_NodeProto) throws -> Onnx_TensorProto {
        guard let t = constants[name] else {
            throw Unsupported(reason: "'\(name)' is not an initializer or constant (convbank reads weights stored in the file)")
        }
        return t
    }

    /// One value of a scalar (or one-element) tensor.
    func scalar(_ name: String, of node: Onnx_NodeProto) throws -> Float {
        let v = try floats(name, of: node)
        guard v.count == 1 else { throw Unsupported(reason: "'\(name)' has \(v.count) values where one is expected") }
        return v[0]
    }

    /// A tensor's values as `Float`, in its row-major order.
    func floats(_ name: String, of node: Onnx_NodeProto) throws -> [Float] {
        try Self.values(try tensor(name, of: node), named: name)
    }

    /// `dims` as `Int`s: each ≥ 1, their product at most `maximumONNXTensorElements`.
    static func checkedDims(_ t: Onnx_TensorProto, named name: String) throws -> [Int] {
        var count = 1
        for d in t.dims {
            guard d >= 1 else { throw Failure(reason: "tensor '\(name)': dimension \(d) in \(t.dims) (each must be at least 1)") }
            let (p, overflow) = count.multipliedReportingOverflow(by: Int(d))
            guard !overflow, p <= ImportedModel.maximumONNXTensorElements else {
                throw Failure(reason: "tensor '\(name)': dims \(t.dims) declare more than \(ImportedModel.maximumONNXTensorElements) elements")
            }
            count = p
        }
        return t.dims.map { Int($0) }
    }

    /// The tensor's values as `Float`: `FLOAT`, `FLOAT16`, `BFLOAT16`, `DOUBLE`, from the typed field or
    /// little-endian `raw_data`; the count checked against the dims before converting.
    static func values(_ t: Onnx_TensorProto, named name: String) throws -> [Float] {
        if t.dataLocation == .external || !t.externalData.isEmpty {
            throw Unsupported(reason: "tensor '\(name)' is stored in an external data file (not read; save the model with its weights inside)")
        }
        if t.hasSegment { throw Unsupported(reason: "tensor '\(name)' is a segment of a larger tensor (not read)") }
        let count = try checkedDims(t, named: name).reduce(1, *)
        let type = Onnx_TensorProto.DataType(rawValue: Int(t.dataType))
        let raw = t.rawData
        func short(_ have: Int, _ unit: String) -> Failure {
            Failure(reason: "tensor '\(name)': dims \(t.dims) need \(count) values, the file holds \(have) \(unit)")
        }
        func fromRaw(_ size: Int, _ convert: (UnsafeRawBufferPointer, Int) -> Float) throws -> [Float] {
            guard raw.count == count * size else { throw short(raw.count, "bytes of raw_data (\(size) per value)") }
            return raw.withUnsafeBytes { b in (0..<count).map { convert(b, $0) } }
        }
        switch type {
        case .float?:
            if !raw.isEmpty { return try fromRaw(4) { b, i in Float(bitPattern: UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) } }
            guard t.floatData.count == count else { throw short(t.floatData.count, "in float_data") }
            return t.floatData
        case .double?:
            if !raw.isEmpty { return try fromRaw(8) { b, i in Float(Double(bitPattern: UInt64(littleEndian: b.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))) } }
            guard t.doubleData.count == count else { throw short(t.doubleData.count, "in double_data") }
            return t.doubleData.map { Float($0) }
        case .float16?, .bfloat16?:
            let half = type == .float16
            func convert(_ bits: UInt16) -> Float { half ? Float(Self.halfToFloat(bits)) : Float(bitPattern: UInt32(bits) << 16) }
            if !raw.isEmpty { return try fromRaw(2) { b, i in convert(UInt16(littleEndian: b.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) } }
            guard t.int32Data.count == count else { throw short(t.int32Data.count, "in int32_data") }
            return t.int32Data.map { convert(UInt16(truncatingIfNeeded: $0)) }
        default:
            throw Unsupported(reason: "tensor '\(name)' has data type \(type.map { "\($0)".uppercased() } ?? "\(t.dataType)") (convbank reads FLOAT, FLOAT16, BFLOAT16, DOUBLE)")
        }
    }

    /// IEEE half-precision bits as a `Float` (exact; subnormals, infinities and NaN kept).
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign: Float = h & 0x8000 != 0 ? -1 : 1
        let exponent = Int((h >> 10) & 0x1F), fraction = Float(h & 0x3FF)
        switch exponent {
        case 0: return sign * fraction * 0x1p-24
        case 31: return fraction == 0 ? sign * .infinity : .nan
        default: return sign * (1 + fraction / 1024) * Float(sign: .plus, exponent: exponent - 15, significand: 1)
        }
    }
}

/// A node's attributes by name, typed.
struct Attributes {
    let byName: [String: Onnx_AttributeProto]

    init(_ node: Onnx_NodeProto) {
        var d: [String: Onnx_AttributeProto] = [:]
        for a in node.attribute { d[a.name] = a }
        byName = d
    }

    func wrongType(_ key: String, _ a: Onnx_AttributeProto, _ expected: String) -> ONNXReader.Failure {
        ONNXReader.Failure(reason: "attribute '\(key)' is \(a.type) where \(expected) is expected")
    }

    func int(_ key: String) throws -> Int? {
        guard let a = byName[key] else { return nil }
        guard a.type == .int || (a.type == .undefined && a.hasI) else { throw wrongType(key, a, "an int") }
        return Int(a.i)
    }

    func float(_ key: String) throws -> Float? {
        guard let a = byName[key] else { return nil }
        guard a.type == .float || (a.type == .undefined && a.hasF) else { throw wrongType(key, a, "a float") }
        return a.f
    }

    func ints(_ key: String) throws -> [Int]? {
        guard let a = byName[key] else { return nil }
        guard a.type == .ints || (a.type == .undefined && !a.ints.isEmpty) else { throw wrongType(key, a, "a list of ints") }
        guard a.ints.count <= 16 else { throw ONNXReader.Failure(reason: "attribute '\(key)' has \(a.ints.count) values") }
        return a.ints.map { Int(clamping: $0) }
    }

    func string(_ key: String) throws -> String? {
        guard let a = byName[key] else { return nil }
        guard a.type == .string || (a.type == .undefined && a.hasS) else { throw wrongType(key, a, "a string") }
        return String(decoding: a.s, as: UTF8.self)
    }
}

extension EdgeInsets {
    /// ONNX's `pads` order: `[top, left, bottom, right]`.
    var onnxText: String { "[\(top), \(left), \(bottom), \(right)]" }
}
