import Foundation
import Testing

/// Helpers for `PathBytesTests`: files and folders made and read by raw byte paths (names that are not UTF-8,
/// paths longer than `PATH_MAX`). A `convbank` run whose arguments are raw bytes is `CLI.run(bytes:)`.
enum PathBytes {
    /// `text` as bytes, with each `%XX` replaced by that byte: `bytes("caf%E9.png")`.
    static func bytes(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let first = utf8.first {
            if first == UInt8(ascii: "%"), utf8.count >= 3, let byte = UInt8(String(decoding: utf8.dropFirst().prefix(2), as: UTF8.self), radix: 16) {
                out.append(byte)
                utf8 = utf8.dropFirst(3)
            } else {
                out.append(first)
                utf8 = utf8.dropFirst()
            }
        }
        return out
    }

    static func join(_ folder: URL, _ relative: [UInt8]) -> [UInt8] { Array(folder.path.utf8) + [0x2F] + relative }

    static func withCString<R>(_ path: [UInt8], _ body: (UnsafePointer<CChar>) -> R) -> R {
        (path + [0]).withUnsafeBufferPointer { $0.baseAddress!.withMemoryRebound(to: CChar.self, capacity: $0.count, body) }
    }

    /// Writes `contents` at the byte path `path`, creating missing parent folders (each by its own bytes).
    static func write(_ path: [UInt8], _ contents: [UInt8]) throws {
        if let slash = path.lastIndex(of: 0x2F), slash > 0 { makeFolders(Array(path[..<slash])) }
        let fd = withCString(path) { open($0, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
        try #require(fd >= 0, "cannot create \(String(decoding: path, as: UTF8.self)): \(String(cString: strerror(errno)))")
        defer { close(fd) }
        let written = contents.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        try #require(written == contents.count)
    }

    static func makeFolders(_ path: [UInt8]) {
        if withCString(path, { mkdir($0, 0o755) }) == 0 || errno == EEXIST { return }
        if let slash = path.lastIndex(of: 0x2F), slash > 0 {
            makeFolders(Array(path[..<slash]))
            _ = withCString(path) { mkdir($0, 0o755) }
        }
    }

    /// Whether a regular, non-empty file is at the byte path `path`.
    static func isNonEmptyFile(_ path: [UInt8]) -> Bool {
        var info = stat()
        return withCString(path) { stat($0, &info) } == 0 && (info.st_mode & S_IFMT) == S_IFREG && info.st_size > 0
    }

    /// The names in a folder, as raw bytes (`readdir`), without `.` and `..`.
    static func names(in folder: [UInt8]) -> [[UInt8]] {
        guard let dir = withCString(folder, { opendir($0) }) else { return [] }
        defer { closedir(dir) }
        var names: [[UInt8]] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: &entry.pointee.d_name) { Array($0.prefix(while: { $0 != 0 })) }
            if name != [0x2E], name != [0x2E, 0x2E] { names.append(name) }
        }
        return names
    }

    // MARK: - Paths longer than PATH_MAX

    /// Makes folders `component/component/…` under `root` (through descriptors, so the path may outgrow PATH_MAX)
    /// while the path stays at most `maximum` bytes; returns the deepest folder's descriptor (the caller closes it)
    /// and its path length in bytes.
    static func deepFolder(under root: URL, component: String, maximum: Int) throws -> (descriptor: Int32, length: Int) {
        var fd = open(root.path, O_RDONLY | O_DIRECTORY)
        try #require(fd >= 0)
        var length = root.path.utf8.count
        while length + 1 + component.utf8.count <= maximum {
            try #require(mkdirat(fd, component, 0o755) == 0, "mkdirat: \(String(cString: strerror(errno)))")
            let next = openat(fd, component, O_RDONLY | O_DIRECTORY)
            try #require(next >= 0)
            close(fd)
            fd = next
            length += 1 + component.utf8.count
        }
        return (fd, length)
    }

    /// Writes `contents` as `name` in the folder open as `folder`.
    static func write(in folder: Int32, _ name: String, _ contents: [UInt8]) throws {
        let fd = openat(folder, name, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        try #require(fd >= 0, "openat: \(String(cString: strerror(errno)))")
        defer { close(fd) }
        #expect(contents.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == contents.count)
    }

    /// Removes everything under `url` and `url` itself, through descriptors (FileManager cannot remove a tree
    /// deeper than PATH_MAX).
    static func removeTree(_ url: URL) {
        let parent = open(url.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY)
        guard parent >= 0 else { return }
        defer { close(parent) }
        removeEntry(parent, Array(url.lastPathComponent.utf8))
    }

    private static func removeEntry(_ parent: Int32, _ name: [UInt8]) {
        withCString(name) { cName in
            var info = stat()
            guard fstatat(parent, cName, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                let fd = openat(parent, cName, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
                if fd >= 0, let dir = fdopendir(fd) {
                    var children: [[UInt8]] = []
                    while let entry = readdir(dir) {
                        let child = withUnsafeBytes(of: &entry.pointee.d_name) { Array($0.prefix(while: { $0 != 0 })) }
                        if child != [0x2E], child != [0x2E, 0x2E] { children.append(child) }
                    }
                    for child in children { removeEntry(dirfd(dir), child) }
                    closedir(dir)
                }
                unlinkat(parent, cName, AT_REMOVEDIR)
            } else {
                unlinkat(parent, cName, 0)
            }
        }
    }

    /// A fresh temporary folder removed afterwards even when it holds names that are not UTF-8 or paths longer than
    /// PATH_MAX.
    static func withFolder<R>(_ body: (TemporaryFolder) throws -> R) throws -> R {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("convbank-bytes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        defer { removeTree(url) }
        return try body(TemporaryFolder(url: url))
    }
}

/// FNV-1a 64-bit written from its definition (offset basis 0xcbf29ce484222325, prime 0x100000001b3), independently
/// of the library's: the reference the shard tests compare with.
func fnv1a64(_ bytes: [UInt8]) -> UInt64 {
    bytes.reduce(0xcbf2_9ce4_8422_2325 as UInt64) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01b3 }
}
