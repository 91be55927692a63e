/// Everything about running a bank on images of one size, worked out before any pixel is touched: each
/// filter's output size and pads, the padded input planes' size, and each filter's taps as (offset, weight)
/// pairs into those planes. The inner loop never branches on padding, mode or bank layout.
///
/// All filters read the same padded planes, padded once with the union of the filters' pads; a filter whose
/// own pads are smaller starts its taps further in. This is exact for every padding mode, because a mode's
/// fill depends only on the position relative to the image, not on how wide the pad is.
public struct ConvolutionPlan: Sendable {
    /// One filter's part of the plan.
    public struct FilterPlan: Sendable {
        public let geometry: ConvolutionGeometry
        /// Offset of output pixel (0, 0)'s first tap in the padded plane of channel 0.
        let origin: Int
        /// Per channel, per tap `(i, j)` in row-major order: offset from the pixel's origin (includes the channel's plane).
        let tapOffsets: [Int]
        let tapWeights: [Float]
        let tapsPerChannel: Int
    }

    public let bank: FilterBank
    public let input: Extent2D
    /// The union of every filter's pads.
    public let insets: EdgeInsets
    /// Size of one padded plane.
    public let padded: Extent2D
    public let filters: [FilterPlan]

    /// Plans `bank` on inputs of `input` size.
    /// - Throws: `ConvolutionError` when a kernel does not fit or `reflect` cannot fill a pad.
    /// - Complexity: O(Σ taps) for the bank.
    public init(bank: FilterBank, input: Extent2D) throws(ConvolutionError) {
        var geometries: [ConvolutionGeometry] = []
        var union = EdgeInsets.zero
        for index in bank.filters.indices {
            let g = try bank.geometry(of: index, input: input)
            geometries.append(g)
            union = union.union(g.insets)
        }
        if bank.paddingMode == .reflect,
           max(union.top, union.bottom) >= input.height || max(union.left, union.right) >= input.width {
            if max(union.top, union.bottom, union.left, union.right) > 0 {
                throw .padTooWide(mode: .reflect, insets: union, input: input)
            }
        }
        let padded = Extent2D(height: input.height + union.top + union.bottom, width: input.width + union.left + union.right)
        // Absurd pads or dilations (a hostile bank) must fail cleanly, not exhaust memory.
        let (area, overflow) = padded.height.multipliedReportingOverflow(by: padded.width)
        let limit = max(4 * input.height * input.width, 1 << 24)
        if overflow || area > limit {
            throw .paddingTooLarge(insets: union, input: input)
        }
        let planeSize = padded.height * padded.width
        var plans: [FilterPlan] = []
        for (filter, g) in zip(bank.filters, geometries) {
            let origin = (union.top - g.insets.top) * padded.width + (union.left - g.insets.left)
            var offsets: [Int] = [], weights: [Float] = []
            for c in 0..<filter.channels {
                for i in 0..<filter.kernel.height {
                    for j in 0..<filter.kernel.width {
                        offsets.append(c * planeSize + i * bank.dilation.height * padded.width + j * bank.dilation.width)
                        weights.append(filter[c, i, j])
                    }
                }
            }
            plans.append(FilterPlan(geometry: g, origin: origin, tapOffsets: offsets, tapWeights: weights,
                                    tapsPerChannel: filter.kernel.height * filter.kernel.width))
        }
        self.bank = bank
        self.input = input
        self.insets = union
        self.padded = padded
        self.filters = plans
    }

    /// The input's channels with the plan's border filled by the bank's padding mode, as one buffer of
    /// `channels` padded planes.
    /// - Complexity: O(channels · padded height · padded width).
    public func pad(_ image: Tensor) -> [Float] {
        precondition(image.extent == input && image.channels == bank.channels, "image does not match the plan")
        let mode = bank.paddingMode
        let rowSource = (0..<padded.height).map { mode.sourceIndex($0 - insets.top, length: input.height) }
        let columnSource = (0..<padded.width).map { mode.sourceIndex($0 - insets.left, length: input.width) }
        let planeSize = padded.height * padded.width
        var out = [Float](repeating: 0, count: planeSize * image.channels)
        image.storage.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for c in 0..<image.channels {
                    let plane = c * input.height * input.width
                    for py in 0..<padded.height {
                        guard let sy = rowSource[py] else { continue }
                        let srcRow = plane + sy * input.width
                        let dstRow = c * planeSize + py * padded.width
                        // The image part of the row in one copy, then the border cells.
                        for px in 0..<insets.left { if let sx = columnSource[px] { dst[dstRow + px] = src[srcRow + sx] } }
                        for x in 0..<input.width { dst[dstRow + insets.left + x] = src[srcRow + x] }
                        for px in (insets.left + input.width)..<padded.width {
                            if let sx = columnSource[px] { dst[dstRow + px] = src[srcRow + sx] }
                        }
                    }
                }
            }
        }
        return out
    }
}
