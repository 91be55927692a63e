/// A height and width: a kernel size, a stride, a dilation or an image size.
/// JSON: `N` or `[H, W]`; command line: `N` or `H,W`.
public struct Extent2D: Hashable, Sendable, CustomStringConvertible {
    /// Rows.
    public var height: Int
    /// Columns.
    public var width: Int

    /// A size of `height` rows and `width` columns.
    public init(height: Int, width: Int) {
        self.height = height
        self.width = width
    }

    /// The same value on both axes.
    public init(_ both: Int) { self.init(height: both, width: both) }

    /// The values a stride, a dilation, a kernel side or an image side may take, on the command line, in bank
    /// JSON and in built-in parameters alike: 1 … 999,999,999. Products of such values (and of a few of them with
    /// image sides) stay far inside 64-bit integers, and the geometry still checks its arithmetic.
    public static let componentRange = 1...999_999_999

    /// Whether both sides are in `componentRange`.
    public var isWithinLimits: Bool { Self.componentRange.contains(height) && Self.componentRange.contains(width) }

    /// Parses `N` or `H,W` (also `HxW`), each side in `componentRange`; nil for anything else.
    public init?(parsing text: String) {
        let parts = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "," || $0 == "x" || $0 == "×" })
            .map { $0.trimmingCharacters(in: .whitespaces) }
        switch parts.count {
        case 1: guard let n = Int(parts[0]) else { return nil }; self.init(n)
        case 2: guard let h = Int(parts[0]), let w = Int(parts[1]) else { return nil }; self.init(height: h, width: w)
        default: return nil
        }
        guard isWithinLimits else { return nil }
    }

    /// Why `text` is not an extent, for error messages.
    public static let parsingHelp = "expected N or H,W with each side a whole number in 1…999999999"

    /// `N` or `H,W`: the command-line spelling, which `init(parsing:)` reads back.
    public var description: String { height == width ? "\(height)" : "\(height),\(width)" }
    /// `N` or `[H, W]`: the bank-JSON spelling.
    public var jsonText: String { height == width ? "\(height)" : "[\(height), \(width)]" }
    /// `H×W`.
    public var shape: String { "\(height)×\(width)" }
}

/// Padding widths on the four sides of an image.
public struct EdgeInsets: Hashable, Sendable, CustomStringConvertible {
    /// Rows above and below, columns left and right.
    public var top: Int, bottom: Int, left: Int, right: Int

    /// Insets of the given sides.
    public init(top: Int, bottom: Int, left: Int, right: Int) {
        self.top = top
        self.bottom = bottom
        self.left = left
        self.right = right
    }

    /// `n` on every side.
    public init(_ n: Int) { self.init(top: n, bottom: n, left: n, right: n) }

    /// The values one pad may take, on the command line and in bank JSON: 0 … 999,999,999.
    public static let componentRange = 0...999_999_999

    /// Whether every side is in `componentRange`.
    public var isWithinLimits: Bool { [top, bottom, left, right].allSatisfy(Self.componentRange.contains) }

    /// No inset on any side.
    public static let zero = EdgeInsets(0)

    /// The larger of two insets on each side.
    public func union(_ other: EdgeInsets) -> EdgeInsets {
        EdgeInsets(top: max(top, other.top), bottom: max(bottom, other.bottom),
                   left: max(left, other.left), right: max(right, other.right))
    }

    /// `T,B,L,R`.
    public var description: String { "\(top),\(bottom),\(left),\(right)" }
}

/// How much border a convolution adds: the amount only; `PaddingMode` says what fills it.
public enum Padding: Hashable, Sendable, CustomStringConvertible {
    /// No padding: only positions where the whole (dilated) kernel fits.
    case valid
    /// TensorFlow's SAME: `out = ceil(in / s)`, `total = max((out − 1)·s + (k − 1)·d + 1 − in, 0)`,
    /// `before = floor(total / 2)`, `after = total − before` (the odd pixel goes bottom/right).
    case same
    /// Explicit widths.
    case explicit(EdgeInsets)

    /// Parses `valid`, `same`, `N` or `T,B,L,R` (letter case ignored), each pad in `EdgeInsets.componentRange`;
    /// nil for anything else.
    public init?(parsing text: String) {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if t == "valid" { self = .valid; return }
        if t == "same" { self = .same; return }
        let parts = t.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        if parts.count == 1, let n = parts[0] {
            self = .explicit(EdgeInsets(n))
        } else if parts.count == 4, let top = parts[0], let bottom = parts[1], let left = parts[2], let right = parts[3] {
            self = .explicit(EdgeInsets(top: top, bottom: bottom, left: left, right: right))
        } else {
            return nil
        }
        guard isWithinLimits else { return nil }
    }

    /// Why a text is not a padding, for error messages.
    public static let parsingHelp = "expected valid, same, N or T,B,L,R with each pad a whole number in 0…999999999"

    /// Whether explicit pads are in `EdgeInsets.componentRange` (`valid` and `same` always are).
    public var isWithinLimits: Bool {
        if case .explicit(let e) = self { return e.isWithinLimits }
        return true
    }

    /// `valid`, `same`, `N` or `T,B,L,R`: the command-line spelling, which `init(parsing:)` reads back.
    public var description: String {
        switch self {
        case .valid: "valid"
        case .same: "same"
        case .explicit(let e): e.top == e.bottom && e.top == e.left && e.top == e.right ? "\(e.top)" : e.description
        }
    }

    /// `"valid"`, `"same"`, `N` or `[T, B, L, R]`: the bank-JSON spelling.
    public var jsonText: String {
        switch self {
        case .valid: "\"valid\""
        case .same: "\"same\""
        case .explicit(let e):
            e.top == e.bottom && e.top == e.left && e.top == e.right ? "\(e.top)" : "[\(e.top), \(e.bottom), \(e.left), \(e.right)]"
        }
    }
}

/// What fills the padded border. Modes follow PyTorch's `padding_mode`.
public enum PaddingMode: String, CaseIterable, Codable, Sendable {
    /// Zeros.
    case zeros
    /// Mirror without repeating the edge: `dcb|abcd|cba`. The pad must be narrower than the image.
    case reflect
    /// Repeat the edge: `aaa|abcd|ddd`.
    case replicate
    /// Wrap around: `bcd|abcd|abc`.
    case circular

    /// Parses a mode name, letter case ignored (the command line and bank JSON alike).
    public init?(parsing text: String) {
        self.init(rawValue: text.trimmingCharacters(in: .whitespaces).lowercased())
    }

    /// The source index for padded position `i` (may be outside `0..<n`) on an axis of length `n`,
    /// or `nil` for zeros outside the image.
    @inlinable public func sourceIndex(_ i: Int, length n: Int) -> Int? {
        if i >= 0 && i < n { return i }
        switch self {
        case .zeros: return nil
        case .replicate: return i < 0 ? 0 : n - 1
        case .circular:
            let r = i % n
            return r < 0 ? r + n : r
        case .reflect:
            // Valid only while the pad is at most n − 1 (checked when planning).
            if n == 1 { return 0 }
            return i < 0 ? -i : 2 * (n - 1) - i
        }
    }
}

/// The output size and the pads of one convolution along both axes.
public struct ConvolutionGeometry: Hashable, Sendable {
    /// The input size.
    public var input: Extent2D
    /// The output size.
    public var output: Extent2D
    /// The pads on each side (`same` may pad one more row or column after than before).
    public var insets: EdgeInsets

    /// Works out the output size and pads of a `kernel` with `stride` and `dilation` over `input` under
    /// `padding`, exactly as Keras/TensorFlow (`same`: `out = ceil(in/s)` and the asymmetric split).
    /// - Throws: `ConvolutionError.emptyOutput` when the (dilated) kernel does not fit.
    public static func resolve(input: Extent2D, kernel: Extent2D, stride: Extent2D, dilation: Extent2D,
                               padding: Padding) throws(ConvolutionError) -> ConvolutionGeometry {
        // Every sum and product is checked: a library caller may pass any Int (the CLI and JSON bound them first).
        let outOfRange = ConvolutionError.geometryOutOfRange(input: input, kernel: kernel, stride: stride, dilation: dilation, padding: padding)
        guard input.height > 0, input.width > 0, kernel.height > 0, kernel.width > 0, stride.height > 0, stride.width > 0,
              dilation.height > 0, dilation.width > 0, padding.isNonNegative else { throw outOfRange }
        func axis(_ n: Int, _ k: Int, _ s: Int, _ d: Int) throws(ConvolutionError) -> (before: Int, after: Int) {
            switch padding {
            case .valid, .explicit: return (0, 0)
            case .same:
                let out = n / s + (n % s == 0 ? 0 : 1)
                guard let reach = checked((out - 1).multipliedReportingOverflow(by: s)),
                      let span = checked((k - 1).multipliedReportingOverflow(by: d)),
                      let end = checked(reach.addingReportingOverflow(span)) else { throw outOfRange }
                let total = max(end + 1 - n, 0)
                return (total / 2, total - total / 2)
            }
        }
        var insets: EdgeInsets
        if case .explicit(let e) = padding {
            insets = e
        } else {
            let v = try axis(input.height, kernel.height, stride.height, dilation.height)
            let h = try axis(input.width, kernel.width, stride.width, dilation.width)
            insets = EdgeInsets(top: v.before, bottom: v.after, left: h.before, right: h.after)
        }
        func outSize(_ n: Int, _ before: Int, _ after: Int, _ k: Int, _ s: Int, _ d: Int) throws(ConvolutionError) -> Int {
            guard let reach = checked((k - 1).multipliedReportingOverflow(by: d)),
                  let padded = checked(n.addingReportingOverflow(before)).flatMap({ checked($0.addingReportingOverflow(after)) })
            else { throw outOfRange }
            let span = reach + 1
            return padded < span ? 0 : (padded - span) / s + 1
        }
        let output = Extent2D(
            height: try outSize(input.height, insets.top, insets.bottom, kernel.height, stride.height, dilation.height),
            width: try outSize(input.width, insets.left, insets.right, kernel.width, stride.width, dilation.width))
        guard output.height > 0, output.width > 0 else {
            throw .emptyOutput(input: input, kernel: kernel, dilation: dilation, padding: padding)
        }
        return ConvolutionGeometry(input: input, output: output, insets: insets)
    }
}

extension Padding {
    /// Whether no explicit pad is negative.
    var isNonNegative: Bool {
        if case .explicit(let e) = self { return min(e.top, e.bottom, e.left, e.right) >= 0 }
        return true
    }
}

/// The value of a `…ReportingOverflow` result, or nil when it overflowed.
@inline(__always) func checked(_ result: (partialValue: Int, overflow: Bool)) -> Int? {
    result.overflow ? nil : result.partialValue
}
