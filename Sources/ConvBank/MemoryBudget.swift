import Foundation

/// How much memory one input of a batch may need, and the byte sizes the tool reads and prints.
///
/// Before decoding an input, `apply` works out from its header what decoding, the convolution plan (padded planes,
/// every map, low-rank scratch), partial maps and encoders will allocate, and refuses the input — one line, the
/// batch goes on — when that is over the budget (`--max-memory`). The default is three quarters of the memory this
/// process may use: the machine's physical memory, or a smaller cgroup limit (a container, a Slurm job).
public enum MemoryBudget {
    /// Three quarters of `availableBytes`.
    public static let defaultBytes: Int = availableBytes / 4 * 3

    /// The machine's physical memory, or the cgroup's limit when that is smaller.
    public static let availableBytes: Int = {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
        var bytes = pages > 0 && size > 0 ? Int(pages).multipliedReportingOverflow(by: Int(size)).partialValue : 8 << 30
        for file in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            if let text = try? String(contentsOfFile: file, encoding: .utf8),
               let limit = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), limit > 0 {
                bytes = min(bytes, limit)
            }
        }
        return max(bytes, 1 << 20)
    }()

    /// The sizes `parse` accepts: 1 MiB … 1 EiB.
    public static let range = (1 << 20)...(1 << 60)

    /// Parses a byte count: `N` bytes, or a number with a binary unit `K`, `M`, `G`, `T` (optionally followed by
    /// `iB` or `B`, letter case ignored): `512M`, `1.5G`, `2GiB`. Nil for anything else or outside `range`.
    public static func parse(_ text: String) -> Int? {
        var t = text.trimmingCharacters(in: .whitespaces).uppercased()
        if t.hasSuffix("IB") { t.removeLast(2) } else if t.hasSuffix("B") { t.removeLast() }
        var scale = 1.0
        if let last = t.last, let power = ["K": 1, "M": 2, "G": 3, "T": 4, "P": 5][String(last)] {
            scale = pow(1024, Double(power))
            t.removeLast()
        }
        guard !t.isEmpty, t.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), let number = Double(t), number.isFinite else { return nil }
        let bytes = (number * scale).rounded()
        guard bytes >= Double(range.lowerBound), bytes <= Double(range.upperBound) else { return nil }
        return Int(bytes)
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
}

/// A non-negative size that sticks at `Int.max` instead of overflowing: memory estimates of hostile banks and
/// images must come out as "too much", never trap.
struct Saturating {
    let value: Int
    init(_ value: Int) { self.value = max(value, 0) }

    static func + (a: Saturating, b: Saturating) -> Saturating {
        let (sum, overflow) = a.value.addingReportingOverflow(b.value)
        return Saturating(overflow ? Int.max : sum)
    }
    static func + (a: Saturating, b: Int) -> Saturating { a + Saturating(b) }
    static func * (a: Saturating, b: Saturating) -> Saturating {
        let (product, overflow) = a.value.multipliedReportingOverflow(by: b.value)
        return Saturating(overflow ? Int.max : product)
    }
    static func * (a: Saturating, b: Int) -> Saturating { a * Saturating(b) }
}
