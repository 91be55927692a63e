import ConvBankTestSupport
import Foundation
import Testing

/// `apply` and `summary` with a network file as `--bank`, through the real binary, against the Keras outputs of
/// `scripts/make_network_goldens.py` (`Fixtures/networks/`): the files at `DIR/<key>/<map>.npy` (last layer) and
/// `DIR/<key>/<layer>/<map>.npy` (`--layers`), their values, and the refusals.
@Suite("apply with a network")
struct NetworkCLITests {
    static let folder = CLI.repository.appendingPathComponent("Tests/ConvBankTests/Fixtures/networks")

    static func bank(_ name: String) -> String { folder.appendingPathComponent(name).path }
    static var input: String { folder.appendingPathComponent("input.png").path }

    /// The Keras output of `net`'s `layer` as (H, W, C), and the CLI's channel `c` map of it, equal within 1e-4 relative.
    static func expectMap(_ file: URL, net: String, layer: String, channel c: Int) throws {
        let expected = try Float32NPY(contentsOf: folder.appendingPathComponent("\(net)_\(layer).npy"))
        let map = try Float32NPY(contentsOf: file)
        let (h, w, channels) = (expected.shape[0], expected.shape[1], expected.shape[2])
        #expect(map.shape == [h, w], "\(file.lastPathComponent): shape \(map.shape)")
        guard map.shape == [h, w] else { return }
        for y in 0..<h {
            for x in 0..<w {
                let e = expected.values[(y * w + x) * channels + c], v = map.values[y * w + x]
                guard abs(v - e) <= 1e-4 * max(abs(e), 1) else {
                    Issue.record("\(net).\(layer) f\(c) at y=\(y), x=\(x): \(v) vs Keras \(e)")
                    return
                }
            }
        }
    }

    @Test func lastLayerMapsGoToKeyFolder() throws {
        try withTemporaryFolder { dir in
            let out = dir.file("out")
            let r = try CLI.run(["apply", Self.input, "--bank", Self.bank("net_a.json"), "-o", out.path, "--format", "npy"])
            #expect(r.status == 0, "\(r)")
            let written = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("input").path).filter { !$0.hasPrefix(".") }.sorted()
            #expect(written == ["f0.npy", "f1.npy", "f2.npy", "f3.npy"])
            for c in 0..<4 { try Self.expectMap(out.appendingPathComponent("input/f\(c).npy"), net: "net_a", layer: "conv2", channel: c) }
        }
    }

    @Test func chosenLayersGoToLayerFolders() throws {
        try withTemporaryFolder { dir in
            let out = dir.file("out")
            // net_c: torch preprocessing before a same convolution, then pooling, ReLU, batchnorm.
            let r = try CLI.run(["apply", Self.input, "--bank", Self.bank("net_c.json"), "-o", out.path, "--format", "npy",
                                 "--layers", "mp_same,bn,c1", "--jobs", "2"])
            #expect(r.status == 0, "\(r)")
            let key = out.appendingPathComponent("input")
            let folders = try FileManager.default.contentsOfDirectory(atPath: key.path).filter { !$0.hasPrefix(".") }.sorted()
            #expect(folders == ["bn", "c1", "mp_same"])
            for (layer, count) in [("c1", 8), ("mp_same", 8), ("bn", 8)] {
                for c in 0..<count { try Self.expectMap(key.appendingPathComponent("\(layer)/f\(c).npy"), net: "net_c", layer: layer, channel: c) }
            }
        }
    }

    @Test func allLayersAndPNG() throws {
        try withTemporaryFolder { dir in
            let out = dir.file("out")
            let r = try CLI.run(["apply", Self.input, "--bank", Self.bank("net_b.json"), "-o", out.path, "--layers", "all", "--normalize", "minmax"])
            #expect(r.status == 0, "\(r)")
            for (layer, count) in [("conv_s2", 5), ("avg_same", 5), ("tanh", 5), ("dw", 10), ("mix", 4)] {
                for c in 0..<count {
                    #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("input/\(layer)/f\(c).png").path), "\(layer)/f\(c).png")
                }
            }
        }
    }

    /// `--preprocess` replaces the network's own: net_d (caffe) run with `none` differs from Keras's maps.
    @Test func preprocessOverride() throws {
        try withTemporaryFolder { dir in
            let out = dir.file("out")
            var r = try CLI.run(["apply", Self.input, "--bank", Self.bank("net_d.json"), "-o", out.path, "--format", "npy"])
            #expect(r.status == 0, "\(r)")
            try Self.expectMap(out.appendingPathComponent("input/f0.npy"), net: "net_d", layer: "pool", channel: 0)
            r = try CLI.run(["apply", Self.input, "--bank", Self.bank("net_d.json"), "-o", dir.file("raw").path, "--format", "npy", "--preprocess", "none"])
            #expect(r.status == 0, "\(r)")
            let a = try Float32NPY(contentsOf: out.appendingPathComponent("input/f0.npy")), b = try Float32NPY(contentsOf: dir.file("raw/input/f0.npy"))
            #expect(a.values != b.values)
        }
    }

    /// A plain bank with `--preprocess tf` equals the bank run on `x/127.5 − 1` (an identity 1×1 filter shows it).
    @Test func preprocessOnABank() throws {
        try withTemporaryFolder { dir in
            let bank = try dir.write("id.json", text: #"{"filters": [{"name": "r", "weights": [[[1]], [[0]], [[0]]]}]}"#)
            let r = try CLI.run(["apply", Self.input, "--bank", bank.path, "-o", dir.file("out").path, "--format", "npy", "--preprocess", "tf"])
            #expect(r.status == 0, "\(r)")
            let map = try Float32NPY(contentsOf: dir.file("out/input/r.npy"))
            let pre = try Float32NPY(contentsOf: Self.folder.appendingPathComponent("pre_tf.npy"))
            #expect(map.values == stride(from: 0, to: pre.values.count, by: 3).map { pre.values[$0] })
        }
    }

    @Test(arguments: [
        (["--per-channel"], "--per-channel"),
        (["--partials"], "--partials"),
        (["--layers", "conv9"], "--layers: no layer named 'conv9' in network 'net_a'"),
        (["--stride", "2"], "is a network"),
        (["--preprocess", "yuv"], "--preprocess must be one of"),
    ])
    func refusals(_ extra: [String], _ message: String) throws {
        try withTemporaryFolder { dir in
            let r = try CLI.run(["apply", Self.input, "--bank", Self.bank("net_a.json"), "-o", dir.file("out").path] + extra)
            #expect(r.status == 64, "\(r)")
            #expect(r.stderr.contains(message), "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir.file("out/input").path))
        }
    }

    @Test func layersWithABankIsAUsageError() throws {
        try withTemporaryFolder { dir in
            let r = try CLI.run(["apply", Self.input, "--bank", "edges", "-o", dir.file("out").path, "--layers", "all"])
            #expect(r.status == 64 && r.stderr.contains("--layers picks layers of a network file"), "\(r)")
        }
    }

    @Test func badNetworkFileNamesTheJSONPath() throws {
        try withTemporaryFolder { dir in
            let bad = try dir.write("bad.json", text: #"{"layers": [{"name": "c", "filters": [{"weights": [[1]]}]}, {"name": "b", "batchnorm": {"mean": [0, 0], "variance": [1, 1]}}]}"#)
            let r = try CLI.run(["apply", Self.input, "--bank", bad.path, "-o", dir.file("out").path])
            #expect(r.status == 64, "\(r)")
            #expect(r.stderr.contains("layers[1]: layer 'b' (layers[1]) reads 2 channels, but layer 'c' writes 1"), "\(r.stderr)")
        }
    }

    /// A rerun skips (same fingerprint); a changed weight in a network redoes the input.
    @Test func resumeFingerprintCoversTheNetwork() throws {
        try withTemporaryFolder { dir in
            let net = try dir.copy(Self.folder.appendingPathComponent("net_a.json"), to: "net.json")
            let args = ["apply", Self.input, "--bank", net.path, "-o", dir.file("out").path, "--format", "npy"]
            #expect(try CLI.run(args).status == 0)
            #expect(try CLI.run(args).stderr.contains("1 skipped"))
            var text = try String(contentsOf: net, encoding: .utf8)
            text = text.replacingOccurrences(of: #""epsilon":0.0010000000474974513"#, with: #""epsilon":0.5"#)
            try Data(text.utf8).write(to: net)
            let r = try CLI.run(args)
            #expect(r.status == 0 && r.stderr.contains("1 succeeded"), "\(r)")
        }
    }

    /// Parameter counts as Keras `count_params()` (from the generator's cases.json), output shapes on 13×11.
    @Test func summaryCountsAsKeras() throws {
        let cases = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.folder.appendingPathComponent("cases.json"))) as! [String: Any]
        for net in cases["networks"] as! [[String: Any]] {
            let r = try CLI.run(["summary", "--bank", Self.bank(net["file"] as! String), "--input-size", "13,11"])
            #expect(r.status == 0, "\(r)")
            let total = net["count_params"] as! Int
            #expect(r.stdout.contains("Total params: \(total.formatted(.number.grouping(.automatic).locale(Locale(identifier: "en_US"))))"), "\(r.stdout)")
            for layer in net["layers"] as! [[String: Any]] {
                let shape = (layer["shape"] as! [Int]).map(String.init).joined(separator: "×")
                let line = r.stdout.split(separator: "\n").first { $0.hasPrefix((layer["name"] as! String) + " ") }
                #expect(line?.contains(" \(shape) ") == true && line?.hasSuffix(" \(layer["params"] as! Int)") == true, "\(line ?? "no line")")
            }
        }
    }

    /// `explain --layer`: the deeper layer's pixel from the previous layer's output, equal to Keras's map value.
    @Test func explainLayerMatchesKeras() throws {
        let r = try CLI.run(["explain", "--bank", Self.bank("net_a.json"), Self.input, "--layer", "conv2", "--at", "1,2", "--filter", "f3"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("its input is 5×6 (W×H), 6 channels"), "\(r.stdout)")
        let expected = try Float32NPY(contentsOf: Self.folder.appendingPathComponent("net_a_conv2.npy"))
        let value = expected.values[(2 * 3 + 1) * 4 + 3]
        let line = r.stdout.split(separator: "\n").first { $0.hasPrefix("after linear: ") }
        let printed = line.flatMap { Float($0.dropFirst("after linear: ".count)) }
        #expect(printed.map { abs($0 - value) <= 1e-4 * max(abs(value), 1) } == true, "\(line ?? "no line") vs Keras \(value)")
    }

    @Test(arguments: [
        (["--layer", "pool1", "--picture", "p.png"], "--picture draws a convolution layer's pixel; 'pool1' is a MaxPooling2D layer"),
        ([], "is a network: add --layer NAME (one of its convolution layers: conv1, conv2)"),
        (["--layer", "nope"], "--layer: no layer named 'nope'"),
    ])
    func explainRefusals(_ extra: [String], _ message: String) throws {
        let r = try CLI.run(["explain", "--bank", Self.bank("net_a.json"), Self.input, "--at", "0,0"] + extra)
        #expect(r.status == 64 && r.stderr.contains(message), "\(r)")
    }

    /// Hostile sizes: a `same` pool of 999,999,999 runs (one window of real pixels), a `valid` one that cannot fit is
    /// one error line naming the layer (exit 1 for apply, the input named), never a crash or a huge allocation.
    @Test func hugePoolingWindows() throws {
        try withTemporaryFolder { dir in
            let net = try dir.write("huge.json", text: #"{"layers": [{"name": "c", "filters": [{"weights": [[1]]}]}, {"name": "big", "pool": "max", "size": 999999999, "padding": "same"}, {"name": "big2", "pool": "average", "size": [999999999, 3], "stride": 999999999}]}"#)
            // Up to "big" only (the network runs to the last layer written): one 1×1 window of real pixels.
            var r = try CLI.run(["apply", Self.input, "--bank", net.path, "-o", dir.file("out").path, "--format", "npy", "--layers", "big"])
            #expect(r.status == 0, "\(r)")
            #expect(try Float32NPY(contentsOf: dir.file("out/input/big/f0.npy")).shape == [1, 1])
            r = try CLI.run(["apply", Self.input, "--bank", net.path, "-o", dir.file("out2").path, "--format", "npy"])
            #expect(r.status == 1 && r.stderr.contains("input.png': layer 'big2': "), "\(r)")
            #expect(r.peakKiB < 200_000)
            let s = try CLI.run(["summary", "--bank", net.path, "--input-size", "13,11"])
            #expect(s.status == 1 && s.stderr.contains("layer 'big2'"), "\(s)")
        }
    }
}
