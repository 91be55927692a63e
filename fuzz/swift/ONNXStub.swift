// The HDF5 harness (fuzz/swift/hdf5.sh) builds ImportSource without the ONNX reader (it would need SwiftProtobuf and
// onnx.pb.swift; fuzz/swift/onnx.sh fuzzes that reader): these stand in for its two entry points.
extension ImportedModel {
    init(onnx bytes: [UInt8], path: String) throws(WeightFile.FormatError) {
        throw WeightFile.FormatError(path: path, reason: "ONNX is not built into the HDF5 harness")
    }

    static func looksLikeONNX(_ bytes: [UInt8]) -> Bool { false }
}
