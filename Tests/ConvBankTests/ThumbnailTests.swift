import ConvBankTestSupport
import Foundation
import Testing
@testable import ConvBankBatch
@testable import ConvBankEngine
@testable import ConvBankImageIO
@testable import ConvBankPictures

/// Gallery thumbnails (`Thumbnail`): sizes, the stretch, box averages against an exact reference, non-finite values,
/// colour, and the same thumbnail whether a map arrives whole or in bands.
@Suite struct ThumbnailTests {
    /// A map of `channels` planes from a function of (x, y, channel).
    static func map(width: Int, height: Int, channels: Int = 1, _ value: (Int, Int, Int) -> Float) -> Tensor {
        var t = Tensor(height: height, width: width, channels: channels)
        for c in 0..<channels { for y in 0..<height { for x in 0..<width { t[y, x, c] = value(x, y, c) } } }
        return t
    }

    /// The thumbnail's levels, decoded from its PNG by libpng (`ImageCodec.decode`), as a tensor.
    static func decoded(_ png: [UInt8]) throws -> Tensor { try ImageCodec.decode(bytes: png, path: "thumbnail.png").tensor }

    @Test func sizes() {
        #expect(Thumbnail.size(width: 8, height: 8) == (8, 8))            // never enlarged
        #expect(Thumbnail.size(width: 256, height: 100) == (256, 100))
        #expect(Thumbnail.size(width: 1000, height: 500) == (256, 128))
        #expect(Thumbnail.size(width: 300, height: 5000) == (15, 256))
        #expect(Thumbnail.size(width: 100_000, height: 1) == (256, 1))
    }

    /// A map `clamp` shows as almost all black (values −200…10) gets the full 0…255 range: each pixel is
    /// `round(255 · (v − min) / (max − min))`, worked out here by hand from the values.
    @Test func smallMapIsStretchedOverItsMinimumAndMaximum() throws {
        var random = SeededRandom(seed: 12)
        let values = (0..<(8 * 6)).map { _ in Float(Int.random(in: -200...10, using: &random)) }
        let m = Self.map(width: 8, height: 6) { x, y, _ in values[y * 8 + x] }
        let thumbnail = try Self.decoded(try Thumbnail.pngBytes(of: m))
        #expect(thumbnail.width == 8 && thumbnail.height == 6 && thumbnail.channels == 1)
        let lo = values.min()!, hi = values.max()!
        for (i, v) in values.enumerated() {
            let expected = (255 * (Double(v) - Double(lo)) / (Double(hi) - Double(lo))).rounded()
            #expect(Double(thumbnail.storage[i]) == expected, "pixel \(i): value \(v)")
        }
        #expect(thumbnail.storage.min() == 0 && thumbnail.storage.max() == 255)
        // What clamp makes of the same map: nearly black.
        #expect(values.filter { $0 > 0.5 }.count < values.count / 4)
    }

    /// Shrinking: each pixel is the exact area average of its box (computed here with integers: source pixel k
    /// covers [k·m, (k+1)·m) and thumbnail pixel i covers [i·n, (i+1)·n) in units of 1/m of a thumbnail pixel),
    /// stretched over min…max (values 0…99 evenly: the percentiles are the extremes). Within one level of rounding.
    @Test func shrinkingAveragesExactBoxes() throws {
        let (w, h) = (700, 300)
        var random = SeededRandom(seed: 7)
        let values = (0..<(w * h)).map { i in Float(i % 100 == 0 ? 0 : (i % 100 == 99 ? 99 : Int.random(in: 0...99, using: &random))) }
        let m = Self.map(width: w, height: h) { x, y, _ in values[y * w + x] }
        let thumbnail = try Self.decoded(try Thumbnail.pngBytes(of: m))
        let (tw, th) = (256, 110)  // 300 · 256 / 700 = 109.7
        #expect(thumbnail.width == tw && thumbnail.height == th)
        func coverage(_ i: Int, _ k: Int, n: Int, m: Int) -> Int { max(0, min((i + 1) * n, (k + 1) * m) - max(i * n, k * m)) }
        var worst = 0.0
        for ty in 0..<th {
            for tx in 0..<tw {
                var sum = 0
                for y in (ty * h / th)...min(h - 1, ((ty + 1) * h - 1) / th) {
                    let cy = coverage(ty, y, n: h, m: th)
                    for x in (tx * w / tw)...min(w - 1, ((tx + 1) * w - 1) / tw) {
                        sum += coverage(tx, x, n: w, m: tw) * cy * Int(values[y * w + x])
                    }
                }
                let mean = Double(sum) / Double(w * h)
                let expected = (255 * mean / 99).rounded()
                worst = max(worst, abs(Double(thumbnail[ty, tx, 0]) - expected))
            }
        }
        #expect(worst <= 1, "largest difference from the exact box average: \(worst)")
    }

    /// A few extreme values: the range is the sheet's 0.5–99.5 percentiles (`ContactSheet.displayRange`), not the
    /// extremes, so the bulk of the map still spans black to white.
    @Test func rareExtremesAreClippedAsOnTheSheet() throws {
        var values = (0..<(300 * 200)).map { Float($0 % 100) }
        values[17] = 50_000
        values[4242] = -50_000
        let m = Self.map(width: 300, height: 200) { x, y, _ in values[y * 300 + x] }
        var accumulator = Thumbnail.Accumulator(width: 300, height: 200)
        values.withUnsafeBufferPointer { accumulator.add($0) }
        let range = try #require(accumulator.range)
        let sheet = try #require(ContactSheet.displayRange(values))
        #expect(range.lo == sheet.lo && range.hi == sheet.hi && range.clipped && sheet.clipped)
        #expect(range.lo >= 0 && range.hi <= 99)
        let levels = try Self.decoded(try Thumbnail.pngBytes(of: m)).storage
        #expect(levels.min() == 0 && levels.max() == 255)
    }

    /// Where no value lies outside the range, a thumbnail shows what the contact sheet's cell of the same size shows
    /// (it stretches each value, then averages; the thumbnail averages, then stretches): at most one level apart.
    @Test func agreesWithTheSheetCell() throws {
        var random = SeededRandom(seed: 99)
        // A noisy ramp cut at −300 and 1200, so that more than 0.5 % of the values sit at each end: the range is the
        // minimum to maximum.
        let m = Self.map(width: 523, height: 311) { x, y, _ in
            min(max(Float(x * 3 - y * 2) + Float(Int.random(in: -40...40, using: &random)), -300), 1200)
        }
        let size = Thumbnail.size(width: m.width, height: m.height)
        let range = try #require(ContactSheet.displayRange(m.storage))
        #expect(!range.clipped)
        let cell = ContactSheet.mapPicture(m, range: (range.lo, range.hi), colormap: .gray, size: size)
        let thumbnail = try Self.decoded(try Thumbnail.pngBytes(of: m))
        var worst = 0
        for y in 0..<size.height {
            for x in 0..<size.width { worst = max(worst, abs(Int(cell[x: x, y: y].red) - Int(thumbnail[y, x, 0]))) }
        }
        #expect(worst <= 1)
    }

    /// The same thumbnail, byte for byte, whether the map comes whole or in bands of any number of rows.
    @Test(arguments: [1, 3, 16, 257]) func bandsGiveTheSameThumbnail(rowsPerBand: Int) throws {
        var random = SeededRandom(seed: UInt64(rowsPerBand))
        var values = (0..<(811 * 613)).map { _ in Float.random(in: -1000...1000, using: &random) }
        values[5000] = 90_000  // a clipped range: the sampled values must be the same ones
        let m = Self.map(width: 811, height: 613) { x, y, _ in values[y * 811 + x] }
        var accumulator = Thumbnail.Accumulator(width: 811, height: 613)
        values.withUnsafeBufferPointer { all in
            var row = 0
            while row < 613 {
                let n = min(rowsPerBand, 613 - row)
                accumulator.add(UnsafeBufferPointer(rebasing: all[(row * 811)..<((row + n) * 811)]))
                row += n
            }
        }
        #expect(accumulator.isComplete)
        let whole = try Thumbnail.pngBytes(of: m)
        #expect(try accumulator.pngBytes() == whole)
        let range = try #require(accumulator.range)
        let sheet = try #require(ContactSheet.displayRange(values))
        #expect(range.lo == sheet.lo && range.hi == sheet.hi && range.clipped == sheet.clipped)
    }

    /// `+∞` is white, NaN and `−∞` black, finite values stretched over the finite range; a constant map is
    /// mid-gray; a map with no finite value black.
    @Test func nonFiniteAndConstantMaps() throws {
        let special: [Float] = [.infinity, .nan, -.infinity, 10, 20, 30, 40, 50, 60]
        let m = Self.map(width: 3, height: 3) { x, y, _ in special[y * 3 + x] }
        let levels = try Self.decoded(try Thumbnail.pngBytes(of: m)).storage
        #expect(levels == [255, 0, 0, 0, 51, 102, 153, 204, 255])
        let constant = try Self.decoded(try Thumbnail.pngBytes(of: Self.map(width: 5, height: 4) { _, _, _ in -7 })).storage
        #expect(constant.allSatisfy { $0 == 128 })
        let empty = try Self.decoded(try Thumbnail.pngBytes(of: Self.map(width: 4, height: 4) { _, _, _ in .nan })).storage
        #expect(empty.allSatisfy { $0 == 0 })
        // Shrunk: a box half +∞ and half finite at the top of the range is white; half NaN, half the bottom, black.
        let half = Self.map(width: 512, height: 2) { x, _, _ in x % 2 == 0 ? .infinity : Float(x % 4 == 1 ? 100 : 0) }
        let shrunk = try Self.decoded(try Thumbnail.pngBytes(of: half))
        #expect(shrunk.width == 256 && shrunk.height == 1)
        // Box x covers source 2x (+∞) and 2x+1 (100 when x is even, else 0): t = ½ + ½·1 or ½ + ½·0.
        #expect((0..<256).allSatisfy { shrunk[0, $0, 0] == ($0 % 2 == 0 ? 255 : 128) })
    }

    /// A colour result is an RGB thumbnail, one range over its three channels (as `--per-channel`'s sheets).
    @Test func colourMapsKeepTheirColours() throws {
        let m = Self.map(width: 4, height: 2, channels: 3) { x, y, c in Float(c == 0 ? 100 : (c == 1 ? 50 + x : 0)) + Float(y) }
        let thumbnail = try Self.decoded(try Thumbnail.pngBytes(of: m))
        #expect(thumbnail.channels == 3)
        // One range 0…101 over all channels.
        let lo = 0.0, hi = 101.0
        for c in 0..<3 {
            for y in 0..<2 {
                for x in 0..<4 {
                    let expected = (255 * (Double(m[y, x, c]) - lo) / (hi - lo)).rounded()
                    #expect(Double(thumbnail[y, x, c]) == expected)
                }
            }
        }
    }

    /// The range's selection finds the values a sort puts at the two percentile positions, on random, sorted,
    /// reversed, constant and few-valued inputs.
    @Test func selectionAgreesWithSorting() {
        var random = SeededRandom(seed: 5)
        let inputs: [[Float]] = [
            (0..<5000).map { _ in Float.random(in: -1...1, using: &random) },
            (0..<4000).map(Float.init), (0..<4000).reversed().map(Float.init), [Float](repeating: 3, count: 999),
            (0..<10_000).map { _ in Float(Int.random(in: 0...2, using: &random)) }, (0..<777).map { Float($0 % 7) },
        ]
        for values in inputs {
            let sorted = values.sorted()
            for k in [0, values.count / 200, values.count / 2, values.count - 1 - values.count / 200, values.count - 1] {
                var copy = values
                ContactSheet.select(k, in: &copy, from: 0, to: copy.count)
                #expect(copy[k] == sorted[k], "k = \(k) of \(values.count)")
                #expect(copy[..<k].allSatisfy { $0 <= copy[k] } && copy[(k + 1)...].allSatisfy { $0 >= copy[k] })
                #expect(copy.sorted() == sorted, "a permutation")
            }
        }
    }

    /// The memory estimate covers what an accumulator holds.
    @Test func memoryEstimate() {
        let bytes = Thumbnail.memoryBytes(map: Extent2D(height: 4000, width: 6000), channels: 1)
        // Box sums and non-finite shares (3 doubles per pixel of 256×171) and about 2^18–2^19 samples.
        #expect(bytes >= 256 * 171 * 24 + (1 << 18) * 4 && bytes < 8 << 20)
    }

    /// The memory budget counts thumbnails: one per worker for a whole input, every map's accumulator for a stream.
    @Test func memoryBudgetCountsThumbnails() throws {
        let bank = try FilterBank.load("edges")
        let png = try ImageCodec.encodePNG(gray8: [UInt8](repeating: 7, count: 3000 * 2000), width: 3000, height: 2000)
        let header = try #require(ImageCodec.header(of: png))
        var plain = ApplySettings()
        plain.jobs = 2
        var gallery = plain
        gallery.thumbnails = true
        let one = Thumbnail.memoryBytes(map: Extent2D(height: 2000, width: 3000), channels: 1)
        plain.sheet = .gray  // whole
        gallery.sheet = .gray
        let whole = try gallery.memoryNeeded(bank: bank, header: header, fileBytes: png.count) - plain.memoryNeeded(bank: bank, header: header, fileBytes: png.count)
        #expect(whole == 2 * one)
        plain.sheet = nil  // streamed
        gallery.sheet = nil
        let reader = try ImageRowReader(bytes: png, path: "big.png", maxPixels: 1 << 28)
        let streamed = try gallery.memoryNeededStreamed(bank: bank, reader: reader, fileBytes: png.count)
            - plain.memoryNeededStreamed(bank: bank, reader: reader, fileBytes: png.count)
        #expect(streamed == bank.filters.count * one)
    }
}
