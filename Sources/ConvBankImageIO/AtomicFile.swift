import ConvBankEngine
import Foundation

/// Writes files so that each is either complete or absent: the bytes go to a hidden temporary file in the
/// destination folder, which is then renamed over the final name (atomic on POSIX file systems).
public enum AtomicFile {
    /// Writes `bytes` to `path`, creating missing parent folders. `path` is a lossless string (`FileSystem`): the
    /// file's name on disk has exactly its bytes.
    /// - Parameters:
    ///   - bytes: The file's whole contents.
    ///   - path: Where the file goes; an existing file there is replaced only once the new one is complete.
    /// - Throws: `ImageCodecError` (`.unwritable`) naming the path and the system's reason (a path longer than
    ///   `PATH_MAX` or a name longer than `NAME_MAX` said as such); no partial file remains.
    /// - Complexity: O(bytes.count).
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
    package static func isTemporaryName(_ name: String) -> Bool {
        guard name.hasPrefix("."), let range = name.range(of: ".tmp-", options: .backwards) else { return false }
        let parts = name[range.upperBound...].split(separator: "-")
        return parts.count == 2 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
    }
}
