import ConvBankEngine
import ConvBankTestSupport
import Foundation
import Testing

/// `convbank import` of Keras model files (`.keras`, full-model `.h5`) and HDF5 weights (`.weights.h5`, Keras 2 layout)
/// through the real binary (fixtures from `scripts/make_keras_model_goldens.py`): `--list`, the whole stack as a network
/// whose maps `apply --layers all` writes equal to Keras's, `--layer`, the stop, and malformed files as one line and exit 64.
@Suite("import Keras")
struct KerasImportCLITests {
    static let fixtures = CLI.repository.appendingPathComponent("Tests/ConvBankTests/Fixtures/keras")

    static func path(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

    @Test func listShowsLayersAndTheStop() throws {
        let r = try CLI.run(["import", Self.path("stack.keras"), "--list"])
        #expect(r.status == 0, "\(r)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 5, "\(r.stdout)")
        #expect(lines.first?.hasSuffix("(.keras model 'stack'): 8 layers convbank runs, 3 convolution layers") == true, "\(r.stdout)")
        #expect(lines.contains("  conv2  (3, 3, 12, 4)  HWIO  4 filters 3×3×12  stride 1  dilation 1  padding \"valid\"  relu6"), "\(r.stdout)")
        #expect(lines.last == "stack ends before 'flatten' (Flatten): not a layer kind convbank runs")

        let branch = try CLI.run(["import", Self.path("chain.h5"), "--list"])
        #expect(branch.status == 0 && branch.stdout.contains("stack ends before 'right' (Conv2D): reads 'bn', not the layer before it (a branch)"), "\(branch)")
        #expect(branch.stdout.contains("  c2     (3, 3, 2, 6)  HWIO  6 filters 3×3×4 groups 2  stride 1  dilation 2  padding \"same\"  linear"), "\(branch)")

        let weights = try CLI.run(["import", Self.path("stack.weights.h5"), "--list"])
        #expect(weights.status == 0, "\(weights)")
        #expect(weights.stdout.contains("(.h5): 13 arrays, 3 convolution kernels"), "\(weights)")
        #expect(weights.stdout.contains("  dw/depthwise_kernel  (3, 3, 6, 2)  HWCM (by name)  12 filters 3×3×1, depthwise over 6 channels  bias: dw/bias"), "\(weights)")
        let legacy = try CLI.run(["import", Self.path("stack_legacy.weights.h5"), "--list"])
        #expect(legacy.status == 0 && legacy.stdout.contains("  stack/conv1/kernel  (3, 3, 3, 6)  HWIO (by name)  6 filters 3×3×3  bias: stack/conv1/bias"), "\(legacy)")
    }

    /// The imported stack, run by `apply --layers all` on the fixture image as a PNG: every layer's maps equal Keras's;
    /// likewise the model file given to `apply --bank` directly.
    @Test(arguments: [("stack.h5", true), ("chain.keras", true), ("stack.keras", false), ("chain.h5", false)])
    func importedStackMatchesKeras(_ file: String, _ viaImport: Bool) throws {
        try withTemporaryFolder { dir in
            var bank = Self.path(file)
            if viaImport {
                let r = try CLI.run(["import", Self.path(file), "-o", "net.json"], in: dir.url)
                #expect(r.status == 0, "\(r)")
                #expect(r.stderr.contains("wrote 'net.json': network '\(file.hasPrefix("stack") ? "stack" : "chain")' of"), "\(r)")
                #expect(r.stderr.contains("the stack ends before"), "\(r)")
                bank = "net.json"
            }
            let input = try Float32NPY(contentsOf: Self.fixtures.appendingPathComponent("input.npy"))
            try Data(TestPNG.encode(width: input.shape[1], height: input.shape[0], color: .rgb, bitDepth: 8, samples: input.values.map { Int($0) }))
                .write(to: dir.url.appendingPathComponent("input.png"))
            let out = dir.file("out")
            let a = try CLI.run(["apply", "input.png", "--bank", bank, "-o", out.path, "--format", "npy", "--layers", "all"], in: dir.url)
            #expect(a.status == 0, "\(a)")
            let cases = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.fixtures.appendingPathComponent("cases.json"))) as! [String: Any]
            let model = (cases["models"] as! [[String: Any]]).first { ($0["files"] as! [String]).contains(file) }!
            var checked = 0
            for layer in model["layers"] as! [[String: Any]] {
                let name = layer["name"] as! String
                let expected = try Float32NPY(contentsOf: Self.fixtures.appendingPathComponent(layer["output"] as! String))
                let (h, w, channels) = (expected.shape[0], expected.shape[1], expected.shape[2])
                for c in 0..<channels {
                    let map = try Float32NPY(contentsOf: out.appendingPathComponent("input/\(name)/f\(c).npy"))
                    #expect(map.shape == [h, w], "\(name) f\(c)")
                    var worst: Float = 0
                    for i in 0..<min(h * w, map.values.count) {
                        let e: Float = expected.values[i * channels + c]
                        worst = max(worst, abs(map.values[i] - e) / max(abs(e), 1))
                    }
                    #expect(worst <= 1e-4, "\(file) \(name) f\(c): worst relative error \(worst)")
                    checked += 1
                }
            }
            #expect(checked >= 20)
        }
    }

    @Test func oneLayerAsABank() throws {
        try withTemporaryFolder { dir in
            let r = try CLI.run(["import", Self.path("stack.keras"), "--layer", "dw", "-o", "dw.json"], in: dir.url)
            #expect(r.status == 0, "\(r)")
            #expect(r.stderr.contains("12 filters 3×3×6 ('dw', HWCM), 120 parameters"), "\(r)")
            let bank = try FilterBank(json: Array(Data(contentsOf: dir.url.appendingPathComponent("dw.json"))), source: "dw.json")
            #expect(bank.groups == 6 && bank.padding == .same && bank.filters.count == 12)
            let w = try CLI.run(["import", Self.path("stack.weights.h5"), "--layer", "conv1/kernel", "--padding", "same", "-o", "c1.json"], in: dir.url)
            #expect(w.status == 0 && w.stderr.contains("'conv1/kernel' + 'conv1/bias'"), "\(w)")
            let missing = try CLI.run(["import", Self.path("stack.h5"), "--layer", "dense"])
            #expect(missing.status == 64 && missing.stderr.contains("has no convolution layer 'dense' (it has 'conv1', 'dw', 'conv2'; see --list)"), "\(missing)")
        }
    }

    @Test(arguments: [("bad_strings.weights.h5", "holds strings, not numbers"), ("bad_huge.weights.h5", "more than the 256 MiB"),
                      ("bad_config.h5", "model configuration: invalid JSON"), ("bad_noweights.keras", "a .keras archive without model.weights.h5"),
                      ("bad_badconfig.keras", "model configuration: invalid JSON")])
    func malformedFileIsOneLine(_ file: String, _ reason: String) throws {
        for extra in [[], ["--list"]] {
            let r = try CLI.run(["import", Self.path(file)] + extra)
            #expect(r.status == 64, "\(r)")
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].contains("cannot read '\(Self.path(file))': ") && lines[0].contains(reason), "\(r)")
        }
    }

    @Test func truncatedFileIsOneLine() throws {
        try withTemporaryFolder { dir in
            let bytes = try Data(contentsOf: Self.fixtures.appendingPathComponent("stack.h5"))
            try bytes.prefix(bytes.count / 2).write(to: dir.url.appendingPathComponent("cut.h5"))
            let r = try CLI.run(["import", "cut.h5", "--list"], in: dir.url)
            #expect(r.status == 64 && r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("cannot read 'cut.h5': not a readable HDF5 file (truncated file"), "\(r)")
        }
    }
}
