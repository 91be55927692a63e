import Foundation

extension Filter {
    /// The output range before the activation for inputs anywhere in `0…inputMaximum`:
    /// `inputMaximum · Σ(negative weights) + bias … inputMaximum · Σ(positive weights) + bias`, summed in `Double`.
    /// (Sobel x on 0…255: −1020…1020.)
    /// - Complexity: O(weights).
    public func range(inputMaximum: Float = 255) -> ClosedRange<Float> {
        var negative = 0.0, positive = 0.0
        for w in weights { if w < 0 { negative += Double(w) } else { positive += Double(w) } }
        let m = Double(inputMaximum)
        let low = Float(m * negative + Double(bias)), high = Float(m * positive + Double(bias))
        return low <= high ? low...high : (high.isNaN ? low...low : high...high)  // NaN only from non-finite weights
    }
}

extension FilterBank {
    /// The union of every filter's `range(inputMaximum:)`.
    /// - Complexity: O(weights).
    public func range(inputMaximum: Float = 255) -> ClosedRange<Float> {
        let ranges = filters.map { $0.range(inputMaximum: inputMaximum) }
        return ranges.map(\.lowerBound).min()!...ranges.map(\.upperBound).max()!
    }
}
