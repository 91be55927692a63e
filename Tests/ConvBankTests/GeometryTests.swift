import Foundation
import Testing
@testable import ConvBankBatch
@testable import ConvBankEngine
@testable import ConvBankImageIO
@testable import ConvBankPictures

@Suite struct GeometryTests {
    /// TensorFlow's SAME split, worked out by hand: out = ceil(in/s), total = max((out−1)s + (k−1)d + 1 − in, 0).
    @Test(arguments: [
        // (in, k, s, d, out, before, after)
        (6, 3, 2, 1, 3, 0, 1),      // total = 2·2 + 3 − 6 = 1 → 0/1
        (224, 7, 2, 1, 112, 2, 3),  // total = 111·2 + 7 − 224 = 5 → 2/3
        (10, 4, 1, 1, 10, 1, 2),    // total = 9 + 4 − 10 = 3 → 1/2
        (5, 3, 1, 2, 5, 2, 2),      // total = 4 + 5 − 5 = 4 → 2/2
        (7, 3, 3, 1, 3, 1, 1),      // out 3, total = 6 + 3 − 7 = 2
        (8, 1, 3, 1, 3, 0, 0),      // total = 6 + 1 − 8 < 0 → 0
        (5, 2, 1, 1, 5, 0, 1),      // even kernel: the extra pad goes after
    ])
    func sameSplit(_ c: (Int, Int, Int, Int, Int, Int, Int)) throws {
        let (n, k, s, d, out, before, after) = c
        let g = try ConvolutionGeometry.resolve(input: Extent2D(height: n, width: 1), kernel: Extent2D(height: k, width: 1),
                                                stride: Extent2D(s), dilation: Extent2D(d), padding: .same)
        #expect(g.output.height == out)
        #expect(g.insets.top == before)
        #expect(g.insets.bottom == after)
    }

    @Test func validAndExplicitSizes() throws {
        func out(_ n: Int, _ k: Int, _ s: Int, _ d: Int, _ p: Padding) throws -> Int {
            try ConvolutionGeometry.resolve(input: Extent2D(n), kernel: Extent2D(k), stride: Extent2D(s), dilation: Extent2D(d), padding: p).output.height
        }
        #expect(try out(7, 3, 2, 1, .valid) == 3)   // (7 − 3)/2 + 1
        #expect(try out(7, 3, 1, 3, .valid) == 1)   // span 7
        #expect(try out(5, 3, 1, 1, .explicit(EdgeInsets(1))) == 5)
        #expect(try out(5, 3, 2, 1, .explicit(EdgeInsets(top: 2, bottom: 0, left: 2, right: 0))) == 3)  // (7 − 3)/2 + 1
        #expect(throws: ConvolutionError.self) { try out(2, 3, 1, 1, .valid) }
        #expect(throws: ConvolutionError.self) { try out(5, 3, 1, 3, .valid) }  // span 7 > 5
    }

    @Test func parsing() {
        #expect(Extent2D(parsing: "3") == Extent2D(3))
        #expect(Extent2D(parsing: "2,1") == Extent2D(height: 2, width: 1))
        #expect(Extent2D(parsing: "2,") == nil)
        #expect(Padding(parsing: "SAME") == .same)
        #expect(Padding(parsing: "1,2,3,4") == .explicit(EdgeInsets(top: 1, bottom: 2, left: 3, right: 4)))
        #expect(Padding(parsing: "1,2") == nil)
        #expect(Shard(parsing: "1/4") == Shard(index: 1, count: 4))
        #expect(Shard(parsing: "4/4") == nil)
    }

    /// Shards from a Slurm array task or a Kubernetes indexed job; a task that names no shard is refused.
    @Test func shardsFromTheEnvironment() throws {
        #expect(try Shard.fromEnvironment([:]) == nil)
        let slurm = try #require(try Shard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "2"]))
        #expect(slurm.shard == Shard(index: 3, count: 4))
        let stepped = try #require(try Shard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "6", "SLURM_ARRAY_TASK_COUNT": "4",
                                                             "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_STEP": "2"]))
        #expect(stepped.shard == Shard(index: 3, count: 4))
        // --array=3,7: count 2, min 3, task 7 → (7 − 3) = 4 is no shard of 2.
        #expect(throws: ShardError.self) { try Shard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_COUNT": "2", "SLURM_ARRAY_TASK_MIN": "3"]) }
        #expect(throws: ShardError.self) { try Shard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "1"]) }
        let k8s = try #require(try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "2", "CONVBANK_SHARD_COUNT": "3"]))
        #expect(k8s.shard == Shard(index: 2, count: 3))
        #expect(throws: ShardError.self) { try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "2"]) }
    }

    /// Names a run writes at the top of the output folder are never an input's folder.
    @Test func runFilesAreReserved() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reserved-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for name in ["manifest.jsonl.png", "index.html.png", "stats.csv.png", "plain.png"] {
            FileManager.default.createFile(atPath: dir.appendingPathComponent(name).path, contents: Data([0]))
        }
        let keys = InputCollection(arguments: [dir.path]).items.map(\.key).sorted()
        #expect(keys == ["index.html-2", "manifest.jsonl-2", "plain", "stats.csv-2"])
    }
}
