import ConvBankTestSupport
import Foundation
import Testing

/// Exit status 64 for usage errors (nothing processed), 1 when any input fails (the rest still processed),
/// one stderr line per problem naming the file.
@Suite("Exit codes and errors")
struct ErrorTests {
    static let goodBank = TestBank.single(name: "f", weights: [[[1, 2]]], bias: 1)

    struct BadBank: Sendable, CustomTestStringConvertible {
        var label: String, json: String
        /// Every one of these must be on the error line.
        var mentions: [String]
        var testDescription: String { label }
    }

    static let badBanks: [BadBank] = [
        BadBank(label: "malformed JSON", json: #"{"filters": [{"weights": [[1]]}"#,
                mentions: ["invalid JSON", "line 1, column 32"]),
        BadBank(label: "ragged weights", json: #"{"filters": [{"weights": [[[1, 1], [1]]]}]}"#,
                mentions: ["filters[0].weights[0][1]", "ragged"]),
        BadBank(label: "ragged channels", json: #"{"filters": [{"weights": [[[1, 1]], [[1, 1], [1, 1]]]}]}"#,
                mentions: ["filters[0].weights[1]"]),
        // JSON has no NaN; Python's json.dump writes it anyway. Column 32 is the N.
        BadBank(label: "NaN weight", json: #"{"filters": [{"weights": [[[1, NaN]]]}]}"#,
                mentions: ["NaN", "line 1, column 32"]),
        BadBank(label: "Infinity bias", json: #"{"filters": [{"weights": [[1]], "bias": -Infinity}]}"#,
                mentions: ["Infinity"]),
        BadBank(label: "weight beyond Float", json: #"{"filters": [{"weights": [[1, 1e39]]}]}"#,
                mentions: ["filters[0].weights[0][1]"]),
        BadBank(label: "stride 0", json: #"{"stride": 0, "filters": [{"weights": [[1]]}]}"#,
                mentions: ["stride"]),
        BadBank(label: "stride [2, 0]", json: #"{"stride": [2, 0], "filters": [{"weights": [[1]]}]}"#,
                mentions: ["stride[1]"]),
        BadBank(label: "channel counts differ", json: #"{"filters": [{"weights": [[1]]}, {"weights": [[[1]], [[1]]]}]}"#,
                mentions: ["filters[1].weights"]),
        BadBank(label: "unknown filter key", json: #"{"filters": [{"wieghts": [[1]]}]}"#,
                mentions: ["filters[0].wieghts"]),
        BadBank(label: "negative padding", json: #"{"padding": [1, 1, -1, 0], "filters": [{"weights": [[1]]}]}"#,
                mentions: ["padding[2]"]),
        BadBank(label: "unknown padding mode", json: #"{"padding_mode": "mirror", "filters": [{"weights": [[1]]}]}"#,
                mentions: ["padding_mode", "mirror"]),
        BadBank(label: "HWIO bias count", json: #"{"layout": "HWIO", "kernel": [[[[1, 2]]]], "bias": [0]}"#,
                mentions: ["bias"]),
        BadBank(label: "no filters", json: #"{"filters": []}"#, mentions: ["filters"]),
    ]

    @Test(arguments: badBanks)
    func badBankFileIsAUsageError(_ bad: BadBank) throws {
        try withTemporaryFolder { dir in
            let image = try dir.write("in/a.png", TestPNG.gray8([[1, 2, 3]])).path
            let bank = try dir.write("bad bank.json", text: bad.json).path
            let out = dir.file("out")
            let r = try CLI.run(["apply", image, "--bank", bank, "--output", out.path])
            #expect(r.status == 64, "\(r)")
            #expect(r.errorLines.count == 1, "\(r)")
            let line = r.errorLines.first ?? ""
            #expect(line.contains(bank), "the line names the bank file: \(line)")
            for mention in bad.mentions { #expect(line.contains(mention), "expected '\(mention)' in: \(line)") }
            #expect(r.stdout.isEmpty)
            #expect(entriesUnder(out).isEmpty, "nothing may be written for a bad bank")
            // summary and explain refuse it the same way.
            let s = try CLI.run(["summary", "--bank", bank])
            #expect(s.status == 64 && s.errorLines.count == 1 && s.stderr.contains(bank), "\(s)")
            let e = try CLI.run(["explain", "--bank", bank, image, "--at", "0,0"])
            #expect(e.status == 64 && e.errorLines.count == 1 && e.stderr.contains(bank), "\(e)")
        }
    }

    @Test func missingBankFileIsAUsageError() throws {
        try withTemporaryFolder { dir in
            let image = try dir.write("in/a.png", TestPNG.gray8([[1]])).path
            let bank = dir.file("nope.json").path
            let out = dir.file("out")
            let r = try CLI.run(["apply", image, "--bank", bank, "--output", out.path])
            #expect(r.status == 64, "\(r)")
            #expect(r.errorLines.count == 1 && r.stderr.contains(bank), "\(r)")
            #expect(entriesUnder(out).isEmpty)
            let unknown = try CLI.run(["apply", image, "--bank", "no-such-builtin", "--output", out.path])
            #expect(unknown.status == 64 && unknown.stderr.contains("no-such-builtin") && unknown.stderr.contains("edges"), "\(unknown)")
            #expect(entriesUnder(out).isEmpty)
        }
    }

    @Test(arguments: [
        ["--bogus"], ["--format", "gif"], ["--normalize", "log"], ["--jobs", "0"], ["--shard", "2/2"], ["--shard", "1"],
        ["--stride", "0"], ["--dilation", "a"], ["--padding", "1,2"], ["--padding", "-1"], ["--padding-mode", "mirror"],
        ["--png-level", "13"], ["--activation", "swishy"],
    ])
    func badFlagIsAUsageError(_ flag: [String]) throws {
        try withTemporaryFolder { dir in
            let image = try dir.write("in/a.png", TestPNG.gray8([[1]])).path
            let bank = try dir.write("b.json", text: Self.goodBank).path
            let out = dir.file("out")
            let r = try CLI.run(["apply", image, "--bank", bank, "--output", out.path] + flag)
            #expect(r.status == 64, "\(r)")
            #expect(!r.stderr.isEmpty)
            #expect(entriesUnder(out).isEmpty)
        }
    }

    @Test func unknownSubcommandAndMissingArgumentsAreUsageErrors() throws {
        #expect(try CLI.run(["frobnicate"]).status == 64)
        #expect(try CLI.run(["apply", "x.png", "--bank", "edges"]).status == 64)  // no --output
        #expect(try CLI.run(["apply", "--bank", "edges", "--output", "/nonexistent/out"]).status == 64)  // no input
        #expect(try CLI.run(["explain", "--bank", "edges", "x.png", "--at", "1"]).status == 64)
        #expect(try CLI.run(["banks", "nope"]).status == 64)
        #expect(try CLI.run(["summary", "--bank", "edges", "--input-size", "0,3"]).status == 64)
    }

    /// One good image among bad ones: exit 1, one line per bad file naming it, the good one complete, nothing
    /// at all for the bad ones.
    @Test func badInputsFailAloneAndLeaveNothing() throws {
        try withTemporaryFolder { dir in
            try dir.write("in/good.png", TestPNG.gray8([[1, 2, 3], [4, 5, 6]]))
            try dir.write("in/empty.png", [])
            let whole = TestPNG.encode(width: 16, height: 16, color: .rgb, bitDepth: 8,
                                       samples: SeededRandom.bytes(16 * 16 * 3, seed: 7).map(Int.init))
            try dir.write("in/truncated.png", Array(whole.prefix(whole.count / 2)))
            try dir.write("in/garbage.jpg", SeededRandom.bytes(300, seed: 42))
            try dir.write("in/junk-after-soi.JPG", [0xFF, 0xD8, 0xFF, 0xDB] + SeededRandom.bytes(300, seed: 3))
            let jpeg = try bytes(of: CLI.testdata.appendingPathComponent("jpeg/ycc411.jpg"))
            try dir.write("in/half.jpeg", Array(jpeg.prefix(jpeg.count / 2)))
            let bank = try dir.write("b.json", text: Self.goodBank).path
            let out = dir.file("out")
            let r = try CLI.run(["apply", dir.file("in").path, "--bank", bank, "--output", out.path, "--format", "npy", "--quiet"])
            #expect(r.status == 1, "\(r)")
            let bad = ["empty.png", "truncated.png", "garbage.jpg", "junk-after-soi.JPG", "half.jpeg"]
            #expect(r.errorLines.count == bad.count, "\(r)")
            for name in bad {
                #expect(r.errorLines.filter { $0.contains("/in/" + name) }.count == 1, "one line naming \(name)\n\(r)")
            }
            #expect(!r.stderr.contains("good.png"), "\(r)")
            // Only the good image's folder, complete: [1, 2] over [[1, 2, 3], [4, 5, 6]] + 1 → [[6, 9], [15, 18]].
            #expect(entriesUnder(out) == ["good", "good/f.npy"])
            let map = try Float32NPY(contentsOf: out.appendingPathComponent("good/f.npy"), rank: 2)
            #expect(map.shape == [2, 2] && map.values == [6, 9, 15, 18])
        }
    }

    @Test func withoutQuietTheTallyIsTheOnlyExtraLine() throws {
        try withTemporaryFolder { dir in
            try dir.write("in/good.png", TestPNG.gray8([[1, 2]]))
            try dir.write("in/empty.png", [])
            let bank = try dir.write("b.json", text: Self.goodBank).path
            let r = try CLI.run(["apply", dir.file("in").path, "--bank", bank, "--output", dir.file("out").path])
            #expect(r.status == 1, "\(r)")
            #expect(r.errorLines.count == 2, "\(r)")
            #expect(r.errorLines.filter { $0.contains("empty.png") }.count == 1, "\(r)")
        }
    }

    @Test func missingInputIsAnInputFailure() throws {
        try withTemporaryFolder { dir in
            let good = try dir.write("in/good.png", TestPNG.gray8([[1, 2]])).path
            let missing = dir.file("in/not-there.png").path
            let missingFolder = dir.file("no-folder").path
            let bank = try dir.write("b.json", text: Self.goodBank).path
            let out = dir.file("out")
            let alone = try CLI.run(["apply", missing, "--bank", bank, "--output", out.path, "--quiet"])
            #expect(alone.status == 1, "\(alone)")
            #expect(alone.errorLines.count == 1 && alone.stderr.contains(missing), "\(alone)")
            #expect(filesUnder(out).isEmpty)

            let mixed = try CLI.run(["apply", missing, good, missingFolder, "--bank", bank, "--output", out.path, "--format", "npy", "--quiet"])
            #expect(mixed.status == 1, "\(mixed)")
            #expect(mixed.errorLines.count == 2, "\(mixed)")
            #expect(mixed.errorLines.contains { $0.contains(missing) } && mixed.errorLines.contains { $0.contains(missingFolder) }, "\(mixed)")
            #expect(filesUnder(out) == ["good/f.npy"])
            #expect(try Float32NPY(contentsOf: out.appendingPathComponent("good/f.npy"), rank: 2).values == [6])
        }
    }

    /// A file is complete or absent: when an input that once succeeded now fails, its old maps go.
    @Test func failedRerunRemovesStaleMaps() throws {
        try withTemporaryFolder { dir in
            let image = try dir.write("in/x.png", TestPNG.gray8([[1, 2]]))
            let bank = try dir.write("b.json", text: Self.goodBank).path
            let out = dir.file("out")
            let first = try CLI.run(["apply", image.path, "--bank", bank, "--output", out.path, "--format", "npy"])
            #expect(first.status == 0 && filesUnder(out) == ["x/f.npy"], "\(first)")
            try dir.write("in/x.png", SeededRandom.bytes(40, seed: 9))
            let second = try CLI.run(["apply", image.path, "--bank", bank, "--output", out.path, "--format", "npy", "-q"])
            #expect(second.status == 1 && second.errorLines.count == 1, "\(second)")
            #expect(filesUnder(out).isEmpty)
        }
    }

    @Test func explainOnABadImageFails() throws {
        try withTemporaryFolder { dir in
            let image = try dir.write("bad.png", SeededRandom.bytes(20, seed: 1)).path
            let r = try CLI.run(["explain", "--bank", "edges", image, "--at", "0,0"])
            #expect(r.status == 1, "\(r)")
            #expect(r.errorLines.count == 1 && r.stderr.contains(image), "\(r)")
        }
    }
}
