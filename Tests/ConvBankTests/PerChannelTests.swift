import ConvBankTestSupport
import Foundation
import Testing
@testable import ConvBankBatch
@testable import ConvBankEngine
@testable import ConvBankImageIO
@testable import ConvBankPictures

/// Per-channel filtering (`apply --per-channel`, `FilterBank.convolvePerChannel`, `ConvolutionPlan.runPerChannel`):
/// every filter of a one-channel bank on each colour channel, against Keras `DepthwiseConv2D(depth_multiplier=1)`
/// (a float64 NumPy loop where Keras refuses stride > 1 with dilation > 1) from
/// `scripts/make_per_channel_goldens.py`, committed under `Fixtures/per_channel/`.
@Suite struct PerChannelTests {
    static var folder: URL { Fixtures.root.appendingPathComponent("per_channel") }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String, input: String, bank: String, expected: String, note: String, exact: Bool
        var testDescription: String { "\(name): \(note)" }
    }

    static let cases: [Case] = {
        guard let all = try? Fixtures.json(folder.appendingPathComponent("cases.json")) as? [String: Any],
              let list = all["engine"] as? [[String: Any]] else { return [] }
        return list.map {
            Case(name: $0["name"] as! String, input: $0["input"] as! String, bank: $0["bank"] as! String,
                 expected: $0["expected"] as! String, note: $0["note"] as? String ?? "", exact: $0["exact"] as! Bool)
        }
    }()

    static func load(_ c: Case) throws -> (FilterBank, Tensor) {
        let bank = try FilterBank(json: Fixtures.bytes(folder.appendingPathComponent(c.bank)), source: c.bank)
        let input = try Float32NPY(contentsOf: folder.appendingPathComponent(c.input))
        return (bank, Tensor(height: input.shape[0], width: input.shape[1], channels: input.shape[2], interleaved: input.values))
    }

    @Test func fixturesArePresent() {
        #expect(Self.cases.count >= 12)
        #expect(Self.cases.contains { $0.exact } && Self.cases.contains { !$0.exact })
    }

    @Test(arguments: cases)
    func matchesDepthwiseConv2D(_ c: Case) throws {
        let (bank, image) = try Self.load(c)
        let expected = try Float32NPY(contentsOf: Self.folder.appendingPathComponent(c.expected))  // (F, Ho, Wo, C)
        #expect(bank.isOneChannel)
        let results = try bank.convolvePerChannel(image, jobs: 2)
        try #require(results.count == bank.filters.count && expected.shape.count == 4 && expected.shape[0] == bank.filters.count)
        let (ho, wo, channels) = (expected.shape[1], expected.shape[2], expected.shape[3])
        #expect(channels == image.channels)
        for (f, result) in results.enumerated() {
            #expect(result.height == ho && result.width == wo && result.channels == channels, "filter \(f) shape")
            guard result.height == ho && result.width == wo && result.channels == channels else { continue }
            // A bound on the float32 rounding of the sums: 1e-5 of the largest possible |sum| (samples ≤ 255).
            let filter = bank.filters[f]
            let magnitude = 255 * filter.weights.reduce(0) { $0 + abs(Double($1)) } + abs(Double(filter.bias))
            var worst = 0.0
            for y in 0..<ho {
                for x in 0..<wo {
                    for ch in 0..<channels {
                        let want = expected.values[((f * ho + y) * wo + x) * channels + ch]
                        let got = result[y, x, ch]
                        if c.exact {
                            #expect(got == want, "filter \(f) (\(y), \(x), c\(ch)): \(got) ≠ \(want)")
                        }
                        worst = max(worst, abs(Double(got) - Double(want)))
                    }
                }
            }
            #expect(worst <= 1e-5 * max(magnitude, 1), "filter \(f): worst difference \(worst), magnitude \(magnitude)")
        }
        // Any worker count gives the same bits; each channel is exactly the one-channel bank on that plane.
        #expect(try bank.convolvePerChannel(image, jobs: 1).map(\.storage) == results.map(\.storage), "jobs 1 vs jobs 2")
        for ch in 0..<image.channels {
            let plain = try bank.convolve(image.plane(ch), jobs: 2)
            for (f, result) in results.enumerated() { #expect(result.plane(ch).storage == plain[f].storage, "filter \(f), channel \(ch)") }
        }
    }

    /// The expanded (depthwise) bank keeps the engine's fast paths: the Gaussian of p006 runs as low-rank passes on
    /// every channel, and the 9 filters of p007 run in blocks of 8 per channel.
    @Test func fastPathsAreKept() throws {
        let gauss = try #require(Self.cases.first { $0.name == "p006" })
        let (bank, image) = try Self.load(gauss)
        let expanded = try bank.perChannel(channels: 3)
        #expect(expanded.groups == 3 && expanded.filters.count == 6 && expanded.channels == 3)
        #expect(expanded.filters.map(\.firstChannel) == [0, 0, 1, 1, 2, 2])
        let plan = try ConvolutionPlan(bank: expanded, input: image.extent)
        #expect([0, 2, 4].allSatisfy { plan.filters[$0].lowRankTerms == 1 }, "the Gaussian is separable on every channel")
        let blocks = try #require(Self.cases.first { $0.name == "p007" })
        let (bank9, image9) = try Self.load(blocks)
        let plan9 = try ConvolutionPlan(bank: try bank9.perChannel(channels: 3), input: image9.extent)
        #expect(plan9.blocks.filter { $0.filters.count == 8 }.count == 3, "\(plan9.blocks.map(\.filters))")
    }

    @Test func refusesMultiChannelBanks() throws {
        let rgb = try FilterBank.load("edges")
        #expect(!rgb.isOneChannel)
        #expect(throws: ConvolutionError.notOneChannel(bank: 3)) { try rgb.convolvePerChannel(Tensor(height: 4, width: 4, channels: 3)) }
        // A depthwise bank reads several channels too (one each, but of different groups).
        let dw = try FilterBank(json: Array("{\"layout\": \"HWCM\", \"depthwise_kernel\": [[[[1], [2]]]]}".utf8), source: "dw.json")
        #expect(throws: ConvolutionError.notOneChannel(bank: 2)) { try dw.perChannel(channels: 2) }
        #expect(ConvolutionError.notOneChannel(bank: 3).description.contains("--per-channel"))
    }

    /// One channel: the per-channel form is the bank itself, and the result is the ordinary map.
    @Test func grayIsTheOrdinaryMap() throws {
        let bank = try FilterBank.load("gaussian:sigma=1")
        #expect(try bank.perChannel(channels: 1) == bank)
        var image = Tensor(height: 9, width: 8, channels: 1)
        for k in image.storage.indices { image.storage[k] = Float((k * 37) % 256) }
        #expect(try bank.convolvePerChannel(image).map(\.storage) == bank.convolve(image).map(\.storage))
    }

    // MARK: - encoding

    /// R = [0, 120], G = [52, 64], B = [200, 200] (1 row, 2 pixels): one range over the three channels.
    static let colour = Tensor(height: 1, width: 2, channels: 3, storage: [0, 120, 52, 64, 200, 200])

    /// Hand-computed, in pixel order R, G, B: `minmax` lo 0, hi 200, ×255/200 = 1.275: R 0, 153; G 66.3 → 66,
    /// 81.6 → 82; B 255, 255 (per-channel stretches would give G 0, 255 and B 0, 0). `symmetric` max|v| 200,
    /// (v/400 + ½)·255: R 127.5 → 128, 204; G 160.65 → 161, 168.3 → 168; B 255. `clamp` and `abs` per sample.
    /// 16 bits, ×65535/200 = 327.675: G 17039.1 → 17039, 20971.2 → 20971; R 120 → 39321.
    @Test(arguments: [
        (Normalization.minmax, OutputFormat.png, [0, 66, 255, 153, 82, 255]),
        (.symmetric, .png, [128, 161, 255, 204, 168, 255]),
        (.clamp, .png, [0, 52, 200, 120, 64, 200]),
        (.abs, .png, [0, 52, 200, 120, 64, 200]),
        (.minmax, .png16, [0, 17039, 65535, 39321, 20971, 65535]),
    ] as [(Normalization, OutputFormat, [Int])])
    func jointNormalization(_ normalization: Normalization, _ format: OutputFormat, _ expected: [Int]) throws {
        let bytes = try MapEncoder.encode(Self.colour, format: format, normalization: normalization, perChannel: true)
        let decoded = try ImageCodec.decode(bytes: bytes, path: "c.png")  // libpng
        #expect(decoded.tensor.channels == 3 && decoded.tensor.width == 2 && decoded.tensor.height == 1)
        #expect(decoded.bitDepth == (format == .png ? 8 : 16))
        #expect(decoded.tensor.interleaved == expected.map(Float.init))
    }

    @Test func npyIsChannelsLast() throws {
        let colour = try Float32NPY(bytes: MapEncoder.npy(Self.colour))
        #expect(colour.shape == [1, 2, 3])
        #expect(colour.values == [0, 52, 200, 120, 64, 200])
        let gray = Tensor(height: 2, width: 1, channels: 1, storage: [3, -4])
        #expect(try Float32NPY(bytes: MapEncoder.encode(gray, format: .npy, normalization: .clamp, perChannel: true)).shape == [2, 1, 1])
        #expect(try Float32NPY(bytes: MapEncoder.encode(gray, format: .npy, normalization: .clamp)).shape == [2, 1])
        // A one-channel colour result is a gray PNG.
        let png = try ImageCodec.decode(bytes: MapEncoder.encode(gray, format: .png, normalization: .minmax, perChannel: true), path: "g.png")
        #expect(png.tensor.channels == 1 && png.tensor.storage == [255, 0])
    }

    /// A contact sheet draws a colour result in its own colours, one range over the three channels, whatever the
    /// colormap: t = v/200 → 0…255 per channel, the same numbers as `minmax` above.
    @Test func sheetCellIsColour() {
        let picture = ContactSheet.mapPicture(Self.colour, range: (lo: 0, hi: 200), colormap: .viridis, size: (width: 2, height: 1))
        #expect(picture.rgb == [0, 66, 255, 153, 82, 255])
    }

    // MARK: - settings

    @Test func settingsFingerprintAndMemory() throws {
        let bank = try FilterBank.load("gaussian:sigma=2")
        var settings = ApplySettings()
        let plain = settings.canonicalEncoding(bank: bank)
        #expect(!plain.contains("per_channel"), "runs without --per-channel keep their fingerprints")
        settings.perChannel = true
        #expect(settings.canonicalEncoding(bank: bank) == plain + "per_channel true\n")
        #expect(!settings.streamsMaps)
        // RGBA in: three colour channels filtered, alpha dropped; gray+alpha → one.
        #expect(ApplySettings.colourChannels(of: 4) == 3 && ApplySettings.colourChannels(of: 2) == 1)
        #expect(ApplySettings.colourChannels(of: 3) == 3 && ApplySettings.colourChannels(of: 1) == 1)
        let header = ImageCodec.Header(format: .png, extent: Extent2D(height: 1000, width: 1500), channels: 3, rawBytesPerPixel: 3)
        let perChannel = try settings.memoryNeeded(bank: bank, header: header, fileBytes: 1000)
        settings.perChannel = false
        let luma = try settings.memoryNeeded(bank: bank, header: header, fileBytes: 1000)
        // At least two more float maps of the image's size (three channels' maps instead of one) and two more padded planes.
        #expect(perChannel - luma >= 4 * 1500 * 1000 * 4, "\(perChannel) vs \(luma)")
        let plan = try ConvolutionPlan(bank: try bank.perChannel(channels: 3), input: header.extent)
        #expect(perChannel >= plan.memoryBytes + 1500 * 1000 * 3 * 4)
    }
}
