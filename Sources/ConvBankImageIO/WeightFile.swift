import ConvBankEngine

/// The named arrays of a weight file, in file order: a NumPy `.npy` (one array, named after the file), a NumPy
/// `.npz` (a zip of `.npy` members, stored or deflated, as `numpy.savez`/`savez_compressed` write it; arrays named
/// by member without `.npy`) or a `.safetensors` file (an 8-byte little-endian header length, a JSON header of
/// `name: {dtype, shape, data_offsets}`, raw little-endian tensors; dtypes F16, BF16, F32, F64 and the integers)
/// or Keras HDF5 weights (`.weights.h5`, `.h5`: see `readHDF5`). The format is told by content (`\x93NUMPY`, `PK`,
/// the HDF5 signature, a header length followed by `{`), not by extension.
///
/// Hostile files are bounded: at most `maximumFileBytes` read, at most `maximumArrayBytes` of arrays declared in all
/// (checked before inflating or decoding anything), zip members inflated into buffers of their declared sizes only.
public struct WeightFile: Sendable {
    /// The container formats read.
    public enum Format: String, Sendable {
        /// One NumPy array.
        case npy
        /// A zip of NumPy arrays.
        case npz
        /// Hugging Face safetensors.
        case safetensors
        /// Keras HDF5 weights (`.weights.h5`, Keras 2 `.h5`; see `readHDF5`).
        case h5
    }

    /// One array and its name in the file.
    public struct Entry: Sendable, Equatable {
        /// The array's name (`conv1.weight`, `conv2d/kernel`).
        public var name: String
        /// The array.
        public var array: NPYArray
    }

    /// Why a file is not a weight file this type reads; `description` names the file and, in an archive, the member.
    public struct FormatError: Error, Sendable, CustomStringConvertible {
        /// The file as given.
        public var path: String
        /// The problem, in one line.
        public var reason: String
        /// `cannot read 'PATH': REASON`.
        public var description: String { "cannot read '\(path)': \(reason)" }
    }

    /// The file's container format.
    public var format: Format
    /// The arrays in file order (`.npz`: central-directory order; `.safetensors`: header order).
    public var entries: [Entry]

    /// The largest file read: 256 MiB, as for `.npy` and bank files.
    public static let maximumFileBytes = 256 << 20
    /// The most bytes of arrays a file may declare in all (uncompressed zip members, safetensors data): 256 MiB.
    public static let maximumArrayBytes = 256 << 20
    /// The longest safetensors JSON header read: 100,000,000 bytes, the safetensors library's own limit.
    public static let maximumHeaderBytes = 100_000_000

    /// The 8 bytes an HDF5 file starts with (at offset 0; a user block before them is not read).
    static let hdf5Signature: [UInt8] = [0x89] + Array("HDF\r\n".utf8) + [0x1A, 0x0A]

    /// The array named `name`, if the file holds one.
    public subscript(name: String) -> NPYArray? { entries.first { $0.name == name }?.array }

    /// A file of these arrays (for readers of other containers).
    init(format: Format, entries: [Entry]) {
        self.format = format
        self.entries = entries
    }

    /// Reads the weight file at `path` (a lossless path, see `FileSystem`): a regular file of at most
    /// `maximumFileBytes`, opened without blocking.
    /// - Throws: `FormatError` naming the file and the problem.
    public init(contentsOfFile path: String) throws(FormatError) {
        let bytes: [UInt8]
        do { bytes = try ImageCodec.readFile(path, limit: Self.maximumFileBytes) } catch {
            throw FormatError(path: path, reason: error.kind == .tooLarge ? "larger than the \(Self.maximumFileBytes >> 20) MiB limit of a weight file" : error.detail)
        }
        try self.init(bytes: bytes, path: path)
    }

    /// Parses the bytes of a weight file; `path` names it in errors (and names a `.npy` file's one array).
    /// - Throws: `FormatError` for anything that is not a well-formed file of the three formats, or holds an array
    ///   of another dtype (object, bool, complex, float8), or declares more than the limits.
    /// - Complexity: O(bytes.count + array bytes).
    public init(bytes: [UInt8], path: String) throws(FormatError) {
        func fail(_ reason: String) -> FormatError { FormatError(path: path, reason: Self.oneLine(reason)) }
        func starts(_ prefix: [UInt8]) -> Bool { bytes.count >= prefix.count && Array(bytes[0..<prefix.count]) == prefix }
        if starts([0x93] + Array("NUMPY".utf8)) {
            format = .npy
            let file = path.split(separator: "/").last.map(String.init) ?? path
            let name = file.hasSuffix(".npy") ? String(file.dropLast(4)) : file
            do { entries = [Entry(name: name, array: try NPYArray(bytes: bytes))] } catch { throw fail(error.reason) }
        } else if starts([0x50, 0x4B, 3, 4]) || starts([0x50, 0x4B, 5, 6]) {
            format = .npz
            entries = try Self.readNPZ(bytes, fail: fail)
        } else if starts(Self.hdf5Signature) {
            format = .h5
            let file: HDF5File
            do { file = try HDF5File(bytes: bytes) } catch { throw fail(error.reason) }
            entries = try Self.readHDF5(file, fail: fail)
        } else if bytes.count >= 9, bytes[8] == UInt8(ascii: "{") || path.hasSuffix(".safetensors") {
            format = .safetensors
            entries = try Self.readSafetensors(bytes, fail: fail)
        } else if path.hasSuffix(".safetensors") {
            throw fail("truncated safetensors file (\(bytes.count) bytes, no header)")
        } else {
            throw fail("not a weight file this version reads (.npy, .npz, .safetensors or Keras HDF5)")
        }
    }

    /// `text` with control characters (a newline in a member or tensor name) written as `\u{XX}`, so an error
    /// stays one line.
    static func oneLine(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func readNPZ(_ bytes: [UInt8], fail: (String) -> FormatError) throws(FormatError) -> [Entry] {
        let archive: ZipArchive
        do { archive = try ZipArchive(bytes: bytes, limit: maximumArrayBytes, counted: { $0.hasSuffix(".npy") }) } catch {
            throw fail(error.reason)
        }
        let arrays = archive.members.filter { $0.name.hasSuffix(".npy") }
        guard !arrays.isEmpty else {
            let names = Set(archive.members.map(\.name))
            if names.contains("config.json"), names.contains("model.weights.h5") {
                throw fail("a Keras .keras archive: a model, not an .npz of arrays (convbank import reads it)")
            }
            throw fail("a zip archive with no .npy members (not a NumPy .npz file)")
        }
        var entries: [Entry] = []
        for member in arrays {
            do {
                entries.append(Entry(name: String(member.name.dropLast(4)), array: try NPYArray(bytes: archive.contents(of: member))))
            } catch let error as ZipArchive.Failure {
                throw fail("member '\(member.name)': \(error.reason)")
            } catch let error as NPYArray.FormatError {
                throw fail("member '\(member.name)': \(error.reason)")
            } catch {
                throw fail("member '\(member.name)': \(error)")
            }
        }
        return entries
    }

    /// safetensors dtypes: NumPy kind and byte size.
    private static let dtypes: [String: (kind: Character, size: Int)] = [
        "F16": ("f", 2), "BF16": ("b", 2), "F32": ("f", 4), "F64": ("f", 8),
        "I8": ("i", 1), "I16": ("i", 2), "I32": ("i", 4), "I64": ("i", 8),
        "U8": ("u", 1), "U16": ("u", 2), "U32": ("u", 4), "U64": ("u", 8),
    ]

    private static func readSafetensors(_ bytes: [UInt8], fail: (String) -> FormatError) throws(FormatError) -> [Entry] {
        guard bytes.count >= 8 else { throw fail("truncated safetensors file (no 8-byte header length)") }
        var length: UInt64 = 0
        for i in 0..<8 { length |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard length <= UInt64(maximumHeaderBytes) else {
            throw fail("safetensors header length \(length) is more than the \(maximumHeaderBytes)-byte limit")
        }
        guard length <= UInt64(bytes.count - 8) else {
            throw fail("safetensors header of \(length) bytes runs past the end of the file (\(bytes.count) bytes)")
        }
        let dataStart = 8 + Int(length), dataCount = bytes.count - dataStart
        let header: JSONValue
        switch JSONValue.parse(Array(bytes[8..<dataStart])) {
        case .success(let value): header = value
        case .failure(let error): throw fail("safetensors header: \(error)")
        }
        guard case .object(let members) = header else { throw fail("safetensors header is \(header.kind), not an object") }

        func integer(_ value: JSONValue?) -> Int? {
            guard case .number(let d)? = value, d >= 0, d <= 9_007_199_254_740_992, d == d.rounded() else { return nil }
            return Int(d)
        }
        func field(_ value: JSONValue, _ key: String) -> JSONValue? {
            if case .object(let members) = value { return members.first { $0.key == key }?.value }
            return nil
        }
        struct Stored { var name: String, kind: Character, size: Int, shape: [Int], count: Int, begin: Int, end: Int }
        var tensors: [Stored] = []
        var names = Set<String>()
        for (name, value) in members where name != "__metadata__" {
            func bad(_ reason: String) -> FormatError { fail("tensor '\(name)': \(reason)") }
            guard names.insert(name).inserted else { throw bad("named twice in the header") }
            guard case .string(let dtype)? = field(value, "dtype") else { throw bad("no \"dtype\" string") }
            guard let element = dtypes[dtype] else {
                throw bad("dtype \(dtype) is not supported (F16, BF16, F32, F64 and integers are)")
            }
            guard case .array(let dims)? = field(value, "shape") else { throw bad("no \"shape\" array") }
            var shape: [Int] = [], count = 1
            for d in dims {
                guard let n = integer(d) else { throw bad("\"shape\" holds \(d.kind), not a non-negative integer") }
                let (p, o) = count.multipliedReportingOverflow(by: n)
                guard !o, p < 1 << 31 else { throw bad("shape \(dims.compactMap(integer)) is too large") }
                shape.append(n)
                count = p
            }
            guard case .array(let offsets)? = field(value, "data_offsets"), offsets.count == 2,
                  let begin = integer(offsets[0]), let end = integer(offsets[1]) else {
                throw bad("\"data_offsets\" is not a pair of non-negative integers")
            }
            guard begin <= end, end <= dataCount else {
                throw bad("data_offsets [\(begin), \(end)] lie outside the \(dataCount) bytes of data")
            }
            guard end - begin == count * element.size else {
                throw bad("data_offsets [\(begin), \(end)] hold \(end - begin) bytes, shape \(shape) of \(dtype) needs \(count * element.size)")
            }
            tensors.append(Stored(name: name, kind: element.kind, size: element.size, shape: shape, count: count, begin: begin, end: end))
        }
        // As the safetensors library requires: the tensors tile the data exactly, no gaps, no overlaps.
        var next = 0
        for t in tensors.sorted(by: { ($0.begin, $0.end) < ($1.begin, $1.end) }) {
            guard t.begin == next else {
                throw fail("tensor '\(t.name)': data_offsets [\(t.begin), \(t.end)] \(t.begin < next ? "overlap another tensor" : "leave a gap before them")")
            }
            next = t.end
        }
        guard next == dataCount else { throw fail("\(dataCount - next) bytes of data after the last tensor") }
        return tensors.map { t in
            Entry(name: t.name, array: NPYArray(shape: t.shape, values: NPYArray.decode(bytes, from: dataStart + t.begin, count: t.count,
                                                                                     kind: t.kind, size: t.size, bigEndian: false)))
        }
    }
}
