/// A kernel written on the command line in ImageMagick's `-morphology Convolve` spelling: `'WxH: v1,v2,…'` — W
/// columns, H rows, then W·H numbers row by row (top row first), separated by spaces and/or commas.
///
/// It makes a bank of one one-channel filter named `kernel`, with `same` padding, `zeros` padding mode, `linear`
/// activation, bias 0, stride 1 and dilation 1 (the command-line overrides still apply). `3x1: -1,0,1` is one row
/// of three columns (a horizontal gradient); `1x3: -1,0,1` one column of three rows.
///
/// **What counts as inline.** A text that, after leading spaces, is a whole number, `x` (or `X`), a whole number and
/// then (spaces allowed) a `:`. ImageMagick's origin form `WxH+X+Y:` is recognised only to be refused (the centre
/// follows `same` padding here). Loading tries a file of that exact name first, so such a file stays readable; write
/// `./3x3: …` to name a file explicitly.
public enum InlineKernel {
    /// The filter's name.
    public static let filterName = "kernel"

    /// Whether `text` is written as an inline kernel (see the type's documentation).
    /// - Complexity: O(length of the prefix before the `:`).
    public static func isInline(_ text: String) -> Bool { header(text) != nil }

    /// The bank `text` writes.
    /// - Throws: `BankError.invalid` (source: the text, shortened) for W or H outside 1…999,999,999, a count that is
    ///   not W·H, a token that is not a number, NaN, an infinity or a value beyond `Float`'s range, or an origin offset.
    /// - Complexity: O(length of `text`).
    public static func parse(_ text: String) throws(BankError) -> FilterBank {
        let source = shortened(text)
        guard let head = header(text) else {
            throw .invalid(source: source, at: "", reason: "an inline kernel is 'WxH: v1,v2,…' (W columns, H rows, W·H numbers row by row)")
        }
        if head.offset {
            throw .invalid(source: source, at: "", reason: "an origin offset ('WxH+X+Y:') is not supported: the kernel's centre follows the padding ('same' puts any extra row or column bottom/right); write 'WxH: …'")
        }
        let range = Extent2D.componentRange
        guard let width = Int(head.width), range.contains(width) else {
            throw .invalid(source: source, at: "W", reason: "the width must be a whole number in \(range.lowerBound)…\(range.upperBound), found \(head.width)")
        }
        guard let height = Int(head.height), range.contains(height) else {
            throw .invalid(source: source, at: "H", reason: "the height must be a whole number in \(range.lowerBound)…\(range.upperBound), found \(head.height)")
        }
        let count = width.multipliedReportingOverflow(by: height)
        let tokens = text[head.end...].split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
        guard !count.overflow, tokens.count == count.partialValue else {
            throw .invalid(source: source, at: "", reason: "expected \(width)·\(height) = \(count.overflow ? "too many" : String(count.partialValue)) numbers (W columns × H rows, row by row), found \(tokens.count)")
        }
        var weights: [Float] = []
        weights.reserveCapacity(tokens.count)
        for (k, token) in tokens.enumerated() {
            let at = "value \(k + 1) (row \(k / width + 1), column \(k % width + 1))"
            guard let d = Double(token) else { throw .invalid(source: source, at: at, reason: "'\(token)' is not a number") }
            guard d.isFinite else { throw .invalid(source: source, at: at, reason: "'\(token)': NaN and infinities are not allowed in a kernel") }
            let f = Float(d)
            guard f.isFinite else { throw .invalid(source: source, at: at, reason: "'\(token)' is beyond float32's range") }
            weights.append(f)
        }
        let filter = Filter(name: filterName, kernel: Extent2D(height: height, width: width), channels: 1, weights: weights)
        return FilterBank(name: "\(width)x\(height)", filters: [filter], padding: .same, paddingMode: .zeros, activation: .linear,
                          summary: "inline kernel \(width)x\(height) (W×H), one channel, same padding with zeros, linear")
    }

    /// The parts before the values: W and H as written, whether an origin offset follows, and where the values start.
    private static func header(_ text: String) -> (width: Substring, height: Substring, offset: Bool, end: String.Index)? {
        var i = text.startIndex
        func skipSpaces() { while i < text.endIndex, text[i] == " " || text[i] == "\t" { i = text.index(after: i) } }
        func digits() -> Substring? {
            let start = i
            while i < text.endIndex, let a = text[i].asciiValue, (48...57).contains(a) { i = text.index(after: i) }
            return i > start ? text[start..<i] : nil
        }
        skipSpaces()
        guard let w = digits() else { return nil }
        skipSpaces()
        guard i < text.endIndex, text[i] == "x" || text[i] == "X" else { return nil }
        i = text.index(after: i)
        skipSpaces()
        guard let h = digits() else { return nil }
        skipSpaces()
        var offset = false
        // ImageMagick's `+X+Y` (or `-X-Y`) origin: recognised, then refused by `parse`.
        for _ in 0..<2 {
            guard i < text.endIndex, text[i] == "+" || text[i] == "-" else { break }
            i = text.index(after: i)
            guard digits() != nil else { return nil }
            offset = true
        }
        skipSpaces()
        guard i < text.endIndex, text[i] == ":" else { return nil }
        return (w, h, offset, text.index(after: i))
    }

    /// At most 40 characters of `text`, for messages.
    private static func shortened(_ text: String) -> String {
        text.count <= 40 ? text : String(text.prefix(39)) + "…"
    }
}
