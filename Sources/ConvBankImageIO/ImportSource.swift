import ConvBankEngine

/// What `convbank import` reads from a file, told by content: arrays of weights (`.npy`, `.npz`, `.safetensors`,
/// Keras weights-only HDF5) or a whole model (`.keras`, Keras 2 `.h5` model, `.onnx`).
public enum ImportSource: Sendable {
    /// Named arrays, no layer structure: `--layer` picks a kernel.
    case weights(WeightFile)
    /// A model with its layer structure.
    case model(ImportedModel)

    /// The largest model file read: 1 GiB (VGG16's Keras file is 528 MiB).
    public static let maximumModelBytes = 1 << 30

    /// Reads the file at `path` (a lossless path, see `FileSystem`) and tells its kind by content (an `.onnx` file by
    /// its extension, or by decoding as ONNX when no other reader takes it).
    /// - Parameter path: the file.
    /// - Throws: `WeightFile.FormatError` naming the file and the problem.
    public static func read(contentsOfFile path: String) throws(WeightFile.FormatError) -> ImportSource {
        let bytes: [UInt8]
        do { bytes = try ImageCodec.readFile(path, limit: maximumModelBytes) } catch {
            throw WeightFile.FormatError(path: path, reason: error.kind == .tooLarge ? "larger than the \(maximumModelBytes >> 20) MiB limit of a model file" : error.detail)
        }
        return try read(bytes: bytes, path: path)
    }

    /// Tells the kind of `bytes` by content and reads them; `path` names the file in errors.
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - path: how errors name it.
    /// - Throws: `WeightFile.FormatError` for anything malformed or of another kind.
    public static func read(bytes: [UInt8], path: String) throws(WeightFile.FormatError) -> ImportSource {
        func starts(_ prefix: [UInt8]) -> Bool { bytes.count >= prefix.count && Array(bytes[0..<prefix.count]) == prefix }
        func fail(_ reason: String) -> WeightFile.FormatError { WeightFile.FormatError(path: path, reason: WeightFile.oneLine(reason)) }
        if starts([0x89] + Array("HDF\r\n".utf8) + [0x1A, 0x0A]) {
            throw fail("an HDF5 file (Keras .h5/.weights.h5): not read by this version")
        }
        if starts([0x50, 0x4B, 3, 4]) || starts([0x50, 0x4B, 5, 6]), isKerasArchive(bytes) {
            throw fail("a Keras .keras archive: not read by this version")
        }
        // ONNX has no magic number: the `.onnx` extension, or else a file no other reader takes that decodes as a
        // ModelProto with an IR version and a graph of nodes.
        if path.lowercased().hasSuffix(".onnx") {
            return .model(try ImportedModel(onnx: bytes, path: path))
        }
        if bytes.count > WeightFile.maximumFileBytes {
            if ImportedModel.looksLikeONNX(bytes) { return .model(try ImportedModel(onnx: bytes, path: path)) }
            throw fail("larger than the \(WeightFile.maximumFileBytes >> 20) MiB limit of a weight file")
        }
        do {
            return .weights(try WeightFile(bytes: bytes, path: path))
        } catch {
            if ImportedModel.looksLikeONNX(bytes) { return .model(try ImportedModel(onnx: bytes, path: path)) }
            throw error
        }
    }

    /// Whether a zip archive holds a Keras `config.json` (a `.keras` file) rather than `.npy` members.
    static func isKerasArchive(_ bytes: [UInt8]) -> Bool {
        guard let archive = try? ZipArchive(bytes: bytes, limit: Int.max, counted: { _ in false }) else { return false }
        return archive.members.contains { $0.name == "config.json" }
    }
}
