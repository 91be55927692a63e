import ConvBankEngine
internal import CImageIO

/// How `png`/`png16` outputs map a feature map's values to gray levels `0…max` (255 or 65535).
/// Rounding is to nearest with halves away from zero; arithmetic is in `Double`.
public enum Normalization: String, CaseIterable, Codable, Sendable {
    /// Round, then clip to `[0, max]`.
    case clamp
    /// Per map: min → 0, max → max, linear between; a constant map is all 0.
    case minmax
    /// `|v|`, then as `clamp`.
    case abs
    /// `v / (2 · max|v|) + ½`, scaled to `[0, max]`: 0 is mid-gray; an all-zero map is mid-gray.
    case symmetric

    /// 8-bit gray levels for `values`: the same numbers as `levels(_:maximum: 255)`, computed without
    /// intermediate arrays (`clamp` and `abs` in exact `Float` steps that vectorize).
    /// - Returns: How many values fell outside what the levels can show (below −0.5 or from 255.5 on, before
    ///   `abs`), which is what clipping loses under `clamp`.
    /// - Complexity: O(values.count).
    @discardableResult
    package func levels8(_ values: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<UInt8>) -> Int {
        precondition(out.count == values.count)
        var clipped = 0
        switch self {
        case .clamp, .abs:
            // The corresponding C function is `cio_levels8` (vectorised, exact).
            clipped = cio_levels8(values.baseAddress!, out.baseAddress!, values.count, self == .abs ? 1 : 0)
        case .minmax, .symmetric:
            let levels = self.levels(Array(values), maximum: 255)
            for k in 0..<values.count { out[k] = UInt8(levels[k]) }
        }
        return clipped
    }

    /// Gray levels for `values` with white = `maximum`.
    /// - Complexity: O(values.count).
    public func levels(_ values: [Float], maximum: Int) -> [Int] {
        let top = Double(maximum)
        func clip(_ v: Double) -> Int {
            if !(v > 0) { return 0 }  // also NaN
            if v >= top { return maximum }
            return Int(v.rounded(.toNearestOrAwayFromZero))
        }
        switch self {
        case .clamp: return values.map { clip(Double($0)) }
        case .abs: return values.map { clip(Swift.abs(Double($0))) }
        case .minmax:
            guard let lo = values.min(), let hi = values.max(), hi > lo else { return [Int](repeating: 0, count: values.count) }
            let scale = top / (Double(hi) - Double(lo))
            return values.map { clip((Double($0) - Double(lo)) * scale) }
        case .symmetric:
            let m = values.reduce(0) { Swift.max($0, Swift.abs(Double($1))) }
            if m == 0 { return [Int](repeating: clip(0.5 * top), count: values.count) }
            return values.map { clip((Double($0) / (2 * m) + 0.5) * top) }
        }
    }
}

/// The file format of written feature maps.
public enum OutputFormat: String, CaseIterable, Codable, Sendable {
    /// 8-bit grayscale PNG.
    case png
    /// 16-bit grayscale PNG.
    case png16
    /// NumPy `.npy` 1.0, `<f4`, shape `(H, W)`: the values before any normalization.
    case npy

    /// The file name extension: `png` for both PNG formats, `npy`.
    public var fileExtension: String { self == .npy ? "npy" : "png" }
}
