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

    /// The bytes of `map` in `format`; `normalization` applies to PNG only.
    ///
    /// A one-channel map is a gray image (`npy` shape `(H, W)`). A colour map — a per-channel result
    /// (`ConvolutionPlan.runPerChannel`), 1 or 3 channels for images, any count for `npy` — is written channels last:
    /// `npy` shape `(H, W, C)`, PNG an RGB (or gray) image; `perChannel` gives a one-channel per-channel result the
    /// `(H, W, 1)` shape too. `clamp` and `abs` work per sample; `minmax` and `symmetric` take one range over all
    /// of the map's channels, so colours keep their balance.
    /// - Throws: `ImageCodecError` if PNG encoding fails.
    /// - Precondition: PNG maps have 1 or 3 channels.
    /// - Complexity: O(pixels · channels).
    public static func encode(_ map: Tensor, format: OutputFormat, normalization: Normalization, pngLevel: Int = defaultPNGLevel,
                              perChannel: Bool = false) throws(ImageCodecError) -> [UInt8] {
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
        }
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
