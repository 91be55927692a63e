import ConvBankEngine
import Foundation

extension AtomicFile {
    /// A file written piece by piece and still atomic: the pieces go to a hidden temporary file in the destination
    /// folder (`.NAME.tmp-PID-N`), which `commit()` renames over the final name; `abort()`, or releasing the writer
    /// without committing, removes it. For run files that grow with the number of inputs (`stats.csv`, the gallery),
    /// so that memory never does.
    public final class Writer {
        /// The final path.
        public let path: String
        /// The temporary file being written.
        public let temporaryPath: String
        private var fd: Int32
        /// The first failure, if any: later appends are ignored and `commit()` throws it.
        public private(set) var failure: ImageCodecError?
        /// Bytes appended so far (the temporary file's size, unless an append failed).
        public private(set) var count = 0

        /// Creates the temporary file (and missing parent folders).
        /// - Throws: `ImageCodecError` (`.unwritable`) naming `path`.
        public init(path: String) throws(ImageCodecError) {
            self.path = path
            let folder = FileSystem.parent(of: path)
            let made = FileSystem.makeFolders(folder)
            guard made == 0 else {
                throw ImageCodecError(.unwritable, path: path, detail: "cannot create folder '\(folder)': \(FileSystem.reason(made, path: folder))")
            }
            temporaryPath = FileSystem.join(folder, "." + FileSystem.lastComponent(of: path) + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
            fd = FileSystem.openDescriptor(temporaryPath, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw ImageCodecError(.unwritable, path: path, detail: FileSystem.reason(errno, path: path)) }
        }

        deinit { abort() }

        /// Appends `bytes` (after a failure: nothing).
        public func append(_ bytes: [UInt8]) {
            guard failure == nil, fd >= 0 else { return }
            var written = 0
            while written < bytes.count {
                let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, bytes.count - written) }
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = ImageCodecError(.unwritable, path: path, detail: String(cString: strerror(errno)))
                    return
                }
                written += n
            }
            count += written
        }

        /// Appends the UTF-8 bytes of `text` (after a failure: nothing).
        public func append(_ text: String) { append(Array(text.utf8)) }

        /// Appends everything written so far to `other` — or, with `start` and `length`, that many bytes from
        /// offset `start` — in chunks of 1 MiB, never all at once in memory: how a file collected in pieces (the
        /// gallery's sections) joins the files that are committed (its pages). A read failure becomes `other`'s
        /// failure.
        public func copy(to other: Writer, start: Int = 0, length: Int? = nil) {
            guard failure == nil, fd >= 0 else { return }
            var offset = off_t(start)
            let end = off_t(length.map { start + $0 } ?? Int.max)
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            while offset < end {
                let n = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, Int(min(off_t($0.count), end - offset)), offset) }
                if n < 0 && errno == EINTR { continue }
                if n < 0 {
                    other.failure = other.failure ?? ImageCodecError(.unwritable, path: other.path, detail: String(cString: strerror(errno)))
                    return
                }
                if n == 0 { return }
                other.append(Array(chunk[0..<n]))
                offset += off_t(n)
            }
        }

        /// Closes the temporary file and renames it to `path`.
        /// - Throws: the first failure of any append, or of closing or renaming; the temporary file is then removed.
        public func commit() throws(ImageCodecError) {
            guard fd >= 0 else { throw failure ?? ImageCodecError(.unwritable, path: path, detail: "already closed") }
            if close(fd) != 0, failure == nil { failure = ImageCodecError(.unwritable, path: path, detail: String(cString: strerror(errno))) }
            fd = -1
            if failure == nil, !FileSystem.renameFile(temporaryPath, to: path) {
                failure = ImageCodecError(.unwritable, path: path, detail: FileSystem.reason(errno, path: path))
            }
            if let failure {
                FileSystem.removeFile(temporaryPath)
                throw failure
            }
        }

        /// Closes and removes the temporary file (nothing when already committed).
        public func abort() {
            guard fd >= 0 else { return }
            close(fd)
            fd = -1
            FileSystem.removeFile(temporaryPath)
        }
    }
}
