import Foundation
import Testing
@testable import ConvBankBatch
@testable import ConvBankEngine
@testable import ConvBankImageIO
@testable import ConvBankPictures

/// A one-channel map of `width × height` from a function of (x, y).
private func map(width: Int, height: Int, _ value: (Int, Int) -> Float) -> Tensor {
    var t = Tensor(height: height, width: width, channels: 1)
    for y in 0..<height { for x in 0..<width { t[y, x, 0] = value(x, y) } }
    return t
}

/// Pixels of `picture` inside the rectangle equal to `color`.
private func count(_ color: Picture.Color, in picture: Picture, x: Int, y: Int, width: Int, height: Int) -> Int {
    var n = 0
    for row in y..<(y + height) { for column in x..<(x + width) where picture[x: column, y: row] == color { n += 1 } }
    return n
}

@Suite struct PictureTests {
    // MARK: Font and text

    @Test func glyphTable() {
        #expect(BitmapFont.rows.count == 95 * BitmapFont.glyphHeight)
        #expect(BitmapFont.glyphWidth == 6 && BitmapFont.glyphHeight == 13)
        #expect(BitmapFont.glyph("A").contains { $0 != 0 })
        #expect(BitmapFont.glyph(" ").allSatisfy { $0 == 0 })
        #expect(BitmapFont.glyph("é") == BitmapFont.glyph("?"))
        #expect(BitmapFont.glyph("\u{7F}") == BitmapFont.glyph("?"))
        // Every glyph stays inside its 6-pixel cell (bits 7…2), and every visible character has pixels.
        for code in 33...126 {
            let glyph = BitmapFont.glyph(Unicode.Scalar(UInt8(code)))
            #expect(glyph.contains { $0 != 0 }, "glyph \(code) is empty")
            #expect(glyph.allSatisfy { $0 & 0x03 == 0 }, "glyph \(code) is wider than 6 pixels")
        }
    }

    @Test func drawTextPaintsOnlyGlyphPixels() {
        var picture = Picture(width: 40, height: 20)
        picture.drawText("A ", x: 1, y: 2, color: .white)
        let lit = count(.white, in: picture, x: 0, y: 0, width: 40, height: 20)
        let expected = BitmapFont.glyph("A").reduce(0) { $0 + $1.nonzeroBitCount }
        #expect(lit == expected)
        var doubled = Picture(width: 40, height: 40)
        doubled.drawText("A", x: 0, y: 0, color: .white, scale: 2)
        #expect(count(.white, in: doubled, x: 0, y: 0, width: 40, height: 40) == 4 * expected)
    }

    @Test func textFitting() {
        #expect(Picture.fitting("sobel_x", maxWidth: 60) == "sobel_x")
        #expect(Picture.fitting("a_really_long_filter_name", maxWidth: 60) == "a_reall...")
        #expect(Picture.textWidth(Picture.fitting("a_really_long_filter_name", maxWidth: 60)) <= 60)
        #expect(Picture.displayText("min 1 → black…") == "min 1 -> black...")
        #expect(Picture.textWidth("héllo") == 30)  // é is one '?' cell
    }

    // MARK: Picture

    @Test func pictureBasics() throws {
        var picture = Picture(width: 3, height: 2)
        #expect(picture.rgb == [UInt8](repeating: 0, count: 18))
        picture[x: 2, y: 1] = Picture.Color(1, 2, 3)
        #expect(Array(picture.rgb[15..<18]) == [1, 2, 3])
        picture.fill(x: -5, y: -5, width: 6, height: 6, with: .white)  // clipped to (0, 0)
        #expect(picture[x: 0, y: 0] == .white && picture[x: 1, y: 0] == .black)
        let decoded = try ImageCodec.decode(bytes: try picture.pngBytes(), path: "picture.png")
        #expect(decoded.tensor.channels == 3 && decoded.tensor.width == 3 && decoded.tensor.height == 2)
        #expect(decoded.tensor[1, 2, 0] == 1 && decoded.tensor[1, 2, 2] == 3 && decoded.tensor[0, 0, 1] == 255)
    }

    // MARK: Colormap

    @Test func viridisEndpoints() {
        #expect(Colormap.viridisData.count == 256 * 3)
        #expect(Colormap.viridis.color(index: 0) == Picture.Color(0x44, 0x01, 0x54))  // #440154
        #expect(Colormap.viridis.color(index: 255) == Picture.Color(0xfd, 0xe7, 0x25))  // #fde725
        #expect(Colormap.viridis.color(0) == Picture.Color(0x44, 0x01, 0x54))
        #expect(Colormap.viridis.color(1) == Picture.Color(0xfd, 0xe7, 0x25))
        #expect(Colormap.gray.color(0) == .black && Colormap.gray.color(1) == .white)
        #expect(Colormap.gray.color(0.5) == Picture.Color(gray: 128))
        #expect(Colormap.gray.color(.nan) == .black && Colormap.gray.color(7) == .white)
    }

    // MARK: Contact sheet

    @Test(arguments: [(0, 1, 1), (1, 2, 1), (2, 2, 2), (3, 2, 2), (4, 3, 2), (8, 3, 3), (9, 4, 3)])
    func sheetGrid(maps n: Int, columns: Int, rows: Int) {
        let input = Tensor(height: 16, width: 32, channels: 3)
        let maps = (0..<n).map { _ in Tensor(height: 16, width: 32, channels: 1) }
        let sheet = ContactSheet.render(title: "t", input: input, inputBitDepth: 8, maps: maps, names: maps.indices.map { "f\($0)" },
                                        cellSize: 64)
        // 32×16 is enlarged 2× to 64×32; columns are 36 characters (216 px) + 2 wide, 14 apart, 12 px margins.
        #expect(sheet.width == 24 + columns * 218 + (columns - 1) * 14)
        // Title bar 46; each cell: image area 34, 6, two 15-pixel label lines; rows 14 apart; margins 12.
        #expect(sheet.height == 46 + 12 + rows * 70 + (rows - 1) * 14 + 12)
        #expect(sheet.rgb.count == sheet.width * sheet.height * 3)
    }

    @Test func sheetSizesFollowCellSize() {
        let input = Tensor(height: 300, width: 600, channels: 1)
        let sheet = ContactSheet.render(title: "t", input: input, inputBitDepth: 8, maps: [], names: [], cellSize: 256)
        // 600×300 shrinks to 256×128: one column of max(256, 216) + 2.
        #expect(sheet.width == 24 + 258)
        #expect(sheet.height == 46 + 12 + (130 + 6 + 30) + 12)
        #expect(ContactSheet.displaySize(width: 600, height: 300, cellSize: 256) == (256, 128))
        #expect(ContactSheet.displaySize(width: 10, height: 5, cellSize: 256) == (20, 10))  // at most 2×
        #expect(ContactSheet.displaySize(width: 1, height: 4000, cellSize: 256) == (1, 256))
    }

    @Test func mapMinimumIsBlackAndMaximumWhite() {
        let input = Tensor(height: 8, width: 8, channels: 1, storage: [Float](repeating: 100, count: 64))
        let values = map(width: 8, height: 8) { x, _ in x < 4 ? -812 : 790 }
        let sheet = ContactSheet.render(title: "t", input: input, inputBitDepth: 8, maps: [values], names: ["sobel_x"], cellSize: 64)
        let layout = ContactSheet.Layout(cellSize: 64, textScale: 1, count: 2, shown: [(16, 16), (16, 16)])
        let (x0, y0) = layout.origin(of: 1)
        let x = x0 + (layout.columnWidth - 16) / 2, y = y0 + (layout.imageAreaHeight - 16) / 2
        #expect(count(.black, in: sheet, x: x, y: y, width: 8, height: 16) == 128)
        #expect(count(.white, in: sheet, x: x + 8, y: y, width: 8, height: 16) == 128)
        // Nothing else on the sheet is pure black or white: the input is gray 100, the chrome is neither.
        #expect(count(.black, in: sheet, x: 0, y: 0, width: sheet.width, height: sheet.height) == 128)
        #expect(count(.white, in: sheet, x: 0, y: 0, width: sheet.width, height: sheet.height) == 128)
        #expect(count(Picture.Color(gray: 100), in: sheet, x: 0, y: 0, width: sheet.width, height: sheet.height) == 256)
        #expect(ContactSheet.normalisationLabel(range: (-812, 790), colormap: .gray) == "min -812 → black, max 790 → white")
        #expect(ContactSheet.normalisationLabel(range: (-812, 790), colormap: .viridis) == "min -812 → dark blue, max 790 → yellow")
        #expect(ContactSheet.normalisationLabel(range: (5, 5), colormap: .gray) == "constant 5 → mid-gray")
        // Narrow columns take a shorter form that keeps both numbers whole.
        #expect(ContactSheet.normalisationLabels(range: (-812, 790), colormap: .gray).allSatisfy { $0.contains("-812") && $0.contains("790") })
    }

    @Test func viridisSheetUsesTheTableEnds() {
        let input = Tensor(height: 4, width: 4, channels: 3)
        let values = map(width: 4, height: 4) { x, _ in Float(x) }
        let sheet = ContactSheet.render(title: "t", input: input, inputBitDepth: 8, maps: [values], names: ["ramp"], colormap: .viridis)
        let all = (sheet.width, sheet.height)
        #expect(count(Picture.Color(0x44, 0x01, 0x54), in: sheet, x: 0, y: 0, width: all.0, height: all.1) >= 8 * 2)
        #expect(count(Picture.Color(0xfd, 0xe7, 0x25), in: sheet, x: 0, y: 0, width: all.0, height: all.1) >= 8 * 2)
    }

    @Test func constantMapIsMidGray() {
        let input = Tensor(height: 4, width: 4, channels: 1)
        let flat = Tensor(height: 4, width: 4, channels: 1, storage: [Float](repeating: 5, count: 16))
        let sheet = ContactSheet.render(title: "t", input: input, inputBitDepth: 8, maps: [flat], names: ["flat"], cellSize: 16)
        #expect(count(Picture.Color(gray: 128), in: sheet, x: 0, y: 0, width: sheet.width, height: sheet.height) == 64)
    }

    @Test func inputDisplay() {
        // 16-bit RGB: 65535 is full intensity; a 2×2 block averages to one pixel when shrunk by half.
        var rgb = Tensor(height: 64, width: 64, channels: 3)
        for y in 0..<64 { for x in 0..<64 { rgb[y, x, 0] = 65535; rgb[y, x, 2] = (x + y) % 2 == 0 ? 65535 : 0 } }
        let picture = ContactSheet.inputPicture(rgb, bitDepth: 16, size: (32, 32))
        #expect(picture[x: 5, y: 7] == Picture.Color(255, 0, 128))
        // Gray + alpha shows the gray only.
        let grayAlpha = Tensor(height: 1, width: 2, channels: 2, storage: [10, 20, 255, 0])
        let shown = ContactSheet.inputPicture(grayAlpha, bitDepth: 8, size: (2, 1))
        #expect(shown[x: 0, y: 0] == Picture.Color(gray: 10) && shown[x: 1, y: 0] == Picture.Color(gray: 20))
    }

    @Test func areaWeights() {
        // 3 → 2: each output covers 1.5 pixels.
        let w = ContactSheet.weights(from: 3, to: 2)
        #expect(w[0].map(\.index) == [0, 1] && w[0].map(\.weight) == [2.0 / 3, 1.0 / 3])
        #expect(w[1].map(\.index) == [1, 2] && w[1].map(\.weight) == [1.0 / 3, 2.0 / 3])
        #expect(ContactSheet.weights(from: 2, to: 4).map { $0[0].index } == [0, 0, 1, 1])
    }

    @Test func numberFormat() {
        #expect(ContactSheet.format(-812.0) == "-812")
        #expect(ContactSheet.format(0.0) == "0")
        #expect(ContactSheet.format(0.52341) == "0.5234")
        #expect(ContactSheet.format(12345.67) == "12345.7")
        #expect(ContactSheet.format(Double.infinity) == "inf")
    }

    // MARK: Gallery

    @Test func galleryEscapesAndEncodes() {
        let stats = MapStatistics([-812, 0, 790, 2])
        let rows = [
            Gallery.Row(title: "photos/<cat> & \"dog's\".png", sheet: "cat dog/sheet #1.png",
                        maps: [Gallery.MapEntry(name: "sobel<x>", file: "cat dog/a #1?.png", statistics: stats),
                               Gallery.MapEntry(name: "café", file: "cat dog/café.png", statistics: stats)]),
            Gallery.Row(title: "broken.jpg", maps: [], error: "cannot decode 'broken.jpg': JPEG: <bad>"),
        ]
        let html = Gallery.html(bankName: "edges & more", rows: rows)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("photos/&lt;cat&gt; &amp; &quot;dog&#39;s&quot;.png"))
        #expect(html.contains("edges &amp; more"))
        #expect(html.contains("sobel&lt;x&gt;"))
        #expect(!html.contains("<cat>") && !html.contains("<bad>") && !html.contains("sobel<x>"))
        #expect(html.contains("src=\"cat%20dog/a%20%231%3F.png\""))
        #expect(html.contains("href=\"cat%20dog/a%20%231%3F.png\""))
        #expect(html.contains("href=\"cat%20dog/sheet%20%231.png\""))
        #expect(html.contains("src=\"cat%20dog/caf%C3%A9.png\""))
        #expect(html.contains("cannot decode &#39;broken.jpg&#39;: JPEG: &lt;bad&gt;"))
        // One <img> per map, loaded lazily; the contact sheet is a link.
        #expect(html.components(separatedBy: "<img ").count - 1 == 2)
        #expect(html.components(separatedBy: "loading=\"lazy\"").count - 1 == 2)
        #expect(html.contains("<p class=\"sheet\"><a href=\"cat%20dog/sheet%20%231.png\">contact sheet</a></p>"))
        #expect(html.contains("min −812") && html.contains("max 790") && html.contains("mean −5"))
        // Static: no script, no external URL.
        #expect(!html.contains("<script") && !html.contains("http://") && !html.contains("https://"))
        #expect(Gallery.percentEncode("a b#c?d%e:f/g~h") == "a%20b%23c%3Fd%25e%3Af/g~h")
    }

    /// Five rows at two a page: three pages, sections numbered 1…5 across them, every page linking to the first
    /// and the last input and to its neighbours, the first listing all three.
    @Test func galleryPages() {
        let rows = (1...5).map { Gallery.Row(title: "in/\($0).png", maps: [], error: $0 == 5 ? "broken" : nil) }
        let pages = Gallery.pages(bankName: "b", rows: rows, pageSize: 2) { $0 == 1 ? "index.html" : "index.page-\($0).html" }
        #expect(pages.map(\.file) == ["index.html", "index.page-2.html", "index.page-3.html"])
        for (k, page) in pages.enumerated() {
            #expect(page.html.contains("First input: <a href=\"index.html#input-1\">in/1.png</a>"))
            #expect(page.html.contains("Last input: <a href=\"index.page-3.html#input-5\">in/5.png</a>"))
            #expect(page.html.contains("5 inputs, 1 failed on 3 pages of 2; this is page \(k + 1)"))
            let ids = page.html.components(separatedBy: "<section class=\"input\" id=\"input-").dropFirst().map { Int($0.prefix { $0 != "\"" })! }
            #expect(ids == Array((2 * k + 1)...min(2 * k + 2, 5)))
            #expect(page.html.contains("<details") == (k == 0))
            #expect(page.html.hasSuffix(Gallery.footer))
        }
        #expect(pages[1].html.contains("<a href=\"index.html\">&larr; previous</a>") && pages[1].html.contains("<a href=\"index.page-3.html\">next &rarr;</a>"))
        #expect(pages[0].html.contains("<li><a href=\"index.page-3.html\">inputs 5–5</a>: <a href=\"index.page-3.html#input-5\">in/5.png</a></li>"))
        // One page: no navigation at all.
        let single = Gallery.pages(bankName: "b", rows: Array(rows.prefix(2)), pageSize: 2) { _ in "index.html" }
        #expect(single.count == 1 && !single[0].html.contains("<nav") && single[0].html.contains("id=\"input-2\""))
    }

    // MARK: Sample for the README

    /// Writes `docs/sheet-chelsea-edges.png` (run with `CONVBANK_SAMPLE_SHEET=1 swift test --filter sampleSheet`).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["CONVBANK_SAMPLE_SHEET"] != nil))
    func sampleSheet() throws {
        let root = Fixtures.repository
        let bank = try FilterBank.load("edges")
        let decoded = try ImageCodec.decode(path: root.appendingPathComponent("SampleImages/chelsea.png").path)
        let maps = try bank.convolve(try decoded.tensor.adapted(toChannels: bank.channels), jobs: 2)
        for (colormap, suffix) in [(Colormap.gray, ""), (.viridis, "-viridis")] {
            let sheet = ContactSheet.render(title: "SampleImages/chelsea.png  -  bank edges", input: decoded.tensor,
                                            inputBitDepth: decoded.bitDepth, maps: maps, names: bank.filters.map(\.name),
                                            colormap: colormap, cellSize: 256)
            let url = root.appendingPathComponent("docs/sheet-chelsea-edges\(suffix).png")
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(try sheet.pngBytes(level: 9)).write(to: url)
        }
    }

    /// A few extreme values no longer flatten a sheet: the range is the 0.5–99.5 percentiles, and the label says so;
    /// maps without rare extremes keep min → max.
    @Test func sheetsStretchOverPercentilesWhenExtremesAreRare() throws {
        var values = (0..<10_000).map { Float($0 % 100) }  // 0…99, evenly
        values[17] = 5_000
        values[42] = -5_000
        let stretched = try #require(ContactSheet.displayRange(values))
        #expect(stretched.clipped && stretched.lo >= 0 && stretched.hi <= 99)
        #expect(ContactSheet.stretchedLabels(range: (stretched.lo, stretched.hi), colormap: .gray)[0].hasPrefix("0.5%ile"))
        let even = try #require(ContactSheet.displayRange((0..<10_000).map { Float($0 % 2) }))  // two values, half each
        #expect(!even.clipped && even.lo == 0 && even.hi == 1)
        let sparse = try #require(ContactSheet.displayRange((0..<10_000).map { $0 == 5 ? 7 : 0 }))  // one non-zero
        #expect(!sparse.clipped && sparse.lo == 0 && sparse.hi == 7)
    }
}
