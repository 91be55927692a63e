import ConvBankEngine
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Turns feature maps into file bytes.
public enum MapEncoder {
    /// Level 1: adaptive row filters and convbank's run-length deflate encoder (literals and runs of one byte):
    /// about 2.5× as fast as libdeflate level 1 on feature maps and a few percent smaller, about zlib level 6's size.
    public static let defaultPNGLevel = 1

    /// The bytes of `map` in `format`. `normalization` applies to the formats of gray levels (`png`, `png16`, `jpeg`,
    /// `webp`, `tiff16`); `npy` and `tiff` hold the values themselves. `quality` is `jpeg`'s (nil: 90) and `webp`'s
    /// (nil: lossless); other formats ignore it.
    ///
    /// A one-channel map is a gray image (`npy` shape `(H, W)`). A colour map — a per-channel result
    /// (`ConvolutionPlan.runPerChannel`): 1 or 3 channels for PNG, 1, 3 or 4 for `jpeg`, `webp`, `tiff` and `tiff16`,
    /// any count for `npy` — is written channels last: `npy` shape `(H, W, C)`, the image formats an RGB (RGBA) or
    /// gray image; `perChannel` gives a one-channel per-channel result the `(H, W, 1)` shape in `npy` too. `clamp`
    /// and `abs` work per sample; `minmax` and `symmetric` take one range over all of the map's channels, so colours
    /// keep their balance.
    /// - Throws: `ImageCodecError` if encoding fails.
    /// - Precondition: the channel counts above.
    /// - Complexity: O(pixels · channels).
    public static func encode(_ map: Tensor, format: OutputFormat, normalization: Normalization, pngLevel: Int = defaultPNGLevel,
                              quality: Int? = nil, perChannel: Bool = false) throws(ImageCodecError) -> [UInt8] {
        switch format {
        case .npy, .png, .png16: break
        case .jpeg, .webp, .tiff, .tiff16:
            precondition([1, 3, 4].contains(map.channels), "a map has 1, 3 or 4 channels")
        }
        switch format {
        case .npy: return npy(map, channelsLast: perChannel)
        case .png:
            precondition(map.channels == 1 || map.channels == 3, "PNG maps have 1 or 3 channels")
            let samples = samples8(map, normalization: normalization)
            if map.channels == 3 { return try ImageCodec.encodePNG(rgb8: samples, width: map.width, height: map.height, level: pngLevel) }
            return try ImageCodec.encodePNG(gray8: samples, width: map.width, height: map.height, level: pngLevel)
        case .png16:
            precondition(map.channels == 1 || map.channels == 3, "PNG maps have 1 or 3 channels")
            let samples = samples16(map, normalization: normalization)
            if map.channels == 3 { return try ImageCodec.encodePNG(rgb16: samples, width: map.width, height: map.height, level: pngLevel) }
            return try ImageCodec.encodePNG(gray16: samples, width: map.width, height: map.height, level: pngLevel)
        case .jpeg:
            return try ImageCodec.encodeJPEG(samples8(map, normalization: normalization), width: map.width, height: map.height,
                                             channels: map.channels, quality: quality ?? ImageCodec.defaultJPEGQuality)
        case .webp:
            return try ImageCodec.encodeWebP(samples8(map, normalization: normalization), width: map.width, height: map.height,
                                             channels: map.channels, quality: quality)
        case .tiff:
            return try ImageCodec.encodeTIFF(float32: interleaving(map.storage, channels: map.channels), width: map.width, height: map.height,
                                             channels: map.channels)
        case .tiff16:
            return try ImageCodec.encodeTIFF(uint16: samples16(map, normalization: normalization), width: map.width, height: map.height,
                                             channels: map.channels)
        }
    }

    /// The bytes that `encode` holds at its peak for a map of `values` samples (pixels × channels), besides the map
    /// itself: normalized levels, the interleaved copy of a colour map, the encoder's own buffers and the file (twice:
    /// the C encoder's and the returned array). An estimate with a margin, for the memory budget. The C encoders' own
    /// peaks, measured on a 4.1 MP Gaussian-blurred photo: libjpeg < 1 MB whatever the size; libwebp lossless ≈ 22
    /// bytes a pixel (gray or RGB alike), lossy ≈ 6; libtiff the file's growing buffer (up to 1.5 × the file, at
    /// most 6 bytes a float value) and one 64 KiB strip. `png`, `png16` and `npy` keep the figures the batch always
    /// used.
    /// - Complexity: O(1).
    public static func peakBytes(format: OutputFormat, values: Int, channels: Int = 1) -> Int {
        let perValue: Int
        switch format {
        case .npy: perValue = 8                                  // the file and its copy
        case .png, .png16: perValue = 4                          // levels and the file (the estimate the batch always used)
        case .jpeg: perValue = 4                                 // levels, interleaved copy, the file twice
        case .webp: perValue = 4 + 28 / max(channels, 1)         // levels, copy, the file; libwebp's ARGB and lossless state per pixel
        case .tiff: perValue = 16                                // interleaved copy, the file's growing buffer and its copy
        case .tiff16: perValue = 18                              // Int and UInt16 levels, copy, the file twice
        }
        return (Saturating(values) * perValue).value
    }

    /// `map`'s 8-bit levels under `normalization`, interleaved `H × W × C` (row-major pixels, channels last): what
    /// every 8-bit image format writes. One range over all channels for `minmax` and `symmetric`.
    /// - Complexity: O(pixels · channels).
    package static func samples8(_ map: Tensor, normalization: Normalization) -> [UInt8] {
        let planar = [UInt8](unsafeUninitializedCapacity: map.storage.count) { buffer, count in
            _ = map.storage.withUnsafeBufferPointer { normalization.levels8($0, into: buffer) }
            count = map.storage.count
        }
        return interleaving(planar, channels: map.channels)
    }

    /// `map`'s 16-bit levels under `normalization`, interleaved `H × W × C` (see `samples8`).
    /// - Complexity: O(pixels · channels).
    package static func samples16(_ map: Tensor, normalization: Normalization) -> [UInt16] {
        interleaving(normalization.levels(map.storage, maximum: 65535).map { UInt16($0) }, channels: map.channels)
    }

    /// Planar samples (`channels` planes one after another) in interleaved order: the one place maps change from
    /// the engine's planes to the channels-last layout of files. One channel is returned as it is.
    /// - Complexity: O(samples).
    package static func interleaving<T: BitwiseCopyable>(_ planar: [T], channels: Int) -> [T] {
        guard channels > 1 else { return planar }
        precondition(planar.count % channels == 0, "planes of equal size")
        let plane = planar.count / channels
        return [T](unsafeUninitializedCapacity: planar.count) { out, initialized in
            planar.withUnsafeBufferPointer { src in
                let dst = out.baseAddress!, base = src.baseAddress!
                // Pixel by pixel, so each output cache line is written once (3 channels: the usual case, unrolled).
                if channels == 3 {
                    let (r, g, b) = (base, base + plane, base + 2 * plane)
                    for p in 0..<plane {
                        (dst + 3 * p).initialize(to: r[p])
                        (dst + 3 * p + 1).initialize(to: g[p])
                        (dst + 3 * p + 2).initialize(to: b[p])
                    }
                } else {
                    for p in 0..<plane {
                        for c in 0..<channels { (dst + p * channels + c).initialize(to: base[c * plane + p]) }
                    }
                }
            }
            initialized = planar.count
        }
    }

    /// NumPy format 1.0: magic, version 1.0, little-endian header length, a Python dict literal padded with
    /// spaces and a newline so the data starts at a multiple of 64, then `<f4` values in C order. A one-channel map
    /// has shape `(H, W)`; a multi-channel map (or any map with `channelsLast`) has shape `(H, W, C)`, channels last.
    /// - Complexity: O(pixels · channels).
    public static func npy(_ map: Tensor, channelsLast: Bool = false) -> [UInt8] {
        let channels = channelsLast || map.channels > 1 ? map.channels : nil
        let header = npyHeader(height: map.height, width: map.width, channels: channels)
        if map.channels == 1 { return map.storage.withUnsafeBufferPointer { header + npyValues($0) } }
        return interleaving(map.storage, channels: map.channels).withUnsafeBufferPointer { header + npyValues($0) }
    }

    /// `values` as `.npy` data: each `Float` as its little-endian 32-bit pattern (what `npy(_:)` writes after the
    /// header; a map written band by band appends one band after another).
    /// - Complexity: O(values.count).
    package static func npyValues(_ values: UnsafeBufferPointer<Float>) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: values.count * 4) { bytes, initialized in
            let raw = UnsafeMutableRawBufferPointer(bytes)
            for (k, v) in values.enumerated() { raw.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: 4 * k, as: UInt32.self) }
            initialized = values.count * 4
        }
    }

    /// The `.npy` header of an `(height, width)` `<f4` array, or `(height, width, channels)` when `channels` is
    /// given: what `npy(_:channelsLast:)` writes before the values.
    package static func npyHeader(height: Int, width: Int, channels: Int? = nil) -> [UInt8] {
        let shape = channels.map { "(\(height), \(width), \($0))" } ?? "(\(height), \(width))"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        let length = UInt16(header.utf8.count)
        out += [UInt8(length & 0xFF), UInt8(length >> 8)]
        out += Array(header.utf8)
        return out
    }
}
