extension Network {
    /// Total parameters as Keras `model.count_params()` counts them (the sum of `NetworkLayer.parameterCount`).
    public var parameterCount: Int { layers.reduce(0) { $0 + $1.parameterCount } }

    /// The names of the convolution layers, in order.
    public var convolutionLayerNames: [String] {
        layers.compactMap { if case .convolution = $0.kind { $0.name } else { nil } }
    }

    /// A Keras `model.summary()`-style table: every layer with its type, settings, output shape (H×W×C; `?×?×C`
    /// without an input size) and parameters as Keras counts them, then the total.
    /// - Parameter input: the image's height and width, for the output sizes; nil shows only channels.
    /// - Throws: `NetworkError.layer` naming the first layer whose kernel or window does not fit the input size.
    /// - Complexity: O(layers), plus a convolution plan per convolution layer with an input size.
    public func summary(input: Extent2D? = nil) throws(NetworkError) -> String {
        var lines = ["Network \"\(name)\": \(layers.count) layer\(layers.count == 1 ? "" : "s"), \(channels) input channel\(channels == 1 ? "" : "s"), preprocess \(preprocess.summaryText)"]
        if let input { lines.append("input \(input.height)×\(input.width)×\(channels) (H×W×C)") }
        let sizes = try input.map { e throws(NetworkError) in try outputExtents(input: e) }
        let counts = channelCounts
        let header = ["Layer", "Type", "Settings", "Output (H×W×C)", "Params"]
        var rows: [[String]] = []
        for (k, layer) in layers.enumerated() {
            let shape = sizes.map { "\($0[k].height)×\($0[k].width)×\(counts[k + 1])" } ?? "?×?×\(counts[k + 1])"
            rows.append([layer.name, layer.typeName, layer.settingsText, shape, grouped(layer.parameterCount)])
        }
        let widths = header.indices.map { col in max(header[col].count, rows.map { $0[col].count }.max() ?? 0) }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { col, cell in
                col != header.count - 1 ? cell.padding(toLength: widths[col], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[col] - cell.count) + cell
            }.joined(separator: "   ").trimmingTrailingSpaces()
        }
        let rule = String(repeating: "─", count: widths.reduce(0, +) + 3 * (widths.count - 1))
        lines += [rule, line(header), rule] + rows.map(line) + [rule, "Total params: \(grouped(parameterCount))"]
        return lines.joined(separator: "\n")
    }
}

extension NetworkLayer {
    /// The Keras layer this one is: `Conv2D`, `DepthwiseConv2D`, `MaxPooling2D`, `AveragePooling2D`,
    /// `BatchNormalization`, `Activation`, `PReLU`.
    public var typeName: String {
        switch kind {
        case .convolution(let bank):
            bank.groups > 1 && bank.groups == bank.channels && bank.filters[0].channels == 1 ? "DepthwiseConv2D" : "Conv2D"
        case .pooling(let p): p.kind == .max ? "MaxPooling2D" : "AveragePooling2D"
        case .batchNorm: "BatchNormalization"
        case .activation: "Activation"
        case .prelu: "PReLU"
        }
    }

    /// The layer's settings in a few words (`3×3, 64 filters, stride 1×1, same, relu`).
    public var settingsText: String {
        switch kind {
        case .convolution(let bank):
            let k = bank.filters[0].kernel
            return "\(k.shape), \(bank.filters.count) filter\(bank.filters.count == 1 ? "" : "s")\(bank.groups > 1 ? ", \(bank.groups) groups" : ""), stride \(bank.stride.shape)"
                + (bank.dilation != Extent2D(1) ? ", dilation \(bank.dilation.shape)" : "") + ", \(bank.padding), \(bank.activation.rawValue)"
        case .pooling(let p): return "\(p.size.shape), stride \(p.stride.shape), \(p.padding)"
        case .batchNorm(let bn): return "epsilon \(bn.epsilon)"
        case .activation(let a): return a.rawValue
        case .prelu(let alpha): return "\(alpha.count) slope\(alpha.count == 1 ? "" : "s")"
        }
    }
}

extension Preprocess {
    /// The mode's name, or `scale/offset` (with `bgr`).
    var summaryText: String {
        switch self {
        case .none: "none"
        case .caffe: "caffe"
        case .tf: "tf"
        case .torch: "torch"
        case .affine(_, _, let bgr): bgr ? "bgr, scale/offset" : "scale/offset"
        }
    }
}
