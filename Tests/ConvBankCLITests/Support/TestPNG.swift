import ConvBankTestSupport
import Foundation

/// A tiny PNG writer for test inputs of any colour type (the library encodes grayscale only). The zlib stream
/// uses uncompressed "stored" deflate blocks, so it needs no compressor: just CRC-32 and Adler-32.
enum TestPNG {
    enum ColorType: UInt8 {
        case gray = 0, rgb = 2, grayAlpha = 4, rgba = 6
        var channels: Int {
            switch self {
            case .gray: 1
            case .rgb: 3
            case .grayAlpha: 2
            case .rgba: 4
            }
        }
    }

    /// A PNG of `width × height` pixels from interleaved samples (`H × W × C`, row-major), at 8 or 16 bits.
    static func encode(width: Int, height: Int, color: ColorType, bitDepth: Int, samples: [Int]) -> [UInt8] {
        precondition(bitDepth == 8 || bitDepth == 16)
        precondition(samples.count == width * height * color.channels, "sample count does not match the shape")
        precondition(samples.allSatisfy { $0 >= 0 && $0 < (1 << bitDepth) }, "sample out of range")
        var raw: [UInt8] = []
        let rowSamples = width * color.channels
        for y in 0..<height {
            raw.append(0)  // filter type None
            for s in samples[(y * rowSamples)..<((y + 1) * rowSamples)] {
                if bitDepth == 16 { raw.append(UInt8(s >> 8)) }
                raw.append(UInt8(s & 0xFF))
            }
        }
        var ihdr = be32(UInt32(width)) + be32(UInt32(height))
        ihdr += [UInt8(bitDepth), color.rawValue, 0, 0, 0]
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        png += chunk("IHDR", ihdr)
        png += chunk("IDAT", zlibStored(raw))
        png += chunk("IEND", [])
        return png
    }

    /// An 8-bit grayscale PNG from a row-major grid.
    static func gray8(_ rows: [[Int]]) -> [UInt8] {
        encode(width: rows[0].count, height: rows.count, color: .gray, bitDepth: 8, samples: rows.flatMap { $0 })
    }

    /// A constant-colour image.
    static func constant(width: Int, height: Int, color: ColorType, bitDepth: Int, pixel: [Int]) -> [UInt8] {
        precondition(pixel.count == color.channels)
        let samples = (0..<(width * height)).flatMap { _ in pixel }
        return encode(width: width, height: height, color: color, bitDepth: bitDepth, samples: samples)
    }

    /// An 8-bit RGB PNG of `width × height` with gradients and noise from `seed`: every seed gives other maps.
    static func photo(width: Int, height: Int, seed: UInt64) -> [UInt8] {
        var random = SeededRandom(seed: seed)
        let a = random.below(7) + 1, b = random.below(5) + 1, c = random.below(256)
        var samples: [Int] = []
        samples.reserveCapacity(width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let noise = random.below(64)
                samples += [(x * a + c) % 256, (y * b + noise) % 256, ((x + y) * 3 + noise * 2) % 256]
            }
        }
        return encode(width: width, height: height, color: .rgb, bitDepth: 8, samples: samples)
    }

    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let n = min(65535, data.count - offset)
            let final: UInt8 = offset + n == data.count ? 1 : 0
            out.append(final)  // BFINAL, BTYPE = 00 (stored)
            out += [UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            out += data[offset..<(offset + n)]
            offset += n
        } while offset < data.count
        return out + be32(adler32(data))
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return be32(UInt32(data.count)) + body + be32(crc32(body))
    }

    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        for x in bytes {
            a = (a + UInt32(x)) % 65521
            b = (b + a) % 65521
        }
        return b << 16 | a
    }
}
