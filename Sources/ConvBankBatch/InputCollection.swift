import ConvBankEngine
import ConvBankImageIO
import ConvBankPictures
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
    /// Set when the walk met this path but there is nothing to process: an unreadable folder or argument, a link
    /// loop, or a file reached again through the same path. Such an item has no key (`""`) and is reported, not read.
    public var problem: InputProblem?

    /// Paths are lossless strings of the file system's bytes (see `FileSystem`).
    public init(path: String, key: String, relative: String, problem: InputProblem? = nil) {
        self.path = path
        self.key = key
        self.relative = relative
        self.problem = problem
    }
}

/// Something the walk met and does not process, named so that a batch can report it on stderr and in the manifest.
public struct InputProblem: Sendable, Equatable {
    /// Whether the problem fails the run or is only noted.
    public enum Kind: Sendable, Equatable {
        /// An input or folder that cannot be read (missing argument, unreadable or too long folder, link loop): the
        /// run fails (exit status 1).
        case failed
        /// A file reached again through the same path (the same folder entry: the same argument twice, or a file
        /// argument inside a folder argument): processed once, this repeat noted and skipped.
        case repeated
    }

    /// Whether it fails the run.
    public var kind: Kind
    /// One line naming the path and the problem (paths as lossless strings: show it through `FileSystem.display`).
    public var message: String
    /// Whether every shard reports it: a problem with an argument or a folder, whose contents any shard may own.
    /// Otherwise it belongs to the shard of the item's `relative` path, like an input.
    public var everyShard: Bool

    /// A problem of `kind`, described by `message`.
    public init(kind: Kind, message: String, everyShard: Bool) {
        self.kind = kind
        self.message = message
        self.everyShard = everyShard
    }
}

/// All the inputs of a run at once: `InputWalk`'s items collected in a list (see `InputWalk` for the order and the
/// naming rules). Convenient for small runs and tests; a batch walks lazily instead.
public struct InputCollection: Sendable {
    /// The inputs, in the walk's order.
    public var items: [InputItem] = []
    /// Problems met while walking (missing arguments, unreadable folders, loops), one line each; files reached
    /// again through the same path are left out of `items` and not listed here.
    public var problems: [String] = []
    /// Files in the folders walked that are not inputs (not named as an image), passed over (`InputWalk`'s
    /// `onPassedOver`).
    public var passedOver = 0

    /// The file name extensions a folder's files are taken by, lowercase (matched in any letter case). A file
    /// argument is taken whatever its name; either way the bytes decide the format.
    public static let imageExtensions: Set<String> = ["png", "jpg", "jpeg", "tif", "tiff", "webp"]

    /// Walks `arguments` to the end, as `InputWalk(arguments:exclude:outputLeaves:sheetSuffix:onProblem:)` does.
    /// - Parameters:
    ///   - arguments: image files and folders, in command-line order.
    ///   - exclude: a folder never entered (the output folder), if any.
    ///   - outputLeaves: the file names each input writes inside its own folder (`<filter>.<ext>`);
    ///   - sheetSuffix: what each input writes beside its folder (`.sheet.png`), if anything.
    public init(arguments: [String], exclude: String? = nil, outputLeaves: Set<String> = [], sheetSuffix: String? = nil) {
        var passed = 0
        let walk = InputWalk(arguments: arguments, exclude: exclude, outputLeaves: outputLeaves, sheetSuffix: sheetSuffix,
                             onPassedOver: { _ in passed += 1 })
        defer { passedOver = passed }
        for item in walk {
            if let problem = item.problem {
                if problem.kind == .failed { problems.append(problem.message) }
            } else {
                items.append(item)
            }
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
        guard let target = FileSystem.canonicalPath(link), let here = FileSystem.canonicalPath(FileSystem.parent(of: link)) else {
            return false
        }
        let t = FileSystem.bytes(of: target), h = FileSystem.bytes(of: here)
        return h == t || h.starts(with: t.last == 0x2F ? t : t + [0x2F])
    }

}

/// Whether `path` itself is a symbolic link.
func isSymbolicLink(_ path: String) -> Bool {
    FileSystem.info(path, followingLinks: false).map(FileSystem.isSymbolicLink) ?? false
}

/// A file's identity on disk (device and inode), following symbolic links.
struct FileKey: Hashable, Sendable {
    var device: UInt64, inode: UInt64
    init?(path: String) {
        guard let info = FileSystem.info(path) else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}
