import ConvKernels

/// `runDirectAnyBlock` compiled for x86-64-v4 (AVX-512). Call only when the CPU has AVX-512 F/BW/CD/DQ/VL.
public func runDirectAVX512(_ job: DirectJob, rows: Range<Int>, blockWidth: Int) {
    runDirectAnyBlock(job, rows: rows, blockWidth: blockWidth)
}
