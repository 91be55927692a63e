import Foundation

/// Banks that ship with convbank, by name (`convbank banks` lists them, `convbank banks NAME` prints one as JSON).
///
/// **Names.** A plain name (`sobel`) is the bank with default parameters; a parametric name is
/// `NAME:key=value,key=value` (`gaussian:sigma=2`, `gabor:orientations=8,wavelengths=3`), letter case ignored.
/// Unknown keys, keys given twice, values that are not finite numbers (or not whole numbers where a count or
/// size is asked for) and values out of range are refused with a `BankError` listing the bank's keys.
/// The bank's canonical `name` lists, in the bank's key order, only the parameters that differ from their
/// defaults (`GAUSSIAN:Sigma=2.0` → `gaussian:sigma=2`; `gaussian:sigma=1` → `gaussian`).
///
/// **Settings.** `edges` is 3-channel, `same` padding with zeros (the benchmark bank, unchanged). Every other
/// single-image bank reads one channel (an RGB image becomes BT.601 luma by the usual channel adaptation);
/// `luma-edges`, `rgb` and `opponent` read three. All of those use `same` padding with `replicate` (which, unlike
/// `reflect`, works on images of any size, even 1×1) and the linear activation.
///
/// **Values.** Kernels are computed in `Double` and rounded once to `Float`. Zero-sum kernels are never divided
/// by their sum; smoothing kernels sum to 1 (up to rounding). Each bank's `summary` states its output range on
/// 0…255 input, from `Filter.range(inputMaximum:)`.
public enum BuiltinBank {
    /// One parameter of a parametric built-in.
    public struct Parameter: Sendable {
        /// The key in `NAME:key=value`.
        public let key: String
        /// The value used when the key is not given.
        public let defaultValue: Double
        /// Whether only whole numbers are accepted.
        public let isInteger: Bool
        /// What the key means and which values it accepts.
        public let help: String
        /// Whether a non-default value is appended to filter names (`gaussian_sigma2`), so that banks composed
        /// with different parameters do not clash.
        let tagsNames: Bool
        /// Why `value` is refused, or `nil`.
        let problem: @Sendable (Double) -> String?

        /// `key=default`.
        public var usage: String { "\(key)=\(BuiltinBank.format(defaultValue))" }
    }

    /// Largest kernel side a built-in may have (parameters beyond it are refused).
    public static let maximumKernelSize = 255

    /// The parametric syntax, in one line.
    public static let syntax =
        "NAME:key=value,key=value (e.g. gaussian:sigma=2, gabor:orientations=8,wavelengths=3); omitted keys take their defaults"

    /// Every built-in bank with default parameters, in listing order.
    public static let all: [FilterBank] = entries.map { try! parse($0.name) }

    /// Built-in names, comma-separated, for help texts.
    public static var allNames: String { all.map(\.name).joined(separator: ", ") }

    /// The parameters of the built-in called `name` (empty for fixed banks and unknown names).
    public static func parameters(of name: String) -> [Parameter] {
        entries.first { $0.name == name.lowercased() }?.parameters ?? []
    }

    /// The built-in bank `reference` names (`sobel`, `gaussian:sigma=2`; letter case ignored), or `nil` when there is
    /// no such built-in or its parameters are invalid — `parse(_:)` says why.
    public static func named(_ reference: String) -> FilterBank? { try? parse(reference) }

    /// Whether `reference`, before any `:`, is the name of a built-in bank.
    public static func isBuiltinName(_ reference: String) -> Bool {
        let base = reference.lowercased().split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)[0]
        return entries.contains { $0.name == base }
    }

    /// The built-in bank `reference` names: `NAME` or `NAME:key=value,…` (letter case ignored).
    /// - Throws: `BankError.unknownBuiltin` for an unknown NAME; `BankError.invalid` (source = `reference`, at =
    ///   the key) for a bad parameter list, listing the keys the bank takes.
    /// - Complexity: O(total weights) to build the kernels.
    public static func parse(_ reference: String) throws(BankError) -> FilterBank {
        let text = reference.lowercased()
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let base = String(parts[0]).trimmingCharacters(in: .whitespaces)
        guard let entry = entries.first(where: { $0.name == base }) else {
            throw .unknownBuiltin(reference, known: entries.map(\.name))
        }
        let takes = entry.parameters.isEmpty
            ? "\(entry.name) takes no parameters"
            : "\(entry.name) takes \(entry.parameters.map(\.usage).joined(separator: ", "))"
        func fail(_ at: String, _ reason: String) -> BankError {
            .invalid(source: reference, at: at, reason: "\(reason) (\(takes))")
        }
        var values: [String: Double] = [:]
        for p in entry.parameters { values[p.key] = p.defaultValue }
        if parts.count == 2 {
            var given = Set<String>()
            for item in parts[1].split(separator: ",", omittingEmptySubsequences: false) {
                let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = String(pair[0]).trimmingCharacters(in: .whitespaces)
                guard pair.count == 2, !key.isEmpty else {
                    throw fail("", "expected key=value, found '\(item)' (syntax: \(syntax))")
                }
                guard let parameter = entry.parameters.first(where: { $0.key == key }) else {
                    throw fail(key, "unknown parameter")
                }
                guard given.insert(key).inserted else { throw fail(key, "given twice") }
                let valueText = String(pair[1]).trimmingCharacters(in: .whitespaces)
                guard let value = Double(valueText), value.isFinite else {
                    throw fail(key, "expected a number, found '\(valueText)'")
                }
                if parameter.isInteger, value != value.rounded() || abs(value) > 1e9 {
                    throw fail(key, "expected a whole number, found \(valueText)")
                }
                if let problem = parameter.problem(value) { throw fail(key, "\(problem), found \(valueText)") }
                values[key] = value
            }
        }
        let side = entry.kernelSide(values)
        guard side <= Double(maximumKernelSize) else {
            let keys = entry.parameters.map(\.key).joined(separator: ", ")
            throw fail("", "\(keys) give a \(format(side))×\(format(side)) kernel, larger than the \(maximumKernelSize)×\(maximumKernelSize) limit")
        }
        let changed = entry.parameters.filter { values[$0.key]! != $0.defaultValue }
        let name = changed.isEmpty ? entry.name
            : entry.name + ":" + changed.map { "\($0.key)=\(format(values[$0.key]!))" }.joined(separator: ",")
        let tag = changed.filter(\.tagsNames).map { "_\($0.key)\(format(values[$0.key]!))" }.joined()
        let made = entry.make(Values(values: values), tag)
        // A backstop for every built-in: whatever the parameters, the weights are finite 32-bit floats (no bank of
        // NaN or infinite weights that would silently give empty maps, or print as non-JSON).
        guard made.filters.allSatisfy({ $0.bias.isFinite && $0.weights.allSatisfy(\.isFinite) }) else {
            throw fail("", "these parameters give weights that are not finite 32-bit numbers")
        }
        var bank = FilterBank(name: name, filters: made.filters, padding: .same, paddingMode: made.paddingMode,
                              summary: made.summary ?? "\(made.description); \(rangeText(made.filters))")
        bank.combinations = made.combine
        return bank
    }

    /// 8 classic 3×3 edge and detail filters, each applying the same kernel to R, G and B (so it responds to
    /// the edges of R + G + B), `same` padding with zeros, linear. Sobel responses on 0…255 input span
    /// ±3060 (±1020 per channel): use `--normalize abs`, `symmetric` or `minmax` to see them as pictures.
    public static var edges: FilterBank { try! parse("edges") }

    // MARK: - Catalogue

    /// Parameter values by key, every key present.
    struct Values {
        let values: [String: Double]
        subscript(_ key: String) -> Double { values[key]! }
        func int(_ key: String) -> Int { Int(values[key]!) }
    }

    /// What an entry builds.
    struct Made {
        var filters: [Filter]
        var description: String
        var paddingMode: PaddingMode = .replicate
        /// Replaces `description; range` entirely.
        var summary: String? = nil
        /// Maps combined from pairs of the filters (`MapCombination`), written instead of the filters' maps.
        var combine: [MapCombination] = []
    }

    struct Entry: Sendable {
        let name: String
        let parameters: [Parameter]
        /// The largest kernel side the values give (in `Double`, so absurd values cannot overflow).
        let kernelSide: @Sendable ([String: Double]) -> Double
        /// Builds the filters; the `String` is the name tag of non-default parameters (`_sigma2`).
        let make: @Sendable (Values, String) -> Made

        init(_ name: String, _ parameters: [Parameter] = [], kernelSide: @escaping @Sendable ([String: Double]) -> Double = { _ in 3 },
             make: @escaping @Sendable (Values, String) -> Made) {
            self.name = name
            self.parameters = parameters
            self.kernelSide = kernelSide
            self.make = make
        }
    }

    /// A positive real parameter in `minimum … maximum`: below `minimum` a Gaussian is a single tap anyway (and its
    /// square would underflow); the kernel-size limit bounds most from above.
    static func positive(_ key: String, _ value: Double, _ help: String, minimum: Double = 0.01, maximum: Double = .infinity) -> Parameter {
        Parameter(key: key, defaultValue: value, isInteger: false, help: help, tagsNames: true) {
            $0 <= 0 ? "must be greater than 0" : $0 < minimum ? "must be at least \(format(minimum))"
                : $0 > maximum ? "must be at most \(format(maximum))" : nil
        }
    }

    static func count(_ key: String, _ value: Double, _ range: ClosedRange<Int>, _ help: String, tags: Bool = true) -> Parameter {
        Parameter(key: key, defaultValue: value, isInteger: true, help: help, tagsNames: tags) {
            range.contains(Int($0)) ? nil : "must be a whole number in \(range.lowerBound)…\(range.upperBound)"
        }
    }

    /// `2⌈3σ⌉ + 1` in `Double`.
    static func gaussianSide(_ sigma: Double) -> Double { 2 * (3 * sigma).rounded(.up) + 1 }

    /// `NAME_x` (the kernel) and `NAME_y` (its transpose), one channel.
    static func pair(_ base: String, _ kx: [[Float]]) -> [Filter] {
        [Filter(name: "\(base)_x", kernel: kx, channelWeights: [1]),
         Filter(name: "\(base)_y", kernel: BuiltinKernels.transposed(kx), channelWeights: [1])]
    }

    static func single(_ name: String, _ tag: String, _ kernel: [[Float]]) -> [Filter] {
        [Filter(name: name + tag, kernel: kernel, channelWeights: [1])]
    }

    static let entries: [Entry] = {
        typealias K = BuiltinKernels
        let sigmaHelp = "Gaussian standard deviation in pixels, > 0; kernel size 2⌈3σ⌉+1"
        let edgesText = "Sobel, Scharr, Prewitt (x, y), Laplacian and sharpen, 3×3 on each of R, G, B, summed; same padding; "
            + "range on 0…255: Sobel and Laplacian ±3060, Scharr ±12240, Prewitt ±2295, sharpen -3060…3825"
        return [
            Entry("edges") { _, _ in
                let rgb: [Float] = [1, 1, 1]
                return Made(filters: [
                    Filter(name: "sobel_x", kernel: K.sobelX, channelWeights: rgb),
                    Filter(name: "sobel_y", kernel: K.transposed(K.sobelX), channelWeights: rgb),
                    Filter(name: "scharr_x", kernel: K.scharrX, channelWeights: rgb),
                    Filter(name: "scharr_y", kernel: K.transposed(K.scharrX), channelWeights: rgb),
                    Filter(name: "laplacian", kernel: K.laplacian4, channelWeights: rgb),
                    Filter(name: "prewitt_x", kernel: K.prewittX, channelWeights: rgb),
                    Filter(name: "prewitt_y", kernel: K.transposed(K.prewittX), channelWeights: rgb),
                    Filter(name: "sharpen", kernel: K.sharpen, channelWeights: rgb),
                ], description: "", paddingMode: .zeros, summary: edgesText)
            },
            Entry("sobel") { _, _ in Made(filters: pair("sobel", K.sobelX), description: "Sobel gradient x (→) and y (↓), 3×3") },
            Entry("scharr") { _, _ in Made(filters: pair("scharr", K.scharrX), description: "Scharr gradient x (→) and y (↓), 3×3") },
            Entry("prewitt") { _, _ in Made(filters: pair("prewitt", K.prewittX), description: "Prewitt gradient x (→) and y (↓), 3×3") },
            Entry("sobel-magnitude") { _, _ in
                Made(filters: pair("sobel", K.sobelX), description: "", summary: "edge strength √(sobel_x² + sobel_y²) of the Sobel pair, one map 'magnitude'; range 0…1140 on 0…255",
                     combine: [MapCombination(name: "magnitude", operation: .magnitude, x: 0, y: 1)])
            },
            Entry("scharr-magnitude") { _, _ in
                Made(filters: pair("scharr", K.scharrX), description: "", summary: "edge strength √(scharr_x² + scharr_y²) of the Scharr pair, one map 'magnitude'; range 0…4811 on 0…255",
                     combine: [MapCombination(name: "magnitude", operation: .magnitude, x: 0, y: 1)])
            },
            Entry("roberts", kernelSide: { _ in 2 }) { _, _ in
                Made(filters: [Filter(name: "roberts_a", kernel: K.robertsA, channelWeights: [1]),
                               Filter(name: "roberts_b", kernel: K.robertsB, channelWeights: [1])],
                     description: "Roberts cross a [[1,0],[0,-1]], b [[0,1],[-1,0]], 2×2: SAME pads 0 top/left, 1 bottom/right")
            },
            Entry("laplacian") { _, _ in
                Made(filters: [Filter(name: "laplacian4", kernel: K.laplacian4, channelWeights: [1]),
                               Filter(name: "laplacian8", kernel: K.laplacian8, channelWeights: [1])],
                     description: "Laplacian, 4-neighbour and 8-neighbour, 3×3")
            },
            Entry("kirsch") { _, _ in
                Made(filters: K.kirsch.map { Filter(name: "kirsch_\($0.name)", kernel: $0.kernel, channelWeights: [1]) },
                     description: "Kirsch compass n, ne, e, se, s, sw, w, nw (bright side), 3×3")
            },
            Entry("log", [positive("sigma", 1.4, sigmaHelp)], kernelSide: { gaussianSide($0["sigma"]!) }) { v, tag in
                let k = K.laplacianOfGaussian(sigma: v["sigma"])
                return Made(filters: single("log", tag, K.rounded(k)),
                            description: "Laplacian of Gaussian σ=\(format(v["sigma"])), \(k.count)×\(k.count), negative centre, not forced to zero sum")
            },
            Entry("dog", [positive("sigma", 1, sigmaHelp),
                          Parameter(key: "k", defaultValue: 1.6, isInteger: false, help: "ratio of the second σ, > 1", tagsNames: true) { $0 > 1 ? nil : "must be greater than 1" }],
                  kernelSide: { gaussianSide($0["sigma"]! * $0["k"]!) }) { v, tag in
                let k = K.differenceOfGaussians(sigma: v["sigma"], k: v["k"])
                return Made(filters: single("dog", tag, K.rounded(k)),
                            description: "difference of Gaussians G(σ=\(format(v["sigma"]))) − G(\(format(v["k"]))σ), \(k.count)×\(k.count), sums to 0")
            },
            Entry("box", [count("size", 3, 1...maximumKernelSize, "side, 1…\(maximumKernelSize); even sizes allowed (SAME puts the extra row/column bottom/right)")],
                  kernelSide: { $0["size"]! }) { v, tag in
                let n = v.int("size")
                let w = Float(1 / Double(n * n))
                return Made(filters: single("box", tag, [[Float]](repeating: [Float](repeating: w, count: n), count: n)),
                            description: "box blur \(n)×\(n), weights 1/\(n * n)")
            },
            Entry("gaussian", [positive("sigma", 1, sigmaHelp)], kernelSide: { gaussianSide($0["sigma"]!) }) { v, tag in
                let k = K.gaussian(sigma: v["sigma"])
                return Made(filters: single("gaussian", tag, K.rounded(k)),
                            description: "Gaussian blur σ=\(format(v["sigma"])), \(k.count)×\(k.count), outer product of the normalized 1-D Gaussian")
            },
            Entry("binomial", [count("size", 5, 1...maximumKernelSize, "side, 1…\(maximumKernelSize); even sizes allowed")],
                  kernelSide: { $0["size"]! }) { v, tag in
                let n = v.int("size")
                return Made(filters: single("binomial", tag, K.rounded(K.binomial(size: n))),
                            description: "binomial blur \(n)×\(n), outer product of C(\(n - 1), i)/2^\(n - 1)")
            },
            Entry("sharpen") { _, _ in Made(filters: single("sharpen", "", K.sharpen), description: "sharpen [[0,-1,0],[-1,5,-1],[0,-1,0]]") },
            Entry("unsharp", [positive("sigma", 1, sigmaHelp),
                              Parameter(key: "amount", defaultValue: 1, isInteger: false, help: "strength, 0…1000000", tagsNames: true) {
                                  $0 < 0 ? "must be at least 0" : $0 > 1e6 ? "must be at most 1000000" : nil
                              }],
                  kernelSide: { gaussianSide($0["sigma"]!) }) { v, tag in
                let k = K.unsharp(sigma: v["sigma"], amount: v["amount"])
                return Made(filters: single("unsharp", tag, K.rounded(k)),
                            description: "unsharp mask (1+\(format(v["amount"])))·δ − \(format(v["amount"]))·G(σ=\(format(v["sigma"]))), \(k.count)×\(k.count)")
            },
            Entry("emboss") { _, _ in Made(filters: single("emboss", "", K.emboss), description: "emboss [[-2,-1,0],[-1,1,1],[0,1,2]]") },
            Entry("identity", kernelSide: { _ in 1 }) { _, _ in Made(filters: single("identity", "", [[1]]), description: "identity, 1×1 weight 1") },
            Entry("gabor", [count("orientations", 4, 1...64, "θ = 0, 180°/n, …", tags: false),
                            count("wavelengths", 2, 1...8, "λ = wavelength, 2·wavelength, 4·wavelength, …", tags: false),
                            Parameter(key: "wavelength", defaultValue: 4, isInteger: false, help: "first λ in pixels, ≥ 2", tagsNames: false) { $0 >= 2 ? nil : "must be at least 2" },
                            positive("gamma", 0.5, "aspect ratio γ, 0.01…100", maximum: 100),
                            Parameter(key: "psi", defaultValue: 0, isInteger: false, help: "phase ψ in radians, −1000…1000", tagsNames: true) { abs($0) > 1000 ? "must be in −1000…1000" : nil }],
                  kernelSide: { gaussianSide(0.56 * $0["wavelength"]! * pow(2, $0["wavelengths"]! - 1)) }) { v, tag in
                var filters: [Filter] = []
                for w in 0..<v.int("wavelengths") {
                    let lambda = v["wavelength"] * pow(2, Double(w))
                    let sigma = 0.56 * lambda
                    let size = 2 * K.radius(sigma: sigma) + 1
                    for t in 0..<v.int("orientations") {
                        let degrees = 180 * Double(t) / v["orientations"]
                        let k = K.gabor(size: size, sigma: sigma, theta: Double.pi * Double(t) / v["orientations"], lambda: lambda,
                                        gamma: v["gamma"], psi: v["psi"])
                        filters.append(Filter(name: "gabor_t\(short(degrees))_l\(short(lambda))\(tag)", kernel: K.rounded(k), channelWeights: [1]))
                    }
                }
                return Made(filters: filters, description: "Gabor (real part, as cv2.getGaborKernel) θ × λ, σ = 0.56λ, γ=\(format(v["gamma"])), ψ=\(format(v["psi"])), size 2⌈3σ⌉+1")
            },
            Entry("luma-edges") { _, _ in
                let luma: [Float] = [0.299, 0.587, 0.114]
                return Made(filters: [Filter(name: "sobel_x", kernel: K.sobelX, channelWeights: luma),
                                      Filter(name: "sobel_y", kernel: K.transposed(K.sobelX), channelWeights: luma)],
                            description: "RGB: Sobel x, y with channel weights 0.299, 0.587, 0.114 (Sobel of luma via the channel sum)")
            },
            Entry("rgb", kernelSide: { _ in 1 }) { _, _ in
                Made(filters: [Filter(name: "r", kernel: [[1]], channelWeights: [1, 0, 0]),
                               Filter(name: "g", kernel: [[1]], channelWeights: [0, 1, 0]),
                               Filter(name: "b", kernel: [[1]], channelWeights: [0, 0, 1])],
                     description: "RGB: channel splitter r, g, b, 1×1 (weight 1 on one channel, 0 on the others)")
            },
            Entry("opponent", kernelSide: { _ in 1 }) { _, _ in
                Made(filters: [Filter(name: "rg", kernel: [[1]], channelWeights: [1, -1, 0]),
                               Filter(name: "by", kernel: [[1]], channelWeights: [-0.5, -0.5, 1]),
                               Filter(name: "lum", kernel: [[1]], channelWeights: [Float(1.0 / 3), Float(1.0 / 3), Float(1.0 / 3)])],
                     description: "RGB: opponent colour rg = R−G, by = B−(R+G)/2, lum = (R+G+B)/3, 1×1")
            },
        ]
    }()

    // MARK: - Text

    /// A parameter value as written in a canonical name: whole numbers without a fraction, others as the
    /// shortest decimal that reads back to the same `Double`.
    static func format(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : "\(v)"
    }

    /// At most two decimals, trailing zeros dropped (filter-name angles and wavelengths).
    static func short(_ v: Double) -> String {
        var s = String(format: "%.2f", v)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }

    /// A value for summaries: whole numbers as such, otherwise one decimal.
    static func approx(_ v: Float) -> String {
        let d = Double(v)
        guard d.isFinite, abs(d) < 1e15 else { return String(format: "%.3g", d) }
        if abs(d - d.rounded()) < 0.05 { return String(Int(d.rounded())) }
        return String(format: "%.1f", d)
    }

    static func rangeText(_ r: ClosedRange<Float>) -> String {
        let lo = approx(r.lowerBound), hi = approx(r.upperBound)
        return "-" + hi == lo && hi != "0" ? "±\(hi)" : "\(lo)…\(hi)"
    }

    /// `range ±1020 on 0…255`, per filter when they differ (up to 4 filters), else the union.
    static func rangeText(_ filters: [Filter]) -> String {
        let texts = filters.map { rangeText($0.range(inputMaximum: 255)) }
        if Set(texts).count == 1 { return "range \(texts[0]) on 0…255" }
        if filters.count <= 4 {
            return "range on 0…255: " + zip(filters, texts).map { "\($0.name) \($1)" }.joined(separator: ", ")
        }
        let bank = FilterBank(name: "", filters: filters)
        return "range within \(rangeText(bank.range(inputMaximum: 255))) on 0…255"
    }
}
