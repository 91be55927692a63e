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
        var lo = values[0], hi = values[0]
        var sum = 0.0, zeros = 0, clipped = 0
        for v in values {
            lo = min(lo, v)
            hi = max(hi, v)
            sum += Double(v)
            if v == 0 { zeros += 1 }
            if v < -0.5 || v >= 255.5 { clipped += 1 }
        }
        let mean = sum / Double(values.count)
        var squares = 0.0
        for v in values { let d = Double(v) - mean; squares += d * d }
        minimum = lo
        maximum = hi
        self.mean = mean
        standardDeviation = (squares / Double(values.count)).squareRoot()
        zeroFraction = Double(zeros) / Double(values.count)
        clippedFraction8 = Double(clipped) / Double(values.count)
    }
}
