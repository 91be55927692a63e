import ConvBankEngine
import ConvBankImageIO
import ConvBankPictures
import Foundation

/// The files a run writes at the top of its output folder — the manifest, the statistics table and the gallery —
/// named in one place: `manifest.jsonl`, `stats.csv`, `index.html`, or with `--shard K/N`
/// `manifest.shard-K-of-N.jsonl`, `stats.shard-K-of-N.csv`, `index.shard-K-of-N.html` (so shards on one disk never
/// share a file). A gallery of more than one page adds `index.page-2.html`, … (`index.shard-K-of-N.page-2.html`, …);
/// the gallery's thumbnails go under the folder `index.thumbs/`, shared by all shards (their keys are disjoint).
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

    /// The folder (at the top of the output folder) that holds the gallery's thumbnails, mirroring the maps' paths:
    /// the map `<path>.<ext>` has the thumbnail `index.thumbs/<path>.png` (`OutputPaths.thumbnailFiles(key:)`).
    public static let thumbnailFolder = "index.thumbs"

    /// The file of gallery page `page` (from 1): page 1 is `gallery` itself, page `k` is `gallery` with `.page-k`
    /// before `.html`.
    public func galleryPage(_ page: Int) -> String {
        page == 1 ? gallery : String(gallery.dropLast(".html".count)) + ".page-\(page).html"
    }

    /// The page number `k ≥ 2` of `name` when it is one of this run's gallery pages beyond the first, else nil.
    func galleryPageNumber(_ name: String) -> Int? {
        let prefix = String(gallery.dropLast(".html".count)) + ".page-"
        guard name.hasPrefix(prefix), name.hasSuffix(".html") else { return nil }
        let digits = name.dropFirst(prefix.count).dropLast(".html".count)
        guard !digits.isEmpty, digits.count < 10, digits.allSatisfy(\.isASCII), let k = Int(digits), k >= 2, galleryPage(k) == name else { return nil }
        return k
    }

    /// Whether `name` (one path component) is, or could be for some shard, one of the run's own files or the
    /// thumbnails' folder: no input's output folder may take such a name at the top of the output folder.
    static func isRunFileName(_ name: String) -> Bool {
        (name.hasPrefix("manifest") && name.hasSuffix(".jsonl")) || (name.hasPrefix("index") && name.hasSuffix(".html"))
            || (name.hasPrefix("stats") && name.hasSuffix(".csv")) || name == thumbnailFolder
    }

    /// Deletes the temporary files that a killed run left of this run's statistics table and gallery pages (written
    /// atomically: committed at the end); those of a process still alive on this machine are kept.
    public func removeStaleTemporaries(in outputFolder: String) {
        var names: Set<String> = [statistics, gallery, gallerySpool]
        // Pages beyond the first: whatever their number, from the temporary names present.
        if case .success(let entries) = FileSystem.listFolder(outputFolder, visibleOnly: false, classify: false) {
            for name in entries.map(\.name) where AtomicFile.isTemporaryName(name) && name.hasPrefix(".") {
                guard let end = name.range(of: ".tmp-", options: .backwards) else { continue }
                let target = String(name[name.index(after: name.startIndex)..<end.lowerBound])
                if galleryPageNumber(target) != nil { names.insert(target) }
            }
        }
        AtomicFile.removeStaleTemporaries(of: names, in: outputFolder)
    }

    /// Deletes gallery pages an earlier run left beyond page `count` of this one (a run with fewer inputs than
    /// the last into the same folder), so that no page outlives the gallery that links to it.
    public func removeGalleryPages(beyond count: Int, in outputFolder: String) {
        guard case .success(let entries) = FileSystem.listFolder(outputFolder, visibleOnly: true, classify: false) else { return }
        for name in entries.map(\.name) {
            if let k = galleryPageNumber(name), k > count { FileSystem.removeFile(FileSystem.join(outputFolder, name)) }
        }
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
