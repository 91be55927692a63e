import ConvBankTestSupport
import Foundation
import Testing
@testable import ConvBankBatch
@testable import ConvBankEngine
@testable import ConvBankImageIO
@testable import ConvBankPictures

/// The built-in banks: parametric names, JSON round trips, hand-computed values, and independent references
/// (scipy / OpenCV, made by `scripts/make_builtin_goldens.py` into `Fixtures/builtins/builtins.json`).
@Suite struct BuiltinBankTests {
    static let defaultNames = [
        "edges", "sobel", "scharr", "prewitt", "sobel-magnitude", "scharr-magnitude", "roberts", "laplacian", "kirsch", "log", "dog", "box", "gaussian", "binomial",
        "sharpen", "unsharp", "emboss", "identity", "gabor", "luma-edges", "rgb", "opponent",
    ]

    static let variants = defaultNames + [
        "gaussian:sigma=2", "gaussian:sigma=0.5", "log:sigma=2", "dog:sigma=2,k=2", "box:size=4", "box:size=1",
        "binomial:size=7", "binomial:size=2", "unsharp:sigma=1.5,amount=0.5", "gabor:orientations=8",
        "gabor:orientations=6,wavelengths=1,wavelength=3,gamma=1,psi=0.5", "gabor:orientations=7,wavelength=2.5",
    ]

    static func randomImage(channels: Int, height: Int = 17, width: Int = 19, seed: UInt64 = 5) -> Tensor {
        var rng = SeededRandom(seed: seed)
        return Tensor(height: height, width: width, channels: channels,
                      storage: (0..<(height * width * channels)).map { _ in Float(Int.random(in: 0...255, using: &rng)) })
    }

    // MARK: - Catalogue and round trips

    @Test func listsEveryBuiltinWithDefaults() {
        #expect(BuiltinBank.all.map(\.name) == Self.defaultNames)
        for bank in BuiltinBank.all {
            #expect(bank.summary?.contains("on 0…255") == true, "\(bank.name): \(bank.summary ?? "-")")
            #expect(bank.padding == .same && bank.activation == .linear, "\(bank.name)")
            let colour = ["edges", "luma-edges", "rgb", "opponent"].contains(bank.name)
            #expect(bank.channels == (colour ? 3 : 1), "\(bank.name)")
            #expect(bank.paddingMode == (bank.name == "edges" ? .zeros : .replicate), "\(bank.name)")
        }
    }

    /// The benchmark bank is unchanged: 8 filters, the same 3×3 kernel on R, G and B, same/zeros, linear.
    @Test func edgesIsTheBenchmarkBank() throws {
        let bank = BuiltinBank.edges
        #expect(bank.name == "edges" && bank.channels == 3 && bank.padding == .same && bank.paddingMode == .zeros)
        #expect(bank.filters.map(\.name) == ["sobel_x", "sobel_y", "scharr_x", "scharr_y", "laplacian", "prewitt_x", "prewitt_y", "sharpen"])
        let sobelX: [Float] = [-1, 0, 1, -2, 0, 2, -1, 0, 1]
        #expect(bank.filters[0].weights == sobelX + sobelX + sobelX)
        #expect(bank.filters[7].weights == Array(repeating: [0, -1, 0, -1, 5, -1, 0, -1, 0] as [Float], count: 3).flatMap { $0 })
        #expect(try FilterBank.load("edges") == bank)
    }

    @Test(arguments: variants)
    func roundTripsThroughJSON(_ name: String) throws {
        let bank = try BuiltinBank.parse(name)
        #expect(bank.name == name, "canonical name")
        let back = try FilterBank(json: Array(bank.jsonText.utf8), source: "\(name).json")
        #expect(back == bank)
        #expect(try BuiltinBank.parse(bank.name) == bank)
        #expect(try FilterBank.load(name) == bank)
        let image = Self.randomImage(channels: bank.channels)
        let expected = try bank.convolve(image)
        #expect(try back.convolve(image, jobs: 3) == expected)
        // Through a real file, as `banks NAME > f.json; apply --bank f.json` does.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("convbank-builtin-\(UUID().uuidString).json")
        try Data(bank.jsonText.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let loaded = try FilterBank.load(file.path)
        #expect(loaded == bank)
        #expect(try loaded.convolve(image) == expected)
    }

    @Test func canonicalNames() throws {
        #expect(try BuiltinBank.parse("GAUSSIAN:Sigma=2.0").name == "gaussian:sigma=2")
        #expect(try BuiltinBank.parse("gaussian:sigma=1").name == "gaussian")
        #expect(try BuiltinBank.parse("gaussian:sigma=1") == BuiltinBank.parse("gaussian"))
        #expect(try BuiltinBank.parse("dog:k=2, sigma=1.5").name == "dog:sigma=1.5,k=2")
        #expect(try BuiltinBank.parse("gaussian:sigma=2").filters.map(\.name) == ["gaussian_sigma2"])
        #expect(try BuiltinBank.parse("gabor:orientations=8").filters.map(\.name).prefix(3) == ["gabor_t0_l4", "gabor_t22.5_l4", "gabor_t45_l4"])
        #expect(try BuiltinBank.parse("gabor").filters.map(\.name) == [
            "gabor_t0_l4", "gabor_t45_l4", "gabor_t90_l4", "gabor_t135_l4", "gabor_t0_l8", "gabor_t45_l8", "gabor_t90_l8", "gabor_t135_l8"])
        #expect(BuiltinBank.named("Sobel")?.name == "sobel")
        #expect(BuiltinBank.named("gaussian:sigma=0") == nil)
        #expect(BuiltinBank.named("nope") == nil)
        #expect(BuiltinBank.parameters(of: "gabor").map(\.usage) == ["orientations=4", "wavelengths=2", "wavelength=4", "gamma=0.5", "psi=0"])
        #expect(BuiltinBank.parameters(of: "log").map(\.usage) == ["sigma=1.4"])
        #expect(BuiltinBank.parameters(of: "sobel").isEmpty)
    }

    @Test func kernelSizesFollowSigma() throws {
        for (name, side) in [("gaussian", 7), ("gaussian:sigma=2", 13), ("gaussian:sigma=0.5", 5), ("log", 11), ("dog", 11),
                             ("unsharp", 7), ("box", 3), ("box:size=4", 4), ("binomial", 5), ("identity", 1), ("roberts", 2)] {
            let bank = try BuiltinBank.parse(name)
            #expect(bank.filters.allSatisfy { $0.kernel == Extent2D(side) }, "\(name)")
        }
        let gabor = try BuiltinBank.parse("gabor")
        #expect(gabor.filters.map(\.kernel.height) == [15, 15, 15, 15, 29, 29, 29, 29])  // σ = 0.56λ: 2⌈6.72⌉+1, 2⌈13.44⌉+1
    }

    // MARK: - Hand-computed values

    /// On a ramp 10·x, Sobel x is 4·(10·(x+1) − 10·(x−1)) = 80 inside and 40 at the replicated edges; Sobel y is 0.
    @Test func sobelOnARamp() throws {
        let image = Tensor(height: 4, width: 6, channels: 1, storage: (0..<24).map { Float(10 * ($0 % 6)) })
        let maps = try BuiltinBank.parse("sobel").convolve(image)
        for y in 0..<4 { #expect((0..<6).map { maps[0][y, $0, 0] } == [40, 80, 80, 80, 80, 40]) }
        #expect(maps[1].storage.allSatisfy { $0 == 0 })
        #expect(try BuiltinBank.parse("sobel").filters[0].range() == -1020...1020)
        #expect(try BuiltinBank.parse("sobel").summary?.contains("±1020") == true)
        #expect(BuiltinBank.edges.filters[0].range() == -3060...3060)
    }

    @Test func blursKeepAConstantImage() throws {
        let image = Tensor(height: 5, width: 4, channels: 1, storage: Array(repeating: 7, count: 20))
        // 1/16 is exact: every sum is exact.
        for map in try BuiltinBank.parse("box:size=4").convolve(image) { #expect(map.storage.allSatisfy { $0 == 7 }) }
        for map in try BuiltinBank.parse("binomial").convolve(image) { #expect(map.storage.allSatisfy { $0 == 7 }) }
        for name in ["box", "gaussian", "gaussian:sigma=2", "unsharp"] {
            for map in try BuiltinBank.parse(name).convolve(image) {
                #expect(map.storage.allSatisfy { abs($0 - 7) < 1e-5 }, "\(name)")
            }
        }
        #expect(try BuiltinBank.parse("box").filters[0].weights == Array(repeating: Float(1.0 / 9), count: 9))
    }

    @Test func binomialRows() throws {
        let row: [Float] = [1, 4, 6, 4, 1].map { $0 / 16 }
        #expect(try BuiltinBank.parse("binomial").filters[0].weights == row.flatMap { a in row.map { a * $0 } })
        let row2: [Float] = [0.5, 0.5]
        #expect(try BuiltinBank.parse("binomial:size=2").filters[0].weights == row2.flatMap { a in row2.map { a * $0 } })
        #expect(try BuiltinBank.parse("binomial:size=1").filters[0].weights == [1])
    }

    @Test func identityAndSplitters() throws {
        let gray = Self.randomImage(channels: 1)
        #expect(try BuiltinBank.parse("identity").convolve(gray)[0].storage == gray.storage)
        let rgb = Self.randomImage(channels: 3)
        let maps = try BuiltinBank.parse("rgb").convolve(rgb)
        #expect(maps.count == 3)
        for c in 0..<3 { #expect(maps[c].storage == rgb.plane(c).storage) }
    }

    /// R = 200, G = 100, B = 50: rg = 100, by = 50 − 150 = −100, lum = 350/3.
    @Test func opponentOnAKnownPixel() throws {
        let image = Tensor(height: 1, width: 1, channels: 3, interleaved: [200, 100, 50])
        let maps = try BuiltinBank.parse("opponent").convolve(image)
        #expect(maps[0].storage == [100])
        #expect(maps[1].storage == [-100])
        #expect(abs(maps[2].storage[0] - 350.0 / 3) < 1e-4)
        // Luma edges: Sobel of 0.299 R + 0.587 G + 0.114 B through the channel sum.
        let luma = try BuiltinBank.parse("luma-edges")
        #expect(luma.filters[0].weights[0..<9] == [-0.299, 0, 0.299, -0.598, 0, 0.598, -0.299, 0, 0.299])
        #expect(luma.filters[0].weights[9..<18] == [-0.587, 0, 0.587, -1.174, 0, 1.174, -0.587, 0, 0.587])
    }

    /// 2×2 under SAME: the extra row and column are padded bottom/right (TensorFlow's split).
    @Test func robertsShowsTheSameSplit() throws {
        let roberts = try BuiltinBank.parse("roberts")
        let geometry = try roberts.geometry(of: 0, input: Extent2D(height: 3, width: 3))
        #expect(geometry.insets == EdgeInsets(top: 0, bottom: 1, left: 0, right: 1))
        #expect(geometry.output == Extent2D(3))
        // a = in(y, x) − in(y+1, x+1); b = in(y, x+1) − in(y+1, x), the last row/column replicated.
        let image = Tensor(height: 3, width: 3, channels: 1, storage: [1, 2, 4, 8, 16, 32, 64, 128, 256])
        let maps = try roberts.convolve(image)
        let a: [Float] = [-15, -30, -28, -120, -240, -224, -64, -128, 0]  // 1−16, 2−32, 4−32, 8−128, 16−256, 32−256, 64−128, 128−256, 256−256
        let b: [Float] = [-6, -12, -28, -48, -96, -224, 64, 128, 0]  // 2−8, 4−16, 4−32, 16−64, 32−128, 32−256, 128−64, 256−128, 256−256
        #expect(maps[0].storage == a)
        #expect(maps[1].storage == b)
    }

    @Test func zeroSumKernelsAreNotRescaled() throws {
        for name in ["sobel", "scharr", "prewitt", "roberts", "laplacian", "kirsch"] {
            for f in try BuiltinBank.parse(name).filters { #expect(f.weights.reduce(0, +) == 0, "\(f.name)") }
        }
        #expect(try BuiltinBank.parse("kirsch").filters.map { $0.range() } == Array(repeating: -3825...3825, count: 8))
        let dog = try BuiltinBank.parse("dog").filters[0].weights.map(Double.init).reduce(0, +)
        #expect(abs(dog) < 1e-6)
        #expect(try BuiltinBank.parse("sharpen").filters[0].range() == -1020...1275)
        #expect(try BuiltinBank.parse("emboss").filters[0].range() == -1020...1275)
    }

    // MARK: - Parameters

    @Test(arguments: [
        ("gaussian:sigma=0", "sigma: must be greater than 0, found 0 (gaussian takes sigma=1)"),
        ("gaussian:sigma=-1", "sigma: must be greater than 0"),
        ("gaussian:size=3", "size: unknown parameter (gaussian takes sigma=1)"),
        ("sobel:x=1", "x: unknown parameter (sobel takes no parameters)"),
        ("box:size=2.5", "size: expected a whole number, found 2.5"),
        ("box:size=0", "size: must be a whole number in 1…255, found 0"),
        ("gaussian:sigma=abc", "sigma: expected a number, found 'abc'"),
        ("gaussian:sigma=nan", "sigma: expected a number"),
        ("gaussian:sigma=inf", "sigma: expected a number"),
        ("gaussian:sigma=1,sigma=2", "sigma: given twice"),
        ("gaussian:", "expected key=value"),
        ("gaussian:sigma", "expected key=value, found 'sigma'"),
        ("gaussian:sigma=100", "larger than the 255×255 limit"),
        ("gaussian:sigma=1e300", "larger than the 255×255 limit"),
        ("gabor:wavelengths=6", "larger than the 255×255 limit"),
        ("gabor:wavelength=1", "wavelength: must be at least 2"),
        ("gabor:orientations=0", "orientations: must be a whole number in 1…64"),
        ("dog:k=1", "k: must be greater than 1, found 1 (dog takes sigma=1, k=1.6)"),
        ("unsharp:amount=-1", "amount: must be at least 0"),
    ])
    func parameterErrors(_ reference: String, _ expected: String) {
        do {
            _ = try BuiltinBank.parse(reference)
            Issue.record("accepted \(reference)")
        } catch {
            let message = String(describing: error)
            #expect(message.hasPrefix("bank '\(reference)': "), "\(message)")
            #expect(message.contains(expected), "\(message) lacks \(expected)")
        }
        #expect(throws: BankError.self) { try FilterBank.load(reference) }
    }

    @Test func unknownBuiltinNames() {
        #expect(throws: BankError.unknownBuiltin("nope:sigma=1", known: Self.defaultNames)) { try BuiltinBank.parse("nope:sigma=1") }
        #expect(throws: BankError.unknownBuiltin("nope", known: Self.defaultNames)) { try FilterBank.load("nope") }
    }

    // MARK: - Composition

    func bank(_ text: String) throws(BankError) -> FilterBank { try FilterBank(json: Array(text.utf8), source: "b.json") }

    func problem(_ text: String) -> String? {
        do { _ = try bank(text); return nil } catch { return String(describing: error) }
    }

    @Test func bankFilesListBuiltinsBesideTheirOwnFilters() throws {
        let composed = try bank("""
            {"padding": "valid", "filters": ["sobel", {"name": "mine", "weights": [[2]], "bias": 1}, "gaussian:sigma=2", "kirsch"]}
            """)
        let sobel = try BuiltinBank.parse("sobel"), gaussian = try BuiltinBank.parse("gaussian:sigma=2")
        let kirsch = try BuiltinBank.parse("kirsch")
        #expect(composed.filters.map(\.name) == ["sobel_x", "sobel_y", "mine", "gaussian_sigma2"] + kirsch.filters.map(\.name))
        #expect(Array(composed.filters[4...]) == kirsch.filters)
        #expect(Array(composed.filters[0..<2]) == sobel.filters)
        #expect(composed.filters[3] == gaussian.filters[0])
        // The file's settings apply, not the built-in's.
        #expect(composed.padding == .valid && composed.paddingMode == .zeros)
        // Round trip of the expanded bank.
        #expect(try bank(composed.jsonText) == composed)
        let rgb = try bank("{\"filters\": [\"luma-edges\", \"rgb\", {\"name\": \"x\", \"weights\": [[[1]], [[0]], [[0]]]}]}")
        #expect(rgb.channels == 3 && rgb.filters.count == 6)
    }

    @Test(arguments: [
        ("{\"filters\": [{\"weights\": [[[1]], [[1]], [[1]]]}, \"sobel\"]}", "filters[1]: built-in 'sobel' reads 1 channel, but filters[0] reads 3"),
        ("{\"filters\": [\"sobel\", \"rgb\"]}", "filters[1]: built-in 'rgb' reads 3 channels, but filters[0] reads 1"),
        ("{\"filters\": [\"rgb\", {\"weights\": [[1]]}]}", "filters[1].weights: expected 3 channels (as filters[0]), found 1"),
        ("{\"filters\": [\"nope\"]}", "filters[0]: unknown built-in bank 'nope' (built-in banks: edges, sobel"),
        ("{\"filters\": [\"sobel\", \"gaussian:sigma=-1\"]}", "filters[1]: built-in 'gaussian:sigma=-1': sigma: must be greater than 0"),
        ("{\"filters\": [\"sobel\", \"sobel\"]}", "filters[1]: duplicate filter name 'sobel_x'"),
        ("{\"filters\": [{\"name\": \"sobel_y\", \"weights\": [[1]]}, \"sobel\"]}", "filters[1]: duplicate filter name 'sobel_y'"),
        ("{\"filters\": [\"sobel\", {\"name\": \"sobel_x\", \"weights\": [[1]]}]}", "filters[1].name: duplicate filter name 'sobel_x'"),
        ("{\"filters\": [3]}", "filters[0]: expected a filter object or a built-in bank name, found a number"),
    ])
    func compositionErrors(_ text: String, _ expected: String) {
        let message = problem(text)
        #expect(message?.contains(expected) == true, "\(message ?? "accepted") lacks \(expected)")
        #expect(message?.hasPrefix("bank 'b.json': ") == true)
    }

    // MARK: - Independent references (scipy, OpenCV)

    struct KernelCase: Sendable, CustomTestStringConvertible {
        var bank: String, filter: String, shape: [Int], weights: [Double], reference: String
        var testDescription: String { "\(bank) \(filter) (\(reference))" }
    }

    struct OutputCase: Sendable, CustomTestStringConvertible {
        var bank: String, shape: [Int], input: [Double], maps: [String: [Double]], reference: String
        var testDescription: String { "\(bank) (\(reference))" }
    }

    static func goldens(_ key: String) -> [[String: Any]] {
        let root = (try? Fixtures.json(Fixtures.root.appendingPathComponent("builtins/builtins.json"))) as? [String: Any]
        return root?[key] as? [[String: Any]] ?? []
    }

    static let kernelCases: [KernelCase] = goldens("kernels").map {
        KernelCase(bank: $0["bank"] as! String, filter: $0["filter"] as! String, shape: $0["shape"] as! [Int],
                   weights: $0["weights"] as! [Double], reference: $0["reference"] as! String)
    }

    static let outputCases: [OutputCase] = goldens("outputs").map {
        let input = $0["input"] as! [String: Any]
        return OutputCase(bank: $0["bank"] as! String, shape: input["shape"] as! [Int], input: input["values"] as! [Double],
                          maps: $0["maps"] as! [String: [Double]], reference: $0["reference"] as! String)
    }

    @Test func referenceFixturesArePresent() {
        #expect(Self.kernelCases.count >= 35)
        #expect(Self.outputCases.count >= 5)
        let banks = Set(Self.kernelCases.map { $0.bank.split(separator: ":")[0] })
        for name in ["gaussian", "log", "dog", "gabor", "kirsch", "unsharp", "sobel", "scharr", "laplacian", "binomial"] {
            #expect(banks.contains(Substring(name)), "\(name)")
        }
    }

    /// Each kernel within 1e-6 of the reference's largest weight (float32 rounding is 6e-8 relative).
    @Test(arguments: kernelCases)
    func kernelMatchesReference(_ c: KernelCase) throws {
        let bank = try BuiltinBank.parse(c.bank)
        let filter = try #require(bank.filter(named: c.filter), "\(c.filter) not in \(bank.filters.map(\.name))")
        #expect([filter.kernel.height, filter.kernel.width] == c.shape)
        try #require(filter.weights.count == c.weights.count)
        let scale = c.weights.map(abs).max() ?? 1
        let worst = zip(filter.weights, c.weights).map { abs(Double($0) - $1) }.max() ?? 0
        #expect(worst <= 1e-6 * scale, "worst difference \(worst) (scale \(scale))")
    }

    /// Whole filterings with edge replication, within 1e-6 of the largest possible magnitude `255 · Σ|w|`.
    @Test(arguments: outputCases)
    func outputMatchesReference(_ c: OutputCase) throws {
        let bank = try BuiltinBank.parse(c.bank)
        let image = Tensor(height: c.shape[0], width: c.shape[1], channels: c.shape[2], interleaved: c.input.map(Float.init))
        let maps = try bank.convolve(image, jobs: 2)
        #expect(Set(c.maps.keys) == Set(bank.filters.map(\.name)))
        for (f, filter) in bank.filters.enumerated() {
            let expected = try #require(c.maps[filter.name])
            try #require(maps[f].storage.count == expected.count)
            let bound = 1e-6 * 255 * filter.weights.reduce(0) { $0 + Double(abs($1)) }
            let worst = zip(maps[f].storage, expected).map { abs(Double($0) - $1) }.max() ?? 0
            #expect(worst <= bound, "\(filter.name): worst difference \(worst), bound \(bound)")
        }
    }
}
