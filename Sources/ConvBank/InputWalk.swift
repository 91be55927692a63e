import Foundation

/// The inputs of a run, produced one at a time in the documented order, holding only the folders being listed
/// (not the whole tree): memory does not grow with the number of inputs beyond a few 64-bit hashes per input and
/// per folder (for collision checks and for files reached twice).
///
/// Order and rules are `InputCollection`'s: arguments in order; folders walked recursively in byte order of names;
/// `.png`/`.jpg`/`.jpeg` in any letter case; hidden names skipped; the output folder never entered; folders reached
/// through a symbolic link walked after the real ones of the same argument, never twice, a link to one of its own
/// ancestors reported as a loop; the same file (device and inode) processed once.
///
/// Keys (output folders): the path relative to the folder argument, extension dropped; siblings of one stem
/// (`a.png`, `a.jpg`) and file arguments of one stem keep their extensions; a stem `.`/`..`/empty keeps its
/// extension; any remaining clash — a key already used, or a folder that would stand where an earlier input's
/// file goes (`outputLeaves` inside its folder, `sheetSuffix` beside it), or the reverse — gets `-2`, `-3`, … on
/// the first clashing path component.
public final class InputWalk: Sequence, IteratorProtocol {
    private let arguments: [String]
    private let excluded: FileKey?
    private let outputLeaves: Set<String>
    private let sheetSuffix: String?
    private let onProblem: (String) -> Void

    private struct Frame {
        var folder: String
        var relative: String
        var entries: [String]
        var index = 0
        /// Stems of image files in this folder that more than one file name shares.
        var ambiguousStems: Set<String>
    }

    private var argumentIndex = 0
    private var stack: [Frame] = []
    private var deferred: [(path: String, relative: String)] = []
    private var visitedFolders = Set<FileKey>()
    private var seenFiles = Set<FileKey>()
    private var fileArgumentAmbiguous = Set<String>()
    // Collision bookkeeping, as 64-bit hashes.
    private var keys = Set<UInt64>(), folders = Set<UInt64>()

    public init(arguments: [String], exclude: String? = nil, outputLeaves: Set<String> = [], sheetSuffix: String? = nil,
                onProblem: @escaping (String) -> Void = { _ in }) {
        self.arguments = arguments
        self.excluded = exclude.flatMap { FileKey(path: $0) }
        self.outputLeaves = outputLeaves
        self.sheetSuffix = sheetSuffix
        self.onProblem = onProblem
        // File arguments of one stem keep their extensions (the list is on the command line, so it is small).
        var names: [String: Set<String>] = [:]
        for argument in arguments {
            var isDirectory = false
            if fileExists(argument, isDirectory: &isDirectory), !isDirectory {
                let name = (argument as NSString).lastPathComponent
                names[InputCollection.dropExtension(name), default: []].insert(name)
            }
        }
        fileArgumentAmbiguous = Set(names.filter { $0.value.count > 1 }.keys)
    }

    /// Counts the inputs (of `shard`, if given) without keeping them — a separate listing pass, for progress and ETA.
    public static func count(arguments: [String], exclude: String? = nil, shard: Shard? = nil) -> Int {
        var n = 0
        let walk = InputWalk(arguments: arguments, exclude: exclude)
        while let (path, relative, _) = walk.nextCandidate() {
            if shard?.contains(InputItem(path: path, key: "", relative: relative)) ?? true { n += 1 }
        }
        return n
    }

    public func next() -> InputItem? {
        guard let (path, relative, ambiguous) = nextCandidate() else { return nil }
        let stem = InputCollection.dropExtension(relative)
        let last = (stem as NSString).lastPathComponent
        let base = ambiguous || last.isEmpty || last == "." || last == ".." || stem.hasSuffix("/") ? relative : stem
        return InputItem(path: path, key: assignKey(base), relative: relative)
    }

    private func h(_ text: String) -> UInt64 { fnv1a64(Array(text.utf8)) }

    /// Files a run writes at the top of the output folder: no input's folder may take their names.
    static func isRunFile(_ key: String) -> Bool {
        guard !key.contains("/") else { return false }
        return (key.hasPrefix("manifest") && key.hasSuffix(".jsonl")) || (key.hasPrefix("index") && key.hasSuffix(".html"))
            || (key.hasPrefix("stats") && key.hasSuffix(".csv"))
    }

    private func outputsClash(_ key: String) -> Bool {
        // An earlier key (a folder) or one of its parent folders where this input's files go.
        func taken(_ path: String) -> Bool { let p = h(path); return folders.contains(p) || keys.contains(p) }
        if outputLeaves.contains(where: { taken(key + "/" + $0) }) { return true }
        guard let suffix = sheetSuffix else { return false }
        if taken(key + suffix) { return true }
        // This input's sheet standing where its parent input's map goes (a filter named `x.sheet`) …
        let slash = key.lastIndex(of: "/")
        let parent = slash.map { String(key[..<$0]) } ?? "", last = slash.map { String(key[key.index(after: $0)...]) } ?? key
        if !parent.isEmpty, keys.contains(h(parent)), outputLeaves.contains(last + suffix) { return true }
        // … or one of this input's maps standing where a child input's sheet went.
        return outputLeaves.contains { $0.hasSuffix(suffix) && keys.contains(h(key + "/" + String($0.dropLast(suffix.count)))) }
    }

    /// Index of the first component of `key` whose folder stands where an earlier input's file goes.
    private func blockedComponent(_ key: String) -> Int? {
        let parts = key.split(separator: "/").map(String.init)
        var prefix = ""
        for (index, part) in parts.enumerated() {
            if index > 0, outputLeaves.contains(part), keys.contains(h(prefix)) { return index }
            if let suffix = sheetSuffix, part.hasSuffix(suffix) {
                let owner = (prefix.isEmpty ? "" : prefix + "/") + String(part.dropLast(suffix.count))
                if keys.contains(h(owner)) { return index }
            }
            prefix = prefix.isEmpty ? part : prefix + "/" + part
        }
        return nil
    }

    private func assignKey(_ base: String) -> String {
        var key = base
        var n = 1
        while true {
            let blocked = blockedComponent(key)
            if blocked == nil, !keys.contains(h(key)), !folders.contains(h(key)), !Self.isRunFile(key), !outputsClash(key) { break }
            n += 1
            var parts = base.split(separator: "/").map(String.init)
            let index = blocked.map { Swift.min($0, parts.count - 1) } ?? parts.count - 1
            parts[index] += "-\(n)"
            key = parts.joined(separator: "/")
        }
        keys.insert(h(key))
        for prefix in InputCollection.prefixes(of: key).dropLast() { folders.insert(h(prefix)) }
        return key
    }

    /// The next image file: its path, its path relative to its folder argument, and whether its stem is shared.
    fileprivate func nextCandidate() -> (String, String, Bool)? {
        while true {
            if var frame = stack.popLast() {
                if frame.index >= frame.entries.count { continue }
                let name = frame.entries[frame.index]
                frame.index += 1
                stack.append(frame)
                let path = frame.folder.hasSuffix("/") ? frame.folder + name : frame.folder + "/" + name
                let relative = frame.relative.isEmpty ? name : frame.relative + "/" + name
                var isDirectory = false
                guard fileExists(path, isDirectory: &isDirectory) else { continue }  // dangling link
                if isDirectory {
                    if isSymbolicLink(path) { deferred.append((path, relative)) } else { enter(path, relative: relative) }
                    continue
                }
                guard InputCollection.imageExtensions.contains((name as NSString).pathExtension.lowercased()) else { continue }
                if let key = FileKey(path: path), !seenFiles.insert(key).inserted { continue }
                let stem = InputCollection.dropExtension(name)
                return (path, relative, frame.ambiguousStems.contains(stem))
            }
            if !deferred.isEmpty {
                let link = deferred.removeFirst()
                guard let key = FileKey(path: link.path) else { continue }
                if InputCollection.isAncestor(link.path) {
                    onProblem("skipping '\(link.path)': a symbolic link to a folder that contains it (loop)")
                    continue
                }
                if visitedFolders.contains(key) { continue }  // an alias of a folder already walked
                enter(link.path, relative: link.relative)
                continue
            }
            guard argumentIndex < arguments.count else { return nil }
            let argument = arguments[argumentIndex]
            argumentIndex += 1
            var isDirectory = false
            guard fileExists(argument, isDirectory: &isDirectory) else {
                onProblem("cannot read '\(argument)': no such file or folder")
                continue
            }
            if isDirectory {
                visitedFolders = []
                enter(argument, relative: "")
                continue
            }
            if let key = FileKey(path: argument), !seenFiles.insert(key).inserted { continue }
            let name = (argument as NSString).lastPathComponent
            return (argument, name, fileArgumentAmbiguous.contains(InputCollection.dropExtension(name)))
        }
    }

    private func enter(_ folder: String, relative: String) {
        guard let key = FileKey(path: folder) else { onProblem("cannot read folder '\(folder)'"); return }
        if key == excluded { return }
        guard visitedFolders.insert(key).inserted else { return }
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder) } catch {
            onProblem("cannot read folder '\(folder)': permission denied or not readable")
            return
        }
        let visible = names.filter { !$0.hasPrefix(".") }.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        var stems: [String: Int] = [:]
        for name in visible where InputCollection.imageExtensions.contains((name as NSString).pathExtension.lowercased()) {
            var isDirectory = false
            let path = folder.hasSuffix("/") ? folder + name : folder + "/" + name
            guard fileExists(path, isDirectory: &isDirectory), !isDirectory else { continue }  // images only, not folders
            stems[InputCollection.dropExtension(name), default: 0] += 1
        }
        stack.append(Frame(folder: folder, relative: relative, entries: visible, ambiguousStems: Set(stems.filter { $0.value > 1 }.keys)))
    }
}
