import ConvBankEngine
import ConvBankImageIO
import ConvBankPictures
import Foundation

/// How a run processes each input, besides the bank: output format and normalization, threads, limits, contact
/// sheets and partial maps. The defaults are `convbank apply`'s.
public struct ApplySettings: Sendable {
    /// The maps' file format (default 8-bit PNG).
    public var format: OutputFormat = .png
    /// How PNG maps turn values into gray levels (default `clamp`); `npy` maps hold the values themselves.
    public var normalization: Normalization = .clamp
    /// Compression level of PNG outputs: 0 (stored) … 12 (smallest); 1 is convbank's run-length encoder, 2…12 libdeflate's.
    public var pngLevel: Int = MapEncoder.defaultPNGLevel
    /// Images with more pixels are refused from their header (default 2²⁸).
    public var maxPixels: Int = ImageCodec.defaultMaxPixels
    /// Threads for convolution and encoding.
    public var jobs: Int = 1
    /// Which compiled kernels run (all give bit-identical maps).
    public var kernels: KernelLevel = .best
    /// Inputs whose processing would need more bytes than this are refused before they are decoded
    /// (`memoryNeeded`); the batch goes on with the next.
    public var maxMemory: Int = MemoryBudget.defaultBytes
    /// Write a contact sheet `DIR/<key>.sheet.png` per input, in this colour map.
    public var sheet: Colormap?
    /// Also write each filter's per-channel partial maps, `DIR/<key>/<filter>.c<k>.<ext>`.
    public var partials = false
    /// Also write a thumbnail of each map for the gallery (`Thumbnail`): `thumbnailFiles(key:bank:)`. Made from the
    /// maps in memory (whole, or band by band as they stream); they change no map, so they are not part of
    /// `canonicalEncoding`.
    public var thumbnails = false

    /// The file names an input writes inside its own folder: each filter's map, then (with `partials`) each
    /// filter's partial maps.
    public func outputLeaves(bank: FilterBank) -> [String] {
        var names = bank.filters.map(\.name)
        if partials { for f in bank.filters.indices { names += bank.partialNames(of: f) } }
        return names.map { $0 + "." + format.fileExtension }
    }

    /// The files (relative to the output folder) that an input with output key `key` gets from `bank`: its
    /// `outputLeaves`, then its sheet.
    public func outputFiles(key: String, bank: FilterBank) -> [String] {
        outputLeaves(bank: bank).map { key + "/" + $0 } + (sheet != nil ? [ApplySettings.sheetPath(key: key)] : [])
            + thumbnailFiles(key: key, bank: bank)
    }

    /// The thumbnails (with `thumbnails`; else none) of the maps of the input with output key `key`, one per map (not
    /// per partial map), relative to the output folder: the map's path with its extension replaced by `.png`, under
    /// `RunFiles.thumbnailFolder`. Unique as the maps' paths are (all of one extension).
    public func thumbnailFiles(key: String, bank: FilterBank) -> [String] {
        guard thumbnails else { return [] }
        return outputLeaves(bank: bank).prefix(bank.filters.count).map {
            RunFiles.thumbnailFolder + "/" + key + "/" + String($0.dropLast(format.fileExtension.count + 1)) + ".png"
        }
    }

    /// Where the contact sheet of the input with output key `key` goes, relative to the output folder.
    public static func sheetPath(key: String) -> String { key + ".sheet.png" }

    /// The tool's defaults: 8-bit PNG, `clamp`, one thread, no sheet, no partial maps.
    public init() {}
}

extension ApplySettings {
    /// Version of `canonicalEncoding`: bumped only when what decides the outputs changes meaning, never for a
    /// cosmetic change (records of another version are redone once).
    public static let canonicalEncodingVersion = 1

    /// Everything besides an input's bytes that decides its outputs, in one canonical, versioned text: a line per
    /// field, numbers in decimal, every weight and bias as the hex of its 32-bit pattern (so equal banks encode
    /// equally, whatever file form or printer they came from, and any changed weight changes the text). Resume
    /// records hold its SHA-256 (`Batch.fingerprint`). Not in it: `jobs`, `maxPixels`, `maxMemory`, which never
    /// change an output.
    public func canonicalEncoding(bank: FilterBank) -> String {
        func hex(_ v: Float) -> String { String(v.bitPattern, radix: 16) }
        var lines = [
            "convbank-settings \(Self.canonicalEncodingVersion)",
            "bank.name \(bank.name.utf8.map { String($0) }.joined(separator: ","))",
            "bank.stride \(bank.stride.height) \(bank.stride.width)",
            "bank.dilation \(bank.dilation.height) \(bank.dilation.width)",
            "bank.padding \(bank.padding)",
            "bank.padding_mode \(bank.paddingMode.rawValue)",
            "bank.activation \(bank.activation.rawValue)",
            "bank.groups \(bank.groups)",
            "bank.filters \(bank.filters.count)",
        ]
        for filter in bank.filters {
            lines.append("filter \(filter.name.utf8.map { String($0) }.joined(separator: ",")) \(filter.kernel.height) \(filter.kernel.width) \(filter.channels) \(filter.firstChannel) \(hex(filter.bias))")
            lines.append(filter.weights.map(hex).joined(separator: " "))
        }
        lines += ["format \(format.rawValue)", "normalize \(normalization.rawValue)", "png_level \(pngLevel)",
                  "sheet \(sheet?.rawValue ?? "none")", "partials \(partials)"]
        return lines.joined(separator: "\n") + "\n"
    }

    /// The bytes that processing one input with this `header` needs at its peak, worked out before anything is
    /// allocated: the file's bytes, the decoder's samples and the float tensor (twice for an orientation turn), the
    /// tensor adapted to the bank's channels, the convolution plan (`ConvolutionPlan.memoryBytes`: padded planes,
    /// every map, low-rank scratch), the largest filter's partial maps, and each encoder worker's buffers. An
    /// estimate within a few percent, not counting the allocator's own overhead. Saturates at `Int.max`.
    /// - Throws: `ConvolutionError` when the bank cannot run on an image of this size (as `convolve` would).
    public func memoryNeeded(bank: FilterBank, header: ImageCodec.Header, fileBytes: Int) throws(ConvolutionError) -> Int {
        let pixels = Saturating(header.extent.height) * header.extent.width
        var total = Saturating(fileBytes) + pixels * header.rawBytesPerPixel
        // A JPEG or TIFF may be turned upright: a second tensor for a moment.
        total = total + pixels * (header.channels * MemoryLayout<Float>.stride * (header.format == .jpeg || header.format == .tiff ? 2 : 1))
        if header.channels != bank.channels { total = total + pixels * (bank.channels * MemoryLayout<Float>.stride) }
        let plan = try ConvolutionPlan(bank: bank, input: header.extent)
        total = total + plan.memoryBytes
        var largestMap = Saturating(0)
        for filter in plan.filters {
            let area = Saturating(filter.geometry.output.height) * filter.geometry.output.width
            largestMap = Saturating(max(largestMap.value, area.value))
        }
        if partials {
            // The maps stay while each filter's partial maps are made and written.
            total = total + (bank.filters.indices.map { plan.partialMemoryBytes(of: $0) }.max() ?? 0)
        }
        // Encoding: per worker, the levels or float copy of one map and the compressed file (at most a little over it).
        let bytesPerValue = format == .npy ? 2 * MemoryLayout<Float>.stride : 4
        total = total + largestMap * (bytesPerValue * min(max(jobs, 1), bank.filters.count))
        if sheet != nil { total = total + ContactSheet.memoryBytes(input: header.extent, maps: plan.filters.map(\.geometry.output)) }
        if thumbnails {
            // One thumbnail per encoder worker at a time.
            let largest = plan.filters.map { Thumbnail.memoryBytes(map: $0.geometry.output, channels: 1) }.max() ?? 0
            total = total + Saturating(largest) * min(max(jobs, 1), bank.filters.count)
        }
        return total.value
    }

    /// Refuses an input whose `memoryNeeded` is over `maxMemory` (bytes it could not read as an image header are left
    /// to the decoder to report).
    /// - Throws: `InputError` naming the file, the need and the budget.
    /// - Returns: the bytes needed (0 when the header could not be read, or is over the pixel limit that decoding
    ///   enforces with its own message).
    @discardableResult
    public func checkMemory(bank: FilterBank, bytes: [UInt8], path: String) throws(InputError) -> Int {
        guard let header = ImageCodec.header(of: bytes), header.extent.height > 0, header.extent.width > 0,
              (Saturating(header.extent.height) * header.extent.width).value <= maxPixels else { return 0 }
        let needed: Int
        do {
            // A streamed input needs a window of rows, not the image (when its rows stream: see `ImageRowReader`).
            if streamsMaps, let reader = try? ImageRowReader(bytes: bytes, path: path, maxPixels: maxPixels), reader.isStreamable {
                needed = try memoryNeededStreamed(bank: bank, reader: reader, fileBytes: bytes.count)
            } else {
                needed = try memoryNeeded(bank: bank, header: header, fileBytes: bytes.count)
            }
        } catch { throw .convolution(path: path, error) }
        if needed > maxMemory {
            throw .convolution(path: path, .overMemoryBudget(needed: needed, budget: maxMemory, input: header.extent))
        }
        return needed
    }
}

/// What processing one input produced.
public struct ApplyResult: Sendable {
    /// The input.
    public var item: InputItem
    /// Written maps (and partial maps), in filter order; absolute or relative as `outputRoot` was.
    public var outputs: [String]
    /// Input pixels (after orientation).
    public var pixels: Int
    /// Per map, in filter order.
    public var statistics: [MapStatistics]
    /// Seconds spent decoding (when decoded here), convolving, and encoding and writing.
    public var seconds: (decode: Double, convolve: Double, encode: Double) = (0, 0, 0)
    /// Per map, the fraction of values outside 0…255 (what an 8-bit `clamp` cannot show).
    public var clippedFractions: [Double]
}

/// Processes one input: decode, adapt channels, convolve, encode and write every map atomically. On failure
/// no map of this input remains (maps written earlier in this call, or by an earlier run, are removed).
/// - Throws: `ImageCodecError` or `ConvolutionError` (wrapped as `InputError`) naming the file.
/// - Parameters:
///   - bank: the filters, with their stride, dilation, padding and activation.
///   - item: the input: its path and its output key (the folder its maps go in).
///   - outputRoot: the output folder; maps go to `outputRoot/<key>/` as `ApplySettings.outputFiles(key:bank:)` names them.
///   - settings: format, normalization, PNG level, threads, limits, sheet and partials.
///   - predecoded: the input already decoded (by `Batch`'s read-ahead), or nil to decode it here.
public func applyBank(_ bank: FilterBank, to item: InputItem, outputRoot: String, settings: ApplySettings,
                      decoded predecoded: Result<DecodedImage, ImageCodecError>? = nil) throws(InputError) -> ApplyResult {
    let files = settings.outputFiles(key: item.key, bank: bank).map { (outputRoot as NSString).appendingPathComponent($0) }
    let sheetPath = (outputRoot as NSString).appendingPathComponent(ApplySettings.sheetPath(key: item.key))
    do {
        var clock = Stopwatch()
        let decoded: DecodedImage
        if let predecoded {
            decoded = try predecoded.get()
        } else {
            let bytes = try ImageCodec.readFile(item.path, limit: ImageCodec.fileSizeLimit(maxPixels: settings.maxPixels))
            try settings.checkMemory(bank: bank, bytes: bytes, path: item.path)
            decoded = try ImageCodec.decode(bytes: bytes, path: item.path, maxPixels: settings.maxPixels)
        }
        let decodeSeconds = clock.lap()
        let image: Tensor
        do { image = try decoded.tensor.adapted(toChannels: bank.channels) } catch { throw InputError.convolution(path: item.path, error) }
        if settings.streamsMaps {
            // Maps written band by band, never held whole as floats.
            let statistics: [MapStatistics]
            do { statistics = try applyStreamed(bank, image: image, paths: files, settings: settings) } catch {
                if case .convolution(_, let e) = error { throw InputError.convolution(path: item.path, e) }
                throw error
            }
            var result = ApplyResult(item: item, outputs: files, pixels: image.height * image.width, statistics: statistics,
                                     clippedFractions: statistics.map(\.clippedFraction8))
            result.seconds = (decodeSeconds, clock.lap(), 0)
            return result
        }
        let plan: ConvolutionPlan
        do { plan = try ConvolutionPlan(bank: bank, input: image.extent) } catch { throw InputError.convolution(path: item.path, error) }
        let maps = plan.run(image, jobs: settings.jobs, kernels: settings.kernels)
        let convolveSeconds = clock.lap()
        let statistics = ResultSlots<MapStatistics>(count: maps.count)
        parallelFor(maps.count, jobs: settings.jobs) { f in statistics.set(f, MapStatistics(maps[f].storage)) }
        // `files` lists the maps, then the partial maps filter by filter, then the sheet.
        var next = maps.count
        try writeMaps(maps, to: Array(files[0..<next]), settings: settings)
        if settings.partials {
            for f in bank.filters.indices {
                let partialMaps = plan.partialMaps(of: f, in: image, jobs: settings.jobs, kernels: settings.kernels)
                try writeMaps(partialMaps, to: Array(files[next..<(next + partialMaps.count)]), settings: settings)
                next += partialMaps.count
            }
        }
        if let colormap = settings.sheet {
            let picture = ContactSheet.render(title: "\(FileSystem.display(item.path)) - bank \(bank.name)", input: decoded.tensor, inputBitDepth: decoded.bitDepth,
                                              maps: maps, names: bank.filters.map(\.name), colormap: colormap)
            do throws(ImageCodecError) {
                try AtomicFile.write(try picture.pngBytes(), to: sheetPath)
            } catch {
                var e = error
                if e.path.isEmpty { e.path = sheetPath }
                throw InputError.codec(e)
            }
        }
        if settings.thumbnails {
            let thumbnailPaths = settings.thumbnailFiles(key: item.key, bank: bank).map { (outputRoot as NSString).appendingPathComponent($0) }
            try writeThumbnails(maps, to: thumbnailPaths, settings: settings)
        }
        let mapStatistics = statistics.values.compactMap { $0 }
        var result = ApplyResult(item: item, outputs: Array(files[0..<next]), pixels: image.height * image.width,
                                 statistics: mapStatistics, clippedFractions: mapStatistics.map(\.clippedFraction8))
        result.seconds = (decodeSeconds, convolveSeconds, clock.lap())
        return result
    } catch {
        // A stale sheet of an earlier run goes too, whether or not this run draws sheets.
        for path in files + [sheetPath] { FileSystem.removeFile(path) }
        switch error {
        case let e as InputError: throw e
        case let e as ImageCodecError: throw InputError.codec(e)
        default: throw InputError.codec(ImageCodecError(.unreadable, path: item.path, detail: "\(error)"))
        }
    }
}

/// Encodes `maps[k]` and writes it atomically to `paths[k]`, on the settings' workers.
/// - Throws: the first failure, naming its file.
private func writeMaps(_ maps: [Tensor], to paths: [String], settings: ApplySettings) throws(InputError) {
    let failures = ResultSlots<ImageCodecError>(count: maps.count)
    parallelFor(maps.count, jobs: settings.jobs) { k in
        do throws(ImageCodecError) {
            let bytes = try MapEncoder.encode(maps[k], format: settings.format, normalization: settings.normalization, pngLevel: settings.pngLevel)
            try AtomicFile.write(bytes, to: paths[k])
        } catch {
            var e = error
            if e.path.isEmpty { e.path = paths[k] }
            failures.set(k, e)
        }
    }
    if let first = failures.values.compactMap({ $0 }).first { throw .codec(first) }
}

/// Writes the thumbnail of `maps[k]` (`Thumbnail`) atomically to `paths[k]`, on the settings' workers.
/// - Throws: the first failure, naming its file.
private func writeThumbnails(_ maps: [Tensor], to paths: [String], settings: ApplySettings) throws(InputError) {
    let failures = ResultSlots<ImageCodecError>(count: maps.count)
    parallelFor(maps.count, jobs: settings.jobs) { k in
        do throws(ImageCodecError) { try AtomicFile.write(try Thumbnail.pngBytes(of: maps[k]), to: paths[k]) } catch {
            var e = error
            if e.path.isEmpty { e.path = paths[k] }
            failures.set(k, e)
        }
    }
    if let first = failures.values.compactMap({ $0 }).first { throw .codec(first) }
}

/// Why one input failed.
public enum InputError: Error, Sendable, CustomStringConvertible {
    /// The file could not be read or decoded, or an output could not be written.
    case codec(ImageCodecError)
    /// The bank cannot run on the image at `path` (channels, geometry, or over the memory budget).
    case convolution(path: String, ConvolutionError)

    /// The codec error's own message, or `cannot filter 'PATH': REASON`.
    public var description: String {
        switch self {
        case .codec(let e): e.description
        case let .convolution(path, e): "cannot filter '\(path)': \(e)"
        }
    }
}

/// One slot per parallel iteration. Invariant: iteration `i` writes only slot `i`; `values` is read only
/// after the loop.
final class ResultSlots<Value: Sendable>: @unchecked Sendable {
    private let slots: UnsafeMutableBufferPointer<Value?>
    init(count: Int) {
        slots = .allocate(capacity: count)
        slots.initialize(repeating: nil)
    }
    deinit {
        _ = slots.deinitialize()
        slots.deallocate()
    }
    func set(_ i: Int, _ value: Value) { slots[i] = value }
    var values: [Value?] { Array(slots) }
}

/// Wall-clock laps.
struct Stopwatch {
    private var last = DispatchTime.now().uptimeNanoseconds
    /// Seconds since the previous lap (or the start).
    mutating func lap() -> Double {
        let now = DispatchTime.now().uptimeNanoseconds
        defer { last = now }
        return Double(now - last) / 1e9
    }
}
