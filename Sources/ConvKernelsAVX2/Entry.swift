import ConvKernels

/// `runDirectAnyBlock` compiled for x86-64-v3 (AVX2, FMA available but unused). Call only when the CPU has it.
public func runDirectAVX2(_ job: DirectJob, rows: Range<Int>, blockWidth: Int) {
    runDirectAnyBlock(job, rows: rows, blockWidth: blockWidth)
}
