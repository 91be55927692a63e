import Foundation

/// The tests' one `.npy` reader, independent of the library: float32 arrays in NumPy format 1.0 exactly as
/// `numpy.save` writes them — the magic `\x93NUMPY`, version 1.0, a little-endian 2-byte header length, a Python
/// dict literal padded with spaces and ending in a newline so the data starts at a multiple of 64, then
/// little-endian `<f4` values in C order.
///
/// It is written from the format's description and shares no code with the library's `NPYArray`, so a test that
/// checks the library's `.npy` writer (`MapEncoder.npy`, or `convbank apply --format npy` through the binary) never
/// reads the result back with the code under test; the golden comparisons read their committed fixtures with it
/// too. Tests of `NPYArray` itself use `NPYArray`.
public struct Float32NPY: Equatable, Sendable {
    public var shape: [Int]
    /// The values in C (row-major) order.
    public var values: [Float]

    public struct Malformed: Error, CustomStringConvertible {
        public var description: String
    }

    /// Parses `bytes`; `rank`, when given, is the number of dimensions the array must have.
    /// - Throws: `Malformed` for anything `numpy.save` would not write for a C-order float32 array.
    public init(bytes: [UInt8], rank: Int? = nil) throws {
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
        shape = header[open.upperBound..<close].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.compactMap { Int($0) }
        if let rank, shape.count != rank { throw Malformed(description: "shape is not \(rank)-D: \(header)") }
        let count = shape.reduce(1, *)
        guard bytes.count == dataStart + 4 * count else {
            throw Malformed(description: "\(bytes.count - dataStart) data bytes for shape \(shape)")
        }
        values = (0..<count).map { k in
            let o = dataStart + 4 * k
            return Float(bitPattern: UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24)
        }
    }

    public init(contentsOf url: URL, rank: Int? = nil) throws {
        try self.init(bytes: [UInt8](try Data(contentsOf: url)), rank: rank)
    }

    /// The first dimension (of a 2-D array: its height).
    public var rows: Int { shape[0] }
    /// The second dimension (of a 2-D array: its width).
    public var columns: Int { shape[1] }
    /// Element `(y, x)` of a 2-D array.
    public subscript(y: Int, x: Int) -> Float { values[y * columns + x] }
}
