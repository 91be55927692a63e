import ConvBankBatch
import ConvBankEngine
import ConvBankImageIO
import ConvBankPictures
import ConvBankTestSupport
import Foundation
import Testing

/// "Never lose output", resume, the manifest, failure isolation for outputs, `kill -9` at random moments, and
/// progress/summary on stderr — all through the real binary.
@Suite("Resume, manifest, output failures, kill -9 and progress")
struct ResumeTests {
    /// Two 2×2 filters `f` and `g` on one channel (RGB inputs are seen as luma), `same` padding.
    static func bankJSON(_ f: [[Double]] = [[1, 0], [0, -1]], _ g: [[Double]] = [[0, 1], [-1, 0]]) -> String {
        func rows(_ w: [[Double]]) -> String { "[[" + w.map { "[" + $0.map(TestBank.number).joined(separator: ", ") + "]" }.joined(separator: ", ") + "]]" }
        return """
            {"name": "resume-test", "padding": "same", "padding_mode": "replicate", "activation": "linear",
             "filters": [{"name": "f", "weights": \(rows(f))}, {"name": "g", "weights": \(rows(g))}]}
            """
    }

    static func fixture(_ relative: String) throws -> [UInt8] { try bytes(of: CLI.testdata.appendingPathComponent(relative)) }

    /// Runs `convbank` and returns the result with its summary (failing the test when there is none).
    static func apply(_ arguments: [String], expectStatus: Int32? = 0,
                      sourceLocation: SourceLocation = #_sourceLocation) throws -> (CLI.Result, RunReport.Summary) {
        let result = try CLI.run(arguments, sourceLocation: sourceLocation)
        if let expectStatus { #expect(result.status == expectStatus, "\(result)", sourceLocation: sourceLocation) }
        let summary = try #require(RunReport.summary(in: result.stderr), "no summary line in\n\(result)", sourceLocation: sourceLocation)
        return (result, summary)
    }

    // MARK: - 1. Resume

    @Test("a rerun skips finished inputs; changed bytes, bank or settings, a missing map and --force redo")
    func resume() throws {
        try withTemporaryFolder { tmp in
            let names = ["a", "b", "c", "d", "e", "f"]
            for (i, name) in names.enumerated() {
                try tmp.write("in/\(name).png", TestPNG.photo(width: 24 + 4 * i, height: 40 - 2 * i, seed: UInt64(i + 1)))
            }
            let bank = try tmp.write("bank.json", text: Self.bankJSON())
            let out = tmp.file("out")
            let base = ["apply", tmp.file("in").path, "--bank", bank.path, "--output", out.path, "--normalize", "abs"]
            let manifestURL = out.appendingPathComponent("manifest.jsonl")
            var runs = 0
            /// Runs `base + extra`; checks the summary counts and that the run's manifest lines give `redone` as ok,
            /// the others as skipped.
            func run(_ extra: [String] = [], redone: Set<String>, _ comment: Comment,
                     sourceLocation: SourceLocation = #_sourceLocation) throws {
                let (result, summary) = try Self.apply(base + extra, sourceLocation: sourceLocation)
                runs += 1
                #expect(summary.counts == [6, redone.count, 6 - redone.count, 0], "\(comment)\n\(result)", sourceLocation: sourceLocation)
                let lines = try RunReport.manifest(manifestURL)
                #expect(lines.count == 6 * runs, "\(comment): one manifest line per input per run", sourceLocation: sourceLocation)
                let last = lines.suffix(6)
                #expect(Set(last.map(\.key)) == Set(names), "\(comment)", sourceLocation: sourceLocation)
                for line in last {
                    #expect(line.status == (redone.contains(line.key) ? "ok" : "skipped"), "\(comment): \(line.key)", sourceLocation: sourceLocation)
                }
            }

            try run(redone: Set(names), "first run")
            let first = try OutputTree.visibleFiles(out)
            let firstStamps = OutputTree.stamps(out)
            #expect(first.keys.sorted() == names.flatMap { ["\($0)/f.png", "\($0)/g.png"] })

            try run(redone: [], "second run, nothing changed")
            #expect(try OutputTree.visibleFiles(out) == first)
            #expect(OutputTree.stamps(out) == firstStamps, "a skipped input's maps must not be rewritten (inode and mtime unchanged)")
            let both = try RunReport.manifest(manifestURL)
            #expect(both.prefix(6).allSatisfy { $0.status == "ok" } && both.suffix(6).allSatisfy { $0.status == "skipped" })

            try run(["--jobs", "1"], redone: [], "--jobs does not change the outputs")
            // The same bytes written again (new mtime, new inode): still the same input.
            try tmp.write("in/b.png", try bytes(of: tmp.file("in/b.png")))
            try run(redone: [], "b.png rewritten with the same bytes")
            #expect(OutputTree.stamps(out) == firstStamps)

            // New bytes for c: only c is redone.
            try tmp.write("in/c.png", TestPNG.photo(width: 30, height: 30, seed: 99))
            try run(redone: ["c"], "c.png changed")
            let afterC = try OutputTree.visibleFiles(out)
            #expect(afterC["c/f.png"] != first["c/f.png"], "c's maps come from its new bytes")
            let stampsC = OutputTree.stamps(out)
            for (path, stamp) in firstStamps where !path.hasPrefix("c/") { #expect(stampsC[path] == stamp, "\(path) was rewritten") }

            // A missing map: that input is redone, and the map comes back the same.
            try FileManager.default.removeItem(at: out.appendingPathComponent("d/g.png"))
            try run(redone: ["d"], "d/g.png deleted")
            #expect(try OutputTree.visibleFiles(out) == afterC)

            // Other normalization: all redone; again: all skipped; back: all redone, to the same bytes.
            try run(["--normalize", "minmax"], redone: Set(names), "--normalize minmax")
            #expect(try OutputTree.visibleFiles(out) != afterC)
            try run(["--normalize", "minmax"], redone: [], "--normalize minmax again")
            try run(redone: Set(names), "back to --normalize abs")
            #expect(try OutputTree.visibleFiles(out) == afterC)

            // Another bank under the same file name and filter names: all redone.
            try tmp.write("bank.json", text: Self.bankJSON([[0, 0], [1, -1]], [[1, 1], [-1, -1]]))
            try run(redone: Set(names), "the bank file's weights changed")
            let otherBank = try OutputTree.visibleFiles(out)
            #expect(otherBank.keys.sorted() == afterC.keys.sorted())
            #expect(otherBank != afterC)
            try run(["--stride", "2"], redone: Set(names), "--stride 2 overrides the bank")
            try run(["--stride", "2"], redone: [], "--stride 2 again")

            // --force: all redone, every map rewritten (new inode), to the same bytes.
            let before = OutputTree.stamps(out)
            let beforeTree = try OutputTree.visibleFiles(out)
            try run(["--stride", "2", "--force"], redone: Set(names), "--force")
            #expect(try OutputTree.visibleFiles(out) == beforeTree)
            let after = OutputTree.stamps(out)
            for (path, stamp) in before { #expect(after[path] != stamp, "--force left \(path) untouched") }
            #expect(OutputTree.temporaryFiles(out).isEmpty)
        }
    }

    // MARK: - 2. Manifest

    @Test("manifest lines: every field, failures naming the file; --shard K/N writes its own manifest")
    func manifestContent() throws {
        try withTemporaryFolder { tmp in
            let good: [String: (w: Int, h: Int)] = ["a.png": (24, 24), "sub/b.png": (40, 32)]
            for (i, (name, size)) in good.sorted(by: { $0.key < $1.key }).enumerated() {
                try tmp.write("in/\(name)", TestPNG.photo(width: size.w, height: size.h, seed: UInt64(10 + i)))
            }
            try tmp.write("in/c.jpg", try Self.fixture("jpeg/ycc420_odd_restart.jpg"))  // 157×121
            try tmp.write("in/empty.png", [])
            try tmp.write("in/junk.jpg", SeededRandom.bytes(300, seed: 7))
            let png = TestPNG.photo(width: 32, height: 32, seed: 3)
            try tmp.write("in/trunc.png", Array(png.prefix(png.count / 2)))
            let bank = try tmp.write("bank.json", text: Self.bankJSON())
            let out = tmp.file("out")
            let arguments = ["apply", tmp.file("in").path, "--bank", bank.path, "--output", out.path]

            let (result, summary) = try Self.apply(arguments, expectStatus: 1)
            #expect(summary.counts == [6, 3, 0, 3])
            let errors = result.errorLines.filter { $0.hasPrefix("convbank: error: ") }
            #expect(errors.count == 3, "\(result)")

            let lines = try RunReport.manifest(out.appendingPathComponent("manifest.jsonl"))
            #expect(lines.count == 6)
            let pixels = ["a": 24 * 24, "sub/b": 40 * 32, "c": 157 * 121]
            for line in lines {
                let o = line.object
                for field in ["input", "key", "status", "outputs", "error", "input_sha256", "megapixels", "seconds"] {
                    #expect(o[field] != nil, "manifest line of \(line.key) lacks '\(field)'")
                }
                let seconds = o["seconds"] as? [String: Any] ?? [:]
                for stage in ["read", "decode", "convolve", "encode"] {
                    let value = (seconds[stage] as? NSNumber)?.doubleValue ?? -1
                    #expect(value >= 0 && value < 60, "\(line.key): seconds.\(stage) = \(String(describing: seconds[stage]))")
                }
                #expect(o["megapixels"] is NSNumber)
                #expect(FileManager.default.fileExists(atPath: line.input), "input '\(line.input)' names no file")
                if let sha = o["input_sha256"] as? String {
                    #expect(sha == SHA256.hex(try bytes(of: URL(fileURLWithPath: line.input))), "\(line.key)")
                } else {
                    #expect(line.status == "failed", "only a failure may lack input_sha256")
                }
                if let size = pixels[line.key] {
                    #expect(line.status == "ok")
                    #expect(line.error == nil && o["error"] is NSNull)
                    #expect(line.outputs.sorted() == ["\(line.key)/f.png", "\(line.key)/g.png"])
                    for output in line.outputs { #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(output).path)) }
                    #expect(approximatelyEqual((o["megapixels"] as? NSNumber)?.doubleValue ?? -1, Double(size) / 1e6))
                } else {
                    #expect(line.status == "failed", "\(line.key)")
                    #expect(line.outputs.isEmpty)
                    let error = try #require(line.error, "failure of \(line.key) without error text")
                    #expect(error.contains((line.input as NSString).lastPathComponent), "error does not name the file: \(error)")
                    #expect(errors.contains("convbank: error: \(error)"), "the manifest's error is the stderr line: \(error)")
                    #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent(line.key).path))
                }
            }
            #expect(Set(lines.map(\.key)) == ["a", "sub/b", "c", "empty", "junk", "trunc"])

            // A rerun appends: good inputs skipped, bad ones failed again.
            let (_, again) = try Self.apply(arguments, expectStatus: 1)
            #expect(again.counts == [6, 0, 3, 3])
            let twice = try RunReport.manifest(out.appendingPathComponent("manifest.jsonl"))
            #expect(twice.count == 12)
            for line in twice.suffix(6) { #expect(line.status == (pixels[line.key] != nil ? "skipped" : "failed"), "\(line.key)") }

            // Shards: one manifest each, disjoint, together every input.
            let sharded = tmp.file("sharded")
            var keys: [String] = []
            for k in 0..<2 {
                let (_, s) = try Self.apply(["apply", tmp.file("in").path, "--bank", bank.path, "--output", sharded.path, "--shard", "\(k)/2"],
                                            expectStatus: nil)
                let shardLines = try RunReport.manifest(sharded.appendingPathComponent("manifest.shard-\(k)-of-2.jsonl"))
                #expect(!shardLines.isEmpty && shardLines.count == s.inputs, "manifest.shard-\(k)-of-2.jsonl")
                keys += shardLines.map(\.key)
            }
            #expect(!FileManager.default.fileExists(atPath: sharded.appendingPathComponent("manifest.jsonl").path))
            #expect(keys.sorted() == ["a", "c", "empty", "junk", "sub/b", "trunc"])
        }
    }

    // MARK: - 3. Output failures

    @Test("an output folder that cannot be made fails that input only")
    func outputFolderBlocked() throws {
        try withTemporaryFolder { tmp in
            for (i, name) in ["a", "b", "c"].enumerated() { try tmp.write("in/\(name).png", TestPNG.photo(width: 24, height: 28, seed: UInt64(40 + i))) }
            let bank = try tmp.write("bank.json", text: Self.bankJSON())
            let out = tmp.file("out")
            try tmp.write("out/b", text: "in the way\n")  // a file where the folder out/b must go
            let (result, summary) = try Self.apply(["apply", tmp.file("in").path, "--bank", bank.path, "--output", out.path,
                                                    "--normalize", "abs"], expectStatus: 1)
            #expect(summary.counts == [3, 2, 0, 1])
            let errors = result.errorLines.filter { !$0.contains(" inputs: ") }
            #expect(errors.count == 1, "one line for the one failure\n\(result)")
            #expect(errors.first?.contains(out.appendingPathComponent("b").path) == true, "\(result)")
            #expect(try bytes(of: out.appendingPathComponent("b")) == Array("in the way\n".utf8))
            for name in ["a", "c"] {
                for filter in ["f", "g"] {
                    #expect(throws: Never.self) { try ImageCodec.decode(path: out.appendingPathComponent("\(name)/\(filter).png").path) }
                }
            }
            let lines = try RunReport.manifest(out.appendingPathComponent("manifest.jsonl"))
            #expect(lines.map(\.status) == ["ok", "failed", "ok"])
            #expect(lines.first { $0.key == "b" }?.error?.contains(out.appendingPathComponent("b").path) == true)
            #expect(OutputTree.temporaryFiles(out).isEmpty)
        }
    }

    /// Whether a tmpfs can be mounted here (root in a sandbox that allows it): mounts and unmounts one.
    static let canMountTmpfs: Bool = {
        let probe = FileManager.default.temporaryDirectory.appendingPathComponent("convbank-mount-probe-\(UUID().uuidString)")
        guard (try? FileManager.default.createDirectory(at: probe, withIntermediateDirectories: true)) != nil else { return false }
        defer { try? FileManager.default.removeItem(at: probe) }
        guard ProcessRunner.status("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe.path]) == 0 else { return false }
        return ProcessRunner.status("/bin/umount", [probe.path]) == 0
    }()

    /// Disk full, simulated by a 64 KiB tmpfs as the output folder. Needs `mount` (root, and a sandbox that allows
    /// it); where mounting is not possible this test is disabled — nothing else depends on it.
    @Test("disk full: the input whose maps do not fit fails, leaves nothing behind, later inputs go on",
          .enabled(if: Self.canMountTmpfs, "cannot mount a tmpfs here (needs root and a sandbox allowing mount)"))
    func diskFull() throws {
        try withTemporaryFolder { tmp in
            try tmp.write("in/a-big.png", TestPNG.photo(width: 256, height: 256, seed: 5))  // each map 64 KiB + headers at --png-level 0
            try tmp.write("in/b-small.png", TestPNG.photo(width: 24, height: 24, seed: 6))
            try tmp.write("in/c-small.png", TestPNG.photo(width: 24, height: 24, seed: 7))
            let bank = try tmp.write("bank.json", text: Self.bankJSON())
            let out = tmp.file("out")
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            try #require(ProcessRunner.status("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", out.path]) == 0)
            defer { ProcessRunner.status("/bin/umount", [out.path]) }
            let (result, summary) = try Self.apply(["apply", tmp.file("in").path, "--bank", bank.path, "--output", out.path,
                                                    "--png-level", "0", "--normalize", "abs"], expectStatus: 1)
            #expect(summary.counts == [3, 2, 0, 1], "\(result)")
            let errors = result.errorLines.filter { !$0.contains(" inputs: ") }
            #expect(errors.count == 1 && errors[0].contains("a-big") && errors[0].contains("No space left on device"), "\(result)")
            let left = filesUnder(out, includingBookkeeping: true)
            #expect(left.filter { $0.hasPrefix("a-big/") }.isEmpty, "a failed input left files: \(left)")
            #expect(OutputTree.temporaryFiles(out).isEmpty, "temporary files left on a full disk: \(left)")
            let lines = try RunReport.manifest(out.appendingPathComponent("manifest.jsonl"))
            #expect(lines.map(\.status) == ["failed", "ok", "ok"], "the manifest names the failure")
            #expect(lines.first?.error?.contains("a-big") == true)
            for name in ["b-small", "c-small"] {
                for filter in ["f", "g"] {
                    #expect(throws: Never.self) { try ImageCodec.decode(path: out.appendingPathComponent("\(name)/\(filter).png").path) }
                }
            }
        }
    }

    // MARK: - 4. kill -9

    /// ~150 small images with 15 bad files among them; a clean run into REF; then runs into OUT killed with SIGKILL at
    /// seeded random moments, each restarted with the same command (so it resumes), and a last run to the end.
    @Test("kill -9 at random moments leaves only complete files; resuming ends with exactly a clean run's outputs")
    func killAndResume() throws {
        try withTemporaryFolder { tmp in
            var bad: Set<String> = []
            let png = TestPNG.photo(width: 40, height: 40, seed: 1234)
            let jpeg = try Self.fixture("jpeg/ycc440.jpg")
            for i in 0..<150 {
                let name = i % 3 == 0 ? "set\(i % 4)/img-\(String(format: "%03d", i)).png" : "img-\(String(format: "%03d", i)).png"
                try tmp.write("in/" + name, TestPNG.photo(width: 24 + (i * 7) % 41, height: 24 + (i * 13) % 41, seed: UInt64(1000 + i)))
                if i % 10 == 5 {  // a bad file next to every tenth image
                    let stem = "in/" + (i % 3 == 0 ? "set\(i % 4)/" : "") + "img-\(String(format: "%03d", i))-bad"
                    switch (i / 10) % 4 {
                    case 0: try tmp.write(stem + ".png", [])
                    case 1: try tmp.write(stem + ".png", Array(png.prefix(png.count * 3 / 5)))
                    case 2: try tmp.write(stem + ".jpg", SeededRandom.bytes(500 + i, seed: UInt64(i)))
                    default: try tmp.write(stem + ".jpg", Array(jpeg.prefix(jpeg.count * 2 / 5)))
                    }
                    bad.insert(stem)
                }
            }
            for (k, fixture) in ["jpeg/ycc420_odd_restart.jpg", "jpeg/gray_progressive.jpg"].enumerated() {
                try tmp.write("in/photo-\(k).jpg", try Self.fixture(fixture))
            }
            #expect(bad.count == 15)
            let inputCount = 150 + 15 + 2
            let bank = try tmp.write("bank.json", text: Self.bankJSON())
            let ref = tmp.file("REF"), out = tmp.file("OUT")
            func command(_ output: URL) -> [String] { ["apply", tmp.file("in").path, "--bank", bank.path, "--output", output.path, "--jobs", "2"] }
            /// Whether a manifest input path is one of the bad files.
            func isBad(_ input: String) -> Bool {
                let stem = (input as NSString).deletingPathExtension
                return bad.contains { stem.hasSuffix("/" + $0) }
            }

            let clock = ContinuousClock()
            let start = clock.now
            let (refResult, refSummary) = try Self.apply(command(ref), expectStatus: 1)
            let refDuration = clock.now - start
            #expect(refSummary.counts == [inputCount, inputCount - 15, 0, 15], "\(refResult)")
            let reference = try OutputTree.visibleFiles(ref)
            #expect(reference.count == 2 * (inputCount - 15))
            #expect(OutputTree.temporaryFiles(ref).isEmpty)
            let refFailures = Set(try RunReport.manifest(ref.appendingPathComponent("manifest.jsonl")).filter { $0.status == "failed" }.map(\.input))
            #expect(refFailures.count == 15 && refFailures.allSatisfy(isBad), "the clean run's failures: \(refFailures.sorted())")

            // Kill moments, seeded. A whole run lasts under a second in a debug build and a resumed run skips the
            // finished prefix fast, so a fixed 50–400 ms would often come after the end: round 0 sleeps 50–400 ms
            // (at most 40 % of the clean run) after the spawn; the others wait until the run's manifest reaches a
            // random input beyond the furthest any run got (spread over the rest of the inputs), then 0–10 ms more.
            var random = SeededRandom(seed: 20_240_611)
            let manifestURL = out.appendingPathComponent("manifest.jsonl")
            let refMilliseconds = Int(Double(refDuration.components.seconds) * 1000 + Double(refDuration.components.attoseconds) / 1e15)
            var landed = 0
            var tempsSeen: [String] = []
            var reached = 0
            let rounds = 6
            for round in 0..<rounds {
                let linesBefore = RunReport.lineCount(manifestURL)
                let process = try CLI.start(command(out))
                if round == 0 {
                    Thread.sleep(forTimeInterval: Double(50 + random.below(max(1, min(351, refMilliseconds * 4 / 10 - 50)))) / 1000)
                } else {
                    let target = min(reached + 4 + random.below(max(1, (inputCount - 10 - reached) / (rounds - round))), inputCount - 3)
                    let deadline = Date().addingTimeInterval(10)
                    while process.isRunning, RunReport.lineCount(manifestURL) - linesBefore < target, Date() < deadline {
                        Thread.sleep(forTimeInterval: 0.001)
                    }
                    Thread.sleep(forTimeInterval: Double(random.below(11)) / 1000)
                }
                process.kill(SIGKILL)
                let ended = process.wait()
                if ended.signal != nil { landed += 1 }
                reached = max(reached, RunReport.lineCount(manifestURL) - linesBefore)
                // Every visible file is complete: it decodes and equals the clean run's, byte for byte.
                for (path, content) in try OutputTree.visibleFiles(out) {
                    #expect(reference[path] == content, "after kill \(round): \(path) differs from the clean run's (or is not in it)")
                    #expect(throws: Never.self, "after kill \(round): \(path) does not decode") {
                        try ImageCodec.decode(path: out.appendingPathComponent(path).path)
                    }
                }
                // A record vouches only for complete outputs.
                for relative in filesUnder(out, includingBookkeeping: true) where relative.hasSuffix("/.convbank-record.json") {
                    let record = try JSONDecoder().decode(RunRecord.self, from: Data(contentsOf: out.appendingPathComponent(relative)))
                    for output in record.outputs {
                        #expect((try? bytes(of: out.appendingPathComponent(output))) == reference[output], "after kill \(round): \(relative) lists \(output)")
                    }
                }
                tempsSeen += OutputTree.temporaryFiles(out)
            }
            // A kill lands mid-run only when the run lasts longer than the sleep; the clean run took `refDuration`.
            #expect(landed >= rounds - 1, "only \(landed) of \(rounds) kills landed mid-run (the clean run took \(refDuration))")

            let (final, finalSummary) = try Self.apply(command(out), expectStatus: 1)
            #expect(finalSummary.inputs == inputCount && finalSummary.failed == 15 && finalSummary.succeeded + finalSummary.skipped == inputCount - 15,
                    "\(final)")
            let result = try OutputTree.visibleFiles(out)
            #expect(result.keys.sorted() == reference.keys.sorted(), "OUT holds other files than REF")
            #expect(result == reference, "OUT's maps differ from REF's")
            let leftovers = OutputTree.temporaryFiles(out)
            #expect(leftovers.isEmpty, "temporary files left after the last, complete run: \(leftovers) (seen after kills: \(tempsSeen))")

            // The manifest: the last status of every input; every bad file failed, with an error naming it.
            let lines = try RunReport.manifest(out.appendingPathComponent("manifest.jsonl"))
            var last: [String: RunReport.ManifestLine] = [:]
            for line in lines { last[line.input] = line }
            #expect(last.count == inputCount)
            for (input, line) in last {
                if isBad(input) {
                    #expect(line.status == "failed", "\(input)")
                    #expect(line.error?.contains((input as NSString).lastPathComponent) == true, "\(input): \(line.error ?? "no error")")
                } else {
                    #expect(line.status == "ok" || line.status == "skipped", "\(input): \(line.status) \(line.error ?? "")")
                }
            }
            #expect(Set(last.values.filter { $0.status == "failed" }.map(\.input)) == refFailures)
            #expect(lines.suffix(inputCount).map(\.input).sorted() == last.keys.sorted(), "the last run names every input")
        }
    }

    /// What a kill between creating a temporary file and renaming it leaves behind (the kill test hits that window
    /// only by chance): the input has no record, so the next run redoes it, and should not leave the stale
    /// `.NAME.tmp-PID-RANDOM` of the killed process behind.
    @Test("a stale temporary file of a killed run is gone after the input is redone")
    func staleTemporaryFile() throws {
        try withTemporaryFolder { tmp in
            try tmp.write("in/a.png", TestPNG.photo(width: 24, height: 24, seed: 1))
            try tmp.write("in/b.png", TestPNG.photo(width: 24, height: 24, seed: 2))
            let bank = try tmp.write("bank.json", text: Self.bankJSON())
            let out = tmp.file("out")
            let arguments = ["apply", tmp.file("in").path, "--bank", bank.path, "--output", out.path]
            _ = try Self.apply(arguments)
            let complete = try OutputTree.visibleFiles(out)
            // As a kill -9 while writing a/g.png leaves it: a/f.png done, g's temporary file half written, no record.
            try FileManager.default.removeItem(at: out.appendingPathComponent("a/.convbank-record.json"))
            try FileManager.default.removeItem(at: out.appendingPathComponent("a/g.png"))
            let stale = ".g.png.tmp-4194000-123456789"
            try tmp.write("out/a/" + stale, Array(complete["a/g.png"]!.prefix(40)))
            let (_, summary) = try Self.apply(arguments)
            #expect(summary.counts == [2, 1, 1, 0])
            #expect(try OutputTree.visibleFiles(out) == complete)
            #expect(OutputTree.temporaryFiles(out).isEmpty, "the killed run's temporary file is still there: \(OutputTree.temporaryFiles(out))")
        }
    }

    /// The README offers `--shard K/N` for Slurm job arrays, whose tasks run at the same time into one output folder.
    /// Cleaning up after killed runs must not delete the temporary file another live run is about to rename:
    /// contact sheets (`DIR/<key>.sheet.png`) of both shards share a folder.
    @Test("two shards running at once into one folder do not break each other's writes")
    func concurrentShards() throws {
        try withTemporaryFolder { tmp in
            for i in 0..<200 { try tmp.write("in/s\(String(format: "%03d", i)).png", TestPNG.photo(width: 24, height: 24, seed: UInt64(500 + i))) }
            let bank = try tmp.write("bank.json", text: Self.bankJSON())
            let out = tmp.file("out")
            let runs = try (0..<2).map { k in
                try CLI.start(["apply", tmp.file("in").path, "--bank", bank.path, "--output", out.path, "--normalize", "abs",
                               "--sheet", "--shard", "\(k)/2", "--jobs", "1"])
            }
            let ended = runs.map { $0.wait() }
            for (k, end) in ended.enumerated() {
                let errors = end.stderrText.split(separator: "\n").filter { $0.contains("error") }
                #expect(end.exitCode == 0 && errors.isEmpty,
                        "shard \(k)/2 \(end.summary), \(errors.count) errors, first: \(errors.first ?? "none")")
            }
            #expect(try OutputTree.visibleFiles(out).count == 200 * 3, "every input's two maps and sheet")
            #expect(OutputTree.temporaryFiles(out).isEmpty)
        }
    }

    /// The deterministic half of the test above: a temporary file of a process that is still running (this test
    /// process) for a file this run does not write is not stale, and must survive the run's clean-up.
    @Test("a live process's temporary file in a shared folder survives another run's clean-up")
    func liveTemporaryFileSurvives() throws {
        try withTemporaryFolder { tmp in
            for i in 0..<4 { try tmp.write("in/s\(i).png", TestPNG.photo(width: 24, height: 24, seed: UInt64(600 + i))) }
            let bank = try tmp.write("bank.json", text: Self.bankJSON())
            let out = tmp.file("out")
            let live = ".other.sheet.png.tmp-\(getpid())-12345"  // as another shard's AtomicFile names it mid-write
            try tmp.write("out/" + live, [0x89, 0x50, 0x4E, 0x47])
            _ = try Self.apply(["apply", tmp.file("in").path, "--bank", bank.path, "--output", out.path, "--normalize", "abs",
                                "--sheet", "--shard", "0/2"])
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(live).path),
                    "the run deleted \(live), the temporary file of a live process (pid \(getpid()))")
        }
    }

    // MARK: - 5. Progress

    @Test("not a terminal: a short run prints just the summary; --quiet prints nothing but errors")
    func progressNotATerminal() throws {
        try withTemporaryFolder { tmp in
            for i in 0..<4 { try tmp.write("in/p\(i).png", TestPNG.photo(width: 64, height: 48, seed: UInt64(70 + i))) }
            let bank = try tmp.write("bank.json", text: Self.bankJSON())
            // --normalize abs: the default clamp would add a clipping warning line.
            let arguments = ["apply", tmp.file("in").path, "--bank", bank.path, "--normalize", "abs"]

            let (result, summary) = try Self.apply(arguments + ["--output", tmp.file("out1").path])
            #expect(result.errorLines.count == 1, "only the summary line\n\(result)")
            #expect(result.stdout.isEmpty)
            let line = result.errorLines.first ?? ""
            #expect(line.wholeMatch(of: #/convbank: 4 inputs: 4 succeeded, 0 skipped, 0 failed; \d+\.\d MP in \d+\.\d\d s \(\d+\.\d MP\/s\)/#) != nil, "\(line)")
            #expect(summary.megapixels == 0.0, "4 × 64×48 = 0.012 MP prints as 0.0")
            #expect(!result.stderr.contains("\r"))

            let quiet = try CLI.run(arguments + ["--output", tmp.file("out2").path, "--quiet"])
            #expect(quiet.status == 0 && quiet.stderr.isEmpty && quiet.stdout.isEmpty, "\(quiet)")
            let quietSkip = try CLI.run(arguments + ["--output", tmp.file("out2").path, "-q"])
            #expect(quietSkip.status == 0 && quietSkip.stderr.isEmpty, "\(quietSkip)")

            try tmp.write("in/zz-empty.png", [])
            let quietFail = try CLI.run(arguments + ["--output", tmp.file("out3").path, "--quiet"])
            #expect(quietFail.status == 1)
            #expect(quietFail.errorLines.count == 1 && quietFail.errorLines[0].hasPrefix("convbank: error: ")
                    && quietFail.errorLines[0].contains("zz-empty.png"), "\(quietFail)")
        }
    }

    @Test("on a terminal: a live line redrawn with \\r, then the summary; --quiet prints nothing")
    func progressOnATerminal() throws {
        try withTemporaryFolder { tmp in
            for i in 0..<6 { try tmp.write("in/t\(i).png", TestPNG.photo(width: 32, height: 32, seed: UInt64(80 + i))) }
            let bank = try tmp.write("bank.json", text: Self.bankJSON())
            let arguments = ["apply", tmp.file("in").path, "--bank", bank.path]
            guard let run = try CLI.runInPseudoTerminal(arguments + ["--output", tmp.file("out1").path]) else {
                // util-linux `script` is missing: nothing can give the binary a terminal here.
                return
            }
            #expect(run.status == 0, "\(run.output)")
            let redraws = run.output.components(separatedBy: "\r\u{1B}[K").dropFirst()
            #expect(redraws.contains { $0.hasPrefix("convbank: ") && $0.contains("inputs,") && $0.contains("MP/s") },
                    "no live progress line in \(run.output.debugDescription)")
            #expect(run.output.contains("6/6 inputs,"), "the live line reaches the end: \(run.output.debugDescription)")
            #expect(RunReport.summary(in: run.output)?.counts == [6, 6, 0, 0], "\(run.output.debugDescription)")

            let quiet = try #require(try CLI.runInPseudoTerminal(arguments + ["--output", tmp.file("out2").path, "--quiet"]))
            #expect(quiet.status == 0)
            #expect(quiet.output.isEmpty, "--quiet on a terminal: \(quiet.output.debugDescription)")
        }
    }
}
