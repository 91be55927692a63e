import ConvBankTestSupport
import Foundation
import Testing

/// The example network `examples/mtcnn/pnet.json` (the trained MTCNN P-Net of the `mtcnn` wheel, made by
/// `scripts/make_mtcnn_example.py`) run through the real binary on `examples/mtcnn/astronaut-64.png`, against the
/// Keras model of the same weights (`Fixtures/mtcnn/`): every written layer's maps, the face map's peak on the face,
/// and `summary`'s parameter counts against Keras `count_params()`.
@Suite("The MTCNN example network")
struct MTCNNExampleTests {
    static let fixtures = CLI.repository.appendingPathComponent("Tests/ConvBankTests/Fixtures/mtcnn")
    static let network = CLI.repository.appendingPathComponent("examples/mtcnn/pnet.json").path
    static let image = CLI.repository.appendingPathComponent("examples/mtcnn/astronaut-64.png").path

    struct Case { var name: String; var shape: [Int] }

    static func cases() throws -> (layers: [Case], params: [String: Int]) {
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("cases.json"))) as! [String: Any]
        let layers = (root["layers"] as! [[String: Any]]).map { Case(name: $0["name"] as! String, shape: $0["shape"] as! [Int]) }
        return (layers, root["count_params"] as! [String: Int])
    }

    @Test func layersEqualKeras() throws {
        let (layers, _) = try Self.cases()
        #expect(layers.map(\.name) == ["conv1", "maxpooling1", "prelu3", "face"])
        try withTemporaryFolder { dir in
            let out = dir.file("out")
            let r = try CLI.run(["apply", Self.image, "--bank", Self.network, "-o", out.path, "--format", "npy",
                                 "--layers", layers.map(\.name).joined(separator: ",")])
            #expect(r.status == 0, "\(r)")
            for layer in layers {
                let expected = try Float32NPY(contentsOf: Self.fixtures.appendingPathComponent("\(layer.name).npy"))
                #expect(expected.shape == layer.shape)
                let (h, w, channels) = (layer.shape[0], layer.shape[1], layer.shape[2])
                let scale = expected.values.map(abs).max()!
                for c in 0..<channels {
                    let file = out.appendingPathComponent("astronaut-64/\(layer.name)/\(layer.name == "face" ? "face" : "f\(c)").npy")
                    let map = try Float32NPY(contentsOf: file)
                    #expect(map.shape == [h, w], "\(layer.name) map \(c)")
                    guard map.shape == [h, w] else { continue }
                    var worst: Float = 0
                    for k in 0..<(h * w) { worst = max(worst, abs(map.values[k] - expected.values[k * channels + c])) }
                    #expect(worst <= 1e-5 * max(scale, 1), "\(layer.name) map \(c): off by \(worst) from Keras")
                }
            }
            // The face map peaks where Keras's does: on the astronaut's face.
            let face = try Float32NPY(contentsOf: out.appendingPathComponent("astronaut-64/face/face.npy"))
            let golden = try Float32NPY(contentsOf: Self.fixtures.appendingPathComponent("face.npy"))
            let peak = face.values.indices.max { face.values[$0] < face.values[$1] }!
            let kerasPeak = golden.values.indices.max { golden.values[$0] < golden.values[$1] }!
            #expect(peak == kerasPeak)
            #expect(face.values[peak] > 0.9)
        }
    }

    @Test func summaryCountsKerasParameters() throws {
        let (_, params) = try Self.cases()
        let r = try CLI.run(["summary", "--bank", Self.network])
        #expect(r.status == 0, "\(r)")
        for (layer, count) in params {
            let line = r.stdout.split(separator: "\n").first { $0.hasPrefix(layer + " ") }
            #expect(line?.hasSuffix(" \(count.formatted(.number.grouping(.automatic).locale(Locale(identifier: "en_US"))))") == true,
                    "\(layer): \(line ?? "no line"), Keras \(count)")
        }
        #expect(r.stdout.contains("Total params: \(params.values.reduce(0, +).formatted(.number.grouping(.automatic).locale(Locale(identifier: "en_US"))))"))
    }
}
