import Foundation

extension BankReader {
    /// `"preprocess"`: a mode name (`none`, `caffe`, `tf`, `torch`) or `{"scale": [C], "offset": [C], "bgr": false}`
    /// (`offset` defaults to zeros, `scale` to ones, `bgr` to false; at least one of scale and offset).
    func preprocess(_ v: JSONValue, at path: String) throws(BankError) -> Preprocess {
        if case .string(let name) = v {
            guard let mode = Preprocess(name: name) else {
                throw fail(path, "unknown preprocessing '\(name)' (known: \(Preprocess.modeNames.joined(separator: ", ")), or {\"scale\": [C], \"offset\": [C], \"bgr\": false})")
            }
            return mode
        }
        guard case .object(let members) = v else {
            throw fail(path, "expected a mode name or {\"scale\", \"offset\", \"bgr\"}, found \(v.kind)")
        }
        for (key, _) in members where !["scale", "offset", "bgr"].contains(key) {
            throw fail("\(path).\(key)", "unknown key (preprocessing takes scale, offset, bgr)")
        }
        let scale = try v["scale"].map { s throws(BankError) in try dense(s, rank: 1, at: "\(path).scale").values }
        let offset = try v["offset"].map { s throws(BankError) in try dense(s, rank: 1, at: "\(path).offset").values }
        guard scale != nil || offset != nil else { throw fail(path, "give \"scale\" or \"offset\" (one value per channel)") }
        let count = scale?.count ?? offset!.count
        if let scale, let offset, scale.count != offset.count {
            throw fail("\(path).offset", "expected \(scale.count) values (as scale), found \(offset.count)")
        }
        var bgr = false
        if let b = v["bgr"] {
            guard case .bool(let flag) = b else { throw fail("\(path).bgr", "expected true or false, found \(b.kind)") }
            bgr = flag
        }
        if bgr && count < 3 { throw fail("\(path).bgr", "swapping red and blue needs 3 channels or more, found \(count)") }
        return .affine(scale: scale ?? [Float](repeating: 1, count: count), offset: offset ?? [Float](repeating: 0, count: count), bgr: bgr)
    }

    /// A vector of numbers under `key` of `object` at `path`, with `count` values when given.
    func vector(_ object: JSONValue, _ key: String, at path: String, count: Int? = nil) throws(BankError) -> [Float] {
        guard let v = object[key] else { throw fail(path, "missing \"\(key)\"") }
        let values = try dense(v, rank: 1, at: "\(path).\(key)").values
        if let count, values.count != count {
            throw fail("\(path).\(key)", "expected \(count) values (one per channel), found \(values.count)")
        }
        return values
    }
}

extension Network {
    /// The keys a network file may hold.
    static let networkKeys = ["name", "description", "preprocess", "layers"]

    /// Whether `data` is a network file rather than a bank file: a JSON object with a `"layers"` key. False for
    /// anything that does not parse.
    /// - Parameter data: a bank or network file's bytes.
    public static func isNetworkJSON(_ data: [UInt8]) -> Bool {
        guard let root = try? JSONParser.parse(data), case .object = root else { return false }
        return root["layers"] != nil
    }

    /// Loads a network from JSON: `{"name": …, "preprocess": …, "layers": [ … ]}`, each layer an object with a
    /// `"name"` and one kind — a bank (any bank form: `"filters"`, or `"layout"` HWIO, OIHW, HWCM, with `"groups"`),
    /// `{"pool": "max"|"average", "size": N|[H,W], "stride": N|[H,W], "padding": "valid"|"same"}`,
    /// `{"batchnorm": {"gamma", "beta", "mean", "variance", "epsilon"}}`, or `{"activation": NAME}` (`"prelu"` with
    /// `"alpha": [C]`). A layer without a name is called `layer<index>`.
    /// - Parameters:
    ///   - data: the file's bytes (UTF-8 JSON).
    ///   - source: how errors name the file.
    /// - Throws: `BankError.invalid` with the JSON path (`layers[2].batchnorm.gamma: …`), or naming the layer whose
    ///   channel count does not match the layer before.
    public init(json data: [UInt8], source: String) throws(BankError) {
        let root: JSONValue
        do { root = try JSONParser.parse(data) } catch { throw .syntax(source: source, reason: error.description) }
        let reader = BankReader(source: source)
        guard case .object(let members) = root else { throw reader.fail("", "a network is a JSON object, found \(root.kind)") }
        for (key, _) in members where !Network.networkKeys.contains(key) {
            throw reader.fail(key, "unknown key (a network has \(Network.networkKeys.joined(separator: ", ")); each layer's settings go inside its entry of \"layers\")")
        }
        let name = try root["name"].map { v throws(BankError) in try reader.string(v, at: "name") } ?? "network"
        let preprocess = try root["preprocess"].map { v throws(BankError) in try reader.preprocess(v, at: "preprocess") } ?? .none
        guard case .array(let items)? = root["layers"] else { throw reader.fail("layers", "expected an array of layers, found \(root["layers"]!.kind)") }
        guard !items.isEmpty else { throw reader.fail("layers", "a network needs at least one layer") }
        var layers: [NetworkLayer] = []
        var seen: [String: Int] = [:]
        for (index, item) in items.enumerated() {
            let at = "layers[\(index)]"
            let layer = try Network.layer(item, at: at, index: index, reader: reader)
            if let earlier = seen[layer.name] {
                throw reader.fail("\(at).name", "duplicate layer name '\(layer.name)' (also layers[\(earlier)]; names name the output folders)")
            }
            seen[layer.name] = index
            layers.append(layer)
        }
        do { try self.init(name: name, preprocess: preprocess, layers: layers) } catch {
            switch error {
            case let .channelMismatch(_, index, _, _, _): throw reader.fail("layers[\(index)]", "\(error)")
            case .preprocessChannels: throw reader.fail("preprocess", "\(error)")
            default: throw reader.fail("layers", "\(error)")
            }
        }
    }

    /// One entry of `"layers"`.
    private static func layer(_ item: JSONValue, at: String, index: Int, reader: BankReader) throws(BankError) -> NetworkLayer {
        guard case .object(let members) = item else { throw reader.fail(at, "expected a layer object, found \(item.kind)") }
        let name = try item["name"].map { v throws(BankError) in try reader.string(v, at: "\(at).name") } ?? "layer\(index)"
        if name.isEmpty || name.hasPrefix(".") || name.contains("/") || name.contains("\0") || name.utf8.count > Filter.maximumNameBytes {
            throw reader.fail("\(at).name", "'\(name)' cannot be a folder name (no '/', not empty, not starting with '.', at most \(Filter.maximumNameBytes) bytes)")
        }
        func only(_ keys: [String], kind: String) throws(BankError) {
            for (key, _) in members where !(["name", "description"] + keys).contains(key) {
                throw reader.fail("\(at).\(key)", "unknown key (a \(kind) layer has \((["name"] + keys).joined(separator: ", ")))")
            }
        }
        if item["filters"] != nil || item["layout"] != nil {
            if item["preprocess"] != nil { throw reader.fail("\(at).preprocess", "preprocessing belongs to the network, not to a layer") }
            if item["combine"] != nil { throw reader.fail("\(at).combine", "a network layer cannot combine maps (its maps feed the next layer)") }
            let bank: FilterBank
            do { bank = try FilterBank(jsonValue: item, source: reader.source) } catch {
                if case let .invalid(source, path, reason) = error { throw .invalid(source: source, at: path.isEmpty ? at : "\(at).\(path)", reason: reason) }
                throw error
            }
            let first = bank.filters[0].kernel
            if bank.padding != .same, let other = bank.filters.first(where: { $0.kernel != first }) {
                throw reader.fail(at, "filters of different kernel sizes (\(first.shape) and \(other.kernel.shape)) give maps of different sizes unless the padding is \"same\"")
            }
            return NetworkLayer(name: name, kind: .convolution(bank))
        }
        if let kindValue = item["pool"] {
            try only(["pool", "size", "stride", "padding"], kind: "pool")
            let kindName = try reader.string(kindValue, at: "\(at).pool")
            guard let kind = Pooling.Kind(rawValue: kindName.lowercased()) ?? (kindName.lowercased() == "avg" ? .average : nil) else {
                throw reader.fail("\(at).pool", "unknown pooling '\(kindName)' (known: max, average)")
            }
            guard let sizeValue = item["size"] else { throw reader.fail(at, "missing \"size\" (N or [H, W])") }
            let size = try reader.extent(sizeValue, at: "\(at).size")
            let stride = try item["stride"].map { v throws(BankError) in try reader.extent(v, at: "\(at).stride") }
            let padding = try item["padding"].map { v throws(BankError) in try reader.padding(v, at: "\(at).padding") } ?? .valid
            if case .explicit = padding { throw reader.fail("\(at).padding", "pooling takes \"valid\" or \"same\", as Keras") }
            return NetworkLayer(name: name, kind: .pooling(Pooling(kind: kind, size: size, stride: stride, padding: padding)))
        }
        if let bn = item["batchnorm"] {
            try only(["batchnorm"], kind: "batchnorm")
            let path = "\(at).batchnorm"
            guard case .object(let keys) = bn else { throw reader.fail(path, "expected {\"gamma\", \"beta\", \"mean\", \"variance\", \"epsilon\"}, found \(bn.kind)") }
            for (key, _) in keys where !["gamma", "beta", "mean", "variance", "epsilon"].contains(key) {
                throw reader.fail("\(path).\(key)", "unknown key (batchnorm has gamma, beta, mean, variance, epsilon)")
            }
            let mean = try reader.vector(bn, "mean", at: path)
            let c = mean.count
            let variance = try reader.vector(bn, "variance", at: path, count: c)
            if let k = variance.firstIndex(where: { $0 < 0 }) { throw reader.fail("\(path).variance[\(k)]", "a variance cannot be negative") }
            let gamma = bn["gamma"] != nil ? try reader.vector(bn, "gamma", at: path, count: c) : [Float](repeating: 1, count: c)
            let beta = bn["beta"] != nil ? try reader.vector(bn, "beta", at: path, count: c) : [Float](repeating: 0, count: c)
            let epsilon = try bn["epsilon"].map { v throws(BankError) in try reader.number(v, at: "\(path).epsilon") } ?? 0.001
            guard epsilon >= 0 else { throw reader.fail("\(path).epsilon", "must not be negative") }
            if let k = variance.firstIndex(where: { $0 + epsilon <= 0 }) {
                throw reader.fail("\(path).variance[\(k)]", "variance + epsilon must be positive")
            }
            var norm = BatchNorm(gamma: gamma, beta: beta, mean: mean, variance: variance, epsilon: epsilon)
            (norm.scale, norm.center) = (bn["gamma"] != nil, bn["beta"] != nil)  // Keras scale=False / center=False
            return NetworkLayer(name: name, kind: .batchNorm(norm))
        }
        if let a = item["activation"] {
            let text = try reader.string(a, at: "\(at).activation")
            if text.lowercased() == "prelu" {
                try only(["activation", "alpha"], kind: "prelu")
                let alpha = try reader.vector(item, "alpha", at: at)
                return NetworkLayer(name: name, kind: .prelu(alpha: alpha))
            }
            try only(["activation"], kind: "activation")
            guard let activation = Activation(name: text) else {
                throw reader.fail("\(at).activation", "unknown activation '\(text)' (known: \(Activation.names), prelu)")
            }
            return NetworkLayer(name: name, kind: .activation(activation))
        }
        throw reader.fail(at, "a layer is a bank (\"filters\" or \"layout\"), {\"pool\": …}, {\"batchnorm\": …} or {\"activation\": …}")
    }
}

extension Network {
    /// The network as network JSON that `init(json:source:)` reads back to an equal network: each convolution
    /// layer as its bank JSON (named after the layer), pooling, batch norm, activations and PReLU in their forms.
    /// Numbers print as the shortest decimal that round-trips the `Float`.
    public var jsonText: String {
        let str = jsonQuoted
        func list(_ v: [Float]) -> String { "[" + v.map { "\($0)" }.joined(separator: ", ") + "]" }
        var items: [String] = []
        for layer in layers {
            switch layer.kind {
            case .convolution(var bank):
                bank.name = layer.name
                bank.preprocess = .none
                let text = bank.jsonText.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
                items.append(text.map { "    " + $0 }.joined(separator: "\n"))
            case .pooling(let p):
                items.append("    {\"name\": \(str(layer.name)), \"pool\": \"\(p.kind.rawValue)\", \"size\": \(p.size.jsonText), \"stride\": \(p.stride.jsonText), \"padding\": \(p.padding.jsonText)}")
            case .batchNorm(let bn):
                let gamma = bn.scale ? "\"gamma\": \(list(bn.gamma)), " : "", beta = bn.center ? "\"beta\": \(list(bn.beta)), " : ""
                items.append("    {\"name\": \(str(layer.name)), \"batchnorm\": {\(gamma)\(beta)\"mean\": \(list(bn.mean)), \"variance\": \(list(bn.variance)), \"epsilon\": \(bn.epsilon)}}")
            case .activation(let a):
                items.append("    {\"name\": \(str(layer.name)), \"activation\": \"\(a.rawValue)\"}")
            case .prelu(let alpha):
                items.append("    {\"name\": \(str(layer.name)), \"activation\": \"prelu\", \"alpha\": \(list(alpha))}")
            }
        }
        var text = "{\n  \"name\": \(str(name)),\n"
        if preprocess != .none { text += "  \"preprocess\": \(preprocess.jsonText),\n" }
        text += "  \"layers\": [\n" + items.joined(separator: ",\n") + "\n  ]\n}\n"
        return text
    }
}
