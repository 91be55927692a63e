import ConvBankEngine
import ConvBankImageIO
import Foundation

/// One output pixel of one filter drawn as a picture: for every channel the receptive field, the kernel slice,
/// their elementwise products and the channel's partial sum; then the partial sums added, the bias, and the value
/// before and after the activation; below, the whole-image view — the input, each channel's partial map, a `+`
/// between them, `=` and the filter's map, with the explained pixel boxed on every map.
///
/// `labels(explanation:bankName:layer:imageExtent:partialMaps:map:inputView:)` lists every text the picture draws, so the numbers can
/// be checked without reading pixels; `html(explanation:image:partialMaps:map:bankName:layer:colormap:inputView:)` is the same content
/// as a self-contained web page.
public enum ExplainPicture {
    /// How the input is drawn in the whole-image view.
    public enum InputView: Sendable, Equatable {
        /// A decoded image: RGB (or gray) on the 0…255 scale (or up to its largest sample, for 16-bit and float
        /// images).
        case image
        /// A preprocessed image (values around 0): RGB (or gray) stretched over the shown channels' own range.
        case stretched
        /// A previous layer's maps: the channel whose partial sum is largest in magnitude, in gray over its own range.
        case largestChannel
    }

    /// The input channel `view` draws in gray, if it draws one: for `.largestChannel`, the input channel whose partial
    /// sum is largest in magnitude (the first of equals).
    static func drawnChannel(_ e: PixelExplanation, view: InputView) -> Int? {
        guard view == .largestChannel, !e.partials.isEmpty else { return nil }
        var best = 0
        for c in e.partials.indices where Swift.abs(e.partials[c]) > Swift.abs(e.partials[best]) { best = c }
        return e.firstChannel + best
    }

    // MARK: - Colours

    static let background = Picture.Color(gray: 250)
    static let textColor = Picture.Color(gray: 20)
    static let dimText = Picture.Color(gray: 105)
    static let cellBorder = Picture.Color(gray: 150)
    static let valueFill = Picture.Color(255, 255, 255)
    /// The fill of a receptive-field cell that lies in the padding (under `paddingHatch` stripes).
    static let paddingFill = Picture.Color(255, 222, 173)
    /// The diagonal stripes over `paddingFill`.
    static let paddingHatch = Picture.Color(226, 160, 90)
    static let weightFill = Picture.Color(222, 235, 255)
    static let productFill = Picture.Color(226, 246, 226)
    static let elidedFill = Picture.Color(gray: 232)
    static let partialColor = Picture.Color(30, 90, 200)
    static let resultColor = Picture.Color(190, 20, 20)
    /// The box that marks the explained pixel (output maps) and the receptive field (input).
    static let marker = Picture.Color(240, 20, 20)

    // MARK: - Layout model

    // Rendering is split in two: `layout(…)` is a pure function from the explanation (and the maps' value ranges) to
    // the boxes, texts and map slots of the picture, and `render(…)` paints that layout; tests check the layout.

    /// What a grid cell shows.
    enum CellKind: Sendable, Equatable {
        /// An input value inside the image.
        case value
        /// An input value in the padding (supplied by the padding mode), drawn hatched and marked `*`.
        case paddingValue
        case weight
        case product
        /// A `…` cell standing for rows or columns not shown (kernels larger than 7).
        case elided
    }

    /// A grid cell: a filled, framed rectangle with centred text.
    struct Cell: Sendable, Equatable {
        var x: Int, y: Int, width: Int, height: Int
        var kind: CellKind
        var text: String
        var scale: Int
    }

    /// One line of text, its top-left corner at `(x, y)`.
    struct Label: Sendable, Equatable {
        var text: String
        var x: Int, y: Int
        var scale: Int
        var color: Picture.Color
    }

    /// Where a map goes: `index` 0…C-1 is the partial map of the filter's channel `index`, `-1` the input image,
    /// `C` the filter's map. `marker` is the box to draw on it, in picture coordinates.
    struct MapSlot: Sendable, Equatable {
        var index: Int
        var x: Int, y: Int, width: Int, height: Int
        var marker: (x: Int, y: Int, width: Int, height: Int)

        static func == (a: MapSlot, b: MapSlot) -> Bool {
            a.index == b.index && a.x == b.x && a.y == b.y && a.width == b.width && a.height == b.height
                && a.marker == b.marker
        }
    }

    /// Everything drawn, in picture coordinates.
    struct Layout: Sendable {
        var width: Int
        var height: Int
        var cells: [Cell] = []
        var labels: [Label] = []
        var maps: [MapSlot] = []
        /// Horizontal rules: x, y, width.
        var rules: [(x: Int, y: Int, width: Int)] = []
        /// Small swatches (legend): rectangle and kind.
        var swatches: [(x: Int, y: Int, width: Int, height: Int, kind: CellKind)] = []
    }

    /// Kernels with more rows or columns than this show their first and last three, with `…` between.
    static let maxGridSide = 7
    /// Filters with more channels than this (a deeper layer reading many maps) show the `largestChannels` channels
    /// whose partial sums are largest in magnitude (in channel order), then one row and one map for all the others
    /// together (their partial sums and partial maps added).
    static let maxChannelRows = 8
    /// How many channels get their own row when there are more than `maxChannelRows`.
    public static let largestChannels = 6

    /// The rows (or columns) of an `n`-long kernel axis that are shown; `nil` is a `…`.
    static func shownIndices(_ n: Int) -> [Int?] {
        n <= maxGridSide ? Array(0..<n) : [0, 1, 2, nil, n - 3, n - 2, n - 1]
    }

    /// The filter channels that get a row, in channel order: every channel, or for more than `maxChannelRows` the
    /// `largestChannels` of largest |partial sum| (ties: the lower channel) and then `nil`, the row of all the others.
    /// - Parameter partials: the filter's per-channel partial sums.
    static func shownChannels(_ partials: [Float]) -> [Int?] {
        let c = partials.count
        guard c > maxChannelRows else { return Array(0..<c) }
        // A NaN partial ranks as the largest (it decides the sum).
        func key(_ c: Int) -> Float { let m = Swift.abs(partials[c]); return m.isNaN ? .infinity : m }
        let ranked = partials.indices.sorted { a, b in key(a) != key(b) ? key(a) > key(b) : a < b }
        return ranked.prefix(largestChannels).sorted().map { $0 } + [nil]
    }

    /// The channels not shown on their own row, and their partial sums added in channel order.
    static func rest(_ partials: [Float]) -> (channels: [Int], sum: Float) {
        let shown = Set(shownChannels(partials).compactMap { $0 })
        let others = partials.indices.filter { !shown.contains($0) }
        var sum: Float = 0
        for c in others { sum += partials[c] }
        return (others, sum)
    }

    /// The partial maps of the channels `rest` lists, added in channel order (nil without partial maps or a rest).
    static func restMap(_ partialMaps: [Tensor], channels: [Int]) -> Tensor? {
        guard let first = channels.first, partialMaps.count > channels.last ?? 0 else { return nil }
        var sum = partialMaps[first].storage
        for c in channels.dropFirst() {
            sum.withUnsafeMutableBufferPointer { s in
                partialMaps[c].storage.withUnsafeBufferPointer { p in for k in s.indices { s[k] += p[k] } }
            }
        }
        return Tensor(height: partialMaps[first].height, width: partialMaps[first].width, channels: 1, storage: sum)
    }

    /// A number in a grid cell: integers without decimals, others with 4 significant digits — keeping a trailing
    /// `.0` when a non-integer rounds to an integer there (`-1.000`, not `-1`).
    static func short(_ v: Float) -> String {
        let text = ContactSheet.format(v)
        guard v.isFinite, v != v.rounded(), !text.contains("."), !text.contains("e") else { return text }
        return String(format: "%#.4g", Double(v))
    }

    /// A number in the sum lines: integers without decimals, others with every digit (shortest round trip).
    static func full(_ v: Float) -> String { formatNumber(v) }

    /// The picture's title: the filter, the pixel, and the bank — or, for a network's layer, the layer and the network.
    static func title(_ e: PixelExplanation, bankName: String, layer: String?) -> String {
        "filter '\(e.filter)', output pixel x=\(e.x), y=\(e.y), " + (layer.map { "layer '\($0)' of network '\(bankName)'" } ?? "bank '\(bankName)'")
    }

    /// The lines of arithmetic under the channel rows: the channel sum, the bias, the activation.
    static func sumLines(_ e: PixelExplanation) -> [String] {
        let sum = e.partials.map(full).joined(separator: " + ")
        let channels = e.partials.count == 1 ? "channel 0 only: " : "sum of the \(e.partials.count) channel partials: "
        return [
            channels + sum + " = " + full(e.channelSum),
            "\(full(e.channelSum)) + bias \(full(e.bias)) = \(full(e.preActivation))  (before activation)",
            "\(e.activation.rawValue)(\(full(e.preActivation))) = \(full(e.postActivation))  (after activation: the map's value at x=\(e.x), y=\(e.y))",
        ]
    }

    /// Every text of the picture: the lines and captions in drawing order, then the numbers of the grid cells —
    /// what `render(explanation:image:partialMaps:map:bankName:layer:colormap:inputView:)` writes, before
    /// `Picture.displayText(_:)` turns typographic characters into their ASCII look-alikes.
    /// - Parameters:
    ///   - explanation: The explained pixel.
    ///   - bankName: Shown in the title: the bank's name, or with `layer` the network's.
    ///   - layer: The network layer the bank is (its name in the title), or nil for a bank.
    ///   - imageExtent: The input's size, for the facts line (default: the map's size, `explanation.output`).
    ///   - partialMaps: The filter's per-channel partial maps; they only add their value ranges and values to the
    ///     captions, and may be left out.
    ///   - map: The filter's map; likewise optional.
    ///   - inputView: How the input is drawn (its caption says so).
    public static func labels(explanation: PixelExplanation, bankName: String, layer: String? = nil, imageExtent: Extent2D? = nil,
                              partialMaps: [Tensor] = [], map: Tensor? = nil, inputView: InputView = .image) -> [String] {
        let l = layout(explanation: explanation, bankName: bankName, layer: layer, imageExtent: imageExtent ?? explanation.output,
                       partialMaps: partialMaps, map: map, inputView: inputView)
        return l.labels.map(\.text) + l.cells.map(\.text)
    }

    /// The picture's layout. `partialMaps` and `map` only add their value ranges and values to the captions (they
    /// may be empty / nil); the maps' display sizes come from `explanation.output` and `imageExtent`.
    static func layout(explanation e: PixelExplanation, bankName: String, layer: String? = nil, imageExtent: Extent2D,
                       partialMaps: [Tensor] = [], map: Tensor? = nil, inputView: InputView = .image) -> Layout {
        var out = Layout(width: 0, height: 0)
        let margin = 20
        let lh2 = Picture.lineHeight(scale: 2)
        var right = 0
        func label(_ text: String, _ x: Int, _ y: Int, scale: Int, color: Picture.Color = textColor) {
            out.labels.append(Label(text: text, x: x, y: y, scale: scale, color: color))
            right = max(right, x + Picture.textWidth(text, scale: scale))
        }

        let taps = e.taps
        let top = taps.map(\.inputY).min() ?? 0, bottom = taps.map(\.inputY).max() ?? 0
        let left = taps.map(\.inputX).min() ?? 0, rightX = taps.map(\.inputX).max() ?? 0
        let g = e.geometry
        // Channel rows: grids sized alike across channels.
        let rowsShown = shownIndices(e.kernel.height), colsShown = shownIndices(e.kernel.width)
        let channelsShown = shownChannels(e.partials)
        let others = rest(e.partials)
        let perChannel = e.kernel.height * e.kernel.width
        func tap(_ c: Int, _ i: Int, _ j: Int) -> PixelExplanation.Tap { taps[c * perChannel + i * e.kernel.width + j] }
        func texts(_ c: Int, _ kind: CellKind) -> [[(String, CellKind)]] {
            rowsShown.map { i in
                colsShown.map { j in
                    guard let i, let j else { return ("…", .elided) }
                    let t = tap(c, i, j)
                    switch kind {
                    case .weight: return (short(t.weight), .weight)
                    case .product: return (short(t.value * t.weight), .product)
                    default: return (short(t.value) + (t.inPadding ? "*" : ""), t.inPadding ? .paddingValue : .value)
                    }
                }
            }
        }
        let gridScale = colsShown.count <= 5 ? 2 : 1
        let cellHeight = Picture.lineHeight(scale: gridScale) + 10
        var widths: [CellKind: Int] = [:]
        for case let c? in channelsShown {
            for kind in [CellKind.value, .weight, .product] {
                for row in texts(c, kind) {
                    for (text, _) in row {
                        widths[kind] = max(widths[kind] ?? cellHeight, Picture.textWidth(text, scale: gridScale) + 12)
                    }
                }
            }
        }
        let channelLabelWidth = Picture.textWidth("ch \(e.firstChannel + e.partials.count - 1)", scale: 2) + 16
        let gridHeight = rowsShown.count * cellHeight
        let opWidth = Picture.textWidth("=", scale: 3) + 24
        let gridX: [CellKind: Int] = {
            var x = margin + channelLabelWidth
            var result: [CellKind: Int] = [:]
            for kind in [CellKind.value, .weight, .product] {
                result[kind] = x
                x += colsShown.count * (widths[kind] ?? cellHeight) + opWidth
            }
            return result
        }()
        let sumX = gridX[.product]! + colsShown.count * (widths[.product] ?? cellHeight) + 14

        // Whole-image row metrics (needed up front: the text above wraps to the picture's width).
        let mapCount = channelsShown.count + 2
        let cell = mapCount <= 5 ? 220 : (mapCount <= 7 ? 180 : 150)
        let slotWidth = cell
        let bigOp = 4, bigOpWidth = Picture.textWidth("+", scale: bigOp) + 28
        let mapsRight = margin + slotWidth + 30 + channelsShown.count * slotWidth
            + channelsShown.count * bigOpWidth + slotWidth
        let partialTextWidth = e.partials.map { Picture.textWidth("-> sum = " + full($0), scale: 2) }.max() ?? 0
        let contentWidth = max(mapsRight, sumX + partialTextWidth, 60 * Picture.textWidth("0", scale: 2) + margin) - margin

        // Title and the facts of the convolution, wrapped to the picture's width.
        var y = margin
        func paragraph(_ text: String, indent: Int = 0, scale: Int, color: Picture.Color) {
            for piece in wrap(text, width: contentWidth - indent, scale: scale) {
                label(piece, margin + indent, y, scale: scale, color: color)
                y += Picture.lineHeight(scale: scale) + 3
            }
        }
        paragraph(title(e, bankName: bankName, layer: layer), scale: 3, color: textColor)
        y += 4
        paragraph("map \(e.output.width)×\(e.output.height) (W×H) from a \(imageExtent.width)×\(imageExtent.height) input; receptive field: input rows \(top)…\(bottom), columns \(left)…\(rightX)",
                  scale: 2, color: dimText)
        paragraph("kernel \(e.kernel.shape) × \(e.partials.count) channel\(e.partials.count == 1 ? "" : "s"), dilation \(e.dilation.shape); pads T,B,L,R = \(g.insets); padding mode \(e.paddingMode.rawValue); activation \(e.activation.rawValue)",
                  scale: 2, color: dimText)
        let padded = taps.filter(\.inPadding).count
        if padded > 0 {
            out.swatches.append((margin, y - 1, 40, lh2 + 2, .paddingValue))
            paragraph("= in the padding (also marked *): \(padded) of \(taps.count) taps, value supplied by padding mode '\(e.paddingMode.rawValue)'",
                      indent: 48, scale: 2, color: dimText)
        }
        if e.separable {
            paragraph("rank-1 kernel: the engine (and these partial sums) run it as a row pass then a column pass", scale: 2, color: dimText)
        }
        y += 14

        // Column headings: scale 2 where they fit above their grid.
        let headings: [(String, Int, Int)] = [
            ("input values", gridX[.value]!, colsShown.count * (widths[.value] ?? cellHeight) + opWidth - 6),
            ("kernel slice", gridX[.weight]!, colsShown.count * (widths[.weight] ?? cellHeight) + opWidth - 6),
            ("value × weight", gridX[.product]!, colsShown.count * (widths[.product] ?? cellHeight) + 8),
            ("partial sum", sumX + Picture.textWidth("-> sum = ", scale: 2), .max),
        ]
        let headingScale = headings.allSatisfy { Picture.textWidth($0.0, scale: 2) <= $0.2 } ? 2 : 1
        for (text, hx, _) in headings { label(text, hx, y, scale: headingScale, color: dimText) }
        y += Picture.lineHeight(scale: headingScale) + 5

        for entry in channelsShown {
            guard let c = entry else {
                label("+ the other \(others.channels.count) channels (smaller |partial sum|), added in channel order: \(full(others.sum))",
                      margin, y + 4, scale: 2, color: dimText)
                y += lh2 + 18
                continue
            }
            label("ch \(e.firstChannel + c)", margin, y + (gridHeight - lh2) / 2, scale: 2)
            for kind in [CellKind.value, .weight, .product] {
                let w = widths[kind] ?? cellHeight
                for (r, row) in texts(c, kind).enumerated() {
                    for (k, (text, cellKind)) in row.enumerated() {
                        out.cells.append(Cell(x: gridX[kind]! + k * w, y: y + r * cellHeight, width: w + 1, height: cellHeight + 1,
                                              kind: cellKind, text: text, scale: gridScale))
                    }
                }
                let gridRight = gridX[kind]! + colsShown.count * w
                if kind != .product {
                    let op = kind == .value ? "×" : "="
                    label(op, gridRight + (opWidth - Picture.textWidth(op, scale: 3)) / 2, y + (gridHeight - Picture.lineHeight(scale: 3)) / 2,
                          scale: 3)
                }
            }
            let sumLabel = "-> sum = "
            let sy = y + (gridHeight - lh2) / 2
            label(sumLabel, sumX, sy, scale: 2, color: dimText)
            label(full(e.partials[c]), sumX + Picture.textWidth(sumLabel, scale: 2), sy, scale: 2, color: partialColor)
            right = max(right, gridX[.product]! + colsShown.count * (widths[.product] ?? cellHeight))
            y += gridHeight + 16
        }

        // The sums, wrapped to the width of the channel rows (at least 60 characters).
        let wrapWidth = contentWidth
        out.rules.append((margin, y, wrapWidth))
        y += 10
        for (n, line) in sumLines(e).enumerated() {
            let color = n == 2 ? resultColor : textColor
            for piece in wrap(line, width: wrapWidth, scale: 2) {
                label(piece, margin, y, scale: 2, color: color)
                y += lh2 + 4
            }
            y += 4
        }
        y += 10

        // Whole-image view.
        out.rules.append((margin, y, contentWidth))
        y += 12
        paragraph("whole image: each channel's partial map, added (+ bias, then \(e.activation.rawValue)) = the filter's map", scale: 2, color: textColor)
        if let k = drawnChannel(e, view: inputView) {
            paragraph("the input is the previous layer's \(imageExtent.width)×\(imageExtent.height) maps: shown is channel \(k), the one with the largest |partial sum|, stretched over its own range", scale: 2, color: dimText)
        } else if inputView == .stretched {
            paragraph("the input (preprocessed) is stretched over its own range", scale: 2, color: dimText)
        }
        paragraph("each map scaled from its own min (dark blue) to its own max (yellow), a constant map is teal; the red box is pixel x=\(e.x), y=\(e.y) (on the input: its receptive field)",
                  scale: 2, color: dimText)
        y += 12

        func displaySize(_ extent: Extent2D) -> (width: Int, height: Int) {
            let w = max(extent.width, 1), h = max(extent.height, 1)
            var s = min(Double(cell) / Double(w), Double(cell) / Double(h))
            if s > 1 { s = s.rounded(.down) }
            return (max(1, min(cell, Int((Double(w) * s).rounded()))), max(1, min(cell, Int((Double(h) * s).rounded()))))
        }
        let inputSize = displaySize(imageExtent), mapSize = displaySize(e.output)
        let areaHeight = max(inputSize.height, mapSize.height)
        var x = margin
        func box(region: (x0: Int, y0: Int, x1: Int, y1: Int), extent: Extent2D, size: (width: Int, height: Int), at origin: (Int, Int))
            -> (x: Int, y: Int, width: Int, height: Int) {
            // Region in source pixels [x0, x1) × [y0, y1), clipped, to display pixels; at least 9 × 9, centred.
            let sx = Double(size.width) / Double(max(extent.width, 1)), sy = Double(size.height) / Double(max(extent.height, 1))
            let x0 = max(region.x0, 0), x1 = min(region.x1, extent.width), y0 = max(region.y0, 0), y1 = min(region.y1, extent.height)
            var bx0 = Int((Double(x0) * sx).rounded(.down)), bx1 = Int((Double(max(x1, x0 + 1)) * sx).rounded(.up))
            var by0 = Int((Double(y0) * sy).rounded(.down)), by1 = Int((Double(max(y1, y0 + 1)) * sy).rounded(.up))
            if bx1 - bx0 < 9 { let c = (bx0 + bx1) / 2; bx0 = c - 4; bx1 = c + 5 }
            if by1 - by0 < 9 { let c = (by0 + by1) / 2; by0 = c - 4; by1 = c + 5 }
            return (origin.0 + bx0, origin.1 + by0, bx1 - bx0, by1 - by0)
        }
        func range(_ t: Tensor?) -> String? {
            guard let t else { return nil }
            guard let r = ContactSheet.finiteRange(t.storage) else { return "no finite values" }
            return r.lo == r.hi ? "constant \(short(r.lo))" : "\(short(r.lo)) … \(short(r.hi))"
        }
        func value(_ t: Tensor?) -> String? {
            guard let t, e.y < t.height, e.x < t.width else { return nil }
            return "here: " + short(t[e.y, e.x, 0])
        }
        func slot(_ index: Int, size: (width: Int, height: Int), extent: Extent2D, region: (Int, Int, Int, Int),
                  captions: [(String, Int, Picture.Color)]) {
            let mx = x + (slotWidth - size.width) / 2, my = y + (areaHeight - size.height) / 2
            out.maps.append(MapSlot(index: index, x: mx, y: my, width: size.width, height: size.height,
                                    marker: box(region: region, extent: extent, size: size, at: (mx, my))))
            var cy = y + areaHeight + 8
            for (text, preferred, color) in captions {
                let scale = Picture.textWidth(text, scale: preferred) <= slotWidth + 20 ? preferred : 1
                let fitted = Picture.fitting(text, maxWidth: slotWidth + 20, scale: scale)
                label(fitted, x + (slotWidth - Picture.textWidth(fitted, scale: scale)) / 2, cy, scale: scale, color: color)
                cy += Picture.lineHeight(scale: scale) + 3
            }
            x += slotWidth
        }
        func op(_ text: String) {
            label(text, x + (bigOpWidth - Picture.textWidth(text, scale: bigOp)) / 2, y + (areaHeight - Picture.lineHeight(scale: bigOp)) / 2,
                  scale: bigOp, color: dimText)
            x += bigOpWidth
        }
        let pixel = (e.x, e.y, e.x + 1, e.y + 1)
        slot(-1, size: inputSize, extent: imageExtent, region: (left, top, rightX + 1, bottom + 1),
             captions: [(drawnChannel(e, view: inputView).map { "input ch \($0)" } ?? "input \(imageExtent.width)×\(imageExtent.height)", 2, textColor),
                        ("rows \(top)…\(bottom)", 2, dimText), ("columns \(left)…\(rightX)", 2, dimText)])
        x += 30
        for (n, entry) in channelsShown.enumerated() {
            if n > 0 { op("+") }
            guard let c = entry else {
                let t = restMap(partialMaps, channels: others.channels)
                slot(e.partials.count + 1, size: mapSize, extent: e.output, region: pixel,
                     captions: [("other \(others.channels.count) ch", 2, textColor), (range(t) ?? "", 2, dimText), (value(t) ?? "", 2, partialColor)])
                continue
            }
            let t = c < partialMaps.count ? partialMaps[c] : nil
            slot(c, size: mapSize, extent: e.output, region: pixel,
                 captions: [("ch \(e.firstChannel + c) partial", 2, textColor), (range(t) ?? "", 2, dimText), (value(t) ?? "", 2, partialColor)])
        }
        op("=")
        slot(e.partials.count, size: mapSize, extent: e.output, region: pixel,
             captions: [("'\(e.filter)'", 2, textColor), (range(map) ?? "", 2, dimText), (value(map) ?? "", 2, resultColor)])
        right = max(right, x)
        y += areaHeight + 8 + 3 * (lh2 + 3) + margin
        out.labels.removeAll { $0.text.isEmpty }
        out.width = right + margin
        out.height = y
        return out
    }

    /// `text` broken at spaces into lines of at most `width` pixels at `scale` (a word longer than that stays whole).
    static func wrap(_ text: String, width: Int, scale: Int) -> [String] {
        var lines: [String] = [], current = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            let candidate = current.isEmpty ? String(word) : current + " " + word
            if Picture.textWidth(candidate, scale: scale) <= width || current.isEmpty {
                current = candidate
            } else {
                lines.append(current)
                current = String(word)
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    // MARK: - Rendering

    /// The picture of `explanation`, one output pixel of filter `f`.
    /// - Parameters:
    ///   - explanation: What `FilterBank.explain(_:filter:x:y:)` (ConvBankEngine) says about the pixel.
    ///   - image: The input, already adapted to the bank's channels.
    ///   - partialMaps: Filter `f`'s partial maps (`ConvolutionPlan.partialMaps(of:in:jobs:kernels:)`), one per
    ///     channel it reads, in channel order: the raw cross-correlation of each channel with its kernel slice, before
    ///     the bias and the activation.
    ///   - map: Filter `f`'s map.
    ///   - bankName: Shown in the title: the bank's name, or with `layer` the network's.
    ///   - layer: The network layer the bank is (its name in the title), or nil for a bank.
    ///   - colormap: How every map is coloured, each over its own range.
    ///   - inputView: How the input is drawn: a decoded image, a preprocessed one (stretched), or a previous layer's
    ///     maps (the channel of largest |partial sum|, stretched).
    /// - Complexity: O(picture pixels + image pixels · maps).
    public static func render(explanation: PixelExplanation, image: Tensor, partialMaps: [Tensor], map: Tensor, bankName: String,
                              layer: String? = nil, colormap: Colormap = .viridis, inputView: InputView = .image) -> Picture {
        let layout = layout(explanation: explanation, bankName: bankName, layer: layer, imageExtent: image.extent, partialMaps: partialMaps, map: map,
                            inputView: inputView)
        var picture = Picture(width: layout.width, height: layout.height, filling: background)
        for rule in layout.rules { picture.fill(x: rule.x, y: rule.y, width: rule.width, height: 1, with: cellBorder) }
        for s in layout.swatches { drawCellBackground(&picture, x: s.x, y: s.y, width: s.width, height: s.height, kind: s.kind) }
        for cell in layout.cells {
            drawCellBackground(&picture, x: cell.x, y: cell.y, width: cell.width, height: cell.height, kind: cell.kind)
            let tw = Picture.textWidth(cell.text, scale: cell.scale), th = Picture.lineHeight(scale: cell.scale)
            picture.drawText(cell.text, x: cell.x + (cell.width - tw) / 2, y: cell.y + (cell.height - th) / 2 + 1,
                             color: cell.kind == .elided ? dimText : textColor, scale: cell.scale)
        }
        for l in layout.labels { picture.drawText(l.text, x: l.x, y: l.y, color: l.color, scale: l.scale) }
        for slot in layout.maps {
            let size = (width: slot.width, height: slot.height)
            let shown: Picture
            if slot.index < 0 {
                shown = inputPicture(image, size: size, view: inputView, channel: drawnChannel(explanation, view: inputView))
            } else {
                let t = slot.index == explanation.partials.count + 1
                    ? restMap(partialMaps, channels: rest(explanation.partials).channels) ?? map
                    : (slot.index < partialMaps.count ? partialMaps[slot.index] : map)
                shown = ContactSheet.mapPicture(t, range: ContactSheet.finiteRange(t.storage), colormap: colormap, size: size)
            }
            picture.strokeRectangle(x: slot.x - 1, y: slot.y - 1, width: slot.width + 2, height: slot.height + 2, with: cellBorder)
            picture.draw(shown, x: slot.x, y: slot.y)
            let m = slot.marker
            picture.strokeRectangle(x: m.x - 1, y: m.y - 1, width: m.width + 2, height: m.height + 2, with: .white)
            picture.strokeRectangle(x: m.x, y: m.y, width: m.width, height: m.height, with: marker)
            picture.strokeRectangle(x: m.x + 1, y: m.y + 1, width: m.width - 2, height: m.height - 2, with: marker)
        }
        return picture
    }

    /// The input at `size`. `.image`: RGB from channels 0, 1, 2 (gray from channel 0 otherwise), every sample divided
    /// by the image's largest sample (255 for 8-bit-looking images) so that 16-bit and float inputs show too.
    /// `.stretched`: the same channels, `(v − lo) / (hi − lo)` over their finite range (constant: mid-gray).
    /// `.largestChannel`: channel `channel` alone, in gray, stretched over its own range.
    static func inputPicture(_ image: Tensor, size: (width: Int, height: Int), view: InputView = .image, channel: Int? = nil) -> Picture {
        let shownChannels = channel.map { [$0] } ?? (image.channels >= 3 ? [0, 1, 2] : [0])
        let value: (Float) -> Double
        if view == .image {
            let hi = ContactSheet.finiteRange(image.storage)?.hi ?? 0
            let scale = Double(hi <= 255 ? 255 : hi)
            value = { v in v.isFinite ? min(max(Double(v) / scale, 0), 1) : 0 }
        } else {
            let plane = image.height * image.width
            var lo = Float.infinity, hi = -Float.infinity
            for c in shownChannels {
                if let r = ContactSheet.finiteRange(Array(image.storage[(c * plane)..<((c + 1) * plane)])) { lo = min(lo, r.lo); hi = max(hi, r.hi) }
            }
            let (l, h) = (Double(lo), Double(hi))
            value = { v in !v.isFinite || !(l < h) ? (l == h ? 0.5 : 0) : ContactSheet.stretch(Double(v), lo: l, hi: h) }
        }
        let planes = shownChannels.map { c in ContactSheet.resample(image, channel: c, to: size, value: value) }
        var picture = Picture(width: size.width, height: size.height)
        for p in 0..<(size.width * size.height) {
            for k in 0..<3 { picture.rgb[3 * p + k] = UInt8((planes[shownChannels.count == 3 ? k : 0][p] * 255).rounded()) }
        }
        return picture
    }

    static func fill(for kind: CellKind) -> Picture.Color {
        switch kind {
        case .value: valueFill
        case .paddingValue: paddingFill
        case .weight: weightFill
        case .product: productFill
        case .elided: elidedFill
        }
    }

    static func drawCellBackground(_ picture: inout Picture, x: Int, y: Int, width: Int, height: Int, kind: CellKind) {
        picture.fill(x: x, y: y, width: width, height: height, with: fill(for: kind))
        if kind == .paddingValue {
            for row in 0..<height {
                for column in 0..<width where (row + column) % 6 < 2 {
                    picture.set(x: x + column, y: y + row, to: paddingHatch)
                }
            }
        }
        picture.strokeRectangle(x: x, y: y, width: width, height: height, with: cellBorder)
    }

    // MARK: - HTML

    /// The same content as `render(explanation:image:partialMaps:map:bankName:layer:colormap:inputView:)` (same parameters) as a
    /// self-contained HTML page: tables for the grids (padding cells hatched and marked `*`), the sum lines, and the
    /// input and maps as inline PNG data URIs (no external URLs).
    /// - Throws: `ImageCodecError` if a PNG cannot be encoded.
    public static func html(explanation e: PixelExplanation, image: Tensor, partialMaps: [Tensor], map: Tensor, bankName: String,
                            layer: String? = nil, colormap: Colormap = .viridis, inputView: InputView = .image) throws(ImageCodecError) -> String {
        let layout = layout(explanation: e, bankName: bankName, layer: layer, imageExtent: image.extent, partialMaps: partialMaps, map: map,
                            inputView: inputView)
        let picture = render(explanation: e, image: image, partialMaps: partialMaps, map: map, bankName: bankName, layer: layer,
                             colormap: colormap, inputView: inputView)
        func esc(_ t: String) -> String {
            t.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        func hex(_ c: Picture.Color) -> String { String(format: "#%02x%02x%02x", c.red, c.green, c.blue) }
        var out = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(esc("explain '\(e.filter)' at x=\(e.x), y=\(e.y)"))</title>
        <style>
        body { font-family: monospace; background: \(hex(background)); color: \(hex(textColor)); margin: 20px; }
        .dim { color: \(hex(dimText)); }
        table.grid { border-collapse: collapse; display: inline-table; vertical-align: middle; }
        table.grid td { border: 1px solid \(hex(cellBorder)); padding: 3px 8px; text-align: center; }
        td.value { background: \(hex(valueFill)); } td.weight { background: \(hex(weightFill)); } td.product { background: \(hex(productFill)); }
        td.elided { background: \(hex(elidedFill)); }
        td.paddingValue, span.pad { background: repeating-linear-gradient(45deg, \(hex(paddingHatch)) 0 2px, \(hex(paddingFill)) 2px 6px); }
        table.rows td { padding: 6px 10px; vertical-align: middle; } .op { font-size: 200%; } .partial { color: \(hex(partialColor)); font-size: 130%; }
        .result { color: \(hex(resultColor)); } .sums { font-size: 130%; }
        figure { display: inline-block; margin: 0 6px; text-align: center; vertical-align: top; } figure img { image-rendering: pixelated; border: 1px solid \(hex(cellBorder)); }
        .bigop { display: inline-block; font-size: 300%; vertical-align: top; margin-top: 60px; color: \(hex(dimText)); }
        </style></head><body>

        """
        let g = e.geometry
        let taps = e.taps
        let top = taps.map(\.inputY).min() ?? 0, bottom = taps.map(\.inputY).max() ?? 0
        let left = taps.map(\.inputX).min() ?? 0, right = taps.map(\.inputX).max() ?? 0
        out += "<h1>\(esc(title(e, bankName: bankName, layer: layer)))</h1>\n"
        out += "<p class=\"dim\">\(esc("map \(e.output.width)×\(e.output.height) (W×H) from a \(image.width)×\(image.height) input; receptive field: input rows \(top)…\(bottom), columns \(left)…\(right)"))<br>\n"
        out += esc("kernel \(e.kernel.shape) × \(e.partials.count) channel\(e.partials.count == 1 ? "" : "s"), dilation \(e.dilation.shape); pads T,B,L,R = \(g.insets); padding mode \(e.paddingMode.rawValue); activation \(e.activation.rawValue)")
        let padded = taps.filter(\.inPadding).count
        if padded > 0 {
            out += "<br>\n<span class=\"pad\">&nbsp;&nbsp;&nbsp;&nbsp;</span> = in the padding (also marked *): \(padded) of \(taps.count) taps, value supplied by padding mode '\(esc(e.paddingMode.rawValue))'"
        }
        if e.separable { out += "<br>\nrank-1 kernel: the engine (and these partial sums) run it as a row pass then a column pass" }
        out += "</p>\n<table class=\"rows\">\n<tr class=\"dim\"><td></td><td>input values</td><td></td><td>kernel slice</td><td></td><td>value × weight</td><td>partial sum</td></tr>\n"
        // The grids, from the layout's cells (in channel, grid, row, column order).
        let rowsShown = shownIndices(e.kernel.height).count, colsShown = shownIndices(e.kernel.width).count
        let perGrid = rowsShown * colsShown
        var cellIndex = 0
        func grid() -> String {
            var t = "<table class=\"grid\">"
            for r in 0..<rowsShown {
                t += "<tr>"
                for k in 0..<colsShown {
                    let cell = layout.cells[cellIndex + r * colsShown + k]
                    t += "<td class=\"\(cell.kind)\">\(esc(cell.text))</td>"
                }
                t += "</tr>"
            }
            cellIndex += perGrid
            return t + "</table>"
        }
        for entry in shownChannels(e.partials) {
            guard let c = entry else {
                let others = rest(e.partials)
                out += "<tr><td colspan=\"7\" class=\"dim\">+ the other \(others.channels.count) channels (smaller |partial sum|), added in channel order: \(esc(full(others.sum)))</td></tr>\n"
                continue
            }
            out += "<tr><th>ch \(e.firstChannel + c)</th><td>\(grid())</td><td class=\"op\">×</td><td>\(grid())</td><td class=\"op\">=</td><td>\(grid())</td>"
            out += "<td>→ sum = <span class=\"partial\">\(esc(full(e.partials[c])))</span></td></tr>\n"
        }
        out += "</table>\n<hr>\n<p class=\"sums\">"
        let lines = sumLines(e)
        out += lines.enumerated().map { n, line in n == 2 ? "<span class=\"result\">\(esc(line))</span>" : esc(line) }.joined(separator: "<br>\n")
        out += "</p>\n<hr>\n<h2>\(esc("whole image: each channel's partial map, added (+ bias, then \(e.activation.rawValue)) = the filter's map"))</h2>\n"
        out += "<p class=\"dim\">each map scaled from its own min (dark blue) to its own max (yellow), a constant map is teal; the red box is pixel x=\(e.x), y=\(e.y) (on the input: its receptive field)</p>\n<div>\n"
        // Each map as drawn on the picture (marker included), cut out and inlined; captions from the layout.
        for (n, slot) in layout.maps.enumerated() {
            if n >= 2 { out += "<span class=\"bigop\">\(n == layout.maps.count - 1 ? "=" : "+")</span>\n" }
            var cut = Picture(width: slot.width + 8, height: slot.height + 8, filling: background)
            for y in 0..<cut.height { for x in 0..<cut.width where picture.contains(x: slot.x - 4 + x, y: slot.y - 4 + y) {
                cut[x: x, y: y] = picture[x: slot.x - 4 + x, y: slot.y - 4 + y]
            } }
            let data = Data(try cut.pngBytes()).base64EncodedString()
            let captions = layout.labels.filter { $0.y > slot.y + slot.height && $0.x >= slot.x - 40 && $0.x < slot.x + slot.width }
                .map { "<div style=\"color: \(hex($0.color))\">\(esc($0.text))</div>" }.joined()
            out += "<figure><img src=\"data:image/png;base64,\(data)\" width=\"\(cut.width)\" height=\"\(cut.height)\" alt=\"map \(slot.index)\">"
            out += "<figcaption>\(captions)</figcaption></figure>\n"
        }
        out += "</div>\n</body></html>\n"
        return out
    }
}
