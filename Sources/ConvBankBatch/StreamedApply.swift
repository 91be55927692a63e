import ConvBankEngine
import ConvBankImageIO
import ConvBankPictures
import Foundation

extension ApplySettings {
    /// Whether inputs run through a `ConvolutionStream`, their maps written band by band and never held whole as
    /// floats: every output must be per value — `npy`, or `png`/`png16` under `clamp` or `abs` — with no contact sheet
    /// and no partial maps (both need whole maps; so do `minmax` and `symmetric`, which scale by a map's range), and
    /// not per channel (a colour result is run and written whole). `jpeg`, `webp`, `tiff` and `tiff16` maps take the
    /// whole-image path (their encoders take a whole image); `memoryNeeded` counts their encoders' buffers.
    public var streamsMaps: Bool {
        sheet == nil && !partials && !perChannel && MapStreamWriter.supports(format: format, normalization: normalization)
    }

    /// Output rows per filter and stream step for maps `widths` wide: about 8 MiB of float bands at once, 16…256 rows.
    static func bandRows(mapWidths: [Int]) -> Int {
        let bytesPerRow = max(mapWidths.reduce(0, +) * MemoryLayout<Float>.stride, 1)
        return min(max((8 << 20) / bytesPerRow, 16), 256)
    }

    /// Each filter's output size on `input`, from its geometry alone (no plan, no factorization); empty when a
    /// filter does not fit, and then making the stream says why.
    static func mapExtents(bank: FilterBank, input: Extent2D) -> [Extent2D] {
        var extents: [Extent2D] = []
        for f in bank.filters.indices {
            guard let geometry = try? bank.geometry(of: f, input: input) else { return [] }
            extents.append(geometry.output)
        }
        return extents
    }

    /// The bytes a streamed input needs at its peak: the file (the batch's copy and the reader's), what the decoder
    /// holds for the whole image (`ImageRowReader.wholeImageBytes`: an interlaced PNG, a multi-scan JPEG), two bands of
    /// decoded rows and one adapted, the stream (`ConvolutionStream.memoryBytes`), and the maps' encoders: `npy` a
    /// band; `png`/`png16` their gray levels (1 or 2 bytes a pixel) and the compressed file being written, or, past
    /// `MapSink.levelsLimit`, a streaming writer per map (zlib's state and a few rows). Saturates at `Int.max`.
    /// - Throws: `ConvolutionError` when the bank cannot run on an image of this size.
    func memoryNeededStreamed(bank: FilterBank, reader: ImageRowReader, fileBytes: Int) throws(ConvolutionError) -> Int {
        let extent = Extent2D(height: reader.height, width: reader.width)
        let maps = Self.mapExtents(bank: bank, input: extent)
        let bandRows = Self.bandRows(mapWidths: maps.map(\.width))
        var total = Saturating(fileBytes) * 2 + reader.wholeImageBytes
        let piece = Saturating(min((Saturating(bandRows) * bank.stride.height).value, extent.height)) * extent.width
        total = total + piece * ((2 * reader.channels + bank.channels) * MemoryLayout<Float>.stride)
        total = total + (try ConvolutionStream.memoryBytes(bank: bank, input: extent, bandRows: bandRows))
        let bytesPerLevel = format == .png16 ? 2 : 1
        var levels = Saturating(0), largest = Saturating(0)
        for map in maps {
            let area = Saturating(map.height) * map.width
            levels = levels + area * bytesPerLevel
            largest = Saturating(max(largest.value, area.value))
        }
        switch format {
        case .npy:
            // A band of bytes per map while it is written (or, past the open-files limit, the whole file in memory).
            total = total + (maps.count <= MapSink.openFilesLimit ? Saturating(bandRows) * extent.width * 4 : levels * 4)
        case .jpeg, .webp, .tiff, .tiff16:
            preconditionFailure("\(format.rawValue) maps do not stream")
        case .png, .png16:
            if maps.count <= MapSink.openFilesLimit && levels.value > MapSink.levelsLimit {
                total = total + Saturating(maps.count) * (512 << 10)
            } else {
                total = total + levels + largest * (bytesPerLevel * min(max(jobs, 1), maps.count))
            }
        }
        // Thumbnails: every map's accumulator for the whole stream.
        if thumbnails { for map in maps { total = total + Thumbnail.memoryBytes(map: map, channels: 1) } }
        return total.value
    }
}

/// One map file written band by band. Streamed (`MapStreamWriter`, only a band held): `npy`, and `png`/`png16` once
/// an input's gray levels would pass `levelsLimit`. Otherwise held until `commit`: `npy` bytes for banks of more than
/// `openFilesLimit` filters, whose files cannot all be open at once; `png`/`png16` as the map's gray levels (1 or 2
/// bytes a pixel, never the floats), compressed at `commit` by the whole-image PNG encoder, so the bytes equal
/// `MapEncoder.encode`'s.
final class MapSink: @unchecked Sendable {
    let path: String
    let width: Int, height: Int
    let settings: ApplySettings
    /// The file being written, when the map streams.
    private var stream: MapStreamWriter?
    /// What is held until `commit` otherwise: `npy` bytes (header first), or gray levels.
    private var held: [UInt8] = [], levels16: [UInt16] = []
    private(set) var rows = 0

    /// The most bytes of gray levels an input's PNG maps may hold together before they stream instead.
    static let levelsLimit = 64 << 20
    /// The most map files a stream keeps open at once.
    static let openFilesLimit = 64

    /// - Parameter streamed: whether the rows go to the file as they come (else they are held until `commit`).
    init(path: String, width: Int, height: Int, settings: ApplySettings, streamed: Bool) throws(ImageCodecError) {
        precondition(settings.streamsMaps)
        self.path = path
        self.width = width
        self.height = height
        self.settings = settings
        if streamed {
            stream = try MapStreamWriter(path: path, width: width, height: height, format: settings.format,
                                         normalization: settings.normalization, pngLevel: settings.pngLevel)
        } else {
            switch settings.format {
            case .npy: held = MapEncoder.npyHeader(height: height, width: width)
            case .png: held.reserveCapacity(width * height)  // appended band by band: no regrowth, no spare half
            case .png16: levels16.reserveCapacity(width * height)
            case .jpeg, .webp, .tiff, .tiff16: preconditionFailure("\(settings.format.rawValue) maps do not stream")
            }
        }
    }

    /// Adds the next rows of the map (a whole number of rows, top first).
    /// - Throws: a streamed file's write failure, naming it.
    func append(_ band: UnsafeBufferPointer<Float>) throws(ImageCodecError) {
        precondition(band.count % width == 0 && rows + band.count / width <= height, "rows beyond the map")
        rows += band.count / width
        if let stream { return try stream.append(rows: band, count: band.count / width) }
        switch settings.format {
        case .npy:
            held += MapEncoder.npyValues(band)
        case .png:
            let start = held.count
            held.append(contentsOf: repeatElement(0, count: band.count))
            held.withUnsafeMutableBufferPointer { all in
                _ = settings.normalization.levels8(band, into: UnsafeMutableBufferPointer(rebasing: all[start..<(start + band.count)]))
            }
        case .png16:
            levels16 += settings.normalization.levels(Array(band), maximum: 65535).map { UInt16($0) }
        case .jpeg, .webp, .tiff, .tiff16:
            preconditionFailure("\(settings.format.rawValue) maps do not stream")
        }
    }

    /// Finishes the file under its name.
    /// - Precondition: every row was appended.
    func commit() throws(ImageCodecError) {
        precondition(rows == height, "the map is not complete")
        if let stream { return try stream.commit() }
        switch settings.format {
        case .npy: try AtomicFile.write(held, to: path)
        case .png: try AtomicFile.write(ImageCodec.encodePNG(gray8: held, width: width, height: height, level: settings.pngLevel), to: path)
        case .png16: try AtomicFile.write(ImageCodec.encodePNG(gray16: levels16, width: width, height: height, level: settings.pngLevel), to: path)
        case .jpeg, .webp, .tiff, .tiff16: preconditionFailure("\(settings.format.rawValue) maps do not stream")
        }
        held = []
        levels16 = []
    }

    /// Removes whatever was written.
    func abort() { stream?.abort() }
}

/// Runs `bank` over `image` (adapted to the bank's channels) as a stream into the map files `paths`, band by band;
/// returns each map's statistics.
/// - Throws: the first failure, naming its file; nothing of this input's maps is left then.
func applyStreamed(_ bank: FilterBank, image source: Tensor, paths: [String], settings: ApplySettings) throws(InputError) -> [MapStatistics] {
    var row = 0
    return try applyStreamed(bank, input: source.extent, path: paths.first ?? "", paths: paths, settings: settings) { (count: Int) throws(ImageCodecError) -> Tensor in
        let n = min(count, source.height - row)
        var rows = [Float](repeating: 0, count: n * source.width * source.channels)
        source.storage.withUnsafeBufferPointer { all in
            rows.withUnsafeMutableBufferPointer { out in
                for c in 0..<source.channels {
                    (out.baseAddress! + c * n * source.width).update(from: all.baseAddress! + (c * source.height + row) * source.width, count: n * source.width)
                }
            }
        }
        row += n
        return Tensor(height: n, width: source.width, channels: source.channels, storage: rows)
    }
}

/// Runs `bank` over the rows `reader` decodes, as a stream into the map files `paths`: the next band is decoded on a
/// background thread while the current one is filtered, so at most two bands of input are held besides the stream.
/// - Throws: the first failure (a damaged file is found only when its rows are reached), naming its file; nothing
///   of this input's maps is left then.
func applyStreamed(_ bank: FilterBank, reader: ImageRowReader, path: String, paths: [String], settings: ApplySettings) throws(InputError) -> [MapStatistics] {
    var ahead: ReadAhead<Result<Tensor, ImageCodecError>>?
    var index = 0
    return try applyStreamed(bank, input: Extent2D(height: reader.height, width: reader.width), path: path, paths: paths, settings: settings) {
        (count: Int) throws(ImageCodecError) -> Tensor in
        if ahead == nil {
            ahead = ReadAhead { _ in
                reader.rowsLeft > 0 ? Result { () throws(ImageCodecError) in try reader.nextRows(count) } : nil
            }
        }
        defer { index += 1 }
        guard let rows = ahead!.take(index) else { return Tensor(height: 0, width: reader.width, channels: reader.channels, storage: []) }
        return try rows.get()
    }
}

/// The stream itself: `supply(n)` gives the next `n` input rows (the file's channels; fewer only at the end), adapted
/// here band by band to the bank's channels.
private func applyStreamed(_ bank: FilterBank, input extent: Extent2D, path: String, paths: [String], settings: ApplySettings,
                           supply: (Int) throws(ImageCodecError) -> Tensor) throws(InputError) -> [MapStatistics] {
    let stream: ConvolutionStream
    do {
        let bandRows = ApplySettings.bandRows(mapWidths: ApplySettings.mapExtents(bank: bank, input: extent).map(\.width))
        stream = try ConvolutionStream(bank: bank, input: extent, bandRows: bandRows, jobs: settings.jobs, kernels: settings.kernels)
    } catch {
        throw .convolution(path: path, error)
    }
    var sinks: [MapSink] = []
    func abandon() { for sink in sinks { sink.abort() } }
    let open = paths.count <= MapSink.openFilesLimit
    let levels = stream.plan.filters.reduce(Saturating(0)) { $0 + Saturating($1.geometry.output.height) * $1.geometry.output.width }
        * (settings.format == .png16 ? 2 : 1)
    let streamed = open && (settings.format == .npy || levels.value > MapSink.levelsLimit)
    do throws(ImageCodecError) {
        for (path, filter) in zip(paths, stream.plan.filters) {
            sinks.append(try MapSink(path: path, width: filter.geometry.output.width, height: filter.geometry.output.height, settings: settings,
                                     streamed: streamed))
        }
    } catch {
        abandon()
        throw .codec(error)
    }
    var accumulators = [MapStatistics.Accumulator](repeating: MapStatistics.Accumulator(), count: sinks.count)
    // Thumbnails (`settings.thumbnails`): the last of `paths` (`ApplySettings.outputFiles` ends with them), one per
    // map, built from the bands as they pass.
    let thumbnailPaths = settings.thumbnails ? Array(paths.suffix(sinks.count)) : []
    var thumbnails = thumbnailPaths.isEmpty ? [] : stream.plan.filters.map {
        Thumbnail.Accumulator(width: $0.geometry.output.width, height: $0.geometry.output.height)
    }
    let emit: (Int, Int, UnsafeBufferPointer<Float>) throws(ImageCodecError) -> Void = { f, _, band in
        accumulators[f].add(band)
        if !thumbnails.isEmpty { thumbnails[f].add(band) }
        try sinks[f].append(band)
    }
    // Input rows in pieces of about one band's worth.
    let piece = max(stream.bandRows * bank.stride.height, 1)
    while stream.rowsPushed < extent.height {
        let raw: Tensor
        do { raw = try supply(min(piece, extent.height - stream.rowsPushed)) } catch {
            abandon()
            throw .codec(error)
        }
        precondition(raw.height > 0, "the rows ended early")
        let rows: Tensor
        do { rows = try raw.adapted(toChannels: bank.channels) } catch {
            abandon()
            throw .convolution(path: path, error)
        }
        do { try stream.push(rows, emit: emit) } catch {
            abandon()
            throw .codec(error)
        }
    }
    do { try stream.finish(emit: emit) } catch {
        abandon()
        throw .codec(error)
    }
    let failures = ResultSlots<ImageCodecError>(count: sinks.count)
    let list = sinks, finished = thumbnails
    parallelFor(list.count, jobs: settings.jobs) { k in
        do throws(ImageCodecError) { try list[k].commit() } catch {
            var e = error
            if e.path.isEmpty { e.path = list[k].path }
            return failures.set(k, e)
        }
        guard !finished.isEmpty else { return }
        do throws(ImageCodecError) { try AtomicFile.write(try finished[k].pngBytes(), to: thumbnailPaths[k]) } catch {
            var e = error
            if e.path.isEmpty { e.path = thumbnailPaths[k] }
            failures.set(k, e)
        }
    }
    if let first = failures.values.compactMap({ $0 }).first {
        abandon()
        throw .codec(first)
    }
    return accumulators.map(\.statistics)
}

/// Processes one input from its file's bytes: streamed from its rows (`ImageRowReader`) when every output is per
/// value (`ApplySettings.streamsMaps`) and the file streams, so neither the image nor its maps are ever held whole;
/// otherwise decoded whole and run by `applyBank(_:to:outputRoot:settings:decoded:)`.
/// - Throws: `InputError` naming the file; no map of this input remains then.
func applyBank(_ bank: FilterBank, to item: InputItem, outputRoot: String, settings: ApplySettings, bytes: [UInt8]) throws(InputError) -> ApplyResult {
    var clock = Stopwatch()
    func whole() throws(InputError) -> ApplyResult {
        let decoded = Result { () throws(ImageCodecError) in try ImageCodec.decode(bytes: bytes, path: item.path, maxPixels: settings.maxPixels) }
        var result = try applyBank(bank, to: item, outputRoot: outputRoot, settings: settings, decoded: decoded)
        result.seconds.decode += clock.lap()
        return result
    }
    guard settings.streamsMaps(bank: bank) else { return try whole() }
    let paths = settings.outputPaths(bank: bank)
    let files = paths.files(key: item.key).map { (outputRoot as NSString).appendingPathComponent($0) }
    let stale = files + [(outputRoot as NSString).appendingPathComponent(paths.sheetFile(key: item.key))]
    let reader: ImageRowReader
    do { reader = try ImageRowReader(bytes: bytes, path: item.path, maxPixels: settings.maxPixels) } catch {
        for path in stale { FileSystem.removeFile(path) }
        throw .codec(error)
    }
    guard reader.isStreamable else { return try whole() }
    let statistics: [MapStatistics]
    do { statistics = try applyStreamed(bank, reader: reader, path: item.path, paths: files, settings: settings) } catch {
        for path in stale { FileSystem.removeFile(path) }
        // The input's folder was made for its maps before its damage showed: remove it again if it is empty (and
        // its parents inside the output folder, for a nested key), as a whole-image decode would never have made it.
        var folder = FileSystem.parent(of: files.first ?? outputRoot)
        while folder.count > outputRoot.count, folder.hasPrefix(outputRoot), FileSystem.withCString(folder, { rmdir($0) }) == 0 {
            folder = FileSystem.parent(of: folder)
        }
        throw error
    }
    var result = ApplyResult(item: item, outputs: files, pixels: reader.height * reader.width, statistics: statistics,
                             clippedFractions: statistics.map(\.clippedFraction8))
    result.seconds = (0, clock.lap(), 0)
    return result
}
