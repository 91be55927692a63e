import ConvBankEngine
import ConvBankImageIO
import ConvBankTestSupport
import Foundation
import Testing

/// `convbank import` of `.onnx` files through the real binary (fixtures from `scripts/make_onnx_goldens.py`):
/// `--list`, the whole stack as a network that `summary` and `apply` take, `--layer`, and bad files as one line and
/// exit 64.
@Suite("import onnx")
struct ONNXImportCLITests {
    static let fixtures = CLI.repository.appendingPathComponent("Tests/ConvBankTests/Fixtures/onnx")

    static func path(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

    @Test func listShowsConvolutionsAndWhereTheStackEnds() throws {
        let r = try CLI.run(["import", Self.path("stack.onnx"), "--list"])
        #expect(r.status == 0, "\(r)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 5, "\(r.stdout)")
        #expect(lines.first?.hasSuffix("(.onnx model 'stack'): 8 layers convbank runs, 3 convolution layers") == true, "\(r.stdout)")
        #expect(lines.contains("  block2_conv  (8, 4, 3, 3)  OIHW  8 filters 3×3×8 groups 2  stride 1  dilation 1  padding \"same\"  linear"), "\(r.stdout)")
        #expect(lines.last == "stack ends before 'flatten' (Flatten): not a layer kind convbank runs")
    }

    @Test func wholeStackIsANetworkThatRuns() throws {
        try withTemporaryFolder { dir in
            let r = try CLI.run(["import", Self.path("stack.onnx"), "-o", "net.json"], in: dir.url)
            #expect(r.status == 0, "\(r)")
            #expect(r.stderr.contains("wrote 'net.json': network 'stack' of 8 layers, 992 parameters; the stack ends before 'flatten' (Flatten): not a layer kind convbank runs"), "\(r)")
            let written = try Network(json: Array(Data(contentsOf: dir.url.appendingPathComponent("net.json"))), source: "net.json")
            guard case .model(let model) = try ImportSource.read(contentsOfFile: Self.path("stack.onnx")) else {
                Issue.record("not a model")
                return
            }
            #expect(written == (try model.network()))

            let summary = try CLI.run(["summary", "--bank", "net.json"], in: dir.url)
            #expect(summary.status == 0, "\(summary)")
            #expect(summary.stdout.contains("block2_prelu") && summary.stdout.contains("992"), "\(summary.stdout)")

            _ = try dir.write("in/photo.png", TestPNG.photo(width: 20, height: 16, seed: 5))
            let run = try CLI.run(["apply", "in", "--bank", "net.json", "--format", "npy", "--output", "out", "--layers", "pool1,pool3"], in: dir.url)
            #expect(run.status == 0, "\(run)")
            let pool3 = dir.url.appendingPathComponent("out/photo/pool3")
            let maps = try FileManager.default.contentsOfDirectory(atPath: pool3.path).sorted()
            #expect(maps == (0..<6).map { "f\($0).npy" }.sorted(), "\(maps)")
        }
    }

    /// Import, then `apply --layers` on a PNG: the maps equal onnxruntime's outputs on the PNG's raw samples.
    @Test func appliedToAPhotoLikeOnnxruntime() throws {
        try withTemporaryFolder { dir in
            #expect(try CLI.run(["import", Self.path("stack.onnx"), "-o", "net.json"], in: dir.url).status == 0)
            try FileManager.default.createDirectory(at: dir.url.appendingPathComponent("in"), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("photo.png"), to: dir.url.appendingPathComponent("in/photo.png"))
            let r = try CLI.run(["apply", "in", "--bank", "net.json", "--format", "npy", "--output", "out", "--layers", "pool1,pool3"], in: dir.url)
            #expect(r.status == 0, "\(r)")
            for layer in ["pool1", "pool3"] {
                let expected = try Float32NPY(contentsOf: Self.fixtures.appendingPathComponent("photo_\(layer).npy"))
                let (h, w, c) = (expected.shape[0], expected.shape[1], expected.shape[2])
                var worst: Float = 0
                for k in 0..<c {
                    let map = try Float32NPY(contentsOf: dir.url.appendingPathComponent("out/photo/\(layer)/f\(k).npy"))
                    #expect(map.shape == [h, w], "\(layer) f\(k): \(map.shape)")
                    guard map.shape == [h, w] else { continue }
                    for i in 0..<h * w {
                        let e = expected.values[i * c + k]
                        worst = max(worst, abs(map.values[i] - e) / max(abs(e), 1))
                    }
                }
                #expect(worst <= 1e-4, "\(layer): worst relative error \(worst)")
            }
        }
    }

    @Test func oneLayerAsABank() throws {
        try withTemporaryFolder { dir in
            let r = try CLI.run(["import", Self.path("stack.onnx"), "--layer", "c3", "-o", "c3.json"], in: dir.url)
            #expect(r.status == 0, "\(r)")
            #expect(r.stderr.contains("6 filters 3×3×8 ('c3', OIHW), 432 parameters"), "\(r)")
            let bank = try FilterBank(json: Array(Data(contentsOf: dir.url.appendingPathComponent("c3.json"))), source: "c3.json")
            #expect(bank.dilation == Extent2D(2))
            #expect(bank.padding == .explicit(EdgeInsets(top: 0, bottom: 2, left: 1, right: 1)))
            // A conv after the stop is still importable as a bank.
            let after = try CLI.run(["import", Self.path("stops/conv_after_stop.onnx"), "--layer", "after"], in: dir.url)
            #expect(after.status == 0 && after.stdout.contains("\"filters\""), "\(after)")
            let missing = try CLI.run(["import", Self.path("stack.onnx"), "--layer", "fc"], in: dir.url)
            #expect(missing.status == 64 && missing.stderr.contains("has no convolution layer 'fc' (it has 'conv1', 'block2_conv', 'c3'"), "\(missing)")
        }
    }

    @Test(arguments: ["truncated.onnx", "raw_data_short.onnx", "huge_dim.onnx", "attribute_type.onnx", "deep_nesting.onnx", "no_nodes.onnx"])
    func malformedFileIsOneLine(_ file: String) throws {
        let p = Self.path("malformed/\(file)")
        let r = try CLI.run(["import", p])
        #expect(r.status == 64, "\(r)")
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.first?.hasPrefix("convbank: error: cannot read '\(p)': ") == true, "\(r)")
        #expect(lines.count <= 3, "\(r)")  // the message, then ArgumentParser's usage hint at most
    }

    @Test func externalDataOnlyIsNothingToImport() throws {
        let r = try CLI.run(["import", Self.path("stops/external_data.onnx")])
        #expect(r.status == 64, "\(r)")
        #expect(r.stderr.contains("nothing to import, its first layer 'conv' (Conv) is not one convbank runs: tensor 'k' is stored in an external data file"), "\(r)")
    }
}
