/// One output pixel of one filter taken apart: the receptive field, every tap's input value and weight,
/// each input channel's partial sum, the bias, and the value before and after the activation. Computed in
/// exactly the engine's order, so `postActivation` equals the map's value bit for bit.
public struct PixelExplanation: Sendable {
    /// One kernel tap.
    public struct Tap: Sendable {
        /// The filter's channel (the input channel is `firstChannel + channel`).
        public var channel: Int, i: Int, j: Int
        /// Input position read (may lie in the padding, outside the image).
        public var inputY: Int, inputX: Int
        /// Whether the position is in the padding; `value` is then what the padding mode supplied.
        public var inPadding: Bool
        /// The input value read, and the weight it is multiplied by.
        public var value: Float, weight: Float
    }

    /// The filter's name.
    public var filter: String
    /// The input channel the filter's channel 0 reads (non-zero in grouped banks).
    public var firstChannel: Int
    /// The output position explained (column, row).
    public var x: Int, y: Int
    /// The filter's output size.
    public var output: Extent2D
    /// The filter's geometry on this input (pads included).
    public var geometry: ConvolutionGeometry
    /// The kernel's size.
    public var kernel: Extent2D
    /// The bank's dilation.
    public var dilation: Extent2D
    /// What the padding supplied.
    public var paddingMode: PaddingMode
    /// The bank's activation.
    public var activation: Activation
    /// Taps in the engine's order: channel, then kernel row, then column.
    public var taps: [Tap]
    /// `partials[c]`: Σ over channel c's taps of value · weight.
    public var partials: [Float]
    /// Whether the engine runs this filter as 1-D passes (a large kernel of low rank r: r row passes, one column
    /// pass); the partials are then computed the same way, `Σ_k Σ_i u_ki · (Σ_j v_kj · value)`.
    public var separable: Bool
    /// The number of outer products (0 when run directly).
    public var terms: Int
    /// `Σ_c partials[c]`, added in channel order.
    public var channelSum: Float
    /// The filter's bias, added to `channelSum`.
    public var bias: Float
    /// `channelSum + bias`.
    public var preActivation: Float
    /// The activation of `preActivation`: the map's value at this position, bit for bit.
    public var postActivation: Float
}

extension FilterBank {
    /// Explains output pixel `(x, y)` of filter `filterIndex` on `image` (already adapted to `channels`).
    /// - Throws: `ConvolutionError` when the bank cannot run on the image or the position is outside the map.
    /// - Complexity: O(C · kh · kw).
    public func explain(_ image: Tensor, filter filterIndex: Int, x: Int, y: Int) throws(ConvolutionError) -> PixelExplanation {
        guard image.channels == channels else { throw .channelMismatch(image: image.channels, bank: channels) }
        let plan = try ConvolutionPlan(bank: self, input: image.extent)
        let g = plan.filters[filterIndex].geometry
        guard x >= 0, y >= 0, x < g.output.width, y < g.output.height else { throw .positionOutside(x: x, y: y, output: g.output) }
        let filter = filters[filterIndex]
        let factors = plan.filters[filterIndex].separable
        var taps: [PixelExplanation.Tap] = []
        var partials: [Float] = []
        for c in 0..<filter.channels {
            var acc: Float = 0
            var values: [Float] = []
            for i in 0..<filter.kernel.height {
                for j in 0..<filter.kernel.width {
                    let iy = y * stride.height + i * dilation.height - g.insets.top
                    let ix = x * stride.width + j * dilation.width - g.insets.left
                    let inside = iy >= 0 && ix >= 0 && iy < image.height && ix < image.width
                    var value: Float = 0
                    if let sy = paddingMode.sourceIndex(iy, length: image.height), let sx = paddingMode.sourceIndex(ix, length: image.width) {
                        value = image[sy, sx, filter.firstChannel + c]
                    }
                    let w = filter[c, i, j]
                    if factors == nil { acc.addProduct(w, value) }
                    values.append(value)
                    taps.append(.init(channel: c, i: i, j: j, inputY: iy, inputX: ix, inPadding: !inside, value: value, weight: w))
                }
            }
            if let factors {
                // As the engine: per term, row sums Σ_j value·v[j] from zero; then one accumulator over terms and rows.
                let kw = filter.kernel.width
                for k in 0..<factors.terms {
                    for i in 0..<filter.kernel.height {
                        var rowSum: Float = 0
                        for j in 0..<kw { rowSum.addProduct(values[i * kw + j], factors.v[c][k][j]) }
                        acc.addProduct(rowSum, factors.u[c][k][i])
                    }
                }
            }
            partials.append(acc)
        }
        var total = partials[0]
        for c in 1..<partials.count { total += partials[c] }
        let pre = total + filter.bias
        let post: Float = switch activation {
        case .linear: pre
        case .relu: pre > 0 ? pre : 0
        default: activation.apply(pre)
        }
        return PixelExplanation(filter: filter.name, firstChannel: filter.firstChannel, x: x, y: y, output: g.output, geometry: g, kernel: filter.kernel,
                                dilation: dilation, paddingMode: paddingMode, activation: activation, taps: taps,
                                partials: partials, separable: factors != nil, terms: factors?.terms ?? 0, channelSum: total, bias: filter.bias, preActivation: pre, postActivation: post)
    }
}

/// A float as a person reads it: integers without a fraction, others with the shortest round-tripping digits.
package func formatNumber(_ v: Float) -> String {
    if v == v.rounded(), Swift.abs(v) < 1e9 { return v == 0 ? "0" : String(Int(v)) }
    return "\(v)"
}

extension PixelExplanation: CustomStringConvertible {
    /// The explanation as text: receptive field, per-channel grids (kernels up to 9×9), partial sums, the sum.
    public var description: String {
        var lines: [String] = []
        let g = geometry
        let top = taps.first?.inputY ?? 0, left = taps.first?.inputX ?? 0
        let bottom = taps.last?.inputY ?? 0, right = taps.last?.inputX ?? 0
        lines.append("filter '\(filter)', output pixel x=\(x), y=\(y) of a \(output.width)×\(output.height) (W×H) map")
        lines.append("receptive field: input rows \(top)…\(bottom), columns \(left)…\(right) (kernel \(kernel.shape), dilation \(dilation.shape); pads T,B,L,R = \(g.insets); padding mode \(paddingMode.rawValue))")
        let padded = taps.filter(\.inPadding)
        if !padded.isEmpty {
            lines.append("\(padded.count) of \(taps.count) taps fall in the padding (marked *), filled by \(paddingMode.rawValue)")
        }
        if separable {
            lines.append(terms == 1 ? "the kernel is rank 1 in every channel, so it runs (and is summed here) as a row pass then a column pass"
                : "the kernel is a sum of \(terms) outer products in every channel, so it runs (and is summed here) as \(terms) row passes then a column pass")
        }
        let perChannel = kernel.height * kernel.width
        for (c, partial) in partials.enumerated() {
            let channelTaps = taps[(c * perChannel)..<((c + 1) * perChannel)]
            lines.append("channel \(firstChannel + c): partial sum Σ value·weight = \(formatNumber(partial))")
            if kernel.height <= 9 && kernel.width <= 9 {
                var valueRows: [String] = [], weightRows: [String] = []
                for i in 0..<kernel.height {
                    let r = channelTaps.filter { $0.i == i }
                    valueRows.append(r.map { formatNumber($0.value) + ($0.inPadding ? "*" : "") }.joined(separator: " "))
                    weightRows.append(r.map { formatNumber($0.weight) }.joined(separator: " "))
                }
                let width = valueRows.map(\.count).max() ?? 0
                for i in 0..<kernel.height {
                    let v = valueRows[i].padding(toLength: width, withPad: " ", startingAt: 0)
                    lines.append("    \(i == 0 ? "values" : "      ") [ \(v) ]   \(i == 0 ? "weights" : "       ") [ \(weightRows[i]) ]")
                }
            }
        }
        let sum = partials.map(formatNumber).joined(separator: " + ")
        lines.append("channel sum: \(sum) = \(formatNumber(channelSum))")
        lines.append("bias: \(formatNumber(bias))")
        lines.append("before activation: \(formatNumber(preActivation))")
        lines.append("after \(activation.rawValue): \(formatNumber(postActivation))")
        return lines.joined(separator: "\n")
    }
}
