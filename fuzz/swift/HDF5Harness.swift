// libFuzzer target over the Keras model-file readers of `convbank import`: ImportSource.read(bytes:path:) on HDF5
// (.h5, .weights.h5: hdf5.c over libhdf5, the global-heap checks, WeightFile.readHDF5, the Keras model translation)
// and .keras archives (zip, config.json, model.weights.h5). Compiled by fuzz/swift/hdf5.sh with the engine as its
// own module, so a trap (index out of range, overflow, precondition), an ASan report or a crash inside libhdf5 is
// a finding.

/// Checks what was read against the documented contract; traps if it is broken.
private func check(_ source: ImportSource) {
    switch source {
    case .weights(let file):
        var total = 0
        for entry in file.entries {
            precondition(entry.array.values.count == entry.array.shape.reduce(1, *), "values do not match the shape")
            total += entry.array.values.count
        }
        precondition(total <= WeightFile.maximumArrayBytes)
    case .model(let model):
        for c in model.convolutions { precondition(!c.bank.filters.isEmpty) }
        if !model.layers.isEmpty { _ = try? model.network() }
        _ = model.listing(path: "fuzz")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    // The corpus holds HDF5 files and .keras zips: both are told by content, whatever the name.
    do {
        check(try ImportSource.read(bytes: bytes, path: "fuzz.h5"))
    } catch {
        precondition(!error.reason.isEmpty && !error.reason.contains("\n"), "error without a one-line reason")
    }
    return 0
}
