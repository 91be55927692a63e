import Foundation
internal import CConvKernels

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
        /// The filter's output size, pads and strides on this input.
        public let geometry: ConvolutionGeometry
        /// Where this filter's pads start inside the union-padded image.
        let originRow: Int, originColumn: Int
        /// For a large kernel of low rank: the factors it runs with, as row passes then one column pass. Nil: direct.
        let separable: LowRank?
        /// How many outer-product terms the engine runs this filter with (1: separable, a row pass then a column
        /// pass); nil when it runs the kernel directly.
        public var lowRankTerms: Int? { separable?.terms }
    }

    /// A kernel written as a short sum of outer products (rank 1: separable): per channel, `terms` column factors
    /// `u` (kh values) and row factors `v` (kw values) with `w[c][i][j] ≈ Σ_k u[c][k][i] · v[c][k][j]`.
    struct LowRank: Sendable, Equatable {
        /// Terms per channel (channels of lower rank are padded with zero terms).
        var terms: Int
        /// `u[c][k]`: column factor `k` of channel `c` (kh values); `v[c][k]`: its row factor (kw values).
        var u: [[[Float]]], v: [[[Float]]]
    }

    /// Factors each channel's kernel into `r` outer products (`Filter.eliminate`, Gaussian elimination with full
    /// pivoting in `Double`, to within 1e-6 of the largest weight). Used when that pays: kh, kw ≥ 3 and
    /// `r · 2 · (kh + kw) < kh · kw` (rank 1 from 5×5 up; rank 2 from 9×9; rank 3 from 13×13 …).
    /// Accuracy: every weight is reproduced within 1e-6 of the largest weight (the dense sum and the low-rank sum
    /// then differ by at most 1e-6·max|w|·Σ|x| plus float32 rounding of the regrouped sums).
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

    /// Consecutive direct filters with one kernel size, first channel and origin, run together by one kernel call.
    /// Its pointers are into the plan's `buffers`, which live as long as the plan and never change.
    struct Block: @unchecked Sendable {
        var filters: Range<Int>
        /// Weight slots per tap: 64 or 32 (the wide kernel), 8, 4 or 1.
        var width: Int
        /// Per channel tap, its offset within one channel's phase planes (kh · kw values).
        let tapOffsets: UnsafePointer<Int>
        /// `[c][tap][slot]`, zero in unused slots.
        let weights: UnsafePointer<Float>
        /// One per slot.
        let biases: UnsafePointer<Float>
    }

    /// A low-rank filter's pass inputs, in the plan's `buffers`.
    struct PassBuffers: @unchecked Sendable {
        /// Row pass: per kernel column `j`, its offset within a channel's phase planes.
        let rowOffsets: UnsafePointer<Int>
        /// Row pass weights `v[c][k][j]`, at `(c · terms + k) · kw + j`.
        let rowWeights: UnsafePointer<Float>
        /// Column pass: per term `k` and kernel row `i`, its offset within one channel's row-pass scratch.
        let columnOffsets: UnsafePointer<Int>
        /// Column pass weights `u[c][k][i]`, at `(c · terms + k) · kh + i`.
        let columnWeights: UnsafePointer<Float>
        /// The filter's bias.
        let bias: UnsafePointer<Float>
    }

    /// A whole-image run in bands of output rows (`runBanded`): each worker pads only the rows its band reads, into a
    /// window of its own that it reads back at once, instead of one padded copy of the whole image before the kernels
    /// start (that pass, and the kernels then reading the copy from L3, cost W3 about 10 %). The window has the
    /// plan's row layout and its own phase and channel strides; each block's taps are laid out for it.
    struct Banded: @unchecked Sendable {
        /// Output rows per band.
        var rows: Int
        /// Padded rows a window holds: a band's strides and the tallest kernel.
        var windowRows: Int
        var phaseStride: Int, channelStride: Int
        /// The padded row of every filter's first output row (one for all: a banded plan's filters share it).
        var originRow: Int
        /// Per block, its tap offsets within one channel of a window (the plan's `buffers`).
        var tapOffsets: [UnsafePointer<Int>]
    }

    /// What follows the bias: relu runs inside the kernels; any other non-linear activation runs in Swift on each
    /// band of rows the kernels finish.
    enum Epilogue: Sendable, Equatable {
        case none
        case relu
        case after(Activation)

        init(_ activation: Activation) {
            switch activation {
            case .linear: self = .none
            case .relu: self = .relu
            default: self = .after(activation)
            }
        }

        /// `cck_direct_job.activation`: what the kernels apply themselves.
        var kernelActivation: Int { self == .relu ? Int(CCK_ACTIVATION_RELU) : Int(CCK_ACTIVATION_NONE) }

        /// Applies the part the kernels did not to `count` values from `values`.
        func finish(_ values: UnsafeMutablePointer<Float>, count: Int) {
            guard case .after(let activation) = self else { return }
            for i in 0..<count { values[i] = activation.apply(values[i]) }
        }
    }

    /// The bank the plan runs.
    public let bank: FilterBank
    /// The input size the plan was made for.
    public let input: Extent2D
    /// The union of every filter's pads.
    public let insets: EdgeInsets
    /// Size of one padded plane.
    public let padded: Extent2D
    /// Per filter, in bank order: its geometry and how it runs.
    public let filters: [FilterPlan]
    /// Column phases (the horizontal stride): phase `p` holds padded columns `p, p + sw, …`, so every tap
    /// reads 16 consecutive floats for 16 neighbouring outputs.
    let phaseWidth: Int, rowStride: Int, phaseStride: Int, channelStride: Int
    /// Padded rows the phase planes hold at once: the whole padded height, or a `ConvolutionStream`'s window.
    let windowRows: Int
    /// Output rows per filter computed at once: nil for the whole map, or a `ConvolutionStream`'s band.
    let bandRows: Int?
    /// The direct filters, in blocks.
    let blocks: [Block]
    /// How a whole-image run goes in bands, when it does: every filter direct, with one origin and one output size,
    /// and at least two bands of output rows (nil for a `ConvolutionStream`'s plan, which has its own window).
    let banded: Banded?
    /// Per filter: its block (direct filters), nil for low-rank ones.
    let blockOfFilter: [Int?]
    /// Per filter: its weights `[c][tap]` (each filter's channel slices, for partial maps).
    let filterWeights: [SharedReads<Float>]
    /// Per filter: its low-rank passes' inputs, nil for direct ones.
    let passes: [PassBuffers?]
    /// A single 0, the bias of partial maps.
    let zero: SharedReads<Float>
    /// The bank's activation, split between the kernels and Swift.
    let epilogue: Epilogue
    /// Owns every buffer the pointers above point into; allocated once here, freed with the plan.
    let buffers: PlanBuffers

    /// Plans `bank` on inputs of `input` size.
    /// - Throws: `ConvolutionError` when a kernel does not fit, `reflect` cannot fill a pad, or the pads are absurd.
    /// - Complexity: O(Σ taps) for the bank.
    public init(bank: FilterBank, input: Extent2D) throws(ConvolutionError) {
        try self.init(bank: bank, input: input, bandRows: nil)
    }

    /// Plans `bank` on inputs of `input` size, computing at most `bandRows` output rows per filter at a time (nil: the
    /// whole map, with phase planes of the whole padded height). A `ConvolutionStream` holds only a window of padded
    /// rows: a step may start each filter at a different padded row (their own origins and progress) and take up to
    /// `bandRows` rows, so the window spans that spread, the band's strides and the tallest kernel. Its taps and
    /// low-rank scratch are laid out for that window and band. `wideBlocks` false keeps every block at 8 filters or
    /// fewer (the tests compare the wide kernel against it). Whole-image runs go in bands (`Banded`) when the padded
    /// copy would take at least `bandedFrom` bytes (nil: never; the tests compare both ways).
    package init(bank: FilterBank, input: Extent2D, bandRows: Int?, wideBlocks: Bool = true,
                 bandedFrom: Int? = ConvolutionPlan.bandedMinimumBytes) throws(ConvolutionError) {
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
        var window = padded.height
        if let bandRows {
            let origins = geometries.map { union.top - $0.insets.top }
            let span = bank.filters.map { ($0.kernel.height - 1) * bank.dilation.height + 1 }.max() ?? 1
            let (bandSpan, overflow) = (max(bandRows, 1) - 1).multipliedReportingOverflow(by: bank.stride.height)
            if !overflow { window = min(window, bandSpan.addingReportingOverflow(span + (origins.max() ?? 0) - (origins.min() ?? 0)).partialValue) }
        }
        self.windowRows = max(window, 1)
        self.bandRows = bandRows.map { max($0, 1) }
        phaseStride = self.windowRows * rowStride
        channelStride = phases * phaseStride
        var plans: [FilterPlan] = []
        for (g, filter) in zip(geometries, bank.filters) {
            plans.append(FilterPlan(geometry: g, originRow: union.top - g.insets.top, originColumn: union.left - g.insets.left,
                                    separable: Self.lowRankFactors(filter)))
        }
        let buffers = PlanBuffers()
        // Blocks of up to 8 consecutive filters sharing kernel size and origin; or of 32 or 64 such filters for the wide
        // kernel (filters in the vector lanes, wide.c) when each has at least `wideTaps` weights: there it beats the
        // 8-filter kernel (a CNN's first layer, 64 × 7×7×3), while few taps (a 3×3 on one channel) favour pixels in
        // the lanes.
        var blocks: [Block] = []
        var blockOfFilter = [Int?](repeating: nil, count: bank.filters.count)
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
            let wide = wideBlocks && bank.filters[start].channels * bank.filters[start].kernel.height * bank.filters[start].kernel.width
                >= Self.wideTaps
            while end < bank.filters.count, end - start < (wide ? 64 : 8), plans[end].separable == nil, same(start, end) { end += 1 }
            var count = end - start
            let width = wide && count >= 64 ? 64 : wide && count >= 32 ? 32 : count >= 8 ? 8 : (count >= 4 ? 4 : 1)
            count = min(count, width)
            end = start + count
            let kernel = bank.filters[start].kernel
            let taps = kernel.height * kernel.width
            let offsets = Self.tapOffsets(kernel: kernel, originRow: plans[start].originRow, originColumn: plans[start].originColumn,
                                          bank: bank, phaseStride: phaseStride, rowStride: rowStride)
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
            for f in start..<end { blockOfFilter[f] = blocks.count }
            blocks.append(Block(filters: start..<end, width: width, tapOffsets: buffers.store(offsets), weights: buffers.store(weights),
                                biases: buffers.store(biases)))
            start = end
        }
        var passes: [PassBuffers?] = []
        for (plan, filter) in zip(plans, bank.filters) {
            guard let factors = plan.separable else {
                passes.append(nil)
                continue
            }
            let kh = filter.kernel.height, kw = filter.kernel.width, terms = factors.terms
            var rowOffsets: [Int] = []
            for j in 0..<kw {
                let column = plan.originColumn + j * bank.dilation.width
                rowOffsets.append((column % sw) * phaseStride + column / sw)
            }
            // The column pass reads the row-pass scratch: per term a plane of `rowStride`-float rows.
            let scratch = ScratchGeometry(filter: filter, bank: bank, outputRows: min(bandRows ?? Self.passBandRows, plan.geometry.output.height),
                                          outputWidth: plan.geometry.output.width)
            var columnOffsets: [Int] = []
            for k in 0..<terms {
                for i in 0..<kh { columnOffsets.append(k * scratch.termStride + i * bank.dilation.height * scratch.rowStride) }
            }
            passes.append(PassBuffers(
                rowOffsets: buffers.store(rowOffsets), rowWeights: buffers.store(factors.v.flatMap { $0.flatMap { $0 } }),
                columnOffsets: buffers.store(columnOffsets), columnWeights: buffers.store(factors.u.flatMap { $0.flatMap { $0 } }),
                bias: buffers.store([filter.bias])))
        }
        // Bands of `bandedRows` output rows when every filter is direct with one origin and one output size, and the
        // padded copy would not stay in a core's cache anyway.
        var banded: Banded?
        if let bandedFrom, bandRows == nil, passes.allSatisfy({ $0 == nil }), let first = plans.first,
           plans.allSatisfy({ $0.originRow == first.originRow && $0.geometry.output == first.geometry.output }),
           first.geometry.output.height >= 2 * Self.bandedRows,
           (Saturating(channelStride) * bank.channels * MemoryLayout<Float>.size).value >= bandedFrom {
            let span = bank.filters.map { ($0.kernel.height - 1) * bank.dilation.height + 1 }.max() ?? 1
            let windowRows = min((Self.bandedRows - 1) * bank.stride.height + span, padded.height)
            let bandRowStride = rowStride, bandPhaseStride = windowRows * rowStride
            var offsets: [UnsafePointer<Int>] = []
            for block in blocks {
                let f = block.filters.lowerBound
                offsets.append(buffers.store(Self.tapOffsets(kernel: bank.filters[f].kernel, originRow: plans[f].originRow,
                                                             originColumn: plans[f].originColumn, bank: bank,
                                                             phaseStride: bandPhaseStride, rowStride: bandRowStride)))
            }
            banded = Banded(rows: Self.bandedRows, windowRows: windowRows, phaseStride: bandPhaseStride, channelStride: phases * bandPhaseStride,
                            originRow: first.originRow, tapOffsets: offsets)
        }
        self.banded = banded
        self.blockOfFilter = blockOfFilter
        self.passes = passes
        self.filterWeights = bank.filters.map { SharedReads(base: buffers.store($0.weights)) }
        self.zero = SharedReads(base: buffers.store([Float(0)]))
        self.epilogue = Epilogue(bank.activation)
        self.buffers = buffers
        self.bank = bank
        self.input = input
        self.insets = union
        self.padded = padded
        self.filters = plans
        self.blocks = blocks
    }

    /// A direct block's tap offsets within one channel of phase planes of `phaseStride` and `rowStride`: per tap (row-major),
    /// its phase plane, padded row and column.
    static func tapOffsets(kernel: Extent2D, originRow: Int, originColumn: Int, bank: FilterBank, phaseStride: Int, rowStride: Int) -> [Int] {
        let sw = bank.stride.width
        var offsets: [Int] = []
        for i in 0..<kernel.height {
            for j in 0..<kernel.width {
                let column = originColumn + j * bank.dilation.width
                offsets.append((column % sw) * phaseStride + (originRow + i * bank.dilation.height) * rowStride + column / sw)
            }
        }
        return offsets
    }

    /// The input planes a whole-image `run` with `jobs` holds at once, in floats: one padded copy of the image, or with
    /// bands one window per worker (no more workers than bands or cores).
    func inputPlaneFloats(jobs: Int) -> Saturating {
        guard let banded else { return Saturating(channelStride) * bank.channels + 16 }
        let bands = (filters[0].geometry.output.height + banded.rows - 1) / banded.rows
        let workers = min(bands, max(min(jobs, ProcessInfo.processInfo.activeProcessorCount), 1))
        return (Saturating(banded.channelStride) * bank.channels + 16) * workers
    }

    /// The bytes that `run` allocates for one image at its peak on any number of jobs (`memoryBytes(jobs:)` with one
    /// per core).
    /// - Complexity: O(filters).
    public var memoryBytes: Int { memoryBytes(jobs: ProcessInfo.processInfo.activeProcessorCount) }

    /// The bytes that `run(_:jobs:kernels:)` with `jobs` allocates for one image at its peak: the padded phase planes
    /// (or, for a banded run, each worker's window of them), every output map, and the row-pass scratch of the largest
    /// low-rank filter (those run one at a time). Saturates at `Int.max`.
    /// - Complexity: O(filters).
    public func memoryBytes(jobs: Int) -> Int {
        var total = inputPlaneFloats(jobs: jobs)
        var separable = Saturating(0)
        for (plan, filter) in zip(filters, bank.filters) {
            let out = plan.geometry.output
            total = total + Saturating(out.height) * out.width
            if let factors = plan.separable {
                let scratch = ScratchGeometry.floats(plan: plan, filter: filter, bank: bank, terms: factors.terms) * filter.channels
                separable = Saturating(max(separable.value, scratch.value))
            }
        }
        return ((total + separable) * MemoryLayout<Float>.stride).value
    }

    /// The bytes `partialMaps(of:in:jobs:kernels:)` allocates for filter `f` at its peak: the padded phase planes,
    /// one map per channel of the filter and, for a low-rank filter, one channel's row-pass scratch. Saturates.
    /// - Complexity: O(1).
    public func partialMemoryBytes(of f: Int) -> Int {
        let plan = filters[f], filter = bank.filters[f], out = plan.geometry.output
        var total = Saturating(channelStride) * bank.channels + 16
        total = total + Saturating(out.height) * out.width * filter.channels
        if let factors = plan.separable { total = total + ScratchGeometry.floats(plan: plan, filter: filter, bank: bank, terms: factors.terms) }
        return (total * MemoryLayout<Float>.stride).value
    }

    /// Where each padded row and column comes from (`PaddingMode.sourceIndex`; -1: a zero pad).
    struct PadSources: Sendable {
        var rows: [Int], columns: [Int]
    }

    var padSources: PadSources {
        let mode = bank.paddingMode
        return PadSources(rows: (0..<padded.height).map { mode.sourceIndex($0 - insets.top, length: input.height) ?? -1 },
                          columns: (0..<padded.width).map { mode.sourceIndex($0 - insets.left, length: input.width) ?? -1 })
    }

    /// Writes a padded row at `dstRow` as the kernels read it: `stride.width` column-phase rows `phaseStride` floats
    /// apart, each `rowStride` floats with its slack zeroed; from the input row `srcRow` (`input.width` floats) with the
    /// pads `columnSource` gives, or zeros for a zero pad row (nil). Every float of the phase rows is written.
    func fillPaddedRow(_ srcRow: UnsafePointer<Float>?, at dstRow: UnsafeMutablePointer<Float>, phaseStride: Int, columnSource: [Int]) {
        let sw = bank.stride.width, left = insets.left, inputWidth = input.width, paddedWidth = padded.width
        let phases = min(sw, paddedWidth)
        guard let srcRow else {
            for p in 0..<phases { (dstRow + p * phaseStride).initialize(repeating: 0, count: rowStride) }
            return
        }
        func border(_ px: Int) -> Float { columnSource[px] >= 0 ? srcRow[columnSource[px]] : 0 }
        if sw == 1 {
            for px in 0..<left { dstRow[px] = border(px) }
            (dstRow + left).update(from: srcRow, count: inputWidth)
            for px in (left + inputWidth)..<paddedWidth { dstRow[px] = border(px) }
            (dstRow + paddedWidth).initialize(repeating: 0, count: rowStride - paddedWidth)
        } else if sw == 2 {
            // Pairs (2i, 2i + 1) inside the image split into the two phases at once; the pads and an odd
            // column at either end come from `columnSource`.
            let first = (left + 1) / 2, end = max((left + inputWidth) / 2, first)
            cck_deinterleave2(srcRow + (2 * first - left), end - first, dstRow + first, dstRow + phaseStride + first)
            for p in 0..<phases {
                let phaseRow = dstRow + p * phaseStride
                let columns = (paddedWidth - p + 1) / 2
                for q in 0..<min(first, columns) { phaseRow[q] = border(p + 2 * q) }
                for q in min(end, columns)..<columns { phaseRow[q] = border(p + 2 * q) }
                (phaseRow + columns).initialize(repeating: 0, count: rowStride - columns)
            }
        } else {
            // Phase p holds padded columns p, p + sw, …: the image's columns as one strided run, the
            // pads from `columnSource` (no division per pixel).
            for p in 0..<phases {
                let phaseRow = dstRow + p * phaseStride
                let columns = (paddedWidth - p + sw - 1) / sw
                let first = min(left > p ? (left - p + sw - 1) / sw : 0, columns)
                let end = max(min((left + inputWidth - p + sw - 1) / sw, columns), first)
                for q in 0..<first { phaseRow[q] = border(p + q * sw) }
                var from = srcRow + (p + first * sw - left)
                for q in first..<end {
                    phaseRow[q] = from.pointee
                    from += sw
                }
                for q in end..<columns { phaseRow[q] = border(p + q * sw) }
                (phaseRow + columns).initialize(repeating: 0, count: rowStride - columns)
            }
        }
    }

    /// The input's channels with the plan's border filled by the bank's padding mode, laid out as the kernels
    /// read them: per channel, `stride.width` column-phase planes of `rowStride`-float rows.
    /// - Complexity: O(channels · padded height · padded width).
    func padPhased(_ image: Tensor, jobs: Int = 1) -> [Float] {
        precondition(image.extent == input && image.channels == bank.channels, "image does not match the plan")
        let sources = padSources
        let count = channelStride * image.channels + 16
        let (inputHeight, inputWidth, paddedHeight) = (input.height, input.width, padded.height)
        let (channelStride, rowStride, phaseStride) = (self.channelStride, self.rowStride, self.phaseStride)
        let bands = (paddedHeight + 31) / 32
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            // Every float is written once, by the worker of its row (zeroing the whole buffer first, on one thread, was
            // a serial pass as long as the copy): pads and row slack get zeros, the 16 spare floats at the end too.
            (buffer.baseAddress! + (count - 16)).initialize(repeating: 0, count: 16)
            let dst = DisjointWrites(base: buffer.baseAddress!)
            image.storage.withUnsafeBufferPointer { source in
                let src = SharedReads(base: source.baseAddress!)
                // Workers fill disjoint padded rows of every channel.
                parallelFor(bands * image.channels, jobs: jobs) { k in
                    let c = k % image.channels, band = k / image.channels
                    for py in (band * 32)..<min(band * 32 + 32, paddedHeight) {
                        let sy = sources.rows[py]
                        self.fillPaddedRow(sy < 0 ? nil : src.base + (c * inputHeight + sy) * inputWidth, at: dst.base + c * channelStride + py * rowStride,
                                           phaseStride: phaseStride, columnSource: sources.columns)
                    }
                }
            }
            initialized = count
        }
    }
}

/// The row-pass scratch of a low-rank filter for `outputRows` output rows at a time: per channel and term, one plane
/// of the padded rows those outputs read, each `out.width` values plus 16 spare floats (the kernels' 16-lane loads),
/// and 16 spare floats per plane.
struct ScratchGeometry {
    /// Padded rows the filter reads for `outputRows` output rows.
    let rows: Int
    /// Floats from one scratch row to the next, from one term's plane to the next.
    let rowStride: Int, termStride: Int

    init(filter: Filter, bank: FilterBank, outputRows: Int, outputWidth: Int) {
        rows = (outputRows - 1) * bank.stride.height + (filter.kernel.height - 1) * bank.dilation.height + 1
        rowStride = outputWidth + 16
        termStride = rows * rowStride + 16
    }

    /// One channel's scratch for a whole map, in floats, computed without overflow (for memory estimates).
    static func floats(plan: ConvolutionPlan.FilterPlan, filter: Filter, bank: FilterBank, terms: Int) -> Saturating {
        let out = plan.geometry.output
        let rows = Saturating(out.height - 1) * bank.stride.height + Saturating(filter.kernel.height - 1) * bank.dilation.height + 1
        return (rows * Saturating(out.width + 16) + 16) * terms
    }
}

/// The memory behind a plan's pointers: tap offsets, packed weights, biases and low-rank factors, each copied once
/// when the plan is made and freed with it. Nothing writes to it after `ConvolutionPlan.init`, so threads share it.
final class PlanBuffers: @unchecked Sendable {
    private var allocations: [UnsafeMutableRawPointer] = []

    /// A copy of `values` that lives as long as `self` (at least one element's room, so never null).
    func store<T: BitwiseCopyable>(_ values: [T]) -> UnsafePointer<T> {
        let p = UnsafeMutablePointer<T>.allocate(capacity: max(values.count, 1))
        p.initialize(from: values, count: values.count)
        allocations.append(UnsafeMutableRawPointer(p))
        return UnsafePointer(p)
    }

    deinit { for p in allocations { p.deallocate() } }
}
