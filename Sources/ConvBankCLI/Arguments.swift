import ArgumentParser
import ConvBankBatch
import ConvBankEngine
import ConvBankImageIO
import ConvBankPictures

// Contract spellings parse straight into library types.

// Parsing and bounds belong to the library types (the same rules as bank JSON); these only adopt them.
extension Extent2D: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
}

extension Padding: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
}

extension Shard: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
}

extension PaddingMode: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
}
extension Normalization: ExpressibleByArgument {}
extension OutputFormat: ExpressibleByArgument {}

extension Activation: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
}

/// An output position `X,Y`.
struct Position: ExpressibleByArgument {
    var x: Int, y: Int
    init?(argument: String) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 2, let x = Int(parts[0].trimmingCharacters(in: .whitespaces)),
              let y = Int(parts[1].trimmingCharacters(in: .whitespaces)),
              EdgeInsets.componentRange.contains(x), EdgeInsets.componentRange.contains(y) else { return nil }
        self.x = x
        self.y = y
    }
}
extension Colormap: ExpressibleByArgument {}
extension OutputLayout: ExpressibleByArgument {}

/// `--max-memory` (`512M`, `4G`): parsing, bounds and printing are `ByteCount`'s.
extension ByteCount: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
    public var defaultValueDescription: String { description }
}
