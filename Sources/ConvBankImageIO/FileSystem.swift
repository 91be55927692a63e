import ConvBankEngine
import Foundation

/// Paths as the file system holds them — bytes — carried in Swift strings without loss, and the one place where
/// ConvBank hands a path to the system.
///
/// A Linux file name is any bytes but `/` and NUL; a Swift `String` is Unicode. The two meet here:
/// - `string(fromBytes:)` keeps every valid UTF-8 sequence as its character and turns every other byte B (always
///   0x80…0xFF) into the private-use scalar **U+10FF00 + B** (U+10FF80…U+10FFFF, the last 128 code points of plane
///   16). A name that spells one of those scalars in real UTF-8 (`F4 8F BE 80` … `F4 8F BF BF`) has each of its
///   four bytes escaped likewise. So every byte string survives `bytes(of: string(fromBytes: b)) == b`, and a
///   valid UTF-8 name is exactly the string it always was (same characters, same `utf8` bytes).
/// - `bytes(of:)` is the inverse: each scalar of that range becomes its one byte, everything else its UTF-8.
/// - `display(_:)` is for people and text files (stderr, the manifest, the gallery, `stats.csv`, contact sheet
///   titles): each escaped byte as `\xHH` (upper-case hex), e.g. `caf\xE9.png`; the rest of the text unchanged (a
///   literal backslash stays one backslash).
/// - Every system call on a path (`stat`, `lstat`, `open`, `opendir`, `mkdir`, `rename`, `unlink`, `realpath`,
///   `readlink`) goes through `withCString(_:_:)`, which passes the exact bytes.
///
/// Paths are not shortened or resolved: one longer than `PATH_MAX` (4096 bytes with its NUL) or with a name longer
/// than `NAME_MAX` (255 bytes) fails with `ENAMETOOLONG`, which `reason(_:path:)` spells out.
public enum FileSystem {
    /// Escaped byte B is the scalar `escapeBase + B`; only B in 0x80…0xFF occurs.
    package static let escapeBase: UInt32 = 0x10FF00
    package static let escapedRange: ClosedRange<UInt32> = 0x10FF80...0x10FFFF

    // MARK: - Bytes and strings

    /// The string for a file name or path read from the system (see the type's notes): valid UTF-8 as its
    /// characters, every other byte as one private-use scalar, so that `bytes(of:)` gives `bytes` back exactly.
    /// - Complexity: O(n).
    public static func string<Bytes: Collection>(fromBytes bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let a = Array(bytes)
        if !holdsEscapedScalar(a), let plain = String(validating: a, as: UTF8.self) { return plain }
        var scalars = String.UnicodeScalarView()
        var i = 0
        while i < a.count {
            if a[i] < 0x80 {
                scalars.append(Unicode.Scalar(a[i]))
                i += 1
            } else if let (value, length) = decodeScalar(a, at: i), !escapedRange.contains(value) {
                scalars.append(Unicode.Scalar(value)!)
                i += length
            } else {
                scalars.append(Unicode.Scalar(escapeBase + UInt32(a[i]))!)
                i += 1
            }
        }
        return String(scalars)
    }

    /// The exact bytes a string from `string(fromBytes:)` came from (UTF-8 for any other string).
    /// - Complexity: O(n).
    public static func bytes(of path: String) -> [UInt8] {
        guard path.utf8.contains(0xF4) else { return Array(path.utf8) }
        var out: [UInt8] = []
        out.reserveCapacity(path.utf8.count)
        for scalar in path.unicodeScalars {
            if escapedRange.contains(scalar.value) {
                out.append(UInt8(scalar.value - escapeBase))
            } else {
                out.append(contentsOf: Array(String(scalar).utf8))
            }
        }
        return out
    }

    /// `text` for people: every escaped byte shown as `\xHH` (`caf\xE9.png`), everything else as it is.
    /// - Complexity: O(n).
    public static func display(_ text: String) -> String {
        guard text.utf8.contains(0xF4) else { return text }
        var out = String.UnicodeScalarView()
        let hex = Array("0123456789ABCDEF".unicodeScalars)
        for scalar in text.unicodeScalars {
            if escapedRange.contains(scalar.value) {
                let byte = Int(scalar.value - escapeBase)
                out.append(contentsOf: ["\\", "x", hex[byte >> 4], hex[byte & 15]] as [Unicode.Scalar])
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// Command-line arguments as their exact bytes: Swift's `CommandLine.arguments` (and so every argument parser)
    /// replaces bytes that are not UTF-8 with U+FFFD. Each of `parsed` that holds U+FFFD is replaced by the
    /// lossless string of the first not yet used raw `argv` entry that reads the same after that repair.
    package static func commandLineArguments(_ parsed: [String]) -> [String] {
        guard parsed.contains(where: { $0.unicodeScalars.contains("\u{FFFD}") }) else { return parsed }
        var exact: [String: [String]] = [:]  // repaired text → lossless strings, in argv order
        for k in 1..<Int(CommandLine.argc) {
            guard let pointer = CommandLine.unsafeArgv[k] else { continue }
            let raw = UnsafeBufferPointer(start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self), count: strlen(pointer))
            let lossless = string(fromBytes: raw), repaired = String(decoding: raw, as: UTF8.self)
            if lossless.unicodeScalars.elementsEqual(repaired.unicodeScalars) { continue }
            exact[repaired, default: []].append(lossless)
        }
        return parsed.map { argument in
            guard var candidates = exact[argument], !candidates.isEmpty else { return argument }
            let first = candidates.removeFirst()
            exact[argument] = candidates
            return first
        }
    }

    private static func holdsEscapedScalar(_ a: [UInt8]) -> Bool {
        var i = 0
        while i + 2 < a.count {
            if a[i] == 0xF4, a[i + 1] == 0x8F, a[i + 2] == 0xBE || a[i + 2] == 0xBF { return true }
            i += 1
        }
        return false
    }

    /// The scalar of the well-formed UTF-8 sequence (Unicode Table 3-7) starting at `a[i]`, and its length.
    private static func decodeScalar(_ a: [UInt8], at i: Int) -> (UInt32, Int)? {
        let b0 = a[i]
        func continuation(_ k: Int, _ range: ClosedRange<UInt8> = 0x80...0xBF) -> UInt32? {
            i + k < a.count && range.contains(a[i + k]) ? UInt32(a[i + k] & 0x3F) : nil
        }
        switch b0 {
        case 0xC2...0xDF:
            guard let c1 = continuation(1) else { return nil }
            return (UInt32(b0 & 0x1F) << 6 | c1, 2)
        case 0xE0...0xEF:
            let second: ClosedRange<UInt8> = b0 == 0xE0 ? 0xA0...0xBF : b0 == 0xED ? 0x80...0x9F : 0x80...0xBF
            guard let c1 = continuation(1, second), let c2 = continuation(2) else { return nil }
            return (UInt32(b0 & 0x0F) << 12 | c1 << 6 | c2, 3)
        case 0xF0...0xF4:
            let second: ClosedRange<UInt8> = b0 == 0xF0 ? 0x90...0xBF : b0 == 0xF4 ? 0x80...0x8F : 0x80...0xBF
            guard let c1 = continuation(1, second), let c2 = continuation(2), let c3 = continuation(3) else { return nil }
            return (UInt32(b0 & 0x07) << 18 | c1 << 12 | c2 << 6 | c3, 4)
        default:
            return nil
        }
    }

    // MARK: - Folders for the command-line tool

    /// Whether two paths name the same existing folder (same device and inode).
    package static func isSameFolder(_ a: String, _ b: String) -> Bool {
        guard let first = info(a), let second = info(b), isFolder(first) else { return false }
        return first.st_dev == second.st_dev && first.st_ino == second.st_ino
    }

    /// Creates folder `path` and its missing parents (nothing when it is a folder already).
    /// - Returns: nil on success, else why not (it is a file, or the system's reason).
    package static func createFolder(_ path: String) -> String? {
        if let existing = info(path) { return isFolder(existing) ? nil : "it exists and is not a folder" }
        let code = makeFolders(path)
        return code == 0 ? nil : reason(code, path: path)
    }

    // MARK: - System calls on paths

    /// Calls `body` with `path`'s exact bytes as a NUL-terminated C string. Every system call on a path goes
    /// through here.
    package static func withCString<R>(_ path: String, _ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        guard path.utf8.contains(0xF4) else { return try path.withCString(body) }
        return try withCString(bytes: bytes(of: path), body)
    }

    package static func withCString<R>(bytes: [UInt8], _ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        try (bytes + [0]).withUnsafeBufferPointer { buffer in
            try buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { try body($0) }
        }
    }

    /// `stat` (or `lstat` when not `followingLinks`); nil with `errno` set on failure.
    package static func info(_ path: String, followingLinks: Bool = true) -> stat? {
        var result = stat()
        let status = withCString(path) { followingLinks ? stat($0, &result) : lstat($0, &result) }
        return status == 0 ? result : nil
    }

    package static func isFolder(_ info: stat) -> Bool { (info.st_mode & S_IFMT) == S_IFDIR }
    package static func isSymbolicLink(_ info: stat) -> Bool { (info.st_mode & S_IFMT) == S_IFLNK }

    /// `open(2)`: a descriptor, or -1 with `errno` set.
    package static func openDescriptor(_ path: String, _ flags: Int32, _ mode: mode_t = 0) -> Int32 {
        withCString(path) { open($0, flags, mode) }
    }

    /// `unlink(2)`; whether it succeeded.
    @discardableResult
    package static func removeFile(_ path: String) -> Bool { withCString(path) { unlink($0) } == 0 }

    /// `rename(2)`; whether it succeeded (`errno` set if not).
    package static func renameFile(_ source: String, to destination: String) -> Bool {
        withCString(source) { s in withCString(destination) { d in rename(s, d) } } == 0
    }

    /// The folder holding `path` (`a/b/c` → `a/b`, `c` → `.`, `/c` → `/`), by bytes: no resolving.
    package static func parent(of path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        let head = trimmed[..<slash]
        return head.isEmpty ? "/" : String(head)
    }

    /// The last component of `path` (`a/b/c.png` → `c.png`), by bytes.
    package static func lastComponent(of path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return String(trimmed) }
        return String(trimmed[trimmed.index(after: slash)...])
    }

    /// `folder/name` (no doubled slash).
    package static func join(_ folder: String, _ name: String) -> String {
        folder.isEmpty ? name : folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }

    /// `mkdir -p`: creates `path` and its missing parents (mode 0777 less the umask).
    /// - Returns: 0, or the `errno` of the first folder that could not be made (`EEXIST` when a file stands there).
    package static func makeFolders(_ path: String) -> Int32 {
        func makeOne() -> Int32 {
            if withCString(path, { mkdir($0, 0o777) }) == 0 { return 0 }
            let code = errno
            if code == EEXIST { return info(path).map(isFolder) == true ? 0 : EEXIST }
            return code
        }
        if path.isEmpty || path == "." || path == "/" { return 0 }
        let first = makeOne()
        guard first == ENOENT else { return first }
        let up = parent(of: path)
        guard up != path else { return first }
        let made = makeFolders(up)
        return made != 0 ? made : makeOne()
    }

    /// One name in a folder, as read by `listFolder`.
    package struct FolderEntry {
        /// The name, lossless (see `string(fromBytes:)`).
        package var name: String
        /// The name's bytes (what the walk sorts by; `bytes(of: name)` gives them back).
        package var bytes: [UInt8]
        /// The entry itself is a symbolic link.
        package var isLink: Bool
        /// Following links: a folder, something else, or nothing (a dangling link, or `stat` refused).
        /// Nil unless `listFolder` was asked to classify.
        package var target: Target?
        package enum Target { case folder, other, missing }
    }

    /// A system call's failure: its `errno`.
    package struct Failure: Error {
        package var code: Int32
    }

    /// The entries of a folder (without `.` and `..`), in the order the system gives them.
    /// - Parameters:
    ///   - visibleOnly: leave out names starting with `.`;
    ///   - classify: also `stat` each entry relative to the open folder (so a name whose full path would be too
    ///     long for the system is still classified).
    package static func listFolder(_ path: String, visibleOnly: Bool, classify: Bool) -> Result<[FolderEntry], Failure> {
        guard let folder = withCString(path, { opendir($0) }) else { return .failure(Failure(code: errno)) }
        defer { closedir(folder) }
        let descriptor = dirfd(folder)
        var entries: [FolderEntry] = []
        while true {
            errno = 0
            guard let entry = readdir(folder) else {
                if errno != 0 { return .failure(Failure(code: errno)) }
                break
            }
            let name: [UInt8] = withUnsafeBytes(of: &entry.pointee.d_name) { raw in
                Array(raw.prefix(while: { $0 != 0 }))
            }
            if name == [0x2E] || name == [0x2E, 0x2E] { continue }
            if visibleOnly, name.first == 0x2E { continue }
            let type = Int32(entry.pointee.d_type)
            var item = FolderEntry(name: string(fromBytes: name), bytes: name, isLink: type == Int32(DT_LNK), target: nil)
            if classify {
                withCString(bytes: name) { cName in
                    var info = stat()
                    if type == Int32(DT_UNKNOWN), fstatat(descriptor, cName, &info, AT_SYMLINK_NOFOLLOW) == 0 {
                        item.isLink = isSymbolicLink(info)
                    }
                    if fstatat(descriptor, cName, &info, 0) == 0 {
                        item.target = isFolder(info) ? .folder : .other
                    } else {
                        // A folder the system lists but will not `stat` (no search permission): the walk tries to
                        // enter it and reports why it cannot.
                        item.target = type == Int32(DT_DIR) ? .folder : .missing
                    }
                }
            }
            entries.append(item)
        }
        return .success(entries)
    }

    /// `realpath(3)`: the absolute path without links, `.` or `..`; nil if it cannot be resolved.
    package static func canonicalPath(_ path: String) -> String? {
        guard let resolved = withCString(path, { realpath($0, nil) }) else { return nil }
        defer { free(resolved) }
        return string(fromBytes: UnsafeBufferPointer(start: UnsafeRawPointer(resolved).assumingMemoryBound(to: UInt8.self), count: strlen(resolved)))
    }

    /// What a symbolic link holds (`readlink(2)`); nil if `path` is not a readable link.
    package static func linkTarget(_ path: String) -> String? {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX))
        let count = withCString(path) { p in buffer.withUnsafeMutableBufferPointer { readlink(p, UnsafeMutableRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), $0.count) } }
        return count < 0 ? nil : string(fromBytes: buffer[0..<count])
    }

    /// Why a system call on `path` failed, for a message: `strerror`, except that `ENAMETOOLONG` says which limit
    /// (`path longer than PATH_MAX (4096 bytes): 5123 bytes`, or `name longer than NAME_MAX (255 bytes)`).
    package static func reason(_ code: Int32, path: String) -> String {
        if code == ENAMETOOLONG {
            let raw = bytes(of: path)
            if raw.count >= Int(PATH_MAX) { return "path longer than PATH_MAX (\(PATH_MAX) bytes): \(raw.count) bytes" }
            if raw.split(separator: 0x2F).contains(where: { $0.count > Int(NAME_MAX) }) {
                return "name longer than NAME_MAX (\(NAME_MAX) bytes)"
            }
            return "path longer than PATH_MAX (\(PATH_MAX) bytes) once symbolic links are resolved"
        }
        return String(cString: strerror(code))
    }
}

/// Whether `path` exists, and whether it is a folder (following symbolic links).
package func fileExists(_ path: String, isDirectory: inout Bool) -> Bool {
    guard let info = FileSystem.info(path) else { return false }
    isDirectory = FileSystem.isFolder(info)
    return true
}
