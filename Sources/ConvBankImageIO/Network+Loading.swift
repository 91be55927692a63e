import ConvBankEngine
import Foundation

extension Network {
    /// Loads the network in the file `reference`, or returns nil when `reference` is not a network file (no such
    /// file, or a JSON file without a `"layers"` key: a bank file, an inline kernel or a built-in bank name, which
    /// `FilterBank.load(_:)` reads). A model file (`.keras`, Keras `.h5`, `.onnx`: told as `ImportSource` tells it)
    /// gives the stack of its layers that convbank runs, from the input up to the first one it does not, as
    /// `convbank import FILE` would write it.
    /// - Parameter reference: what `--bank` was given.
    /// - Throws: `BankError` when the file is a network file with a problem (with the JSON path), a model file that
    ///   cannot be read or starts with a layer convbank does not run, a weight file without layer structure, or
    ///   unreadable.
    public static func load(_ reference: String) throws(BankError) -> Network? {
        var isDirectory = false
        guard fileExists(reference, isDirectory: &isDirectory), !isDirectory else { return nil }
        let bytes: [UInt8]
        do { bytes = try ImageCodec.readFile(reference, limit: ImportSource.maximumModelBytes) } catch {
            throw .unreadable(source: reference, reason: error.detail)
        }
        if isBinaryWeights(bytes, path: reference) {
            let source: ImportSource
            do { source = try ImportSource.read(bytes: bytes, path: reference) } catch {
                throw .unreadable(source: reference, reason: error.reason)
            }
            switch source {
            case .weights(let file):
                throw .unreadable(source: reference, reason: "a .\(file.format.rawValue) file of weights without layer settings; make a bank of one of its kernels with 'convbank import \(reference) --layer NAME -o bank.json'")
            case .model(let model):
                guard !model.layers.isEmpty else {
                    let why = model.stop.map { "its first layer '\($0.layer)' (\($0.type)) is not one convbank runs: \($0.reason)" } ?? "it has no layers"
                    throw .unreadable(source: reference, reason: "nothing to run, \(why)")
                }
                do { return try model.network() } catch { throw .unreadable(source: reference, reason: "\(error)") }
            }
        }
        guard bytes.count <= FilterBank.maximumFileBytes else {
            throw .unreadable(source: reference, reason: "larger than the \(FilterBank.maximumFileBytes >> 20) MiB limit of a bank file")
        }
        guard isNetworkJSON(bytes) else { return nil }
        return try Network(json: bytes, source: reference)
    }

    /// Whether `bytes` are a weight or model file rather than JSON text: a NumPy, zip or HDF5 signature, or (the
    /// formats without one) a `.safetensors` or `.onnx` name on a file that does not start with `{`.
    static func isBinaryWeights(_ bytes: [UInt8], path: String) -> Bool {
        if bytes.starts(with: [0x93] + Array("NUMPY".utf8)) || ImportSource.mayHoldHDF5(Array(bytes.prefix(8))) { return true }
        let lower = path.lowercased()
        let firstText = bytes.first { ![0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains($0) }
        return (lower.hasSuffix(".onnx") || lower.hasSuffix(".safetensors")) && firstText != UInt8(ascii: "{")
    }
}
