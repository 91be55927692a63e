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
        if starts(WeightFile.hdf5Signature) {
            let file: HDF5File
            do { file = try HDF5File(bytes: bytes) } catch { throw fail(error.reason) }
            let config: String?
            do { config = try file.string("model_config") } catch { throw fail(error.reason) }
            guard let config else {
                // Weights only (Keras 3 .weights.h5, Keras 2 save_weights .h5): named arrays.
                guard bytes.count <= WeightFile.maximumFileBytes else {
                    throw fail("larger than the \(WeightFile.maximumFileBytes >> 20) MiB limit of a weight file")
                }
                return .weights(WeightFile(format: .h5, entries: try WeightFile.readHDF5(file, fail: fail)))
            }
            do {
                let weights = try ImportedModel.KerasWeights(file: file, legacy: true)
                return .model(try ImportedModel.keras(config: Array(config.utf8), weights: weights, format: "h5"))
            } catch { throw fail(error.reason) }
        }
        if starts([0x50, 0x4B, 3, 4]) || starts([0x50, 0x4B, 5, 6]), isKerasArchive(bytes) {
            return .model(try readKeras(bytes, fail: fail))
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

    /// A `.keras` archive: `config.json` (the model) and `model.weights.h5` (its weights, Keras 3 layout).
    static func readKeras(_ bytes: [UInt8], fail: (String) -> WeightFile.FormatError) throws(WeightFile.FormatError) -> ImportedModel {
        let wanted: Set<String> = ["config.json", "model.weights.h5"]
        let archive: ZipArchive
        do { archive = try ZipArchive(bytes: bytes, limit: maximumModelBytes, counted: { wanted.contains($0) }) } catch { throw fail(error.reason) }
        func contents(_ name: String) throws(WeightFile.FormatError) -> [UInt8] {
            guard let member = archive.members.first(where: { $0.name == name }) else {
                throw fail("a .keras archive without \(name)")
            }
            do { return try archive.contents(of: member) } catch { throw fail("member '\(name)': \(error.reason)") }
        }
        let config = try contents("config.json"), weightBytes = try contents("model.weights.h5")
        guard weightBytes.starts(with: WeightFile.hdf5Signature) else { throw fail("member 'model.weights.h5' is not an HDF5 file") }
        do {
            let file = try HDF5File(bytes: weightBytes)
            return try ImportedModel.keras(config: config, weights: ImportedModel.KerasWeights(file: file, legacy: false), format: "keras")
        } catch { throw fail(error.reason) }
    }

    /// Whether a file starting with `head` (its first 8 bytes suffice) may be read by libhdf5: an HDF5 file, or a zip
    /// archive (a `.keras` file holds one; an `.npz` is a zip too).
    /// - Parameter head: the file's first bytes.
    public static func mayHoldHDF5(_ head: [UInt8]) -> Bool {
        head.starts(with: WeightFile.hdf5Signature) || head.starts(with: [0x50, 0x4B, 3, 4]) || head.starts(with: [0x50, 0x4B, 5, 6])
    }

    /// Whether a zip archive holds a Keras `config.json` (a `.keras` file) rather than `.npy` members.
    static func isKerasArchive(_ bytes: [UInt8]) -> Bool {
        guard let archive = try? ZipArchive(bytes: bytes, limit: Int.max, counted: { _ in false }) else { return false }
        return archive.members.contains { $0.name == "config.json" }
    }
}
