internal import CConvKernels

/// A bank run over an image that arrives as bands of rows and leaves as bands of output rows, holding only a window
/// of rows: memory grows with the image's width, not its area. Every output value is computed exactly as
/// `ConvolutionPlan.run` computes it (the same kernels, taps, weights and order), so the maps are bit-identical.
///
/// ```swift
/// let stream = try ConvolutionStream(bank: bank, input: Extent2D(height: h, width: w))
/// while let rows = next() {                    // any number of input rows at a time, top first
///     stream.push(rows) { filter, firstRow, band in write(filter, band) }
/// }
/// stream.finish { filter, firstRow, band in write(filter, band) }
/// ```
///
/// The window holds the rows the kernels' halo needs plus a band of `bandRows` output rows per filter. A `circular`
/// padding mode with vertical pads reads the image's last rows before its first output row, so it holds the whole
/// image until the end (`isBounded` is false then).
public final class ConvolutionStream {
    /// The plan the stream runs, laid out for its window.
    public let plan: ConvolutionPlan
    /// Output rows computed per filter and step (the last band may be shorter).
    public let bandRows: Int
    /// Whether memory stays bounded by the window (false for `circular` padding with vertical pads).
    public var isBounded: Bool { !(plan.bank.paddingMode == .circular && plan.insets.top + plan.insets.bottom > 0) }
    /// The input rows pushed so far.
    public private(set) var rowsPushed = 0

    private let jobs: Int
    private let kernels: KernelLevel
    /// Input rows `firstRaw ..< firstRaw + rawCount`, planar: channel `c`, row `r` at `(c · rawCapacity + r − firstRaw) · width`.
    private var raw: [Float]
    private var rawCapacity: Int
    private var firstRaw = 0, rawCount = 0
    /// The most input rows held at once (for tests of the memory bound).
    private(set) var peakHeldRows = 0
    /// The window's phase planes (the plan's layout: `plan.windowRows` rows).
    private var planes: [Float]
    /// Per filter: the next output row to compute.
    private var nextRow: [Int]
    /// Padded rows whose source rows have all arrived: `0 ..< availablePadded`.
    private var availablePadded = 0
    /// Where each padded row and column comes from.
    private let sources: ConvolutionPlan.PadSources
    /// `keepFrom[p]`: the smallest input row any padded row from `p` on reads (the input rows the stream must keep).
    private let keepFrom: [Int]

    /// A stream of `bank` over an image of `input` size.
    /// - Parameters:
    ///   - bank: the filters and their settings.
    ///   - input: the image's size; its rows then come through `push(_:emit:)`.
    ///   - bandRows: output rows per filter and step (at least 1); larger bands mean fewer, larger kernel calls and
    ///     a larger window.
    ///   - jobs: threads working on each band; never changes the result.
    ///   - kernels: which compiled kernels run; never changes the result.
    /// - Throws: `ConvolutionError` when the bank cannot run on an image of this size.
    public init(bank: FilterBank, input: Extent2D, bandRows: Int = 64, jobs: Int = 1, kernels: KernelLevel = .best) throws(ConvolutionError) {
        let bandRows = max(bandRows, 1)
        plan = try ConvolutionPlan(bank: bank, input: input, bandRows: bandRows)
        self.bandRows = bandRows
        self.jobs = jobs
        self.kernels = kernels
        let insets = plan.insets
        sources = plan.padSources
        let rowSource = sources.rows
        var keepFrom = [Int](repeating: input.height, count: rowSource.count + 1)
        for p in rowSource.indices.reversed() { keepFrom[p] = rowSource[p] >= 0 ? min(rowSource[p], keepFrom[p + 1]) : keepFrom[p + 1] }
        self.keepFrom = keepFrom
        rawCapacity = plan.windowRows + insets.top + insets.bottom + 1
        raw = []
        planes = [Float](repeating: 0, count: plan.channelStride * bank.channels + 16)
        nextRow = [Int](repeating: 0, count: bank.filters.count)
    }

    /// The bytes a stream of `bank` over `input` holds at its peak (see `memoryBytes`), without making one.
    /// - Throws: `ConvolutionError` when the bank cannot run on an image of this size.
    public static func memoryBytes(bank: FilterBank, input: Extent2D, bandRows: Int) throws(ConvolutionError) -> Int {
        memoryBytes(plan: try ConvolutionPlan(bank: bank, input: input, bandRows: bandRows), bandRows: max(bandRows, 1))
    }

    /// The bytes the stream holds at its peak (window planes, input rows, one band of every map and of the low-rank
    /// scratch), not counting input rows kept for a `circular` pad. Saturates.
    public var memoryBytes: Int { Self.memoryBytes(plan: plan, bandRows: bandRows) }

    private static func memoryBytes(plan: ConvolutionPlan, bandRows: Int) -> Int {
        let channels = plan.bank.channels, width = plan.input.width
        var total = Saturating(plan.channelStride) * channels + 16
        // Input rows: the window's, the vertical pads' sources, and one piece of about a band's input rows pushed.
        let piece = min((Saturating(bandRows) * plan.bank.stride.height).value, plan.input.height)
        total = total + (Saturating(plan.windowRows) + plan.insets.top + plan.insets.bottom + 1 + piece) * width * channels
        for (f, filter) in zip(plan.filters, plan.bank.filters) {
            total = total + Saturating(min(bandRows, f.geometry.output.height)) * f.geometry.output.width
            if let factors = f.separable {
                total = total + (Saturating(piece) + plan.windowRows) * (f.geometry.output.width + 16) * factors.terms * filter.channels
            }
        }
        return (total * MemoryLayout<Float>.stride).value
    }

    /// A band of output rows of one filter: `rows` rows of `width` values, top first, starting at output row
    /// `firstRow`. Valid only during the call.
    public typealias Emit<E: Error> = (_ filter: Int, _ firstRow: Int, _ band: UnsafeBufferPointer<Float>) throws(E) -> Void

    /// Adds the next input rows (`rows.height` rows of the input's width and the bank's channels) and emits every
    /// output band they complete.
    /// - Precondition: the rows fit the input: width, channels, and no more rows in total than its height.
    public func push<E: Error>(_ rows: Tensor, emit: Emit<E>) throws(E) {
        let input = plan.input, channels = plan.bank.channels
        precondition(rows.width == input.width && rows.channels == channels, "rows do not match the stream's input")
        precondition(rowsPushed + rows.height <= input.height, "more rows than the image has")
        // Room for the new rows (dropping rows no future padded row needs happens in `step`).
        if rawCount + rows.height > rawCapacity || raw.isEmpty {
            let capacity = max(rawCapacity, rawCount + rows.height)
            var grown = [Float](repeating: 0, count: capacity * input.width * channels)
            for c in 0..<channels where rawCount > 0 {
                for r in 0..<rawCount {
                    let from = (c * rawCapacity + r) * input.width, to = (c * capacity + r) * input.width
                    for x in 0..<input.width { grown[to + x] = raw[from + x] }
                }
            }
            raw = grown
            rawCapacity = capacity
        }
        rows.storage.withUnsafeBufferPointer { source in
            raw.withUnsafeMutableBufferPointer { buffer in
                for c in 0..<channels {
                    (buffer.baseAddress! + (c * rawCapacity + rawCount) * input.width)
                        .update(from: source.baseAddress! + c * rows.height * input.width, count: rows.height * input.width)
                }
            }
        }
        rawCount += rows.height
        rowsPushed += rows.height
        peakHeldRows = max(peakHeldRows, rawCount)
        // Padded rows whose sources have arrived (the bottom pad's sources are among the last rows).
        while availablePadded < sources.rows.count, sources.rows[availablePadded] < rowsPushed { availablePadded += 1 }
        try drain(emit)
    }

    /// Emits the rest, once every input row has been pushed.
    /// - Precondition: all `input.height` rows were pushed.
    public func finish<E: Error>(emit: Emit<E>) throws(E) {
        precondition(rowsPushed == plan.input.height, "the stream has not had every input row")
        try drain(emit)
        precondition(zip(nextRow, plan.filters).allSatisfy { $0 == $1.geometry.output.height }, "rows left over")
    }

    /// Runs steps while some filter can compute rows.
    private func drain<E: Error>(_ emit: Emit<E>) throws(E) {
        while let step = nextStep() { try run(step, emit) }
    }

    /// One step: per filter, the output rows to compute, and the padded rows the window then holds.
    private struct Step {
        var rows: [Range<Int>]
        var windowStart: Int, windowEnd: Int
    }

    private func firstPaddedRow(_ f: Int, _ y: Int) -> Int { plan.filters[f].originRow + y * plan.bank.stride.height }

    private func nextStep() -> Step? {
        let bank = plan.bank, sh = bank.stride.height, dh = bank.dilation.height
        let remaining = plan.filters.indices.filter { nextRow[$0] < plan.filters[$0].geometry.output.height }
        guard let start = remaining.map({ firstPaddedRow($0, nextRow[$0]) }).min() else { return nil }
        let limit = min(availablePadded, start + plan.windowRows)
        var rows = [Range<Int>](repeating: 0..<0, count: plan.filters.count)
        var end = start, any = false
        for f in remaining {
            let span = (bank.filters[f].kernel.height - 1) * dh + 1
            let first = nextRow[f]
            // Rows y with firstPaddedRow(f, y) + span ≤ limit.
            let room = limit - span - plan.filters[f].originRow
            guard room >= 0 else { continue }
            let last = min(room / sh + 1, plan.filters[f].geometry.output.height, first + bandRows)
            guard last > first else { continue }
            rows[f] = first..<last
            end = max(end, firstPaddedRow(f, last - 1) + span)
            any = true
        }
        return any ? Step(rows: rows, windowStart: start, windowEnd: end) : nil
    }

    private func run<E: Error>(_ step: Step, _ emit: Emit<E>) throws(E) {
        fillWindow(step.windowStart..<step.windowEnd)
        // Bands of every direct filter in this step, computed together on the workers, then the low-rank ones.
        var bands = [[Float]](repeating: [], count: step.rows.count)
        for f in plan.filters.indices where !step.rows[f].isEmpty {
            bands[f] = ConvolutionPlan.uninitializedMap(Extent2D(height: step.rows[f].count, width: plan.filters[f].geometry.output.width))
        }
        planes.withUnsafeBufferPointer { src in
            for f in plan.filters.indices where !step.rows[f].isEmpty && plan.passes[f] != nil {
                bands[f].withUnsafeMutableBufferPointer { out in
                    plan.runPasses(filter: f, channel: nil, planes: src.baseAddress!, output: out.baseAddress!, jobs: jobs, kernels: kernels,
                                   rows: step.rows[f], windowStart: step.windowStart)
                }
            }
            let direct = plan.blocks.indices.filter { !step.rows[plan.blocks[$0].filters.lowerBound].isEmpty }
            var first = 0
            while first < direct.count {
                let chunk = Array(direct[first..<min(first + ConvolutionPlan.chunkFilters / 8, direct.count)])
                let filters = chunk.flatMap { Array(plan.blocks[$0].filters) }
                withMutablePointers(&bands, filters) { outputs in
                    plan.runDirectBands(chunk, rows: chunk.map { step.rows[plan.blocks[$0].filters.lowerBound] }, windowStart: step.windowStart,
                                        planes: src.baseAddress!, outputs: outputs, jobs: jobs, kernels: kernels)
                }
                first += chunk.count
            }
        }
        for f in plan.filters.indices where !step.rows[f].isEmpty {
            let first = step.rows[f].lowerBound
            try bands[f].withUnsafeBufferPointer { band in Result { () throws(E) in try emit(f, first, band) } }.get()
            nextRow[f] = step.rows[f].upperBound
        }
        dropRawRows()
    }

    /// Writes padded rows `rows` into the window (its row 0 is padded row `rows.lowerBound`), in the plan's layout.
    private func fillWindow(_ rows: Range<Int>) {
        let (channels, width) = (plan.bank.channels, plan.input.width)
        let (channelStride, rowStride, phaseStride) = (plan.channelStride, plan.rowStride, plan.phaseStride)
        let (firstRaw, rawCapacity, sources, plan) = (self.firstRaw, self.rawCapacity, self.sources, self.plan)
        raw.withUnsafeBufferPointer { rawBuffer in
            planes.withUnsafeMutableBufferPointer { planeBuffer in
                let src = SharedReads(base: rawBuffer.baseAddress!), dst = DisjointWrites(base: planeBuffer.baseAddress!)
                let count = rows.count
                parallelFor(count * channels, jobs: count * channels >= 64 ? jobs : 1) { k in
                    let c = k % channels, i = k / channels
                    let sy = sources.rows[rows.lowerBound + i]
                    plan.fillPaddedRow(sy < 0 ? nil : src.base + (c * rawCapacity + sy - firstRaw) * width, at: dst.base + c * channelStride + i * rowStride,
                                       phaseStride: phaseStride, columnSource: sources.columns)
                }
            }
        }
    }

    /// Drops the input rows no future padded row reads (keeping those a bottom pad reflects or replicates).
    private func dropRawRows() {
        let remaining = plan.filters.indices.filter { nextRow[$0] < plan.filters[$0].geometry.output.height }
        guard let start = remaining.map({ firstPaddedRow($0, nextRow[$0]) }).min() else {
            firstRaw += rawCount
            rawCount = 0
            return
        }
        let keep = keepFrom[start]
        let drop = min(max(keep - firstRaw, 0), rawCount)
        guard drop > 0 else { return }
        let width = plan.input.width
        raw.withUnsafeMutableBufferPointer { buffer in
            for c in 0..<plan.bank.channels {
                let base = buffer.baseAddress! + c * rawCapacity * width
                base.update(from: base + drop * width, count: (rawCount - drop) * width)
            }
        }
        firstRaw += drop
        rawCount -= drop
    }
}
