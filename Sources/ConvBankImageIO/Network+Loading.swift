import ConvBankEngine
import Foundation

extension Network {
    /// Loads the network in the file `reference`, or returns nil when `reference` is not a network file (no such
    /// file, or a JSON file without a `"layers"` key: a bank file, an inline kernel or a built-in bank name, which
    /// `FilterBank.load(_:)` reads).
    /// - Parameter reference: what `--bank` was given.
    /// - Throws: `BankError` when the file is a network file with a problem (with the JSON path), or unreadable.
    public static func load(_ reference: String) throws(BankError) -> Network? {
        var isDirectory = false
        guard fileExists(reference, isDirectory: &isDirectory), !isDirectory else { return nil }
        let bytes: [UInt8]
        do { bytes = try ImageCodec.readFile(reference, limit: FilterBank.maximumFileBytes) } catch {
            throw .unreadable(source: reference, reason: error.detail)
        }
        guard isNetworkJSON(bytes) else { return nil }
        return try Network(json: bytes, source: reference)
    }
}
