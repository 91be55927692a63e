import ConvBankEngine
import ConvBankImageIO
import Foundation

extension ApplySettings {
    /// Whether inputs run through a `ConvolutionStream`, their maps written band by band and never held whole as
    /// floats: every output must be per value — `npy`, or `png`/`png16` under `clamp` or `abs` — with no contact sheet
    /// and no partial maps (both need whole maps; so do `minmax` and `symmetric`, which scale by a map's range).
    public var streamsMaps: Bool {
        sheet == nil && !partials && (format == .npy || normalization == .clamp || normalization == .abs)
    }

    /// Output rows per filter and stream step for maps `widths` wide: about 8 MiB of float bands at once, 16…256 rows.
    static func bandRows(mapWidths: [Int]) -> Int {
        let bytesPerRow = max(mapWidths.reduce(0, +) * MemoryLayout<Float>.stride, 1)
        return min(max((8 << 20) / bytesPerRow, 16), 256)
    }

    /// What a streamed input holds at its peak besides its decoded rows: the stream's window and bands, and each
    /// map's encoder — `npy` a band, `png` its 8-bit levels (one byte a pixel) and `png16` two, plus the compressed
    /// file while it is written (at most a little over the levels).
    func streamedMemory(plan: ConvolutionPlan, stream: Int) -> Saturating {
        var total = Saturating(stream)
        let bytesPerLevel = format == .png ? 1 : 2
        var largest = Saturating(0)
        for filter in plan.filters {
            let area = Saturating(filter.geometry.output.height) * filter.geometry.output.width
            if format != .npy { total = total + area * bytesPerLevel }
            largest = Saturating(max(largest.value, area.value))
        }
        if format != .npy { total = total + largest * (bytesPerLevel * min(max(jobs, 1), plan.filters.count)) }
        return total
    }
}

/// One map file written band by band: `npy` rows go straight to the file (or, for banks of more than
/// `openFilesLimit` filters, whose files cannot all be open at once, to memory until `commit`); `png`/`png16` keep the
/// map's gray levels (1 or 2 bytes a pixel, never the floats) and compress them at `commit`. The bytes equal
/// `MapEncoder.encode`'s.
final class MapSink: @unchecked Sendable {
    let path: String
    let width: Int, height: Int
    let settings: ApplySettings
    private var writer: AtomicFile.Writer?
    private var levels8: [UInt8] = [], levels16: [UInt16] = []
    /// `npy` bytes held until `commit` when the file is not open.
    private var held: [UInt8] = []

    /// The most map files a stream keeps open at once.
    static let openFilesLimit = 64
    private(set) var rows = 0

    init(path: String, width: Int, height: Int, settings: ApplySettings, open: Bool) throws(ImageCodecError) {
        precondition(settings.streamsMaps)
        self.path = path
        self.width = width
        self.height = height
        self.settings = settings
        switch settings.format {
        case .npy:
            if open {
                let writer = try AtomicFile.Writer(path: path)
                writer.append(MapEncoder.npyHeader(height: height, width: width))
                self.writer = writer
            } else {
                held = MapEncoder.npyHeader(height: height, width: width)
            }
        case .png: levels8.reserveCapacity(width * height)
        case .png16: levels16.reserveCapacity(width * height)
        }
    }

    /// Adds the next rows of the map (a whole number of rows, top first).
    func append(_ band: UnsafeBufferPointer<Float>) {
        precondition(band.count % width == 0 && rows + band.count / width <= height, "rows beyond the map")
        rows += band.count / width
        switch settings.format {
        case .npy:
            var bytes = [UInt8](repeating: 0, count: band.count * 4)
            bytes.withUnsafeMutableBytes { raw in
                for (k, v) in band.enumerated() { raw.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: 4 * k, as: UInt32.self) }
            }
            if let writer { writer.append(bytes) } else { held += bytes }
        case .png:
            let start = levels8.count
            levels8.append(contentsOf: repeatElement(0, count: band.count))
            levels8.withUnsafeMutableBufferPointer { all in
                _ = settings.normalization.levels8(band, into: UnsafeMutableBufferPointer(rebasing: all[start..<(start + band.count)]))
            }
        case .png16:
            levels16 += settings.normalization.levels(Array(band), maximum: 65535).map { UInt16($0) }
        }
    }

    /// Finishes the file under its name.
    /// - Precondition: every row was appended.
    func commit() throws(ImageCodecError) {
        precondition(rows == height, "the map is not complete")
        switch settings.format {
        case .npy:
            if let writer { try writer.commit() } else { try AtomicFile.write(held, to: path) }
            held = []
        case .png: try AtomicFile.write(ImageCodec.encodePNG(gray8: levels8, width: width, height: height, level: settings.pngLevel), to: path)
        case .png16: try AtomicFile.write(ImageCodec.encodePNG(gray16: levels16, width: width, height: height, level: settings.pngLevel), to: path)
        }
        levels8 = []
        levels16 = []
    }

    /// Removes whatever was written.
    func abort() { writer?.abort() }
}

/// Runs `bank` over `image` as a stream into the map files `paths`, band by band; returns each map's statistics.
/// - Throws: the first failure, naming its file; nothing of this input's maps is left then.
func applyStreamed(_ bank: FilterBank, image source: Tensor, paths: [String], settings: ApplySettings) throws(InputError) -> [MapStatistics] {
    let extent = source.extent
    let stream: ConvolutionStream
    do {
        let plan = try ConvolutionPlan(bank: bank, input: extent)
        stream = try ConvolutionStream(bank: bank, input: extent, bandRows: ApplySettings.bandRows(mapWidths: plan.filters.map(\.geometry.output.width)),
                                       jobs: settings.jobs, kernels: settings.kernels)
    } catch {
        throw .convolution(path: paths.first ?? "", error)
    }
    var sinks: [MapSink] = []
    do throws(ImageCodecError) {
        for (path, filter) in zip(paths, stream.plan.filters) {
            sinks.append(try MapSink(path: path, width: filter.geometry.output.width, height: filter.geometry.output.height, settings: settings,
                                     open: paths.count <= MapSink.openFilesLimit))
        }
    } catch {
        for sink in sinks { sink.abort() }
        throw .codec(error)
    }
    var accumulators = [MapStatistics.Accumulator](repeating: MapStatistics.Accumulator(), count: sinks.count)
    let emit: (Int, Int, UnsafeBufferPointer<Float>) -> Void = { f, _, band in
        accumulators[f].add(band)
        sinks[f].append(band)
    }
    // Input rows in pieces of about one band's worth.
    let piece = max(stream.bandRows * bank.stride.height, 1)
    var row = 0
    while row < extent.height {
        let n = min(piece, extent.height - row)
        var rows = [Float](repeating: 0, count: n * extent.width * source.channels)
        source.storage.withUnsafeBufferPointer { all in
            rows.withUnsafeMutableBufferPointer { out in
                for c in 0..<source.channels {
                    (out.baseAddress! + c * n * extent.width).update(from: all.baseAddress! + (c * extent.height + row) * extent.width, count: n * extent.width)
                }
            }
        }
        stream.push(Tensor(height: n, width: extent.width, channels: source.channels, storage: rows), emit: emit)
        row += n
    }
    stream.finish(emit: emit)
    let failures = ResultSlots<ImageCodecError>(count: sinks.count)
    let list = sinks
    parallelFor(list.count, jobs: settings.jobs) { k in
        do throws(ImageCodecError) { try list[k].commit() } catch {
            var e = error
            if e.path.isEmpty { e.path = list[k].path }
            failures.set(k, e)
        }
    }
    if let first = failures.values.compactMap({ $0 }).first {
        for sink in sinks { sink.abort() }
        throw .codec(first)
    }
    return accumulators.map(\.statistics)
}
