// libFuzzer target over the weight-file readers of `convbank import`: WeightFile(bytes:path:) (format sniffing, the
// zip central-directory reader and raw inflate of .npz members, the .npy parser, the safetensors header and data
// checks). Compiled by fuzz/swift/readers.sh with those Swift files and the C inflate shim, so a trap (index out of
// range, overflow, precondition) or an ASan report is a crash.

/// Checks a file that was read against the documented contract; traps if it is broken.
private func check(_ file: WeightFile, _ size: Int) {
    var total = 0
    for entry in file.entries {
        let count = entry.array.shape.reduce(1, *)
        precondition(entry.array.values.count == count, "values do not match the shape")
        total += count
    }
    // Every value came from the file: at least one byte per value (zip members are bounded by the declared-size cap).
    if file.format != .npz { precondition(total <= size, "more values than bytes") }
    precondition(total <= WeightFile.maximumArrayBytes)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    for path in ["fuzz.npz", "fuzz.safetensors"] {
        do {
            check(try WeightFile(bytes: bytes, path: path), size)
        } catch {
            precondition(!error.reason.isEmpty && !error.reason.contains("\n"), "error without a one-line reason")
        }
    }
    return 0
}
