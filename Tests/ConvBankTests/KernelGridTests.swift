import Foundation
import Testing
@testable import ConvBankEngine
@testable import ConvBankImageIO
@testable import ConvBankPictures

/// `KernelGrid` (`convbank kernels`): which tile holds which filter, each weight's block of pixels against levels
/// worked out by hand, the layer-wide ranges, the rows layout and its channel cap, the limits.
@Suite struct KernelGridTests {
    /// Every pixel of weight (i, j)'s `scale × scale` block of the tile at `origin` has `color`.
    static func expectBlock(_ p: Picture, origin: (x: Int, y: Int), i: Int, j: Int, scale: Int, _ color: Picture.Color,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        for dy in 0..<scale {
            for dx in 0..<scale {
                let got = p[x: origin.x + j * scale + dx, y: origin.y + i * scale + dy]
                if got != color {
                    Issue.record("block (\(i), \(j)) pixel (\(dx), \(dy)): \(got), expected \(color)", sourceLocation: sourceLocation)
                    return
                }
            }
        }
    }

    /// Three 2×2×3 filters, each +1 on one channel and −1 on the others: under `gray` (min −1 → 0, max 1 → 255) the
    /// tile of `red` is pure red, `green` green, `blue` blue; with `bgr`, channel 0 shows as blue.
    @Test func colourTilesShowTheirFilterColour() throws {
        func filter(_ name: String, hot: Int) -> Filter {
            var w = [Float](repeating: -1, count: 12)
            for k in 0..<4 { w[hot * 4 + k] = 1 }
            return Filter(name: name, kernel: Extent2D(2), channels: 3, weights: w)
        }
        let bank = FilterBank(name: "rgb", filters: [filter("red", hot: 0), filter("green", hot: 1), filter("blue", hot: 2)])
        let scale = 5
        let picture = try KernelGrid.render(bank: bank, title: "t", scale: scale)
        let layout = KernelGrid.layout(bank: bank, title: "t", scale: scale, coloring: .gray, split: false, bgr: false)
        #expect((picture.width, picture.height) == (layout.width, layout.height))
        #expect(layout.tiles.count == 3 && layout.tiles.allSatisfy { $0.count == 1 && $0[0].channel == -1 })
        let expected = [Picture.Color(255, 0, 0), Picture.Color(0, 255, 0), Picture.Color(0, 0, 255)]
        for f in 0..<3 {
            let t = layout.tiles[f][0]
            for i in 0..<2 { for j in 0..<2 { Self.expectBlock(picture, origin: (t.x, t.y), i: i, j: j, scale: scale, expected[f]) } }
            // The one-pixel frame around the tile.
            #expect(picture[x: t.x - 1, y: t.y - 1] == KernelGrid.frame)
            #expect(picture[x: t.x + 2 * scale, y: t.y + 2 * scale] == KernelGrid.frame)
        }
        // Two columns (ceil √3), filter order left to right, top to bottom; names under the tiles.
        #expect(layout.tiles[0][0].y == layout.tiles[1][0].y && layout.tiles[1][0].x > layout.tiles[0][0].x)
        #expect(layout.tiles[2][0].y > layout.tiles[0][0].y && layout.tiles[2][0].x == layout.tiles[0][0].x)
        #expect(["red", "green", "blue"].allSatisfy { name in layout.lines.contains { $0.text == name } })
        // BGR: the filter `red` reads channel 0, which is blue in the network's input.
        let swapped = try KernelGrid.render(bank: bank, title: "t", scale: scale, bgr: true)
        let t0 = layout.tiles[0][0]
        Self.expectBlock(swapped, origin: (t0.x, t0.y), i: 0, j: 0, scale: scale, Picture.Color(0, 0, 255))
    }

    /// One-channel kernels [[0, 1], [2, 4]] and [[−4, 0], [0, 0]]: one range over the layer, −4…4.
    static let grayBank = FilterBank(name: "g", filters: [
        Filter(name: "a", kernel: [[0, 1], [2, 4]], channelWeights: [1]),
        Filter(name: "b", kernel: [[-4, 0], [0, 0]], channelWeights: [1]),
    ])

    /// Gray: level = round(255 · (w + 4) / 8): 0 → 128 (127.5 rounds up), 1 → 159, 2 → 191, 4 → 255, −4 → 0.
    @Test func grayLevelsByHand() throws {
        let scale = 3
        let picture = try KernelGrid.render(bank: Self.grayBank, title: "t", scale: scale)
        let layout = KernelGrid.layout(bank: Self.grayBank, title: "t", scale: scale, coloring: .gray, split: false, bgr: false)
        let a = layout.tiles[0][0], b = layout.tiles[1][0]
        for (i, j, level) in [(0, 0, 128), (0, 1, 159), (1, 0, 191), (1, 1, 255)] {
            Self.expectBlock(picture, origin: (a.x, a.y), i: i, j: j, scale: scale, Picture.Color(gray: UInt8(level)))
        }
        Self.expectBlock(picture, origin: (b.x, b.y), i: 0, j: 0, scale: scale, Picture.Color(gray: 0))
        Self.expectBlock(picture, origin: (b.x, b.y), i: 1, j: 1, scale: scale, Picture.Color(gray: 128))
        #expect(layout.lines.contains { $0.text.contains("min -4, max 4") })
    }

    /// Diverging, max|w| = 4: 4 → #b2182b, 0 → #f7f7f7, −4 → #2166ac, 2 → halfway white to red:
    /// (247 + (178 − 247)/2, 247 + (24 − 247)/2, 247 + (43 − 247)/2) = (212.5, 135.5, 145) → (213, 136, 145).
    @Test func divergingColoursByHand() throws {
        let scale = 2
        let picture = try KernelGrid.render(bank: Self.grayBank, title: "t", scale: scale, coloring: .diverging)
        let layout = KernelGrid.layout(bank: Self.grayBank, title: "t", scale: scale, coloring: .diverging, split: false, bgr: false)
        let a = layout.tiles[0][0], b = layout.tiles[1][0]
        Self.expectBlock(picture, origin: (a.x, a.y), i: 1, j: 1, scale: scale, Picture.Color(178, 24, 43))
        Self.expectBlock(picture, origin: (a.x, a.y), i: 0, j: 0, scale: scale, Picture.Color(247, 247, 247))
        Self.expectBlock(picture, origin: (a.x, a.y), i: 1, j: 0, scale: scale, Picture.Color(213, 136, 145))
        Self.expectBlock(picture, origin: (b.x, b.y), i: 0, j: 0, scale: scale, Picture.Color(33, 102, 172))
    }

    /// Filters of 20 channels: one row per filter, the first 16 channels as gray kernels, said on the picture; the
    /// kernel in column c is channel c's.
    @Test func rowsOfChannelsCapped() throws {
        let channels = 20
        var filters: [Filter] = []
        for f in 0..<2 {
            // Channel c's 1×1 kernel is c (filter 1: −c), so the layer spans −19…19.
            filters.append(Filter(name: "f\(f)", kernel: Extent2D(1), channels: channels, weights: (0..<channels).map { Float(f == 0 ? $0 : -$0) }))
        }
        let bank = FilterBank(name: "deep", filters: filters)
        let picture = try KernelGrid.render(bank: bank, title: "t", scale: 4)
        let layout = KernelGrid.layout(bank: bank, title: "t", scale: 4, coloring: .gray, split: false, bgr: false)
        #expect(layout.tiles.map(\.count) == [16, 16])
        #expect(layout.lines.contains { $0.text.contains("channels 0-15 of 20 shown") })
        for f in 0..<2 {
            for tile in layout.tiles[f] {
                let w = Double(f == 0 ? tile.channel : -tile.channel)
                let level = UInt8(((w + 19) / 38 * 255).rounded())
                Self.expectBlock(picture, origin: (tile.x, tile.y), i: 0, j: 0, scale: 4, Picture.Color(gray: level))
            }
        }
        // Three-channel filters as rows on request.
        let split = KernelGrid.layout(bank: Self.grayBank, title: "t", scale: 4, coloring: .gray, split: true, bgr: false)
        #expect(split.tiles.map(\.count) == [1, 1] && split.tiles[0][0].channel == 0)
    }

    @Test func defaultScaleAndLimits() throws {
        #expect(KernelGrid.defaultScale(for: Self.grayBank) == 16)
        let big = FilterBank(name: "big", filters: [Filter(name: "k", kernel: Extent2D(61), channels: 1, weights: [Float](repeating: 1, count: 61 * 61))])
        #expect(KernelGrid.defaultScale(for: big) == 1)
        // 2000×2000 weights at 64 px each: refused from its size, before any allocation.
        let huge = FilterBank(name: "huge", filters: [Filter(name: "k", kernel: Extent2D(2000), channels: 1, weights: [Float](repeating: 0, count: 4_000_000))])
        #expect(throws: KernelGrid.GridError.self) { try KernelGrid.render(bank: huge, title: "t", scale: 64) }
        var nan = Self.grayBank
        nan.filters[1].weights[2] = .nan
        #expect(throws: KernelGrid.GridError.nonFinite(filter: "b")) { try KernelGrid.render(bank: nan, title: "t") }
        // A constant layer is mid-gray.
        let flat = FilterBank(name: "flat", filters: [Filter(name: "k", kernel: [[3, 3]], channelWeights: [1])])
        let p = try KernelGrid.render(bank: flat, title: "t", scale: 2)
        let t = KernelGrid.layout(bank: flat, title: "t", scale: 2, coloring: .gray, split: false, bgr: false).tiles[0][0]
        Self.expectBlock(p, origin: (t.x, t.y), i: 0, j: 1, scale: 2, Picture.Color(gray: 128))
    }
}
