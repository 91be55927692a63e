import ConvBankEngine
internal import CImageIO

/// Keeps large freed buffers in the process instead of returning them to the kernel, so the next image's
/// planes and maps reuse already-mapped pages: first-touch page faults otherwise cost as much as the
/// convolution itself (≈ 1.3 GB/s into fresh memory against ≈ 25 GB/s into reused memory); and serves every
/// thread from one arena, so freed buffers are reused by whichever thread allocates next instead of each thread
/// keeping its own. glibc's `mallopt`; call once at start-up. The corresponding C function is `cio_keep_large_buffers`.
public func keepLargeBuffersMapped() {
    cio_keep_large_buffers()
}
