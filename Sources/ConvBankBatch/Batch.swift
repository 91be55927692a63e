import ConvBankEngine
import ConvBankImageIO
import ConvBankPictures
import Foundation

/// What a finished input left behind, written atomically as `DIR/<key>/.convbank-record.json` after all its
/// files: a later run with the same input bytes and settings skips the input while every listed file exists.
public struct RunRecord: Codable, Sendable, Equatable {
    /// The input's path as the run was given it.
    public var input: String
    /// SHA-256 of the input file's bytes.
    public var inputSHA256: String
    /// SHA-256 of the bank and output settings (`Batch.fingerprint`).
    public var settingsSHA256: String
    /// Files written, relative to the output folder.
    public var outputs: [String]
    /// The input's pixel count (after orientation).
    public var pixels: Int
    /// Per map: min, max, mean, std, zero fraction, clipped fraction.
    public var statistics: [[Double]]

    enum CodingKeys: String, CodingKey {
        case input, inputSHA256 = "input_sha256", settingsSHA256 = "settings_sha256", outputs, pixels, statistics
    }

    /// The record's path for an input with output key `key`, relative to the output folder.
    public static func path(key: String) -> String { key + "/.convbank-record.json" }

    var mapStatistics: [MapStatistics] {
        statistics.map { s in
            MapStatistics(minimum: Float(s[0]), maximum: Float(s[1]), mean: s[2], standardDeviation: s[3],
                          zeroFraction: s[4], clippedFraction8: s.count > 5 ? s[5] : 0)
        }
    }
}

/// How one input of a batch ended.
public struct ItemReport: Sendable {
    /// How an input ended; the raw value is the manifest's `status`.
    public enum Status: String, Sendable {
        /// Processed: every file written, then the resume record.
        case ok
        /// Done by an earlier run with the same bytes and settings (its files all there), or a repeat of an input
        /// the walk met already.
        case skipped
        /// Not processed: `error` says why; none of its files remain.
        case failed
    }

    /// The input (or the path the walk reported).
    public var item: InputItem
    /// How it ended.
    public var status: Status
    /// Files written (or found, when skipped), relative to the output folder.
    public var outputs: [String]
    /// Why it failed (or was skipped as a repeat); nil otherwise.
    public var error: String?
    /// Per map, in filter order (from the record, when skipped).
    public var statistics: [MapStatistics]
    /// Per map, the fraction of values outside 0…255 (what an 8-bit `clamp` cannot show).
    public var clippedFractions: [Double]
    /// The input's pixel count (after orientation); 0 when it failed.
    public var pixels: Int
    /// SHA-256 of the input's bytes, as lowercase hex; nil when it failed before decoding (unreadable, over the
    /// memory budget) or is a path the walk reported.
    public var inputSHA256: String?
    /// Seconds: reading and hashing, decoding, convolving, encoding and writing.
    public var seconds: (read: Double, decode: Double, convolve: Double, encode: Double)
}

/// A batch of inputs through one bank: skips inputs already done with the same bytes and settings (unless
/// `force`), reads and decodes one input ahead on a background thread, writes each input's record after its
/// files, and appends one line per input to the manifest.
public final class Batch: @unchecked Sendable {
    /// The filters every input goes through.
    public let bank: FilterBank
    /// Gives the inputs one at a time (called on one background thread, in order); nil ends the batch.
    private let source: () -> InputItem?
    /// Output format, normalization, threads and limits.
    public let settings: ApplySettings
    /// The output folder: input `key`'s files go to `outputRoot/<key>/`.
    public let outputRoot: String
    /// Whether every input is redone, even one an earlier run finished with the same bytes and settings.
    public let force: Bool
    /// The manifest's path (appended to; one JSON object per line).
    public let manifestPath: String
    /// SHA-256 of everything besides the input bytes that decides the outputs.
    public let fingerprint: String
    /// Set when the manifest could not be opened or written (the run itself goes on).
    public private(set) var manifestProblem: String?

    /// A batch over a fixed list of inputs, `items`, in order; the other parameters are as for
    /// `init(bank:source:settings:outputRoot:force:manifestName:)`.
    public convenience init(bank: FilterBank, items: [InputItem], settings: ApplySettings, outputRoot: String, force: Bool, manifestName: String) {
        let list = ItemList(items)
        self.init(bank: bank, source: list.next, settings: settings, outputRoot: outputRoot, force: force, manifestName: manifestName)
    }

    /// A batch over inputs produced on demand (an `InputWalk`), so the list of inputs is never held in memory.
    /// - Parameters:
    ///   - bank: The filters.
    ///   - source: Gives the next input, or nil at the end; called in order on one background thread (the read-ahead).
    ///   - settings: Output format, normalization, threads and limits.
    ///   - outputRoot: The output folder; create it first, or the manifest cannot be written (`manifestProblem`).
    ///   - force: Redo every input, even one already done with the same bytes and settings.
    ///   - manifestName: The manifest's file name inside `outputRoot` (`RunFiles.manifest`).
    public init(bank: FilterBank, source: @escaping () -> InputItem?, settings: ApplySettings, outputRoot: String, force: Bool,
                manifestName: String) {
        self.bank = bank
        self.source = source
        self.settings = settings
        self.outputRoot = outputRoot
        self.force = force
        self.manifestPath = (outputRoot as NSString).appendingPathComponent(manifestName)
        self.paths = settings.outputPaths(bank: bank)
        fingerprint = SHA256.hex(Array(settings.canonicalEncoding(bank: bank).utf8))
    }

    /// An input read, hashed and, unless it can be skipped, checked against the memory budget and decoded.
    enum Prepared {
        case skip(RunRecord, sha: String)
        case decoded(Result<DecodedImage, ImageCodecError>, sha: String)
        /// Not decoded ahead: that and the input before it together would be over the memory budget.
        case deferred([UInt8], sha: String)
        case unreadable(ImageCodecError)
        case refused(InputError)
        /// A path the walk reports instead of an input (`InputItem.problem`): nothing read, nothing written.
        case reported(InputProblem)
    }

    /// The memory the input prepared last needs (read and written only on the read-ahead queue).
    private var previousNeed = 0
    /// Where each input's files go (`settings.outputPaths(bank:)`).
    private let paths: OutputPaths
    /// Output folders listed for stale temporaries (hashes of their paths), and the temporary names found in those
    /// that had any, not yet removed (used on the calling thread only).
    private var listedFolders = Set<UInt64>()
    private var temporaries: [String: [String]] = [:]

    private func path(_ relative: String) -> String { (outputRoot as NSString).appendingPathComponent(relative) }

    func prepare(_ item: InputItem) -> (Prepared, read: Double, decode: Double) {
        if let problem = item.problem { return (.reported(problem), 0, 0) }
        var clock = Stopwatch()
        let bytes: [UInt8]
        do { bytes = try ImageCodec.readFile(item.path, limit: ImageCodec.fileSizeLimit(maxPixels: settings.maxPixels)) } catch {
            return (.unreadable(error), clock.lap(), 0)
        }
        let sha = SHA256.hex(bytes)
        if !force, let record = existingRecord(item), record.inputSHA256 == sha {
            return (.skip(record, sha: sha), clock.lap(), 0)
        }
        let read = clock.lap()
        let need: Int
        do { need = try settings.checkMemory(bank: bank, bytes: bytes, path: item.path) } catch {
            previousNeed = 0
            return (.refused(error), read, 0)
        }
        // While this input is decoded ahead, the one before it is being filtered: both must fit the budget together.
        defer { previousNeed = need }
        if need > 0, (Saturating(need) + previousNeed).value > settings.maxMemory { return (.deferred(bytes, sha: sha), read, 0) }
        // A streamed input is decoded band by band as it is filtered (the next band on another thread): nothing ahead.
        if settings.streamsMaps(bank: bank) { return (.deferred(bytes, sha: sha), read, 0) }
        let decoded = decode(bytes, of: item)
        return (.decoded(decoded, sha: sha), read, clock.lap())
    }

    /// Decodes an input's bytes under the settings' pixel limit (ahead on the read-ahead queue, or deferred to the
    /// run when both would not fit the memory budget).
    private func decode(_ bytes: [UInt8], of item: InputItem) -> Result<DecodedImage, ImageCodecError> {
        Result { () throws(ImageCodecError) in try ImageCodec.decode(bytes: bytes, path: item.path, maxPixels: settings.maxPixels) }
    }

    /// The record of an earlier run whose settings match and that lists every file this run writes (a run with
    /// thumbnails after one without redoes the input; the reverse skips it), all of them present.
    func existingRecord(_ item: InputItem) -> RunRecord? {
        guard let bytes = try? ImageCodec.readFile(path(paths.recordFile(key: item.key)), limit: 1 << 26),
              let record = try? JSONDecoder().decode(RunRecord.self, from: Data(bytes)),
              record.settingsSHA256 == fingerprint
        else { return nil }
        let needed = paths.files(key: item.key)
        guard Set(needed).isSubset(of: record.outputs) else { return nil }
        for output in needed {
            guard let info = FileSystem.info(path(output)), info.st_size > 0 else { return nil }
        }
        return record
    }

    /// Runs every input in order; `report` is called after each one (on the calling thread), with the status, the
    /// files, the statistics and the time spent. A failed input costs its report; the batch goes on.
    public func run(report: (ItemReport) -> Void) {
        let manifest = FileSystem.openDescriptor(manifestPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        defer { if manifest >= 0 { close(manifest) } }
        if manifest < 0 { manifestProblem = "cannot open the manifest '\(manifestPath)': \(String(cString: strerror(errno)))" }
        let ahead = ReadAhead { [self] _ in source().map { item in (item, prepare(item)) } }
        var index = 0
        while let (item, preparation) = ahead.take(index) {
            index += 1
            let (prepared, readSeconds, decodeSeconds) = preparation
            if item.problem == nil { removeStaleTemporaries(of: item) }
            var itemReport = ItemReport(item: item, status: .failed, outputs: [], error: nil, statistics: [], clippedFractions: [],
                                        pixels: 0, inputSHA256: nil, seconds: (readSeconds, decodeSeconds, 0, 0))
            switch prepared {
            case .unreadable(let error):
                itemReport.error = error.description
                removeOutputs(item)
            case .refused(let error):
                itemReport.error = error.description
                removeOutputs(item)
            case .reported(let problem):
                itemReport.status = problem.kind == .failed ? .failed : .skipped
                itemReport.error = problem.message
            case .skip(let record, let sha):
                itemReport.status = .skipped
                itemReport.outputs = record.outputs
                itemReport.statistics = record.mapStatistics
                itemReport.clippedFractions = record.mapStatistics.map(\.clippedFraction8)
                itemReport.pixels = record.pixels
                itemReport.inputSHA256 = sha
            case .decoded(let decoded, let sha):
                process(item, decoded: decoded, sha: sha, into: &itemReport)
            case .deferred(let bytes, let sha):
                process(item, bytes: bytes, sha: sha, into: &itemReport)
            }
            if manifest >= 0 { appendManifestLine(manifest, itemReport) }
            report(itemReport)
        }
    }

    /// Filters a decoded input, or one given by its bytes (decoded there, whole or band by band), and writes its
    /// record; fills in `report`.
    private func process(_ item: InputItem, decoded: Result<DecodedImage, ImageCodecError>? = nil, bytes: [UInt8] = [], sha: String,
                         into itemReport: inout ItemReport) {
        itemReport.inputSHA256 = sha
        FileSystem.removeFile(path(paths.recordFile(key: item.key)))  // the old record no longer vouches for anything
        do {
            let result = if let decoded {
                try applyBank(bank, to: item, outputRoot: outputRoot, settings: settings, decoded: decoded)
            } else {
                try applyBank(bank, to: item, outputRoot: outputRoot, settings: settings, bytes: bytes)
            }
            let outputs = paths.files(key: item.key)
            let record = RunRecord(input: item.path, inputSHA256: sha, settingsSHA256: fingerprint, outputs: outputs, pixels: result.pixels,
                                   statistics: result.statistics.map { [Double($0.minimum), Double($0.maximum), $0.mean, $0.standardDeviation, $0.zeroFraction, $0.clippedFraction8] })
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try? AtomicFile.write([UInt8](try encoder.encode(record)), to: path(paths.recordFile(key: item.key)))
            itemReport.status = .ok
            itemReport.outputs = outputs
            itemReport.statistics = result.statistics
            itemReport.clippedFractions = result.clippedFractions
            itemReport.pixels = result.pixels
            itemReport.seconds.convolve = result.seconds.convolve
            itemReport.seconds.encode = result.seconds.encode
        } catch {
            itemReport.error = error.description
        }
    }

    /// Deletes temporary files (`.NAME.tmp-PID-NUMBER`, see `AtomicFile`) that a killed run left for this input's
    /// own files (its maps, partials, sheet and record) and nothing else, so shards running at once into one
    /// output folder cannot remove each other's files in flight; a temporary file of a process still alive on
    /// this machine is kept.
    private func removeStaleTemporaries(of item: InputItem) {
        // Only temporary names of this input's own files: `.NAME.tmp-…` for each file it writes.
        let own = paths.files(key: item.key) + [paths.recordFile(key: item.key)]
        var folders: [String: Set<String>] = [:]
        for file in own { folders[FileSystem.parent(of: path(file)), default: []].insert(FileSystem.lastComponent(of: file)) }
        for (folder, names) in folders {
            // Each folder is listed once per run and only its temporary names are kept (a flat layout puts many
            // inputs' files in one folder: listing it for each of them would cost the square of its size).
            let id = fnv1a64(FileSystem.bytes(of: folder))
            if listedFolders.insert(id).inserted {
                let found = AtomicFile.temporaryNames(in: folder)
                if !found.isEmpty { temporaries[folder] = found }
            }
            guard let found = temporaries[folder] else { continue }
            let removed = AtomicFile.removeStaleTemporaries(of: names, in: folder, among: found)
            let left = found.filter { !removed.contains($0) }
            temporaries[folder] = left.isEmpty ? nil : left
        }
    }

    private func removeOutputs(_ item: InputItem) {
        FileSystem.removeFile(path(paths.recordFile(key: item.key)))
        for file in paths.files(key: item.key) { FileSystem.removeFile(path(file)) }
    }

    /// One JSON object per line. Paths and messages as `FileSystem.display` shows them (a byte that is not UTF-8 as
    /// `\xHH`), so every line is valid UTF-8 JSON; `key` is null for a path the walk reported (no output folder).
    private func appendManifestLine(_ fd: Int32, _ r: ItemReport) {
        var object: [String: Any] = [
            "input": FileSystem.display(r.item.path), "key": r.item.problem == nil ? FileSystem.display(r.item.key) : NSNull(),
            "status": r.status.rawValue, "outputs": r.outputs.map(FileSystem.display),
            "megapixels": Double(r.pixels) / 1e6,
            "seconds": ["read": r.seconds.read, "decode": r.seconds.decode, "convolve": r.seconds.convolve, "encode": r.seconds.encode],
        ]
        object["error"] = r.error.map(FileSystem.display) ?? NSNull()
        object["input_sha256"] = r.inputSHA256 ?? NSNull()
        guard var line = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        line.append(0x0A)
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }  // one write: lines never interleave
        if written != line.count, manifestProblem == nil {
            manifestProblem = "cannot write the manifest '\(manifestPath)': \(written < 0 ? String(cString: strerror(errno)) : "short write")"
        }
    }
}

/// Runs `work(i)` for the next index on a background thread while the caller handles the current one, so the
/// single-threaded read and decode overlap the parallel stages. At most one result is held ahead; `work` runs on
/// one serial queue in index order and returns nil past the end.
final class ReadAhead<Value>: @unchecked Sendable {
    private let work: (Int) -> Value?
    private let queue = DispatchQueue(label: "convbank.read-ahead")
    private let lock = NSLock()
    private var groups: [Int: DispatchGroup] = [:]
    private var results: [Int: Value?] = [:]

    init(work: @escaping (Int) -> Value?) {
        self.work = work
    }

    private func start(_ index: Int) {
        lock.lock()
        defer { lock.unlock() }
        guard groups[index] == nil else { return }
        let group = DispatchGroup()
        groups[index] = group
        queue.async(group: group) {
            let value = self.work(index)
            self.lock.lock()
            self.results[index] = .some(value)
            self.lock.unlock()
        }
    }

    /// Result `index` (waiting if needed), nil past the end; starts `index + 1`.
    func take(_ index: Int) -> Value? {
        start(index)
        lock.lock()
        let group = groups[index]!
        lock.unlock()
        group.wait()
        lock.lock()
        let value = results.removeValue(forKey: index)!
        groups[index] = nil
        lock.unlock()
        if value != nil { start(index + 1) }
        return value
    }
}

/// A fixed list handed out one item at a time. Invariant: only the read-ahead queue calls `next`.
final class ItemList: @unchecked Sendable {
    private var iterator: IndexingIterator<[InputItem]>
    init(_ items: [InputItem]) { iterator = items.makeIterator() }
    func next() -> InputItem? { iterator.next() }
}
