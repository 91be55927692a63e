import ConvBankEngine

/// Why an image could not be read or a map could not be written, naming the file.
public struct ImageCodecError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, in the terms of the contract (the message is in `detail`).
    public enum Kind: Sendable, Equatable {
        /// The file could not be opened or read.
        case unreadable
        /// The bytes are not a PNG, JPEG, TIFF or WebP.
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

    /// What went wrong.
    public var kind: Kind
    /// The file read or written (empty when encoding to memory without a destination).
    public var path: String
    /// The decoder's own message, or the system's.
    public var detail: String

    /// An error of `kind` about `path`, with `detail` as its message.
    public init(_ kind: Kind, path: String, detail: String) {
        self.kind = kind
        self.path = path
        self.detail = detail
    }

    /// `cannot decode 'PATH': DETAIL`, or `cannot write 'PATH': DETAIL` for `.unwritable`.
    public var description: String { "cannot \(kind == .unwritable ? "write" : "decode") '\(path)': \(detail)" }
}
