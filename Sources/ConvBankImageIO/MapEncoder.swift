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

    /// The bytes of `map` (one channel) in `format`; `normalization` applies to PNG only.
    /// - Throws: `ImageCodecError` if PNG encoding fails.
    /// - Complexity: O(pixels).
    public static func encode(_ map: Tensor, format: OutputFormat, normalization: Normalization, pngLevel: Int = defaultPNGLevel) throws(ImageCodecError) -> [UInt8] {
        precondition(map.channels == 1, "a feature map has one channel")
        switch format {
        case .npy: return npy(map)
        case .png:
            let levels = [UInt8](unsafeUninitializedCapacity: map.storage.count) { buffer, count in
                _ = map.storage.withUnsafeBufferPointer { normalization.levels8($0, into: buffer) }
                count = map.storage.count
            }
            return try ImageCodec.encodePNG(gray8: levels, width: map.width, height: map.height, level: pngLevel)
        case .png16:
            let levels = normalization.levels(map.storage, maximum: 65535).map { UInt16($0) }
            return try ImageCodec.encodePNG(gray16: levels, width: map.width, height: map.height, level: pngLevel)
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
