import Foundation

/// Hand-made `.npy` files (NumPy format 1.0), as `numpy.save` writes them: magic, version 1.0, a little-endian
/// header length, a Python dict literal padded with spaces and ending in a newline so the data starts at a
/// multiple of 64, then the values in C order.
enum TestNPY {
    enum DType: String { case f4 = "<f4", f8 = "<f8" }

    static func encode(shape: [Int], dtype: DType = .f4, values: [Double]) -> [UInt8] {
        precondition(values.count == shape.reduce(1, *), "value count does not match the shape")
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(dtype.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        out += [UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
        out += Array(header.utf8)
        for v in values {
            switch dtype {
            case .f4:
                let bits = Float(v).bitPattern
                out += (0..<4).map { UInt8((bits >> (8 * UInt32($0))) & 0xFF) }
            case .f8:
                let bits = v.bitPattern
                out += (0..<8).map { UInt8((bits >> (8 * UInt64($0))) & 0xFF) }
            }
        }
        return out
    }
}
