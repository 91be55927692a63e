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
    /// Quality of `jpeg` (1…100; nil: `ImageCodec.defaultJPEGQuality`, 90) and `webp` outputs (1…100, lossy; nil:
    /// lossless). Other formats take none: `convbank apply` refuses `--quality` with them.
    public var quality: Int?
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
    /// Also write a thumbnail of each map for the gallery (`Thumbnail`): `OutputPaths.thumbnailFiles(key:)`. Made
    /// from the maps in memory (whole, or band by band as they stream); they change no map, so they are not part of
    /// `canonicalEncoding`.
    public var thumbnails = false
    /// How each input's files are placed under the output folder (`OutputPaths` has the rule; default `tree`).
    public var layout: OutputLayout = .tree
    /// Run every filter of a one-channel bank on each colour channel of the image on its own (Keras
    /// `DepthwiseConv2D`, depth multiplier 1) instead of on the image adapted to one channel: each filter then gives
    /// one result with the image's colour channels (gray stays gray, RGB and palette give RGB, alpha is dropped),
    /// written as an RGB (or gray) image, or `npy` of shape `(H, W, C)`. The bank must read one channel
    /// (`FilterBank.isOneChannel`); no partial maps (there is no channel sum). See `colourChannels(of:)`.
    public var perChannel = false
    /// Run this network instead of convolving with the bank (which is then the selection's `standInBank`, naming
    /// the maps); nil for a bank run.
    public var network: NetworkSelection?
    /// Overrides the bank's own preprocessing (`FilterBank.preprocess`; `apply --preprocess`); nil keeps it. A
    /// network's preprocessing is set in the network itself.
    public var preprocess: Preprocess?

    /// The preprocessing applied to the image before `bank` sees it: `preprocess`, else the bank's own.
    public func preprocessing(for bank: FilterBank) -> Preprocess { preprocess ?? bank.preprocess }

    /// The file names of an input's maps (the bank's `outputNames`), then (with `partials`) each filter's partial
    /// maps, `<name>.<ext>`: what a `tree` layout writes inside the input's folder.
    public func outputLeaves(bank: FilterBank) -> [String] {
        var names = bank.outputNames
        if partials { for f in bank.filters.indices { names += bank.partialNames(of: f) } }
        return names.map { $0 + "." + format.fileExtension }
    }

    /// The files (relative to the output folder) that an input with output key `key` gets from `bank`: its maps, its
    /// partial maps, then its sheet, placed by `layout` (`outputPaths(bank:)`).
    public func outputFiles(key: String, bank: FilterBank) -> [String] {
        outputPaths(bank: bank).files(key: key)
    }

    /// Where the contact sheet of the input with output key `key` goes, relative to the output folder (either layout).
    public static func sheetPath(key: String) -> String { key + OutputPaths.sheetSuffix }

    /// Whether inputs of `bank` run as a stream (`streamsMaps`): not when the bank combines its maps
    /// (`FilterBank.combinations`), which is done on whole maps.
    public func streamsMaps(bank: FilterBank) -> Bool {
        streamsMaps && bank.combinations.isEmpty && network == nil && preprocessing(for: bank) == .none
    }

    /// The tool's defaults: 8-bit PNG, `clamp`, one thread, no sheet, no partial maps, not per channel.
    public init() {}

    /// The channels a per-channel run filters for an image of `channels` channels: its colour channels, alpha
    /// dropped (gray+alpha → 1, RGBA → 3; gray 1 and RGB 3 as they are).
    public static func colourChannels(of channels: Int) -> Int { channels == 2 || channels == 4 ? channels - 1 : channels }

    /// The bank that runs on an image of `channels` channels: `bank` itself, or with `perChannel` its depthwise form
    /// on the image's colour channels (`FilterBank.perChannel(channels:)`).
    /// - Throws: `ConvolutionError.notOneChannel` when `perChannel` is set and the bank reads several channels.
    public func runBank(_ bank: FilterBank, imageChannels channels: Int) throws(ConvolutionError) -> FilterBank {
        perChannel ? try bank.perChannel(channels: Self.colourChannels(of: channels)) : bank
    }
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
        // Only for the formats it applies to, so that records of other formats keep their fingerprints; the default
        // is spelled as what it means (JPEG 90 equals --quality 90).
        switch format {
        case .jpeg: lines.append("quality \(quality ?? ImageCodec.defaultJPEGQuality)")
        case .webp: lines.append("quality \(quality.map(String.init) ?? "lossless")")
        default: break
        }
        // Only when used, so that the records of runs without them keep their fingerprints.
        for c in bank.combinations {
            lines.append("combine \(c.name.utf8.map { String($0) }.joined(separator: ",")) \(c.operation.rawValue) \(c.x) \(c.y)")
        }
        if layout != .tree { lines.append("layout \(layout.rawValue)") }
        // Only when set, so that the records of runs without it keep their fingerprints.
        if perChannel { lines.append("per_channel true") }
        if network == nil, preprocessing(for: bank) != .none { lines.append("preprocess \(preprocessing(for: bank).canonicalText)") }
        if let network { lines += network.canonicalLines }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The bytes that processing one input with this `header` needs at its peak, worked out before anything is
    /// allocated: the file's bytes, the decoder's samples and the float tensor (twice for an orientation turn), the
    /// tensor adapted to the bank's channels, the convolution plan (`ConvolutionPlan.memoryBytes`: padded planes,
    /// every map, low-rank scratch), the largest filter's partial maps, and each encoder worker's buffers. With
    /// `perChannel` the plan is the depthwise bank's (a map per filter and colour channel) and each encoder also holds
    /// a map's samples interleaved. An estimate within a few percent, not counting the allocator's own overhead.
    /// Saturates at `Int.max`.
    /// - Throws: `ConvolutionError` when the bank cannot run on an image of this size (as `convolve` would).
    public func memoryNeeded(bank: FilterBank, header: ImageCodec.Header, fileBytes: Int) throws(ConvolutionError) -> Int {
        let pixels = Saturating(header.extent.height) * header.extent.width
        var total = Saturating(fileBytes) + pixels * header.rawBytesPerPixel
        // A JPEG or TIFF may be turned upright: a second tensor for a moment.
        total = total + pixels * (header.channels * MemoryLayout<Float>.stride * (header.format == .jpeg || header.format == .tiff ? 2 : 1))
        let runBank = try runBank(bank, imageChannels: header.channels)
        if header.channels != runBank.channels { total = total + pixels * (runBank.channels * MemoryLayout<Float>.stride) }
        if let network {
            // Every layer's output counted (`NetworkSelection.memoryBytes`), then each encoder worker's buffers and
            // the sheet; a layer that does not fit is reported when the network runs.
            guard let bytes = try? network.memoryBytes(input: header.extent) else { return total.value }
            total = total + bytes
            let extents = network.mapExtents(input: header.extent) ?? []
            let largest = extents.map { $0.height * $0.width }.max() ?? 0
            total = total + Saturating(MapEncoder.peakBytes(format: format, values: largest, channels: 1)) * min(max(jobs, 1), bank.filters.count)
            if sheet != nil {
                // One sheet at a time: the largest of the layers' sheets (or the one sheet).
                var start = 0, largestSheet = 0
                for group in network.sheetGroups {
                    let shown = Array(extents[start..<min(start + min(group.count, NetworkSelection.maxSheetMaps), extents.count)])
                    largestSheet = max(largestSheet, ContactSheet.memoryBytes(input: header.extent, maps: shown,
                                                                              cellSize: NetworkSelection.sheetCellSize(maps: group.count)))
                    start += group.count
                }
                total = total + largestSheet
            }
            return total.value
        }
        if preprocessing(for: bank) != .none { total = total + pixels * (runBank.channels * MemoryLayout<Float>.stride) }
        let plan = try ConvolutionPlan(bank: runBank, input: header.extent)
        total = total + plan.memoryBytes(jobs: jobs)
        // A per-channel result holds all its channels' maps at once.
        let mapChannels = perChannel ? runBank.groups : 1
        var largestMap = Saturating(0)
        for filter in plan.filters {
            let area = Saturating(filter.geometry.output.height) * filter.geometry.output.width * mapChannels
            largestMap = Saturating(max(largestMap.value, area.value))
        }
        if partials {
            // The maps stay while each filter's partial maps are made and written.
            total = total + (bank.filters.indices.map { plan.partialMemoryBytes(of: $0) }.max() ?? 0)
        }
        // Encoding: per worker, what the encoder holds for one map (`MapEncoder.peakBytes`: levels or a float copy, the
        // encoder's own buffers and the file).
        total = total + Saturating(MapEncoder.peakBytes(format: format, values: largestMap.value, channels: mapChannels))
            * min(max(jobs, 1), bank.filters.count)
        // Colour: the interleaved copy too (floats for npy; levels, and for png16 the levels' Int array, otherwise).
        if mapChannels > 1 {
            total = total + largestMap * ((format == .npy ? 4 : (format == .png16 ? 10 : 1)) * min(max(jobs, 1), bank.filters.count))
        }
        // Combined maps (edge strength) are made from the whole maps, one map each.
        for c in bank.combinations {
            let g = plan.filters[c.x].geometry.output
            total = total + Saturating(g.height) * (g.width * MemoryLayout<Float>.stride * mapChannels)
        }
        if sheet != nil {
            total = total + ContactSheet.memoryBytes(input: header.extent, maps: plan.filters.map(\.geometry.output)) * mapChannels
        }
        if thumbnails {
            // One thumbnail per encoder worker at a time (a colour result's three planes together).
            let largest = plan.filters.map { Thumbnail.memoryBytes(map: $0.geometry.output, channels: mapChannels) }.max() ?? 0
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
            if streamsMaps(bank: bank), let reader = try? ImageRowReader(bytes: bytes, path: path, maxPixels: maxPixels), reader.isStreamable {
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

extension ApplySettings {
    /// One contact sheet of an input: its title, maps, their names, its cell size, and where it goes.
    struct SheetPlan {
        var title: String
        var maps: [Tensor]
        var names: [String]
        var cellSize: Int
        /// Its file relative to the output folder, from the run's paths and the input's key.
        var file: (OutputPaths, String) -> String
    }

    /// The contact sheets of one input whose written maps are `maps` (in `bank.outputNames` order): for a bank, or a
    /// network without `--layers`, one sheet of every map; for a network's `--layers`, one sheet per written layer
    /// of that layer's maps (the first `NetworkSelection.maxSheetMaps`, said in the title), named by map, cells
    /// shrinking as maps get many (`NetworkSelection.sheetCellSize(maps:)`).
    func sheets(bank: FilterBank, maps: [Tensor], inputPath: String) -> [SheetPlan] {
        let path = FileSystem.display(inputPath)
        guard let network else {
            return [SheetPlan(title: "\(path) - bank \(bank.name)", maps: maps, names: bank.outputNames, cellSize: 256,
                              file: { paths, key in paths.sheetFile(key: key) })]
        }
        var plans: [SheetPlan] = []
        var start = 0
        for group in network.sheetGroups {
            let layer = network.network.layers[group.layer]
            let names = layer.mapNames(input: network.network.channelCounts[group.layer])
            let shown = min(group.count, NetworkSelection.maxSheetMaps)
            let what = shown < group.count ? "the first \(shown) of \(group.count) maps" : "\(group.count) map\(group.count == 1 ? "" : "s")"
            let title = "\(path) - network \(network.network.name), layer '\(layer.name)' (\(layer.typeName)): \(what)"
            let layerName = layer.name, perLayer = network.layers != nil
            plans.append(SheetPlan(title: title, maps: Array(maps[start..<(start + shown)]), names: Array(names[0..<shown]),
                                   cellSize: NetworkSelection.sheetCellSize(maps: group.count),
                                   file: { paths, key in perLayer ? paths.sheetFile(key: key, layer: layerName) : paths.sheetFile(key: key) }))
            start += group.count
        }
        return plans
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
    let paths = settings.outputPaths(bank: bank)
    let files = paths.files(key: item.key).map { (outputRoot as NSString).appendingPathComponent($0) }
    let sheetPath = (outputRoot as NSString).appendingPathComponent(paths.sheetFile(key: item.key))
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
        let image: Tensor, runBank: FilterBank
        do {
            // Per channel: the colour channels as they are (alpha dropped), every filter on each.
            runBank = try settings.runBank(bank, imageChannels: decoded.tensor.channels)
            image = try decoded.tensor.adapted(toChannels: runBank.channels)
        } catch { throw InputError.convolution(path: item.path, error) }
        if settings.streamsMaps(bank: bank) {
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
        let maps: [Tensor]
        var plan: ConvolutionPlan?
        var input = image
        if let network = settings.network {
            do { maps = try network.maps(of: image, jobs: settings.jobs, kernels: settings.kernels) } catch {
                throw InputError.network(path: item.path, error)
            }
        } else {
            // Preprocessing (`caffe`, `tf`, …) on the image adapted to the bank, before any padding.
            input = settings.preprocessing(for: bank).apply(to: image)
            let made: ConvolutionPlan
            do { made = try ConvolutionPlan(bank: runBank, input: input.extent) } catch { throw InputError.convolution(path: item.path, error) }
            plan = made
            maps = bank.outputMaps(settings.perChannel ? made.runPerChannel(input, jobs: settings.jobs, kernels: settings.kernels)
                : made.run(input, jobs: settings.jobs, kernels: settings.kernels))
        }
        let convolveSeconds = clock.lap()
        let statistics = ResultSlots<MapStatistics>(count: maps.count)
        parallelFor(maps.count, jobs: settings.jobs) { f in statistics.set(f, MapStatistics(maps[f].storage)) }
        // `files` lists the maps, then the partial maps filter by filter, then the sheet.
        var next = maps.count
        try writeMaps(maps, to: Array(files[0..<next]), settings: settings)
        if settings.partials && !settings.perChannel, let plan {  // ApplyRun refuses partials with perChannel or a network
            for f in bank.filters.indices {
                let partialMaps = plan.partialMaps(of: f, in: input, jobs: settings.jobs, kernels: settings.kernels)
                try writeMaps(partialMaps, to: Array(files[next..<(next + partialMaps.count)]), settings: settings)
                next += partialMaps.count
            }
        }
        if let colormap = settings.sheet {
            for sheet in settings.sheets(bank: bank, maps: maps, inputPath: item.path) {
                let path = (outputRoot as NSString).appendingPathComponent(sheet.file(paths, item.key))
                let picture = ContactSheet.render(title: sheet.title, input: decoded.tensor, inputBitDepth: decoded.bitDepth,
                                                  maps: sheet.maps, names: sheet.names, colormap: colormap, cellSize: sheet.cellSize)
                do throws(ImageCodecError) {
                    try AtomicFile.write(try picture.pngBytes(), to: path)
                } catch {
                    var e = error
                    if e.path.isEmpty { e.path = path }
                    throw InputError.codec(e)
                }
            }
        }
        if settings.thumbnails {
            let thumbnailPaths = paths.thumbnailFiles(key: item.key).map { (outputRoot as NSString).appendingPathComponent($0) }
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
            let bytes = try MapEncoder.encode(maps[k], format: settings.format, normalization: settings.normalization, pngLevel: settings.pngLevel,
                                              quality: settings.quality, perChannel: settings.perChannel)
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
    /// A layer of the network cannot run on the image at `path` (its input is too small for a kernel or window).
    case network(path: String, NetworkError)

    /// The codec error's own message, or `cannot filter 'PATH': REASON`.
    public var description: String {
        switch self {
        case .codec(let e): e.description
        case let .convolution(path, e): "cannot filter '\(path)': \(e)"
        case let .network(path, e): "cannot filter '\(path)': \(e)"
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
