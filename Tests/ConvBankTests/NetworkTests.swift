import ConvBankTestSupport
import Foundation
import Testing
@testable import ConvBankEngine
@testable import ConvBankImageIO
@testable import ConvBankBatch

/// Networks (`{"name", "preprocess", "layers"}`) against real Keras 3 models made by
/// `scripts/make_network_goldens.py` and committed under `Fixtures/networks/`: every layer's maps, the
/// preprocessing modes against `imagenet_utils.preprocess_input`, and parameter counts against `count_params()`.
@Suite struct NetworkTests {
    static var folder: URL { Fixtures.root.appendingPathComponent("networks") }

    struct LayerCase: Sendable { var name: String, output: String, shape: [Int], params: Int }
    struct NetCase: Sendable, CustomTestStringConvertible {
        var name: String, file: String, preprocess: String, countParams: Int, layers: [LayerCase]
        var testDescription: String { name }
    }

    static let cases: [NetCase] = {
        guard let root = try? Fixtures.json(folder.appendingPathComponent("cases.json")) as? [String: Any],
              let list = root["networks"] as? [[String: Any]] else { return [] }
        return list.map { n in
            NetCase(name: n["name"] as! String, file: n["file"] as! String, preprocess: n["preprocess"] as! String,
                    countParams: n["count_params"] as! Int,
                    layers: (n["layers"] as! [[String: Any]]).map {
                        LayerCase(name: $0["name"] as! String, output: $0["output"] as! String, shape: $0["shape"] as! [Int], params: $0["params"] as! Int)
                    })
        }
    }()

    static func image() throws -> Tensor {
        let input = try Float32NPY(contentsOf: folder.appendingPathComponent("input.npy"))
        return Tensor(height: input.shape[0], width: input.shape[1], channels: input.shape[2], interleaved: input.values)
    }

    static func load(_ file: String) throws -> Network {
        try Network(json: Fixtures.bytes(folder.appendingPathComponent(file)), source: file)
    }

    static func net(_ text: String) throws(BankError) -> Network { try Network(json: Array(text.utf8), source: "n.json") }

    /// `|a − e| ≤ 1e-4 · max(|e|, 1)` for every value.
    static func expectClose(_ actual: Tensor, _ expected: Float32NPY, _ label: String) {
        #expect(expected.shape == [actual.height, actual.width, actual.channels], "\(label): shape \(expected.shape) vs \(actual.height)×\(actual.width)×\(actual.channels)")
        guard expected.shape == [actual.height, actual.width, actual.channels] else { return }
        let mine = actual.interleaved
        var worst: Float = 0, at = 0
        for i in mine.indices {
            let e = expected.values[i]
            let err = abs(mine[i] - e) / max(abs(e), 1)
            if err > worst { worst = err; at = i }
        }
        #expect(worst <= 1e-4, "\(label): worst relative error \(worst) at \(at) (\(mine[at]) vs \(expected.values[at]))")
    }

    @Test func fixturesArePresent() {
        #expect(Self.cases.count == 4)
        #expect(Self.cases.flatMap(\.layers).count >= 15)
    }

    @Test(arguments: cases)
    func everyLayerMatchesKeras(_ c: NetCase) throws {
        let network = try Self.load(c.file)
        #expect(network.layers.map(\.name) == c.layers.map(\.name))
        #expect(network.preprocess == Preprocess(name: c.preprocess))
        let image = try Self.image()
        let outputs = try network.run(image, keep: Set(network.layers.indices), jobs: 2)
        for (k, layer) in c.layers.enumerated() {
            let expected = try Float32NPY(contentsOf: Self.folder.appendingPathComponent(layer.output))
            Self.expectClose(outputs[k]!, expected, "\(c.name).\(layer.name)")
        }
        // The output sizes a summary shows, without running.
        #expect(try network.outputExtents(input: image.extent).map { [$0.height, $0.width] } == c.layers.map { Array($0.shape[0..<2]) })
        #expect(network.channelCounts.dropFirst().map { $0 } == c.layers.map { $0.shape[2] })
    }

    @Test(arguments: cases)
    func parameterCountsMatchKeras(_ c: NetCase) throws {
        let network = try Self.load(c.file)
        #expect(network.layers.map(\.parameterCount) == c.layers.map(\.params))
        #expect(network.parameterCount == c.countParams)
    }

    @Test(arguments: ["caffe", "tf", "torch"])
    func preprocessingMatchesKeras(_ mode: String) throws {
        let expected = try Float32NPY(contentsOf: Self.folder.appendingPathComponent("pre_\(mode).npy"))
        let out = Preprocess(name: mode)!.apply(to: try Self.image())
        // Keras's numpy path in float32, same order of operations: bit for bit.
        #expect(out.interleaved == expected.values)
    }

    @Test func affinePreprocessingSwapsThenScales() throws {
        let image = Tensor(height: 1, width: 2, channels: 3, interleaved: [10, 20, 30, 40, 50, 60])
        let p = Preprocess.affine(scale: [1, 2, 0.5], offset: [-1, 0, 1], bgr: true)
        // BGR first: (30, 20, 10), then x·scale + offset per channel.
        #expect(p.apply(to: image).interleaved == [29, 40, 6, 59, 100, 21])
        let n = try Self.net(#"{"preprocess": {"scale": [0.5], "bgr": false}, "layers": [{"name": "c", "filters": [{"weights": [[1]]}]}]}"#)
        #expect(n.preprocess == .affine(scale: [0.5], offset: [0], bgr: false))
    }

    @Test func preprocessingInABankFile() throws {
        let bank = try FilterBank(json: Array(#"{"preprocess": "tf", "filters": [{"weights": [[[1]], [[1]], [[1]]]}]}"#.utf8), source: "b.json")
        #expect(bank.preprocess == .tf)
        #expect(try FilterBank(json: Array(bank.jsonText.utf8), source: "again").preprocess == .tf)
        #expect(throws: BankError.invalid(source: "b.json", at: "preprocess", reason: "needs 3 channels, but the bank reads 1")) {
            try FilterBank(json: Array(#"{"preprocess": "caffe", "filters": [{"weights": [[1]]}]}"#.utf8), source: "b.json")
        }
    }

    /// Hand-computed pooling: `same` average divides by the real pixels only (Keras), max ignores the pad.
    @Test func poolingByHand() throws {
        let x = Tensor(height: 3, width: 3, channels: 1, storage: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let avg = try Pooling(kind: .average, size: Extent2D(2), padding: .same).run(x)
        // out = ceil(3/2) = 2; total pad 1, after: windows {1,2,4,5}, {3,6}, {7,8}, {9}.
        #expect(avg.storage == [3, 4.5, 7.5, 9])
        let max = try Pooling(kind: .max, size: Extent2D(2), stride: Extent2D(1), padding: .valid).run(x)
        #expect(max.storage == [5, 6, 8, 9])
        let negative = Tensor(height: 1, width: 3, channels: 1, storage: [-5, -2, -7])
        #expect(try Pooling(kind: .max, size: Extent2D(height: 1, width: 2), padding: .same).run(negative).storage == [-2, -7])
    }

    /// Max pooling's fast paths (columns first, 16 lanes at a time, the 2×2/2 vector path, border windows) against
    /// the plain definition — each window's real pixels in row-major order — on random maps of widths that cross
    /// the vector widths, for sizes and strides 1…3, valid and same, one and two threads.
    @Test func maxPoolingEqualsTheDefinition() throws {
        var random = SeededRandom(seed: 44)
        for width in [1, 2, 5, 16, 31, 32, 33, 47, 64, 70] {
            let height = 1 + Int(random.next() % 6), channels = 3
            let values = (0..<(height * width * channels)).map { _ in Float(Int(random.next() % 2001) - 1000) / 7 }
            let x = Tensor(height: height, width: width, channels: channels, storage: values)
            for (kh, kw) in [(1, 1), (2, 2), (3, 3), (1, 3), (2, 1)] {
                for (sh, sw) in [(1, 1), (2, 2), (3, 3), (2, 1)] {
                    for padding in [Padding.valid, .same] {
                        let pool = Pooling(kind: .max, size: Extent2D(height: kh, width: kw), stride: Extent2D(height: sh, width: sw), padding: padding)
                        guard let g = try? pool.geometry(input: x.extent) else { continue }
                        let (oh, ow) = (g.output.height, g.output.width)
                        var expected = [Float]()
                        for c in 0..<channels {
                            for oy in 0..<oh {
                                for ox in 0..<ow {
                                    var best = -Float.infinity
                                    for i in 0..<kh {
                                        for j in 0..<kw {
                                            let y = oy * sh + i - g.insets.top, xx = ox * sw + j - g.insets.left
                                            if y >= 0, y < height, xx >= 0, xx < width { best = Swift.max(best, values[(c * height + y) * width + xx]) }
                                        }
                                    }
                                    expected.append(best)
                                }
                            }
                        }
                        for jobs in [1, 2] {
                            let got = try pool.run(x, jobs: jobs)
                            #expect(got.storage == expected, "width \(width), \(kh)×\(kw)/\(sh)×\(sw) \(padding), jobs \(jobs)")
                        }
                    }
                }
            }
        }
    }

    @Test func batchNormAndPReLUByHand() throws {
        let x = Tensor(height: 1, width: 2, channels: 2, storage: [1, -3, 4, -8])
        let bn = BatchNorm(gamma: [2, 1], beta: [1, 0], mean: [1, 0], variance: [3, 15], epsilon: 1)
        // c0: (x − 1)/2·2 + 1 → 1, −3; c1: x/4 → 1, −2.
        #expect(bn.run(x).storage == [1, -3, 1, -2])
        let prelu = NetworkLayer(name: "p", kind: .prelu(alpha: [0.5, -1]))
        #expect(try prelu.run(x).storage == [1, -1.5, 4, 8])
    }

    @Test func channelMismatchNamesTheLayer() {
        let text = #"{"layers": [{"name": "c1", "filters": [{"weights": [[1]]}, {"weights": [[2]]}]}, {"name": "bn", "batchnorm": {"mean": [0, 0, 0], "variance": [1, 1, 1]}}]}"#
        #expect(throws: BankError.invalid(source: "n.json", at: "layers[1]", reason: "layer 'bn' (layers[1]) reads 3 channels, but layer 'c1' writes 2")) {
            try Self.net(text)
        }
    }

    static let badNetworks: [(String, String)] = [
        (#"{"layers": [{"name": "c", "layout": "HWIO", "kernel": [[[[1]]]], "bias": [1, 2]}]}"#, "layers[0].bias: expected 1 values (one per filter), found 2"),
        (#"{"layers": [{"name": "p", "pool": "min", "size": 2}]}"#, "layers[0].pool: unknown pooling 'min' (known: max, average)"),
        (#"{"layers": [{"name": "p", "pool": "max"}]}"#, "layers[0]: missing \"size\" (N or [H, W])"),
        (#"{"layers": [{"name": "b", "batchnorm": {"mean": [0], "variance": [1, 2]}}]}"#, "layers[0].batchnorm.variance: expected 1 values (one per channel), found 2"),
        (#"{"layers": [{"name": "a", "activation": "prelu"}]}"#, "layers[0]: missing \"alpha\""),
        (#"{"layers": [{"name": "a", "activation": "swoosh"}]}"#, "layers[0].activation: unknown activation 'swoosh' (known: \(Activation.names), prelu)"),
        (#"{"layers": [{"name": "x", "filters": [{"weights": [[1]]}]}, {"name": "x", "activation": "relu"}]}"#, "layers[1].name: duplicate layer name 'x' (also layers[0]; names name the output folders)"),
        (#"{"layers": [{"name": "a/b", "activation": "relu"}]}"#, "layers[0].name: 'a/b' cannot be a folder name (no '/', not empty, not starting with '.', at most 200 bytes)"),
        (#"{"layers": [{"name": "r", "activation": "relu"}]}"#, "layers: no layer fixes the number of input channels (a network needs a convolution, batchnorm or prelu layer)"),
        (#"{"layers": []}"#, "layers: a network needs at least one layer"),
        (#"{"preprocess": "caffe", "layers": [{"name": "c", "filters": [{"weights": [[1]]}]}]}"#, "preprocess: the preprocessing needs 3 channels, but the network reads 1"),
        (#"{"preprocess": "yuv", "layers": []}"#, "preprocess: unknown preprocessing 'yuv' (known: none, caffe, tf, torch, or {\"scale\": [C], \"offset\": [C], \"bgr\": false})"),
        (#"{"layers": [{"name": "c", "filters": [{"weights": [[1]]}], "combine": "magnitude"}]}"#, "layers[0].combine: a network layer cannot combine maps (its maps feed the next layer)"),
        (#"{"layers": [{"name": "q", "pool": "max", "size": 2, "fill": 0}]}"#, "layers[0].fill: unknown key (a pool layer has name, pool, size, stride, padding)"),
        (#"{"layers": [{"name": "q"}]}"#, "layers[0]: a layer is a bank (\"filters\" or \"layout\"), {\"pool\": …}, {\"batchnorm\": …} or {\"activation\": …}"),
    ]

    @Test(arguments: badNetworks)
    func badNetworksNameTheJSONPath(_ text: String, _ message: String) {
        #expect(throws: BankError.invalid(source: "n.json", at: String(message.prefix { $0 != ":" }),
                                          reason: String(message.drop { $0 != ":" }.dropFirst(2)))) {
            try Self.net(text)
        }
    }

    @Test func layerThatCannotRunIsNamed() throws {
        let n = try Self.net(#"{"layers": [{"name": "c", "filters": [{"weights": [[1]]}]}, {"name": "big", "pool": "max", "size": 5}]}"#)
        #expect(throws: NetworkError.self) { try n.run(Tensor(height: 3, width: 3, channels: 1)) }
        do { _ = try n.run(Tensor(height: 3, width: 3, channels: 1)) } catch { #expect("\(error)".hasPrefix("layer 'big': ")) }
    }

    @Test func detectsNetworkFiles() {
        #expect(Network.isNetworkJSON(Array(#"{"layers": []}"#.utf8)))
        #expect(!Network.isNetworkJSON(Array(#"{"filters": []}"#.utf8)))
        #expect(!Network.isNetworkJSON(Array("not json".utf8)))
    }
}

/// The memory estimate of a network run counts every layer's output: writing every layer holds them all.
@Suite struct NetworkMemoryTests {
    @Test func estimateCountsEveryKeptLayer() throws {
        let network = try NetworkTests.load("net_a.json")
        let bytes = try Fixtures.bytes(NetworkTests.folder.appendingPathComponent("input.png"))
        let header = try #require(ImageCodec.header(of: bytes))
        var settings = ApplySettings()
        settings.format = .npy
        settings.network = NetworkSelection(network: network)
        let last = try settings.memoryNeeded(bank: settings.network!.standInBank, header: header, fileBytes: bytes.count)
        settings.network = NetworkSelection(network: network, layers: Array(network.layers.indices))
        let all = try settings.memoryNeeded(bank: settings.network!.standInBank, header: header, fileBytes: bytes.count)
        // Writing every layer holds every output and its planes at the end.
        let sizes = try network.outputExtents(input: header.extent), counts = network.channelCounts
        let outputs = network.layers.indices.reduce(0) { $0 + sizes[$1].height * sizes[$1].width * counts[$1 + 1] * 4 }
        #expect(all >= 2 * outputs && all > last, "all \(all), last \(last), every layer's output \(outputs)")
        // At least the input's floats and the first convolution's output.
        #expect(last >= header.extent.height * header.extent.width * (3 + 6) * 4)
    }
}

/// `Network.jsonText` (what `import` writes for a model's stack) reads back to an equal network, for every
/// Keras-golden network: every layer kind, preprocessing, explicit and same padding, groups.
@Suite struct NetworkJSONTextTests {
    @Test(arguments: ["net_a.json", "net_b.json", "net_c.json", "net_d.json"])
    func roundTrips(file: String) throws {
        let network = try NetworkTests.load(file)
        let again = try Network(json: Array(network.jsonText.utf8), source: "again")
        #expect(again == network)
        #expect(again.jsonText == network.jsonText)
    }
}

/// Keras's parameter counts for layers without biases (`use_bias=False`) and batch norms without `scale` or
/// `center`: `"use_bias": false` and absent `gamma`/`beta` count nothing for them, survive `jsonText`, and a bias
/// with `"use_bias": false` is refused.
@Suite struct UnbiasedParameterTests {
    @Test func countsAndRoundTrip() throws {
        let text = #"""
            {"name": "n", "layers": [
              {"name": "c", "layout": "HWIO", "kernel": [[[[1, 2]]]], "use_bias": false},
              {"name": "bn", "batchnorm": {"beta": [0, 1], "mean": [0, 0], "variance": [1, 1]}},
              {"name": "bn2", "batchnorm": {"mean": [0, 0], "variance": [1, 1]}}]}
            """#
        let network = try Network(json: Array(text.utf8), source: "n.json")
        // 1×1×1 kernel, 2 filters, no bias: 2 (Keras Conv2D(2, 1, use_bias=False) on 1 channel: 2).
        #expect(network.layers.map(\.parameterCount) == [2, 6, 4])
        #expect(network.parameterCount == 12)
        let again = try Network(json: Array(network.jsonText.utf8), source: "again")
        #expect(again == network)
        #expect(again.parameterCount == 12)
        #expect(throws: BankError.self) {
            try FilterBank(json: Array(#"{"layout": "HWIO", "kernel": [[[[1]]]], "bias": [3], "use_bias": false}"#.utf8), source: "b.json")
        }
    }
}

/// Whatever builds a network (a model file's reader too): layer names that cannot be folder names and non-finite
/// values are refused by `Network.init`; pooling pads as wide as the window are refused by its geometry.
@Suite struct NetworkValidationTests {
    @Test func namesValuesAndPoolingPads() throws {
        let pool = NetworkLayer(name: "p", kind: .pooling(Pooling(kind: .max, size: Extent2D(2))))
        let prelu = NetworkLayer(name: "a", kind: .prelu(alpha: [0.5]))
        for bad in ["../x", "", ".hidden", "a/b"] {
            #expect(throws: NetworkError.badName(bad)) { try Network(name: "n", layers: [prelu, NetworkLayer(name: bad, kind: .activation(.relu))]) }
        }
        #expect(throws: NetworkError.nonFinite("a")) { try Network(name: "n", layers: [NetworkLayer(name: "a", kind: .prelu(alpha: [.nan]))]) }
        _ = try Network(name: "n", layers: [prelu, pool])
        let wide = Pooling(kind: .max, size: Extent2D(2), padding: .explicit(EdgeInsets(top: 2, bottom: 0, left: 0, right: 0)))
        #expect(throws: ConvolutionError.self) { try wide.run(Tensor(height: 4, width: 4, channels: 1, storage: [Float](repeating: 1, count: 16))) }
    }
}
