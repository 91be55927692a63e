import ConvBankTestSupport
import Foundation
import Testing
@testable import ConvBankEngine
@testable import ConvBankImageIO
@testable import ConvBankPictures

/// Pictures of networks through the real binary: `convbank kernels`, `apply --layers … --sheet` (one sheet per
/// written layer), `explain --layer` on every layer kind against the Keras goldens of `Fixtures/networks/`, and
/// `explain --filter` by index.
@Suite("pictures of networks")
struct NetworkPicturesCLITests {
    static var folder: URL { NetworkCLITests.folder }
    static func bank(_ name: String) -> String { NetworkCLITests.bank(name) }
    static var input: String { NetworkCLITests.input }

    /// The RGB samples of a PNG file, interleaved, and its size.
    static func rgb(_ path: String) throws -> (width: Int, height: Int, samples: [UInt8]) {
        let t = try ImageCodec.decode(path: path).tensor
        var samples = [UInt8](repeating: 0, count: t.width * t.height * 3)
        for y in 0..<t.height { for x in 0..<t.width { for c in 0..<3 { samples[3 * (y * t.width + x) + c] = UInt8(t[y, x, c]) } } }
        return (t.width, t.height, samples)
    }

    // MARK: - kernels

    /// One 1×1 filter of weights (1, −1, −1): under the layer's min…max it is pure red as a bank, and pure blue in a
    /// caffe network, whose channel 0 is the photo's blue; the file is the library's picture pixel for pixel.
    @Test func kernelsColourAndBGR() throws {
        try withTemporaryFolder { dir in
            let filters = #"[{"name": "hot", "weights": [[[1]], [[-1]], [[-1]]]}, {"name": "cold", "weights": [[[-1]], [[-1]], [[1]]]}]"#
            let bankFile = try dir.write("b.json", text: #"{"name": "b", "filters": \#(filters)}"#)
            let netFile = try dir.write("n.json", text: #"{"name": "n", "preprocess": "caffe", "layers": [{"name": "c", "filters": \#(filters)}, {"name": "p", "pool": "max", "size": 2}]}"#)
            for (file, bgr) in [(bankFile, false), (netFile, true)] {
                let out = dir.file("k.png").path
                let r = try CLI.run(["kernels", "--bank", file.path, "-o", out, "--scale", "7"])
                #expect(r.status == 0 && r.stdout.contains(", 2 filters)"), "\(r)")
                let bank = FilterBank(name: "b", filters: [
                    Filter(name: "hot", kernel: [[1]], channelWeights: [1, -1, -1]), Filter(name: "cold", kernel: [[1]], channelWeights: [-1, -1, 1]),
                ])
                let layout = KernelGrid.layout(bank: bank, title: "", scale: 7, coloring: .gray, split: false, bgr: bgr)
                let picture = try Self.rgb(out)
                let t = layout.tiles[0][0]
                let i = 3 * ((t.y + 3) * picture.width + t.x + 3)
                #expect(Array(picture.samples[i..<(i + 3)]) == (bgr ? [0, 0, 255] : [255, 0, 0]), "hot tile, bgr \(bgr)")
                let title = bgr ? "network 'n', layer 'c' (layers[0])" : "bank 'b'"
                let expected = try KernelGrid.render(bank: bank, title: title, scale: 7, bgr: bgr)
                #expect(picture.width == expected.width && picture.height == expected.height && picture.samples == expected.rgb)
            }
        }
    }

    /// net_a's second convolution (3×3×6 filters): rows of per-channel kernels, the default scale, pixel for pixel the
    /// library's picture of the layer; `--layer` picks it, the default is the first convolution layer.
    @Test func kernelsOfADeeperLayer() throws {
        try withTemporaryFolder { dir in
            let network = try Network(json: bytes(of: Self.folder.appendingPathComponent("net_a.json")), source: "net_a.json")
            for (layer, index) in [("conv2", 4), (nil, 0)] as [(String?, Int)] {
                let out = dir.file("k.png").path
                let r = try CLI.run(["kernels", "--bank", Self.bank("net_a.json"), "-o", out, "--colormap", "diverging"] + (layer.map { ["--layer", $0] } ?? []))
                #expect(r.status == 0, "\(r)")
                guard case .convolution(let bank) = network.layers[index].kind else { Issue.record("not a convolution"); return }
                let name = network.layers[index].name
                let expected = try KernelGrid.render(bank: bank, title: "network 'net_a', layer '\(name)' (layers[\(index)])", coloring: .diverging)
                let picture = try Self.rgb(out)
                #expect(picture.width == expected.width && picture.height == expected.height && picture.samples == expected.rgb, "\(name)")
            }
        }
    }

    @Test(arguments: [
        (["--layer", "pool1"], "--layer 'pool1' is a MaxPooling2D layer, which has no kernels (convolution layers: conv1, conv2)"),
        (["--layer", "nope"], "--layer: no layer named 'nope'"),
        (["--scale", "0"], "--scale must be 1…64 (got 0)"),
        (["--scale", "65"], "--scale must be 1…64"),
        (["--colormap", "viridis"], "--colormap"),
    ])
    func kernelsRefusals(_ extra: [String], _ message: String) throws {
        try withTemporaryFolder { dir in
            let r = try CLI.run(["kernels", "--bank", Self.bank("net_a.json"), "-o", dir.file("k.png").path] + extra)
            #expect(r.status == 64 && r.errorLines.first.map { $0.contains(message) } == true, "\(r)")
            #expect(!FileManager.default.fileExists(atPath: dir.file("k.png").path))
        }
    }

    @Test func kernelsOtherErrors() throws {
        try withTemporaryFolder { dir in
            var r = try CLI.run(["kernels", "--bank", "edges", "--layer", "x", "-o", dir.file("k.png").path])
            #expect(r.status == 64 && r.stderr.contains("--layer picks a layer of a network file"), "\(r)")
            r = try CLI.run(["kernels", "--bank", "edges", "-o", dir.file("k.jpg").path])
            #expect(r.status == 64 && r.stderr.contains("-o writes a PNG"), "\(r)")
            let bad = try dir.write("bad.json", text: #"{"layers": [{"name": "c", "filters": [{"weights": [[1, 2], [3]]}]}]}"#)
            r = try CLI.run(["kernels", "--bank", bad.path, "-o", dir.file("k.png").path])
            #expect(r.status == 64 && r.errorLines.count == 1 && r.stderr.contains("bad.json"), "\(r)")
            // A 500×500 kernel at 64 pixels per weight (32000² pixels): refused from its size (exit 1), not drawn.
            let row = "[" + Array(repeating: "0", count: 500).joined(separator: ",") + "]"
            let huge = try dir.write("huge.json", text: "{\"filters\": [{\"name\": \"k\", \"weights\": [[" + Array(repeating: row, count: 500).joined(separator: ",") + "]]}]}")
            r = try CLI.run(["kernels", "--bank", huge.path, "-o", dir.file("k.png").path, "--scale", "64"])
            #expect(r.status == 1 && r.stderr.contains("over the limit") && r.peakKiB < 400_000, "\(r)")
            // An output that cannot be written (a file stands where its folder would be): one line, exit 1.
            _ = try dir.write("plain", text: "x")
            r = try CLI.run(["kernels", "--bank", "edges", "-o", dir.file("plain/k.png").path])
            #expect(r.status == 1 && r.errorLines.count == 1 && r.stderr.contains("k.png"), "\(r)")
        }
    }

    // MARK: - per-layer sheets

    /// `--layers conv1,pool1,conv2 --sheet`: one sheet per written layer beside its folder of maps, each the library's
    /// sheet of that layer's maps (read back from the run's own `npy` files) pixel for pixel — so every map is on it,
    /// in order, named f0, f1, ….
    @Test func oneSheetPerLayer() throws {
        try withTemporaryFolder { dir in
            let out = dir.file("out")
            // A temporary of a layer sheet left by a killed run (a process that no longer exists) is cleaned up.
            let stale = try dir.write("out/input/.conv1.sheet.png.tmp-999999999-7", [1, 2, 3])
            let r = try CLI.run(["apply", Self.input, "--bank", Self.bank("net_a.json"), "-o", out.path, "--format", "npy",
                                 "--layers", "conv1,pool1,conv2", "--sheet"])
            #expect(r.status == 0, "\(r)")
            #expect(!FileManager.default.fileExists(atPath: stale.path))
            let sheets = filesUnder(out).filter { $0.hasSuffix(".sheet.png") }
            #expect(sheets == ["input/conv1.sheet.png", "input/conv2.sheet.png", "input/pool1.sheet.png"], "\(filesUnder(out))")
            let decoded = try ImageCodec.decode(path: Self.input)
            for (layer, type, count) in [("conv1", "Conv2D", 6), ("pool1", "MaxPooling2D", 6), ("conv2", "Conv2D", 4)] {
                var maps: [Tensor] = []
                for c in 0..<count {
                    let npy = try Float32NPY(contentsOf: out.appendingPathComponent("input/\(layer)/f\(c).npy"))
                    maps.append(Tensor(height: npy.shape[0], width: npy.shape[1], channels: 1, storage: npy.values))
                }
                let expected = ContactSheet.render(title: "\(Self.input) - network net_a, layer '\(layer)' (\(type)): \(count) maps",
                                                   input: decoded.tensor, inputBitDepth: decoded.bitDepth, maps: maps,
                                                   names: (0..<count).map { "f\($0)" }, colormap: .gray)
                let picture = try Self.rgb(out.appendingPathComponent("input/\(layer).sheet.png").path)
                #expect(picture.width == expected.width && picture.height == expected.height && picture.samples == expected.rgb, "\(layer)")
            }
            // Without --layers: the last layer's maps on one sheet beside the key folder, as for a bank.
            let last = dir.file("last")
            #expect(try CLI.run(["apply", Self.input, "--bank", Self.bank("net_a.json"), "-o", last.path, "--sheet"]).status == 0)
            #expect(filesUnder(last).filter { $0.hasSuffix(".sheet.png") } == ["input.sheet.png"])
        }
    }

    /// Flat layout: `<key>.<layer>.sheet.png` beside `<key>.<layer>/`; a rerun skips the input; a deleted sheet redoes
    /// it; a sheet of an earlier run with more layers is not mistaken for this run's; the gallery links every sheet.
    @Test func layerSheetsFlatResumeAndGallery() throws {
        try withTemporaryFolder { dir in
            let out = dir.file("out")
            let args = ["apply", Self.input, "--bank", Self.bank("net_c.json"), "-o", out.path, "--layers", "c1,bn", "--sheet",
                        "--layout", "flat", "--gallery"]
            let stale = try dir.write("out/.input.bn.sheet.png.tmp-999999999-7", [1, 2, 3])
            var r = try CLI.run(args)
            #expect(r.status == 0, "\(r)")
            #expect(!FileManager.default.fileExists(atPath: stale.path))
            let sheets = filesUnder(out).filter { $0.hasSuffix(".sheet.png") }
            #expect(sheets == ["input.bn.sheet.png", "input.c1.sheet.png"], "\(filesUnder(out))")
            let page = try String(contentsOf: out.appendingPathComponent("index.html"), encoding: .utf8)
            #expect(page.contains("href=\"input.c1.sheet.png\">c1</a>") && page.contains("href=\"input.bn.sheet.png\">bn</a>"), "\(page)")
            r = try CLI.run(args)
            #expect(r.status == 0 && r.stderr.contains("1 skipped"), "\(r)")
            try FileManager.default.removeItem(at: out.appendingPathComponent("input.bn.sheet.png"))
            r = try CLI.run(args)
            #expect(r.status == 0 && r.stderr.contains("1 succeeded"), "\(r)")
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("input.bn.sheet.png").path))
        }
    }

    /// Tree: an input whose folder would stand where another input's layer sheet goes gets another key, as for any
    /// clash: `one/x.png` (key `x`) writes its sheet of layer c1 at `x/c1.sheet.png`, which is exactly the key of
    /// `two/x/c1.sheet.png.png`, so that one becomes `x/c1.sheet.png-2`.
    @Test func layerSheetClashBetweenInputs() throws {
        try withTemporaryFolder { dir in
            let png = try bytes(of: URL(fileURLWithPath: Self.input))
            _ = try dir.write("one/x.png", png)
            _ = try dir.write("two/x/c1.sheet.png.png", png)
            let out = dir.file("out")
            let r = try CLI.run(["apply", dir.file("one").path, dir.file("two").path, "--bank", Self.bank("net_c.json"), "-o", out.path,
                                 "--layers", "c1", "--sheet"])
            #expect(r.status == 0, "\(r)")
            let files = filesUnder(out)
            #expect(files.contains("x/c1.sheet.png") && files.contains("x/c1/f0.png"), "\(files)")
            #expect(files.contains("x/c1.sheet.png-2/c1.sheet.png") && files.contains("x/c1.sheet.png-2/c1/f0.png"), "\(files)")
        }
    }

    /// A written layer named like another written layer's sheet is refused before any input is read.
    @Test func layerNamedLikeASheet() throws {
        try withTemporaryFolder { dir in
            let net = try dir.write("n.json", text: #"{"layers": [{"name": "a", "filters": [{"weights": [[1]]}]}, {"name": "a.sheet.png", "activation": "relu"}]}"#)
            let r = try CLI.run(["apply", Self.input, "--bank", net.path, "-o", dir.file("out").path, "--layers", "all", "--sheet"])
            #expect(r.status == 64 && r.stderr.contains("layer 'a.sheet.png' is named like layer 'a''s contact sheet"), "\(r)")
            #expect(try CLI.run(["apply", Self.input, "--bank", net.path, "-o", dir.file("out2").path, "--layers", "all"]).status == 0)
        }
    }

    // MARK: - explain on every layer kind

    /// `explain --layer L --at X,Y --filter K` on pooling (max valid, average same, average valid, max same), batch
    /// normalization, PReLU, tanh and relu: the printed value equals Keras's output of that layer.
    @Test(arguments: [
        ("net_a", "pool1", 2, 3, 1), ("net_a", "bn1", 4, 5, 2), ("net_a", "prelu1", 1, 1, 5),
        ("net_b", "avg_same", 4, 2, 3), ("net_b", "tanh", 0, 1, 4),
        ("net_c", "mp_same", 3, 3, 7), ("net_c", "ap_valid", 1, 1, 0), ("net_c", "relu", 0, 0, 2), ("net_c", "bn", 1, 0, 6),
    ])
    func explainEachLayerKind(_ net: String, _ layer: String, _ x: Int, _ y: Int, _ channel: Int) throws {
        for filter in ["f\(channel)", "\(channel)"] {
            let r = try CLI.run(["explain", "--bank", Self.bank("\(net).json"), Self.input, "--layer", layer, "--at", "\(x),\(y)", "--filter", filter])
            #expect(r.status == 0, "\(r)")
            let keras = try Float32NPY(contentsOf: Self.folder.appendingPathComponent("\(net)_\(layer).npy"))
            let (w, c) = (keras.shape[1], keras.shape[2])
            let expected = keras.values[(y * w + x) * c + channel]
            let prefix = "value of map 'f\(channel)' at x=\(x), y=\(y): "
            let line = r.stdout.split(separator: "\n").first { $0.hasPrefix(prefix) }
            let printed = line.flatMap { Float($0.dropFirst(prefix.count)) }
            #expect(printed.map { abs($0 - expected) <= 1e-4 * max(abs(expected), 1) } == true, "\(line ?? "no line") vs Keras \(expected)\n\(r.stdout)")
        }
    }

    /// A deeper layer reading 12 channels: `--picture` draws it (PNG and HTML) with the 6 largest |partial sums| and
    /// the other 6 added, and the value printed equals `apply`'s map bit for bit.
    @Test func explainPictureOfADeeperLayer() throws {
        try withTemporaryFolder { dir in
            func w(_ k: Int) -> String { String(Double((k * 37) % 23 - 11) / 8) }
            let c1 = (0..<12).map { f in "{\"name\": \"a\(f)\", \"weights\": [[[\(w(f))]], [[\(w(f + 5))]], [[\(w(f + 9))]]]}" }
            let c2 = "{\"name\": \"k\", \"weights\": [" + (0..<12).map { c in "[[\(w(c)), \(w(c + 1)), \(w(c + 2))], [\(w(c + 3)), \(w(c + 4)), \(w(c + 5))], [\(w(c + 6)), \(w(c + 7)), \(w(c + 8))]]" }.joined(separator: ", ") + "], \"bias\": 0.5}"
            let net = try dir.write("deep.json", text: "{\"name\": \"deep\", \"layers\": [{\"name\": \"c1\", \"padding\": \"same\", \"activation\": \"relu\", \"filters\": [\(c1.joined(separator: ", "))]}, {\"name\": \"c2\", \"padding\": \"same\", \"filters\": [\(c2)]}]}")
            for picture in ["p.png", "p.html"] {
                let r = try CLI.run(["explain", "--bank", net.path, Self.input, "--layer", "c2", "--at", "3,4", "--picture", dir.file(picture).path])
                #expect(r.status == 0 && r.stdout.contains("12 channels (the previous layer's output)"), "\(r)")
                let text = try String(contentsOf: dir.file(picture), encoding: .isoLatin1)
                if picture.hasSuffix(".html") { #expect(text.contains("+ the other 6 channels (smaller |partial sum|)"), "\(text.prefix(300))") }
            }
            let r = try CLI.run(["explain", "--bank", net.path, Self.input, "--layer", "c2", "--at", "3,4"])
            let a = try CLI.run(["apply", Self.input, "--bank", net.path, "-o", dir.file("out").path, "--format", "npy"])
            #expect(a.status == 0, "\(a)")
            let map = try Float32NPY(contentsOf: dir.file("out/input/k.npy"))
            let line = r.stdout.split(separator: "\n").first { $0.hasPrefix("after linear: ") }
            #expect(line.flatMap { Float($0.dropFirst("after linear: ".count)) } == map.values[4 * map.shape[1] + 3], "\(r.stdout)")
            let p = try Self.rgb(dir.file("p.png").path)
            #expect(p.width > 1000 && p.height > 800)
        }
    }

    @Test func explainLayerRefusals() throws {
        var r = try CLI.run(["explain", "--bank", Self.bank("net_a.json"), Self.input, "--layer", "bn1", "--at", "0,0", "--filter", "6"])
        #expect(r.status == 64 && r.stderr.contains("layer 'bn1' has 6 maps (indices 0…5, names f0…f5)"), "\(r)")
        r = try CLI.run(["explain", "--bank", Self.bank("net_a.json"), Self.input, "--layer", "bn1", "--at", "0,0", "--filter", "g"])
        #expect(r.status == 64 && r.stderr.contains("has no map 'g'"), "\(r)")
        r = try CLI.run(["explain", "--bank", Self.bank("net_a.json"), Self.input, "--layer", "pool1", "--at", "5,0"])
        #expect(r.status == 1 && r.errorLines.count == 1 && r.stderr.contains("outside"), "\(r)")
        // Every channel when --filter is left out.
        r = try CLI.run(["explain", "--bank", Self.bank("net_a.json"), Self.input, "--layer", "prelu1", "--at", "0,0"])
        #expect(r.status == 0 && r.stdout.components(separatedBy: "value of map 'f").count == 7, "\(r)")
    }

    // MARK: - --filter by index

    @Test func filterByIndex() throws {
        try withTemporaryFolder { dir in
            let image = try dir.write("i.png", TestPNG.photo(width: 4, height: 3, seed: 5))
            // edges: index 5 is prewitt_x.
            var r = try CLI.run(["explain", "--bank", "edges", image.path, "--at", "1,1", "--filter", "5"])
            #expect(r.status == 0 && r.stdout.contains("filter 'prewitt_x'") && !r.stdout.contains("filter 'sobel_x'"), "\(r)")
            r = try CLI.run(["explain", "--bank", "edges", image.path, "--at", "1,1", "--filter", "8"])
            #expect(r.status == 64 && r.stderr.contains("the bank has 8 filters (indices 0…7)"), "\(r)")
            // A filter named with digits that exists wins over the index.
            let bank = try dir.write("d.json", text: #"{"filters": [{"name": "1", "weights": [[2]]}, {"name": "zero", "weights": [[3]]}]}"#)
            r = try CLI.run(["explain", "--bank", bank.path, image.path, "--at", "0,0", "--filter", "1"])
            #expect(r.status == 0 && r.stdout.contains("filter '1'"), "\(r)")
            r = try CLI.run(["explain", "--bank", bank.path, image.path, "--at", "0,0", "--filter", "2"])
            #expect(r.status == 64 && r.stderr.contains("the bank has 2 filters (indices 0…1)"), "\(r)")
            // A network's convolution layer by index.
            r = try CLI.run(["explain", "--bank", Self.bank("net_a.json"), Self.input, "--layer", "conv2", "--at", "1,2", "--filter", "3"])
            #expect(r.status == 0 && r.stdout.contains("filter 'f3'"), "\(r)")
            r = try CLI.run(["explain", "--help"])
            #expect(r.stdout.contains("--filter <name|index>") && r.stdout.contains("a name, or an index"), "\(r)")
        }
    }
}
