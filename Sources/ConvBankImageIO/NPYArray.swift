import ConvBankEngine

/// A NumPy `.npy` array read as `Double`s: format versions 1–3, C order, dtypes `f2`/`f4`/`f8`, `i1`…`i8`, `u1`…`u8`
/// in either byte order (what `numpy.save` writes for a Keras `get_weights()` array or a PyTorch tensor's `.numpy()`).
public struct NPYArray: Sendable, Equatable {
    /// The dimensions, outermost first (`()` is a scalar: one value).
    public var shape: [Int]
    /// Values in C (row-major) order.
    public var values: [Double]

    /// Why bytes are not an `.npy` array this type reads.
    public struct FormatError: Error, Sendable, CustomStringConvertible {
        /// The problem, in one line.
        public var reason: String
        /// `reason`.
        public var description: String { reason }
    }

    /// Parses the bytes of a `.npy` file.
    /// - Throws: `FormatError` for anything else (Fortran order, object or structured dtypes, truncation).
    /// - Complexity: O(bytes.count).
    public init(bytes: [UInt8]) throws(FormatError) {
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else {
            throw FormatError(reason: "not a NumPy .npy file (no \\x93NUMPY magic)")
        }
        let major = bytes[6]
        let (headerLength, start): (Int, Int)
        switch major {
        case 1: (headerLength, start) = (Int(bytes[8]) | Int(bytes[9]) << 8, 10)
        case 2, 3:
            guard bytes.count >= 12 else { throw FormatError(reason: "truncated header") }
            (headerLength, start) = (Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24, 12)
        default: throw FormatError(reason: "unknown .npy format version \(major)")
        }
        guard bytes.count >= start + headerLength else { throw FormatError(reason: "truncated header") }
        let header = String(decoding: bytes[start..<(start + headerLength)], as: UTF8.self)
        func field(_ key: String) -> Substring? {
            guard let r = header.range(of: "'\(key)':") else { return nil }
            return header[r.upperBound...].drop { $0 == " " }
        }
        guard let descrField = field("descr"), descrField.first == "'" else { throw FormatError(reason: "no dtype in the header") }
        let descr = String(descrField.dropFirst().prefix { $0 != "'" })
        if let fortran = field("fortran_order"), fortran.hasPrefix("True") {
            throw FormatError(reason: "Fortran-order arrays are not supported (save a C-order array: numpy.ascontiguousarray)")
        }
        guard let shapeField = field("shape"), shapeField.first == "(", let close = shapeField.firstIndex(of: ")") else {
            throw FormatError(reason: "no shape in the header")
        }
        var dims: [Int] = []
        for part in shapeField[shapeField.index(after: shapeField.startIndex)..<close].split(separator: ",") {
            let t = part.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            guard let n = Int(t), n >= 0 else { throw FormatError(reason: "bad shape \(shapeField[...close])") }
            dims.append(n)
        }
        shape = dims
        guard descr.count >= 3, let size = Int(descr.dropFirst(2)) else { throw FormatError(reason: "unsupported dtype '\(descr)'") }
        let order = descr.first!, kind = descr[descr.index(after: descr.startIndex)]
        let big = order == ">"
        guard order == "<" || order == ">" || order == "|" || order == "=" else { throw FormatError(reason: "unsupported dtype '\(descr)'") }
        guard ["f": [2, 4, 8], "i": [1, 2, 4, 8], "u": [1, 2, 4, 8]][String(kind)]?.contains(size) == true else {
            throw FormatError(reason: "unsupported dtype '\(descr)' (floats and integers only)")
        }
        var count = 1
        for d in dims {
            let (p, o) = count.multipliedReportingOverflow(by: d)
            guard !o, p < 1 << 31 else { throw FormatError(reason: "array too large") }
            count = p
        }
        let dataStart = start + headerLength
        guard bytes.count - dataStart == count * size else {
            throw FormatError(reason: "data holds \(bytes.count - dataStart) bytes, the header promises \(count * size)")
        }
        values = Self.decode(bytes, from: dataStart, count: count, kind: kind, size: size, bigEndian: big)
    }
}

extension NPYArray {
    /// An array of `shape` holding `values` (C order); `values.count` must be the product of `shape`.
    init(shape: [Int], values: [Double]) {
        self.shape = shape
        self.values = values
    }

    /// Decodes `count` elements of `size` bytes each, starting at `start` (the caller checked the bounds): kind `f`
    /// IEEE float (2, 4, 8 bytes), `b` bfloat16 (2), `i` signed and `u` unsigned integers (1, 2, 4, 8).
    /// - Complexity: O(count · size).
    static func decode(_ bytes: [UInt8], from start: Int, count: Int, kind: Character, size: Int, bigEndian big: Bool) -> [Double] {
        var out = [Double](repeating: 0, count: count)
        for k in 0..<count {
            var raw: UInt64 = 0
            for b in 0..<size {
                let byte = UInt64(bytes[start + k * size + (big ? size - 1 - b : b)])
                raw |= byte << (8 * UInt64(b))
            }
            switch (kind, size) {
            case ("f", 2): out[k] = Double(Float16Bits(UInt16(raw)))
            case ("f", 4): out[k] = Double(Float(bitPattern: UInt32(raw)))
            case ("f", 8): out[k] = Double(bitPattern: raw)
            case ("b", 2): out[k] = Double(Float(bitPattern: UInt32(raw) << 16))
            case ("u", _): out[k] = Double(raw)
            default:  // signed: sign-extend
                let shift = UInt64(64 - 8 * size)
                out[k] = Double(Int64(bitPattern: raw << shift) >> Int64(shift))
            }
        }
        return out
    }
}

/// IEEE half precision → Float, without depending on `Float16` (unavailable on some platforms).
private func Float16Bits(_ h: UInt16) -> Float {
    let sign: Float = h & 0x8000 != 0 ? -1 : 1
    let exponent = Int((h >> 10) & 0x1F), mantissa = Float(h & 0x3FF)
    if exponent == 0 { return sign * mantissa * Float(sign: .plus, exponent: -24, significand: 1) }
    if exponent == 31 { return mantissa == 0 ? sign * .infinity : .nan }
    return sign * (1 + mantissa / 1024) * Float(sign: .plus, exponent: exponent - 15, significand: 1)
}

extension NPYArray {
    /// The largest `.npy` file read: 256 MiB, as for bank files.
    public static let maximumFileBytes = 256 << 20

    /// Reads the `.npy` file at `path` (a lossless path, see `FileSystem`): a regular file of at most
    /// `maximumFileBytes`, opened without blocking (a FIFO or device fails at once).
    /// - Throws: `FormatError` naming why the file cannot be read or is not a supported array.
    public init(contentsOfFile path: String) throws(FormatError) {
        let bytes: [UInt8]
        do { bytes = try ImageCodec.readFile(path, limit: Self.maximumFileBytes) } catch {
            throw FormatError(reason: error.kind == .tooLarge ? "larger than the \(Self.maximumFileBytes >> 20) MiB limit of an .npy file" : error.detail)
        }
        try self.init(bytes: bytes)
    }
}
