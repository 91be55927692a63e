import ConvBankEngine

/// A trained model read from a model file (a Keras `.keras` archive, a Keras 2 `.h5` model, an `.onnx` graph):
/// the layers convbank runs, from the input up to the first one it does not, and every convolution layer the file
/// holds (for `import --list` and `import --layer`).
public struct ImportedModel: Sendable {
    /// The first layer of the model that convbank does not run, where the imported stack ends.
    public struct Stop: Sendable, Equatable {
        /// The layer's (or node's) name in the file.
        public var layer: String
        /// Its type in the file (`Dense`, `Flatten`, `Gemm`, …).
        public var type: String
        /// Why it is not run, in a few words (`not a layer kind convbank runs`, `pads differ from same`, …).
        public var reason: String

        /// A stop.
        /// - Parameters:
        ///   - layer: the layer's name in the file.
        ///   - type: its type in the file.
        ///   - reason: why it is not run.
        public init(layer: String, type: String, reason: String) {
            self.layer = layer
            self.type = type
            self.reason = reason
        }
    }

    /// One convolution layer of the file, as a bank.
    public struct ConvolutionLayer: Sendable {
        /// The layer's name in the file.
        public var name: String
        /// The kernel array's shape as stored (`[kh, kw, C, F]` for Keras, `[F, C/groups, kh, kw]` for ONNX).
        public var storedShape: [Int]
        /// The stored layout: `"HWIO"`, `"HWCM"` (depthwise) or `"OIHW"`.
        public var layout: String
        /// The layer as a bank: weights, bias, stride, dilation, padding, groups and fused activation.
        public var bank: FilterBank

        /// A convolution layer.
        /// - Parameters:
        ///   - name: the layer's name in the file.
        ///   - storedShape: the kernel array's shape as stored.
        ///   - layout: the stored layout.
        ///   - bank: the layer as a bank.
        public init(name: String, storedShape: [Int], layout: String, bank: FilterBank) {
            self.name = name
            self.storedShape = storedShape
            self.layout = layout
            self.bank = bank
        }
    }

    /// The file's format, as `--list` names it: `keras`, `h5` or `onnx`.
    public var format: String
    /// The model's name in the file (or the file's stem).
    public var name: String
    /// The layers convbank runs, from the input on, in order; stops before `stop`.
    public var layers: [NetworkLayer]
    /// The first layer not run, or `nil` when the whole model is in `layers`.
    public var stop: Stop?
    /// Every convolution layer of the file, in file order (also those after `stop`).
    public var convolutions: [ConvolutionLayer]
    /// Preprocessing the file itself states (a Keras `Rescaling` first layer), else `.none`.
    public var preprocess: Preprocess

    /// A model read from a file.
    /// - Parameters:
    ///   - format: `keras`, `h5` or `onnx`.
    ///   - name: the model's name.
    ///   - layers: the layers run, from the input on.
    ///   - stop: the first layer not run.
    ///   - convolutions: every convolution layer of the file.
    ///   - preprocess: preprocessing the file states.
    public init(format: String, name: String, layers: [NetworkLayer], stop: Stop?, convolutions: [ConvolutionLayer],
                preprocess: Preprocess = .none) {
        self.format = format
        self.name = name
        self.layers = layers
        self.stop = stop
        self.convolutions = convolutions
        self.preprocess = preprocess
    }

    /// A layer's name in a model file as a layer (folder) name: leading `/` dropped, `/` and control characters as
    /// `_`, a leading `.` as `_`, empty as `node<index>`, at most `Filter.maximumNameBytes − 8` bytes (room for a
    /// uniqueness suffix).
    /// - Parameters:
    ///   - name: the name in the file.
    ///   - index: the layer's position, for an empty name.
    static func folderName(_ name: String, index: Int) -> String {
        var s = name
        while s.hasPrefix("/") { s.removeFirst() }
        s = String(String.UnicodeScalarView(s.unicodeScalars.map { $0 == "/" || $0.value < 0x20 || $0.value == 0x7F ? "_" : $0 }))
        if s.hasPrefix(".") { s = "_" + s.dropFirst() }
        if s.isEmpty { s = "node\(index)" }
        while s.utf8.count > Filter.maximumNameBytes - 8 { s.removeLast() }
        return s
    }

    /// `layers` as a network named `name`.
    /// - Parameter name: the network's name (default: the model's).
    /// - Throws: `NetworkError` when no layer was run (the model starts with a layer convbank does not run), or
    ///   the layers do not chain.
    public func network(name: String? = nil) throws(NetworkError) -> Network {
        try Network(name: name ?? self.name, preprocess: preprocess, layers: layers)
    }

    /// The `import --list` text: a header line, one line per convolution layer (name, stored kernel shape, layout,
    /// filters × kernel × channels, stride, dilation, padding, activation), then where the runnable stack ends.
    /// - Parameter path: the file as given.
    public func listing(path: String) -> String {
        var lines = ["'\(path)' (.\(format) model '\(name)'): \(layers.count) layer\(layers.count == 1 ? "" : "s") convbank runs, \(convolutions.count) convolution layer\(convolutions.count == 1 ? "" : "s")"]
        let width = convolutions.map(\.name.count).max() ?? 0
        for c in convolutions {
            let b = c.bank, k = b.filters[0].kernel
            let shape = "(" + c.storedShape.map(String.init).joined(separator: ", ") + ")"
            var line = "  \(c.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(shape)  \(c.layout)  \(b.filters.count) filters \(k.height)×\(k.width)×\(b.channels)"
            if b.groups > 1 { line += " groups \(b.groups)" }
            line += "  stride \(b.stride.jsonText)  dilation \(b.dilation.jsonText)  padding \(b.padding.jsonText)  \(b.activation.rawValue)"
            lines.append(line)
        }
        if let stop {
            lines.append("stack ends before '\(stop.layer)' (\(stop.type)): \(stop.reason)")
        } else {
            lines.append("the whole model is a stack convbank runs")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
