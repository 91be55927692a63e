import ConvBankEngine
import Foundation

extension FilterBank {
    /// The largest bank file read: 256 MiB (tens of millions of weights; parsing holds a few times that).
    public static let maximumFileBytes = 256 << 20

    /// Loads a bank from a JSON file; when no such file exists, from an inline kernel (`3x3: 0,-1,0,-1,5,-1,0,-1,0`,
    /// see `InlineKernel`) or a built-in bank by name (`edges`, `gaussian:sigma=2`). A file always wins: a file named
    /// like an inline kernel or a built-in is read as the file.
    /// - Throws: `BankError`.
    public static func load(_ reference: String) throws(BankError) -> FilterBank {
        var isDirectory = false
        if fileExists(reference, isDirectory: &isDirectory), !isDirectory {
            let bytes: [UInt8]
            do { bytes = try ImageCodec.readFile(reference, limit: FilterBank.maximumFileBytes) } catch {
                throw .unreadable(source: reference, reason: error.detail)
            }
            return try FilterBank(json: bytes, source: reference)
        }
        if InlineKernel.isInline(reference), !isDirectory { return try InlineKernel.parse(reference) }
        if BuiltinBank.isBuiltinName(reference), !isDirectory { return try BuiltinBank.parse(reference) }
        if reference.hasSuffix(".json") || reference.contains("/") || isDirectory {
            throw .unreadable(source: reference, reason: isDirectory ? "is a folder" : "no such file")
        }
        throw .unknownBuiltin(reference, known: BuiltinBank.all.map(\.name))
    }
}
