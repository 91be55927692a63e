import ConvBankTestSupport
import Foundation
import Testing

/// Where `apply` writes: `DIR/<path relative to the folder argument, extension dropped>/<filter>.<ext>`, and
/// `DIR/<stem>/…` for a file argument.
@Suite("Output layout")
struct LayoutTests {
    /// Two 1×1 one-channel filters: `id` copies the (luma of the) input, `twice` doubles it.
    static let bank = """
        {"name": "pair", "filters": [{"name": "id", "weights": [[1]]}, {"name": "twice", "weights": [[2]]}]}
        """

    static let jpeg = CLI.testdata.appendingPathComponent("jpeg/ycc411.jpg")  // 157×121
    static let grayJPEG = CLI.testdata.appendingPathComponent("jpeg/gray_progressive.jpg")  // 157×121

    /// Both filters' files under `key`.
    static func maps(_ key: String, _ ext: String = "npy") -> [String] { ["\(key)/id.\(ext)", "\(key)/twice.\(ext)"] }

    func tree(_ dir: TemporaryFolder) throws {
        try dir.write("in/top.png", TestPNG.gray8([[1, 2], [3, 4]]))
        try dir.write("in/sub/img.png", TestPNG.gray8([[5, 6, 7]]))
        try dir.write("in/sub/deeper/shout.PNG", TestPNG.gray8([[8]]))
        try dir.copy(Self.jpeg, to: "in/UP.JPG")
        try dir.copy(Self.grayJPEG, to: "in/sub/pic.Jpeg")
        // a.png beside a.jpg: each keeps its extension in its folder name.
        try dir.write("in/pair/a.png", TestPNG.gray8([[9, 10]]))
        try dir.copy(Self.jpeg, to: "in/pair/a.jpg")
        // Ignored: other extensions, hidden files and folders.
        try dir.write("in/notes.txt", text: "not an image\n")
        try dir.write("in/sub/data.npy", TestPNG.gray8([[1]]))  // PNG bytes, but the name decides in folders
        try dir.write("in/sub/README", text: "readme\n")
        try dir.write("in/.hidden.png", TestPNG.gray8([[1]]))
        try dir.write("in/.git/x.png", TestPNG.gray8([[1]]))
    }

    static let expectedTree = maps("UP") + maps("pair/a.jpg") + maps("pair/a.png") + maps("sub/deeper/shout")
        + maps("sub/img") + maps("sub/pic") + maps("top")

    @Test func folderIsWalkedRecursively() throws {
        try withTemporaryFolder { dir in
            try tree(dir)
            let bank = try dir.write("pair.json", text: Self.bank).path
            let out = dir.file("out")
            let r = try CLI.run(["apply", dir.file("in").path, "--bank", bank, "--output", out.path, "--format", "npy"])
            #expect(r.status == 0, "\(r)")
            #expect(filesUnder(out) == Self.expectedTree.sorted())

            // The right input went to the right folder.
            let top = try Float32NPY(contentsOf: out.appendingPathComponent("top/id.npy"), rank: 2)
            #expect(top.shape == [2, 2] && top.values == [1, 2, 3, 4])
            let topTwice = try Float32NPY(contentsOf: out.appendingPathComponent("top/twice.npy"), rank: 2)
            #expect(topTwice.values == [2, 4, 6, 8])
            #expect(try Float32NPY(contentsOf: out.appendingPathComponent("sub/img/id.npy"), rank: 2).values == [5, 6, 7])
            #expect(try Float32NPY(contentsOf: out.appendingPathComponent("sub/deeper/shout/id.npy"), rank: 2).values == [8])
            let pairPNG = try Float32NPY(contentsOf: out.appendingPathComponent("pair/a.png/id.npy"), rank: 2)
            #expect(pairPNG.shape == [1, 2] && pairPNG.values == [9, 10])
            #expect(try Float32NPY(contentsOf: out.appendingPathComponent("pair/a.jpg/id.npy"), rank: 2).shape == [121, 157])
            #expect(try Float32NPY(contentsOf: out.appendingPathComponent("UP/id.npy"), rank: 2).shape == [121, 157])
            #expect(try Float32NPY(contentsOf: out.appendingPathComponent("sub/pic/id.npy"), rank: 2).shape == [121, 157])
        }
    }

    @Test func fileArgumentMapsToItsStem() throws {
        try withTemporaryFolder { dir in
            try tree(dir)
            let bank = try dir.write("pair.json", text: Self.bank).path
            let out = dir.file("out")
            let r = try CLI.run(["apply", dir.file("in/sub/img.png").path, dir.file("in/sub/deeper/shout.PNG").path,
                                 dir.file("in/UP.JPG").path, "--bank", bank, "--output", out.path, "--format", "npy"])
            #expect(r.status == 0, "\(r)")
            #expect(filesUnder(out) == (Self.maps("UP") + Self.maps("img") + Self.maps("shout")).sorted())
            #expect(try Float32NPY(contentsOf: out.appendingPathComponent("img/twice.npy"), rank: 2).values == [10, 12, 14])
        }
    }

    @Test func fileArgumentIsTakenWhateverItsExtension() throws {
        try withTemporaryFolder { dir in
            try dir.write("in/scan.dat", TestPNG.gray8([[3, 4]]))
            let bank = try dir.write("pair.json", text: Self.bank).path
            let out = dir.file("out")
            let r = try CLI.run(["apply", dir.file("in/scan.dat").path, "--bank", bank, "--output", out.path, "--format", "npy"])
            #expect(r.status == 0, "\(r)")
            #expect(filesUnder(out) == Self.maps("scan"))
            #expect(try Float32NPY(contentsOf: out.appendingPathComponent("scan/id.npy"), rank: 2).values == [3, 4])
        }
    }

    @Test func sameNameFromTwoFileArgumentsIsNumbered() throws {
        try withTemporaryFolder { dir in
            try dir.write("d1/x.png", TestPNG.gray8([[1]]))
            try dir.write("d2/x.png", TestPNG.gray8([[2]]))
            let bank = try dir.write("pair.json", text: Self.bank).path
            let out = dir.file("out")
            let r = try CLI.run(["apply", dir.file("d1/x.png").path, dir.file("d2/x.png").path,
                                 "--bank", bank, "--output", out.path, "--format", "npy"])
            #expect(r.status == 0, "\(r)")
            #expect(filesUnder(out) == (Self.maps("x") + Self.maps("x-2")).sorted())
            #expect(try Float32NPY(contentsOf: out.appendingPathComponent("x/id.npy"), rank: 2).values == [1])
            #expect(try Float32NPY(contentsOf: out.appendingPathComponent("x-2/id.npy"), rank: 2).values == [2])
        }
    }

    @Test func sameFileGivenTwiceIsProcessedOnce() throws {
        try withTemporaryFolder { dir in
            try dir.write("in/x.png", TestPNG.gray8([[1]]))
            let bank = try dir.write("pair.json", text: Self.bank).path
            let out = dir.file("out")
            let r = try CLI.run(["apply", dir.file("in/x.png").path, dir.file("in").path + "/./x.png",
                                 "--bank", bank, "--output", out.path, "--format", "npy"])
            #expect(r.status == 0, "\(r)")
            #expect(filesUnder(out) == Self.maps("x"))
        }
    }

    @Test func runsAreDeterministicAndLeaveNoTemporaryFiles() throws {
        try withTemporaryFolder { dir in
            try tree(dir)
            let bank = try dir.write("pair.json", text: Self.bank).path
            var runs: [[String: [UInt8]]] = []
            for (n, jobs) in ["1", "3"].enumerated() {
                let out = dir.file("out\(n)")
                let r = try CLI.run(["apply", dir.file("in").path, "--bank", bank, "--output", out.path, "--jobs", jobs])
                #expect(r.status == 0, "\(r)")
                let files = filesUnder(out)
                #expect(files == Self.expectedTree.map { $0.replacingOccurrences(of: ".npy", with: ".png") }.sorted())
                // Complete-or-absent writes go through hidden temporary names; none may remain.
                let hidden = entriesUnder(out).filter { $0.split(separator: "/").contains { $0.hasPrefix(".") } }
                #expect(hidden.isEmpty, "left behind: \(hidden)")
                var contents: [String: [UInt8]] = [:]
                for f in files { contents[f] = try bytes(of: out.appendingPathComponent(f)) }
                runs.append(contents)
            }
            #expect(runs[0] == runs[1])
        }
    }

    @Test func outputFolderInsideTheInputFolderIsNotReadBack() throws {
        try withTemporaryFolder { dir in
            try dir.write("in/a.png", TestPNG.gray8([[1, 2]]))
            let bank = try dir.write("pair.json", text: Self.bank).path
            let out = dir.file("in/out")
            for _ in 0..<2 {
                let r = try CLI.run(["apply", dir.file("in").path, "--bank", bank, "--output", out.path])
                #expect(r.status == 0, "\(r)")
                #expect(filesUnder(out) == Self.maps("a", "png"))
            }
        }
    }

    @Test func outputThatIsAFileIsAnError() throws {
        try withTemporaryFolder { dir in
            try dir.write("in/a.png", TestPNG.gray8([[1, 2]]))
            let bank = try dir.write("pair.json", text: Self.bank).path
            let out = try dir.write("out", text: "a file")
            let r = try CLI.run(["apply", dir.file("in").path, "--bank", bank, "--output", out.path])
            #expect(r.status == 1, "\(r)")
            #expect(r.errorLines.count == 1 && r.stderr.contains(out.path), "\(r)")
            #expect(try String(contentsOf: out, encoding: .utf8) == "a file")
        }
    }
    /// Two inputs never write into the same place, including a file versus a folder: `x.png` writes
    /// `OUT/x/id.npy`, and `x/id.npy.png` (key `x/id.npy`) would need `OUT/x/id.npy/` as a folder.
    @Test func fileAndFolderOutputsNeverCollide() throws {
        try withTemporaryFolder { dir in
            try dir.write("in/x.png", TestPNG.gray8([[1]]))
            try dir.write("in/x/id.npy.png", TestPNG.gray8([[2]]))
            let bank = try dir.write("b.json", text: #"{"filters": [{"name": "id", "weights": [[1]]}]}"#).path
            let out = dir.file("out")
            let r = try CLI.run(["apply", dir.file("in").path, "--bank", bank, "--output", out.path, "--format", "npy", "--quiet"])
            #expect(r.status == 0, "both inputs must succeed, each in its own place\n\(r)")
            let files = filesUnder(out)
            #expect(files.count == 2, "\(files)")
            var values: [Float] = []
            for f in files { values += (try? Float32NPY(contentsOf: out.appendingPathComponent(f), rank: 2).values) ?? [] }
            #expect(values.sorted() == [1, 2])
        }
    }

    /// A folder reached twice through a symbolic link alias (not a loop) is processed once, and nothing failed.
    @Test func folderAliasIsProcessedOnceWithoutError() throws {
        try withTemporaryFolder { dir in
            try dir.write("in/real/x.png", TestPNG.gray8([[4]]))
            try FileManager.default.createSymbolicLink(atPath: dir.file("in/alias").path, withDestinationPath: "real")
            let bank = try dir.write("b.json", text: #"{"filters": [{"name": "id", "weights": [[1]]}]}"#).path
            let out = dir.file("out")
            let r = try CLI.run(["apply", dir.file("in").path, "--bank", bank, "--output", out.path, "--format", "npy", "--quiet"])
            let files = filesUnder(out)
            #expect(files == ["alias/x/id.npy"] || files == ["real/x/id.npy"], "\(files)")
            #expect(r.status == 0, "every input succeeded; an alias is not a symbolic link loop\n\(r)")
        }
    }

    /// A symbolic link loop ends the walk there: the run terminates and each image is processed once.
    @Test func symbolicLinkLoopTerminates() throws {
        try withTemporaryFolder { dir in
            try dir.write("in/sub/x.png", TestPNG.gray8([[4]]))
            try FileManager.default.createSymbolicLink(atPath: dir.file("in/sub/up").path, withDestinationPath: "..")
            let bank = try dir.write("b.json", text: #"{"filters": [{"name": "id", "weights": [[1]]}]}"#).path
            let out = dir.file("out")
            let r = try CLI.run(["apply", dir.file("in").path, "--bank", bank, "--output", out.path, "--format", "npy", "--quiet"])
            #expect(filesUnder(out) == ["sub/x/id.npy"], "\(r)")
            #expect(r.errorLines.count <= 1, "at most one line about the loop\n\(r)")
        }
    }
}
