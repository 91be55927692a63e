import Foundation

/// A map made pixel by pixel from two filters' maps of one bank: the edge strength (gradient magnitude) or the edge
/// direction (gradient orientation) of a gradient pair such as `sobel_x`, `sobel_y`.
///
/// The inputs are the two filters' maps exactly as `npy` holds them without combining — `activation(Σ + bias)` —
/// so with a `linear` activation and bias 0 (every built-in bank, an inline kernel) they are the two linear
/// responses `gx`, `gy`. Each output value is computed from the two `Float` values in `Double` and rounded once to
/// `Float`, before any normalization:
/// - `magnitude`: `√(gx² + gy²)`, 0 … ∞ (as `numpy.hypot`; `vips sobel`'s and ImageMagick `-edge`'s edge strength);
/// - `orientation`: `atan2(gy, gx)` in radians, −π … π, measured from +x (→) towards +y (↓, rows grow downwards, so
///   clockwise on screen); 0 where `gx` and `gy` are both 0.
///
/// It is elementwise: the two maps may have any shape (one channel, or the channels of a per-channel result), as
/// long as it is the same.
public struct MapCombination: Sendable, Equatable {
    /// What is computed from the pair.
    public enum Operation: String, CaseIterable, Sendable {
        /// `√(gx² + gy²)`.
        case magnitude
        /// `atan2(gy, gx)` in radians (−π … π), 0 where both are 0.
        case orientation

        /// The formula, with the two maps' names.
        public func formula(_ x: String, _ y: String) -> String {
            switch self {
            case .magnitude: "√(\(x)² + \(y)²)"
            case .orientation: "atan2(\(y), \(x)) in radians"
            }
        }
    }

    /// The output map's name (its file name stem), unique among the bank's combinations.
    public var name: String
    /// What is computed.
    public var operation: Operation
    /// Index of the filter giving `gx` (the first argument of the formula).
    public var x: Int
    /// Index of the filter giving `gy`.
    public var y: Int

    /// A combination of filters `x` and `y` of a bank, named `name`.
    public init(name: String, operation: Operation, x: Int, y: Int) {
        self.name = name
        self.operation = operation
        self.x = x
        self.y = y
    }

    /// The output value from `gx` and `gy`: computed in `Double`, rounded once to `Float`.
    @inlinable
    public func value(x gx: Float, y gy: Float) -> Float {
        switch operation {
        case .magnitude:
            let dx = Double(gx), dy = Double(gy)
            return Float((dx * dx + dy * dy).squareRoot())
        case .orientation:
            return gx == 0 && gy == 0 ? 0 : Float(atan2(Double(gy), Double(gx)))
        }
    }

    /// The combined map of `gx` and `gy` (same shape, elementwise).
    /// - Precondition: the two maps have the same shape.
    /// - Complexity: O(values).
    public func apply(x gx: Tensor, y gy: Tensor) -> Tensor {
        precondition(gx.height == gy.height && gx.width == gy.width && gx.channels == gy.channels, "combined maps differ in shape")
        var out = [Float](repeating: 0, count: gx.storage.count)
        gx.storage.withUnsafeBufferPointer { a in
            gy.storage.withUnsafeBufferPointer { b in
                out.withUnsafeMutableBufferPointer { o in
                    for k in 0..<o.count { o[k] = value(x: a[k], y: b[k]) }
                }
            }
        }
        return Tensor(height: gx.height, width: gx.width, channels: gx.channels, storage: out)
    }

    /// One line taking a value apart: `magnitude = √(sobel_x² + sobel_y²) = √((-12)² + 5²) = 13`.
    public func explanation(x gx: Float, y gy: Float, xName: String, yName: String) -> String {
        let v = value(x: gx, y: gy)
        func n(_ f: Float) -> String { f < 0 ? "(\(formatNumber(f)))" : formatNumber(f) }
        switch operation {
        case .magnitude:
            return "\(name) = \(operation.formula(xName, yName)) = √(\(n(gx))² + \(n(gy))²) = \(formatNumber(v))"
        case .orientation:
            return "\(name) = \(operation.formula(xName, yName)) = atan2(\(formatNumber(gy)), \(formatNumber(gx))) = \(formatNumber(v)) (\(formatNumber(Float(Double(v) * 180 / Double.pi)))°)"
        }
    }
}

extension FilterBank {
    /// The names of the maps the bank writes: its filters' names, or, when it combines them, its combinations' names.
    public var outputNames: [String] { combinations.isEmpty ? filters.map(\.name) : combinations.map(\.name) }

    /// The maps the bank writes from its filters' maps (`maps[f]` of filter `f`): `maps` itself, or each combination
    /// computed from its pair (see `MapCombination`).
    /// - Complexity: O(values of the combined maps).
    public func outputMaps(_ maps: [Tensor]) -> [Tensor] {
        combinations.isEmpty ? maps : combinations.map { $0.apply(x: maps[$0.x], y: maps[$0.y]) }
    }

    /// The bank with its filters' maps combined as `combinations` say, replacing any the bank had (empty: written
    /// as they are).
    /// - Throws: `BankError.invalid` (at `combine[k]`) for a filter index out of range, a name that cannot be a file
    ///   name or one given twice.
    public func combining(_ combinations: [MapCombination], source: String) throws(BankError) -> FilterBank {
        var seen = Set<String>()
        for (k, c) in combinations.enumerated() {
            let at = "combine[\(k)]"
            guard filters.indices.contains(c.x), filters.indices.contains(c.y) else {
                throw .invalid(source: source, at: at, reason: "filter index out of range (the bank has \(filters.count) filters)")
            }
            let name = c.name
            if name.isEmpty || name.hasPrefix(".") || name.contains("/") || name.contains("\0") {
                throw .invalid(source: source, at: "\(at).name", reason: "'\(name)' cannot be a file name (no '/', not empty, not starting with '.')")
            }
            guard name.utf8.count <= Filter.maximumNameBytes else {
                throw .invalid(source: source, at: "\(at).name", reason: "a map name may have at most \(Filter.maximumNameBytes) bytes (found \(name.utf8.count))")
            }
            guard seen.insert(name).inserted else { throw .invalid(source: source, at: "\(at).name", reason: "duplicate map name '\(name)'") }
        }
        var bank = self
        bank.combinations = combinations
        return bank
    }

    /// The short form of `combine`, for a bank of exactly two filters (the first gives `gx`, the second `gy`):
    /// `magnitude`, `orientation` or both comma-separated (`magnitude,orientation`), each map named after its
    /// operation; `none` (or an empty text) drops the bank's combinations.
    /// - Throws: `BankError.invalid` (at `combine`) for an unknown operation, one given twice, or a bank that does not
    ///   have exactly two filters.
    public func combining(shortForm text: String, source: String) throws(BankError) -> FilterBank {
        let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        if items.isEmpty || items == ["none"] { return try combining([], source: source) }
        let known = MapCombination.Operation.allCases.map(\.rawValue).joined(separator: ", ")
        var operations: [MapCombination.Operation] = []
        for item in items {
            guard let op = MapCombination.Operation(rawValue: item) else {
                throw .invalid(source: source, at: "combine", reason: "unknown operation '\(item)' (known: \(known), or none)")
            }
            guard !operations.contains(op) else { throw .invalid(source: source, at: "combine", reason: "'\(item)' given twice") }
            operations.append(op)
        }
        guard filters.count == 2 else {
            throw .invalid(source: source, at: "combine",
                           reason: "'\(text)' pairs the two filters of a bank of exactly two (gx first, gy second), but this bank has \(filters.count) filters; name the pairs in the bank file: \"combine\": [{\"name\": …, \"op\": \"magnitude\", \"x\": FILTER, \"y\": FILTER}]")
        }
        return try combining(operations.map { MapCombination(name: $0.rawValue, operation: $0, x: 0, y: 1) }, source: source)
    }
}
