import ConvBankEngine
/// Why an image could not be read or a map could not be written, naming the file.
public struct ImageCodecError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The file could not be opened or read.
        case unreadable
        /// The bytes are not a PNG or JPEG.
        case notAnImage
        /// A valid file of a kind convbank does not decode.
        case unsupported
        /// The decoder found damaged or truncated data.
        case corrupt
        /// Larger than the pixel limit (checked from the header, before decoding).
        case tooLarge
        /// Memory ran out.
        case noMemory
        /// An output could not be written.
        case unwritable
    }

    public var kind: Kind
    public var path: String
    /// The decoder's own message, or the system's.
    public var detail: String

    public init(_ kind: Kind, path: String, detail: String) {
        self.kind = kind
        self.path = path
        self.detail = detail
    }

    public var description: String { "cannot \(kind == .unwritable ? "write" : "decode") '\(path)': \(detail)" }
}
