import Foundation

extension FilterBank {
    /// Top-level keys a bank file may hold.
    static let bankKeys = ["name", "description", "stride", "padding", "padding_mode", "dilation", "activation", "groups", "use_bias", "depthwise_kernel",
                           "filters", "layout", "kernel", "weight", "bias", "names", "combine", "preprocess"]

    /// Loads a bank from JSON, in any of the three forms: per-filter `"filters"`, Keras `"layout": "HWIO"` with
    /// `"kernel": [kh][kw][C][F]`, or PyTorch `"layout": "OIHW"` with `"weight": [F][C][kh][kw]`. All decode into
    /// the canonical `[filter][channel][ky][kx]` layout.
    /// - Parameters:
    ///   - data: the bank file's bytes (UTF-8 JSON).
    ///   - source: how errors name the bank (its path or built-in name).
    /// - Throws: `BankError` naming the JSON path of the first problem.
    public init(json data: [UInt8], source: String) throws(BankError) {
        let root: JSONValue
        do { root = try JSONParser.parse(data) } catch { throw .syntax(source: source, reason: error.description) }
        try self.init(jsonValue: root, source: source)
    }

    package init(jsonValue root: JSONValue, source: String) throws(BankError) {
        let reader = BankReader(source: source)
        guard case .object(let members) = root else { throw reader.fail("", "a bank is a JSON object, found \(root.kind)") }
        for (key, _) in members where !FilterBank.bankKeys.contains(key) {
            throw reader.fail(key, "unknown key (known keys: \(FilterBank.bankKeys.joined(separator: ", ")))")
        }
        let name = try root["name"].map { v throws(BankError) in try reader.string(v, at: "name") } ?? "bank"
        let summary = try root["description"].map { v throws(BankError) in try reader.string(v, at: "description") }
        let stride = try root["stride"].map { v throws(BankError) in try reader.extent(v, at: "stride") } ?? Extent2D(1)
        let dilation = try root["dilation"].map { v throws(BankError) in try reader.extent(v, at: "dilation") } ?? Extent2D(1)
        let padding = try root["padding"].map { v throws(BankError) in try reader.padding(v, at: "padding") } ?? .valid
        var paddingMode = PaddingMode.zeros
        if let v = root["padding_mode"] {
            let text = try reader.string(v, at: "padding_mode")
            guard let mode = PaddingMode(parsing: text) else {
                throw reader.fail("padding_mode", "unknown padding mode '\(text)' (known: \(PaddingMode.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            paddingMode = mode
        }
        var activation = Activation.linear
        if let v = root["activation"] {
            let text = try reader.string(v, at: "activation")
            guard let a = Activation(name: text) else {
                throw reader.fail("activation", "unknown activation '\(text)' (known: \(Activation.names))")
            }
            activation = a
        }

        var filters: [Filter]
        var groups = try root["groups"].map { v throws(BankError) in try reader.integer(v, at: "groups", in: 1...(1 << 30)) } ?? 1
        let layout = try root["layout"].map { v throws(BankError) in try reader.string(v, at: "layout") }
        if layout?.uppercased() != "HWCM", root["depthwise_kernel"] != nil {
            throw reader.fail("depthwise_kernel", "only \"layout\": \"HWCM\" (Keras DepthwiseConv2D) takes \"depthwise_kernel\"")
        }
        switch layout {
        case nil:
            for key in ["kernel", "weight", "names"] where root[key] != nil {
                throw reader.fail(key, "only whole-layer banks (\"layout\": \"HWIO\" or \"OIHW\") take \"\(key)\"")
            }
            if root["bias"] != nil { throw reader.fail("bias", "a per-filter bank gives each filter its own \"bias\"") }
            guard let list = root["filters"] else { throw reader.fail("", "missing \"filters\" (or \"layout\" with a whole-layer kernel)") }
            filters = try reader.perFilter(list)
        case "HWIO"?, "hwio"?:
            if root["filters"] != nil { throw reader.fail("filters", "a whole-layer bank has no \"filters\" list") }
            filters = try reader.wholeLayer(root, hwio: true)
        case "OIHW"?, "oihw"?:
            if root["filters"] != nil { throw reader.fail("filters", "a whole-layer bank has no \"filters\" list") }
            filters = try reader.wholeLayer(root, hwio: false)
        case "HWCM"?, "hwcm"?:
            if root["filters"] != nil { throw reader.fail("filters", "a whole-layer bank has no \"filters\" list") }
            if root["groups"] != nil { throw reader.fail("groups", "a depthwise bank (HWCM) has one group per input channel; leave \"groups\" out") }
            (filters, groups) = try reader.depthwise(root)
        case let other?:
            throw reader.fail("layout", "unknown layout '\(other)' (known: HWIO for Keras get_weights(), OIHW for PyTorch state_dict, HWCM for Keras DepthwiseConv2D)")
        }
        guard filters.count % groups == 0 else {
            throw reader.fail("groups", "\(filters.count) filters do not split into \(groups) groups (the filter count must be a multiple of groups, as Keras requires)")
        }
        var usesBias = true
        if let v = root["use_bias"] {
            guard case .bool(let flag) = v else { throw reader.fail("use_bias", "expected true or false, found \(v.kind)") }
            if !flag, let f = filters.firstIndex(where: { $0.bias != 0 }) {
                throw reader.fail("use_bias", "false, but filter '\(filters[f].name)' has bias \(filters[f].bias)")
            }
            usesBias = flag
        }
        self.init(name: name, filters: filters, stride: stride, dilation: dilation, padding: padding,
                  paddingMode: paddingMode, activation: activation, groups: groups, summary: summary)
        self.usesBias = usesBias
        if let v = root["combine"] { self = try reader.combine(v, bank: self) }
        if let v = root["preprocess"] {
            preprocess = try reader.preprocess(v, at: "preprocess")
            if let needed = preprocess.requiredChannels, needed != channels {
                throw reader.fail("preprocess", "needs \(needed) channel\(needed == 1 ? "" : "s"), but the bank reads \(channels)")
            }
        }
    }
}

/// Reads the parts of a bank file, each check throwing `BankError.invalid` with the JSON path.
struct BankReader {
    let source: String

    func fail(_ at: String, _ reason: String) -> BankError { .invalid(source: source, at: at, reason: reason) }

    func string(_ v: JSONValue, at path: String) throws(BankError) -> String {
        guard case .string(let s) = v else { throw fail(path, "expected a string, found \(v.kind)") }
        return s
    }

    func number(_ v: JSONValue, at path: String) throws(BankError) -> Float {
        guard case .number(let d) = v else { throw fail(path, "expected a number, found \(v.kind)") }
        let f = Float(d)
        guard d.isFinite, f.isFinite else { throw fail(path, "\(d) is outside the range of a 32-bit float") }
        return f
    }

    /// A whole number in `range` (the bounds of the value's own type: `Extent2D.componentRange`, `EdgeInsets.componentRange`).
    func integer(_ v: JSONValue, at path: String, in range: ClosedRange<Int>) throws(BankError) -> Int {
        guard case .number(let d) = v, d.isFinite, d == d.rounded() else {
            throw fail(path, "expected a whole number, found \(v.kind == "a number" ? "\(v.numberText)" : v.kind)")
        }
        guard d >= Double(range.lowerBound) else { throw fail(path, "must be at least \(range.lowerBound), found \(v.numberText)") }
        guard d <= Double(range.upperBound) else { throw fail(path, "must be at most \(range.upperBound), found \(v.numberText)") }
        return Int(d)
    }

    /// `N` or `[H, W]`, each in `Extent2D.componentRange`.
    func extent(_ v: JSONValue, at path: String) throws(BankError) -> Extent2D {
        let range = Extent2D.componentRange
        if case .array(let items) = v {
            guard items.count == 2 else { throw fail(path, "expected N or [H, W], found an array of \(items.count)") }
            return Extent2D(height: try integer(items[0], at: "\(path)[0]", in: range),
                            width: try integer(items[1], at: "\(path)[1]", in: range))
        }
        return Extent2D(try integer(v, at: path, in: range))
    }

    /// `"valid"`, `"same"`, `N` or `[T, B, L, R]`, each pad in `EdgeInsets.componentRange`.
    func padding(_ v: JSONValue, at path: String) throws(BankError) -> Padding {
        let range = EdgeInsets.componentRange
        switch v {
        case .string(let s):
            switch s.lowercased() {
            case "valid": return .valid
            case "same": return .same
            default: throw fail(path, "expected \"valid\", \"same\", N or [T, B, L, R], found \"\(s)\"")
            }
        case .array(let items):
            guard items.count == 4 else { throw fail(path, "expected [T, B, L, R], found an array of \(items.count)") }
            var p: [Int] = []
            for (i, item) in items.enumerated() { p.append(try integer(item, at: "\(path)[\(i)]", in: range)) }
            return .explicit(EdgeInsets(top: p[0], bottom: p[1], left: p[2], right: p[3]))
        default:
            return .explicit(EdgeInsets(try integer(v, at: path, in: range)))
        }
    }

    /// A rectangular nested array of numbers of the given rank: its shape and values in row-major order.
    func dense(_ v: JSONValue, rank: Int, at path: String) throws(BankError) -> (shape: [Int], values: [Float]) {
        var shape: [Int] = []
        var probe = v
        for level in 0..<rank {
            guard case .array(let items) = probe else {
                throw fail(path + String(repeating: "[0]", count: level), "expected an array, found \(probe.kind)")
            }
            guard !items.isEmpty else { throw fail(path + String(repeating: "[0]", count: level), "empty array") }
            shape.append(items.count)
            probe = items[0]
        }
        var values: [Float] = []
        values.reserveCapacity(shape.reduce(1, *))
        func walk(_ v: JSONValue, level: Int, at p: String) throws(BankError) {
            if level == rank { values.append(try number(v, at: p)); return }
            guard case .array(let items) = v else { throw fail(p, "expected an array, found \(v.kind)") }
            guard items.count == shape[level] else {
                throw fail(p, "ragged array: expected \(shape[level]) entries (as its first sibling), found \(items.count)")
            }
            for (i, item) in items.enumerated() { try walk(item, level: level + 1, at: "\(p)[\(i)]") }
        }
        try walk(v, level: 0, at: path)
        return (shape, values)
    }

    /// `"combine"`: the short form `"magnitude"`, `"orientation"`, `"magnitude,orientation"` (a bank of exactly two
    /// filters), or a list of `{"name": N, "op": "magnitude"|"orientation", "x": FILTER, "y": FILTER}` (name
    /// defaults to the operation).
    func combine(_ v: JSONValue, bank: FilterBank) throws(BankError) -> FilterBank {
        if case .string(let text) = v { return try bank.combining(shortForm: text, source: source) }
        guard case .array(let items) = v else { throw fail("combine", "expected a string or an array of pairs, found \(v.kind)") }
        var list: [MapCombination] = []
        let known = MapCombination.Operation.allCases.map(\.rawValue).joined(separator: ", ")
        for (k, item) in items.enumerated() {
            let at = "combine[\(k)]"
            guard case .object(let members) = item else { throw fail(at, "expected {\"name\", \"op\", \"x\", \"y\"}, found \(item.kind)") }
            for (key, _) in members where !["name", "op", "x", "y"].contains(key) {
                throw fail("\(at).\(key)", "unknown key (a pair has name, op, x, y)")
            }
            guard let opValue = item["op"] else { throw fail(at, "missing \"op\" (\(known))") }
            let opText = try string(opValue, at: "\(at).op")
            guard let op = MapCombination.Operation(rawValue: opText) else { throw fail("\(at).op", "unknown operation '\(opText)' (known: \(known))") }
            func index(_ key: String) throws(BankError) -> Int {
                guard let value = item[key] else { throw fail(at, "missing \"\(key)\" (a filter name)") }
                let name = try string(value, at: "\(at).\(key)")
                guard let f = bank.filters.firstIndex(where: { $0.name == name }) else {
                    throw fail("\(at).\(key)", "no filter named '\(name)' (filters: \(bank.filters.map(\.name).joined(separator: ", ")))")
                }
                return f
            }
            let x = try index("x"), y = try index("y")
            let name = try item["name"].map { v throws(BankError) in try string(v, at: "\(at).name") } ?? op.rawValue
            list.append(MapCombination(name: name, operation: op, x: x, y: y))
        }
        guard !list.isEmpty else { throw fail("combine", "an empty list (leave \"combine\" out to write the filters' maps)") }
        return try bank.combining(list, source: source)
    }

    func shapeText(_ s: [Int]) -> String { s.map(String.init).joined(separator: "×") }

    func checkNames(_ names: [String], at path: (Int) -> String) throws(BankError) {
        var seen = Set<String>()
        for (i, name) in names.enumerated() {
            if name.isEmpty || name == "." || name == ".." || name.hasPrefix(".") || name.contains("/") || name.contains("\0") {
                throw fail(path(i), "'\(name)' cannot be a file name (no '/', not empty, not starting with '.')")
            }
            guard name.utf8.count <= Filter.maximumNameBytes else {
                throw fail(path(i), "a filter name may have at most \(Filter.maximumNameBytes) bytes (found \(name.utf8.count)), so that every file named after it fits the file system's 255-byte limit")
            }
            guard seen.insert(name).inserted else { throw fail(path(i), "duplicate filter name '\(name)'") }
        }
    }

    /// The per-filter form: `"filters": [{"name", "weights": [C][kh][kw] (or [kh][kw] for one channel), "bias"}]`.
    /// An entry may instead be a string naming a built-in bank (`"sobel"`, `"gaussian:sigma=2"`): it expands in
    /// place to that bank's filters, which then run with this file's settings (stride, padding, padding mode,
    /// activation — not the built-in's own). Channel counts must agree as for any filter.
    func perFilter(_ list: JSONValue) throws(BankError) -> [Filter] {
        guard case .array(let items) = list else { throw fail("filters", "expected an array of filters, found \(list.kind)") }
        guard !items.isEmpty else { throw fail("filters", "a bank needs at least one filter") }
        var filters: [Filter] = []
        /// The JSON path each filter came from, for name errors.
        var origins: [String] = []
        for (f, item) in items.enumerated() {
            let at = "filters[\(f)]"
            if case .string(let reference) = item {
                let bank: FilterBank
                do { bank = try BuiltinBank.parse(reference) } catch {
                    switch error {
                    case let .unknownBuiltin(name, known):
                        throw fail(at, "unknown built-in bank '\(name)' (built-in banks: \(known.joined(separator: ", ")))")
                    case let .invalid(_, key, reason):
                        throw fail(at, "built-in '\(reference)': \(key.isEmpty ? "" : "\(key): ")\(reason)")
                    default:
                        throw fail(at, "built-in '\(reference)': \(error)")
                    }
                }
                if let first = filters.first, first.channels != bank.channels {
                    throw fail(at, "built-in '\(bank.name)' reads \(bank.channels) channel\(bank.channels == 1 ? "" : "s"), but filters[0] reads \(first.channels)")
                }
                filters += bank.filters
                origins += bank.filters.map { _ in at }
                continue
            }
            guard case .object(let members) = item else {
                throw fail(at, "expected a filter object or a built-in bank name, found \(item.kind)")
            }
            for (key, _) in members where !["name", "weights", "bias", "description"].contains(key) {
                throw fail("\(at).\(key)", "unknown key (a filter has name, weights, bias)")
            }
            let name = try item["name"].map { v throws(BankError) in try string(v, at: "\(at).name") } ?? "f\(f)"
            guard let w = item["weights"] else { throw fail(at, "missing \"weights\"") }
            // One 2-D kernel is a one-channel filter.
            let rank = w.arrayDepth >= 3 ? 3 : 2
            let (shape, values) = try dense(w, rank: rank, at: "\(at).weights")
            let full = rank == 3 ? shape : [1] + shape
            if let first = filters.first, first.channels != full[0] {
                throw fail("\(at).weights", "expected \(first.channels) channel\(first.channels == 1 ? "" : "s") (as filters[0]), found \(full[0]) (shape \(shapeText(full)))")
            }
            let bias = try item["bias"].map { v throws(BankError) in try number(v, at: "\(at).bias") } ?? 0
            filters.append(Filter(name: name, kernel: Extent2D(height: full[1], width: full[2]), channels: full[0], weights: values, bias: bias))
            origins.append("\(at).name")
        }
        try checkNames(filters.map(\.name)) { origins[$0] }
        return filters
    }

    /// Keras `DepthwiseConv2D` as saved: `"depthwise_kernel": [kh][kw][C][M]`, `"bias": [C·M]`; map `c·M + m` reads
    /// channel `c` only (groups = C).
    func depthwise(_ root: JSONValue) throws(BankError) -> ([Filter], Int) {
        guard let w = root["depthwise_kernel"] else { throw fail("", "missing \"depthwise_kernel\" ([kh][kw][C][M])") }
        for key in ["kernel", "weight"] where root[key] != nil { throw fail(key, "layout HWCM takes \"depthwise_kernel\"") }
        let (shape, values) = try dense(w, rank: 4, at: "depthwise_kernel")
        let (kh, kw, c, m) = (shape[0], shape[1], shape[2], shape[3])
        let f = c * m
        var bias = [Float](repeating: 0, count: f)
        if let b = root["bias"] {
            let (bshape, bvalues) = try dense(b, rank: 1, at: "bias")
            guard bshape[0] == f else { throw fail("bias", "expected \(f) values (C·M = \(c)·\(m)), found \(bshape[0])") }
            bias = bvalues
        }
        var names = (0..<f).map { "f\($0)" }
        if let n = root["names"] {
            guard case .array(let items) = n, items.count == f else { throw fail("names", "expected \(f) names (C·M)") }
            var list: [String] = []
            for (i, item) in items.enumerated() { list.append(try string(item, at: "names[\(i)]")) }
            names = list
        }
        try checkNames(names) { "names[\($0)]" }
        var filters: [Filter] = []
        for ch in 0..<c {
            for k in 0..<m {
                var weights = [Float](repeating: 0, count: kh * kw)
                for i in 0..<kh { for j in 0..<kw { weights[i * kw + j] = values[((i * kw + j) * c + ch) * m + k] } }
                filters.append(Filter(name: names[ch * m + k], kernel: Extent2D(height: kh, width: kw), channels: 1, weights: weights,
                                      bias: bias[ch * m + k]))
            }
        }
        return (filters, c)
    }

    /// The whole-layer forms: Keras `HWIO` (`kernel: [kh][kw][C][F]`) and PyTorch `OIHW` (`weight: [F][C][kh][kw]`).
    func wholeLayer(_ root: JSONValue, hwio: Bool) throws(BankError) -> [Filter] {
        let key = hwio ? "kernel" : "weight"
        let other = hwio ? "weight" : "kernel"
        if root[other] != nil { throw fail(other, "layout \(hwio ? "HWIO" : "OIHW") takes \"\(key)\", not \"\(other)\"") }
        guard let w = root[key] else { throw fail("", "missing \"\(key)\" (\(hwio ? "[kh][kw][C][F]" : "[F][C][kh][kw]"))") }
        let (shape, values) = try dense(w, rank: 4, at: key)
        let (kh, kw, c, f) = hwio ? (shape[0], shape[1], shape[2], shape[3]) : (shape[2], shape[3], shape[1], shape[0])
        var bias = [Float](repeating: 0, count: f)
        if let b = root["bias"] {
            let (bshape, bvalues) = try dense(b, rank: 1, at: "bias")
            guard bshape[0] == f else { throw fail("bias", "expected \(f) values (one per filter), found \(bshape[0])") }
            bias = bvalues
        }
        var names = (0..<f).map { "f\($0)" }
        if let n = root["names"] {
            guard case .array(let items) = n else { throw fail("names", "expected an array of \(f) strings, found \(n.kind)") }
            guard items.count == f else { throw fail("names", "expected \(f) names (one per filter), found \(items.count)") }
            var list: [String] = []
            for (i, item) in items.enumerated() { list.append(try string(item, at: "names[\(i)]")) }
            names = list
        }
        try checkNames(names) { "names[\($0)]" }
        var filters: [Filter] = []
        for o in 0..<f {
            var weights = [Float](repeating: 0, count: c * kh * kw)
            for ch in 0..<c {
                for i in 0..<kh {
                    for j in 0..<kw {
                        let source = hwio ? ((i * kw + j) * c + ch) * f + o : ((o * c + ch) * kh + i) * kw + j
                        weights[(ch * kh + i) * kw + j] = values[source]
                    }
                }
            }
            filters.append(Filter(name: names[o], kernel: Extent2D(height: kh, width: kw), channels: c, weights: weights, bias: bias[o]))
        }
        return filters
    }
}

extension JSONValue {
    /// How deeply the first elements nest: `[[1]]` is 2.
    var arrayDepth: Int {
        if case .array(let items) = self { return 1 + (items.first?.arrayDepth ?? 0) }
        return 0
    }

    var numberText: String {
        if case .number(let d) = self { return d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d) }
        return kind
    }
}

extension FilterBank {
    /// The bank as per-filter JSON that `init(json:source:)` reads back to an equal bank: one kernel row per line.
    /// Weights print as the shortest decimal that round-trips the `Float`.
    public var jsonText: String {
        func num(_ v: Float) -> String {
            if v == v.rounded(), abs(v) < 1e7 { return String(Int(v)) }
            return "\(v)"
        }
        let str = jsonQuoted
        var lines = ["{"]
        lines.append("  \"name\": \(str(name)),")
        if let summary { lines.append("  \"description\": \(str(summary)),") }
        if preprocess != .none { lines.append("  \"preprocess\": \(preprocess.jsonText),") }
        lines.append("  \"stride\": \(stride.jsonText), \"dilation\": \(dilation.jsonText), \"padding\": \(padding.jsonText), \"padding_mode\": \"\(paddingMode.rawValue)\", \"activation\": \"\(activation.rawValue)\",")
        if groups > 1 { lines.append("  \"groups\": \(groups),") }
        if !usesBias { lines.append("  \"use_bias\": false,") }
        if !combinations.isEmpty {
            let pairs = combinations.map { c in
                "{\"name\": \(str(c.name)), \"op\": \"\(c.operation.rawValue)\", \"x\": \(str(filters[c.x].name)), \"y\": \(str(filters[c.y].name))}"
            }
            lines.append("  \"combine\": [\(pairs.joined(separator: ", "))],")
        }
        lines.append("  \"filters\": [")
        for (k, filter) in filters.enumerated() {
            lines.append("    {")
            lines.append("      \"name\": \(str(filter.name)),")
            lines.append("      \"bias\": \(num(filter.bias)),")
            lines.append("      \"weights\": [")
            for c in 0..<filter.channels {
                lines.append("        [")
                for i in 0..<filter.kernel.height {
                    let row = (0..<filter.kernel.width).map { num(filter[c, i, $0]) }.joined(separator: ", ")
                    lines.append("          [\(row)]" + (i + 1 < filter.kernel.height ? "," : ""))
                }
                lines.append("        ]" + (c + 1 < filter.channels ? "," : ""))
            }
            lines.append("      ]")
            lines.append("    }" + (k + 1 < filters.count ? "," : ""))
        }
        lines.append("  ]")
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }
}

/// `s` as a JSON string literal: quotes and backslashes escaped, newline, tab and return as `\n`, `\t`, `\r`, other
/// control characters as `\u00XX`.
func jsonQuoted(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        default:
            if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
        }
    }
    return out + "\""
}
