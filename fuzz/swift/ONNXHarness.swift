// libFuzzer target over the ONNX reader of `convbank import`: ImportedModel(onnx:path:) (SwiftProtobuf's decoding
// of the generated onnx.pb.swift types with the depth limit, the chain walk, attribute and tensor checks, FLOAT16/
// BFLOAT16/DOUBLE/raw_data conversion) and ImportedModel.looksLikeONNX. Compiled by fuzz/swift/onnx.sh, so a trap
// (index out of range, overflow, precondition) or an ASan report is a crash.
import ConvBankEngine

/// Checks a model that was read against the documented contract; traps if it is broken.
private func check(_ model: ImportedModel, _ size: Int) {
    precondition(model.format == "onnx")
    var names = Set<String>()
    for layer in model.layers {
        precondition(names.insert(layer.name).inserted, "duplicate layer name")
        precondition(!layer.name.isEmpty && !layer.name.hasPrefix(".") && !layer.name.contains("/"), "not a folder name")
    }
    // Every weight came from the file: at least one byte per weight.
    var weights = 0
    for c in model.convolutions {
        precondition(c.layout == "OIHW" && c.storedShape.count == 4)
        for f in c.bank.filters { weights += f.weights.count }
    }
    precondition(weights <= size, "more weights than bytes")
    if !model.layers.isEmpty, let network = try? model.network() {
        _ = network.jsonText
        _ = try? network.outputExtents(input: Extent2D(height: 9, width: 7))
    }
    _ = model.listing(path: "fuzz.onnx")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    _ = ImportedModel.looksLikeONNX(bytes)
    do {
        check(try ImportedModel(onnx: bytes, path: "fuzz.onnx"), size)
    } catch {
        precondition(!error.reason.isEmpty && !error.reason.contains("\n"), "error without a one-line reason")
    }
    return 0
}
