internal import CConvKernels
import Foundation

extension FilterBank {
    /// Cross-correlates `image` with every filter (no kernel flip, as Keras `Conv2D`):
    /// `out_f(y, x) = act(b_f + Σ_c Σ_i Σ_j in_c(y·sh + i·dh − top, x·sw + j·dw − left) · w_f[c][i][j])`.
    ///
    /// Summation order, which `explain` reproduces exactly: each channel's partial sum adds its taps in
    /// `(i, j)` row-major order starting from zero; the partials are added in channel order; then the bias;
    /// then the activation. Results are bit-identical for any `jobs`.
    /// - Parameters:
    ///   - image: raw samples with exactly `channels` channels (see `Tensor.adapted(toChannels:)`).
    ///   - jobs: threads working on the image (row bands); never changes the result.
    ///   - kernels: which compiled kernels run (default: the widest this CPU has); never changes the result.
    /// - Returns: One single-channel tensor per filter, in bank order, before normalization.
    /// - Throws: `ConvolutionError` when the bank cannot run on an image of this size or channel count.
    /// - Complexity: O(H_out · W_out · C · k_h · k_w) multiply-adds per filter.
    public func convolve(_ image: Tensor, jobs: Int = 1, kernels: KernelLevel = .best) throws(ConvolutionError) -> [Tensor] {
        guard image.channels == channels else { throw .channelMismatch(image: image.channels, bank: channels) }
        let plan = try ConvolutionPlan(bank: self, input: image.extent)
        return plan.run(image, jobs: jobs, kernels: kernels)
    }
}

/// Which compiled copy of the convolution kernels runs.
public enum KernelLevel: Int, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    /// Baseline x86-64 (or any other architecture).
    case portable = 0
    /// x86-64-v3.
    case avx2 = 1
    /// x86-64-v4.
    case avx512 = 2

    /// The widest level this CPU runs (the engine reads no environment: the command line lowers it from
    /// `CONVBANK_KERNELS`, see `limited(byName:)`).
    public static let best: KernelLevel = KernelLevel(rawValue: Int(cck_cpu_level())) ?? .portable

    /// Every level this CPU can run.
    public static var available: [KernelLevel] { allCases.filter { $0 <= best } }

    /// `best`, lowered (never raised) to the level named `portable`, `avx2` or `avx512` (letter case ignored);
    /// `best` for nil or an unknown name.
    public static func limited(byName name: String?) -> KernelLevel {
        guard let name, let wanted = KernelLevel(name: name) else { return best }
        return min(wanted, best)
    }

    init?(name: String) {
        switch name.lowercased() {
        case "portable": self = .portable
        case "avx2": self = .avx2
        case "avx512": self = .avx512
        default: return nil
        }
    }

    /// Narrower levels order first: `portable < avx2 < avx512`.
    public static func < (a: KernelLevel, b: KernelLevel) -> Bool { a.rawValue < b.rawValue }

    /// The level's name, as `CONVBANK_KERNELS` spells it.
    public var description: String {
        switch self {
        case .portable: "portable"
        case .avx2: "avx2"
        case .avx512: "avx512"
        }
    }
}

extension ConvolutionPlan {
    /// Output rows per work item.
    static let workRows = 8

    /// Output rows per band of a banded whole-image run (`ConvolutionPlan.Banded`): W3's window is then 37 padded
    /// rows (0.5 MB with its 3 channels' two phases), which stays in a core's L2 while the band's kernels read it.
    static let bandedRows = 16

    /// Padded-copy size from which whole-image runs go in bands: a smaller copy stays in a core's cache (1–2 MiB of L2)
    /// while the kernels read it, so banding would only add the windows' overlap.
    static let bandedMinimumBytes = 2 << 20

    /// Runs the plan on `image` (its size and channels must match the plan).
    /// - Parameters:
    ///   - image: the input, of the size and channel count the plan was made for.
    ///   - jobs: threads working on the image (row bands); never changes the result.
    ///   - kernels: which compiled kernels to use (default: the best this CPU runs); all give
    ///     bit-identical results.
    /// - Returns: One single-channel tensor per filter, in bank order.
    /// - Complexity: O(H_out · W_out · C · k_h · k_w) multiply-adds per filter.
    public func run(_ image: Tensor, jobs: Int = 1, kernels: KernelLevel = .best) -> [Tensor] {
        // Every element is written by the kernels before anyone reads it, so the maps start uninitialised
        // (zeroing them first would double the memory traffic of a small bank).
        var storages = filters.map { Self.uninitializedMap($0.geometry.output) }
        runMaps(image, into: &storages, places: filters.indices.map { (array: $0, offset: 0) }, jobs: jobs, kernels: kernels)
        return zip(filters, storages).map { plan, storage in
            Tensor(height: plan.geometry.output.height, width: plan.geometry.output.width, channels: 1, storage: storage)
        }
    }

    /// Runs the plan on `image` and returns every filter's map as one channel of a single tensor, written in place
    /// (no copy): the input of a network's next layer. The maps equal `run`'s bit for bit.
    /// - Parameters:
    ///   - image: the input, of the size and channel count the plan was made for.
    ///   - jobs: threads working on the image (row bands); never changes the result.
    ///   - kernels: which compiled kernels to use; never changes the result.
    /// - Precondition: every filter's map has one size (`same` padding, or one kernel size).
    /// - Complexity: O(H_out · W_out · C · k_h · k_w) multiply-adds per filter.
    public func runStacked(_ image: Tensor, jobs: Int = 1, kernels: KernelLevel = .best) -> Tensor {
        let output = filters[0].geometry.output
        precondition(filters.allSatisfy { $0.geometry.output == output }, "maps of different sizes cannot be stacked")
        let plane = output.height * output.width
        var storages = [Self.uninitializedMap(Extent2D(height: output.height * filters.count, width: output.width))]
        runMaps(image, into: &storages, places: filters.indices.map { (array: 0, offset: $0 * plane) }, jobs: jobs, kernels: kernels)
        return Tensor(height: output.height, width: output.width, channels: filters.count, storage: storages[0])
    }

    /// Runs a per-channel plan — one made for `bank.perChannel(channels: C)` (`FilterBank.perChannel(channels:)`), or
    /// any depthwise bank whose filters read one channel each, filter `c · F + f` reading channel `c` — and gathers
    /// the maps by filter: result `f` is a `C`-channel tensor whose channel `c` is the map of filter `c · F + f`, i.e.
    /// the one-channel bank's filter `f` run on channel `c` alone (its kernel, its bias, then the activation). This is
    /// Keras `DepthwiseConv2D` with depth multiplier 1 for each filter of the one-channel bank.
    ///
    /// The maps are written straight into their channel planes (no copy), from input planes padded once for all
    /// channels; each channel's map is computed exactly as `run` computes a one-channel bank's map on that channel
    /// (same taps, same order of additions, the same low-rank passes), so the results are bit-identical to running
    /// the one-channel bank on each channel plane, and for any `jobs`.
    /// - Parameters:
    ///   - image: the input, of the size and channel count (`C`) the plan was made for.
    ///   - jobs: threads working on the image (row bands); never changes the result.
    ///   - kernels: which compiled kernels to use; never changes the result.
    /// - Returns: `F = filters / C` tensors of `C` channels, in the one-channel bank's filter order.
    /// - Complexity: O(H_out · W_out · C · k_h · k_w) multiply-adds per filter of the one-channel bank.
    public func runPerChannel(_ image: Tensor, jobs: Int = 1, kernels: KernelLevel = .best) -> [Tensor] {
        let channels = bank.channels
        precondition(bank.groups == channels && bank.filters.allSatisfy { $0.channels == 1 }, "not a per-channel plan")
        let count = bank.filters.count / channels
        var storages: [[Float]] = []
        var places: [(array: Int, offset: Int)] = []
        for f in 0..<count {
            let out = filters[f].geometry.output
            let n = out.height * out.width
            storages.append([Float](unsafeUninitializedCapacity: n * channels) { _, initialized in initialized = n * channels })
        }
        for c in 0..<channels {
            for f in 0..<count {
                let out = filters[c * count + f].geometry.output
                places.append((array: f, offset: c * out.height * out.width))
            }
        }
        runMaps(image, into: &storages, places: places, jobs: jobs, kernels: kernels)
        return (0..<count).map { f in
            let out = filters[f].geometry.output
            return Tensor(height: out.height, width: out.width, channels: channels, storage: storages[f])
        }
    }

    /// Runs every filter: filter `f`'s map goes to `storages[places[f].array]` from element `places[f].offset` (each
    /// map's elements once, so distinct filters' places never overlap).
    func runMaps(_ image: Tensor, into storages: inout [[Float]], places: [(array: Int, offset: Int)], jobs: Int, kernels: KernelLevel) {
        precondition(places.count == filters.count)
        if let banded {
            runBanded(image, banded, into: &storages, places: places, jobs: jobs, kernels: kernels)
            return
        }
        let planes = padPhased(image, jobs: jobs)
        planes.withUnsafeBufferPointer { src in
            // Low-rank filters run one at a time, each on all workers.
            for f in filters.indices where passes[f] != nil {
                storages[places[f].array].withUnsafeMutableBufferPointer { output in
                    runPasses(filter: f, channel: nil, planes: src.baseAddress!, output: output.baseAddress! + places[f].offset, jobs: jobs,
                              kernels: kernels)
                }
            }
            forEachChunk(of: &storages, places: places) { chunk, outputs in
                runDirectBlocks(chunk, planes: src.baseAddress!, outputs: outputs, jobs: jobs, kernels: kernels)
            }
        }
    }

    /// Calls `body` for the direct blocks in chunks of at most `chunkFilters` maps held open at once, with the chunk's
    /// maps (its filters' places in `storages`, in filter order): the nesting that keeps the maps' pointers valid stays
    /// shallow, and memory stays linear in the bank, whatever its size.
    func forEachChunk(of storages: inout [[Float]], places: [(array: Int, offset: Int)],
                      _ body: (Range<Int>, [UnsafeMutablePointer<Float>]) -> Void) {
        var first = 0
        while first < blocks.count {
            var end = first, count = 0
            while end < blocks.count, count == 0 || count + blocks[end].filters.count <= ConvolutionPlan.chunkFilters {
                count += blocks[end].filters.count
                end += 1
            }
            let chunk = first..<end
            let chunkFilters = blocks[chunk].flatMap { Array($0.filters) }
            var arrays: [Int] = []
            for f in chunkFilters where !arrays.contains(places[f].array) { arrays.append(places[f].array) }
            withMutablePointers(&storages, arrays) { arrayPointers in
                body(chunk, chunkFilters.map { f in arrayPointers[arrays.firstIndex(of: places[f].array)!] + places[f].offset })
            }
            first = end
        }
    }

    /// `runMaps` in bands of output rows (`Banded`): each worker fills a window of padded rows for one band at a time and
    /// runs every block of the chunk on it. Each value is computed exactly as from the whole padded copy (the same
    /// padded values, taps and kernels), so the maps are bit-identical to `padPhased` + `runDirectBlocks`.
    func runBanded(_ image: Tensor, _ banded: Banded, into storages: inout [[Float]], places: [(array: Int, offset: Int)], jobs: Int,
                   kernels: KernelLevel) {
        precondition(image.extent == input && image.channels == bank.channels, "image does not match the plan")
        let out = filters[0].geometry.output
        let bandCount = (out.height + banded.rows - 1) / banded.rows
        // As many windows as `inputPlaneFloats(jobs:)` counts: no more workers than bands or cores.
        let workers = max(1, min(jobs, bandCount, ProcessInfo.processInfo.activeProcessorCount))
        let sources = padSources
        let windowFloats = banded.channelStride * image.channels + 16
        let (channels, plane, width, sh, paddedHeight) = (image.channels, input.height * input.width, input.width, bank.stride.height, padded.height)
        forEachChunk(of: &storages, places: places) { chunkRange, chunkOutputs in
            let chunk = Array(chunkRange)
            let outputs = chunkOutputs.map { DisjointWrites(base: $0) }
            image.storage.withUnsafeBufferPointer { source in
                let src = SharedReads(base: source.baseAddress!)
                parallelFor(workers, jobs: workers) { worker in
                    // Zeroed once, so every float is defined: a last band's rows past the padded image keep an earlier
                    // band's values, which only lanes the kernels discard read (loads running on past a row's end).
                    var window = [Float](repeating: 0, count: windowFloats)
                    window.withUnsafeMutableBufferPointer { buffer in
                        let base = buffer.baseAddress!
                        for band in stride(from: worker, to: bandCount, by: workers) {
                            let y0 = band * banded.rows, y1 = min(y0 + banded.rows, out.height)
                            let start = banded.originRow + y0 * sh
                            for c in 0..<channels {
                                for py in start..<min(start + banded.windowRows, paddedHeight) {
                                    let sy = sources.rows[py]
                                    self.fillPaddedRow(sy < 0 ? nil : src.base + c * plane + sy * width, at: base + c * banded.channelStride + (py - start) * self.rowStride,
                                                       phaseStride: banded.phaseStride, columnSource: sources.columns)
                                }
                            }
                            self.runDirectBands(chunk, rows: chunk.map { _ in y0..<y1 }, windowStart: start, planes: UnsafePointer(base),
                                                outputs: outputs.map { $0.base + y0 * out.width }, jobs: 1, kernels: kernels, banded: banded,
                                                storesRows: out.height)
                        }
                    }
                }
            }
        }
    }

    /// Filter `f`'s per-channel partial maps on `image`: for each of the filter's channels `c`, the raw
    /// cross-correlation of input channel `firstChannel + c` with kernel slice `c`, before the bias and the
    /// activation, computed exactly as `run` computes that channel's partial sum. Adding them in channel order,
    /// then the bias, then the activation gives filter `f`'s map bit for bit. (`FilterBank.partialNames(of:)` names
    /// them.)
    /// - Parameters:
    ///   - f: the filter's index in the bank.
    ///   - image: the input, of the size and channel count the plan was made for.
    ///   - jobs: threads working on the image; never changes the result.
    ///   - kernels: which compiled kernels run; never changes the result.
    /// - Returns: One single-channel tensor per channel the filter reads, in channel order.
    /// - Complexity: O(H_out · W_out · C · k_h · k_w) multiply-adds.
    public func partialMaps(of f: Int, in image: Tensor, jobs: Int = 1, kernels: KernelLevel = .best) -> [Tensor] {
        let planes = padPhased(image, jobs: jobs)
        let out = filters[f].geometry.output
        let channels = bank.filters[f].channels
        var storages = (0..<channels).map { _ in Self.uninitializedMap(out) }
        planes.withUnsafeBufferPointer { src in
            for c in 0..<channels {
                storages[c].withUnsafeMutableBufferPointer { output in
                    if passes[f] != nil {
                        runPasses(filter: f, channel: c, planes: src.baseAddress!, output: output.baseAddress!, jobs: jobs, kernels: kernels)
                    } else {
                        runDirectChannel(filter: f, channel: c, planes: src.baseAddress!, output: output.baseAddress!, jobs: jobs, kernels: kernels)
                    }
                }
            }
        }
        return storages.map { Tensor(height: out.height, width: out.width, channels: 1, storage: $0) }
    }

    /// A map's storage, every element to be written by the kernels.
    static func uninitializedMap(_ extent: Extent2D) -> [Float] {
        let n = extent.height * extent.width
        return [Float](unsafeUninitializedCapacity: n) { _, count in count = n }
    }
}

extension ConvolutionPlan {
    /// Direct filters whose maps are open at once in `run` (a few blocks of 8, or one wide block).
    static let chunkFilters = 64

    /// Output rows per low-rank band in a whole-image run (the row-pass scratch of one band stays in cache).
    static let passBandRows = 32

    /// Weights per filter (channels · kh · kw) from which blocks of 32 or more filters run on the wide kernel.
    static let wideTaps = 64

    /// Output bytes of one wide job from which its maps are written with non-temporal stores.
    static let streamingStoreBytes = 8 << 20

    /// Whether a job's maps are written past the caches: a wide block whose outputs (`rows` × `width` per filter) are
    /// far larger than the caches, and which nothing reads again at once (no activation pass after the kernel).
    static func streamsStores(block: Block, rows: Int, width: Int, epilogue: Epilogue) -> Bool {
        if case .after = epilogue { return false }
        guard block.width >= 32 else { return false }
        let (values, overflow) = rows.multipliedReportingOverflow(by: width * block.filters.count)
        return overflow || values >= streamingStoreBytes / MemoryLayout<Float>.size
    }

    /// Runs direct blocks `chunk` into `outputs` (the maps of the chunk's filters, in filter order), all row bands of
    /// all its blocks on the workers together.
    func runDirectBlocks(_ chunk: Range<Int>, planes: UnsafePointer<Float>, outputs: [UnsafeMutablePointer<Float>], jobs: Int,
                         kernels: KernelLevel) {
        runDirectBands(Array(chunk), rows: chunk.map { 0..<filters[blocks[$0].filters.lowerBound].geometry.output.height }, windowStart: 0,
                       planes: planes, outputs: outputs, jobs: jobs, kernels: kernels)
    }

    /// Output rows `rows[k]` of direct block `blockList[k]`, for every block listed, on the workers together: the phase
    /// planes' row 0 is padded row `windowStart`, and `outputs` (the listed blocks' filters, in order) receive the rows
    /// from their first value.
    /// With `banded`, the planes are a band's window (`Banded`: its strides and tap offsets); `storesRows` (default: the
    /// band's rows) is the map height that decides non-temporal stores.
    func runDirectBands(_ blockList: [Int], rows: [Range<Int>], windowStart: Int, planes: UnsafePointer<Float>,
                        outputs: [UnsafeMutablePointer<Float>], jobs: Int, kernels: KernelLevel, banded: Banded? = nil, storesRows: Int? = nil) {
        let channelStride = banded?.channelStride ?? self.channelStride
        outputs.withUnsafeBufferPointer { outputList in
            var directJobs: [DirectJob] = []
            var items: [(job: Int, rows: Range<Int>)] = []
            var nextOutput = 0
            for (b, band) in zip(blockList, rows) {
                let block = blocks[b]
                let out = filters[block.filters.lowerBound].geometry.output
                let first = bank.filters[block.filters.lowerBound]
                directJobs.append(DirectJob(
                    input: planes + first.firstChannel * channelStride, channel_stride: channelStride, row_stride: rowStride,
                    tap_offsets: banded?.tapOffsets[b] ?? block.tapOffsets, taps_per_channel: first.kernel.height * first.kernel.width, channels: first.channels,
                    weights: block.weights, biases: block.biases, filters: block.filters.count,
                    outputs: outputList.baseAddress! + nextOutput, out_width: out.width, out_stride: out.width,
                    origin: (band.lowerBound * bank.stride.height - windowStart) * rowStride,
                    row_step: bank.stride.height * rowStride, activation: epilogue.kernelActivation,
                    nontemporal: Self.streamsStores(block: block, rows: storesRows ?? band.count, width: out.width, epilogue: epilogue) ? 1 : 0))
                nextOutput += block.filters.count
            }
            // Row-band-major: the blocks of one band run one after another, while that band's input rows are still
            // in cache (block-major order would stream the whole input from memory once per block).
            let longest = rows.map(\.count).max() ?? 0
            for start in stride(from: 0, to: longest, by: ConvolutionPlan.workRows) {
                for (job, band) in rows.enumerated() where start < band.count {
                    items.append((job, start..<min(start + ConvolutionPlan.workRows, band.count)))
                }
            }
            let work = items, jobsList = directJobs, widths = blockList.map { blocks[$0].width }, epilogue = self.epilogue
            parallelFor(work.count, jobs: jobs) { k in
                let item = work[k]
                let job = jobsList[item.job]
                dispatchDirect(job, rows: item.rows, blockWidth: widths[item.job], kernels: kernels)
                for g in 0..<job.filters {
                    epilogue.finish(job.outputs[g] + item.rows.lowerBound * job.out_width, count: item.rows.count * job.out_width)
                }
            }
        }
    }

    /// Channel `c`'s partial map of direct filter `f`: its block's taps, that channel's weights, no bias, no activation.
    func runDirectChannel(filter f: Int, channel c: Int, planes: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, jobs: Int,
                          kernels: KernelLevel) {
        let filter = bank.filters[f], block = blocks[blockOfFilter[f]!]
        let out = filters[f].geometry.output
        let taps = filter.kernel.height * filter.kernel.width
        withUnsafePointer(to: output) { outputList in
            let job = DirectJob(
                input: planes + (filter.firstChannel + c) * channelStride, channel_stride: channelStride, row_stride: rowStride,
                tap_offsets: block.tapOffsets, taps_per_channel: taps, channels: 1, weights: filterWeights[f].base + c * taps, biases: zero.base,
                filters: 1, outputs: outputList, out_width: out.width, out_stride: out.width, origin: 0,
                row_step: bank.stride.height * rowStride, activation: Int(CCK_ACTIVATION_NONE), nontemporal: 0)
            let bands = (out.height + ConvolutionPlan.workRows - 1) / ConvolutionPlan.workRows
            parallelFor(bands, jobs: jobs) { band in
                let rows = (band * ConvolutionPlan.workRows)..<min((band + 1) * ConvolutionPlan.workRows, out.height)
                dispatchDirect(job, rows: rows, blockWidth: 1, kernels: kernels)
            }
        }
    }
}

extension ConvolutionPlan {
    /// A low-rank filter as passes of the direct kernel: for each channel `c` and term `k`, a row pass
    /// `R_ck[r][x] = Σ_j v_ck[j] · in_c[r][x·sw + j·dw]` over every padded row the filter reads; then one column pass
    /// `partial_c[y][x] = Σ_k Σ_i u_ck[i] · R_ck[y·sh + i·dh][x]` (terms in order, one accumulator per channel) that
    /// also adds the channel partials, the bias and the activation as the direct path does.
    /// - Parameter channel: nil for the filter's map; a channel for its partial map alone (no bias, no activation).
    /// - Parameter rows: the output rows to compute (nil: all), into `output` from its first value; the phase planes'
    ///   row 0 is padded row `windowStart`.
    func runPasses(filter f: Int, channel: Int?, planes: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, jobs: Int,
                   kernels: KernelLevel, rows outputRows: Range<Int>? = nil, windowStart: Int = 0) {
        let plan = filters[f], filter = bank.filters[f], buffers = passes[f]!
        let whole = plan.geometry.output
        let outputRows = outputRows ?? 0..<whole.height
        // More rows than the scratch is laid out for (a whole-image run): bands of `passBandRows` output rows, one per
        // worker, each running its row and column passes while its scratch is in cache (whole-map passes streamed the
        // scratch through memory twice: a per-channel Gaussian spent most of its convolution time there). Banding
        // never changes a value: each output adds the same products in the same order.
        let bandLimit = min(bandRows ?? Self.passBandRows, whole.height)
        if outputRows.count > bandLimit {
            let starts = Array(Swift.stride(from: outputRows.lowerBound, to: outputRows.upperBound, by: bandLimit))
            let source = SharedReads(base: planes), target = DisjointWrites(base: output)
            parallelFor(starts.count, jobs: jobs) { b in
                let band = starts[b]..<min(starts[b] + bandLimit, outputRows.upperBound)
                self.runPasses(filter: f, channel: channel, planes: source.base,
                               output: target.base + (band.lowerBound - outputRows.lowerBound) * whole.width, jobs: 1, kernels: kernels,
                               rows: band, windowStart: windowStart)
            }
            return
        }
        let out = Extent2D(height: outputRows.count, width: whole.width)
        let kh = filter.kernel.height, kw = filter.kernel.width, terms = plan.separable!.terms
        // Laid out for the plan's band (the column offsets use its term stride); this band may be shorter.
        let layout = ScratchGeometry(filter: filter, bank: bank, outputRows: bandLimit, outputWidth: whole.width)
        let scratch = ScratchGeometry(filter: filter, bank: bank, outputRows: out.height, outputWidth: whole.width)
        precondition(scratch.rows <= layout.rows, "a band longer than the plan's")
        let channels = channel.map { $0..<($0 + 1) } ?? 0..<filter.channels
        let planesCount = channels.count * terms
        let channelScratch = terms * layout.termStride
        var r = [Float](repeating: 0, count: channelScratch * channels.count)
        r.withUnsafeMutableBufferPointer { rBuffer in
            let rBase = rBuffer.baseAddress!
            // Row passes: one single-channel job per (channel, term), writing R_ck's rows `scratch.rowStride` floats apart.
            let targets = (0..<planesCount).map { rBase + $0 * layout.termStride }
            targets.withUnsafeBufferPointer { targetList in
                let rowJobs = (0..<planesCount).map { plane in
                    let c = channels.lowerBound + plane / terms, k = plane % terms
                    return DirectJob(
                        input: planes + (filter.firstChannel + c) * channelStride, channel_stride: 0, row_stride: scratch.rowStride,
                        tap_offsets: buffers.rowOffsets, taps_per_channel: kw, channels: 1, weights: buffers.rowWeights + (c * terms + k) * kw,
                        biases: zero.base, filters: 1, outputs: targetList.baseAddress! + plane, out_width: out.width, out_stride: scratch.rowStride,
                        origin: (plan.originRow + outputRows.lowerBound * bank.stride.height - windowStart) * rowStride, row_step: rowStride,
                        activation: Int(CCK_ACTIVATION_NONE), nontemporal: 0)
                }
                let bands = (scratch.rows + ConvolutionPlan.workRows - 1) / ConvolutionPlan.workRows
                parallelFor(bands * planesCount, jobs: jobs) { k in
                    let plane = k % planesCount, band = k / planesCount
                    let range = (band * ConvolutionPlan.workRows)..<min((band + 1) * ConvolutionPlan.workRows, scratch.rows)
                    dispatchDirect(rowJobs[plane], rows: range, blockWidth: 1, kernels: kernels)
                }
            }
            // Column pass: the channels in one job, so partials, their sum, the bias and relu follow the direct path.
            let epilogue = channel == nil ? self.epilogue : .none
            withUnsafePointer(to: output) { outputList in
                let columnJob = DirectJob(
                    input: UnsafePointer(rBase), channel_stride: channelScratch, row_stride: scratch.rowStride,
                    tap_offsets: buffers.columnOffsets, taps_per_channel: terms * kh, channels: channels.count,
                    weights: buffers.columnWeights + channels.lowerBound * terms * kh, biases: channel == nil ? buffers.bias : zero.base,
                    filters: 1, outputs: outputList, out_width: out.width, out_stride: out.width, origin: 0,
                    row_step: bank.stride.height * scratch.rowStride, activation: epilogue.kernelActivation, nontemporal: 0)
                let outBands = (out.height + ConvolutionPlan.workRows - 1) / ConvolutionPlan.workRows
                parallelFor(outBands, jobs: jobs) { band in
                    let range = (band * ConvolutionPlan.workRows)..<min((band + 1) * ConvolutionPlan.workRows, out.height)
                    dispatchDirect(columnJob, rows: range, blockWidth: 1, kernels: kernels)
                    epilogue.finish(columnJob.outputs[0] + range.lowerBound * out.width, count: range.count * out.width)
                }
            }
        }
    }
}

/// One block of filters for the direct kernel (`CConvKernels.h`): pointers, strides, tap offsets, weights `[c][tap][g]`.
/// Imported as `Sendable`; invariant: its pointers stay valid while workers run, and workers write disjoint rows.
typealias DirectJob = cck_direct_job

/// Runs a direct job with the compiled kernels of `kernels` (the C copy built for that level; all bit-identical).
func dispatchDirect(_ job: DirectJob, rows: Range<Int>, blockWidth: Int, kernels: KernelLevel) {
    if blockWidth >= 32 {
        switch kernels {
        case .avx512: cck_wide_avx512(job, rows.lowerBound, rows.upperBound, blockWidth)
        case .avx2: cck_wide_avx2(job, rows.lowerBound, rows.upperBound, blockWidth)
        case .portable: cck_wide_portable(job, rows.lowerBound, rows.upperBound, blockWidth)
        }
        return
    }
    switch kernels {
    case .avx512: cck_direct_avx512(job, rows.lowerBound, rows.upperBound, blockWidth)
    case .avx2: cck_direct_avx2(job, rows.lowerBound, rows.upperBound, blockWidth)
    case .portable: cck_direct_portable(job, rows.lowerBound, rows.upperBound, blockWidth)
    }
}

/// Calls `body` with a mutable base pointer for each array `indices` names (in that order), each array's access
/// open for the whole call. Nests one closure per index: callers pass a bounded number.
func withMutablePointers<R>(_ arrays: inout [[Float]], _ indices: [Int], _ body: ([UnsafeMutablePointer<Float>]) -> R) -> R {
    var taken = indices.map { i -> [Float] in
        let array = arrays[i]
        arrays[i] = []
        return array
    }
    defer { for (k, i) in indices.enumerated() { arrays[i] = taken[k] } }
    var pointers: [UnsafeMutablePointer<Float>] = []
    pointers.reserveCapacity(indices.count)
    func open(_ k: Int) -> R {
        if k == indices.count { return body(pointers) }
        var array = taken[k]
        taken[k] = []
        defer { taken[k] = array }
        return array.withUnsafeMutableBufferPointer { buffer in
            pointers.append(buffer.baseAddress!)
            return open(k + 1)
        }
    }
    return open(0)
}
