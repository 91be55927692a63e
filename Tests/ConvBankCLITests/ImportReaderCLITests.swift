import ConvBankEngine
import Foundation
import Testing

/// `convbank import` of `.npz` and `.safetensors` files through the real binary (fixtures from
/// `scripts/make_reader_fixtures.py`): `--list`, `--layer`, `--layout`, the bank written, and hostile files as one
/// line and exit 64.
@Suite("import readers")
struct ImportReaderCLITests {
    static let fixtures = CLI.repository.appendingPathComponent("Tests/ConvBankTests/Fixtures/readers")

    static func path(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

    static func expected(_ file: String, _ layer: String) throws -> (weights: [[[[Double]]]], bias: [Double]?) {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("expected.json")))
        let e = (json as! [String: [String: [String: Any]]])[file]![layer]!
        return (e["weights"] as! [[[[Double]]]], e["bias"] as? [Double])
    }

    @Test func listShowsKernelsLayoutsAndBiases() throws {
        let r = try CLI.run(["import", Self.path("keras.npz"), "--list"])
        #expect(r.status == 0, "\(r)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "\(r.stdout)")
        #expect(lines[0].hasSuffix("(.npz): 6 arrays, 2 convolution kernels"))
        #expect(lines[1] == "  conv2d/kernel    (3, 3, 3, 4)  HWIO (by name)  4 filters 3×3×3  bias: conv2d/bias")
        #expect(lines[2] == "  conv2d_1/kernel  (2, 2, 4, 2)  HWIO (by name)  2 filters 2×2×4  bias: conv2d_1/bias")
        #expect(lines[3] == "stride/padding: not in file, defaults 1/valid, override with --stride/--padding")

        let t = try CLI.run(["import", Self.path("torch.safetensors"), "--list"])
        #expect(t.status == 0 && t.stdout.contains("conv2.weight  (3, 4, 3, 3)  OIHW (by name)  3 filters 3×3×4  bias: conv2.bias"), "\(t)")
        let forced = try CLI.run(["import", Self.path("keras.npz"), "--list", "--layout", "OIHW"])
        #expect(forced.stdout.contains("conv2d/kernel    (3, 3, 3, 4)  OIHW (--layout)  3 filters 3×4×3  bias: none"), "\(forced)")
        let depthwise = try CLI.run(["import", Self.path("depthwise.npz"), "--list"])
        #expect(depthwise.stdout.contains("(3, 3, 2, 2)  HWCM (by name)  4 filters 3×3×1, depthwise over 2 channels  bias: depthwise_conv2d/bias"), "\(depthwise)")
        let single = try CLI.run(["import", Self.path("single.safetensors"), "--list"])
        #expect(single.stdout.contains("  w  (3, 3, 1, 2)  HWIO (by shape)  2 filters 3×3×1  bias: none"), "\(single)")
    }

    @Test(arguments: [("keras.npz", "conv2d_1/kernel"), ("torch.npz", "conv1.weight"), ("torch.safetensors", "conv2.weight"),
                      ("bf16.safetensors", "conv.weight")])
    func layerImportedExactly(_ file: String, _ layer: String) throws {
        try withTemporaryFolder { dir in
            let r = try CLI.run(["import", Self.path(file), "--layer", layer, "--padding", "same", "--names", "", "-o", "bank.json"], in: dir.url)
            // --names "" is refused (an empty name); without it the filters are f0, f1, …
            #expect(r.status == 64, "\(r)")
            let ok = try CLI.run(["import", Self.path(file), "--layer", layer, "--padding", "same", "-o", "bank.json"], in: dir.url)
            #expect(ok.status == 0, "\(ok)")
            #expect(ok.stderr.contains("'\(layer)'"), "\(ok)")
            let bank = try FilterBank(json: Array(Data(contentsOf: dir.url.appendingPathComponent("bank.json"))), source: "bank.json")
            let e = try Self.expected(file, layer)
            #expect(bank.padding == .same)
            #expect(bank.filters.count == e.weights.count)
            for (f, filter) in bank.filters.enumerated() {
                #expect(filter.name == "f\(f)")
                #expect(filter.bias == Float(e.bias?[f] ?? 0))
                for c in 0..<filter.channels {
                    for i in 0..<filter.kernel.height {
                        for j in 0..<filter.kernel.width { #expect(filter[c, i, j] == Float(e.weights[f][c][i][j])) }
                    }
                }
            }
        }
    }

    @Test func withoutLayer() throws {
        let one = try CLI.run(["import", Self.path("single.safetensors")])
        #expect(one.status == 0 && one.stdout.contains("\"filters\""), "\(one)")
        let many = try CLI.run(["import", Self.path("keras.npz")])
        #expect(many.status == 64)
        #expect(many.stderr.contains("holds 2 convolution kernels (conv2d/kernel, conv2d_1/kernel) and no layer order: pick one with --layer NAME (see --list)"), "\(many)")
        let missing = try CLI.run(["import", Self.path("keras.npz"), "--layer", "conv9/kernel"])
        #expect(missing.status == 64 && missing.stderr.contains("no array named 'conv9/kernel'"), "\(missing)")
        let dense = try CLI.run(["import", Self.path("keras.npz"), "--layer", "dense/kernel"])
        #expect(dense.status == 64 && dense.stderr.contains("not a 4-D convolution kernel"), "\(dense)")
        let withBias = try CLI.run(["import", Self.path("keras.npz"), Self.path("keras.npz")])
        #expect(withBias.status == 64 && withBias.stderr.contains("a bias file goes with a kernel .npy only"), "\(withBias)")
    }

    @Test(arguments: [("bomb.npz", "member 'a.npy': inflates past its declared 1000 bytes"), ("overlap.npz", "overlap"),
                      ("huge.npz", "more than 256 MiB"), ("huge_shape.safetensors", "too large"),
                      ("offsets.safetensors", "lie outside"), ("overlap.safetensors", "overlap another tensor")])
    func hostileFileIsOneLine(_ file: String, _ reason: String) throws {
        for extra in [[], ["--list"]] {
            let r = try CLI.run(["import", Self.path(file)] + extra)
            #expect(r.status == 64, "\(r)")
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].contains("cannot read '\(Self.path(file))': ") && lines[0].contains(reason), "\(r)")
            #expect(r.stdout.isEmpty)
        }
    }
}
