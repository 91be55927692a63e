import Foundation

/// Every regular file under `root`, as sorted paths relative to `root` (hidden names included); empty when
/// `root` does not exist.
/// The files under `root` (relative, sorted), leaving out a run's bookkeeping: the per-input records
/// (`.convbank-record.json`, flat: `.<name>.convbank-record.json`) and the manifests (`manifest*.jsonl`), which `ResumeTests` checks on their own.
/// Anything else hidden (a leftover temporary file) is listed.
func filesUnder(_ root: URL) -> [String] {
    filesUnder(root, includingBookkeeping: false)
}

func filesUnder(_ root: URL, includingBookkeeping: Bool) -> [String] {
    guard let enumerator = FileManager.default.enumerator(atPath: root.path) else { return [] }
    var files: [String] = []
    while let relative = enumerator.nextObject() as? String {
        let name = (relative as NSString).lastPathComponent
        if !includingBookkeeping, name.hasSuffix(".convbank-record.json") || (!relative.contains("/") && name.hasPrefix("manifest") && name.hasSuffix(".jsonl")) {
            continue
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: root.appendingPathComponent(relative).path, isDirectory: &isDirectory),
           !isDirectory.boolValue {
            files.append(relative)
        }
    }
    return files.sorted()
}

/// Every entry (files and folders) under `root`, relative and sorted.
/// Files and folders under `root`, without the run's bookkeeping (records and manifests, see `filesUnder`).
func entriesUnder(_ root: URL) -> [String] {
    guard let enumerator = FileManager.default.enumerator(atPath: root.path) else { return [] }
    var entries: [String] = []
    while let relative = enumerator.nextObject() as? String {
        let name = (relative as NSString).lastPathComponent
        if name.hasSuffix(".convbank-record.json") || (!relative.contains("/") && name.hasPrefix("manifest") && name.hasSuffix(".jsonl")) { continue }
        entries.append(relative)
    }
    return entries.sorted()
}

/// Snapshots of an output folder, for `ResumeTests`: the visible files with their bytes, their identities on disk,
/// and the temporary files a run left.
enum OutputTree {
    /// Identity of a file on disk: a rewrite (temp + rename) changes the inode; mtime in nanoseconds.
    struct Stamp: Equatable, CustomStringConvertible {
        var inode: UInt64, seconds: Int, nanoseconds: Int, size: Int64
        var description: String { "inode \(inode), mtime \(seconds).\(nanoseconds), \(size) bytes" }
    }

    static func stamp(_ url: URL) -> Stamp? {
        var info = stat()
        guard stat(url.path, &info) == 0 else { return nil }
        return Stamp(inode: UInt64(info.st_ino), seconds: Int(info.st_mtim.tv_sec), nanoseconds: Int(info.st_mtim.tv_nsec),
                     size: Int64(info.st_size))
    }

    /// Whether any component of a relative path is hidden (starts with `.`).
    static func isHidden(_ relative: String) -> Bool { relative.split(separator: "/").contains { $0.hasPrefix(".") } }

    /// Whether a file name is one of `AtomicFile`'s temporary names, `.NAME.tmp-PID-RANDOM`.
    static func isTemporary(_ relative: String) -> Bool {
        let name = (relative as NSString).lastPathComponent
        return name.hasPrefix(".") && name.contains(".tmp-")
    }

    /// The non-hidden files under `root` (records, manifests and temporary files left out), with their bytes.
    static func visibleFiles(_ root: URL) throws -> [String: [UInt8]] {
        var tree: [String: [UInt8]] = [:]
        for relative in filesUnder(root) where !isHidden(relative) {
            tree[relative] = try bytes(of: root.appendingPathComponent(relative))
        }
        return tree
    }

    /// Temporary files (`.NAME.tmp-…`) anywhere under `root`.
    static func temporaryFiles(_ root: URL) -> [String] {
        filesUnder(root, includingBookkeeping: true).filter(isTemporary)
    }

    /// The stamps of the non-hidden files under `root`.
    static func stamps(_ root: URL) -> [String: Stamp] {
        var out: [String: Stamp] = [:]
        for relative in filesUnder(root) where !isHidden(relative) { out[relative] = stamp(root.appendingPathComponent(relative)) }
        return out
    }
}
