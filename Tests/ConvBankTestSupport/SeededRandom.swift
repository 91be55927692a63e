/// The tests' one random source: SplitMix64 (Steele, Lea & Flood), tiny, fast, and the same sequence on every
/// platform and Swift version, so a seed rebuilds a random test's inputs bit for bit.
///
/// The helpers below (`below`, `int`, `chance`, `pick`, `weighted`, `bytes`) never call the standard library's
/// `random(in:using:)`, whose algorithm may change between Swift versions; tests whose inputs only need to be
/// repeatable within one toolchain may use `Int.random(in:using:)` and friends with this generator.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// 0 ..< n.
    public mutating func below(_ n: Int) -> Int {
        precondition(n > 0)
        return Int(next() % UInt64(n))
    }

    /// A value of a small closed range.
    public mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + below(range.upperBound - range.lowerBound + 1) }

    /// True with probability `p`.
    public mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(UInt64(1) << 53) < p }

    public mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// One of `items`, chosen with the given weights.
    public mutating func weighted<T>(_ items: [(Int, T)]) -> T {
        var roll = below(items.reduce(0) { $0 + $1.0 })
        for (weight, item) in items {
            if roll < weight { return item }
            roll -= weight
        }
        return items[items.count - 1].1
    }

    /// `count` random bytes, eight from each draw (low byte first).
    public mutating func bytes(_ count: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count + 8)
        while out.count < count {
            var word = next()
            for _ in 0..<8 {
                out.append(UInt8(word & 0xFF))
                word >>= 8
            }
        }
        return Array(out.prefix(count))
    }

    /// `count` junk bytes from a fresh generator seeded with `seed`: the same bytes for the same seed.
    public static func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var random = SeededRandom(seed: seed)
        return random.bytes(count)
    }

    /// The seed of case `index` of a run seeded with `seed` (so a case is rebuilt without the ones before it).
    public static func caseSeed(_ seed: UInt64, _ index: Int) -> UInt64 {
        var mixer = SeededRandom(seed: seed ^ (UInt64(index) &* 0xD1B5_4A32_D192_ED03))
        return mixer.next()
    }
}
