import ConvBankTestSupport
import Foundation
import Testing
@testable import ConvBankBatch
@testable import ConvBankEngine
@testable import ConvBankImageIO
@testable import ConvBankPictures

/// Hostile parameters: one owner per value type bounds it for the command line, bank JSON and built-ins alike;
/// geometry never traps on overflow; strided planes cost memory proportional to the input, not stride × input;
/// the memory estimate is worked out before anything is allocated.
@Suite struct LimitsTests {
    // MARK: - Parsing owners

    @Test(arguments: [
        ("3", Extent2D(3)), ("2,5", Extent2D(height: 2, width: 5)), ("7x1", Extent2D(height: 7, width: 1)),
        ("999999999", Extent2D(999_999_999)),
    ])
    func extentsInRange(_ text: String, _ expected: Extent2D) {
        #expect(Extent2D(parsing: text) == expected)
        #expect(Extent2D(parsing: expected.description) == expected)
    }

    @Test(arguments: ["0", "-1", "1000000000", "9223372036854775807", "1,9223372036854775807", "-9223372036854775808", "1,2,3", "", "a"])
    func extentsOutOfRange(_ text: String) {
        #expect(Extent2D(parsing: text) == nil)
    }

    @Test func paddingBounds() {
        #expect(Padding(parsing: "999999999") == .explicit(EdgeInsets(999_999_999)))
        #expect(Padding(parsing: "SAME") == .same)
        #expect(Padding(parsing: "1,2,3,4") == .explicit(EdgeInsets(top: 1, bottom: 2, left: 3, right: 4)))
        for text in ["1000000000", "-1", "1,1,1,9223372036854775807", "0,0,-1,0", "1,2"] { #expect(Padding(parsing: text) == nil, "\(text)") }
        for padding in [Padding.valid, .same, .explicit(EdgeInsets(4)), .explicit(EdgeInsets(top: 0, bottom: 1, left: 2, right: 3))] {
            #expect(Padding(parsing: padding.description) == padding)
        }
    }

    @Test func paddingModeIgnoresCaseEverywhere() throws {
        #expect(PaddingMode(parsing: "Reflect") == .reflect)
        #expect(PaddingMode(parsing: "CIRCULAR") == .circular)
        let bank = try FilterBank(json: Array(#"{"padding_mode": "RePlIcAtE", "filters": [{"weights": [[1]]}]}"#.utf8), source: "t")
        #expect(bank.paddingMode == .replicate)
    }

    /// Bank JSON takes exactly the command line's range: the same value has one rule.
    @Test func jsonBoundsEqualCommandLineBounds() throws {
        func load(_ settings: String) throws -> FilterBank {
            try FilterBank(json: Array(#"{\#(settings), "filters": [{"weights": [[1]]}]}"#.utf8), source: "t")
        }
        #expect(try load(#""stride": 999999999"#).stride == Extent2D(999_999_999))
        #expect(try load(#""padding": [0, 999999999, 0, 0]"#).padding == .explicit(EdgeInsets(top: 0, bottom: 999_999_999, left: 0, right: 0)))
        for (settings, message) in [(#""stride": 1000000000"#, "stride: must be at most 999999999"),
                                    (#""dilation": [1, 9.2e18]"#, "dilation[1]: must be at most 999999999"),
                                    (#""stride": -9.3e18"#, "stride: must be at least 1"),
                                    (#""padding": 1e300"#, "padding: must be at most 999999999"),
                                    (#""padding": 2.5"#, "padding: expected a whole number"),
                                    (#""stride": 1.5"#, "stride: expected a whole number")] {
            do {
                _ = try load(settings)
                Issue.record("accepted \(settings)")
            } catch {
                #expect("\(error)".contains(message), "\(error)")
            }
        }
        let printed = try FilterBank(json: Array(try load(#""stride": [2, 999999999], "padding": [1, 2, 3, 4]"#).jsonText.utf8), source: "p")
        #expect(printed.stride == Extent2D(height: 2, width: 999_999_999))
    }

    @Test func filterNamesThatMakeTooLongFilesAreRefused() throws {
        let ok = String(repeating: "n", count: Filter.maximumNameBytes)
        #expect(try FilterBank(json: Array(#"{"filters": [{"name": "\#(ok)", "weights": [[1]]}]}"#.utf8), source: "t").filters[0].name == ok)
        do {
            _ = try FilterBank(json: Array(#"{"filters": [{"name": "\#(ok)x", "weights": [[1]]}]}"#.utf8), source: "t")
            Issue.record("accepted a 201-byte name")
        } catch {
            #expect("\(error)".contains("at most 200 bytes"))
        }
    }

    @Test(arguments: ["gaussian:sigma=1e-200", "dog:sigma=1e-200", "unsharp:sigma=1e-200", "log:sigma=1e-10", "unsharp:amount=1e300",
                      "gabor:gamma=1e300", "gabor:psi=1e300", "dog:k=1e300"])
    func builtinParametersOutOfRangeAreRefused(_ reference: String) {
        #expect(throws: BankError.self) { try BuiltinBank.parse(reference) }
    }

    /// At the edges of every parameter's range the weights stay finite, and the bank prints as JSON that reads back.
    @Test(arguments: ["gaussian:sigma=0.01", "log:sigma=0.01", "dog:sigma=0.01", "unsharp:sigma=0.01,amount=1000000", "gabor:gamma=0.01",
                      "gabor:gamma=100,psi=1000", "log:sigma=41", "dog:sigma=26,k=1.6"])
    func builtinParametersAtTheirLimits(_ reference: String) throws {
        let bank = try BuiltinBank.parse(reference)
        #expect(bank.filters.allSatisfy { $0.weights.allSatisfy(\.isFinite) })
        let again = try FilterBank(json: Array(bank.jsonText.utf8), source: reference)
        #expect(again.filters.map(\.weights) == bank.filters.map(\.weights))
        _ = try bank.summary(input: Extent2D(64))
    }

    // MARK: - Geometry

    /// A library caller may pass any `Int`: the geometry and the plan refuse what overflows instead of trapping.
    @Test func geometryNeverTraps() throws {
        let big = Int.max
        func plan(_ input: Extent2D, _ kernel: Extent2D, _ stride: Extent2D, _ dilation: Extent2D, _ padding: Padding) throws -> ConvolutionPlan {
            let filter = Filter(name: "f", kernel: kernel, channels: 1, weights: [Float](repeating: 1, count: kernel.height * kernel.width))
            return try ConvolutionPlan(bank: FilterBank(name: "b", filters: [filter], stride: stride, dilation: dilation, padding: padding), input: input)
        }
        let refused: [(Extent2D, Extent2D, Extent2D, Extent2D, Padding)] = [
            (Extent2D(16), Extent2D(3), Extent2D(1), Extent2D(big), .same),
            (Extent2D(16), Extent2D(3), Extent2D(1), Extent2D(big), .valid),
            (Extent2D(16), Extent2D(3), Extent2D(1), Extent2D(1), .explicit(EdgeInsets(big))),
            (Extent2D(16), Extent2D(3), Extent2D(1), Extent2D(1), .explicit(EdgeInsets(top: 0, bottom: big, left: 0, right: 0))),
            (Extent2D(big), Extent2D(3), Extent2D(1), Extent2D(1), .same),
            (Extent2D(16), Extent2D(3), Extent2D(0), Extent2D(1), .same),
            (Extent2D(16), Extent2D(3), Extent2D(1), Extent2D(1), .explicit(EdgeInsets(-1))),
            (Extent2D(16), Extent2D(3), Extent2D(1), Extent2D(-5), .valid),
        ]
        for (input, kernel, stride, dilation, padding) in refused {
            #expect(throws: ConvolutionError.self, "\(input) \(kernel) \(stride) \(dilation) \(padding)") { try plan(input, kernel, stride, dilation, padding) }
        }
        // A stride far above the image is legitimate: one output, from the first position (SAME: ceil(16 / s) = 1,
        // total pad max(0·s + 2 + 1 − 16, 0) = 0).
        let huge = try plan(Extent2D(16), Extent2D(3), Extent2D(big), Extent2D(1), .same)
        #expect(huge.filters[0].geometry.output == Extent2D(1) && huge.filters[0].geometry.insets == .zero)
        #expect(huge.memoryBytes < 1 << 20)
    }

    /// Strides above 16 take the compact phase layout; every padding mode, dilation and kernel size still matches the
    /// naive oracle exactly (integer image, dyadic weights).
    @Test(arguments: PaddingMode.allCases)
    func largeStridesMatchTheOracle(mode: PaddingMode) throws {
        var rng = SeededRandom(seed: 91 + UInt64(mode.rawValue.count))
        let weights: [Float] = [-2, -1, -0.5, 0.25, 0.5, 1, 2]
        var compared = 0
        for stride in [Extent2D(height: 1, width: 17), Extent2D(height: 3, width: 40), Extent2D(height: 20, width: 23), Extent2D(999_999_999)] {
            for padding in [Padding.valid, .same, .explicit(EdgeInsets(top: 1, bottom: 2, left: 3, right: 4))] {
                let h = Int.random(in: 30...60, using: &rng), w = Int.random(in: 50...120, using: &rng), c = Int.random(in: 1...3, using: &rng)
                let image = Tensor(height: h, width: w, channels: c, storage: (0..<(h * w * c)).map { _ in Float(Int.random(in: 0...255, using: &rng)) })
                let filters = (0..<Int.random(in: 1...9, using: &rng)).map { f in
                    let k = [1, 3, 5][f % 3]
                    return Filter(name: "f\(f)", kernel: Extent2D(k), channels: c,
                                  weights: (0..<(k * k * c)).map { _ in weights.randomElement(using: &rng)! }, bias: Float(f))
                }
                let bank = FilterBank(name: "s", filters: filters, stride: stride, dilation: Extent2D(height: 1, width: 2), padding: padding,
                                      paddingMode: mode)
                let maps = try bank.convolve(image, jobs: 2)
                for (map, expected) in zip(maps, try naiveConvolution(image, bank)) {
                    #expect(map.storage == expected.flatMap { $0 }.map { Float($0) }, "stride \(stride) \(padding) \(mode)")
                }
                compared += 1
            }
        }
        #expect(compared == 12)
    }

    /// The planes of a strided plan are one padded copy of the input, whatever the stride (the old layout held
    /// stride × padded height rows: a terabyte for stride 999,999,999 on 16×16).
    @Test func stridedPlanesAreProportionalToTheInput() throws {
        let filter = Filter(name: "f", kernel: Extent2D(3), channels: 1, weights: [Float](repeating: 1, count: 9))
        for (input, stride) in [(Extent2D(16), Extent2D(999_999_999)), (Extent2D(height: 1, width: 65535), Extent2D(height: 1, width: 1000)),
                                (Extent2D(300), Extent2D(150))] {
            let bank = FilterBank(name: "b", filters: [filter], stride: stride, padding: .same)
            let plan = try ConvolutionPlan(bank: bank, input: input)
            let paddedArea = plan.padded.height * plan.padded.width
            let planeFloats = (plan.memoryBytes / 4) - plan.filters[0].geometry.output.height * plan.filters[0].geometry.output.width
            #expect(planeFloats <= 2 * paddedArea + 16 * plan.padded.height + 64, "\(input) stride \(stride): \(planeFloats) floats for \(paddedArea) pixels")
        }
    }

    // MARK: - Memory

    @Test func memorySizesParseAndPrint() {
        #expect(ByteCount(parsing: "512M")?.bytes == 512 << 20)
        #expect(ByteCount(parsing: "4g")?.bytes == 4 << 30)
        #expect(ByteCount(parsing: "1.5GiB")?.bytes == 3 << 29)
        #expect(ByteCount(parsing: "2097152")?.bytes == 2 << 20)
        for bad in ["", "0", "1K", "-5G", "G", "1e3G", "9999999999999999999999", "nan", "4X"] { #expect(ByteCount(parsing: bad)?.bytes == nil, "\(bad)") }
        #expect(ByteCount.format(3 << 29) == "1.5 GiB")
        #expect(ByteCount.format(512 << 20) == "512 MiB")
        #expect(MemoryBudget.defaultBytes > 0 && MemoryBudget.defaultBytes <= MemoryBudget.availableBytes)
    }

    /// The estimate counts what a run really allocates: here every term by hand for a 100×80 gray 8-bit PNG under a
    /// 2-filter 3×3 same bank (npy, one job): file + samples + floats, planes (82 padded rows of 102 + 16 floats,
    /// plus 16), two maps, and one encoder buffer of two float copies of a map.
    @Test func memoryEstimateByHand() throws {
        let filter = Filter(name: "f", kernel: Extent2D(3), channels: 1, weights: [Float](repeating: 1, count: 9))
        let bank = FilterBank(name: "b", filters: [filter, Filter(name: "g", kernel: Extent2D(3), channels: 1, weights: [Float](repeating: 2, count: 9))],
                              padding: .same)
        var settings = ApplySettings()
        settings.format = .npy
        settings.jobs = 1
        let header = ImageCodec.Header(format: .png, extent: Extent2D(height: 80, width: 100), channels: 1, rawBytesPerPixel: 1)
        let expected = 1000 + 8000 + 8000 * 4 + (82 * (102 + 16) + 16) * 4 + 2 * 8000 * 4 + 8000 * 8
        #expect(try settings.memoryNeeded(bank: bank, header: header, fileBytes: 1000) == expected)
    }

    /// A bank that combines its maps (edge strength) adds one map per combination to the estimate, and runs whole.
    @Test func memoryEstimateCountsCombinedMaps() throws {
        let filter = Filter(name: "f", kernel: Extent2D(3), channels: 1, weights: [Float](repeating: 1, count: 9))
        let bank = FilterBank(name: "b", filters: [filter, Filter(name: "g", kernel: Extent2D(3), channels: 1, weights: [Float](repeating: 2, count: 9))],
                              padding: .same)
        let combined = try bank.combining(shortForm: "magnitude,orientation", source: "test")
        var settings = ApplySettings()
        settings.format = .npy
        settings.jobs = 1
        let header = ImageCodec.Header(format: .png, extent: Extent2D(height: 80, width: 100), channels: 1, rawBytesPerPixel: 1)
        #expect(try settings.memoryNeeded(bank: combined, header: header, fileBytes: 1000)
                == settings.memoryNeeded(bank: bank, header: header, fileBytes: 1000) + 2 * 8000 * 4)
        #expect(settings.streamsMaps(bank: bank) && !settings.streamsMaps(bank: combined))
    }

    @Test func headersAreReadWithoutDecoding() throws {
        let png = try Fixtures.bytes(Fixtures.testdata.appendingPathComponent("pngsuite/basn2c16.png"))
        #expect(ImageCodec.header(of: png) == ImageCodec.Header(format: .png, extent: Extent2D(32), channels: 3, rawBytesPerPixel: 6))
        let jpeg = try Fixtures.bytes(Fixtures.testdata.appendingPathComponent("exif/Landscape_6.jpg"))
        let decoded = try ImageCodec.decode(bytes: jpeg, path: "x")
        let header = try #require(ImageCodec.header(of: jpeg))
        #expect(header.extent == decoded.tensor.extent && header.channels == decoded.tensor.channels)
        #expect(ImageCodec.header(of: Array(png.prefix(20))) == nil)
        #expect(ImageCodec.header(of: [0xFF, 0xD8, 0xFF, 0xDA, 0, 2]) == nil)
    }

    /// An image over the pixel limit is refused from its header, and the message says how to lift the limit.
    @Test func pixelLimitMessageSaysHowToLiftIt() throws {
        let png = try ImageCodec.encodePNG(gray8: [1, 2, 3, 4, 5, 6], width: 3, height: 2)
        #expect(try ImageCodec.decode(bytes: png, path: "six.png", maxPixels: 6).tensor.storage == [1, 2, 3, 4, 5, 6])
        do {
            _ = try ImageCodec.decode(bytes: png, path: "six.png", maxPixels: 5)
            Issue.record("a 6-pixel image passed a 5-pixel limit")
        } catch {
            #expect(error.kind == .tooLarge)
            #expect("\(error)".contains("3×2 pixels is above the limit of 5 pixels"), "\(error)")
            #expect("\(error)".contains("raise it with --max-pixels"), "\(error)")
        }
    }
}
