import ConvBankEngine
import ConvBankImageIO
import ConvBankPictures
import Foundation

/// The inputs of a run, produced one at a time in the documented order, holding only the folders being listed
/// (not the whole tree): memory does not grow with the number of inputs beyond a few 64-bit hashes per input and
/// per folder (for collision checks and for files reached twice).
///
/// Order and rules are `InputCollection`'s: arguments in order; folders walked recursively in byte order of names;
/// `.png`/`.jpg`/`.jpeg`/`.tif`/`.tiff`/`.webp` in any letter case (`InputCollection.imageExtensions`), every other
/// visible file of a folder passed over and counted (`onPassedOver`); hidden names skipped; the output folder never
/// entered; folders reached through a symbolic link walked after the real ones of the same argument, never twice, a
/// link to one of its own ancestors reported as a loop. A file argument is an input whatever its name.
///
/// Names are bytes: read with `readdir`, carried losslessly (see `FileSystem`), so a name that is not UTF-8 is an
/// input like any other and its key holds the same bytes. An input is a path — a name in a folder: two hard links
/// (or a symbolic link to an image) are two inputs with their own keys; only the same name in the same folder
/// (device and inode) reached again — the same argument twice, a file argument inside a folder argument, a folder
/// argument reached again through a linked folder — is processed once and the repeat yielded as an item with a
/// `.repeated` problem. An image name that does not resolve (a dangling symbolic link) is yielded as an input (its
/// read fails, naming it); a folder or argument that cannot be read (missing, no permission, a path longer than
/// `PATH_MAX`) or a link loop is yielded as an item with a `.failed` problem (and passed to `onProblem`).
///
/// Keys (output folders): the path relative to the folder argument, extension dropped; siblings of one stem
/// (`a.png`, `a.jpg`) and file arguments of one stem keep their extensions; a stem `.`/`..`/empty keeps its
/// extension; any remaining clash — a key already used, or a folder that would stand where an earlier input's
/// file goes (`outputLeaves` inside its folder, `sheetSuffix` beside it), or the reverse — gets `-2`, `-3`, … on
/// the first clashing path component.
///
/// In a `flat` layout (`init(arguments:exclude:paths:onProblem:)`) a key's files are the key followed by a suffix
/// (`.<map>.<ext>`, `.<ext>`, `.sheet.png`), so the clashes are: a key already used; a file of this key that is a
/// file of an earlier key (`a.b` with maps `c` and `b.c`: `a.b.c.png` twice), or stands where an earlier key's
/// folder is (`a.npy` beside a folder `a.npy/`); a folder of this key where an earlier file stands; a top-level
/// folder named like a run file. The same `-2`, `-3`, … on the first clashing component follow.
public final class InputWalk: Sequence, IteratorProtocol {
    private let arguments: [String]
    private let excluded: FileKey?
    private let outputLeaves: Set<String>
    private let sheetSuffix: String?
    private let onProblem: (String) -> Void
    private let onPassedOver: (String) -> Void

    private struct Frame {
        var folder: String
        /// The folder's device and inode: with an entry's name bytes, what identifies a file path (`seenEntries`).
        var key: FileKey
        var relative: String
        /// Visible entries in byte order of their names, classified when listed.
        var entries: [FileSystem.FolderEntry]
        var index = 0
        /// Stems of image files in this folder that more than one file name shares.
        var ambiguousStems: Set<String>
    }

    private var argumentIndex = 0
    private var stack: [Frame] = []
    private var deferred: [(path: String, relative: String)] = []
    private var visitedFolders = Set<FileKey>()
    /// Folder entries met (hash of the folder's device and inode and the entry's name bytes).
    private var seenEntries = Set<UInt64>()
    private var fileArgumentAmbiguous = Set<String>()
    // Collision bookkeeping, as 64-bit hashes.
    private var keys = Set<UInt64>(), folders = Set<UInt64>()
    /// The flat layout's suffixes, and the differences `d` between two of them (`s = d + s'`): with those, whether a
    /// file of one key is a file of another is a few hash look-ups, whatever the number of maps.
    private var flat: (suffixes: Set<String>, differences: Set<String>)?

    /// A walk over `arguments`; no folder is listed before the first `next()`.
    /// - Parameters:
    ///   - arguments: Image files and folders, in command-line order (lossless path strings, see `FileSystem`).
    ///   - exclude: A folder never entered (the output folder), if any.
    ///   - outputLeaves: The file names each input writes inside its own folder (`<filter>.<ext>`), so that no key
    ///     becomes a folder where another input's file goes.
    ///   - sheetSuffix: What each input writes beside its folder (`.sheet.png`), if anything.
    ///   - onProblem: Called with the message of each `.failed` problem as it is met.
    ///   - onPassedOver: Called with the path relative to its folder argument of each file in a walked folder that is
    ///     not an input: a visible entry that is not a folder (a regular file, a special file, a dangling link) and
    ///     whose name has none of the `InputCollection.imageExtensions`. Hidden names are not counted.
    public init(arguments: [String], exclude: String? = nil, outputLeaves: Set<String> = [], sheetSuffix: String? = nil,
                onProblem: @escaping (String) -> Void = { _ in }, onPassedOver: @escaping (String) -> Void = { _ in }) {
        self.arguments = arguments
        self.excluded = exclude.flatMap { FileKey(path: $0) }
        self.outputLeaves = outputLeaves
        self.sheetSuffix = sheetSuffix
        self.onProblem = onProblem
        self.onPassedOver = onPassedOver
        // File arguments of one stem keep their extensions (the list is on the command line, so it is small).
        var names: [String: Set<String>] = [:]
        for argument in arguments {
            var isDirectory = false
            if fileExists(argument, isDirectory: &isDirectory), !isDirectory {
                let name = FileSystem.lastComponent(of: argument)
                names[InputCollection.dropExtension(name), default: []].insert(name)
            }
        }
        fileArgumentAmbiguous = Set(names.filter { $0.value.count > 1 }.keys)
    }

    /// A walk whose keys do not clash with the files `paths` places (in either layout); otherwise as
    /// `init(arguments:exclude:outputLeaves:sheetSuffix:onProblem:)`.
    public convenience init(arguments: [String], exclude: String? = nil, paths: OutputPaths, onProblem: @escaping (String) -> Void = { _ in },
                            onPassedOver: @escaping (String) -> Void = { _ in }) {
        self.init(arguments: arguments, exclude: exclude, outputLeaves: paths.leaves,
                  sheetSuffix: paths.besideSuffix, onProblem: onProblem,
                  onPassedOver: onPassedOver)
        if paths.layout == .flat {
            let suffixes = paths.suffixes
            var differences = Set<String>()
            for suffix in suffixes {
                var i = suffix.index(after: suffix.startIndex)
                while i < suffix.endIndex {
                    if suffix[i] == ".", suffixes.contains(String(suffix[i...])) { differences.insert(String(suffix[..<i])) }
                    i = suffix.index(after: i)
                }
            }
            flat = (suffixes, differences)
        }
    }

    /// Counts the inputs (of `shard`, if given) without keeping them — a separate listing pass, for progress and ETA.
    public static func count(arguments: [String], exclude: String? = nil, shard: Shard? = nil) -> Int {
        var n = 0
        let walk = InputWalk(arguments: arguments, exclude: exclude)
        while let candidate = walk.nextCandidate() {
            let item = switch candidate {
            case let .file(path, relative, _): InputItem(path: path, key: "", relative: relative)
            case let .problem(path, relative, problem): InputItem(path: path, key: "", relative: relative, problem: problem)
            }
            if shard?.contains(item) ?? true { n += 1 }
        }
        return n
    }

    /// The next input, or the next path the walk reports instead (`InputItem.problem` set, no key).
    public func next() -> InputItem? {
        guard let candidate = nextCandidate() else { return nil }
        guard case let .file(path, relative, ambiguous) = candidate else {
            if case let .problem(path, relative, problem) = candidate { return InputItem(path: path, key: "", relative: relative, problem: problem) }
            return nil
        }
        let stem = InputCollection.dropExtension(relative)
        let last = (stem as NSString).lastPathComponent
        let base = ambiguous || last.isEmpty || last == "." || last == ".." || stem.hasSuffix("/") ? relative : stem
        return InputItem(path: path, key: flat != nil ? assignFlatKey(base) : assignKey(base), relative: relative)
    }

    private func h(_ text: String) -> UInt64 { fnv1a64(Array(text.utf8)) }

    /// Files a run writes at the top of the output folder: no input's folder may take their names.
    static func isRunFile(_ key: String) -> Bool {
        guard !key.contains("/") else { return false }
        return RunFiles.isRunFileName(key)
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
            // A folder at the top named like a run file (`manifest.jsonl/x.png`) would stand where the run writes it.
            if index == 0, parts.count > 1, RunFiles.isRunFileName(part) { return 0 }
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

    /// Flat layout: whether a file of `key` is a file of an earlier key or stands where an earlier folder is.
    private func flatOutputsClash(_ key: String) -> Bool {
        guard let flat else { return false }
        for d in flat.differences {
            if keys.contains(h(key + d)) { return true }                                            // an earlier, longer key
            if key.hasSuffix(d), key.count > d.count, keys.contains(h(String(key.dropLast(d.count)))) { return true }  // shorter
        }
        if !key.contains("/"), flat.suffixes.contains(where: { RunFiles.isRunFileName(key + $0) }) { return true }
        return flat.suffixes.contains { folders.contains(h(key + $0)) }
    }

    /// Flat layout: whether `path` is a file of an earlier key (`path` = key + suffix).
    private func isFlatFile(_ path: String) -> Bool {
        guard let flat else { return false }
        var i = path.endIndex
        while i > path.startIndex {
            i = path.index(before: i)
            if path[i] == "/" { break }
            if path[i] == ".", i > path.startIndex, flat.suffixes.contains(String(path[i...])), keys.contains(h(String(path[..<i]))) { return true }
        }
        return false
    }

    /// Flat layout: the index of the first folder of `key` that stands where an earlier input's file goes (or, at
    /// the top, where a run file goes).
    private func flatBlockedComponent(_ key: String) -> Int? {
        let parts = key.split(separator: "/").map(String.init)
        var prefix = ""
        for (index, part) in parts.dropLast().enumerated() {
            if index == 0, RunFiles.isRunFileName(part) { return 0 }
            prefix = prefix.isEmpty ? part : prefix + "/" + part
            if isFlatFile(prefix) { return index }
        }
        return nil
    }

    /// `assignKey` for the flat layout.
    private func assignFlatKey(_ base: String) -> String {
        var key = base
        var n = 1
        while true {
            let blocked = flatBlockedComponent(key)
            if blocked == nil, !keys.contains(h(key)), !flatOutputsClash(key) { break }
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

    /// What the walk meets next: an image file (its path, its path relative to its folder argument, and whether
    /// its stem is shared), or a path it reports instead.
    fileprivate enum Candidate {
        case file(path: String, relative: String, ambiguous: Bool)
        case problem(path: String, relative: String, InputProblem)
    }

    private static func isImageName(_ name: String) -> Bool {
        InputCollection.imageExtensions.contains((name as NSString).pathExtension.lowercased())
    }

    /// Marks the folder entry `name` of the folder `folder` (device and inode) as met; false when it was met before.
    private func firstVisit(folder: FileKey?, name: [UInt8]) -> Bool {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(17 + name.count)
        for value in [folder?.device ?? 0, folder?.inode ?? 0] { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
        bytes.append(folder == nil ? 0 : 1)
        bytes += name
        return seenEntries.insert(fnv1a64(bytes)).inserted
    }

    private func failure(_ path: String, relative: String = "", _ message: String) -> Candidate {
        onProblem(message)
        return .problem(path: path, relative: relative, InputProblem(kind: .failed, message: message, everyShard: true))
    }

    private func repeated(_ path: String, relative: String) -> Candidate {
        let message = "skipping '\(path)': the same file as an earlier input (the same name in the same folder, reached again through another argument or a linked folder); processed once"
        return .problem(path: path, relative: relative, InputProblem(kind: .repeated, message: message, everyShard: false))
    }

    fileprivate func nextCandidate() -> Candidate? {
        while true {
            if var frame = stack.popLast() {
                if frame.index >= frame.entries.count { continue }
                let entry = frame.entries[frame.index]
                frame.index += 1
                stack.append(frame)
                let path = FileSystem.join(frame.folder, entry.name)
                let relative = frame.relative.isEmpty ? entry.name : frame.relative + "/" + entry.name
                if entry.target == .folder {
                    if entry.isLink {
                        deferred.append((path, relative))
                    } else if let problem = enter(path, relative: relative) {
                        return failure(path, relative: relative, problem)
                    }
                    continue
                }
                // A file, or a name that does not resolve (a dangling link: an input that fails when read).
                guard Self.isImageName(entry.name) else {
                    onPassedOver(relative)
                    continue
                }
                guard firstVisit(folder: frame.key, name: FileSystem.bytes(of: entry.name)) else { return repeated(path, relative: relative) }
                return .file(path: path, relative: relative, ambiguous: frame.ambiguousStems.contains(InputCollection.dropExtension(entry.name)))
            }
            if !deferred.isEmpty {
                let link = deferred.removeFirst()
                guard let key = FileKey(path: link.path) else {
                    return failure(link.path, relative: link.relative, "cannot read folder '\(link.path)': \(FileSystem.reason(errno, path: link.path))")
                }
                if InputCollection.isAncestor(link.path) {
                    return failure(link.path, relative: link.relative, "skipping '\(link.path)': a symbolic link to a folder that contains it (loop)")
                }
                if visitedFolders.contains(key) { continue }  // an alias of a folder already walked: its files were met there
                if let problem = enter(link.path, relative: link.relative) { return failure(link.path, relative: link.relative, problem) }
                continue
            }
            guard argumentIndex < arguments.count else { return nil }
            let argument = arguments[argumentIndex]
            argumentIndex += 1
            guard let info = FileSystem.info(argument) else {
                let code = errno
                if FileSystem.info(argument, followingLinks: false).map(FileSystem.isSymbolicLink) == true {
                    let target = FileSystem.linkTarget(argument).map { " (to '\($0)')" } ?? ""
                    return failure(argument, "cannot read '\(argument)': dangling symbolic link\(target)")
                }
                return failure(argument, "cannot read '\(argument)': \(code == ENOENT ? "no such file or folder" : FileSystem.reason(code, path: argument))")
            }
            if FileSystem.isFolder(info) {
                visitedFolders = []
                if let problem = enter(argument, relative: "") { return failure(argument, problem) }
                continue
            }
            let name = FileSystem.lastComponent(of: argument)
            guard firstVisit(folder: FileKey(path: FileSystem.parent(of: argument)), name: FileSystem.bytes(of: name)) else {
                return repeated(argument, relative: name)
            }
            return .file(path: argument, relative: name, ambiguous: fileArgumentAmbiguous.contains(InputCollection.dropExtension(name)))
        }
    }

    /// Pushes `folder`'s listing; the problem's message when it cannot be read. Folders never entered: the output
    /// folder, and a folder already walked for this argument.
    private func enter(_ folder: String, relative: String) -> String? {
        guard let key = FileKey(path: folder) else { return "cannot read folder '\(folder)': \(FileSystem.reason(errno, path: folder))" }
        if key == excluded { return nil }
        guard visitedFolders.insert(key).inserted else { return nil }
        let entries: [FileSystem.FolderEntry]
        switch FileSystem.listFolder(folder, visibleOnly: true, classify: true) {
        case .success(let list):
            // Byte order of names; the bytes are dropped once sorted (the lossless name gives them back).
            entries = list.sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }.map { entry in
                var light = entry
                light.bytes = []
                return light
            }
        case .failure(let failure): return "cannot read folder '\(folder)': \(FileSystem.reason(failure.code, path: folder))"
        }
        var stems: [String: Int] = [:]
        for entry in entries where entry.target != .folder && Self.isImageName(entry.name) {
            stems[InputCollection.dropExtension(entry.name), default: 0] += 1
        }
        stack.append(Frame(folder: folder, key: key, relative: relative, entries: entries,
                           ambiguousStems: Set(stems.filter { $0.value > 1 }.keys)))
        return nil
    }
}
