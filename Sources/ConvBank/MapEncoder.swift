import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Turns feature maps into file bytes.
public enum MapEncoder {
    /// The bytes of `map` (one channel) in `format`; `normalization` applies to PNG only.
    /// - Throws: `ImageCodecError` if PNG encoding fails.
    /// - Complexity: O(pixels).
    public static func encode(_ map: Tensor, format: OutputFormat, normalization: Normalization, pngLevel: Int = ApplySettings.defaultPNGLevel) throws(ImageCodecError) -> [UInt8] {
        precondition(map.channels == 1, "a feature map has one channel")
        switch format {
        case .npy: return npy(map)
        case .png:
            let levels = [UInt8](unsafeUninitializedCapacity: map.storage.count) { buffer, count in
                map.storage.withUnsafeBufferPointer { normalization.levels8($0, into: buffer) }
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
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(map.height), \(map.width)), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        let length = UInt16(header.utf8.count)
        out += [UInt8(length & 0xFF), UInt8(length >> 8)]
        out += Array(header.utf8)
        let headerCount = out.count
        out += [UInt8](repeating: 0, count: map.storage.count * 4)
        out.withUnsafeMutableBytes { raw in
            map.storage.withUnsafeBufferPointer { values in
                for (k, v) in values.enumerated() { raw.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: headerCount + 4 * k, as: UInt32.self) }
            }
        }
        return out
    }
}

/// Writes files so that each is either complete or absent: the bytes go to a hidden temporary file in the
/// destination folder, which is then renamed over the final name (atomic on POSIX file systems).
public enum AtomicFile {
    /// Writes `bytes` to `path`, creating missing parent folders. `path` is a lossless string (`FileSystem`): the
    /// file's name on disk has exactly its bytes.
    /// - Throws: `ImageCodecError` (`.unwritable`) naming the path and the system's reason (a path longer than
    ///   `PATH_MAX` or a name longer than `NAME_MAX` said as such); no partial file remains.
    public static func write(_ bytes: [UInt8], to path: String) throws(ImageCodecError) {
        let folder = FileSystem.parent(of: path)
        let made = FileSystem.makeFolders(folder)
        guard made == 0 else {
            throw ImageCodecError(.unwritable, path: path, detail: "cannot create folder '\(folder)': \(FileSystem.reason(made, path: folder))")
        }
        let temporary = FileSystem.join(folder, "." + FileSystem.lastComponent(of: path) + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let fd = FileSystem.openDescriptor(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let code = errno
            // The temporary name is longer than the final one: say which limit the final path is near.
            throw ImageCodecError(.unwritable, path: path, detail: FileSystem.reason(code, path: code == ENAMETOOLONG ? temporary : path))
        }
        var written = 0
        var failure: String?
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, bytes.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                failure = String(cString: strerror(errno))
                break
            }
            written += n
        }
        if close(fd) != 0, failure == nil { failure = String(cString: strerror(errno)) }
        if failure == nil, !FileSystem.renameFile(temporary, to: path) { failure = FileSystem.reason(errno, path: path) }
        if let failure {
            FileSystem.removeFile(temporary)
            throw ImageCodecError(.unwritable, path: path, detail: failure)
        }
    }

    /// Whether `name` is one of this type's temporary names (`.NAME.tmp-PID-NUMBER`).
    public static func isTemporaryName(_ name: String) -> Bool {
        guard name.hasPrefix("."), let range = name.range(of: ".tmp-", options: .backwards) else { return false }
        let parts = name[range.upperBound...].split(separator: "-")
        return parts.count == 2 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
    }
}
