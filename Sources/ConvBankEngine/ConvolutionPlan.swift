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
        /// Where this filter's pads start inside the union-padded image.
        let originRow: Int, originColumn: Int
        /// For a large kernel of low rank: per channel, `terms` column factors `u` (kh) and row factors `v` (kw) with
        /// `w[c][i][j] ≈ Σ_k u[c][k][i] · v[c][k][j]`, run as row passes then one column pass. Nil: direct.
        public var separable: LowRank?
    }

    /// How a filter runs: directly, or as a sum of outer products.
    enum Path: Sendable, Equatable {
        case direct
        case lowRank(LowRank)

        /// The engine's own choice for `filter`.
        init(_ filter: Filter) {
            self = ConvolutionPlan.lowRankFactors(filter).map { .lowRank($0) } ?? .direct
        }
    }

    /// A kernel written as a short sum of outer products (rank 1: separable).
    public struct LowRank: Sendable, Equatable {
        /// Terms per channel (channels of lower rank are padded with zero terms).
        public var terms: Int
        /// `u[c][k]`: column factor `k` of channel `c` (kh values); `v[c][k]`: its row factor (kw values).
        public var u: [[[Float]]], v: [[[Float]]]
    }

    /// Factors each channel's kernel into `r` outer products by Gaussian elimination with full pivoting (in `Double`):
    /// pivot `w[p][q]` = the largest remaining weight, `u_i = w[i][q]`, `v_j = w[p][j] / w[p][q]`, subtract `u vᵀ`,
    /// repeat until every remaining weight is within 1e-6 of the kernel's largest. Used when that pays:
    /// kh, kw ≥ 3 and `r · 2 · (kh + kw) < kh · kw` (rank 1 from 5×5 up; rank 2 from 9×9; rank 3 from 13×13 …).
    /// Accuracy: every weight is reproduced within 1e-6 of the largest weight (the dense sum and the low-rank sum
    /// then differ by at most 1e-6·max|w|·Σ|x| plus float32 rounding of the regrouped sums).
    /// The factors the engine uses for `filter`: its override if it has one, else its own choice.
    static func chosenFactors(_ filter: Filter) -> LowRank? {
        switch filter.pathOverride ?? Path(filter) {
        case .direct: return nil
        case .lowRank(let factors): return factors
        }
    }

    static func lowRankFactors(_ filter: Filter) -> LowRank? {
        let kh = filter.kernel.height, kw = filter.kernel.width
        guard kh >= 3, kw >= 3, 2 * (kh + kw) < kh * kw else { return nil }
        var us: [[[Float]]] = [], vs: [[[Float]]] = []
        for c in 0..<filter.channels {
            // Stop once one more term would no longer pay (then the rest must already be negligible).
            guard let (u, v) = filter.eliminate(channel: c, stopAfter: { $0 * 2 * (kh + kw) >= kh * kw }) else { return nil }
            us.append(u.map { $0.map { Float($0) } })
            vs.append(v.map { $0.map { Float($0) } })
        }
        let terms = max(us.map(\.count).max() ?? 0, 1)
        guard terms * 2 * (kh + kw) < kh * kw else { return nil }
        for c in us.indices {
            while us[c].count < terms {
                us[c].append([Float](repeating: 0, count: kh))
                vs[c].append([Float](repeating: 0, count: kw))
            }
        }
        return LowRank(terms: terms, u: us, v: vs)
    }

    /// Consecutive filters with one kernel size and origin, run together by one kernel call.
    struct Block: Sendable {
        var filters: Range<Int>
        var width: Int
        /// Per channel tap, its offset within one channel's phase planes.
        var tapOffsets: [Int]
        /// `[c][tap][slot]`, zero in unused slots.
        var weights: [Float]
        var biases: [Float]
    }

    public let bank: FilterBank
    public let input: Extent2D
    /// The union of every filter's pads.
    public let insets: EdgeInsets
    /// Size of one padded plane.
    public let padded: Extent2D
    public let filters: [FilterPlan]
    /// Column phases (the horizontal stride): phase `p` holds padded columns `p, p + sw, …`, so every tap
    /// reads 16 consecutive floats for 16 neighbouring outputs.
    let phaseWidth: Int, rowStride: Int, phaseStride: Int, channelStride: Int
    let blocks: [Block]

    /// Plans `bank` on inputs of `input` size.
    /// - Throws: `ConvolutionError` when a kernel does not fit, `reflect` cannot fill a pad, or the pads are absurd.
    /// - Complexity: O(Σ taps) for the bank.
    public init(bank: FilterBank, input: Extent2D) throws(ConvolutionError) {
        var geometries: [ConvolutionGeometry] = []
        var union = EdgeInsets.zero
        for index in bank.filters.indices {
            let g: ConvolutionGeometry
            do { g = try bank.geometry(of: index, input: input) } catch {
                throw .filterDoesNotFit(index: index, name: bank.filters[index].name, error)
            }
            geometries.append(g)
            union = union.union(g.insets)
        }
        if bank.paddingMode == .reflect,
           max(union.top, union.bottom) >= input.height || max(union.left, union.right) >= input.width {
            throw .padTooWide(mode: .reflect, insets: union, input: input)
        }
        // Absurd pads or dilations (a hostile bank) must fail cleanly, not exhaust memory: the padded image may be
        // at most 4× the input (or 16 M pixels), and no size computed here may overflow.
        let tooLarge = ConvolutionError.paddingTooLarge(insets: union, input: input)
        guard let paddedHeight = checked(input.height.addingReportingOverflow(union.top)).flatMap({ checked($0.addingReportingOverflow(union.bottom)) }),
              let paddedWidth = checked(input.width.addingReportingOverflow(union.left)).flatMap({ checked($0.addingReportingOverflow(union.right)) }),
              let area = checked(paddedHeight.multipliedReportingOverflow(by: paddedWidth)),
              let inputArea = checked(input.height.multipliedReportingOverflow(by: input.width)),
              area <= max(inputArea.multipliedReportingOverflow(by: 4).overflow ? Int.max : 4 * inputArea, 1 << 24)
        else { throw tooLarge }
        let padded = Extent2D(height: paddedHeight, width: paddedWidth)
        // Only the phases that hold a column exist (at most the padded width), so a stride far above the image
        // costs no more memory than stride 1: the planes are one padded copy of the input, never stride × input.
        let sw = bank.stride.width
        phaseWidth = padded.width / sw + (padded.width % sw == 0 ? 0 : 1)
        let phases = min(sw, padded.width)
        // Small strides: a 16-lane load at a row's last output never leaves its row. Large strides would pay 16
        // floats per phase row for that, so their loads run on into the next row (the lanes past the output are
        // discarded; the planes end with 16 spare floats).
        rowStride = phaseWidth + (sw <= 16 ? 16 : 0)
        phaseStride = padded.height * rowStride
        channelStride = phases * phaseStride
        var plans: [FilterPlan] = []
        for (g, filter) in zip(geometries, bank.filters) {
            plans.append(FilterPlan(geometry: g, originRow: union.top - g.insets.top, originColumn: union.left - g.insets.left,
                                    separable: Self.chosenFactors(filter)))
        }
        // Blocks of up to 8 consecutive filters sharing kernel size and origin.
        var blocks: [Block] = []
        var start = 0
        while start < bank.filters.count {
            if plans[start].separable != nil {
                start += 1
                continue
            }
            var end = start + 1
            func same(_ a: Int, _ b: Int) -> Bool {
                bank.filters[a].kernel == bank.filters[b].kernel && bank.filters[a].firstChannel == bank.filters[b].firstChannel
                    && plans[a].originRow == plans[b].originRow
                    && plans[a].originColumn == plans[b].originColumn && plans[a].geometry.output == plans[b].geometry.output
            }
            while end < bank.filters.count, end - start < 8, plans[end].separable == nil, same(start, end) { end += 1 }
            var count = end - start
            let width = count >= 8 ? 8 : (count >= 4 ? 4 : 1)
            count = min(count, width)
            end = start + count
            let kernel = bank.filters[start].kernel
            let taps = kernel.height * kernel.width
            var offsets: [Int] = []
            for i in 0..<kernel.height {
                for j in 0..<kernel.width {
                    let column = plans[start].originColumn + j * bank.dilation.width
                    offsets.append((column % sw) * phaseStride + (plans[start].originRow + i * bank.dilation.height) * rowStride + column / sw)
                }
            }
            let filterChannels = bank.filters[start].channels
            var weights = [Float](repeating: 0, count: filterChannels * taps * width)
            var biases = [Float](repeating: 0, count: width)
            for (slot, f) in (start..<end).enumerated() {
                let filter = bank.filters[f]
                biases[slot] = filter.bias
                for c in 0..<filterChannels {
                    for t in 0..<taps { weights[(c * taps + t) * width + slot] = filter.weights[c * taps + t] }
                }
            }
            blocks.append(Block(filters: start..<end, width: width, tapOffsets: offsets, weights: weights, biases: biases))
            start = end
        }
        self.bank = bank
        self.input = input
        self.insets = union
        self.padded = padded
        self.filters = plans
        self.blocks = blocks
    }

    /// The bytes that `run` allocates for one image at its peak: the padded phase planes, every output map, and the
    /// row-pass scratch of the largest low-rank filter (those run one at a time). Saturates at `Int.max`.
    /// - Complexity: O(filters).
    public var memoryBytes: Int {
        var total = Saturating(channelStride) * bank.channels + 16
        var separable = Saturating(0)
        for (plan, filter) in zip(filters, bank.filters) {
            let out = plan.geometry.output
            total = total + Saturating(out.height) * out.width
            if let factors = plan.separable {
                let rows = Saturating(out.height - 1) * bank.stride.height + Saturating(filter.kernel.height - 1) * bank.dilation.height + 1
                let scratch = (rows * Saturating(out.width + 16) + 16) * factors.terms * filter.channels
                separable = Saturating(max(separable.value, scratch.value))
            }
        }
        return ((total + separable) * MemoryLayout<Float>.stride).value
    }

    /// The input's channels with the plan's border filled by the bank's padding mode, laid out as the kernels
    /// read them: per channel, `stride.width` column-phase planes of `rowStride`-float rows.
    /// - Complexity: O(channels · padded height · padded width).
    func padPhased(_ image: Tensor, jobs: Int = 1) -> [Float] {
        precondition(image.extent == input && image.channels == bank.channels, "image does not match the plan")
        let mode = bank.paddingMode
        let sw = bank.stride.width
        let rowSource = (0..<padded.height).map { mode.sourceIndex($0 - insets.top, length: input.height) ?? -1 }
        let columnSource = (0..<padded.width).map { mode.sourceIndex($0 - insets.left, length: input.width) ?? -1 }
        let count = channelStride * image.channels + 16
        let (inputHeight, inputWidth, left, paddedWidth) = (input.height, input.width, insets.left, padded.width)
        let (channelStride, rowStride, phaseStride) = (self.channelStride, self.rowStride, self.phaseStride)
        let bands = (padded.height + 31) / 32
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            buffer.initialize(repeating: 0)
            let dst = DisjointWrites(base: buffer.baseAddress!)
            image.storage.withUnsafeBufferPointer { source in
                let src = SharedReads(base: source.baseAddress!)
                // Workers fill disjoint padded rows of every channel.
                parallelFor(bands * image.channels, jobs: jobs) { k in
                    let c = k % image.channels, band = k / image.channels
                    let plane = c * inputHeight * inputWidth
                    for py in (band * 32)..<min(band * 32 + 32, rowSource.count) {
                        let sy = rowSource[py]
                        if sy < 0 { continue }
                        let srcRow = src.base + plane + sy * inputWidth
                        let dstRow = dst.base + c * channelStride + py * rowStride
                        if sw == 1 {
                            for px in 0..<left where columnSource[px] >= 0 { dstRow[px] = srcRow[columnSource[px]] }
                            (dstRow + left).update(from: srcRow, count: inputWidth)
                            for px in (left + inputWidth)..<paddedWidth where columnSource[px] >= 0 { dstRow[px] = srcRow[columnSource[px]] }
                        } else {
                            for px in 0..<paddedWidth where columnSource[px] >= 0 {
                                dstRow[(px % sw) * phaseStride + px / sw] = srcRow[columnSource[px]]
                            }
                        }
                    }
                }
            }
            initialized = count
        }
    }
}
