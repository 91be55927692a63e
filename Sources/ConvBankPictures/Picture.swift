import ConvBankEngine
import ConvBankImageIO

/// An 8-bit RGB picture for people to look at (contact sheets): interleaved, row-major, top row first.
///
/// Pixel `(x, y)` is `rgb[3 * (y * width + x) ..< 3 * (y * width + x) + 3]`. Drawing operations clip to the picture.
public struct Picture: Sendable, Equatable {
    /// An 8-bit sRGB colour.
    public struct Color: Sendable, Hashable {
        /// Red, 0…255.
        public var red: UInt8
        /// Green, 0…255.
        public var green: UInt8
        /// Blue, 0…255.
        public var blue: UInt8

        /// A colour from its red, green and blue levels.
        public init(_ red: UInt8, _ green: UInt8, _ blue: UInt8) {
            self.red = red
            self.green = green
            self.blue = blue
        }

        /// A gray level: `red == green == blue == level`.
        public init(gray level: UInt8) { self.init(level, level, level) }

        /// `(0, 0, 0)`.
        public static let black = Color(0, 0, 0)
        /// `(255, 255, 255)`.
        public static let white = Color(255, 255, 255)
    }

    /// Pixels per row.
    public var width: Int
    /// Rows.
    public var height: Int
    /// `width · height · 3` samples, interleaved R, G, B.
    public var rgb: [UInt8]

    /// A black picture.
    /// - Complexity: O(width · height).
    public init(width: Int, height: Int) {
        self.init(width: width, height: height, filling: .black)
    }

    /// A picture of one colour.
    /// - Complexity: O(width · height).
    public init(width: Int, height: Int, filling color: Color) {
        precondition(width >= 0 && height >= 0, "invalid picture size")
        self.width = width
        self.height = height
        var samples = [UInt8](repeating: 0, count: width * height * 3)
        for p in 0..<(width * height) {
            samples[3 * p] = color.red
            samples[3 * p + 1] = color.green
            samples[3 * p + 2] = color.blue
        }
        rgb = samples
    }

    /// The pixel at column `x`, row `y` (both must be inside the picture).
    public subscript(x x: Int, y y: Int) -> Color {
        get {
            precondition(contains(x: x, y: y), "pixel (\(x), \(y)) outside a \(width)×\(height) picture")
            let i = 3 * (y * width + x)
            return Color(rgb[i], rgb[i + 1], rgb[i + 2])
        }
        set {
            precondition(contains(x: x, y: y), "pixel (\(x), \(y)) outside a \(width)×\(height) picture")
            let i = 3 * (y * width + x)
            rgb[i] = newValue.red
            rgb[i + 1] = newValue.green
            rgb[i + 2] = newValue.blue
        }
    }

    /// Whether `(x, y)` is a pixel of the picture.
    public func contains(x: Int, y: Int) -> Bool { x >= 0 && y >= 0 && x < width && y < height }

    /// Sets `(x, y)` to `color` if it is inside the picture; does nothing otherwise.
    public mutating func set(x: Int, y: Int, to color: Color) {
        if contains(x: x, y: y) { self[x: x, y: y] = color }
    }

    /// Fills the rectangle of `width × height` pixels whose top-left pixel is `(x, y)`, clipped to the picture.
    /// - Complexity: O(width · height).
    public mutating func fill(x: Int, y: Int, width w: Int, height h: Int, with color: Color) {
        let x0 = max(x, 0), x1 = min(x + w, width), y0 = max(y, 0), y1 = min(y + h, height)
        guard x0 < x1, y0 < y1 else { return }
        for row in y0..<y1 {
            var i = 3 * (row * width + x0)
            for _ in x0..<x1 {
                rgb[i] = color.red
                rgb[i + 1] = color.green
                rgb[i + 2] = color.blue
                i += 3
            }
        }
    }

    /// Draws the one-pixel outline of a rectangle, clipped to the picture.
    public mutating func strokeRectangle(x: Int, y: Int, width w: Int, height h: Int, with color: Color) {
        guard w > 0, h > 0 else { return }
        fill(x: x, y: y, width: w, height: 1, with: color)
        fill(x: x, y: y + h - 1, width: w, height: 1, with: color)
        fill(x: x, y: y, width: 1, height: h, with: color)
        fill(x: x + w - 1, y: y, width: 1, height: h, with: color)
    }

    /// Copies `other` so that its top-left pixel lands on `(x, y)`, clipped to this picture.
    /// - Complexity: O(other.width · other.height).
    public mutating func draw(_ other: Picture, x: Int, y: Int) {
        for row in 0..<other.height where (0..<height).contains(y + row) {
            for column in 0..<other.width where (0..<width).contains(x + column) {
                self[x: x + column, y: y + row] = other[x: column, y: row]
            }
        }
    }

    /// The picture as an 8-bit RGB PNG (`ImageCodec.encodePNG(rgb8:width:height:level:path:)` of ConvBankImageIO;
    /// `level` is libdeflate's, 0 (stored) … 12 (smallest)).
    /// - Throws: `ImageCodecError` (`.unwritable`) if libpng fails.
    /// - Complexity: O(width · height).
    public func pngBytes(level: Int = 6) throws(ImageCodecError) -> [UInt8] {
        try ImageCodec.encodePNG(rgb8: rgb, width: width, height: height, level: level)
    }
}

// MARK: - Text

extension Picture {
    /// Width in pixels of `text` drawn with the built-in font at `scale` (one glyph cell per character of
    /// `Picture.displayText(text)`).
    public static func textWidth(_ text: String, scale: Int = 1) -> Int {
        displayText(text).unicodeScalars.count * BitmapFont.glyphWidth * scale
    }

    /// Height in pixels of one line of text at `scale`.
    public static func lineHeight(scale: Int = 1) -> Int { BitmapFont.glyphHeight * scale }

    /// Draws one line of `text` with the built-in 6×13 bitmap font (misc-fixed), each font pixel as a
    /// `scale × scale` block, the top of the glyph cells at row `y`. Background pixels are left as they are.
    ///
    /// Printable ASCII draws as itself; a few typographic characters draw as ASCII look-alikes (`→` as `->`,
    /// `…` as `...`, `–`/`—` as `-`, `×` as `x`, `·` as `.`, `“”‘’` as quotes); anything else draws as `?`.
    /// - Complexity: O(characters · 6 · 13 · scale²).
    public mutating func drawText(_ text: String, x: Int, y: Int, color: Color, scale: Int = 1) {
        precondition(scale >= 1, "text scale is at least 1")
        var penX = x
        for scalar in Picture.displayText(text).unicodeScalars {
            let glyph = BitmapFont.glyph(scalar)
            for (row, bits) in glyph.enumerated() where bits != 0 {
                for column in 0..<BitmapFont.glyphWidth where bits & (0x80 >> column) != 0 {
                    fill(x: penX + column * scale, y: y + row * scale, width: scale, height: scale, with: color)
                }
            }
            penX += BitmapFont.glyphWidth * scale
        }
    }

    /// `text` with the typographic characters that have ASCII look-alikes replaced (see `drawText`); other
    /// non-ASCII characters are kept (they draw as `?`, one cell each).
    public static func displayText(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "→": out.append(contentsOf: "->".unicodeScalars)
            case "←": out.append(contentsOf: "<-".unicodeScalars)
            case "…": out.append(contentsOf: "...".unicodeScalars)
            case "–", "—", "−": out.append("-")
            case "×": out.append("x")
            case "·": out.append(".")
            case "“", "”": out.append("\"")
            case "‘", "’": out.append("'")
            case "\u{A0}", "\t": out.append(" ")
            default: out.append(scalar)
            }
        }
        return String(out)
    }

    /// `text` shortened to at most `maxWidth` pixels at `scale`, ending in `...` when cut (empty if not even
    /// that fits).
    public static func fitting(_ text: String, maxWidth: Int, scale: Int = 1) -> String {
        let scalars = Array(displayText(text).unicodeScalars)
        let cell = BitmapFont.glyphWidth * scale
        let capacity = max(maxWidth / cell, 0)
        if scalars.count <= capacity { return String(String.UnicodeScalarView(scalars)) }
        guard capacity > 3 else { return String(repeating: ".", count: capacity) }
        return String(String.UnicodeScalarView(scalars[0..<(capacity - 3)])) + "..."
    }
}
