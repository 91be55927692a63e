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

/// A reader of the `.npy` files `convbank apply --format npy` writes: NumPy format 1.0, `<f4`, C order, 2-D.
struct NPYMatrix: Equatable {
    var rows: Int, columns: Int
    var values: [Float]

    struct Malformed: Error, CustomStringConvertible { var description: String }

    init(bytes: [UInt8]) throws {
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else {
            throw Malformed(description: "no NumPy magic")
        }
        guard bytes[6] == 1, bytes[7] == 0 else { throw Malformed(description: "version \(bytes[6]).\(bytes[7]), expected 1.0") }
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        let dataStart = 10 + headerLength
        guard dataStart % 64 == 0 else { throw Malformed(description: "data starts at \(dataStart), not a multiple of 64") }
        guard bytes.count >= dataStart else { throw Malformed(description: "header longer than the file") }
        let header = String(decoding: bytes[10..<dataStart], as: UTF8.self)
        guard header.hasSuffix("\n") else { throw Malformed(description: "header does not end with a newline") }
        guard header.contains("'descr': '<f4'") else { throw Malformed(description: "not <f4: \(header)") }
        guard header.contains("'fortran_order': False") else { throw Malformed(description: "not C order: \(header)") }
        guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
            throw Malformed(description: "no shape: \(header)")
        }
        let dims = header[open.upperBound..<close].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.compactMap { Int($0) }
        guard dims.count == 2 else { throw Malformed(description: "shape is not 2-D: \(header)") }
        rows = dims[0]
        columns = dims[1]
        guard bytes.count == dataStart + 4 * rows * columns else {
            throw Malformed(description: "\(bytes.count - dataStart) data bytes for shape (\(rows), \(columns))")
        }
        values = (0..<(rows * columns)).map { k in
            let o = dataStart + 4 * k
            return Float(bitPattern: UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24)
        }
    }

    init(contentsOf url: URL) throws { try self.init(bytes: try bytes(of: url)) }

    var shape: [Int] { [rows, columns] }
    subscript(y: Int, x: Int) -> Float { values[y * columns + x] }
}

/// Bank JSON text for tests.
enum TestBank {
    /// One filter `name` with `weights[c][i][j]`.
    static func single(name: String = "f", weights: [[[Double]]], bias: Double = 0, padding: String = "\"valid\"",
                       stride: Int = 1, activation: String = "linear", paddingMode: String = "zeros") -> String {
        """
        {"name": "test", "stride": \(stride), "padding": \(padding), "padding_mode": "\(paddingMode)", "activation": "\(activation)",
         "filters": [{"name": "\(name)", "bias": \(number(bias)), "weights": \(array(weights))}]}
        """
    }

    static func array(_ w: [[[Double]]]) -> String {
        "[" + w.map { c in "[" + c.map { r in "[" + r.map(number).joined(separator: ", ") + "]" }.joined(separator: ", ") + "]" }
            .joined(separator: ", ") + "]"
    }

    static func number(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }
}
