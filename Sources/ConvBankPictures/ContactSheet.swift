import ConvBankEngine
import ConvBankImageIO
import Foundation

/// One picture per input image showing the input and every feature map of a bank in a labelled grid.
///
/// Layout, top to bottom: a title bar (the title, then a line saying how maps are drawn, and a colour bar of the
/// colormap from min to max); then a grid of `columns = ceil(√(n + 1))` columns and `ceil((n + 1) / columns)` rows
/// of cells, read left to right: first the input, then the `n` maps in bank order. Each cell is the image, centred
/// in a `columnWidth × imageAreaHeight` area with a one-pixel frame, and two label lines under it: the filter name,
/// and how its values became colours, e.g. `min -812 -> black, max 790 -> white`, or, when a few extreme values
/// would flatten the picture, `0.5%ile -120 -> black, 99.5%ile 131 -> white` (the extremes are clipped).
///
/// - Each map is normalised on its own: `t = (v − min) / (max − min)` over the map's finite values (+∞ counts as
///   max, −∞ and NaN as min), then drawn as `colormap.color(t)`; so `min` is exactly black (`#440154` for viridis)
///   and `max` exactly white (`#fde725`). A constant map is drawn mid-gray (viridis: its middle entry) and its label
///   says so.
/// - Images are scaled by `s = min(cellSize / width, cellSize / height, 2)`, keeping the aspect ratio: shrinking
///   averages the covered area (a box filter, exact fractional coverage, each axis separately), enlarging (at most
///   2×, for small maps) repeats pixels (nearest neighbour).
/// - The input shows its raw samples: 1 or 2 channels as gray, 3 or 4 as RGB (alpha ignored), each sample divided
///   by the bit depth's maximum (255, or 65535 when `inputBitDepth > 8`).
/// - Text uses the built-in 6×13 bitmap font at `textScale` (1 or 2); columns are at least 36 characters wide; a
///   normalisation label that does not fit takes a shorter form (numbers are never cut); names are cut with `...`.
public enum ContactSheet {
    /// Colours of the sheet itself.
    static let background = Picture.Color(gray: 40)
    static let titleBackground = Picture.Color(gray: 20)
    static let frame = Picture.Color(gray: 110)
    static let text = Picture.Color(gray: 235)
    static let dimText = Picture.Color(gray: 175)

    /// Renders the contact sheet of one image.
    /// - Parameters:
    ///   - title: The title bar's text, e.g. the input path and the bank name.
    ///   - input: The decoded image, raw samples, 1–4 channels.
    ///   - inputBitDepth: The file's bit depth (8 or 16; ≤ 8 means 0…255).
    ///   - maps: One-channel tensors, any values; or 3-channel colour results (`apply --per-channel`), drawn as RGB
    ///     with one range over all three channels (each channel `t = (v − lo) / (hi − lo)`), whatever `colormap`.
    ///   - names: One name per map.
    ///   - colormap: How normalised values become colours.
    ///   - cellSize: The longest side of a shown image, in pixels (at least 16).
    ///   - textScale: 1 or 2: each font pixel as a 1×1 or 2×2 block.
    /// - Complexity: O(input samples + map samples + sheet pixels).
    public static func render(title: String, input: Tensor, inputBitDepth: Int, maps: [Tensor], names: [String],
                              colormap: Colormap = .gray, cellSize: Int = 256, textScale: Int = 1) -> Picture {
        precondition(maps.count == names.count, "one name per map")
        precondition((1...4).contains(input.channels), "the input has 1 to 4 channels")
        precondition(maps.allSatisfy { $0.channels == 1 || $0.channels == 3 }, "maps have one channel, or three (colour)")
        precondition(cellSize >= 16, "cellSize is at least 16")
        precondition((1...2).contains(textScale), "textScale is 1 or 2")

        let layout = Layout(cellSize: cellSize, textScale: textScale, count: maps.count + 1,
                            shown: ([input] + maps).map { displaySize(width: $0.width, height: $0.height, cellSize: cellSize) })
        var sheet = Picture(width: layout.width, height: layout.height, filling: background)
        drawTitleBar(&sheet, title: title, mapCount: maps.count, colormap: colormap, layout: layout)

        // The input.
        let inputLabel = "\(input.width)×\(input.height) \(channelDescription(input.channels)), "
            + "\(inputBitDepth > 8 ? 16 : 8)-bit" + (input.channels == 2 || input.channels == 4 ? " (alpha not shown)" : "")
        drawCell(&sheet, index: 0, picture: inputPicture(input, bitDepth: inputBitDepth, size: layout.shown[0]),
                 name: "input", details: [inputLabel], layout: layout)

        // The maps.
        for (i, map) in maps.enumerated() {
            let stretch = displayRange(map.storage)
            let range = stretch.map { (lo: $0.lo, hi: $0.hi) }
            // A colour result is drawn in its own colours, black to white per channel.
            let mapColormap = map.channels == 3 ? Colormap.gray : colormap
            let labels = stretch?.clipped == true
                ? stretchedLabels(range: range!, colormap: mapColormap) : normalisationLabels(range: range, colormap: mapColormap)
            drawCell(&sheet, index: i + 1, picture: mapPicture(map, range: range, colormap: mapColormap, size: layout.shown[i + 1]),
                     name: names[i], details: labels, layout: layout)
        }
        return sheet
    }

    /// The bytes that `render` and encoding its picture take for an input of `input` extent and maps of `maps`
    /// extents: the RGB picture, its PNG (at most about its size again), and one stretched copy of a map at a time.
    /// Saturates at `Int.max`; worked out before anything is drawn, for the memory budget.
    package static func memoryBytes(input: Extent2D, maps: [Extent2D], cellSize: Int = 256, textScale: Int = 1) -> Int {
        let shown = ([input] + maps).map { displaySize(width: $0.width, height: $0.height, cellSize: cellSize) }
        let layout = Layout(cellSize: cellSize, textScale: textScale, count: maps.count + 1, shown: shown)
        let largest = maps.map { (Saturating($0.height) * $0.width).value }.max() ?? 0
        return (Saturating(layout.width) * layout.height * 3 * 2 + Saturating(largest) * 8).value
    }

    /// The second label line of a map: how its values became colours, e.g. `min -812 → black, max 790 → white`
    /// (`→` draws as `->`).
    static func normalisationLabel(range: (lo: Float, hi: Float)?, colormap: Colormap) -> String {
        normalisationLabels(range: range, colormap: colormap)[0]
    }

    /// `normalisationLabel` and shorter forms of it, longest first, for narrow columns: the sheet draws the first
    /// that fits, so numbers are never cut.
    static func normalisationLabels(range: (lo: Float, hi: Float)?, colormap: Colormap) -> [String] {
        guard let range else { return ["no finite values → \(colormap.endNames.low)"] }
        let lo = format(range.lo), hi = format(range.hi)
        guard range.lo < range.hi else { return ["constant \(lo) → \(colormap.middleName)", "constant \(lo)"] }
        let (low, high) = colormap.endNames
        return ["min \(lo) → \(low), max \(hi) → \(high)", "\(lo) → \(low), \(hi) → \(high)", "\(low) \(lo) … \(high) \(hi)",
                "\(lo) … \(hi)"]
    }

    // MARK: - Layout

    /// Where everything goes on a sheet.
    struct Layout {
        let scale: Int
        let margin = 12
        let gap = 14
        let lineHeight: Int
        let columns: Int
        let rows: Int
        let columnWidth: Int
        let imageAreaHeight: Int
        let cellHeight: Int
        let titleHeight: Int
        let width: Int
        let height: Int
        /// Shown size (width, height) of each cell's image.
        let shown: [(width: Int, height: Int)]

        init(cellSize: Int, textScale: Int, count: Int, shown: [(width: Int, height: Int)]) {
            scale = textScale
            lineHeight = Picture.lineHeight(scale: textScale) + 2 * textScale
            columns = max(1, Int(Double(count).squareRoot().rounded(.up)))
            rows = (count + columns - 1) / columns
            // At least 36 characters of label per column, whatever the cell size.
            columnWidth = max(cellSize, 36 * BitmapFont.glyphWidth * textScale) + 2
            imageAreaHeight = (shown.map(\.height).max() ?? cellSize) + 2
            cellHeight = imageAreaHeight + 6 + 2 * lineHeight
            titleHeight = 10 + 2 * lineHeight + 6
            self.shown = shown
            width = 2 * margin + columns * columnWidth + (columns - 1) * gap
            height = titleHeight + margin + rows * cellHeight + (rows - 1) * gap + margin
        }

        /// Top-left corner of cell `index` (its image area).
        func origin(of index: Int) -> (x: Int, y: Int) {
            (margin + (index % columns) * (columnWidth + gap), titleHeight + margin + (index / columns) * (cellHeight + gap))
        }
    }

    /// The size an image of `width × height` is shown at: scaled by `min(cellSize / w, cellSize / h, maxScale)`, each
    /// side at least 1 and at most `cellSize`.
    static func displaySize(width: Int, height: Int, cellSize: Int, maxScale: Double = 2) -> (width: Int, height: Int) {
        guard width > 0, height > 0 else { return (1, 1) }
        let s = min(Double(cellSize) / Double(width), Double(cellSize) / Double(height), maxScale)
        return (min(max(1, Int((Double(width) * s).rounded())), cellSize), min(max(1, Int((Double(height) * s).rounded())), cellSize))
    }

    static func drawTitleBar(_ sheet: inout Picture, title: String, mapCount: Int, colormap: Colormap, layout: Layout) {
        let s = layout.scale
        sheet.fill(x: 0, y: 0, width: sheet.width, height: layout.titleHeight, with: titleBackground)
        let textWidth = sheet.width - 2 * layout.margin
        sheet.drawText(Picture.fitting(title, maxWidth: textWidth, scale: s), x: layout.margin, y: 8, color: text, scale: s)

        // Second line: how maps are drawn, and a colour bar when there is room.
        let bar = (width: 128 * s, height: Picture.lineHeight(scale: s) - 2 * s)
        let legendText = "  min " + "\u{2192}" + " "
        let barSpace = Picture.textWidth(legendText, scale: s) + bar.width + Picture.textWidth(" max", scale: s)
        let line = "\(mapCount) map\(mapCount == 1 ? "" : "s"), each scaled over its own range (0.5-99.5 %ile when extremes are rare; see labels), colormap \(colormap.rawValue)"
        let y = 8 + layout.lineHeight
        let roomForBar = Picture.textWidth(line, scale: s) + barSpace <= textWidth
        sheet.drawText(Picture.fitting(line, maxWidth: roomForBar ? textWidth - barSpace : textWidth, scale: s),
                       x: layout.margin, y: y, color: dimText, scale: s)
        guard roomForBar else { return }
        var x = layout.margin + textWidth - barSpace
        sheet.drawText(legendText, x: x, y: y, color: dimText, scale: s)
        x += Picture.textWidth(legendText, scale: s)
        for i in 0..<bar.width {
            let color = colormap.color(Double(i) / Double(bar.width - 1))
            sheet.fill(x: x + i, y: y + s, width: 1, height: bar.height, with: color)
        }
        sheet.strokeRectangle(x: x - 1, y: y + s - 1, width: bar.width + 2, height: bar.height + 2, with: frame)
        sheet.drawText(" max", x: x + bar.width, y: y, color: dimText, scale: s)
    }

    /// Draws cell `index`: the picture in its frame, the name, and the first of `details` that fits (else the
    /// last, cut).
    static func drawCell(_ sheet: inout Picture, index: Int, picture: Picture, name: String, details: [String], layout: Layout) {
        let (x0, y0) = layout.origin(of: index)
        let x = x0 + (layout.columnWidth - picture.width) / 2
        let y = y0 + (layout.imageAreaHeight - picture.height) / 2
        sheet.strokeRectangle(x: x - 1, y: y - 1, width: picture.width + 2, height: picture.height + 2, with: frame)
        sheet.draw(picture, x: x, y: y)
        let s = layout.scale
        let labelY = y0 + layout.imageAreaHeight + 6
        sheet.drawText(Picture.fitting(name, maxWidth: layout.columnWidth, scale: s), x: x0, y: labelY, color: text, scale: s)
        let detail = details.first { Picture.textWidth($0, scale: s) <= layout.columnWidth } ?? details[details.count - 1]
        sheet.drawText(Picture.fitting(detail, maxWidth: layout.columnWidth, scale: s), x: x0, y: labelY + layout.lineHeight,
                       color: dimText, scale: s)
    }

    // MARK: - Pixels

    static func channelDescription(_ channels: Int) -> String {
        switch channels {
        case 1: "gray"
        case 2: "gray+alpha"
        case 3: "RGB"
        default: "RGBA"
        }
    }

    /// The input at `size`: gray or RGB, samples divided by the bit depth's maximum.
    static func inputPicture(_ input: Tensor, bitDepth: Int, size: (width: Int, height: Int)) -> Picture {
        let maxValue: Float = bitDepth > 8 ? 65535 : 255
        let shownChannels = input.channels >= 3 ? [0, 1, 2] : [0]
        let planes = shownChannels.map { c in
            resample(input, channel: c, to: size) { v in v.isFinite ? Double(min(max(v / maxValue, 0), 1)) : 0 }
        }
        var picture = Picture(width: size.width, height: size.height)
        for p in 0..<(size.width * size.height) {
            for k in 0..<3 {
                let t = planes[shownChannels.count == 3 ? k : 0][p]
                picture.rgb[3 * p + k] = UInt8((min(max(t, 0), 1) * 255).rounded())
            }
        }
        return picture
    }

    /// A map at `size`, normalised over `range` and coloured by `colormap`; a 3-channel map as RGB, each channel
    /// normalised over the same `range` and shown as 0…255.
    static func mapPicture(_ map: Tensor, range: (lo: Float, hi: Float)?, colormap: Colormap, size: (width: Int, height: Int)) -> Picture {
        let lo = Double(range?.lo ?? 0), hi = Double(range?.hi ?? 0)
        let constant = range != nil && lo == hi
        let normalised = { (v: Float) -> Double in
            if constant { return 0.5 }
            guard hi > lo else { return 0 }
            if v.isNaN || v == -.infinity { return 0 }
            if v == .infinity { return 1 }
            return stretch(Double(v), lo: lo, hi: hi)
        }
        var picture = Picture(width: size.width, height: size.height)
        if map.channels == 3 {
            for c in 0..<3 {
                for (p, t) in resample(map, channel: c, to: size, value: normalised).enumerated() {
                    picture.rgb[3 * p + c] = UInt8((min(max(t, 0), 1) * 255).rounded())
                }
            }
            return picture
        }
        let plane = resample(map, channel: 0, to: size, value: normalised)
        for (p, t) in plane.enumerated() {
            let color = colormap.color(t)
            picture.rgb[3 * p] = color.red
            picture.rgb[3 * p + 1] = color.green
            picture.rgb[3 * p + 2] = color.blue
        }
        return picture
    }

    /// The range a sheet stretches a map over: the 0.5th to 99.5th percentile of its finite values, so that a few
    /// extreme responses (a Sobel map spans ±3060 but most of it lies within ±200) do not flatten the picture to
    /// one gray; min to max when those percentiles are the extremes anyway or coincide (sparse maps).
    /// `clipped` tells which, for the label. Percentiles come from evenly spaced samples (`sampleStep`: 2^18 to 2^19
    /// of a large map).
    static func displayRange(_ values: [Float]) -> (lo: Float, hi: Float, clipped: Bool)? {
        guard let full = finiteRange(values) else { return nil }
        let step = sampleStep(count: values.count)
        var sample: [Float] = []
        sample.reserveCapacity(values.count / step + 1)
        var k = 0
        while k < values.count {
            if values[k].isFinite { sample.append(values[k]) }
            k += step
        }
        return displayRange(sample: sample, full: full)
    }

    /// The spacing of the values `displayRange` samples from a map of `count` values: every `step`-th value, from
    /// the first (`k = 0, step, 2·step, …`): every value of a map of fewer than 2^19 values, otherwise 2^18 to 2^19 of
    /// them.
    static func sampleStep(count: Int) -> Int { max(1, count >> 18) }

    /// `displayRange` from its finite samples (every `sampleStep`-th value of the map, in any order) and the map's
    /// finite range `full`: how a map that arrives in bands (`Thumbnail.Accumulator`) gets the same range.
    static func displayRange(sample unsorted: [Float], full: (lo: Float, hi: Float)) -> (lo: Float, hi: Float, clipped: Bool) {
        guard unsorted.count >= 200 else { return (full.lo, full.hi, false) }
        // The two order statistics a sort would put there, found by selection (no full sort of 2^18 values).
        var sample = unsorted
        let low = sample.count / 200, high = sample.count - 1 - sample.count / 200
        select(low, in: &sample, from: 0, to: sample.count)
        select(high, in: &sample, from: low, to: sample.count)
        let lo = sample[low], hi = sample[high]
        if lo >= hi || (lo == full.lo && hi == full.hi) { return (full.lo, full.hi, false) }
        return (lo, hi, true)
    }

    /// Rearranges `values[start..<end]` so that index `k` holds the value a sort would put there, none larger before
    /// it and none smaller after it (Hoare's selection, median-of-three pivots; after `2·log2(n) + 8` rounds it sorts
    /// what is left, so hostile orders cost O(n log n) at most). `values` are finite.
    /// - Complexity: O(end − start) expected.
    static func select(_ k: Int, in values: inout [Float], from start: Int, to end: Int) {
        precondition(start <= k && k < end && end <= values.count, "k inside the range")
        values.withUnsafeMutableBufferPointer { v in
            var lo = start, hi = end - 1
            var rounds = 2 * (Int.bitWidth - (end - start).leadingZeroBitCount) + 8
            while hi > lo {
                if rounds == 0 {
                    v[lo...hi].sort()
                    return
                }
                rounds -= 1
                let mid = lo + (hi - lo) / 2
                if v[mid] < v[lo] { v.swapAt(mid, lo) }
                if v[hi] < v[lo] { v.swapAt(hi, lo) }
                if v[hi] < v[mid] { v.swapAt(hi, mid) }
                let pivot = v[mid]
                var i = lo, j = hi
                while i <= j {
                    while v[i] < pivot { i += 1 }
                    while v[j] > pivot { j -= 1 }
                    if i <= j {
                        v.swapAt(i, j)
                        i += 1
                        j -= 1
                    }
                }
                // Now v[lo…j] ≤ pivot, v[i…hi] ≥ pivot and everything between equals it.
                if k <= j {
                    hi = j
                } else if k >= i {
                    lo = i
                } else {
                    return
                }
            }
        }
    }

    /// Labels for a map stretched over its 0.5–99.5 percentiles, longest first.
    static func stretchedLabels(range: (lo: Float, hi: Float), colormap: Colormap) -> [String] {
        let lo = format(range.lo), hi = format(range.hi)
        let (low, high) = colormap.endNames
        return ["0.5%ile \(lo) → \(low), 99.5%ile \(hi) → \(high)", "p0.5 \(lo) → \(low), p99.5 \(hi) → \(high)",
                "p0.5 \(lo) … p99.5 \(hi)", "\(lo) … \(hi) (1% clipped)"]
    }

    /// `v` stretched over `lo < hi` into `[0, 1]`: `(v − lo) / (hi − lo)`, clamped. How a sheet cell (and a gallery
    /// thumbnail) turns a finite map value into a level.
    static func stretch(_ v: Double, lo: Double, hi: Double) -> Double { min(max((v - lo) / (hi - lo), 0), 1) }

    /// The smallest and largest finite values, or nil when there are none.
    static func finiteRange(_ values: [Float]) -> (lo: Float, hi: Float)? {
        var lo = Float.infinity, hi = -Float.infinity
        for v in values where v.isFinite {
            lo = min(lo, v)
            hi = max(hi, v)
        }
        return lo <= hi ? (lo, hi) : nil
    }

    /// Channel `channel` of `tensor`, each sample mapped by `value`, resampled to `size`: per axis, area averaging
    /// (exact fractional coverage) when shrinking, nearest neighbour when enlarging.
    /// - Complexity: O(height · size.width + size.width · size.height) times the source pixels per output pixel.
    static func resample(_ tensor: Tensor, channel: Int, to size: (width: Int, height: Int), value: (Float) -> Double) -> [Double] {
        let w = tensor.width, h = tensor.height
        guard w > 0, h > 0 else { return [Double](repeating: 0, count: size.width * size.height) }
        let columns = weights(from: w, to: size.width)
        let rows = weights(from: h, to: size.height)
        // Horizontal pass: h × size.width.
        var horizontal = [Double](repeating: 0, count: h * size.width)
        tensor.storage.withUnsafeBufferPointer { storage in
            let base = channel * h * w
            for y in 0..<h {
                let row = base + y * w
                for (x, taps) in columns.enumerated() {
                    var sum = 0.0
                    for tap in taps { sum += value(storage[row + tap.index]) * tap.weight }
                    horizontal[y * size.width + x] = sum
                }
            }
        }
        // Vertical pass.
        var out = [Double](repeating: 0, count: size.width * size.height)
        for (y, taps) in rows.enumerated() {
            for x in 0..<size.width {
                var sum = 0.0
                for tap in taps { sum += horizontal[tap.index * size.width + x] * tap.weight }
                out[y * size.width + x] = sum
            }
        }
        return out
    }

    /// For each of `m` output positions along an axis of `n` source pixels, the source pixels it reads and their
    /// weights (summing to 1): the covered interval `[i·n/m, (i+1)·n/m)` when shrinking, the nearest pixel otherwise.
    static func weights(from n: Int, to m: Int) -> [[(index: Int, weight: Double)]] {
        (0..<m).map { taps(of: $0, from: n, to: m) }
    }

    /// Output position `i`'s entry of `weights(from:to:)`: the source pixels it reads, ascending, and their weights.
    static func taps(of i: Int, from n: Int, to m: Int) -> [(index: Int, weight: Double)] {
        if m >= n { return [(min(n - 1, (2 * i + 1) * n / (2 * m)), 1)] }
        let start = Double(i) * Double(n) / Double(m), end = Double(i + 1) * Double(n) / Double(m)
        var taps: [(index: Int, weight: Double)] = []
        var k = Int(start.rounded(.down))
        while Double(k) < end && k < n {
            let overlap = min(end, Double(k + 1)) - max(start, Double(k))
            if overlap > 0 { taps.append((k, overlap / (end - start))) }
            k += 1
        }
        return taps
    }

    // MARK: - Numbers

    /// A short human form of `value`: integers as integers, otherwise 4 significant digits (one decimal from 1000 up).
    static func format(_ value: Float) -> String { format(Double(value)) }

    /// A short human form of `value`: integers as integers, otherwise 4 significant digits (one decimal from 1000 up).
    static func format(_ value: Double) -> String {
        if !value.isFinite { return value.isNaN ? "NaN" : (value > 0 ? "inf" : "-inf") }
        if value == value.rounded() && abs(value) < 1e9 { return String(Int64(value)) }
        if abs(value) >= 1000 && abs(value) < 1e9 { return String(format: "%.1f", value) }
        return String(format: "%.4g", value)
    }
}
