internal import CImageIO

/// An HDF5 file held in memory (a Keras `.h5`, `.weights.h5`, or a `.keras` archive's `model.weights.h5`), read
/// through `hdf5.c`, the only code that calls libhdf5: its datasets (path, type, shape), numeric datasets as
/// doubles, string attributes. The corresponding C functions are `cio_h5_open`, `cio_h5_datasets`,
/// `cio_h5_read_doubles` and `cio_h5_string_attribute`; the file is closed when the value goes away.
final class HDF5File {
    /// One dataset of the file.
    struct Dataset: Equatable {
        /// Integer, float, string or anything else (compound, enum, reference, an empty dataspace…).
        enum TypeClass { case integer, float, string, other }
        /// The path from the root, without a leading `/`.
        var path: String
        /// Its datatype's class.
        var type: TypeClass
        /// Its datatype's size in bytes.
        var typeSize: Int
        /// Its dimensions (empty for a scalar).
        var shape: [Int]
    }

    /// A problem with the file, in one line, without the file's name (the caller adds it).
    struct Failure: Error {
        var reason: String
    }

    /// The most datasets listed: 100,000 (a Keras model has a few per layer).
    static let maximumDatasets = 100_000

    private let handle: Int64
    /// The file's bytes, against which `hdf5.c` checks a string's global-heap object before libhdf5 reads it.
    private let bytes: [UInt8]
    /// Every dataset, each once, in name order within each group.
    let datasets: [Dataset]

    /// Opens `bytes` (a copy is held by libhdf5's memory driver) and lists its datasets.
    init(bytes: [UInt8]) throws(Failure) {
        var message = [CChar](repeating: 0, count: Int(CIO_MESSAGE_CAPACITY))
        var h: Int64 = -1
        let status = bytes.withUnsafeBufferPointer { cio_h5_open($0.baseAddress, $0.count, &h, &message) }
        guard status == CIO_OK else { throw Failure(reason: Self.text(message)) }
        handle = h
        self.bytes = bytes
        var items: UnsafeMutablePointer<cio_h5_dataset>?
        var count = 0
        let listed = cio_h5_datasets(h, Self.maximumDatasets, &items, &count, &message)
        guard listed == CIO_OK else {
            cio_h5_close(h)
            throw Failure(reason: Self.text(message))
        }
        defer { cio_h5_free_datasets(items, count) }
        var found: [Dataset] = []
        for i in 0..<count {
            let d = items![i]
            let dims = withUnsafeBytes(of: d.dims) { Array($0.bindMemory(to: UInt64.self)) }
            let type: Dataset.TypeClass = switch d.type_class {
            case UInt32(CIO_H5_INTEGER.rawValue): .integer
            case UInt32(CIO_H5_FLOAT.rawValue): .float
            case UInt32(CIO_H5_STRING.rawValue): .string
            default: .other
            }
            // Dimensions beyond Int's range are clamped: the element-count checks refuse them anyway.
            found.append(Dataset(path: String(decoding: Self.bytes(of: d.path), as: UTF8.self), type: type, typeSize: Int(d.type_size),
                                 shape: dims.prefix(Int(d.rank)).map { Int(clamping: $0) }))
        }
        datasets = found
    }

    deinit { cio_h5_close(handle) }

    /// The dataset at `path`, if the file has one.
    func dataset(_ path: String) -> Dataset? { datasets.first { $0.path == path } }

    /// Reads a numeric dataset as doubles, row-major, after checking its element count against `limit` values.
    /// - Throws: `Failure` for a missing or non-numeric dataset, too many values, or a read error.
    func read(_ path: String, limit: Int) throws(Failure) -> NPYArray {
        guard let d = dataset(path) else { throw Failure(reason: "no dataset '\(path)'") }
        guard d.type == .integer || d.type == .float, d.typeSize <= 8 else {
            throw Failure(reason: "dataset '\(path)' holds \(d.type == .string ? "strings" : "values of an unsupported type"), not numbers")
        }
        var count = 1
        for n in d.shape {
            let (p, o) = count.multipliedReportingOverflow(by: n)
            guard !o, p <= limit else {
                throw Failure(reason: "dataset '\(path)' of shape \(d.shape) declares more than the \(limit) values read")
            }
            count = p
        }
        var values = [Double](repeating: 0, count: count)
        var message = [CChar](repeating: 0, count: Int(CIO_MESSAGE_CAPACITY))
        let status = values.withUnsafeMutableBufferPointer { cio_h5_read_doubles(handle, path, $0.baseAddress, UInt64(count), &message) }
        guard status == CIO_OK else { throw Failure(reason: Self.text(message)) }
        return NPYArray(shape: d.shape, values: values)
    }

    /// The strings of attribute `name` on the object at `object` (`"/"` the root), or `nil` when it has none.
    /// - Throws: `Failure` when the object is missing or the attribute is not a string or a list of strings.
    func strings(_ name: String, of object: String = "/") throws(Failure) -> [String]? {
        var message = [CChar](repeating: 0, count: Int(CIO_MESSAGE_CAPACITY))
        var out: UnsafeMutablePointer<CChar>?
        var length = 0
        var count: UInt32 = 0
        let status = bytes.withUnsafeBufferPointer {
            cio_h5_string_attribute(handle, $0.baseAddress, $0.count, object, name, &out, &length, &count, &message)
        }
        guard status == CIO_OK else { throw Failure(reason: Self.text(message)) }
        guard let out else { return nil }
        defer { cio_free(out) }
        let raw = UnsafeBufferPointer(start: UnsafeRawPointer(out).assumingMemoryBound(to: UInt8.self), count: length)
        var result: [String] = []
        var start = 0
        for i in 0..<length where raw[i] == 0 {
            result.append(String(decoding: raw[start..<i], as: UTF8.self))
            start = i + 1
        }
        return result.count == Int(count) ? result : Array(result.prefix(Int(count)))
    }

    /// The one string of attribute `name` (the first of a list), or `nil` when absent.
    func string(_ name: String, of object: String = "/") throws(Failure) -> String? {
        try strings(name, of: object)?.first
    }

    private static func bytes(of c: UnsafeMutablePointer<CChar>?) -> [UInt8] {
        guard let c else { return [] }
        var out: [UInt8] = []
        var p = UnsafeRawPointer(c).assumingMemoryBound(to: UInt8.self)
        while p.pointee != 0 { out.append(p.pointee); p += 1 }
        return out
    }

    private static func text(_ message: [CChar]) -> String {
        let bytes = message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
