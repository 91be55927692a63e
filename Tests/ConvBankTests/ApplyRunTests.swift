@testable import ConvBankBatch
@testable import ConvBankEngine
@testable import ConvBankImageIO
import Foundation
import Testing

/// `ApplyRun`, the library's whole `apply`, without the command line.
@Suite("ApplyRun")
struct ApplyRunTests {
    /// A fresh folder holding `a.png` (3×2, gray 0…5) and `sub/b.png` (2×2, gray 10, 20, 30, 40).
    func inputs() throws -> String {
        let root = NSTemporaryDirectory() + "applyrun-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + "/in/sub", withIntermediateDirectories: true)
        try Data(ImageCodec.encodePNG(gray8: [0, 1, 2, 3, 4, 5], width: 3, height: 2)).write(to: URL(fileURLWithPath: root + "/in/a.png"))
        try Data(ImageCodec.encodePNG(gray8: [10, 20, 30, 40], width: 2, height: 2)).write(to: URL(fileURLWithPath: root + "/in/sub/b.png"))
        return root
    }

    /// One 1×1 filter of weight 2 and bias 1: each map is 2·v + 1, hand-computed below.
    let bank = FilterBank(name: "double", filters: [Filter(name: "twice", kernel: Extent2D(1), channels: 1, weights: [2], bias: 1)])

    @Test func runsEveryInputAndWritesStatistics() throws {
        let root = try inputs()
        defer { try? FileManager.default.removeItem(atPath: root) }
        var settings = ApplySettings()
        settings.format = .npy
        let run = try ApplyRun(bank: bank, settings: settings, inputs: [root + "/in"], output: root + "/out", statistics: true)
        #expect(run.count() == 2)
        var reports: [ItemReport] = []
        let outcome = run.run { event in
            if let report = event.report { reports.append(report) }
            #expect(event.messages.isEmpty, "\(event.messages)")
        }
        #expect(outcome == ApplyRun.Outcome())
        #expect(reports.map(\.status) == [.ok, .ok])
        #expect(reports.map(\.item.key) == ["a", "sub/b"])
        let a = try NPYArray(bytes: Fixtures.bytes(URL(fileURLWithPath: root + "/out/a/twice.npy")))
        #expect(a.shape == [2, 3] && a.values == [1, 3, 5, 7, 9, 11])
        let stats = try String(contentsOfFile: root + "/out/stats.csv", encoding: .utf8)
        #expect(stats == """
            input,filter,min,max,mean,std,zero_fraction
            \(root)/in/a.png,twice,1.0,11.0,6.0,3.4156504,0.0
            \(root)/in/sub/b.png,twice,21.0,81.0,51.0,22.36068,0.0

            """)
    }

    @Test func refusesWhatCannotWork() throws {
        let root = try inputs()
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(throws: ApplyRun.SetupError.self) { try ApplyRun(bank: bank, settings: ApplySettings(), inputs: [root + "/in"], output: root + "/in") }
        var partials = ApplySettings()
        partials.partials = true
        let clashing = FilterBank(name: "clash", filters: [Filter(name: "f", kernel: Extent2D(1), channels: 1, weights: [1]),
                                                           Filter(name: "f.c0", kernel: Extent2D(1), channels: 1, weights: [1])])
        do {
            _ = try ApplyRun(bank: clashing, settings: partials, inputs: [root + "/in"], output: root + "/out")
            Issue.record("a partial map over a map was accepted")
        } catch {
            #expect(error == .usage("--partials would write 'f.c0' over the map of the filter of that name; rename the filter"))
        }
        let file = root + "/in/a.png"
        do {
            _ = try ApplyRun(bank: bank, settings: ApplySettings(), inputs: [root + "/in"], output: file + "/out")
            Issue.record("an output folder inside a file was accepted")
        } catch {
            guard case .failure = error else { Issue.record("\(error)"); return }
        }
        let sharded = try ApplyRun(bank: bank, settings: ApplySettings(), inputs: [root + "/in"], output: root + "/out",
                                   environment: ["SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_COUNT": "2"])
        #expect(sharded.shard == Shard(index: 1, count: 2) && sharded.shardSource != nil)
        #expect(sharded.runFiles.statistics != RunFiles(shard: nil).statistics)
    }
}
