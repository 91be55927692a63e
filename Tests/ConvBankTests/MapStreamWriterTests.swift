import ConvBankTestSupport
import Foundation
import Testing
@testable import ConvBankBatch
@testable import ConvBankEngine
@testable import ConvBankImageIO

/// `MapStreamWriter` against the whole-map encoder: `.npy` byte for byte, PNG pixel for pixel (the zlib stream
/// differs from libdeflate's), for bands of 1, 7 and 64 rows and uneven ones; the PNG framing checked with a CRC
/// of the test's own and, at level 0 (stored deflate blocks), decoded without zlib or libpng; the atomic-file
/// contract (nothing left by a failed or aborted write, temporaries a later run cleans).
@Suite struct MapStreamWriterTests {
    /// How the rows are cut into bands.
    enum Bands: Sendable, CaseIterable, CustomTestStringConvertible {
        case one, seven, sixtyFour, uneven

        var testDescription: String {
            switch self {
            case .one: "1 row"
            case .seven: "7 rows"
            case .sixtyFour: "64 rows"
            case .uneven: "uneven"
            }
        }

        /// Band heights summing to `height`; uneven ones include an empty band.
        func sizes(height: Int, seed: UInt64) -> [Int] {
            let fixed: Int
            switch self {
            case .one: fixed = 1
            case .seven: fixed = 7
            case .sixtyFour: fixed = 64
            case .uneven:
                var random = SeededRandom(seed: seed)
                var sizes: [Int] = [], left = height
                while left > 0 {
                    let size = min(left, random.pick([0, 1, 2, 3, 5, 11, 17, 40]))
                    sizes.append(size)
                    left -= size
                }
                return sizes
            }
            return stride(from: 0, to: height, by: fixed).map { min(fixed, height - $0) }
        }
    }

    struct PNGCase: Sendable, CustomTestStringConvertible {
        var format: OutputFormat, normalization: Normalization, bands: Bands
        var testDescription: String { "\(format.rawValue) \(normalization.rawValue), \(bands.testDescription)" }
    }

    static let pngCases: [PNGCase] = [OutputFormat.png, .png16].flatMap { format in
        [Normalization.clamp, .abs].flatMap { normalization in Bands.allCases.map { PNGCase(format: format, normalization: normalization, bands: $0) } }
    }

    // MARK: - Maps, folders, writing

    /// A `height × width` map of values that exercise the levels: beyond both ends of 8 and 16 bits, halves (which
    /// round away from zero), values in [0.25, 0.5), zeros in runs, NaN and infinities.
    static func randomMap(height: Int, width: Int, seed: UInt64) -> Tensor {
        var random = SeededRandom(seed: seed)
        let values = (0..<(height * width)).map { _ -> Float in
            switch random.below(10) {
            case 0: return 0
            case 1: return Float(random.int(-300...300)) + 0.5
            case 2: return 0.25 + Float(random.below(1000)) / 4000
            case 3: return random.pick([.nan, .infinity, -.infinity, 255.49998, 255.5, -0.5, 65534.5, 65535.5])
            case 4: return Float(random.int(-80000...80000)) + Float(random.below(4)) / 4
            default: return Float(random.int(-400_000...400_000)) / 1000
            }
        }
        return Tensor(height: height, width: width, channels: 1, storage: values)
    }

    /// A fresh folder, removed after `body`.
    static func withFolder<T>(_ body: (String) throws -> T) throws -> T {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("convbank-stream-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        return try body(folder)
    }

    /// Everything in `folder`, hidden files included.
    static func contents(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
    }

    /// Writes `map` to `path` in bands of `sizes` rows and commits.
    static func write(_ map: Tensor, to path: String, format: OutputFormat, normalization: Normalization = .clamp,
                      sizes: [Int], pngLevel: Int = MapEncoder.defaultPNGLevel) throws {
        let writer = try MapStreamWriter(path: path, width: map.width, height: map.height, format: format,
                                         normalization: normalization, pngLevel: pngLevel)
        var row = 0
        try map.storage.withUnsafeBufferPointer { all in
            for size in sizes {
                try writer.append(rows: UnsafeBufferPointer(rebasing: all[(row * map.width)...]), count: size)
                row += size
            }
        }
        try writer.commit()
    }

    /// nil when equal, else where they first differ (so a failure prints one line, not two maps).
    static func difference<T: Equatable>(_ a: [T], _ b: [T]) -> String? {
        guard a.count == b.count else { return "\(a.count) values vs \(b.count)" }
        guard let k = a.indices.first(where: { a[$0] != b[$0] }) else { return nil }
        return "first difference at \(k): \(a[k]) vs \(b[k])"
    }

    static func fileBytes(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }

    /// The gray levels of a PNG file as `ImageCodec` decodes them.
    static func decodedLevels(_ path: String) throws -> (width: Int, height: Int, depth: Int, levels: [Float]) {
        let image = try ImageCodec.decode(path: path)
        #expect(image.tensor.channels == 1)
        return (image.tensor.width, image.tensor.height, image.bitDepth, image.tensor.storage)
    }

    // MARK: - Same output as the whole-map encoder

    @Test(arguments: Bands.allCases)
    func npyBytesEqualWholeMap(_ bands: Bands) throws {
        let map = Self.randomMap(height: 71, width: 53, seed: 11)
        try Self.withFolder { folder in
            let path = folder + "/m.npy"
            try Self.write(map, to: path, format: .npy, normalization: .minmax, sizes: bands.sizes(height: 71, seed: 5))
            #expect(try Self.difference(Self.fileBytes(path), MapEncoder.npy(map)) == nil)
            #expect(Self.contents(folder) == ["m.npy"])
        }
    }

    @Test(arguments: pngCases)
    func pngLevelsEqualWholeMap(_ c: PNGCase) throws {
        let map = Self.randomMap(height: 71, width: 53, seed: 12)
        let maximum = c.format == .png ? 255 : 65535
        let expected = c.normalization.levels(map.storage, maximum: maximum).map(Float.init)
        if c.format == .png {  // the 8-bit path's own levels are the same numbers
            var levels8 = [UInt8](repeating: 0, count: map.storage.count)
            levels8.withUnsafeMutableBufferPointer { out in map.storage.withUnsafeBufferPointer { _ = c.normalization.levels8($0, into: out) } }
            #expect(Self.difference(levels8.map(Float.init), expected) == nil)
        }
        let whole = try ImageCodec.decode(bytes: MapEncoder.encode(map, format: c.format, normalization: c.normalization), path: "whole")
        #expect(Self.difference(whole.tensor.storage, expected) == nil)
        try Self.withFolder { folder in
            let path = folder + "/m.png"
            try Self.write(map, to: path, format: c.format, normalization: c.normalization, sizes: c.bands.sizes(height: 71, seed: 6))
            let decoded = try Self.decodedLevels(path)
            #expect(decoded.width == 53 && decoded.height == 71 && decoded.depth == (c.format == .png ? 8 : 16))
            #expect(Self.difference(decoded.levels, expected) == nil)
            #expect(Self.contents(folder) == ["m.png"])
        }
    }

    /// Every compression level, on a noisy 16-bit map large enough for several IDAT chunks and deflate batches.
    @Test(arguments: [0, 1, 2, 4, 6, 9, 12])
    func everyLevelDecodes(_ level: Int) throws {
        var random = SeededRandom(seed: 13)
        let map = Tensor(height: 257, width: 300, channels: 1, storage: (0..<(257 * 300)).map { _ in Float(random.below(65536)) })
        try Self.withFolder { folder in
            let path = folder + "/noise.png"
            try Self.write(map, to: path, format: .png16, sizes: Bands.uneven.sizes(height: 257, seed: 7), pngLevel: level)
            #expect(try Self.difference(Self.decodedLevels(path).levels, map.storage) == nil)
            let chunks = try PNGChunks(Self.fileBytes(path))
            #expect(chunks.all.filter { $0.type == "IDAT" }.count >= 3, "150 KB of noise spans several 64 KiB IDAT chunks")
        }
    }

    // MARK: - The file, checked without libpng or zlib

    /// Chunk order, lengths, CRCs (the test's own CRC-32), IHDR fields and the zlib header.
    @Test(arguments: [OutputFormat.png, .png16])
    func fileIsWellFormed(_ format: OutputFormat) throws {
        let map = Self.randomMap(height: 40, width: 33, seed: 14)
        try Self.withFolder { folder in
            let path = folder + "/m.png"
            try Self.write(map, to: path, format: format, sizes: Bands.seven.sizes(height: 40, seed: 0))
            let chunks = try PNGChunks(Self.fileBytes(path))
            #expect(chunks.all.map(\.type).first == "IHDR" && chunks.all.map(\.type).last == "IEND")
            #expect(Set(chunks.all.map(\.type)) == ["IHDR", "IDAT", "IEND"])
            #expect(chunks.all.allSatisfy { $0.crcMatches })
            #expect(chunks.header == PNGChunks.Header(width: 33, height: 40, depth: format == .png ? 8 : 16, colorType: 0, compression: 0, filter: 0, interlace: 0))
            let stream = chunks.zlibStream
            #expect(stream[0] & 0x0F == 8 && (Int(stream[0]) << 8 | Int(stream[1])) % 31 == 0, "zlib header: deflate, check bits")
        }
    }

    /// At level 0 the zlib stream is stored blocks: unwrapped, checked against its Adler-32 and unfiltered here,
    /// with no zlib or libpng involved, the rows are the levels.
    @Test(arguments: [OutputFormat.png, .png16])
    func storedStreamDecodesIndependently(_ format: OutputFormat) throws {
        let height = 150, width = 301  // 16-bit: 90 KB of filtered rows, stored blocks across IDAT chunks
        let map = Self.randomMap(height: height, width: width, seed: 15)
        let maximum = format == .png ? 255 : 65535
        let expected = Normalization.abs.levels(map.storage, maximum: maximum)
        try Self.withFolder { folder in
            let path = folder + "/m.png"
            try Self.write(map, to: path, format: format, normalization: .abs, sizes: Bands.sixtyFour.sizes(height: height, seed: 0), pngLevel: 0)
            let chunks = try PNGChunks(Self.fileBytes(path))
            #expect(chunks.all.allSatisfy { $0.crcMatches })
            let filtered = try #require(inflateStored(chunks.zlibStream))
            let bpp = format == .png ? 1 : 2
            let rows = try #require(unfilter(filtered, rowBytes: width * bpp, bpp: bpp))
            let samples = format == .png ? rows.map(Int.init) : stride(from: 0, to: rows.count, by: 2).map { Int(rows[$0]) << 8 | Int(rows[$0 + 1]) }
            #expect(Self.difference(samples, expected) == nil)
        }
    }

    // MARK: - Shapes

    @Test(arguments: [OutputFormat.npy, .png, .png16])
    func oneRowAndOneColumn(_ format: OutputFormat) throws {
        for (height, width) in [(1, 1), (1, 97), (97, 1)] {
            let map = Self.randomMap(height: height, width: width, seed: UInt64(height * 1000 + width))
            for bands in [Bands.one, .uneven, .sixtyFour] {
                try Self.withFolder { folder in
                    let path = folder + "/m.\(format.fileExtension)"
                    try Self.write(map, to: path, format: format, sizes: bands.sizes(height: height, seed: 8))
                    if format == .npy {
                        #expect(try Self.difference(Self.fileBytes(path), MapEncoder.npy(map)) == nil, "\(height)×\(width), \(bands.testDescription)")
                    } else {
                        let decoded = try Self.decodedLevels(path)
                        #expect(decoded.width == width && decoded.height == height)
                        #expect(Self.difference(decoded.levels, Normalization.clamp.levels(map.storage, maximum: format == .png ? 255 : 65535).map(Float.init)) == nil,
                                "\(height)×\(width), \(bands.testDescription)")
                    }
                }
            }
        }
    }

    /// An empty map is a valid `.npy` (as the whole-map encoder writes it) but no PNG: refused, nothing left.
    @Test func emptyMaps() throws {
        try Self.withFolder { folder in
            for (height, width) in [(0, 5), (4, 0)] {
                let map = Tensor(height: height, width: width, channels: 1)
                try Self.write(map, to: folder + "/m.npy", format: .npy, sizes: [height])
                #expect(try Self.fileBytes(folder + "/m.npy") == MapEncoder.npy(map))
                for format in [OutputFormat.png, .png16] {
                    #expect(throws: ImageCodecError.self) {
                        try MapStreamWriter(path: folder + "/m.png", width: width, height: height, format: format, normalization: .clamp)
                    }
                }
            }
            #expect(Self.contents(folder) == ["m.npy"])
        }
    }

    // MARK: - Atomic file contract

    /// Committing before the last row is an error; the temporary is gone and a file already at the path is kept.
    @Test(arguments: [OutputFormat.npy, .png, .png16])
    func commitBeforeAllRowsFails(_ format: OutputFormat) throws {
        let map = Self.randomMap(height: 20, width: 9, seed: 16)
        try Self.withFolder { folder in
            let path = folder + "/m.\(format.fileExtension)"
            try Data("old".utf8).write(to: URL(fileURLWithPath: path))
            let writer = try MapStreamWriter(path: path, width: 9, height: 20, format: format, normalization: .clamp)
            try map.storage.withUnsafeBufferPointer { try writer.append(rows: $0, count: 19) }
            #expect(Self.contents(folder).count == 2, "the file and its temporary")
            #expect(throws: ImageCodecError(.unwritable, path: path, detail: "only 19 of 20 rows were given")) { try writer.commit() }
            #expect(Self.contents(folder) == ["m.\(format.fileExtension)"])
            #expect(try Self.fileBytes(path) == Array("old".utf8))
            #expect(throws: ImageCodecError.self) { try writer.commit() }
        }
    }

    @Test func tooManyRowsFails() throws {
        let map = Self.randomMap(height: 10, width: 4, seed: 17)
        try Self.withFolder { folder in
            let writer = try MapStreamWriter(path: folder + "/m.png", width: 4, height: 5, format: .png, normalization: .abs)
            try map.storage.withUnsafeBufferPointer { rows in
                try writer.append(rows: rows, count: 3)
                #expect(throws: ImageCodecError(.unwritable, path: folder + "/m.png", detail: "3 rows given after 3 of 5")) {
                    try writer.append(rows: rows, count: 3)
                }
            }
            #expect(Self.contents(folder).isEmpty)
        }
    }

    @Test(arguments: [OutputFormat.npy, .png16])
    func abortRemovesTemporary(_ format: OutputFormat) throws {
        let map = Self.randomMap(height: 30, width: 12, seed: 18)
        try Self.withFolder { folder in
            let writer = try MapStreamWriter(path: folder + "/sub/m.png", width: 12, height: 30, format: format, normalization: .clamp)
            try map.storage.withUnsafeBufferPointer { try writer.append(rows: $0, count: 30) }
            let temporaries = Self.contents(folder + "/sub")
            #expect(temporaries.count == 1 && temporaries.allSatisfy { AtomicFile.isTemporaryName($0) && $0.hasPrefix(".m.png.tmp-\(getpid())-") })
            writer.abort()
            #expect(Self.contents(folder + "/sub").isEmpty)
            writer.abort()  // again: nothing
            #expect(throws: ImageCodecError.self) { try writer.commit() }
            // Released without commit or abort: removed too.
            do { _ = try MapStreamWriter(path: folder + "/sub/n.png", width: 12, height: 30, format: format, normalization: .clamp) }
            #expect(Self.contents(folder + "/sub").isEmpty)
        }
    }

    /// A killed run leaves `.NAME.tmp-PID-N`: the name a later run's cleanup of that map (`AtomicFile.removeStaleTemporaries`) removes.
    @Test func temporaryIsWhatCleanupRemoves() throws {
        try Self.withFolder { folder in
            let writer = try MapStreamWriter(path: folder + "/photo.c0.png", width: 5, height: 5, format: .png, normalization: .clamp)
            let name = try #require(Self.contents(folder).first)
            // As if its process had died: the same name with a pid that cannot be alive.
            let stale = name.replacingOccurrences(of: ".tmp-\(getpid())-", with: ".tmp-2147483646-")
            try FileManager.default.moveItem(atPath: folder + "/" + name, toPath: folder + "/" + stale)
            AtomicFile.removeStaleTemporaries(of: ["photo.c0.png"], in: folder)
            #expect(Self.contents(folder).isEmpty)
            writer.abort()
        }
    }

    @Test(arguments: [OutputFormat.png, .png16])
    func refusesWholeMapNormalizations(_ format: OutputFormat) throws {
        try Self.withFolder { folder in
            for normalization in [Normalization.minmax, .symmetric] {
                #expect(!MapStreamWriter.supports(format: format, normalization: normalization))
                let error = #expect(throws: ImageCodecError.self) {
                    try MapStreamWriter(path: folder + "/m.png", width: 4, height: 4, format: format, normalization: normalization)
                }
                #expect(error?.description.contains("normalization '\(normalization.rawValue)' needs the whole map's range") == true)
            }
            #expect(Self.contents(folder).isEmpty)
            #expect(MapStreamWriter.supports(format: .npy, normalization: .minmax))
            #expect(MapStreamWriter.supports(format: format, normalization: .clamp) && MapStreamWriter.supports(format: format, normalization: .abs))
        }
    }

    @Test func unwritableFolderFails() throws {
        try Self.withFolder { folder in
            try Data().write(to: URL(fileURLWithPath: folder + "/file"))
            #expect(throws: ImageCodecError.self) {
                try MapStreamWriter(path: folder + "/file/m.png", width: 4, height: 4, format: .png, normalization: .clamp)
            }
            #expect(Self.contents(folder) == ["file"])
        }
    }
}

// MARK: - An independent PNG reader (no libpng, no zlib)

/// A PNG's chunks, each with whether its CRC-32 (computed here) matches.
struct PNGChunks {
    struct Chunk { var type: String, data: [UInt8], crcMatches: Bool }
    struct Header: Equatable { var width, height, depth, colorType, compression, filter, interlace: Int }
    var all: [Chunk] = []

    init(_ bytes: [UInt8]) throws {
        struct Malformed: Error {}
        guard bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else { throw Malformed() }
        var at = 8
        while at < bytes.count {
            guard at + 12 <= bytes.count else { throw Malformed() }
            let length = Int(PNGChunks.be32(bytes, at))
            guard at + 12 + length <= bytes.count else { throw Malformed() }
            let typeAndData = Array(bytes[(at + 4)..<(at + 8 + length)])
            all.append(Chunk(type: String(decoding: typeAndData.prefix(4), as: UTF8.self), data: Array(typeAndData.dropFirst(4)),
                             crcMatches: PNGChunks.crc32(typeAndData) == PNGChunks.be32(bytes, at + 8 + length)))
            at += 12 + length
        }
    }

    var header: Header? {
        guard let d = all.first(where: { $0.type == "IHDR" })?.data, d.count == 13 else { return nil }
        return Header(width: Int(PNGChunks.be32(d, 0)), height: Int(PNGChunks.be32(d, 4)), depth: Int(d[8]), colorType: Int(d[9]),
                      compression: Int(d[10]), filter: Int(d[11]), interlace: Int(d[12]))
    }

    var zlibStream: [UInt8] { all.filter { $0.type == "IDAT" }.flatMap(\.data) }

    static func be32(_ b: [UInt8], _ at: Int) -> UInt32 {
        UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3])
    }

    /// CRC-32 (ISO 3309, reflected, polynomial 0xEDB88320), bit by bit.
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}

/// The data of a zlib stream made only of stored deflate blocks, checked against its Adler-32; nil otherwise.
func inflateStored(_ z: [UInt8]) -> [UInt8]? {
    guard z.count >= 6, z[0] & 0x0F == 8, (Int(z[0]) << 8 | Int(z[1])) % 31 == 0, z[1] & 0x20 == 0 else { return nil }
    var out: [UInt8] = [], at = 2, last = false
    while !last {
        // Each stored block starts on a byte boundary here (the one before it was stored too): 3 header bits, padding.
        guard at + 5 <= z.count, (z[at] >> 1) & 3 == 0 else { return nil }
        last = z[at] & 1 == 1
        let length = Int(z[at + 1]) | Int(z[at + 2]) << 8, check = Int(z[at + 3]) | Int(z[at + 4]) << 8
        guard length ^ check == 0xFFFF, at + 5 + length <= z.count else { return nil }
        out += z[(at + 5)..<(at + 5 + length)]
        at += 5 + length
    }
    guard at + 4 == z.count else { return nil }
    var a: UInt32 = 1, b: UInt32 = 0
    for byte in out {
        a = (a + UInt32(byte)) % 65521
        b = (b + a) % 65521
    }
    return PNGChunks.be32(z, at) == b << 16 | a ? out : nil
}

/// Undoes PNG row filters (None, Sub, Up, Average, Paeth) as the specification states them; nil on a bad type.
func unfilter(_ data: [UInt8], rowBytes n: Int, bpp: Int) -> [UInt8]? {
    guard data.count % (n + 1) == 0 else { return nil }
    var out: [UInt8] = [], prev = [UInt8](repeating: 0, count: n)
    for start in stride(from: 0, to: data.count, by: n + 1) {
        var row = [UInt8](repeating: 0, count: n)
        for i in 0..<n {
            let x = Int(data[start + 1 + i])
            let a = i >= bpp ? Int(row[i - bpp]) : 0, b = Int(prev[i]), c = i >= bpp ? Int(prev[i - bpp]) : 0
            let predictor: Int
            switch data[start] {
            case 0: predictor = 0
            case 1: predictor = a
            case 2: predictor = b
            case 3: predictor = (a + b) / 2
            case 4:
                let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                predictor = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
            default: return nil
            }
            row[i] = UInt8((x + predictor) & 0xFF)
        }
        out += row
        prev = row
    }
    return out
}
