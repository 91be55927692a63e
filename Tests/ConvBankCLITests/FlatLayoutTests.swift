import ConvBankImageIO
import ConvBankTestSupport
import Foundation
import Testing

/// `--layout flat`: `DIR/<relative path, extension dropped>.<filter>.<ext>`, or `DIR/<…>.<ext>` for a bank of one
/// map, so a folder run mirrors the input tree file for file; collisions as in `tree`; resume, shards, stale
/// temporaries, the gallery and the manifest follow the layout.
@Suite("Flat layout")
struct FlatLayoutTests {
    /// `id` copies the input, `twice` doubles it (1×1 one-channel filters).
    static let pair = LayoutTests.bank
    static let one = #"{"name": "one", "filters": [{"name": "id", "weights": [[1]]}]}"#

    func tree(_ dir: TemporaryFolder) throws {
        try dir.write("in/top.png", TestPNG.gray8([[1, 2], [3, 4]]))
        try dir.write("in/sub/img.png", TestPNG.gray8([[5, 6, 7]]))
        try dir.write("in/sub/deeper/shout.PNG", TestPNG.gray8([[8]]))
        // a.png beside a.jpg: each keeps its extension, as in a tree.
        try dir.write("in/pair/a.png", TestPNG.gray8([[9, 10]]))
        try dir.write("in/pair/a.jpg", TestPNG.gray8([[11]]))
        try dir.write("in/notes.txt", text: "not an image\n")
        try dir.write("in/.hidden.png", TestPNG.gray8([[1]]))
    }

    func npy(_ out: URL, _ relative: String) throws -> [Float] {
        try Float32NPY(contentsOf: out.appendingPathComponent(relative), rank: 2).values
    }

    @Test func nestedFoldersTwoMaps() throws {
        try withTemporaryFolder { dir in
            try tree(dir)
            let bank = try dir.write("pair.json", text: Self.pair).path
            let out = dir.file("out")
            let r = try CLI.run(["apply", dir.file("in").path, "--bank", bank, "-o", out.path, "--layout", "flat", "--format", "npy"])
            #expect(r.status == 0, "\(r)")
            let stems = ["pair/a.jpg", "pair/a.png", "sub/deeper/shout", "sub/img", "top"]
            #expect(filesUnder(out) == stems.flatMap { ["\($0).id.npy", "\($0).twice.npy"] }.sorted())
            #expect(try npy(out, "top.id.npy") == [1, 2, 3, 4])
            #expect(try npy(out, "top.twice.npy") == [2, 4, 6, 8])
            #expect(try npy(out, "sub/img.twice.npy") == [10, 12, 14])
            #expect(try npy(out, "sub/deeper/shout.id.npy") == [8])
            #expect(try npy(out, "pair/a.png.id.npy") == [9, 10])
            #expect(try npy(out, "pair/a.jpg.id.npy") == [11])
            // No folder per input: the only folders are those of the input tree.
            #expect(entriesUnder(out).filter { !$0.contains(".") } == ["pair", "sub", "sub/deeper"])
            // The manifest's keys and outputs follow the layout; each record sits beside its maps, hidden.
            let lines = try RunReport.manifest(out.appendingPathComponent("manifest.jsonl"))
            let top = try #require(lines.first { $0.key == "top" })
            #expect(top.outputs == ["top.id.npy", "top.twice.npy"])
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("sub/.img.convbank-record.json").path))
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(".top.convbank-record.json").path))
        }
    }

    @Test func oneFilterBankMirrorsTheTree() throws {
        try withTemporaryFolder { dir in
            try tree(dir)
            let bank = try dir.write("one.json", text: Self.one).path
            let out = dir.file("out"), pngOut = dir.file("png")
            var r = try CLI.run(["apply", dir.file("in").path, "--bank", bank, "--output", out.path, "--layout", "flat", "--format", "npy"])
            #expect(r.status == 0, "\(r)")
            #expect(filesUnder(out) == ["pair/a.jpg.npy", "pair/a.png.npy", "sub/deeper/shout.npy", "sub/img.npy", "top.npy"])
            #expect(try npy(out, "sub/img.npy") == [5, 6, 7])
            // As PNG: the input tree again, file for file (a.png beside a.jpg keep their extensions).
            r = try CLI.run(["apply", dir.file("in").path, "--bank", bank, "-o", pngOut.path, "--layout", "flat", "--sheet"])
            #expect(r.status == 0, "\(r)")
            #expect(filesUnder(pngOut) == ["pair/a.jpg.png", "pair/a.jpg.sheet.png", "pair/a.png.png", "pair/a.png.sheet.png",
                                           "sub/deeper/shout.png", "sub/deeper/shout.sheet.png", "sub/img.png", "sub/img.sheet.png",
                                           "top.png", "top.sheet.png"])
            #expect(try ImageCodec.decode(path: pngOut.appendingPathComponent("top.png").path).tensor.storage == [1, 2, 3, 4])
        }
    }

    @Test func fileArgumentsAndRepeatedStems() throws {
        try withTemporaryFolder { dir in
            try dir.write("d1/x.png", TestPNG.gray8([[1]]))
            try dir.write("d2/x.png", TestPNG.gray8([[2]]))
            try dir.write("d3/y.png", TestPNG.gray8([[3]]))
            try dir.write("d3/y.jpg", TestPNG.gray8([[4]]))
            let bank = try dir.write("one.json", text: Self.one).path
            let out = dir.file("out")
            let r = try CLI.run(["apply", dir.file("d1/x.png").path, dir.file("d2/x.png").path, dir.file("d3/y.png").path, dir.file("d3/y.jpg").path,
                                 "--bank", bank, "-o", out.path, "--layout", "flat", "--format", "npy"])
            #expect(r.status == 0, "\(r)")
            #expect(filesUnder(out) == ["x-2.npy", "x.npy", "y.jpg.npy", "y.png.npy"])
            #expect(try npy(out, "x.npy") == [1])
            #expect(try npy(out, "x-2.npy") == [2])
            #expect(try npy(out, "y.jpg.npy") == [4])
        }
    }

    /// Clashes only a flat layout has: a file standing where a folder goes, a map of one input that is a map of
    /// another, an input's map where another's sheet goes.
    @Test func flatCollisions() throws {
        try withTemporaryFolder { dir in
            // The folder `a.npy/` is walked first (byte order): `a.png`'s map would be the file `a.npy` → `a-2.npy`.
            try dir.write("in/a.npy/b.png", TestPNG.gray8([[1]]))
            try dir.write("in/a.png", TestPNG.gray8([[2]]))
            let one = try dir.write("one.json", text: Self.one).path
            let out = dir.file("out")
            var r = try CLI.run(["apply", dir.file("in").path, "--bank", one, "-o", out.path, "--layout", "flat", "--format", "npy"])
            #expect(r.status == 0, "\(r)")
            #expect(filesUnder(out) == ["a-2.npy", "a.npy/b.npy"])
            #expect(try npy(out, "a-2.npy") == [2])

            // Maps `c` and `b.c`: key `a.b` writes `a.b.c.npy` and `a.b.b.c.npy`; key `a` would write `a.b.c.npy` again.
            try dir.write("in2/a.b.png", TestPNG.gray8([[3]]))
            try dir.write("in2/a.png", TestPNG.gray8([[4]]))
            let dotted = try dir.write("dotted.json", text: #"{"filters": [{"name": "c", "weights": [[1]]}, {"name": "b.c", "weights": [[2]]}]}"#).path
            let out2 = dir.file("out2")
            r = try CLI.run(["apply", dir.file("in2").path, "--bank", dotted, "-o", out2.path, "--layout", "flat", "--format", "npy"])
            #expect(r.status == 0, "\(r)")
            #expect(filesUnder(out2) == ["a-2.b.c.npy", "a-2.c.npy", "a.b.b.c.npy", "a.b.c.npy"])
            #expect(try npy(out2, "a.b.c.npy") == [3])
            #expect(try npy(out2, "a-2.c.npy") == [4])

            // With --sheet: `x.sheet.png`'s one map would be `x.sheet.png`, where `x.png`'s sheet goes.
            try dir.write("in3/x.png", TestPNG.gray8([[5]]))
            try dir.write("in3/x.sheet.png", TestPNG.gray8([[6]]))
            let out3 = dir.file("out3")
            r = try CLI.run(["apply", dir.file("in3").path, "--bank", one, "-o", out3.path, "--layout", "flat", "--sheet"])
            #expect(r.status == 0, "\(r)")
            #expect(filesUnder(out3) == ["x.png", "x.sheet-2.png", "x.sheet-2.sheet.png", "x.sheet.png"])
            #expect(try ImageCodec.decode(path: out3.appendingPathComponent("x.png").path).tensor.storage == [5])
            #expect(try ImageCodec.decode(path: out3.appendingPathComponent("x.sheet-2.png").path).tensor.storage == [6])
        }
    }

    @Test func resumeSkipsCompleteOutputsAndRedoesMissingOnes() throws {
        try withTemporaryFolder { dir in
            try tree(dir)
            let bank = try dir.write("pair.json", text: Self.pair).path
            let out = dir.file("out")
            let args = ["apply", dir.file("in").path, "--bank", bank, "-o", out.path, "--layout", "flat"]
            var r = try CLI.run(args)
            #expect(r.status == 0, "\(r)")
            let first = try OutputTree.visibleFiles(out)
            let stamps = OutputTree.stamps(out)
            r = try CLI.run(args)
            #expect(r.status == 0, "\(r)")
            #expect(RunReport.summary(in: r.stderr)?.skipped == 5, "\(r)")
            #expect(OutputTree.stamps(out) == stamps)  // nothing rewritten
            // One map removed: only its input is redone.
            try FileManager.default.removeItem(at: out.appendingPathComponent("sub/img.twice.png"))
            r = try CLI.run(args)
            #expect(r.status == 0, "\(r)")
            let summary = try #require(RunReport.summary(in: r.stderr))
            #expect(summary.succeeded == 1 && summary.skipped == 4, "\(r)")
            #expect(try OutputTree.visibleFiles(out) == first)
            // A tree run into the same folder finds no tree records: it does all the work, beside the flat files.
            r = try CLI.run(["apply", dir.file("in").path, "--bank", bank, "-o", out.path])
            #expect(RunReport.summary(in: r.stderr)?.succeeded == 5, "\(r)")
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("top/id.png").path))
        }
    }

    @Test func staleTemporariesOfFlatFilesAreRemoved() throws {
        try withTemporaryFolder { dir in
            try tree(dir)
            let bank = try dir.write("pair.json", text: Self.pair).path
            let out = dir.file("out")
            // A dead process's temporaries of this run's files, and one of a file that is not convbank's.
            let dead = "2147483646"
            try dir.write("out/.top.id.png.tmp-\(dead)-1", [1])
            try dir.write("out/sub/.img.twice.png.tmp-\(dead)-7", [1])
            try dir.write("out/sub/..img.convbank-record.json.tmp-\(dead)-2", [1])
            try dir.write("out/.other.txt.tmp-\(dead)-1", [1])
            let r = try CLI.run(["apply", dir.file("in").path, "--bank", bank, "-o", out.path, "--layout", "flat"])
            #expect(r.status == 0, "\(r)")
            #expect(OutputTree.temporaryFiles(out) == [".other.txt.tmp-\(dead)-1"])
        }
    }

    @Test func shardsAreDisjointAndTheirUnionIsTheWholeRun() throws {
        try withTemporaryFolder { dir in
            try tree(dir)
            let bank = try dir.write("pair.json", text: Self.pair).path
            var r = try CLI.run(["apply", dir.file("in").path, "--bank", bank, "-o", dir.file("single").path, "--layout", "flat", "--format", "npy"])
            #expect(r.status == 0, "\(r)")
            var parts: [[String: [UInt8]]] = []
            for k in 0..<3 {
                r = try CLI.run(["apply", dir.file("in").path, "--bank", bank, "-o", dir.file("sharded").path, "--layout", "flat",
                                 "--format", "npy", "--shard", "\(k)/3", "--stats"])
                #expect(r.status == 0, "\(r)")
                parts.append(try OutputTree.visibleFiles(dir.file("sharded")))
            }
            let single = try OutputTree.visibleFiles(dir.file("single"))
            let sharded = try OutputTree.visibleFiles(dir.file("sharded")).filter { !$0.key.hasPrefix("stats.") }
            #expect(sharded == single)
        }
    }

    @Test func galleryAndStatisticsNameTheFlatFiles() throws {
        try withTemporaryFolder { dir in
            try tree(dir)
            let bank = try dir.write("pair.json", text: Self.pair).path
            let out = dir.file("out")
            let r = try CLI.run(["apply", dir.file("in").path, "--bank", bank, "-o", out.path, "--layout", "flat", "--gallery", "--stats", "--sheet"])
            #expect(r.status == 0, "\(r)")
            let html = String(decoding: try bytes(of: out.appendingPathComponent("index.html")), as: UTF8.self)
            let links = htmlAttributes("href", in: html) + htmlAttributes("src", in: html)
            #expect(links.contains("sub/img.twice.png"), "\(links)")
            #expect(links.contains("sub/img.sheet.png"), "\(links)")
            #expect(!links.contains { $0.contains("/id.png") || $0.contains("/twice.png") }, "\(links)")
            let csv = parseCSV(String(decoding: try bytes(of: out.appendingPathComponent("stats.csv")), as: UTF8.self))
            #expect(csv.count == 1 + 5 * 2)
        }
    }

    @Test func anInputInsideTheOutputFolderIsRefused() throws {
        try withTemporaryFolder { dir in
            try dir.write("out/a.png", TestPNG.gray8([[1]]))
            try dir.write("out/photos/b.png", TestPNG.gray8([[2]]))
            let bank = try dir.write("one.json", text: Self.one).path
            for input in ["out/a.png", "out/photos"] {
                let r = try CLI.run(["apply", dir.file(input).path, "--bank", bank, "-o", dir.file("out").path, "--layout", "flat"])
                #expect(r.status == 64, "\(r)")
                #expect(r.stderr.contains("inside --output"), "\(r)")
            }
            // The input is untouched; a tree run may still write beside it (into a folder per input).
            #expect(try ImageCodec.decode(path: dir.file("out/a.png").path).tensor.storage == [1])
            let r = try CLI.run(["apply", dir.file("out/photos").path, "--bank", bank, "-o", dir.file("out").path])
            #expect(r.status == 0, "\(r)")
        }
    }

    @Test func shortOutputOptionAndLayoutHelp() throws {
        let help = try CLI.run(["apply", "--help"])
        #expect(help.stdout.contains("-o, --output <dir>"), "\(help)")
        #expect(help.stdout.contains("--layout <layout>"), "\(help)")
        let bad = try CLI.run(["apply", "x.png", "--bank", "sobel", "-o", "out", "--layout", "mirror"])
        #expect(bad.status == 64, "\(bad)")
    }
}
