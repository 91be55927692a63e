import ConvBankEngine
import ConvBankImageIO
import ConvBankPictures
import Foundation

/// One whole `apply`: a bank over files and folders into an output folder — the checks before anything is written,
/// the shard, the walk, the `Batch`, `stats.csv` and the gallery. Everything the `apply` command does between
/// parsing its arguments and printing; it prints nothing itself, but hands each message to the caller in order.
///
/// ```swift
/// let run = try ApplyRun(bank: bank, settings: settings, inputs: ["photos"], output: "maps", statistics: true)
/// let outcome = run.run { event in print(event.messages.map(\.text)) }
/// ```
public final class ApplyRun {
    /// Why a run cannot start.
    public enum SetupError: Error, Sendable, Equatable, CustomStringConvertible {
        /// The arguments ask for something impossible (nothing was written): the tool exits 64.
        case usage(String)
        /// The output folder cannot be used: the tool exits 1.
        case failure(String)

        /// The one-line message.
        public var description: String {
            switch self {
            case .usage(let text), .failure(let text): text
            }
        }
    }

    /// A line for people, and how much it matters.
    public struct Message: Sendable, Equatable {
        /// `note` (a file met twice), `warning` (a setting that hides most of a map) or `error` (an input or an output failed).
        public enum Kind: String, Sendable {
            case note, warning, error
        }

        /// How much it matters.
        public let kind: Kind
        /// The line, with paths shown as `FileSystem.display` shows them.
        public let text: String
    }

    /// What happened to one input: its report (nil for a message about the run's own files), then the lines to
    /// show, in order.
    public struct Event: Sendable {
        /// The batch's report of the input; nil for lines about stats.csv, the gallery or the manifest.
        public let report: ItemReport?
        /// Lines to show.
        public let messages: [Message]
    }

    /// How the run ended.
    public struct Outcome: Sendable, Equatable {
        /// Arguments and folders that could not be read (each named in an error line).
        public var unreadable = 0
        /// Run files (stats.csv, index.html, the manifest) that could not be written (each named in an error line).
        public var failedWrites = 0
        /// Files of the folders walked that are not inputs (their names are not image names: `InputWalk`'s
        /// `onPassedOver`), counted in this shard when sharded (by the same hash of their relative paths as inputs,
        /// so the shards' counts add up to an unsharded run's).
        public var passedOver = 0
    }

    /// The bank run.
    public let bank: FilterBank
    /// Format, normalization, limits, threads, sheets, partials.
    public let settings: ApplySettings
    /// The arguments: files and folders, as given.
    public let inputs: [String]
    /// The output folder (created by `init`).
    public let output: String
    /// The shard run: given, or taken from the environment (see `shardSource`); nil for all inputs.
    public let shard: Shard?
    /// Where `shard` came from when it was taken from the environment (`Shard.fromEnvironment`), else nil.
    public let shardSource: String?
    /// Whether to redo inputs whose outputs are complete.
    public let force: Bool
    /// Whether to write `stats.csv`; whether to write the gallery `index.html` (and its thumbnails).
    public let statistics: Bool, gallery: Bool
    /// How many inputs each gallery page shows (`Gallery.defaultPageSize` unless told).
    public let galleryPageSize: Int
    /// The names of this run's own files (shard-suffixed when sharded).
    public let runFiles: RunFiles

    /// Checks the arguments and creates the output folder.
    /// - Parameters:
    ///   - bank: the filters and their settings.
    ///   - settings: format, normalization, limits, threads, sheets, partials.
    ///   - inputs: files and folders, in the byte-preserving form of `FileSystem.commandLineArguments`.
    ///   - output: the output folder, likewise.
    ///   - shard: the shard to run; nil takes one from a Slurm or Kubernetes job's `environment`, if any.
    ///   - environment: the variables a job scheduler sets (`ProcessInfo.processInfo.environment`); empty: none.
    ///   - force: redo inputs whose outputs are complete and come from the same bytes and settings.
    ///   - statistics: write `stats.csv` (shard-suffixed when sharded).
    ///   - gallery: write `index.html` (paged beyond `galleryPageSize` inputs) and a thumbnail of every map
    ///     (`ApplySettings.thumbnails` is set), whatever the maps' format.
    ///   - galleryPageSize: inputs per gallery page (at least 1).
    /// - Throws: `SetupError.usage` when the output is an input folder, partial maps would overwrite a map, the
    ///   settings ask for `perChannel` with a bank of more than one channel or with `partials`, or the environment
    ///   names an impossible shard; `SetupError.failure` when the output folder cannot be created.
    public init(bank: FilterBank, settings: ApplySettings, inputs: [String], output: String, shard: Shard? = nil,
                environment: [String: String] = [:], force: Bool = false, statistics: Bool = false, gallery: Bool = false,
                galleryPageSize: Int = Gallery.defaultPageSize) throws(SetupError) {
        guard galleryPageSize > 0 else { throw .usage("the gallery's page size must be at least 1, not \(galleryPageSize)") }
        // The output folder is skipped by the walk; as an input folder itself it would leave nothing to process.
        if let same = inputs.first(where: { FileSystem.isSameFolder($0, output) }) {
            throw .usage("--output '\(FileSystem.display(output))' is the input folder '\(FileSystem.display(same))': nothing would be processed; choose another folder (a new folder inside the input is fine: the walk skips it)")
        }
        // Flat files lie side by side under the output folder, named after the inputs: an input inside it could be
        // replaced by an output (`out/a.png` → `out/a.png` with one png map).
        if settings.layout == .flat, let inside = Self.inputInside(output, inputs: inputs) {
            throw .usage("--layout flat: the input '\(FileSystem.display(inside))' is inside --output '\(FileSystem.display(output))', where an output could replace an input; choose an output folder outside the inputs")
        }
        if let network = settings.network {
            guard !settings.perChannel else {
                throw .usage("--per-channel runs a bank's one-channel filters on each colour channel; it does not apply to network '\(network.network.name)' (its first layer says how it reads the colour channels)")
            }
            guard !settings.partials else {
                throw .usage("--partials takes a bank's maps apart; it does not apply to network '\(network.network.name)' (use --layers to write inner layers' maps)")
            }
            guard settings.preprocess == nil else {
                throw .usage("a network carries its own \"preprocess\"; set it in the network file")
            }
            // A layer's sheet sits beside its folder of maps: a written layer named like another's sheet would stand there.
            if settings.sheet != nil, let layers = network.layers {
                let names = Set(layers.map { network.network.layers[$0].name })
                if let clash = names.first(where: { names.contains($0 + OutputPaths.sheetSuffix) }) {
                    throw .usage("--sheet: layer '\(clash)\(OutputPaths.sheetSuffix)' is named like layer '\(clash)''s contact sheet, which goes beside its folder of maps; rename one of them or leave one out of --layers")
                }
            }
        }
        if let needed = settings.preprocessing(for: bank).requiredChannels, settings.network == nil, needed != bank.channels {
            throw .usage("--preprocess \(settings.preprocessing(for: bank).summaryName) needs \(needed) channels, but bank '\(bank.name)' reads \(bank.channels)")
        }
        if settings.perChannel {
            guard bank.isOneChannel else {
                throw .usage("--per-channel runs each filter on every colour channel, so it needs a bank of one-channel filters; bank '\(bank.name)' has filters of \(bank.filters[0].channels) channel\(bank.filters[0].channels == 1 ? "" : "s")\(bank.groups > 1 ? " in \(bank.groups) groups" : "") (\(bank.channels) input channels)")
            }
            guard !settings.partials else {
                throw .usage("--partials cannot be combined with --per-channel: a per-channel result has no channel sum to take apart")
            }
        }
        if let problem = FileSystem.createFolder(output) {
            throw .failure("cannot use '\(FileSystem.display(output))' as the output folder: \(problem)")
        }
        if settings.partials {
            let names = Set(bank.outputNames)
            if let clash = bank.filters.indices.flatMap({ bank.partialNames(of: $0) }).first(where: names.contains) {
                throw .usage("--partials would write '\(clash)' over the map of the filter of that name; rename the filter")
            }
        }
        var chosen = shard, source: String?
        if chosen == nil {
            do {
                if let detected = try Shard.fromEnvironment(environment) {
                    chosen = detected.shard
                    source = detected.source
                }
            } catch {
                throw .usage("\(error)")
            }
        }
        self.bank = bank
        var settings = settings
        if gallery { settings.thumbnails = true }
        self.settings = settings
        self.inputs = inputs
        self.output = output
        self.shard = chosen
        self.shardSource = source
        self.force = force
        self.statistics = statistics
        self.gallery = gallery
        self.galleryPageSize = galleryPageSize
        self.runFiles = RunFiles(shard: chosen)
    }

    /// How many inputs the run will take (a listing pass over the folders, for progress and ETA).
    /// - Complexity: one walk of the inputs, no file opened.
    public func count() -> Int {
        InputWalk.count(arguments: inputs, exclude: output, shard: shard)
    }

    /// Runs every input of the shard. The inputs are walked lazily (never all held in memory); paths the walk cannot
    /// process come through as failed items with a message, as they go to the manifest. Statistics rows and gallery
    /// sections go to disk as inputs finish, so memory does not grow with the run: stats.csv straight into its
    /// temporary file, the gallery's sections into a hidden spool that the page is put together from at the end.
    /// - Parameter handle: called on this thread for each input as it finishes, and for lines about the run's own
    ///   files.
    public func run(_ handle: (Event) -> Void) -> Outcome {
        var outcome = Outcome()
        let problems = ProblemLog(), passedOver = ProblemLog()
        let shard = self.shard
        let paths = settings.outputPaths(bank: bank)
        let walk = InputWalk(arguments: inputs, exclude: output, paths: paths, onProblem: { problems.add($0) },
                             onPassedOver: { relative in
                                 if shard?.contains(InputItem(path: "", key: "", relative: relative)) ?? true { passedOver.add(relative) }
                             })
        let source: () -> InputItem? = {
            while let item = walk.next() {
                if shard?.contains(item) ?? true { return item }
            }
            return nil
        }
        runFiles.removeStaleTemporaries(in: output)
        let batch = Batch(bank: bank, source: source, settings: settings, outputRoot: output, force: force, manifestName: runFiles.manifest)
        func fileError(_ text: String) {
            outcome.failedWrites += 1
            handle(Event(report: nil, messages: [Message(kind: .error, text: text)]))
        }
        func opened(_ name: String) -> AtomicFile.Writer? {
            do { return try AtomicFile.Writer(path: (output as NSString).appendingPathComponent(name)) } catch {
                fileError("\(error)")
                return nil
            }
        }
        let statsFile = statistics ? opened(runFiles.statistics) : nil
        statsFile?.append("input,filter,min,max,mean,std,zero_fraction\n")
        let gallerySpool = gallery ? opened(runFiles.gallerySpool) : nil
        var galleryInputs = 0, galleryFailed = 0
        // Per gallery page: where its sections start in the spool, its first and last input.
        var pageStarts: [Int] = [], pages: [Gallery.Page] = []
        let runFiles = self.runFiles, pageSize = galleryPageSize, outputFolder = output
        func addToGallery(_ row: Gallery.Row) {
            guard let gallerySpool else { return }
            galleryInputs += 1
            var row = row
            row.number = galleryInputs
            if (galleryInputs - 1) % pageSize == 0 {
                pageStarts.append(gallerySpool.count)
                pages.append(Gallery.Page(file: runFiles.galleryPage(pages.count + 1), first: galleryInputs, last: galleryInputs,
                                          firstTitle: row.title, lastTitle: row.title))
            } else {
                pages[pages.count - 1].last = galleryInputs
                pages[pages.count - 1].lastTitle = row.title
            }
            gallerySpool.append(Gallery.section(row))
        }
        var warnedClipping = false
        let settings = self.settings, bank = self.bank
        batch.run { report in
            var messages: [Message] = []
            defer { handle(Event(report: report, messages: messages)) }
            if report.item.problem?.kind == .repeated {  // a file met again through the same path: processed once
                if let note = report.error { messages.append(Message(kind: .note, text: FileSystem.display(note))) }
                return
            }
            if let error = report.error { messages.append(Message(kind: .error, text: FileSystem.display(error))) }
            guard report.status != .failed else {
                if gallery {
                    galleryFailed += 1
                    addToGallery(Gallery.Row(title: report.item.path, maps: [], error: report.error))
                }
                return
            }
            if statistics {
                for (name, s) in zip(bank.outputNames, report.statistics) {
                    statsFile?.append([Self.csvField(FileSystem.display(report.item.path)), Self.csvField(name), "\(s.minimum)", "\(s.maximum)",
                                       "\(Float(s.mean))", "\(Float(s.standardDeviation))", "\(Float(s.zeroFraction))"].joined(separator: ",") + "\n")
                }
            }
            if gallery {
                let key = report.item.key
                let maps = zip(zip(bank.outputNames, zip(paths.mapFiles(key: key), paths.thumbnailFiles(key: key))), report.statistics).map { named, s in
                    let (name, (file, thumbnail)) = named
                    return Gallery.MapEntry(name: name, file: file, statistics: s, thumbnail: thumbnail,
                                            thumbnailSize: Self.pictureSize(FileSystem.join(outputFolder, thumbnail)))
                }
                var row = Gallery.Row(title: report.item.path, sheet: settings.sheet != nil && paths.sheetLayers == nil ? paths.sheetFile(key: key) : nil, maps: maps)
                if settings.sheet != nil, let layers = paths.sheetLayers {
                    row.layerSheets = layers.map { ($0, paths.sheetFile(key: key, layer: $0)) }
                }
                addToGallery(row)
            }
            // Once per run: 8-bit clamping that clips most of a map hides it.
            if settings.format.maximumLevel == 255, settings.normalization == .clamp, !warnedClipping {
                let clipped = zip(bank.outputNames, report.clippedFractions).filter { $0.1 > 0.5 }
                if !clipped.isEmpty {
                    warnedClipping = true
                    let list = clipped.map { "\($0.0) \(Int(($0.1 * 100).rounded()))%" }.joined(separator: ", ")
                    messages.append(Message(kind: .warning, text: "--normalize clamp clipped most of '\(FileSystem.display(report.item.path))' to 0 or 255 in \(list); --normalize abs, symmetric or minmax shows the whole range"))
                }
            }
        }
        if let gallerySpool {
            // The last page first and `index.html` last, so that the first page never links to a page not yet
            // written; then the pages an earlier, longer run left beyond these.
            if pages.isEmpty { pages = [Gallery.Page(file: runFiles.gallery, first: 0, last: 0, firstTitle: "", lastTitle: "")] }
            pageStarts.append(gallerySpool.count)
            for k in stride(from: pages.count, through: 1, by: -1) {
                guard let page = opened(runFiles.galleryPage(k)) else { continue }
                page.append(Gallery.header(bankName: bank.name, inputs: galleryInputs, failed: galleryFailed, page: k, pages: pages))
                let start = pageStarts.count > k ? pageStarts[k - 1] : 0
                gallerySpool.copy(to: page, start: start, length: pageStarts[min(k, pageStarts.count - 1)] - start)
                page.append(Gallery.footer)
                do { try page.commit() } catch { fileError("\(error)") }
            }
            runFiles.removeGalleryPages(beyond: pages.count, in: outputFolder)
        }
        gallerySpool?.abort()
        do { try statsFile?.commit() } catch { fileError("\(error)") }
        if let problem = batch.manifestProblem { fileError(problem) }
        outcome.unreadable = problems.count
        outcome.passedOver = passedOver.count
        return outcome
    }

    /// The first of `inputs` that is inside the folder `output` (its real path, or for a file argument that is a
    /// link, its folder's), if any.
    static func inputInside(_ output: String, inputs: [String]) -> String? {
        guard let root = FileSystem.canonicalPath(output) else { return nil }
        let prefix = FileSystem.bytes(of: root) + (root == "/" ? [] : [0x2F])
        for input in inputs {
            let real = [FileSystem.canonicalPath(input), FileSystem.canonicalPath(FileSystem.parent(of: input))].compactMap { $0 }
            if real.contains(where: { FileSystem.bytes(of: $0).starts(with: prefix) || $0 == root }) { return input }
        }
        return nil
    }

    /// The width and height of the PNG file at `path` (a thumbnail) from its first 64 bytes, nil when they cannot be
    /// read: the gallery reads no more than that of each thumbnail.
    static func pictureSize(_ path: String) -> Extent2D? {
        let fd = FileSystem.openDescriptor(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 64)
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, $0.count, 0) }
        guard n > 0, let header = ImageCodec.header(of: Array(bytes[0..<n])) else { return nil }
        return header.extent
    }

    /// A CSV field, quoted when it holds a comma, quote or line break (RFC 4180).
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// Problems (or passed-over files) met while walking the inputs, counted (written from the read-ahead thread, read at
/// the end).
final class ProblemLog: @unchecked Sendable {
    private let lock = NSLock()
    private var count_ = 0
    func add(_ line: String) { lock.lock(); count_ += 1; lock.unlock() }
    var count: Int { lock.lock(); defer { lock.unlock() }; return count_ }
}
