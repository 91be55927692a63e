import ConvBankTestSupport
import Foundation
import Testing

/// The contract's worked example: a 3×3 16-bit RGB image with R = 1, G = 100, B = 10000 everywhere and one
/// 2×2 all-ones filter over 3 channels (valid, stride 1, relu). Every output pixel is
/// 4·1 + 4·100 + 4·10000 = 4 + 400 + 40000 = 40404.
@Suite("The 40404 example, end to end")
struct ExampleTests {
    static let bank = """
        {"name": "ones", "stride": 1, "padding": "valid", "activation": "relu",
         "filters": [{"name": "ones", "bias": 0, "weights": [[[1, 1], [1, 1]], [[1, 1], [1, 1]], [[1, 1], [1, 1]]]}]}
        """

    func prepare(_ dir: TemporaryFolder) throws -> (image: String, bank: String) {
        let png = TestPNG.constant(width: 3, height: 3, color: .rgb, bitDepth: 16, pixel: [1, 100, 10000])
        let image = try dir.write("in/rgb16.png", png).path
        let bank = try dir.write("ones.json", text: Self.bank).path
        return (image, bank)
    }

    @Test func applyNpyGives40404Everywhere() throws {
        try withTemporaryFolder { dir in
            let (image, bank) = try prepare(dir)
            let out = dir.file("out")
            let r = try CLI.run(["apply", image, "--bank", bank, "--output", out.path, "--format", "npy"])
            #expect(r.status == 0, "\(r)")
            #expect(r.stdout.isEmpty, "apply talks on stderr only")
            #expect(filesUnder(out) == ["rgb16/ones.npy"])
            let map = try Float32NPY(contentsOf: out.appendingPathComponent("rgb16/ones.npy"), rank: 2)
            #expect(map.shape == [2, 2])
            #expect(map.values == [40404, 40404, 40404, 40404])
        }
    }

    @Test func summaryCountsThirteenParameters() throws {
        try withTemporaryFolder { dir in
            let (_, bank) = try prepare(dir)
            let r = try CLI.run(["summary", "--bank", bank])
            #expect(r.status == 0, "\(r)")
            // 2·2·3 weights + 1 bias.
            let lines = r.stdout.split(separator: "\n").map(String.init)
            #expect(lines.contains("Total params: 13"), "\(r)")
            #expect(r.stdout.contains("2×2×3"), "\(r)")
        }
    }

    @Test func summaryWithInputSizeGivesOutputSize() throws {
        try withTemporaryFolder { dir in
            let (_, bank) = try prepare(dir)
            let r = try CLI.run(["summary", "--bank", bank, "--input-size", "3,3"])
            #expect(r.status == 0, "\(r)")
            #expect(r.stdout.contains("2×2"), "output 3 − 2 + 1 = 2 on each side\n\(r)")
            #expect(r.stdout.contains("0,0,0,0"), "valid: no pads\n\(r)")
        }
    }

    @Test func explainShowsEachChannelsPartialSum() throws {
        try withTemporaryFolder { dir in
            let (image, bank) = try prepare(dir)
            let r = try CLI.run(["explain", "--bank", bank, image, "--at", "0,0"])
            #expect(r.status == 0, "\(r)")
            let lines = r.stdout.split(separator: "\n").map(String.init)
            // One "partial sum" line per channel, in channel order, ending with 4, 400 and 40000.
            let partials = lines.filter { $0.contains("partial") }
            #expect(partials.count == 3, "\(r)")
            #expect(partials.map { lastNumber($0) } == [4, 400, 40000], "\(r)")
            #expect(lines.contains { $0.contains("4 + 400 + 40000") && lastNumber($0) == 40404 }, "\(r)")
            #expect(lines.contains { $0.hasPrefix("before activation") && lastNumber($0) == 40404 }, "\(r)")
            #expect(lines.contains { $0.contains("relu") && lastNumber($0) == 40404 }, "\(r)")
        }
    }

    @Test func explainOutsideTheMapFails() throws {
        try withTemporaryFolder { dir in
            let (image, bank) = try prepare(dir)
            // The map is 2×2: x = 2 is outside.
            let r = try CLI.run(["explain", "--bank", bank, image, "--at", "2,0"])
            #expect(r.status == 1, "\(r)")
            #expect(r.errorLines.count == 1, "\(r)")
        }
    }

    /// The last whole number on a line (`… = 40404` → 40404).
    func lastNumber(_ line: String) -> Int? {
        line.split(whereSeparator: { !$0.isNumber && $0 != "-" }).last.flatMap { Int($0) }
    }
}

/// `explain` takes apart exactly the value `apply` writes, on a real JPEG (chroma upsampling, 3 channels).
@Suite("explain agrees with apply")
struct ExplainAgreementTests {
    @Test(arguments: [(0, 0), (5, 7), (156, 120), (80, 60)])
    func explainedValueIsTheMapValue(_ position: (x: Int, y: Int)) throws {
        try withTemporaryFolder { dir in
            let image = CLI.testdata.appendingPathComponent("jpeg/ycc411.jpg").path  // 157×121
            let out = dir.file("out")
            let r = try CLI.run(["apply", image, "--bank", "edges", "--output", out.path, "--format", "npy"])
            #expect(r.status == 0, "\(r)")
            let map = try Float32NPY(contentsOf: out.appendingPathComponent("ycc411/scharr_y.npy"), rank: 2)
            #expect(map.shape == [121, 157])
            let e = try CLI.run(["explain", "--bank", "edges", image, "--at", "\(position.x),\(position.y)", "--filter", "scharr_y"])
            #expect(e.status == 0, "\(e)")
            let last = e.stdout.split(separator: "\n").last.map(String.init) ?? ""
            #expect(last.hasPrefix("after linear: "), "\(e)")
            let value = Float(last.dropFirst("after linear: ".count))
            #expect(value == map[position.y, position.x], "\(e)")
        }
    }
}
