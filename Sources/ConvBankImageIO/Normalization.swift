import ConvBankEngine
internal import CImageIO

/// How `png`/`png16`/`jpeg`/`webp`/`tiff16` outputs map a feature map's values to gray levels `0…max` (255 or 65535).
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

/// The file format of written feature maps: the one owner of each format's extension and sample kind.
public enum OutputFormat: String, CaseIterable, Codable, Sendable {
    /// 8-bit PNG (gray, or colour for a colour map).
    case png
    /// 16-bit PNG.
    case png16
    /// NumPy `.npy` 1.0, `<f4`, shape `(H, W)`: the values before any normalization.
    case npy
    /// Baseline JPEG of 8-bit levels, quality `--quality` (default 90); colour as YCbCr 4:2:0. Extension `.jpg`.
    case jpeg
    /// WebP of 8-bit levels: lossless, or lossy at `--quality`. Gray maps are stored as R = G = B (WebP has no gray).
    case webp
    /// TIFF of 32-bit IEEE floats: the values before any normalization, bit for bit as `npy`; deflate with the
    /// floating-point predictor. Extension `.tif`.
    case tiff
    /// TIFF of 16-bit levels, normalized as `png16`; deflate with horizontal differencing. Extension `.tif`.
    case tiff16

    /// The file name extension (without the dot): `png`, `npy`, `jpg`, `webp` or `tif`.
    public var fileExtension: String {
        switch self {
        case .png, .png16: "png"
        case .npy: "npy"
        case .jpeg: "jpg"
        case .webp: "webp"
        case .tiff, .tiff16: "tif"
        }
    }

    /// The largest gray level of the format's normalized samples (255 or 65535), or nil when it holds the values
    /// themselves (`npy`, `tiff`), to which no normalization applies.
    public var maximumLevel: Int? {
        switch self {
        case .png, .jpeg, .webp: 255
        case .png16, .tiff16: 65535
        case .npy, .tiff: nil
        }
    }

    /// Whether `MapStreamWriter` can write the format band by band: `npy`, `png`, `png16`. The others' encoders take a
    /// whole image, so their maps take the whole-image path.
    public var streams: Bool { self == .npy || self == .png || self == .png16 }

    /// Whether `--quality` means something for the format: `jpeg` and `webp`.
    public var takesQuality: Bool { self == .jpeg || self == .webp }
}
