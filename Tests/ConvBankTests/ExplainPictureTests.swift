import Foundation
import Testing
@testable import ConvBankBatch
@testable import ConvBankEngine
@testable import ConvBankImageIO
@testable import ConvBankPictures

@Suite struct ExplainPictureTests {
    /// The README's example: R = 1, G = 100, B = 10000 everywhere, one 2×2 all-ones filter, relu.
    static func example40404() -> (bank: FilterBank, image: Tensor) {
        let plane = [Float](repeating: 1, count: 9)
        let image = Tensor(height: 3, width: 3, channels: 3, storage: plane + plane.map { $0 * 100 } + plane.map { $0 * 10000 })
        let filter = Filter(name: "ones", kernel: [[1, 1], [1, 1]], channelWeights: [1, 1, 1])
        return (FilterBank(name: "ones", filters: [filter], activation: .relu), image)
    }

    /// A 3-channel ramp image and a 3×3 filter with `same` padding.
    static func sameBank() -> (bank: FilterBank, image: Tensor) {
        var image = Tensor(height: 5, width: 6, channels: 3)
        for c in 0..<3 { for y in 0..<5 { for x in 0..<6 { image[y, x, c] = Float(10 * c + y * 6 + x) } } }
        let filter = Filter(name: "sobel", kernel: [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], channelWeights: [0.299, 0.587, 0.114], bias: 0.5)
        return (FilterBank(name: "t", filters: [filter], padding: .same, paddingMode: .zeros, activation: .linear), image)
    }

    static func parts(_ bank: FilterBank, _ image: Tensor, x: Int, y: Int) throws -> (PixelExplanation, [Tensor], Tensor) {
        let e = try bank.explain(image, filter: 0, x: x, y: y)
        return (e, try bank.partialMaps(of: 0, in: image), try bank.convolve(image)[0])
    }

    @Test func labels40404() throws {
        let (bank, image) = Self.example40404()
        let (e, partials, map) = try Self.parts(bank, image, x: 0, y: 0)
        let labels = ExplainPicture.labels(explanation: e, bankName: bank.name, imageExtent: image.extent, partialMaps: partials, map: map)
        for number in ["4", "400", "40000", "10000", "1"] { #expect(labels.contains(number), "no label \(number)") }
        #expect(labels.contains { $0.contains("4 + 400 + 40000 = 40404") })
        #expect(labels.contains { $0.contains("+ bias 0 = 40404") })
        #expect(labels.contains { $0.contains("relu(40404) = 40404") })
        #expect(labels.contains("here: 40404"))
        #expect(labels.contains("constant 400"))
        #expect(labels.contains { $0.contains("filter 'ones'") && $0.contains("x=0, y=0") && $0.contains("bank 'ones'") })
        // Without the maps the arithmetic is all there, only the map captions go.
        let bare = ExplainPicture.labels(explanation: e, bankName: "ones")
        #expect(bare.contains { $0.contains("4 + 400 + 40000 = 40404") })
        #expect(!bare.contains("here: 40404"))
    }

    @Test func layout40404() throws {
        let (bank, image) = Self.example40404()
        let (e, partials, map) = try Self.parts(bank, image, x: 0, y: 0)
        let layout = ExplainPicture.layout(explanation: e, bankName: bank.name, imageExtent: image.extent, partialMaps: partials, map: map)
        // 3 channels × 3 grids × 2×2 cells, no padding.
        #expect(layout.cells.count == 36)
        #expect(!layout.cells.contains { $0.kind == .paddingValue })
        #expect(layout.cells.filter { $0.kind == .product }.map(\.text).sorted() == ["1", "1", "1", "1", "100", "100", "100", "100",
                                                                                    "10000", "10000", "10000", "10000"])
        // Input, 3 partial maps, the map; every marker inside the picture.
        #expect(layout.maps.map(\.index) == [-1, 0, 1, 2, 3])
        for slot in layout.maps {
            #expect(slot.x >= 0 && slot.y >= 0 && slot.x + slot.width <= layout.width && slot.y + slot.height <= layout.height)
        }
        for l in layout.labels { #expect(l.x + Picture.textWidth(l.text, scale: l.scale) <= layout.width, "\(l.text) sticks out") }
    }

    @Test func render40404HasSaneSize() throws {
        let (bank, image) = Self.example40404()
        let (e, partials, map) = try Self.parts(bank, image, x: 0, y: 0)
        let picture = ExplainPicture.render(explanation: e, image: image, partialMaps: partials, map: map, bankName: bank.name)
        #expect(picture.width >= 600 && picture.width <= 4000)
        #expect(picture.height >= 400 && picture.height <= 4000)
        #expect(picture.rgb.count == picture.width * picture.height * 3)
        let png = try picture.pngBytes()
        #expect(Array(png.prefix(4)) == [0x89, 0x50, 0x4E, 0x47])
        // The explained pixel's marker is drawn on the filter's map.
        let layout = ExplainPicture.layout(explanation: e, bankName: bank.name, imageExtent: image.extent, partialMaps: partials, map: map)
        let m = try #require(layout.maps.last).marker
        #expect(picture[x: m.x, y: m.y] == ExplainPicture.marker)
    }

    @Test func paddingCellsAreHatchedAtTheCorner() throws {
        let (bank, image) = Self.sameBank()
        let (e, partials, map) = try Self.parts(bank, image, x: 0, y: 0)
        #expect(e.taps.filter(\.inPadding).count == 3 * 5)
        let layout = ExplainPicture.layout(explanation: e, bankName: bank.name, imageExtent: image.extent, partialMaps: partials, map: map)
        let padding = layout.cells.filter { $0.kind == .paddingValue }
        #expect(padding.count == 15)
        #expect(padding.allSatisfy { $0.text == "0*" })
        #expect(layout.cells.filter { $0.kind == .value }.count == 12)
        let labels = ExplainPicture.labels(explanation: e, bankName: bank.name, imageExtent: image.extent, partialMaps: partials, map: map)
        #expect(labels.contains { $0.contains("15 of 27 taps") })
        #expect(labels.contains { $0.contains("+ bias 0.5 = ") })

        let picture = ExplainPicture.render(explanation: e, image: image, partialMaps: partials, map: map, bankName: bank.name)
        func colors(in cell: ExplainPicture.Cell) -> Set<Picture.Color> {
            var set = Set<Picture.Color>()
            for y in (cell.y + 1)..<(cell.y + cell.height - 1) { for x in (cell.x + 1)..<(cell.x + cell.width - 1) { set.insert(picture[x: x, y: y]) } }
            return set
        }
        // Top-left cell of channel 0: in the padding, hatched. Its centre-right neighbour below is inside.
        let corner = try #require(padding.first)
        #expect(corner.x == layout.cells[0].x && corner.y == layout.cells[0].y)
        #expect(picture[x: corner.x + 2, y: corner.y + 2] == ExplainPicture.paddingFill || picture[x: corner.x + 2, y: corner.y + 2] == ExplainPicture.paddingHatch)
        let paddingColors = colors(in: corner)
        #expect(paddingColors.contains(ExplainPicture.paddingFill) && paddingColors.contains(ExplainPicture.paddingHatch))
        let inside = try #require(layout.cells.first { $0.kind == .value })
        let insideColors = colors(in: inside)
        #expect(insideColors.contains(ExplainPicture.valueFill))
        #expect(!insideColors.contains(ExplainPicture.paddingFill) && !insideColors.contains(ExplainPicture.paddingHatch))
    }

    @Test func largeKernelsAreElidedButSummed() throws {
        var image = Tensor(height: 12, width: 12, channels: 1)
        for i in image.storage.indices { image.storage[i] = Float(i % 7) }
        let weights = (0..<81).map { Float($0 % 5) - 2 }
        let filter = Filter(name: "big", kernel: Extent2D(height: 9, width: 9), channels: 1, weights: weights)
        let bank = FilterBank(name: "b", filters: [filter])
        let (e, partials, map) = try Self.parts(bank, image, x: 1, y: 2)
        let layout = ExplainPicture.layout(explanation: e, bankName: "b", imageExtent: image.extent, partialMaps: partials, map: map)
        #expect(layout.cells.count == 3 * 7 * 7)
        #expect(layout.cells.contains { $0.kind == .elided && $0.text == "…" })
        let labels = layout.labels.map(\.text)
        #expect(labels.contains(formatNumber(e.partials[0])))
    }

    @Test func shortNumbers() {
        #expect(ExplainPicture.short(40404) == "40404")
        #expect(ExplainPicture.short(-0.299) == "-0.299")
        #expect(ExplainPicture.short(-1.0000057) == "-1.000")
        #expect(ExplainPicture.short(0.5) == "0.5")
    }

    @Test func htmlIsSelfContained() throws {
        let (bank, image) = Self.example40404()
        let (e, partials, map) = try Self.parts(bank, image, x: 0, y: 0)
        let page = try ExplainPicture.html(explanation: e, image: image, partialMaps: partials, map: map, bankName: bank.name)
        #expect(page.hasPrefix("<!DOCTYPE html>"))
        #expect(page.contains("4 + 400 + 40000 = 40404"))
        #expect(page.components(separatedBy: "data:image/png;base64,").count - 1 == 5)
        #expect(!page.contains("http://") && !page.contains("https://") && !page.contains("src=\"/"))
    }
}
