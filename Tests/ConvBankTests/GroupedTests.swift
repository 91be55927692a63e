import ConvBankTestSupport
import Foundation
import Testing
@testable import ConvBankBatch
@testable import ConvBankEngine
@testable import ConvBankImageIO
@testable import ConvBankPictures

/// Grouped banks (`"groups": G`, Keras `Conv2D(groups=G)`, PyTorch `groups=G`) and Keras `DepthwiseConv2D`
/// exports (`"layout": "HWCM"`), against real Keras 3 outputs made by `scripts/make_grouped_goldens.py` and
/// committed under `Fixtures/grouped/`.
@Suite struct GroupedTests {
    static var folder: URL { Fixtures.root.appendingPathComponent("grouped") }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String, input: String, bank: String, expected: String, note: String
        var params: Int, groups: Int, kind: String
        var testDescription: String { "\(name): \(note)" }
    }

    static let cases: [Case] = {
        guard let list = try? Fixtures.json(folder.appendingPathComponent("cases.json")) as? [[String: Any]] else { return [] }
        return list.map {
            Case(name: $0["name"] as! String, input: $0["input"] as! String, bank: $0["bank"] as! String,
                 expected: $0["expected"] as! String, note: $0["note"] as? String ?? "",
                 params: $0["params"] as! Int, groups: $0["groups"] as! Int, kind: $0["kind"] as! String)
        }
    }()

    static func load(_ file: String) throws -> FilterBank {
        try FilterBank(json: Fixtures.bytes(folder.appendingPathComponent(file)), source: file)
    }

    static func loadText(_ text: String) throws(BankError) -> FilterBank { try FilterBank(json: Array(text.utf8), source: "g.json") }

    static func image(_ c: Case) throws -> Tensor {
        let input = try Float32NPY(contentsOf: folder.appendingPathComponent(c.input))
        return Tensor(height: input.shape[0], width: input.shape[1], channels: input.shape[2], interleaved: input.values)
    }

    static func named(_ name: String) -> Case? { cases.first { $0.name == name } }

    @Test func fixturesArePresent() {
        #expect(Self.cases.count >= 40)
        #expect(Self.cases.contains { $0.kind == "depthwise" } && Self.cases.contains { $0.kind == "conv2d" })
    }

    @Test(arguments: cases)
    func matchesKeras(_ c: Case) throws {
        let expected = try Float32NPY(contentsOf: Self.folder.appendingPathComponent(c.expected))
        let bank = try Self.load(c.bank)
        let image = try Self.image(c)
        // Grouping as Keras: filter f reads the C/G channels of group ⌊f·G/F⌋.
        #expect(bank.groups == c.groups, "groups")
        #expect(bank.channels == image.channels, "bank channels \(bank.channels), image \(image.channels)")
        let perGroup = image.channels / c.groups
        for (f, filter) in bank.filters.enumerated() {
            #expect(filter.channels == perGroup, "filter \(f) channels")
            #expect(filter.firstChannel == (f * c.groups / bank.filters.count) * perGroup, "filter \(f) first channel")
        }
        #expect(bank.parameterCount == c.params, "parameterCount \(bank.parameterCount), Keras count_params() \(c.params)")

        let maps = try bank.convolve(image, jobs: 2)
        expectMatchesReference(maps, expected, bank: bank, input: image)
        // Any worker count gives the same bits.
        let single = try bank.convolve(image, jobs: 1)
        #expect(single.map(\.storage) == maps.map(\.storage), "jobs 1 vs jobs 2")
    }

    /// `explain` takes a grouped pixel apart in the engine's order: it names the group's channels and its last
    /// line equals the map's value.
    @Test(arguments: ["g033", "g035", "g015", "g038"])
    func explainReadsTheGroup(_ name: String) throws {
        let c = try #require(Self.named(name))
        let bank = try Self.load(c.bank)
        let image = try Self.image(c)
        let maps = try bank.convolve(image)
        for f in [0, bank.filters.count / 2, bank.filters.count - 1] {
            let map = maps[f]
            let (x, y) = (map.width / 2, map.height / 2)
            let e = try bank.explain(image, filter: f, x: x, y: y)
            #expect(e.firstChannel == bank.filters[f].firstChannel)
            #expect(e.postActivation == map.storage[y * map.width + x], "filter \(f) at (\(x), \(y))")
        }
    }

    /// The rank-1 5×5 cases really take the two-pass separable path (so it is checked with a first channel ≠ 0),
    /// and the 16-filter case puts 8 filters of one group in one block.
    @Test func enginePathsAreExercised() throws {
        for name in ["g036", "g037", "g038"] {
            let c = try #require(Self.named(name))
            let bank = try Self.load(c.bank)
            let plan = try ConvolutionPlan(bank: bank, input: try Self.image(c).extent)
            #expect(plan.filters.allSatisfy { $0.separable != nil }, "\(name): not every filter is separable")
            #expect(bank.filters.contains { $0.firstChannel > 0 })
        }
        let c = try #require(Self.named("g033"))
        let bank = try Self.load(c.bank)
        let plan = try ConvolutionPlan(bank: bank, input: try Self.image(c).extent)
        #expect(plan.blocks.contains { $0.filters.count == 8 && bank.filters[$0.filters.lowerBound].firstChannel == 2 })
    }

    // MARK: - validation

    /// A bad grouped or depthwise bank is refused with the JSON path and what was expected.
    @Test(arguments: [
        // groups that do not divide the filter count
        ("{\"layout\": \"HWIO\", \"groups\": 2, \"kernel\": [[[[1, 2, 3]]]], \"bias\": [0, 0, 0]}", "groups",
         ["3 filters", "2 groups"]),
        ("{\"layout\": \"OIHW\", \"groups\": 4, \"weight\": [[[[1]]], [[[2]]]]}", "groups", ["2 filters", "4 groups"]),
        ("{\"groups\": 3, \"filters\": [{\"weights\": [[1]]}, {\"weights\": [[2]]}]}", "groups", ["2 filters", "3 groups"]),
        // groups must be a whole number >= 1
        ("{\"groups\": 0, \"filters\": [{\"weights\": [[1]]}]}", "groups", ["at least 1"]),
        ("{\"groups\": 1.5, \"filters\": [{\"weights\": [[1]]}]}", "groups", ["whole number"]),
        ("{\"groups\": \"2\", \"filters\": [{\"weights\": [[1]]}, {\"weights\": [[2]]}]}", "groups", ["whole number"]),
        // per-filter weights with C instead of C/G channels (C = 4, G = 2: filters[0] has 2, filters[1] has 4)
        ("{\"groups\": 2, \"filters\": [{\"weights\": [[[1]], [[2]]]}, {\"weights\": [[[1]], [[2]], [[3]], [[4]]]}]}",
         "filters[1].weights", ["expected 2 channels", "found 4", "4×1×1"]),
        // HWCM: wrong bias length, a "groups" key, missing kernel, the other layouts' keys
        ("{\"layout\": \"HWCM\", \"depthwise_kernel\": [[[[1, 2], [3, 4], [5, 6]]]], \"bias\": [0, 0, 0]}", "bias",
         ["expected 6", "found 3"]),
        ("{\"layout\": \"HWCM\", \"groups\": 3, \"depthwise_kernel\": [[[[1], [2], [3]]]]}", "groups", ["HWCM"]),
        ("{\"layout\": \"HWCM\", \"groups\": 1, \"depthwise_kernel\": [[[[1], [2], [3]]]]}", "groups", ["HWCM"]),
        ("{\"layout\": \"HWCM\", \"bias\": [1]}", "", ["depthwise_kernel", "[kh][kw][C][M]"]),
        ("{\"layout\": \"HWCM\", \"kernel\": [[[[1]]]], \"depthwise_kernel\": [[[[1]]]]}", "kernel", ["depthwise_kernel"]),
        ("{\"layout\": \"HWCM\", \"depthwise_kernel\": [[[[1]]]], \"filters\": [{\"weights\": [[1]]}]}", "filters", []),
        ("{\"layout\": \"HWCM\", \"depthwise_kernel\": [[[[1, 2]]]], \"names\": [\"a\"]}", "names", ["expected 2"]),
        ("{\"layout\": \"HWCM\", \"depthwise_kernel\": [[[1, 2]]]}", "depthwise_kernel[0][0][0]", ["expected an array"]),
        ("{\"layout\": \"HWCM\", \"depthwise_kernel\": [[[[1, 2], [3]]]]}", "depthwise_kernel[0][0][1]", ["ragged", "expected 2"]),
        // depthwise_kernel belongs to HWCM only
        ("{\"layout\": \"HWIO\", \"depthwise_kernel\": [[[[1]]]], \"kernel\": [[[[1]]]]}", "depthwise_kernel", ["HWCM"]),
        ("{\"depthwise_kernel\": [[[[1]]]], \"filters\": [{\"weights\": [[1]]}]}", "depthwise_kernel", ["HWCM"]),
        // a whole-layer bias of the wrong length with groups
        ("{\"layout\": \"HWIO\", \"groups\": 2, \"kernel\": [[[[1, 2]]]], \"bias\": [0]}", "bias", ["expected 2"]),
    ] as [(String, String, [String])])
    func refusesBadBanks(_ text: String, _ path: String, _ words: [String]) {
        do {
            let bank = try Self.loadText(text)
            Issue.record("loaded a bad bank: \(bank.filters.count) filters, groups \(bank.groups)")
        } catch {
            guard case let .invalid(_, at, reason) = error else { Issue.record("wrong error kind: \(error)"); return }
            #expect(at == path, "path '\(at)' (\(reason))")
            for w in words { #expect(reason.contains(w), "'\(reason)' lacks '\(w)'") }
            #expect(error.description.contains(path.isEmpty ? "g.json" : "\(path): "), "\(error.description)")
        }
    }

    /// Per-filter weights written with all C channels in every filter (instead of C/G) load as a bank that reads
    /// C·G channels, so a C-channel image is refused before anything runs, naming both counts.
    @Test func fullChannelWeightsRefuseTheImage() throws {
        let bank = try Self.loadText("{\"groups\": 2, \"filters\": [{\"weights\": [[[1]], [[2]], [[3]], [[4]]]}, {\"weights\": [[[1]], [[2]], [[3]], [[4]]]}]}")
        #expect(bank.channels == 8)
        #expect(throws: ConvolutionError.channelMismatch(image: 4, bank: 8)) { try bank.convolve(Tensor(height: 3, width: 3, channels: 4)) }
    }

    /// Small hand-checkable grouped and depthwise banks.
    @Test func handChecked() throws {
        // C = 4, G = 2, F = 2: filter 0 reads channels 0, 1; filter 1 reads channels 2, 3. 1×1 kernels.
        let bank = try Self.loadText("{\"layout\": \"OIHW\", \"groups\": 2, \"weight\": [[[[1]], [[10]]], [[[100]], [[1000]]]], \"bias\": [0.5, 0]}")
        let image = Tensor(height: 1, width: 2, channels: 4, interleaved: [1, 2, 3, 4, 5, 6, 7, 8])
        let maps = try bank.convolve(image)
        #expect(maps[0].storage == [Float(21.5), 65.5])  // 1 + 10·2 + 0.5, 5 + 10·6 + 0.5
        #expect(maps[1].storage == [Float(4300), 8700])  // 100·3 + 1000·4, 100·7 + 1000·8
        #expect(bank.parameterCount == 2 * (1 * 1 * 2 + 1))
        // HWCM, C = 2, M = 2: maps 0, 1 from channel 0, maps 2, 3 from channel 1.
        let dw = try Self.loadText("{\"layout\": \"HWCM\", \"depthwise_kernel\": [[[[1, 2], [3, 4]]]], \"bias\": [0, 0, 0, 1]}")
        #expect(dw.groups == 2 && dw.channels == 2 && dw.filters.count == 4)
        let out = try dw.convolve(Tensor(height: 1, width: 1, channels: 2, interleaved: [10, 100]))
        #expect(out.map { $0.storage[0] } == [10, 20, 300, 401])
        #expect(dw.parameterCount == 1 * 1 * 2 * 2 + 4)
    }

    // MARK: - round trip and summary

    @Test(arguments: ["g033", "g034", "g039", "g035", "g026", "g029"])
    func jsonTextRoundTrips(_ name: String) throws {
        let c = try #require(Self.named(name))
        let bank = try Self.load(c.bank)
        let text = bank.jsonText
        let back = try FilterBank(json: Array(text.utf8), source: "round-trip")
        #expect(back.groups == bank.groups)
        #expect(back.filters == bank.filters)
        #expect(back == bank)
        #expect(text.contains("\"groups\": \(bank.groups)") == (bank.groups > 1))
        let image = try Self.image(c)
        #expect(try back.convolve(image).map(\.storage) == bank.convolve(image).map(\.storage))
    }

    @Test func depthwiseSummary() throws {
        let c = try #require(Self.named("g035"))  // DepthwiseConv2D(depth_multiplier=8) on 2 channels, 3×3
        let bank = try Self.load(c.bank)
        let text = try bank.summary()
        #expect(text.contains("depthwise"), "\(text)")
        #expect(text.contains("Total params: \(grouped(c.params))"), "\(text)")
        #expect(bank.parameterCount == c.params)
        // Every depthwise case's summary says so and totals Keras's count.
        for d in Self.cases where d.kind == "depthwise" && d.groups > 1 {
            let b = try Self.load(d.bank)
            let s = try b.summary(input: Extent2D(height: 10, width: 10))
            #expect(s.contains("depthwise") && s.contains("Total params: \(grouped(d.params))"), "\(d.name): \(s)")
        }
    }

    @Test func groupedSummary() throws {
        let c = try #require(Self.named("g033"))  // Conv2D(16, 3×3, groups=2) on 4 channels
        let bank = try Self.load(c.bank)
        let text = try bank.summary(input: Extent2D(height: 7, width: 9))
        #expect(text.contains("2 groups"), "\(text)")
        #expect(!text.contains("depthwise"), "\(text)")
        #expect(text.contains("3×3×2"), "\(text)")
        #expect(text.contains("c0…c1") && text.contains("c2…c3"), "\(text)")
        #expect(text.contains("Total params: \(grouped(c.params))"), "\(text)")
        // Multiply-adds: 16 filters · 7·9 outputs · 3·3·2 taps.
        #expect(text.contains("Multiply-adds per image: \(grouped(16 * 63 * 18))"), "\(text)")
    }
}
