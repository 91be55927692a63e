import ArgumentParser
import ConvBank

// Contract spellings parse straight into library types.

extension Extent2D: ExpressibleByArgument {
    public init?(argument: String) {
        guard let value = Extent2D(parsing: argument), value.height >= 1, value.width >= 1 else { return nil }
        self = value
    }
}

extension Padding: ExpressibleByArgument {
    public init?(argument: String) {
        guard let value = Padding(parsing: argument) else { return nil }
        if case .explicit(let e) = value, min(e.top, e.bottom, e.left, e.right) < 0 { return nil }
        self = value
    }
}

extension Shard: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
}

extension PaddingMode: ExpressibleByArgument {}
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
              let y = Int(parts[1].trimmingCharacters(in: .whitespaces)), x >= 0, y >= 0 else { return nil }
        self.x = x
        self.y = y
    }
}
extension Colormap: ExpressibleByArgument {}
