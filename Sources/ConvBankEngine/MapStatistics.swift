internal import CConvKernels

/// Summary numbers of one feature map (computed in `Double`).
public struct MapStatistics: Sendable, Equatable {
    /// The smallest value (NaN values are skipped).
    public var minimum: Float
    /// The largest value (NaN values are skipped).
    public var maximum: Float
    /// The arithmetic mean.
    public var mean: Double
    /// Population standard deviation.
    public var standardDeviation: Double
    /// Fraction of values that are exactly zero (for a relu bank: the "dead" outputs).
    public var zeroFraction: Double
    /// Fraction of values outside `[0, 255]` before rounding: what `png` with `clamp` clips.
    public var clippedFraction8: Double

    /// - Complexity: O(values.count). The corresponding C function is `cck_map_statistics` (one vectorised pass).
    public init(_ values: [Float]) {
        precondition(!values.isEmpty, "a map has at least one value")
        var s = cck_statistics()
        values.withUnsafeBufferPointer { cck_map_statistics($0.baseAddress!, $0.count, &s) }
        let n = Double(values.count)
        let mean = s.sum / n
        minimum = s.minimum
        maximum = s.maximum
        self.mean = mean
        standardDeviation = max(s.sum_of_squares / n - mean * mean, 0).squareRoot()
        zeroFraction = Double(s.zeros) / n
        clippedFraction8 = Double(s.clipped) / n
    }

    /// Statistics as recorded earlier (a resumed run reads them back from its record).
    public init(minimum: Float, maximum: Float, mean: Double, standardDeviation: Double, zeroFraction: Double, clippedFraction8: Double) {
        self.minimum = minimum
        self.maximum = maximum
        self.mean = mean
        self.standardDeviation = standardDeviation
        self.zeroFraction = zeroFraction
        self.clippedFraction8 = clippedFraction8
    }
}

extension MapStatistics {
    /// Statistics of a map that arrives in bands (a `ConvolutionStream`): the same sums as `init(_:)` over the whole
    /// map, gathered band by band (the sums' rounding can differ from one pass in the last bits).
    public struct Accumulator: Sendable {
        private var totals = cck_statistics(minimum: .infinity, maximum: -.infinity, sum: 0, sum_of_squares: 0, zeros: 0, clipped: 0)
        private var count = 0

        /// No values yet.
        public init() {}

        /// Adds a band of values.
        /// - Complexity: O(values.count).
        public mutating func add(_ values: UnsafeBufferPointer<Float>) {
            guard let base = values.baseAddress, !values.isEmpty else { return }
            var s = cck_statistics()
            cck_map_statistics(base, values.count, &s)
            totals.minimum = Swift.min(totals.minimum, s.minimum)
            totals.maximum = Swift.max(totals.maximum, s.maximum)
            totals.sum += s.sum
            totals.sum_of_squares += s.sum_of_squares
            totals.zeros += s.zeros
            totals.clipped += s.clipped
            count += values.count
        }

        /// The statistics of every value added.
        /// - Precondition: at least one value was added.
        public var statistics: MapStatistics {
            precondition(count > 0, "a map has at least one value")
            let n = Double(count), mean = totals.sum / n
            return MapStatistics(minimum: totals.minimum, maximum: totals.maximum, mean: mean,
                                 standardDeviation: Swift.max(totals.sum_of_squares / n - mean * mean, 0).squareRoot(),
                                 zeroFraction: Double(totals.zeros) / n, clippedFraction8: Double(totals.clipped) / n)
        }
    }
}
