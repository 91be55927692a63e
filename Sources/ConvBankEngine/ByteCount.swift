import Foundation

/// A number of bytes as people write and read it: `512M`, `1.5G`, `2GiB` in, `1.5 GiB` out. The one owner of the
/// spelling of `--max-memory` and of the sizes in messages.
public struct ByteCount: Sendable, Hashable, CustomStringConvertible {
    /// The number of bytes.
    public let bytes: Int

    /// A count of `bytes` bytes (any value; `range` bounds only what `init(parsing:)` accepts).
    public init(bytes: Int) { self.bytes = bytes }

    /// The sizes `init(parsing:)` accepts: 1 MiB … 1 EiB.
    public static let range = (1 << 20)...(1 << 60)

    /// Parses a byte count: `N` bytes, or a number with a binary unit `K`, `M`, `G`, `T` (optionally followed by
    /// `iB` or `B`, letter case ignored): `512M`, `1.5G`, `2GiB`. Nil for anything else or outside `range`.
    public init?(parsing text: String) {
        var t = text.trimmingCharacters(in: .whitespaces).uppercased()
        if t.hasSuffix("IB") { t.removeLast(2) } else if t.hasSuffix("B") { t.removeLast() }
        var scale = 1.0
        if let last = t.last, let power = ["K": 1, "M": 2, "G": 3, "T": 4, "P": 5][String(last)] {
            scale = pow(1024, Double(power))
            t.removeLast()
        }
        guard !t.isEmpty, t.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), let number = Double(t), number.isFinite else { return nil }
        let bytes = (number * scale).rounded()
        guard bytes >= Double(Self.range.lowerBound), bytes <= Double(Self.range.upperBound) else { return nil }
        self.bytes = Int(bytes)
    }

    /// Why a text is not a size, for error messages.
    public static let parsingHelp = "expected a size such as 512M, 4G or 1.5G (binary units K, M, G, T), between 1M and 1024P"

    /// `1.5 GiB`, `512 MiB`, `900 KiB`, `12 B`.
    public static func format(_ bytes: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var value = Double(bytes), unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(bytes) B" }
        return value >= 100 ? String(format: "%.0f %@", value, units[unit]) : String(format: "%.1f %@", value, units[unit])
    }

    /// `format(bytes)`.
    public var description: String { Self.format(bytes) }
}
