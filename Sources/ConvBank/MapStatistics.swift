/// Summary numbers of one feature map (computed in `Double`).
public struct MapStatistics: Sendable, Equatable {
    public var minimum: Float
    public var maximum: Float
    public var mean: Double
    /// Population standard deviation.
    public var standardDeviation: Double
    /// Fraction of values that are exactly zero (for a relu bank: the "dead" outputs).
    public var zeroFraction: Double
    /// Fraction of values outside `[0, 255]` before rounding: what `png` with `clamp` clips.
    public var clippedFraction8: Double

    /// - Complexity: O(values.count).
    public init(_ values: [Float]) {
        precondition(!values.isEmpty, "a map has at least one value")
        // Per block: Float min/max and counts, then Double sums Σv and Σv² (exact enough for a display).
        var lo = values[0], hi = values[0]
        var sum = 0.0, squares = 0.0
        var zeros = 0, clipped = 0
        values.withUnsafeBufferPointer { v in
            var start = 0
            while start < v.count {
                let end = min(start + 4096, v.count)
                var blockLo = v[start], blockHi = v[start]
                for k in start..<end {
                    let x = v[k]
                    blockLo = x < blockLo ? x : blockLo
                    blockHi = x > blockHi ? x : blockHi
                    zeros &+= x == 0 ? 1 : 0
                    clipped &+= (x < -0.5 || x >= 255.5) ? 1 : 0
                }
                var s = 0.0, q = 0.0
                for k in start..<end { let d = Double(v[k]); s += d; q += d * d }
                sum += s
                squares += q
                lo = min(lo, blockLo)
                hi = max(hi, blockHi)
                start = end
            }
        }
        let n = Double(values.count)
        let mean = sum / n
        minimum = lo
        maximum = hi
        self.mean = mean
        standardDeviation = max(squares / n - mean * mean, 0).squareRoot()
        zeroFraction = Double(zeros) / n
        clippedFraction8 = Double(clipped) / n
    }
}
