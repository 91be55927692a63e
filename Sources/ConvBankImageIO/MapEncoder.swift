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
    /// `png`, `png16` and `npy` take one-channel maps. `jpeg`, `webp`, `tiff` and `tiff16` also take a colour map
    /// (3 or 4 planar channels, `Tensor`'s layout): `clamp` and `abs` then act per sample, `minmax` and `symmetric`
    /// over all channels together (one range for the whole map, so colours keep their balance), and the file is an
    /// RGB (RGBA) image.
    /// - Throws: `ImageCodecError` if encoding fails.
    /// - Complexity: O(pixels · channels).
    public static func encode(_ map: Tensor, format: OutputFormat, normalization: Normalization, pngLevel: Int = defaultPNGLevel,
                              quality: Int? = nil) throws(ImageCodecError) -> [UInt8] {
        switch format {
        case .npy, .png, .png16:
            precondition(map.channels == 1, "a \(format.rawValue) map has one channel")
        case .jpeg, .webp, .tiff, .tiff16:
            precondition([1, 3, 4].contains(map.channels), "a map has 1, 3 or 4 channels")
        }
        switch format {
        case .npy: return npy(map)
        case .png:
            return try ImageCodec.encodePNG(gray8: levels8(map, normalization), width: map.width, height: map.height, level: pngLevel)
        case .png16:
            let levels = normalization.levels(map.storage, maximum: 65535).map { UInt16($0) }
            return try ImageCodec.encodePNG(gray16: levels, width: map.width, height: map.height, level: pngLevel)
        case .jpeg:
            return try ImageCodec.encodeJPEG(interleaved(levels8(map, normalization), map), width: map.width, height: map.height,
                                             channels: map.channels, quality: quality ?? ImageCodec.defaultJPEGQuality)
        case .webp:
            return try ImageCodec.encodeWebP(interleaved(levels8(map, normalization), map), width: map.width, height: map.height,
                                             channels: map.channels, quality: quality)
        case .tiff:
            return try ImageCodec.encodeTIFF(float32: interleaved(map.storage, map), width: map.width, height: map.height, channels: map.channels)
        case .tiff16:
            let levels = normalization.levels(map.storage, maximum: 65535).map { UInt16($0) }
            return try ImageCodec.encodeTIFF(uint16: interleaved(levels, map), width: map.width, height: map.height, channels: map.channels)
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

    /// 8-bit levels of every sample of `map` (planar, as stored).
    private static func levels8(_ map: Tensor, _ normalization: Normalization) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: map.storage.count) { buffer, count in
            _ = map.storage.withUnsafeBufferPointer { normalization.levels8($0, into: buffer) }
            count = map.storage.count
        }
    }

    /// `planar` (`map`'s channel planes, one after another) as interleaved samples; one channel is returned as is.
    private static func interleaved<T>(_ planar: [T], _ map: Tensor) -> [T] {
        let channels = map.channels
        guard channels > 1 else { return planar }
        let plane = map.height * map.width
        return [T](unsafeUninitializedCapacity: planar.count) { out, count in
            planar.withUnsafeBufferPointer { source in
                for c in 0..<channels {
                    for p in 0..<plane { (out.baseAddress! + p * channels + c).initialize(to: source[c * plane + p]) }
                }
            }
            count = planar.count
        }
    }

    /// NumPy format 1.0: magic, version 1.0, little-endian header length, a Python dict literal padded with
    /// spaces and a newline so the data starts at a multiple of 64, then `<f4` values in C order.
    /// - Complexity: O(pixels).
    public static func npy(_ map: Tensor) -> [UInt8] {
        map.storage.withUnsafeBufferPointer { npyHeader(height: map.height, width: map.width) + npyValues($0) }
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

    /// The `.npy` header of an `(height, width)` `<f4` array: what `npy(_:)` writes before the values.
    package static func npyHeader(height: Int, width: Int) -> [UInt8] {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(height), \(width)), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        let length = UInt16(header.utf8.count)
        out += [UInt8(length & 0xFF), UInt8(length >> 8)]
        out += Array(header.utf8)
        return out
    }
}
