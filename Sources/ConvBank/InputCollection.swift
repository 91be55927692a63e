import Foundation

/// One image to process and where its maps go.
public struct InputItem: Sendable, Equatable {
    /// The path as found (argument, or argument + relative path inside a folder).
    public var path: String
    /// The output folder for this input, relative to `--output`: the path relative to the folder argument with
    /// the extension dropped, or the stem of a file argument (see `InputCollection` for name collisions).
    public var key: String
    /// The path relative to its folder argument (the file name for a file argument): what `--shard` hashes.
    public var relative: String

    public init(path: String, key: String, relative: String) {
        self.path = path
        self.key = key
        self.relative = relative
    }
}

/// Expands input arguments (files and folders) into a deterministic list of images with collision-free
/// output keys.
///
/// - Folders are walked recursively in byte order of names; files ending `.png`, `.jpg`, `.jpeg` (any letter
///   case) are taken, hidden files and folders (names starting with `.`) are skipped, and `exclude` (the output
///   folder) is never entered. Symbolic links are followed, but folders reached through a link are walked after
///   every real folder, so a file reachable both ways is found at its real path; a folder already walked is not
///   walked again (an alias is skipped quietly; a link to one of its own ancestors is reported as a loop).
/// - A file argument is taken whatever its extension (its bytes decide the format).
/// - The same file reached twice (by two arguments, or through a link) is processed once.
/// - Collisions: when several inputs would map to the same output folder (`a.png` beside `a.jpg`), each of
///   them keeps its extension in the key (`a.png/`, `a.jpg/`); a stem that is empty, `.` or `..` keeps its
///   extension too. If keys still collide — the same relative path under two folder arguments, two file
///   arguments of one name, or one input's output file standing where another's folder would be (`outputFiles`)
///   — later ones get `-2`, `-3`, … in argument order.
public struct InputCollection: Sendable {
    public var items: [InputItem] = []
    /// Problems met while walking (missing arguments, unreadable folders, loops), one line each.
    public var problems: [String] = []

    public static let imageExtensions: Set<String> = ["png", "jpg", "jpeg"]

    /// - Parameter outputFiles: the files (relative to the output folder) that an input with a given key writes,
    ///   so that no key's folder can stand where another input's file goes.
    public init(arguments: [String], exclude: String? = nil, outputFiles: (String) -> [String] = { _ in [] }) {
        var found: [(path: String, relative: String, fileKey: FileKey?)] = []
        let excluded = exclude.flatMap { FileKey(path: $0) }
        for argument in arguments {
            var isDirectory = false
            guard fileExists(argument, isDirectory: &isDirectory) else {
                problems.append("cannot read '\(argument)': no such file or folder")
                continue
            }
            if isDirectory {
                var visited = Set<FileKey>()
                var deferred: [(path: String, relative: String)] = []
                walk(folder: argument, relative: "", visited: &visited, deferred: &deferred, excluded: excluded, into: &found)
                while !deferred.isEmpty {
                    let link = deferred.removeFirst()
                    guard let key = FileKey(path: link.path) else { continue }
                    if visited.contains(key) {
                        if Self.isAncestor(link.path) { problems.append("skipping '\(link.path)': a symbolic link to a folder that contains it (loop)") }
                        continue
                    }
                    walk(folder: link.path, relative: link.relative, visited: &visited, deferred: &deferred, excluded: excluded, into: &found)
                }
            } else {
                let name = (argument as NSString).lastPathComponent
                found.append((argument, name, FileKey(path: argument)))
            }
        }
        // The same file twice: keep the first.
        var seen = Set<FileKey>()
        found = found.filter { entry in entry.fileKey.map { seen.insert($0).inserted } ?? true }
        // Keys: relative path without extension; colliding groups keep their extensions; then numbered.
        let stems = found.map { entry -> String in
            let stem = Self.dropExtension(entry.relative)
            let last = (stem as NSString).lastPathComponent
            return last.isEmpty || last == "." || last == ".." || stem.hasSuffix("/") ? entry.relative : stem
        }
        var relatives: [String: Set<String>] = [:]
        for (entry, stem) in zip(found, stems) { relatives[stem, default: []].insert(entry.relative) }
        var folders = Set<String>(), files = Set<String>()
        for (entry, stem) in zip(found, stems) {
            let base = relatives[stem]!.count > 1 ? entry.relative : stem
            var key = base
            var n = 1
            while true {
                // The first path component whose folder would stand where a file is (or whose key is taken)
                // gets the numeric suffix; components above it stay, so the suffix always removes the clash.
                let prefixes = Self.prefixes(of: key)
                let outputs = outputFiles(key)
                let blocked = prefixes.firstIndex { files.contains($0) }
                let clash = blocked != nil || folders.contains(key) || outputs.contains { folders.contains($0) || files.contains($0) }
                if !clash { break }
                n += 1
                var parts = base.split(separator: "/").map(String.init)
                let index = blocked.map { min($0, parts.count - 1) } ?? parts.count - 1
                parts[index] += "-\(n)"
                key = parts.joined(separator: "/")
            }
            folders.formUnion(Self.prefixes(of: key))
            files.formUnion(outputFiles(key))
            items.append(InputItem(path: entry.path, key: key, relative: entry.relative))
        }
    }

    /// `a/b/c` → `a`, `a/b`, `a/b/c`.
    static func prefixes(of key: String) -> [String] {
        let parts = key.split(separator: "/")
        return parts.indices.map { parts[...$0].joined(separator: "/") }
    }

    static func dropExtension(_ relative: String) -> String {
        let ns = relative as NSString
        let ext = ns.pathExtension
        return ext.isEmpty ? relative : String(relative.dropLast(ext.count + 1))
    }

    /// Whether the folder a link points to contains the link itself.
    static func isAncestor(_ link: String) -> Bool {
        guard let target = realpath(link, nil) else { return false }
        defer { free(target) }
        let parent = (link as NSString).deletingLastPathComponent
        guard let here = realpath(parent.isEmpty ? "." : parent, nil) else { return false }
        defer { free(here) }
        let t = String(cString: target), h = String(cString: here)
        return h == t || h.hasPrefix(t.hasSuffix("/") ? t : t + "/")
    }

    private mutating func walk(folder: String, relative: String, visited: inout Set<FileKey>, deferred: inout [(path: String, relative: String)],
                               excluded: FileKey?, into found: inout [(path: String, relative: String, fileKey: FileKey?)]) {
        guard let key = FileKey(path: folder) else { problems.append("cannot read folder '\(folder)'"); return }
        if key == excluded { return }
        guard visited.insert(key).inserted else { return }
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder) } catch {
            problems.append("cannot read folder '\(folder)': permission denied or not readable")
            return
        }
        for name in names.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) where !name.hasPrefix(".") {
            let path = folder.hasSuffix("/") ? folder + name : folder + "/" + name
            let rel = relative.isEmpty ? name : relative + "/" + name
            var isDirectory = false
            guard fileExists(path, isDirectory: &isDirectory) else { continue }  // dangling link
            if isDirectory {
                if isSymbolicLink(path) {
                    deferred.append((path, rel))
                } else {
                    walk(folder: path, relative: rel, visited: &visited, deferred: &deferred, excluded: excluded, into: &found)
                }
            } else if Self.imageExtensions.contains((name as NSString).pathExtension.lowercased()) {
                found.append((path, rel, FileKey(path: path)))
            }
        }
    }
}

/// Whether `path` itself is a symbolic link.
func isSymbolicLink(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
}

/// A file's identity on disk (device and inode), following symbolic links.
struct FileKey: Hashable, Sendable {
    var device: UInt64, inode: UInt64
    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}

/// Part `index` of `count` of a run (`--shard K/N`): an input belongs to the shard where the FNV-1a 64-bit hash
/// of its path relative to its folder argument, modulo `count`, equals `index` — stable across machines and
/// listing orders, and balanced for any naming scheme.
public struct Shard: Hashable, Sendable, CustomStringConvertible {
    public var index: Int, count: Int

    public init?(index: Int, count: Int) {
        guard count >= 1, index >= 0, index < count else { return nil }
        self.index = index
        self.count = count
    }

    /// Parses `K/N`.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]) else { return nil }
        self.init(index: k, count: n)
    }

    public func contains(_ item: InputItem) -> Bool { Int(fnv1a64(Array(item.relative.utf8)) % UInt64(count)) == index }

    /// The shard of a Slurm job-array task (`SLURM_ARRAY_TASK_ID`, `SLURM_ARRAY_TASK_COUNT`,
    /// `SLURM_ARRAY_TASK_MIN`: shard `ID − MIN` of `COUNT`), or of a Kubernetes Indexed Job
    /// (`JOB_COMPLETION_INDEX` of `CONVBANK_SHARD_COUNT`), from an environment; nil outside both.
    public static func fromEnvironment(_ environment: [String: String]) -> (shard: Shard, source: String)? {
        if let id = environment["SLURM_ARRAY_TASK_ID"].flatMap({ Int($0) }),
           let count = environment["SLURM_ARRAY_TASK_COUNT"].flatMap({ Int($0) }) {
            let minimum = environment["SLURM_ARRAY_TASK_MIN"].flatMap { Int($0) } ?? 0
            if let shard = Shard(index: id - minimum, count: count) {
                return (shard, "Slurm array task \(id) of \(count) (SLURM_ARRAY_TASK_MIN \(minimum))")
            }
        }
        if let index = environment["JOB_COMPLETION_INDEX"].flatMap({ Int($0) }),
           let count = environment["CONVBANK_SHARD_COUNT"].flatMap({ Int($0) }), let shard = Shard(index: index, count: count) {
            return (shard, "Kubernetes job completion index \(index) of \(count)")
        }
        return nil
    }

    public var description: String { "\(index)/\(count)" }
}

/// FNV-1a, 64-bit.
public func fnv1a64(_ bytes: [UInt8]) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in bytes {
        h ^= UInt64(b)
        h = h &* 0x100_0000_01b3
    }
    return h
}
