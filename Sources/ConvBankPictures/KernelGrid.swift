import ConvBankEngine
import ConvBankImageIO

/// The classic "conv1 filters" figure: every filter's kernel drawn as a small image, one tile per filter, each
/// weight a `scale × scale` block (nearest-neighbour enlargement, so a 3×3 kernel shows as nine squares), labelled
/// with the filter's name.
///
/// How weights become colours — one range for the whole layer (every filter, every channel), so tiles compare:
/// - **`gray`** (default): `t = (w − min) / (max − min)` over the layer; a 3-channel filter is drawn in colour, its
///   three channels as red, green and blue levels `round(255 · t)` (the classic figure); a 1-channel filter as the
///   gray level `round(255 · t)`. A constant layer is mid-gray (128).
/// - **`diverging`**: symmetric about 0, `t = w / (2 · max|w|) + ½`, so 0 is the middle: a 1-channel weight is blue
///   (−max|w|, `#2166ac`) through white (0, `#f7f7f7`) to red (+max|w|, `#b2182b`), linearly between those three; a
///   3-channel filter's levels are `round(255 · t)` per channel (0 is mid-gray).
///
/// Layouts:
/// - **Tiles** (filters of 1 channel, or of 3 channels unless `split`): a grid of `ceil(√n)` columns in filter
///   order, each cell the kernel in a one-pixel frame with the filter's name under it.
/// - **Rows** (any other channel count, or `split`): one row per filter — its name, then its per-channel kernels
///   (in gray or diverging) — with the channel index above each column. At most `maxChannelColumns` channels are
///   shown (the first ones); the picture says how many of how many.
///
/// A network whose preprocessing swaps red and blue (`caffe`, or a scale/offset with `"bgr": true`) has filters
/// whose channel 0 reads blue: pass `bgr` and a colour tile shows channel 2 as red and channel 0 as blue, so the
/// tile's colours are the colours of the photo the filter responds to.
public enum KernelGrid {
    /// How weights become colours (see `KernelGrid`).
    public enum Coloring: String, CaseIterable, Sendable {
        /// `(w − min) / (max − min)` over the layer: black to white, or each channel's level in colour.
        case gray
        /// Symmetric about 0: blue, white, red (colour filters: 0 is mid-gray).
        case diverging
    }

    /// Why a kernel grid cannot be drawn.
    public enum GridError: Error, Sendable, Equatable, CustomStringConvertible {
        /// The picture would have more than `maxPixels` pixels.
        case tooLarge(width: Int, height: Int, limit: Int)
        /// The bank holds a NaN or an infinite weight.
        case nonFinite(filter: String)

        /// The one-line message.
        public var description: String {
            switch self {
            case let .tooLarge(width, height, limit):
                return "the kernel picture would be \(width)×\(height) pixels, over the limit of \(limit): give a smaller --scale (or pick a layer with fewer filters)"
            case let .nonFinite(filter):
                return "filter '\(filter)' has a NaN or infinite weight: nothing to draw"
            }
        }
    }

    /// Channels shown per filter in the rows layout; the rest are left out (and the picture says so).
    public static let maxChannelColumns = 16
    /// The largest picture drawn (64 MP, 192 MB of RGB).
    public static let maxPixels = 1 << 26

    // Colours of the picture itself (those of a contact sheet).
    static let background = Picture.Color(gray: 40)
    static let frame = Picture.Color(gray: 110)
    static let text = Picture.Color(gray: 235)
    static let dimText = Picture.Color(gray: 175)
    /// The diverging map's ends and middle (ColorBrewer RdBu).
    static let negative = Picture.Color(33, 102, 172), zero = Picture.Color(247, 247, 247), positive = Picture.Color(178, 24, 43)

    /// The pixels per weight when none is given: `64 / longest kernel side`, between 1 and 16 (3×3 → 16, 7×7 → 9,
    /// 11×11 → 5, 29×29 → 2, 61×61 → 1).
    public static func defaultScale(for bank: FilterBank) -> Int {
        let side = bank.filters.map { max($0.kernel.height, $0.kernel.width) }.max() ?? 1
        return min(max(64 / max(side, 1), 1), 16)
    }

    /// Whether `bank` is drawn as tiles (one per filter) rather than rows of per-channel kernels.
    /// - Parameters:
    ///   - bank: the filters.
    ///   - split: rows even for 1- or 3-channel filters.
    public static func usesTiles(_ bank: FilterBank, split: Bool) -> Bool {
        !split && (bank.filters[0].channels == 1 || bank.filters[0].channels == 3)
    }

    /// Where things go: title lines, and for every filter and shown channel the kernel's top-left pixel.
    struct Layout {
        var width = 0, height = 0
        var lines: [(text: String, x: Int, y: Int, color: Picture.Color)] = []
        /// `tiles[f]`: per shown channel (one entry, channel -1, for a colour tile), the kernel's top-left corner.
        var tiles: [[(channel: Int, x: Int, y: Int)]] = []
    }

    /// The picture's layout (pure; `render` paints it).
    static func layout(bank: FilterBank, title: String, scale: Int, coloring: Coloring, split: Bool, bgr: Bool) -> Layout {
        var out = Layout()
        let margin = 12, gap = 10, lh = Picture.lineHeight() + 3
        let n = bank.filters.count
        let channels = bank.filters[0].channels
        let kh = bank.filters.map(\.kernel.height).max() ?? 1, kw = bank.filters.map(\.kernel.width).max() ?? 1
        let tileW = kw * scale + 2, tileH = kh * scale + 2   // with the frame
        let (lo, hi) = range(bank)
        let tiles = usesTiles(bank, split: split)
        let colour = tiles && channels == 3
        var texts = [title]
        let sizesDiffer = bank.filters.contains { $0.kernel != bank.filters[0].kernel }
        let shape = "\(n) filter\(n == 1 ? "" : "s") \(sizesDiffer ? "up to " : "")\(kh)×\(kw)×\(channels)" + (bank.groups > 1 ? " (\(bank.groups) groups)" : "")
        let how: String
        switch (coloring, colour) {
        case (.gray, true): how = "RGB = the filter's 3 channels\(bgr ? " (swapped back: the network reads BGR)" : ""), each (w - min)/(max - min) over the layer"
        case (.gray, false): how = "gray = (w - min)/(max - min) over the layer: min -> black, max -> white"
        case (.diverging, true): how = "RGB = the filter's 3 channels\(bgr ? " (swapped back: the network reads BGR)" : ""), each w/(2 max|w|) + 1/2: 0 -> mid-gray"
        case (.diverging, false): how = "blue = -max|w|, white = 0, red = +max|w| over the layer"
        }
        texts.append(shape + "; " + how)
        let m = max(abs(lo), abs(hi))
        texts.append(coloring == .gray ? "weights: min \(ContactSheet.format(lo)), max \(ContactSheet.format(hi)); \(scale) px per weight"
                     : "weights: max|w| \(ContactSheet.format(m)) (min \(ContactSheet.format(lo)), max \(ContactSheet.format(hi))); \(scale) px per weight")
        let shownChannels = tiles ? 1 : min(channels, maxChannelColumns)
        if !tiles {
            texts.append(channels > maxChannelColumns
                ? "one row per filter: channels 0-\(shownChannels - 1) of \(channels) shown (the first \(maxChannelColumns))"
                : "one row per filter, one kernel per channel")
        }
        var y = margin
        for t in texts {
            out.lines.append((t, margin, y, t == title ? text : dimText))
            y += lh
        }
        y += gap
        var right = margin + texts.map { Picture.textWidth($0) }.max()!
        if tiles {
            let columns = max(1, Int(Double(n).squareRoot().rounded(.up)))
            // Wide enough for names of up to 16 characters (longer ones are cut with `...`).
            let longest = bank.filters.map { Picture.textWidth($0.name) }.max() ?? 0
            let cellW = max(tileW, 6 * BitmapFont.glyphWidth, min(longest, 16 * BitmapFont.glyphWidth)), cellH = tileH + 4 + lh
            for f in 0..<n {
                let cx = margin + (f % columns) * (cellW + gap), cy = y + (f / columns) * (cellH + gap)
                let filter = bank.filters[f]
                let fw = filter.kernel.width * scale + 2, fh = filter.kernel.height * scale + 2
                let tx = cx + (cellW - fw) / 2, ty = cy + (tileH - fh) / 2
                out.tiles.append([(colour ? -1 : 0, tx + 1, ty + 1)])
                let name = Picture.fitting(filter.name, maxWidth: cellW)
                out.lines.append((name, cx + (cellW - Picture.textWidth(name)) / 2, cy + tileH + 4, text))
                right = max(right, cx + cellW)
            }
            let rows = (n + columns - 1) / columns
            out.height = y + rows * (cellH + gap) - gap + margin
        } else {
            let nameW = min(max(bank.filters.map { Picture.textWidth($0.name) }.max() ?? 0, Picture.textWidth("ch 00")), 16 * BitmapFont.glyphWidth)
            let columnW = max(tileW, Picture.textWidth("ch \(channels - 1)")) + gap
            let x0 = margin + nameW + gap
            // Column headings: the input channel each column shows (grouped filters: of their first group's).
            for c in 0..<shownChannels {
                let label = "ch \(c)"
                out.lines.append((label, x0 + c * columnW + (columnW - gap - Picture.textWidth(label)) / 2, y, dimText))
            }
            y += lh
            let rowH = max(tileH, lh) + gap
            for f in 0..<n {
                let filter = bank.filters[f]
                let ry = y + f * rowH
                out.lines.append((Picture.fitting(filter.name, maxWidth: nameW), margin, ry + (tileH - Picture.lineHeight()) / 2, text))
                var row: [(channel: Int, x: Int, y: Int)] = []
                for c in 0..<shownChannels {
                    let fw = filter.kernel.width * scale + 2, fh = filter.kernel.height * scale + 2
                    row.append((c, x0 + c * columnW + (columnW - gap - fw) / 2 + 1, ry + (tileH - fh) / 2 + 1))
                }
                out.tiles.append(row)
            }
            right = max(right, x0 + shownChannels * columnW - gap)
            out.height = y + n * rowH - gap + margin
        }
        out.width = right + margin
        return out
    }

    /// The layer's smallest and largest weight.
    static func range(_ bank: FilterBank) -> (lo: Float, hi: Float) {
        var lo = Float.infinity, hi = -Float.infinity
        for filter in bank.filters { for w in filter.weights { lo = min(lo, w); hi = max(hi, w) } }
        return lo <= hi ? (lo, hi) : (0, 0)
    }

    /// The size of the picture `render` would draw, worked out without drawing (saturating; for the limit check).
    static func size(bank: FilterBank, scale: Int, split: Bool) -> (width: Int, height: Int) {
        let n = bank.filters.count, channels = bank.filters[0].channels
        let kh = bank.filters.map(\.kernel.height).max() ?? 1, kw = bank.filters.map(\.kernel.width).max() ?? 1
        let tileW = (Saturating(kw) * scale + 2).value, tileH = (Saturating(kh) * scale + 2).value
        if usesTiles(bank, split: split) {
            let columns = max(1, Int(Double(n).squareRoot().rounded(.up))), rows = (n + columns - 1) / columns
            return ((Saturating(max(tileW, 96) + 10) * columns + 24).value, (Saturating(tileH + 30) * rows + 80).value)
        }
        let shown = min(channels, maxChannelColumns)
        return ((Saturating(max(tileW, 30) + 10) * shown + 150).value, (Saturating(max(tileH, 16) + 10) * n + 100).value)
    }

    /// Draws the kernels of `bank` (see `KernelGrid` for colours and layout).
    /// - Parameters:
    ///   - bank: the filters (a bank, or a network's convolution layer).
    ///   - title: the first line, e.g. the file and the layer's name.
    ///   - scale: pixels per weight (at least 1); nil takes `defaultScale(for:)`.
    ///   - coloring: `gray` (min to max over the layer) or `diverging` (symmetric about 0).
    ///   - split: rows of per-channel kernels even for 1- and 3-channel filters.
    ///   - bgr: the filters' channel 0 reads blue (a network preprocessing in BGR order): colour tiles show channel 2
    ///     as red.
    /// - Throws: `GridError` when the picture would be over `maxPixels`, or a weight is not finite.
    /// - Complexity: O(picture pixels + weights).
    public static func render(bank: FilterBank, title: String, scale: Int? = nil, coloring: Coloring = .gray, split: Bool = false,
                              bgr: Bool = false) throws(GridError) -> Picture {
        let scale = max(scale ?? defaultScale(for: bank), 1)
        if let bad = bank.filters.first(where: { $0.weights.contains { !$0.isFinite } }) { throw .nonFinite(filter: bad.name) }
        let estimate = size(bank: bank, scale: scale, split: split)
        guard (Saturating(estimate.width) * estimate.height).value <= maxPixels else {
            throw .tooLarge(width: estimate.width, height: estimate.height, limit: maxPixels)
        }
        let l = layout(bank: bank, title: title, scale: scale, coloring: coloring, split: split, bgr: bgr)
        guard (Saturating(l.width) * l.height).value <= maxPixels else { throw .tooLarge(width: l.width, height: l.height, limit: maxPixels) }
        var picture = Picture(width: l.width, height: l.height, filling: background)
        for line in l.lines { picture.drawText(line.text, x: line.x, y: line.y, color: line.color) }
        let (lo, hi) = range(bank)
        let m = max(abs(lo), abs(hi))
        for (f, row) in l.tiles.enumerated() {
            let filter = bank.filters[f]
            for tile in row {
                picture.strokeRectangle(x: tile.x - 1, y: tile.y - 1, width: filter.kernel.width * scale + 2,
                                        height: filter.kernel.height * scale + 2, with: frame)
                for i in 0..<filter.kernel.height {
                    for j in 0..<filter.kernel.width {
                        let color: Picture.Color
                        if tile.channel < 0 {
                            let order = bgr ? [2, 1, 0] : [0, 1, 2]
                            let levels = order.map { level(filter[$0, i, j], lo: lo, hi: hi, maxAbs: m, coloring: coloring) }
                            color = Picture.Color(levels[0], levels[1], levels[2])
                        } else {
                            color = self.color(filter[tile.channel, i, j], lo: lo, hi: hi, maxAbs: m, coloring: coloring)
                        }
                        picture.fill(x: tile.x + j * scale, y: tile.y + i * scale, width: scale, height: scale, with: color)
                    }
                }
            }
        }
        return picture
    }

    /// One channel's level of a colour tile: `round(255 · t)` with `t` as `coloring` says (a constant layer: 128).
    static func level(_ w: Float, lo: Float, hi: Float, maxAbs: Float, coloring: Coloring) -> UInt8 {
        let t: Double
        switch coloring {
        case .gray: t = hi > lo ? (Double(w) - Double(lo)) / (Double(hi) - Double(lo)) : 0.5
        case .diverging: t = maxAbs > 0 ? Double(w) / (2 * Double(maxAbs)) + 0.5 : 0.5
        }
        return UInt8((min(max(t, 0), 1) * 255).rounded())
    }

    /// A one-channel weight's colour: its gray level, or on the diverging map blue–white–red (linear between the
    /// three, each channel rounded).
    static func color(_ w: Float, lo: Float, hi: Float, maxAbs: Float, coloring: Coloring) -> Picture.Color {
        switch coloring {
        case .gray:
            return Picture.Color(gray: level(w, lo: lo, hi: hi, maxAbs: maxAbs, coloring: .gray))
        case .diverging:
            let t = maxAbs > 0 ? min(max(Double(w) / (2 * Double(maxAbs)) + 0.5, 0), 1) : 0.5
            let (a, b, u) = t < 0.5 ? (negative, zero, t * 2) : (zero, positive, (t - 0.5) * 2)
            func mix(_ p: UInt8, _ q: UInt8) -> UInt8 { UInt8((Double(p) + (Double(q) - Double(p)) * u).rounded()) }
            return Picture.Color(mix(a.red, b.red), mix(a.green, b.green), mix(a.blue, b.blue))
        }
    }
}
