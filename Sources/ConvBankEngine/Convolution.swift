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

    public static func < (a: KernelLevel, b: KernelLevel) -> Bool { a.rawValue < b.rawValue }

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
    static let bandRows = 8

    /// Runs the plan on `image` (its size and channels must match the plan).
    /// - Parameters:
    ///   - image: the input, of the size and channel count the plan was made for.
    ///   - jobs: threads working on the image (row bands); never changes the result.
    ///   - kernels: which compiled kernels to use (default: the best this CPU runs); all give
    ///     bit-identical results.
    /// - Complexity: O(H_out · W_out · C · k_h · k_w) multiply-adds per filter.
    public func run(_ image: Tensor, jobs: Int = 1, kernels: KernelLevel = .best) -> [Tensor] {
        let planes = padPhased(image, jobs: jobs)
        // Every element is written by the kernels before anyone reads it, so the maps start uninitialised
        // (zeroing them first would double the memory traffic of a small bank).
        var storages = filters.map { plan in
            let n = plan.geometry.output.height * plan.geometry.output.width
            return [Float](unsafeUninitializedCapacity: n) { _, count in count = n }
        }
        planes.withUnsafeBufferPointer { src in
            // Low-rank filters run one at a time, each on all workers.
            for (f, plan) in filters.enumerated() {
                guard let factors = plan.separable else { continue }
                storages[f].withUnsafeMutableBufferPointer { output in
                    runSeparable(filter: f, factors: factors, planes: src.baseAddress!, output: output.baseAddress!, jobs: jobs, kernels: kernels)
                }
            }
            // Direct blocks in chunks of at most `chunkFilters` maps held open at once: the nesting that keeps the
            // maps' pointers valid stays shallow, and memory stays linear in the bank, whatever its size.
            var first = 0
            while first < blocks.count {
                var end = first, count = 0
                while end < blocks.count, count == 0 || count + blocks[end].filters.count <= ConvolutionPlan.chunkFilters {
                    count += blocks[end].filters.count
                    end += 1
                }
                let chunk = first..<end
                withMutablePointers(&storages, blocks[chunk].flatMap { Array($0.filters) }) { outputPointers in
                    runDirectBlocks(chunk, planes: src.baseAddress!, outputs: outputPointers, jobs: jobs, kernels: kernels)
                }
                first = end
            }
        }
        return zip(filters, storages).map { plan, storage in
            Tensor(height: plan.geometry.output.height, width: plan.geometry.output.width, channels: 1, storage: storage)
        }
    }
}

extension ConvolutionPlan {
    /// Direct filters whose maps are open at once in `run` (a few blocks of 8).
    static let chunkFilters = 64

    /// Runs direct blocks `chunk` into `outputs` (the maps of the chunk's filters, in filter order), all row bands of
    /// all its blocks on the workers together.
    func runDirectBlocks(_ chunk: Range<Int>, planes: UnsafePointer<Float>, outputs: [UnsafeMutablePointer<Float>], jobs: Int,
                         kernels: KernelLevel) {
        let activation = bank.activation
        let code = activation == .linear ? 0 : (activation == .relu ? 1 : 2)
        var directJobs: [DirectJob] = []
        var items: [(job: Int, rows: Range<Int>)] = []
        // Owned copies of the chunk's output lists, offsets, weights and biases, freed after the workers return.
        var owned: [UnsafeMutableRawPointer] = []
        defer { for p in owned { p.deallocate() } }
        func copy<T>(_ values: [T]) -> UnsafePointer<T> {
            let p = UnsafeMutablePointer<T>.allocate(capacity: max(values.count, 1))
            p.initialize(from: values, count: values.count)
            owned.append(UnsafeMutableRawPointer(p))
            return UnsafePointer(p)
        }
        var nextOutput = 0
        for b in chunk {
            let block = blocks[b]
            let out = filters[block.filters.lowerBound].geometry.output
            let first = bank.filters[block.filters.lowerBound]
            let outputList = copy(Array(outputs[nextOutput..<(nextOutput + block.filters.count)]))
            nextOutput += block.filters.count
            directJobs.append(DirectJob(
                input: planes + first.firstChannel * channelStride, channel_stride: channelStride, row_stride: rowStride,
                tap_offsets: copy(block.tapOffsets), taps_per_channel: block.tapOffsets.count, channels: first.channels,
                weights: copy(block.weights), biases: copy(block.biases), filters: block.filters.count,
                outputs: outputList, out_width: out.width, out_stride: out.width, origin: 0,
                row_step: bank.stride.height * rowStride, activation: code))
            for start in stride(from: 0, to: out.height, by: ConvolutionPlan.bandRows) {
                items.append((directJobs.count - 1, start..<min(start + ConvolutionPlan.bandRows, out.height)))
            }
        }
        let work = items, jobsList = directJobs, widths = blocks[chunk].map(\.width)
        parallelFor(work.count, jobs: jobs) { k in
            let item = work[k]
            let job = jobsList[item.job]
            dispatchDirect(job, rows: item.rows, blockWidth: widths[item.job], kernels: kernels)
            if code == 2 {
                for g in 0..<job.filters {
                    let out = job.outputs[g]
                    for i in (item.rows.lowerBound * job.out_width)..<(item.rows.upperBound * job.out_width) {
                        out[i] = activation.apply(out[i])
                    }
                }
            }
        }
    }
}

extension ConvolutionPlan {
    /// A low-rank filter as passes of the direct kernel: for each channel `c` and term `k`, a row pass
    /// `R_ck[r][x] = Σ_j v_ck[j] · in_c[r][x·sw + j·dw]` over every padded row the filter reads; then one column pass
    /// `partial_c[y][x] = Σ_k Σ_i u_ck[i] · R_ck[y·sh + i·dh][x]` (terms in order, one accumulator per channel) that
    /// also adds the channel partials, the bias and the activation as the direct path does.
    func runSeparable(filter f: Int, factors: LowRank, planes: UnsafePointer<Float>,
                      output: UnsafeMutablePointer<Float>, jobs: Int, kernels: KernelLevel) {
        let plan = filters[f]
        let filter = bank.filters[f]
        let out = plan.geometry.output
        let kh = filter.kernel.height, kw = filter.kernel.width
        let sh = bank.stride.height, dh = bank.dilation.height, dw = bank.dilation.width, sw = bank.stride.width
        let channels = filter.channels, terms = factors.terms
        let rows = (out.height - 1) * sh + (kh - 1) * dh + 1      // padded rows the filter reads
        let rStride = out.width + 16
        let rTerm = rows * rStride + 16
        let rChannel = terms * rTerm
        let planesCount = channels * terms
        let r = UnsafeMutablePointer<Float>.allocate(capacity: rChannel * channels)
        r.initialize(repeating: 0, count: rChannel * channels)
        defer { r.deallocate() }
        let rowOffsets = UnsafeMutablePointer<Int>.allocate(capacity: kw)
        let columnOffsets = UnsafeMutablePointer<Int>.allocate(capacity: terms * kh)
        let zero = UnsafeMutablePointer<Float>.allocate(capacity: 1)
        let bias = UnsafeMutablePointer<Float>.allocate(capacity: 1)
        let rowWeights = UnsafeMutablePointer<Float>.allocate(capacity: kw * planesCount)
        let columnWeights = UnsafeMutablePointer<Float>.allocate(capacity: terms * kh * channels)
        let rowTargets = UnsafeMutablePointer<UnsafeMutablePointer<Float>>.allocate(capacity: planesCount)
        let target = UnsafeMutablePointer<UnsafeMutablePointer<Float>>.allocate(capacity: 1)
        defer {
            rowOffsets.deallocate(); columnOffsets.deallocate(); zero.deallocate(); bias.deallocate()
            rowWeights.deallocate(); columnWeights.deallocate(); rowTargets.deallocate(); target.deallocate()
        }
        for j in 0..<kw {
            let column = plan.originColumn + j * dw
            rowOffsets[j] = (column % sw) * phaseStride + column / sw
        }
        for k in 0..<terms { for i in 0..<kh { columnOffsets[k * kh + i] = k * rTerm + i * dh * rStride } }
        zero.pointee = 0
        bias.pointee = filter.bias
        for c in 0..<channels {
            for k in 0..<terms {
                let plane = c * terms + k
                for j in 0..<kw { rowWeights[plane * kw + j] = factors.v[c][k][j] }
                for i in 0..<kh { columnWeights[(c * terms + k) * kh + i] = factors.u[c][k][i] }
                rowTargets[plane] = r + c * rChannel + k * rTerm
            }
        }
        target.pointee = output
        let code = bank.activation == .linear ? 0 : (bank.activation == .relu ? 1 : 2)
        // Row passes: one single-channel job per (channel, term), writing R_ck's rows rStride floats apart.
        let rowJobs = (0..<planesCount).map { plane in
            DirectJob(input: planes + (filter.firstChannel + plane / terms) * channelStride, channel_stride: 0, row_stride: rStride,
                      tap_offsets: UnsafePointer(rowOffsets), taps_per_channel: kw, channels: 1, weights: UnsafePointer(rowWeights + plane * kw),
                      biases: UnsafePointer(zero), filters: 1, outputs: UnsafePointer(rowTargets + plane), out_width: out.width,
                      out_stride: rStride, origin: plan.originRow * rowStride, row_step: rowStride, activation: 0)
        }
        let bands = (rows + ConvolutionPlan.bandRows - 1) / ConvolutionPlan.bandRows
        parallelFor(bands * planesCount, jobs: jobs) { k in
            let c = k % planesCount, band = k / planesCount
            let range = (band * ConvolutionPlan.bandRows)..<min((band + 1) * ConvolutionPlan.bandRows, rows)
            dispatchDirect(rowJobs[c], rows: range, blockWidth: 1, kernels: kernels)
        }
        // Column pass: all channels in one job, so partials, their sum, the bias and relu follow the direct path.
        let columnJob = DirectJob(input: UnsafePointer(r), channel_stride: rChannel, row_stride: rStride, tap_offsets: UnsafePointer(columnOffsets),
                                  taps_per_channel: terms * kh, channels: channels, weights: UnsafePointer(columnWeights), biases: UnsafePointer(bias),
                                  filters: 1, outputs: UnsafePointer(target), out_width: out.width, out_stride: out.width, origin: 0,
                                  row_step: sh * rStride,
                                  activation: code)
        let outBands = (out.height + ConvolutionPlan.bandRows - 1) / ConvolutionPlan.bandRows
        let activation = bank.activation
        parallelFor(outBands, jobs: jobs) { band in
            let range = (band * ConvolutionPlan.bandRows)..<min((band + 1) * ConvolutionPlan.bandRows, out.height)
            dispatchDirect(columnJob, rows: range, blockWidth: 1, kernels: kernels)
            if code == 2 {
                for i in (range.lowerBound * out.width)..<(range.upperBound * out.width) { columnJob.outputs[0][i] = activation.apply(columnJob.outputs[0][i]) }
            }
        }
    }
}

/// One block of filters for the direct kernel (`CConvKernels.h`): pointers, strides, tap offsets, weights `[c][tap][g]`.
/// Imported as `Sendable`; invariant: its pointers stay valid while workers run, and workers write disjoint rows.
typealias DirectJob = cck_direct_job

/// Runs a direct job with the compiled kernels of `kernels` (the C copy built for that level; all bit-identical).
func dispatchDirect(_ job: DirectJob, rows: Range<Int>, blockWidth: Int, kernels: KernelLevel) {
    switch kernels {
    case .avx512: cck_direct_avx512(job, rows.lowerBound, rows.upperBound, blockWidth)
    case .avx2: cck_direct_avx2(job, rows.lowerBound, rows.upperBound, blockWidth)
    case .portable: cck_direct_portable(job, rows.lowerBound, rows.upperBound, blockWidth)
    }
}

/// Calls `body` with a mutable base pointer for each array `indices` names (in that order), each array's access
/// open for the whole call. Nests one closure per index: callers pass a bounded number.
private func withMutablePointers<R>(_ arrays: inout [[Float]], _ indices: [Int], _ body: ([UnsafeMutablePointer<Float>]) -> R) -> R {
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
