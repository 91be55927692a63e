import ConvBankTestSupport
import Foundation
import Testing

/// Reads every file under `root` into a dictionary keyed by relative path.
func contentsUnder(_ root: URL) throws -> [String: [UInt8]] {
    var out: [String: [UInt8]] = [:]
    for f in filesUnder(root) { out[f] = try bytes(of: root.appendingPathComponent(f)) }
    return out
}

@Suite("Built-in banks")
struct BuiltinBankTests {
    static let photo = CLI.sampleImages.appendingPathComponent("chelsea.png")  // 451×300 RGB
    static let edgeFilters = ["sobel_x", "sobel_y", "scharr_x", "scharr_y", "laplacian", "prewitt_x", "prewitt_y", "sharpen"]

    @Test func listIncludesEdges() throws {
        let r = try CLI.run(["banks"])
        #expect(r.status == 0, "\(r)")
        let names = r.stdout.split(separator: "\n").map { $0.split(separator: " ").first.map(String.init) ?? "" }
        #expect(names.contains("edges"), "\(r)")
    }

    @Test func printedEdgesJSONIsTheSameBank() throws {
        try withTemporaryFolder { dir in
            let printed = try CLI.run(["banks", "edges"])
            #expect(printed.status == 0, "\(printed)")
            // Plain JSON: 8 named filters of 3 channels × 3×3.
            let object = try JSONSerialization.jsonObject(with: Data(printed.stdout.utf8)) as? [String: Any]
            let filters = object?["filters"] as? [[String: Any]] ?? []
            #expect(filters.compactMap { $0["name"] as? String } == Self.edgeFilters)
            #expect(object?["padding"] as? String == "same")
            let sobel = filters.first?["weights"] as? [[[Double]]]
            #expect(sobel == [[[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]])

            let file = try dir.write("edges.json", text: printed.stdout).path
            for format in ["npy", "png"] {
                let viaName = dir.file("by-name-\(format)"), viaFile = dir.file("by-file-\(format)")
                let a = try CLI.run(["apply", Self.photo.path, "--bank", "edges", "--output", viaName.path, "--format", format, "--normalize", "symmetric"])
                let b = try CLI.run(["apply", Self.photo.path, "--bank", file, "--output", viaFile.path, "--format", format, "--normalize", "symmetric"])
                #expect(a.status == 0 && b.status == 0, "\(a)\n\(b)")
                let ca = try contentsUnder(viaName), cb = try contentsUnder(viaFile)
                #expect(ca.keys.sorted() == Self.edgeFilters.map { "chelsea/\($0).\(format)" }.sorted())
                #expect(ca == cb, "--bank edges and --bank \(file) differ (\(format))")
            }
            // Same summary too.
            let s1 = try CLI.run(["summary", "--bank", "edges"]), s2 = try CLI.run(["summary", "--bank", file])
            #expect(s1.stdout.contains("Total params: 224") && s2.stdout.contains("Total params: 224"), "8 · (3·3·3 + 1)\n\(s1)\n\(s2)")
        }
    }

    /// One hand-checked value of the built-in bank: sobel_x on a 3×3 gray image (replicated to R, G, B) at the
    /// centre is 3 · Σ w·v = 3 · ((3 − 1) + 2·(6 − 4) + (9 − 7)) = 3 · 8 = 24.
    @Test func edgesOnATinyImage() throws {
        try withTemporaryFolder { dir in
            let image = try dir.write("t.png", TestPNG.gray8([[1, 2, 3], [4, 5, 6], [7, 8, 9]])).path
            let out = dir.file("out")
            let r = try CLI.run(["apply", image, "--bank", "edges", "--output", out.path, "--format", "npy"])
            #expect(r.status == 0, "\(r)")
            let sobel = try Float32NPY(contentsOf: out.appendingPathComponent("t/sobel_x.npy"), rank: 2)
            #expect(sobel.shape == [3, 3])
            #expect(sobel[1, 1] == 24)
            // Top-left with zero padding: 3 · (2·2 + 5) = 27.
            #expect(sobel[0, 0] == 27)
        }
    }
}

@Suite("Sharding and parallelism")
struct RunPartitionTests {
    static let bank = TestBank.single(name: "f", weights: [[[1, -1], [2, 0]]], bias: 0.5)

    /// Twelve small images in nested folders (and a pair that collides on its stem).
    func inputs(_ dir: TemporaryFolder) throws {
        for k in 0..<10 {
            try dir.write("in/\(k % 3 == 0 ? "" : "d\(k % 3)/")img\(k).png", TestPNG.gray8([[k, k + 1, 2], [3 * k, 4, k * k]]))
        }
        try dir.write("in/same.png", TestPNG.gray8([[1, 2], [3, 4]]))
        try dir.copy(CLI.testdata.appendingPathComponent("jpeg/ycc440.jpg"), to: "in/same.jpg")
    }

    @Test func shardsPartitionTheRun() throws {
        try withTemporaryFolder { dir in
            try inputs(dir)
            let bank = try dir.write("b.json", text: Self.bank).path
            func run(_ extra: [String], _ name: String) throws -> [String: [UInt8]] {
                let out = dir.file(name)
                let r = try CLI.run(["apply", dir.file("in").path, "--bank", bank, "--output", out.path, "--format", "npy"] + extra)
                #expect(r.status == 0, "\(r)")
                return try contentsUnder(out)
            }
            let whole = try run([], "whole")
            let s0 = try run(["--shard", "0/2"], "s0"), s1 = try run(["--shard", "1/2"], "s1")
            #expect(whole.count == 12 * 1)
            // Input folders (keys) of each shard.
            func keys(_ c: [String: [UInt8]]) -> Set<String> { Set(c.keys.map { ($0 as NSString).deletingLastPathComponent }) }
            #expect(!keys(s0).isEmpty && !keys(s1).isEmpty, "both shards get work: \(keys(s0)) / \(keys(s1))")
            #expect(keys(s0).isDisjoint(with: keys(s1)))
            #expect(s0.merging(s1) { a, _ in a } == whole)
            // One shard of one is the whole run.
            #expect(try run(["--shard", "0/1"], "one") == whole)
            // Three shards partition it too.
            let t = try [run(["--shard", "0/3"], "t0"), run(["--shard", "1/3"], "t1"), run(["--shard", "2/3"], "t2")]
            #expect(t.map(\.count).reduce(0, +) == whole.count)
            #expect(t[0].merging(t[1]) { a, _ in a }.merging(t[2]) { a, _ in a } == whole)
        }
    }

    @Test func jobsDoNotChangeTheBytes() throws {
        try withTemporaryFolder { dir in
            let photo = CLI.sampleImages.appendingPathComponent("chelsea.png").path
            var results: [[String: [UInt8]]] = []
            for jobs in ["1", "2", "5"] {
                let out = dir.file("jobs\(jobs)")
                let r = try CLI.run(["apply", photo, "--bank", "edges", "--output", out.path, "--format", "npy", "--jobs", jobs])
                #expect(r.status == 0, "\(r)")
                results.append(try contentsUnder(out))
            }
            #expect(results[0].count == 8)
            for (name, data) in results[0] {
                let map = try Float32NPY(bytes: data, rank: 2)
                #expect(map.shape == [300, 451], "\(name)")
            }
            #expect(results[0] == results[1], "--jobs 1 and --jobs 2 differ")
            #expect(results[0] == results[2], "--jobs 1 and --jobs 5 differ")
        }
    }
}

/// The image is adapted to the bank's channel count: gray → RGB replicates, RGB → gray is BT.601 luma, alpha is
/// dropped unless the bank reads it.
@Suite("Channel adaptation")
struct ChannelTests {
    /// 1×1 filter reading channel c with weight 10^c, so each channel shows in its own decimal digits.
    static func digitsBank(channels: Int) -> String {
        TestBank.single(name: "f", weights: (0..<channels).map { c in [[Double([1, 10, 100, 1000][c])]] })
    }

    func apply(_ png: [UInt8], bankChannels: Int, in dir: TemporaryFolder) throws -> (CLI.Result, Float32NPY?) {
        let image = try dir.write("img.png", png).path
        let bank = try dir.write("b\(bankChannels).json", text: Self.digitsBank(channels: bankChannels)).path
        let out = dir.file("out\(bankChannels)-\(UUID().uuidString)")
        let r = try CLI.run(["apply", image, "--bank", bank, "--output", out.path, "--format", "npy", "--quiet"])
        return (r, try? Float32NPY(contentsOf: out.appendingPathComponent("img/f.npy"), rank: 2))
    }

    @Test func grayImageRGBBankReplicates() throws {
        try withTemporaryFolder { dir in
            // Each value appears in R, G and B: v · (1 + 10 + 100) = 111·v.
            let (r, map) = try apply(TestPNG.gray8([[7, 0], [255, 20]]), bankChannels: 3, in: dir)
            #expect(r.status == 0, "\(r)")
            #expect(map?.values == [777, 0, 28305, 2220])
            // 16-bit: raw values, no scaling: 65535 · 111 = 7274385 (exact in Float, < 2^24).
            let (r16, map16) = try apply(TestPNG.encode(width: 2, height: 1, color: .gray, bitDepth: 16, samples: [65535, 1000]), bankChannels: 3, in: dir)
            #expect(r16.status == 0, "\(r16)")
            #expect(map16?.values == [7_274_385, 111_000])
        }
    }

    @Test func rgbImageGrayBankIsLuma() throws {
        try withTemporaryFolder { dir in
            let png = TestPNG.encode(width: 2, height: 1, color: .rgb, bitDepth: 8, samples: [200, 100, 50, 0, 0, 255])
            let (r, map) = try apply(png, bankChannels: 1, in: dir)
            #expect(r.status == 0, "\(r)")
            // 0.299·200 + 0.587·100 + 0.114·50 = 59.8 + 58.7 + 5.7 = 124.2;  0.114·255 = 29.07.
            let values = map?.values ?? []
            #expect(values.count == 2)
            if values.count == 2 {
                #expect(abs(values[0] - 124.2) < 1e-4, "\(values)")
                #expect(abs(values[1] - 29.07) < 1e-4, "\(values)")
            }
        }
    }

    @Test func alphaIsDroppedUnlessTheBankReadsIt() throws {
        try withTemporaryFolder { dir in
            let rgba = TestPNG.encode(width: 1, height: 1, color: .rgba, bitDepth: 8, samples: [1, 2, 3, 77])
            let ga = TestPNG.encode(width: 1, height: 1, color: .grayAlpha, bitDepth: 8, samples: [9, 200])
            let rgbaTo3 = try apply(rgba, bankChannels: 3, in: dir).1?.values
            let rgbaTo4 = try apply(rgba, bankChannels: 4, in: dir).1?.values
            let gaTo1 = try apply(ga, bankChannels: 1, in: dir).1?.values
            let gaTo2 = try apply(ga, bankChannels: 2, in: dir).1?.values
            let gaTo3 = try apply(ga, bankChannels: 3, in: dir).1?.values
            #expect(rgbaTo3 == [321])  // 1 + 20 + 300
            #expect(rgbaTo4 == [77321])  // + 77 · 1000
            #expect(gaTo1 == [9])
            #expect(gaTo2 == [2009])  // 9 + 200 · 10
            #expect(gaTo3 == [999])  // gray → RGB after dropping alpha: 9 · 111
        }
    }

    @Test func otherMismatchesFailThatImage() throws {
        try withTemporaryFolder { dir in
            let rgb = TestPNG.encode(width: 1, height: 1, color: .rgb, bitDepth: 8, samples: [1, 2, 3])
            let (r, map) = try apply(rgb, bankChannels: 2, in: dir)
            #expect(r.status == 1, "\(r)")
            #expect(map == nil)
            #expect(r.errorLines.count == 1 && r.stderr.contains("img.png"), "\(r)")
            let (g, gm) = try apply(TestPNG.gray8([[1]]), bankChannels: 4, in: dir)
            #expect(g.status == 1 && gm == nil, "\(g)")
        }
    }

    @Test func explainAgreesWithApplyOnLuma() throws {
        try withTemporaryFolder { dir in
            let png = TestPNG.encode(width: 1, height: 1, color: .rgb, bitDepth: 8, samples: [200, 100, 50])
            let image = try dir.write("img.png", png).path
            let bank = try dir.write("b.json", text: Self.digitsBank(channels: 1)).path
            let r = try CLI.run(["explain", "--bank", bank, image, "--at", "0,0"])
            #expect(r.status == 0, "\(r)")
            #expect(r.stdout.contains("124.2"), "\(r)")
        }
    }
}
