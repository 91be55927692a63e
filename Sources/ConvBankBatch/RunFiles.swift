import ConvBankEngine
import ConvBankImageIO
import ConvBankPictures
import Foundation

/// The files a run writes at the top of its output folder — the manifest, the statistics table and the gallery —
/// named in one place: `manifest.jsonl`, `stats.csv`, `index.html`, or with `--shard K/N`
/// `manifest.shard-K-of-N.jsonl`, `stats.shard-K-of-N.csv`, `index.shard-K-of-N.html` (so shards on one disk never
/// share a file).
public struct RunFiles: Sendable, Equatable {
    /// The manifest: one JSON object per input, appended by each run (`Batch`'s `manifestName`).
    public var manifest: String
    /// The statistics table (`--stats`): a CSV line per input and filter.
    public var statistics: String
    /// The gallery page (`Gallery` in ConvBankPictures).
    public var gallery: String

    /// The names for a run of `shard`, or for an unsharded run when nil.
    public init(shard: Shard?) {
        let suffix = shard.map { ".shard-\($0.index)-of-\($0.count)" } ?? ""
        manifest = "manifest\(suffix).jsonl"
        statistics = "stats\(suffix).csv"
        gallery = "index\(suffix).html"
    }

    /// The hidden spool the gallery's sections collect in while the run goes on (`.<gallery>.rows.tmp-PID-N`).
    package var gallerySpool: String { gallery + ".rows" }

    /// Whether `name` (one path component) is, or could be for some shard, one of the run's own files: no input's
    /// output folder may take such a name at the top of the output folder.
    static func isRunFileName(_ name: String) -> Bool {
        (name.hasPrefix("manifest") && name.hasSuffix(".jsonl")) || (name.hasPrefix("index") && name.hasSuffix(".html"))
            || (name.hasPrefix("stats") && name.hasSuffix(".csv"))
    }

    /// Deletes the temporary files that a killed run left of this run's statistics table and gallery (written
    /// atomically: committed at the end); those of a process still alive on this machine are kept.
    public func removeStaleTemporaries(in outputFolder: String) {
        AtomicFile.removeStaleTemporaries(of: [statistics, gallery, gallerySpool], in: outputFolder)
    }
}

extension AtomicFile {
    /// Deletes the temporary files (`.NAME.tmp-PID-N`) of the files `names` in `folder` whose writing process is no
    /// longer alive on this machine, and nothing else.
    static func removeStaleTemporaries(of names: Set<String>, in folder: String) {
        removeStaleTemporaries(of: names, in: folder, among: temporaryNames(in: folder))
    }

    /// The temporary names (`.NAME.tmp-…`) in `folder`, of any file.
    static func temporaryNames(in folder: String) -> [String] {
        guard case .success(let entries) = FileSystem.listFolder(folder, visibleOnly: false, classify: false) else { return [] }
        return entries.map(\.name).filter(AtomicFile.isTemporaryName)
    }

    /// Deletes those of the temporary names `found` in `folder` that belong to the files `names` and whose writing
    /// process is no longer alive on this machine; returns the names it deleted (or found already gone).
    @discardableResult
    static func removeStaleTemporaries(of names: Set<String>, in folder: String, among found: [String]) -> Set<String> {
        let prefixes = names.map { "." + $0 + ".tmp-" }
        var removed = Set<String>()
        for name in found {
            guard let prefix = prefixes.first(where: { name.hasPrefix($0) }), name.count > prefix.count else { continue }
            let pidText = name.dropFirst(prefix.count).split(separator: "-").first
            if let pid = pidText.flatMap({ Int32($0) }), pid != getpid(), kill(pid, 0) == 0 { continue }  // still being written
            FileSystem.removeFile(FileSystem.join(folder, name))
            removed.insert(name)
        }
        return removed
    }
}
