/// One output value of a pooling, batch normalization, activation or PReLU layer taken apart: what the layer read
/// and how it got the value. Computed in exactly the layer's order, so `output` equals the layer's map bit for bit.
/// (A convolution layer's pixel is a `PixelExplanation`.)
public struct LayerExplanation: Sendable {
    /// How the value was made.
    public enum Detail: Sendable {
        /// A pooling window: its real pixels are input rows `rows` × columns `columns` (the padding never counts),
        /// `values` lists them in row-major order when there are at most `LayerExplanation.maxListedValues` (else it
        /// is empty); for a max, `winner` is the input position of the first largest value in row-major order; `sum`
        /// is their sum in row-major order (an average divides it by the count).
        case pooling(Pooling, rows: ClosedRange<Int>, columns: ClosedRange<Int>, values: [Float], winner: (y: Int, x: Int)?, sum: Float)
        /// Batch normalization of `input`: `inv = gamma / √(variance + epsilon)` (in `Double`, rounded once),
        /// `shift = beta − mean · inv`, `output = input · inv + shift`.
        case batchNorm(gamma: Float, beta: Float, mean: Float, variance: Float, epsilon: Float, inv: Float, shift: Float, input: Float)
        /// An activation of `input`.
        case activation(Activation, input: Float)
        /// PReLU: `input` if it is not negative, else `alpha · input`.
        case prelu(alpha: Float, input: Float)
    }

    /// A pooling window's values are listed up to this many real pixels (16×16); a larger window (a global pool) is
    /// summed up by its count, sum and winner.
    public static let maxListedValues = 256

    /// The layer's name.
    public var layer: String
    /// The layer's Keras type (`MaxPooling2D`, `BatchNormalization`, …).
    public var typeName: String
    /// The layer's settings in a few words.
    public var settings: String
    /// The channel (the map `f<channel>`).
    public var channel: Int
    /// The output position (column, row).
    public var x: Int, y: Int
    /// The layer's output size.
    public var output: Extent2D
    /// How the value was made.
    public var detail: Detail
    /// The layer's output at (`x`, `y`) on `channel`: the map's value, bit for bit.
    public var value: Float
}

extension NetworkLayer {
    /// Explains output pixel (`x`, `y`) of channel `channel` of this layer on `input` (the previous layer's output,
    /// or the preprocessed image for a first layer).
    /// - Parameters:
    ///   - input: what the layer reads.
    ///   - channel: the output channel (0-based).
    ///   - x: the output column.
    ///   - y: the output row.
    /// - Returns: nil for a convolution layer (see `FilterBank.explain(_:filter:x:y:)`).
    /// - Throws: `ConvolutionError` when the window does not fit or the position is outside the map.
    /// - Complexity: O(window) for pooling, O(1) otherwise.
    public func explain(_ input: Tensor, channel: Int, x: Int, y: Int) throws(ConvolutionError) -> LayerExplanation? {
        let extent = try outputExtent(input: input.extent)
        guard x >= 0, y >= 0, x < extent.width, y < extent.height else { throw .positionOutside(x: x, y: y, output: extent) }
        precondition((0..<input.channels).contains(channel), "channel inside the input")
        let detail: LayerExplanation.Detail, value: Float
        switch kind {
        case .convolution:
            return nil
        case .pooling(let pool):
            let g = try pool.geometry(input: input.extent)
            let y0 = y * pool.stride.height - g.insets.top, x0 = x * pool.stride.width - g.insets.left
            let ys = max(y0, 0)..<min(y0 + pool.size.height, input.height), xs = max(x0, 0)..<min(x0 + pool.size.width, input.width)
            let count = ys.count * xs.count
            var values: [Float] = []
            if count <= LayerExplanation.maxListedValues { values.reserveCapacity(count) }
            // As `Pooling.run`: a running max from −∞; a row-major sum divided by the real pixels' count.
            var best: Float = -.infinity
            var sum: Float = 0
            var winner: (y: Int, x: Int)?
            for iy in ys {
                for ix in xs {
                    let v = input[iy, ix, channel]
                    if count <= LayerExplanation.maxListedValues { values.append(v) }
                    let next = Swift.max(best, v)
                    if winner == nil || next != best { winner = (iy, ix) }
                    best = next
                    sum += v
                }
            }
            value = pool.kind == .max ? best : sum / Float(count)
            detail = .pooling(pool, rows: ys.lowerBound...(ys.upperBound - 1), columns: xs.lowerBound...(xs.upperBound - 1), values: values,
                              winner: pool.kind == .max ? winner : nil, sum: sum)
        case .batchNorm(let bn):
            let c = channel
            let inv = Float(Double(bn.gamma[c]) / (Double(bn.variance[c]) + Double(bn.epsilon)).squareRoot())
            let shift = bn.beta[c] - bn.mean[c] * inv
            let v = input[y, x, c]
            value = v * inv + shift
            detail = .batchNorm(gamma: bn.gamma[c], beta: bn.beta[c], mean: bn.mean[c], variance: bn.variance[c], epsilon: bn.epsilon,
                                inv: inv, shift: shift, input: v)
        case .activation(let activation):
            let v = input[y, x, channel]
            value = activation == .linear ? v : activation.apply(v)
            detail = .activation(activation, input: v)
        case .prelu(let alpha):
            let v = input[y, x, channel]
            value = v < 0 ? alpha[channel] * v : v
            detail = .prelu(alpha: alpha[channel], input: v)
        }
        return LayerExplanation(layer: name, typeName: typeName, settings: settingsText, channel: channel, x: x, y: y, output: extent,
                                detail: detail, value: value)
    }
}

extension LayerExplanation: CustomStringConvertible {
    /// The explanation as text: the layer, the window or formula with its numbers, the value.
    public var description: String {
        var lines = ["layer '\(layer)' (\(typeName): \(settings)), map 'f\(channel)' (channel \(channel)), output pixel x=\(x), y=\(y) of a \(output.width)×\(output.height) (W×H) map"]
        switch detail {
        case let .pooling(pool, rows, columns, values, winner, sum):
            let window = pool.size.height * pool.size.width, count = rows.count * columns.count
            lines.append("window: input rows \(rows.lowerBound)…\(rows.upperBound), columns \(columns.lowerBound)…\(columns.upperBound): \(count) of \(pool.size.height)×\(pool.size.width) = \(window) pixels in the image\(count < window ? " (the rest is padding, which never counts)" : "")")
            if !values.isEmpty {
                let cells = values.enumerated().map { k, v in
                    formatNumber(v) + (winner.map { $0.y == rows.lowerBound + k / columns.count && $0.x == columns.lowerBound + k % columns.count } == true ? "<" : "")
                }
                let width = cells.map(\.count).max() ?? 1
                for r in 0..<rows.count {
                    let line = cells[(r * columns.count)..<((r + 1) * columns.count)].map { $0.padding(toLength: width, withPad: " ", startingAt: 0) }
                    lines.append("    \(r == 0 ? "values" : "      ") [ \(line.joined(separator: " ")) ]")
                }
            } else {
                lines.append("(\(count) values: more than \(LayerExplanation.maxListedValues), not listed)")
            }
            if pool.kind == .max, let winner {
                lines.append("max: \(formatNumber(value)) at input x=\(winner.x), y=\(winner.y) (\(values.isEmpty ? "" : "marked <; ")the first of equal maxima in row-major order)")
            } else {
                let terms = values.isEmpty ? "" : values.map { formatNumber($0) }.joined(separator: " + ") + " = "
                lines.append("sum of the \(count) real pixels: \(terms)\(formatNumber(sum))")
                lines.append("mean: \(formatNumber(sum)) / \(count) = \(formatNumber(value))")
            }
        case let .batchNorm(gamma, beta, mean, variance, epsilon, inv, shift, input):
            lines.append("input value x = \(formatNumber(input))")
            lines.append("inv = gamma / √(variance + epsilon) = \(formatNumber(gamma)) / √(\(formatNumber(variance)) + \(formatNumber(epsilon))) = \(formatNumber(inv))")
            lines.append("shift = beta − mean · inv = \(formatNumber(beta)) − \(formatNumber(mean)) · \(formatNumber(inv)) = \(formatNumber(shift))")
            lines.append("y = x · inv + shift = \(formatNumber(input)) · \(formatNumber(inv)) + \(formatNumber(shift)) = \(formatNumber(value))")
        case let .activation(activation, input):
            lines.append("before: \(formatNumber(input))")
            lines.append("after \(activation.rawValue): \(activation.rawValue)(\(formatNumber(input))) = \(formatNumber(value))")
        case let .prelu(alpha, input):
            lines.append("before: \(formatNumber(input)); alpha[\(channel)] = \(formatNumber(alpha))")
            lines.append(input < 0 ? "after prelu: \(formatNumber(input)) < 0, so alpha · x = \(formatNumber(alpha)) · \(formatNumber(input)) = \(formatNumber(value))"
                         : "after prelu: \(formatNumber(input)) ≥ 0, so unchanged = \(formatNumber(value))")
        }
        lines.append("value of map 'f\(channel)' at x=\(x), y=\(y): \(formatNumber(value))")
        return lines.joined(separator: "\n")
    }
}
