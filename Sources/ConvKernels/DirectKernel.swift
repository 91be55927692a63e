/// The inner loop of direct convolution, written once as `@inlinable` generic code so that each of
/// `ConvKernelsAVX512`, `ConvKernelsAVX2` and `ConvBank` (portable) compiles its own copy with its own CPU
/// flags; `ConvBank` picks one at run time. No allocation, no bounds checks, no branches on layout.
///
/// Vectorised across 16 neighbouring output pixels (`SIMD16<Float>`) and register-blocked over up to 8
/// filters that share a kernel size and origin. Each pixel adds its taps in the same order as a scalar loop —
/// per channel, taps in row-major order from zero with `acc += v * w` (never fused); the channel partials
/// in channel order; then the bias — so results are bit-identical whatever the block, width or thread.

/// Pointers and sizes for one block of filters. Invariant: every pointer stays valid while the job runs;
/// workers given disjoint row ranges write disjoint output rows.
public struct DirectJob: @unchecked Sendable {
    /// Padded input, per channel `phases` planes (columns `p, p + sw, …`) of `rowStride`-float rows.
    public var input: UnsafePointer<Float>
    public var channelStride: Int
    public var rowStride: Int
    /// Per channel tap (row-major), its offset within a channel's planes.
    public var tapOffsets: UnsafePointer<Int>
    public var tapsPerChannel: Int
    public var channels: Int
    /// Weights `[c][tap][g]` with `g` over `blockWidth` slots (unused slots zero).
    public var weights: UnsafePointer<Float>
    public var biases: UnsafePointer<Float>
    public var filters: Int
    /// Output maps of the block's filters, `outWidth` floats per row.
    public var outputs: UnsafePointer<UnsafeMutablePointer<Float>>
    public var outWidth: Int
    /// Offset of output row 0's first tap, and the step per output row (stride · rowStride).
    public var origin: Int
    public var rowStep: Int
    /// 0 linear, 1 relu (applied here); anything else is applied by the caller afterwards.
    public var activation: Int

    public init(input: UnsafePointer<Float>, channelStride: Int, rowStride: Int, tapOffsets: UnsafePointer<Int>, tapsPerChannel: Int,
                channels: Int, weights: UnsafePointer<Float>, biases: UnsafePointer<Float>, filters: Int,
                outputs: UnsafePointer<UnsafeMutablePointer<Float>>, outWidth: Int, origin: Int, rowStep: Int, activation: Int) {
        self.input = input
        self.channelStride = channelStride
        self.rowStride = rowStride
        self.tapOffsets = tapOffsets
        self.tapsPerChannel = tapsPerChannel
        self.channels = channels
        self.weights = weights
        self.biases = biases
        self.filters = filters
        self.outputs = outputs
        self.outWidth = outWidth
        self.origin = origin
        self.rowStep = rowStep
        self.activation = activation
    }
}

public typealias Lanes = SIMD16<Float>

/// A set of per-filter accumulators that the compiler keeps in registers.
public protocol AccumulatorBlock {
    static var width: Int { get }
    init()
    /// `acc[g] += v * w[g]` for every slot.
    mutating func multiplyAdd(_ v: Lanes, _ w: UnsafePointer<Float>)
    mutating func add(_ other: Self)
    func lane(_ g: Int) -> Lanes
}

@frozen public struct Block8: AccumulatorBlock {
    public var a0 = Lanes(), a1 = Lanes(), a2 = Lanes(), a3 = Lanes(), a4 = Lanes(), a5 = Lanes(), a6 = Lanes(), a7 = Lanes()
    @inlinable public static var width: Int { 8 }
    @inlinable public init() {}
    @inlinable @inline(__always) public mutating func multiplyAdd(_ v: Lanes, _ w: UnsafePointer<Float>) {
        a0 += v * Lanes(repeating: w[0]); a1 += v * Lanes(repeating: w[1])
        a2 += v * Lanes(repeating: w[2]); a3 += v * Lanes(repeating: w[3])
        a4 += v * Lanes(repeating: w[4]); a5 += v * Lanes(repeating: w[5])
        a6 += v * Lanes(repeating: w[6]); a7 += v * Lanes(repeating: w[7])
    }
    @inlinable @inline(__always) public mutating func add(_ o: Block8) {
        a0 += o.a0; a1 += o.a1; a2 += o.a2; a3 += o.a3; a4 += o.a4; a5 += o.a5; a6 += o.a6; a7 += o.a7
    }
    @inlinable @inline(__always) public func lane(_ g: Int) -> Lanes {
        switch g { case 0: a0; case 1: a1; case 2: a2; case 3: a3; case 4: a4; case 5: a5; case 6: a6; default: a7 }
    }
}

@frozen public struct Block4: AccumulatorBlock {
    public var a0 = Lanes(), a1 = Lanes(), a2 = Lanes(), a3 = Lanes()
    @inlinable public static var width: Int { 4 }
    @inlinable public init() {}
    @inlinable @inline(__always) public mutating func multiplyAdd(_ v: Lanes, _ w: UnsafePointer<Float>) {
        a0 += v * Lanes(repeating: w[0]); a1 += v * Lanes(repeating: w[1])
        a2 += v * Lanes(repeating: w[2]); a3 += v * Lanes(repeating: w[3])
    }
    @inlinable @inline(__always) public mutating func add(_ o: Block4) { a0 += o.a0; a1 += o.a1; a2 += o.a2; a3 += o.a3 }
    @inlinable @inline(__always) public func lane(_ g: Int) -> Lanes {
        switch g { case 0: a0; case 1: a1; case 2: a2; default: a3 }
    }
}

@frozen public struct Block1: AccumulatorBlock {
    public var a0 = Lanes()
    @inlinable public static var width: Int { 1 }
    @inlinable public init() {}
    @inlinable @inline(__always) public mutating func multiplyAdd(_ v: Lanes, _ w: UnsafePointer<Float>) { a0 += v * Lanes(repeating: w[0]) }
    @inlinable @inline(__always) public mutating func add(_ o: Block1) { a0 += o.a0 }
    @inlinable @inline(__always) public func lane(_ g: Int) -> Lanes { a0 }
}

/// Computes output rows `rows` of the job's filters with accumulator block `B` (`B.width` weight slots per tap).
@inlinable @inline(__always)
public func runDirect<B: AccumulatorBlock>(_ job: DirectJob, rows: Range<Int>, block: B.Type) {
    let w = B.width
    for y in rows {
        let rowBase = job.origin + y * job.rowStep
        var x0 = 0
        while x0 < job.outWidth {
            var total = B()
            for c in 0..<job.channels {
                var partial = B()
                let channelBase = job.input + c * job.channelStride + rowBase + x0
                let weights = job.weights + c * job.tapsPerChannel * w
                for t in 0..<job.tapsPerChannel {
                    let v = UnsafeRawPointer(channelBase + job.tapOffsets[t]).loadUnaligned(as: Lanes.self)
                    partial.multiplyAdd(v, weights + t * w)
                }
                if c == 0 { total = partial } else { total.add(partial) }
            }
            let count = min(16, job.outWidth - x0)
            for g in 0..<job.filters {
                var r = total.lane(g) + Lanes(repeating: job.biases[g])
                if job.activation == 1 { r = r.replacing(with: 0, where: .!(r .> 0)) }
                let out = job.outputs[g] + y * job.outWidth + x0
                if count == 16 {
                    UnsafeMutableRawPointer(out).storeBytes(of: r, as: Lanes.self)
                } else {
                    for k in 0..<count { out[k] = r[k] }
                }
            }
            x0 += 16
        }
    }
}

/// Runs the job with the widest block that the filter count fills.
@inlinable @inline(__always)
public func runDirectAnyBlock(_ job: DirectJob, rows: Range<Int>, blockWidth: Int) {
    switch blockWidth {
    case 8: runDirect(job, rows: rows, block: Block8.self)
    case 4: runDirect(job, rows: rows, block: Block4.self)
    default: runDirect(job, rows: rows, block: Block1.self)
    }
}
