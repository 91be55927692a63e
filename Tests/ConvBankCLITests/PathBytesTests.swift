import ConvBankBatch
import ConvBankEngine
import ConvBankImageIO
import ConvBankPictures
import ConvBankTestSupport
import Foundation
import Testing

/// Paths are bytes end to end: names that are not UTF-8 are inputs like any other and their outputs carry the same
/// bytes; every path a walk meets is processed or named on stderr and in the manifest (dangling links, paths
/// longer than PATH_MAX, a file met again through the same path); hard links are inputs of their own.
@Suite("Path bytes")
struct PathBytesTests {
    typealias B = PathBytes

    static let bank = #"{"filters": [{"name": "f", "weights": [[1]]}]}"#
    static let image = TestPNG.gray8([[4, 8]])

    static func manifest(_ out: URL, _ name: String = "manifest.jsonl") throws -> [RunReport.ManifestLine] {
        let raw = try bytes(of: out.appendingPathComponent(name))
        #expect(String(validating: raw, as: UTF8.self) != nil, "the manifest is not valid UTF-8")
        return try RunReport.manifest(out.appendingPathComponent(name))  // throws on a line that is not a JSON object
    }

    // MARK: - Lossless names

    @Test("bytes → string → bytes is exact; UTF-8 names are unchanged; display escapes the rest")
    func losslessConversion() {
        let cases: [[UInt8]] = [
            B.bytes("caf%E9.png"), Array("café.png".utf8), Array("e\u{301}.png".utf8), [0xFF, 0xFE, 0x80],
            [0xF4, 0x8F, 0xBF, 0xA9],  // valid UTF-8 of U+10FFE9, inside the escape range: escaped byte by byte
            [0xF4, 0x8F, 0xBE, 0x80], [0xF4, 0x8F, 0xBD, 0xBF],  // the first escaped scalar, and the one before the range
            [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0xF0, 0x9F, 0x98, 0x80], [0xF5, 0x80, 0x80, 0x80],
        ]
        var random = SeededRandom(seed: 77)
        var all = cases
        for _ in 0..<300 { all.append((0..<(1 + random.below(12))).map { _ in UInt8(random.below(255) + 1) }) }
        for raw in all {
            let text = FileSystem.string(fromBytes: raw)
            #expect(FileSystem.bytes(of: text) == raw, "\(raw)")
            if let valid = String(validating: raw, as: UTF8.self), !valid.unicodeScalars.contains(where: { $0.value >= 0x10FF80 }) {
                #expect(Array(text.utf8) == Array(valid.utf8), "a valid UTF-8 name must stay the same string")
            }
        }
        #expect(FileSystem.display(FileSystem.string(fromBytes: B.bytes("caf%E9.png"))) == #"caf\xE9.png"#)
        #expect(FileSystem.display(FileSystem.string(fromBytes: [0xF4, 0x8F, 0xBF, 0xA9])) == #"\xF4\x8F\xBF\xA9"#)
        #expect(FileSystem.display("plain é") == "plain é")
    }

    @Test("--shard hashes the relative path's bytes: UTF-8 names keep their shard, other names hash as themselves")
    func shardHashesRawBytes() {
        for name in ["a.png", "sub/b.jpg", "café.png"] {
            let item = InputItem(path: name, key: "", relative: name)
            for n in 1...5 { #expect(Shard(index: Int(fnv1a64(Array(name.utf8)) % UInt64(n)), count: n)!.contains(item)) }
        }
        let raw = B.bytes("sub%E9/caf%E9.png")
        let item = InputItem(path: "", key: "", relative: FileSystem.string(fromBytes: raw))
        for n in 1...5 { #expect(Shard(index: Int(fnv1a64(raw) % UInt64(n)), count: n)!.contains(item)) }
    }

    // MARK: - Names that are not UTF-8

    @Test("a file and a folder whose names are not UTF-8 are processed; outputs carry the same bytes; rerun skips")
    func nonUTF8NamesKeepTheirBytes() throws {
        try B.withFolder { dir in
            let input = dir.file("in")
            try B.write(B.join(input, B.bytes("caf%E9.png")), Self.image)
            try B.write(B.join(input, B.bytes("sub%E9/x.png")), Self.image)
            try B.write(B.join(input, Array("ok.png".utf8)), Self.image)
            let bank = try dir.write("b.json", text: Self.bank).path
            let out = dir.file("out")
            let command = ["apply", input.path, "--bank", bank, "--output", out.path, "--format", "npy", "-q"]
            let r = try CLI.run(command)
            #expect(r.status == 0, "\(r)")
            #expect(r.errorLines.isEmpty, "\(r)")
            let names = B.names(in: Array(out.path.utf8))
            #expect(names.contains(B.bytes("caf%E9")) && names.contains(B.bytes("sub%E9")), "output names: \(names)")
            #expect(B.isNonEmptyFile(B.join(out, B.bytes("caf%E9/f.npy"))))
            #expect(B.isNonEmptyFile(B.join(out, B.bytes("sub%E9/x/f.npy"))))
            #expect(B.isNonEmptyFile(B.join(out, Array("ok/f.npy".utf8))))
            // Nothing under a mangled name (U+FFFD, or the UTF-8 of a private-use scalar).
            #expect(!names.contains { String(validating: $0, as: UTF8.self)?.contains("caf") == true }, "\(names)")
            let lines = try Self.manifest(out)
            #expect(lines.map(\.status) == ["ok", "ok", "ok"])
            #expect(Set(lines.map(\.key)) == [#"caf\xE9"#, "ok", #"sub\xE9/x"#])
            #expect(lines.contains { $0.input == input.path + #"/caf\xE9.png"# && $0.outputs == [#"caf\xE9/f.npy"#] }, "\(lines.map(\.object))")
            // The record of each input is found again by its byte path: a rerun skips all three.
            let again = try CLI.run(Array(command.dropLast()))
            #expect(again.status == 0 && RunReport.summary(in: again.stderr)?.counts == [3, 0, 3, 0], "\(again)")
        }
    }

    @Test("a file argument whose name is not UTF-8 keeps its bytes (argv is read raw)")
    func nonUTF8FileArgument() throws {
        try B.withFolder { dir in
            let file = B.join(dir.url, B.bytes("in/caf%E9.png"))
            try B.write(file, Self.image)
            let bank = try dir.write("b.json", text: Self.bank).path
            let out = dir.file("out")
            let r = try CLI.run(bytes: [Array("apply".utf8), file, Array("--bank".utf8), Array(bank.utf8), Array("--output".utf8), Array(out.path.utf8),
                                        Array("--format".utf8), Array("npy".utf8), Array("-q".utf8)])
            #expect(r.status == 0, "\(r)")
            #expect(B.isNonEmptyFile(B.join(out, B.bytes("caf%E9/f.npy"))), "\(B.names(in: Array(out.path.utf8)))")
            #expect(try Self.manifest(out).map(\.key) == [#"caf\xE9"#])
        }
    }

    @Test("a bad input whose name is not UTF-8 is named with \\xHH escapes on stderr and in valid JSON")
    func nonUTF8FailureIsNamedReadably() throws {
        try B.withFolder { dir in
            let input = dir.file("in")
            try B.write(B.join(input, B.bytes("bad%FF%E9.png")), Array("not an image".utf8))
            try B.write(B.join(input, Array("good.png".utf8)), Self.image)
            let bank = try dir.write("b.json", text: Self.bank).path
            let out = dir.file("out")
            let r = try CLI.run(["apply", input.path, "--bank", bank, "--output", out.path, "--format", "npy", "-q"])
            #expect(r.status == 1, "\(r)")
            #expect(r.errorLines.count == 1 && r.errorLines[0].contains(#"bad\xFF\xE9.png"#), "\(r)")
            #expect(!r.stderr.contains("\u{FFFD}"), "\(r)")
            let lines = try Self.manifest(out)
            #expect(lines.map(\.status) == ["failed", "ok"])
            #expect(lines[0].input.hasSuffix(#"/bad\xFF\xE9.png"#) && lines[0].error?.contains(#"bad\xFF\xE9.png"#) == true, "\(lines[0].object)")
        }
    }

    @Test("with --shard, a name that is not UTF-8 lands in the shard of its bytes' hash, once")
    func nonUTF8NameInItsShard() throws {
        try B.withFolder { dir in
            let input = dir.file("in")
            let raw = B.bytes("caf%E9.png")
            try B.write(B.join(input, raw), Self.image)
            for k in 0..<4 { try B.write(B.join(input, Array("img\(k).png".utf8)), Self.image) }
            let bank = try dir.write("b.json", text: Self.bank).path
            let out = dir.file("out")
            var owners: [Int] = []
            for k in 0..<2 {
                let r = try CLI.run(["apply", input.path, "--bank", bank, "--output", out.path, "--format", "npy", "-q", "--shard", "\(k)/2"])
                #expect(r.status == 0, "\(r)")
                if try Self.manifest(out, "manifest.shard-\(k)-of-2.jsonl").contains(where: { $0.key == #"caf\xE9"# }) { owners.append(k) }
            }
            #expect(owners == [Int(fnv1a64(raw) % 2)])
        }
    }

    // MARK: - Links

    @Test("a dangling symbolic link with an image name is a failed input, on stderr and in the manifest; exit 1")
    func danglingLinkIsNamed() throws {
        try B.withFolder { dir in
            try dir.write("in/good.png", Self.image)
            try FileManager.default.createSymbolicLink(atPath: dir.file("in/gone.png").path, withDestinationPath: "missing.png")
            try FileManager.default.createSymbolicLink(atPath: dir.file("in/notes").path, withDestinationPath: "nowhere")  // not an image name
            let bank = try dir.write("b.json", text: Self.bank).path
            let out = dir.file("out")
            let r = try CLI.run(["apply", dir.file("in").path, "--bank", bank, "--output", out.path, "--format", "npy", "-q"])
            #expect(r.status == 1, "\(r)")
            #expect(r.errorLines.count == 1, "\(r)")
            #expect(r.errorLines.first.map { $0.contains(dir.file("in/gone.png").path) && $0.contains("dangling symbolic link") } == true, "\(r)")
            #expect(filesUnder(out) == ["good/f.npy"])
            let lines = try Self.manifest(out)
            #expect(lines.map(\.status) == ["failed", "ok"])  // byte order: gone.png, good.png
            #expect(lines[0].input == dir.file("in/gone.png").path && lines[0].error?.contains("dangling symbolic link") == true, "\(lines[0].object)")

            // As an argument too.
            let alone = try CLI.run(["apply", dir.file("in/gone.png").path, "--bank", bank, "--output", dir.file("out2").path, "-q"])
            #expect(alone.status == 1 && alone.errorLines.count == 1 && alone.stderr.contains("dangling symbolic link"), "\(alone)")
            #expect(try Self.manifest(dir.file("out2")).map(\.status) == ["failed"])
        }
    }

    @Test("hard links (and a symbolic link to an image) are inputs of their own, each with its own output folder")
    func hardLinksAreInputsOfTheirOwn() throws {
        try B.withFolder { dir in
            try dir.write("in/a.png", Self.image)
            #expect(link(dir.file("in/a.png").path, dir.file("in/b.png").path) == 0)
            try FileManager.default.createSymbolicLink(atPath: dir.file("in/c.png").path, withDestinationPath: "a.png")
            let bank = try dir.write("b.json", text: Self.bank).path
            let out = dir.file("out")
            let r = try CLI.run(["apply", dir.file("in").path, "--bank", bank, "--output", out.path, "--format", "npy"])
            #expect(r.status == 0, "\(r)")
            #expect(filesUnder(out) == ["a/f.npy", "b/f.npy", "c/f.npy"], "\(r)")
            #expect(try Self.manifest(out).map(\.status) == ["ok", "ok", "ok"])
            #expect(RunReport.summary(in: r.stderr)?.counts == [3, 3, 0, 0], "\(r)")
        }
    }

    @Test("the same path reached again (an argument twice, a file inside a folder argument, a linked alias) is processed once and noted")
    func samePathTwiceIsNoted() throws {
        try B.withFolder { dir in
            try dir.write("in/a.png", Self.image)
            try dir.write("in/b.png", Self.image)
            try FileManager.default.createSymbolicLink(atPath: dir.file("alias").path, withDestinationPath: "in")
            let bank = try dir.write("b.json", text: Self.bank).path
            let a = dir.file("in/a.png").path
            let out = dir.file("out")
            let r = try CLI.run(["apply", a, a, dir.file("in").path, dir.file("alias").path, "--bank", bank, "--output", out.path, "--format", "npy"])
            #expect(r.status == 0, "repeats are not failures\n\(r)")
            #expect(filesUnder(out) == ["a/f.npy", "b/f.npy"], "\(r)")
            let notes = r.errorLines.filter { $0.contains("note: skipping") }
            #expect(notes.count == 4, "a.png (argument again), a.png (in the folder), a.png and b.png (through the alias)\n\(r)")
            let lines = try Self.manifest(out)
            #expect(lines.map(\.status) == ["ok", "skipped", "skipped", "ok", "skipped", "skipped"], "\(lines.map(\.object))")
            for line in lines where line.status == "skipped" {
                #expect(line.object["key"] is NSNull && line.error?.contains("same file as an earlier input") == true, "\(line.object)")
            }
            let quiet = try CLI.run(["apply", a, a, "--bank", bank, "--output", dir.file("out2").path, "--format", "npy", "-q"])
            #expect(quiet.status == 0 && quiet.errorLines.isEmpty, "\(quiet)")
        }
    }

    // MARK: - Paths longer than PATH_MAX

    @Test("an image or a folder whose path is longer than PATH_MAX is named on stderr and in the manifest; exit 1")
    func pathLongerThanPathMaxIsNamed() throws {
        try B.withFolder { dir in
            let input = dir.file("in")
            try FileManager.default.createDirectory(at: input, withIntermediateDirectories: true)
            try dir.write("in/top.png", Self.image)
            let (deep, length) = try B.deepFolder(under: input, component: String(repeating: "d", count: 100), maximum: Int(PATH_MAX) - 60)
            defer { close(deep) }
            let longName = String(repeating: "x", count: Int(PATH_MAX) - length) + ".png"  // folder + "/" + name > PATH_MAX
            try B.write(in: deep, longName, Self.image)
            try B.write(in: deep, "ok.png", Self.image)  // fits, and so does its output
            let longFolder = String(repeating: "s", count: 250)
            #expect(mkdirat(deep, longFolder, 0o755) == 0)
            let sub = openat(deep, longFolder, O_RDONLY | O_DIRECTORY)
            try B.write(in: sub, "y.png", Self.image)
            close(sub)
            let bank = try dir.write("b.json", text: Self.bank).path
            let out = dir.file("out")
            let r = try CLI.run(["apply", input.path, "--bank", bank, "--output", out.path, "--format", "npy", "-q"])
            #expect(r.status == 1, "\(r)")
            #expect(r.errorLines.count == 2, "\(r)")
            #expect(r.errorLines.allSatisfy { $0.contains("path longer than PATH_MAX") }, "\(r)")
            #expect(r.errorLines.contains { $0.contains("cannot read folder") && $0.contains(longFolder + "'") }, "\(r)")
            #expect(r.errorLines.contains { $0.contains(longName + "'") }, "\(r)")
            let lines = try Self.manifest(out)
            #expect(lines.count == 4)
            #expect(lines.filter { $0.status == "ok" }.map { ($0.input as NSString).lastPathComponent }.sorted() == ["ok.png", "top.png"])
            let failed = lines.filter { $0.status == "failed" }
            #expect(failed.count == 2 && failed.allSatisfy { $0.error?.contains("path longer than PATH_MAX") == true }, "\(failed.map(\.object))")
            #expect(failed.contains { $0.input.hasSuffix("/" + longFolder) && $0.object["key"] is NSNull })
            #expect(failed.contains { $0.input.hasSuffix("/" + longName) })
        }
    }

    @Test("an output path longer than PATH_MAX fails that input only, with a clear message")
    func outputPathLongerThanPathMaxFailsThatInput() throws {
        try B.withFolder { dir in
            let input = dir.file("in")
            try FileManager.default.createDirectory(at: input, withIntermediateDirectories: true)
            try dir.write("in/top.png", Self.image)
            let (deep, _) = try B.deepFolder(under: input, component: String(repeating: "e", count: 200), maximum: Int(PATH_MAX) - 12)
            try B.write(in: deep, "a.png", Self.image)  // its path fits; DIR/<key>/f.npy under a long DIR does not
            close(deep)
            let bank = try dir.write("b.json", text: Self.bank).path
            let out = dir.file(String(repeating: "o", count: 250))
            let r = try CLI.run(["apply", input.path, "--bank", bank, "--output", out.path, "--format", "npy", "-q"])
            #expect(r.status == 1, "\(r)")
            #expect(r.errorLines.count == 1 && r.errorLines[0].contains("path longer than PATH_MAX") && r.errorLines[0].contains("/a/f.npy'"), "\(r)")
            #expect(B.isNonEmptyFile(Array(out.appendingPathComponent("top/f.npy").path.utf8)))
            let lines = try Self.manifest(out)
            #expect(lines.count == 2)
            #expect(lines.first { $0.status == "failed" }?.error?.contains("path longer than PATH_MAX") == true, "\(lines.map(\.object))")
        }
    }
}
