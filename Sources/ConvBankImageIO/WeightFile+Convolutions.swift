import ConvBankEngine

/// A convolution kernel found in a weight file: a 4-D array, its layout and its bias array.
public struct ConvolutionWeights: Sendable, Equatable {
    /// The kernel array's name.
    public var name: String
    /// The kernel array's shape, as stored.
    public var shape: [Int]
    /// `"HWIO"` (Keras `Conv2D`), `"OIHW"` (PyTorch `Conv2d`), `"HWCM"` (Keras `DepthwiseConv2D`), or `nil` when
    /// neither the name nor the shape decides (then `--layout` must).
    public var layout: String?
    /// How the layout was chosen: `"given"`, `"name"` or `"shape"` (empty when undecided).
    public var layoutSource: String
    /// The bias array's name, when the file holds a 1-D sibling of the right length.
    public var bias: String?

    /// Filters, input channels and kernel height × width under `layout`, or `nil` when undecided.
    public var dimensions: (filters: Int, channels: Int, height: Int, width: Int)? {
        switch layout {
        case "HWIO": (shape[3], shape[2], shape[0], shape[1])
        case "OIHW": (shape[0], shape[1], shape[2], shape[3])
        case "HWCM": (shape[2] * shape[3], shape[2], shape[0], shape[1])
        default: nil
        }
    }
}

extension WeightFile {
    /// Why no single convolution kernel can be taken from a file that was read: `'PATH': REASON`.
    public struct LayerError: Error, Sendable, CustomStringConvertible {
        /// The file as given.
        public var path: String
        /// The problem, in one line.
        public var reason: String
        /// `'PATH': REASON`.
        public var description: String { "'\(path)': \(WeightFile.oneLine(reason))" }
    }

    /// The layout a 4-D array's name or shape implies. By name first, on the last component (after the last `/`
    /// or `.`, without a `:0` suffix): Keras `kernel` → HWIO, `depthwise_kernel` → HWCM, PyTorch `weight` → OIHW;
    /// otherwise by shape, when exactly one reading gives a square kernel (HWIO: shape[0] == shape[1]; OIHW:
    /// shape[2] == shape[3]); otherwise `nil`.
    /// - Returns: The layout and `"name"` or `"shape"`, or `(nil, "")`.
    public static func inferLayout(name: String, shape: [Int]) -> (layout: String?, source: String) {
        switch lastComponent(name) {
        case "kernel": return ("HWIO", "name")
        case "depthwise_kernel": return ("HWCM", "name")
        case "weight": return ("OIHW", "name")
        default:
            guard shape.count == 4 else { return (nil, "") }
            let hwio = shape[0] == shape[1], oihw = shape[2] == shape[3]
            return hwio == oihw ? (nil, "") : (hwio ? "HWIO" : "OIHW", "shape")
        }
    }

    /// The name's last component: after the last `/` or `.`, a `:N` suffix (TensorFlow variable names) dropped.
    private static func lastComponent(_ name: String) -> Substring {
        var last = name.split(whereSeparator: { $0 == "/" || $0 == "." }).last ?? Substring(name)
        if let colon = last.lastIndex(of: ":") { last = last[..<colon] }
        return last
    }

    /// The name the bias of kernel array `name` has by the usual naming: the last component `kernel`,
    /// `depthwise_kernel` or `weight` replaced by `bias` (`conv1.weight` → `conv1.bias`, `conv2d/kernel:0` →
    /// `conv2d/bias:0`); `nil` for other names.
    public static func biasName(for name: String) -> String? {
        let last = lastComponent(name)
        guard ["kernel", "depthwise_kernel", "weight"].contains(last) else { return nil }
        return name[..<last.startIndex] + "bias" + name[last.endIndex...]
    }

    /// Every 4-D array in file order, as a convolution kernel: its layout (`layout` when given, else
    /// `inferLayout`; for a `.npy` file by shape only, since its name is the file's, not a convention) and its
    /// bias (`biasName`'s array when it is 1-D with one value per filter).
    /// - Parameter given: A layout to force on every kernel, or `nil` to infer each.
    public func convolutions(layout given: String? = nil) -> [ConvolutionWeights] {
        entries.filter { $0.array.shape.count == 4 }.map { entry in
            let (layout, source) = given.map { ($0, "given") } ?? Self.inferLayout(name: format == .npy ? "" : entry.name, shape: entry.array.shape)
            var found = ConvolutionWeights(name: entry.name, shape: entry.array.shape, layout: layout, layoutSource: source, bias: nil)
            if let biasName = Self.biasName(for: entry.name), let bias = self[biasName], let filters = found.dimensions?.filters,
               bias.shape == [filters] {
                found.bias = biasName
            }
            return found
        }
    }

    /// The bank of one convolution kernel: `layer` names it; without `layer` the file must hold exactly one 4-D array
    /// (a weight file holds arrays, not a graph: there is no layer order to follow). Its bias sibling comes along.
    /// - Parameters:
    ///   - layer: The kernel array's name, or `nil` for the file's only 4-D array.
    ///   - layout: `"HWIO"`, `"OIHW"` or `"HWCM"` to force, or `nil` to infer (`inferLayout`).
    ///   - names: Filter names, or `nil` for `f0`, `f1`, ….
    ///   - bankName: The bank's `name`.
    ///   - source: How errors name the file.
    /// - Returns: The bank (stride 1, valid padding: these formats do not store them) and the kernel it came from.
    /// - Throws: `LayerError` when the layer is missing, ambiguous or of undecided layout; `BankError` for bad values.
    public func bank(layer: String?, layout: String?, names: [String]?, bankName: String, source: String) throws -> (FilterBank, ConvolutionWeights) {
        let all = convolutions(layout: layout)
        let chosen: ConvolutionWeights
        if let layer {
            guard let found = all.first(where: { $0.name == layer }) else {
                if let other = self[layer] {
                    throw LayerError(path: source, reason: "array '\(layer)' has shape \(other.shape), not a 4-D convolution kernel")
                }
                throw LayerError(path: source, reason: "no array named '\(layer)' (kernels: \(Self.list(all.map(\.name))); see --list)")
            }
            chosen = found
        } else {
            switch all.count {
            case 0:
                throw LayerError(path: source, reason: "no 4-D convolution kernel among its arrays (\(Self.list(entries.map { "\($0.name) \($0.array.shape)" })))")
            case 1: chosen = all[0]
            default:
                throw LayerError(path: source, reason: "holds \(all.count) convolution kernels (\(Self.list(all.map(\.name)))) and no layer order: pick one with --layer NAME (see --list)")
            }
        }
        guard let chosenLayout = chosen.layout else {
            throw LayerError(path: source, reason: "cannot tell HWIO from OIHW for '\(chosen.name)' of shape \(chosen.shape); give --layout")
        }
        let bank = try FilterBank(importing: self[chosen.name]!, bias: chosen.bias.flatMap { self[$0] }, layout: chosenLayout, names: names,
                                  name: bankName, source: source)
        return (bank, chosen)
    }

    /// At most eight names, then "… (N in all)".
    private static func list(_ names: [String]) -> String {
        names.count <= 8 ? names.joined(separator: ", ") : names.prefix(8).joined(separator: ", ") + ", … (\(names.count) in all)"
    }
}
