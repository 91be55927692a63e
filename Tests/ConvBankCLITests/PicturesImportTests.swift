import ConvBankBatch
import ConvBankEngine
import ConvBankImageIO
import ConvBankPictures
import ConvBankTestSupport
import Foundation
import Testing

/// A 1-channel bank with two relu filters of different sizes (valid padding), small enough to work out by hand:
/// - `one`: 1×1 weight 1, bias −5 → `relu(v − 5)`;
/// - `box`: 2×2 of ones, bias −12 → `relu(Σ 2×2 − 12)`.
private let reluBank = """
    {"name": "tiny", "activation": "relu", "filters": [
      {"name": "one", "weights": [[1]], "bias": -5},
      {"name": "box", "weights": [[1, 1], [1, 1]], "bias": -12}]}
    """

/// `[[1, 2, 3], [4, 5, 6], [7, 8, 9]]`, 8-bit gray.
private let ramp3 = TestPNG.gray8([[1, 2, 3], [4, 5, 6], [7, 8, 9]])

// MARK: - apply --stats

@Suite("apply --stats")
struct StatsCSVTests {
    /// On `ramp3`:
    /// - `one` = relu(v − 5) = [0,0,0,0,0,1,2,3,4]: min 0, max 4, mean 10/9, E[x²] = 30/9, so
    ///   var = 30/9 − 100/81 = 170/81, std = √(170/81) ≈ 1.4487; 5 of 9 values are 0.
    /// - `box` = relu(2×2 sums − 12): sums 12, 16, 24, 28 → [0, 4, 12, 16]: min 0, max 16, mean 8,
    ///   E[x²] = 416/4 = 104, var = 104 − 64 = 40, std = √40 ≈ 6.3246; 1 of 4 is 0.
    /// On a constant-10 3×3 image: `one` = 5 everywhere, `box` = 40 − 12 = 28 everywhere (std 0, no zeros).
    @Test func handComputedRowsAndQuoting() throws {
        try withTemporaryFolder { dir in
            try dir.write("a,b.png", ramp3)
            try dir.write("say \"hi\".png", TestPNG.constant(width: 3, height: 3, color: .gray, bitDepth: 8, pixel: [10]))
            try dir.write("bank.json", text: reluBank)
            let r = try CLI.run(["apply", "a,b.png", "say \"hi\".png", "--bank", "bank.json", "--output", "out", "--stats"], in: dir.url)
            #expect(r.status == 0, "\(r)")
            let text = try String(contentsOf: dir.file("out/stats.csv"), encoding: .utf8)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.first == "input,filter,min,max,mean,std,zero_fraction", "\(text)")
            #expect(text.hasSuffix("\n"))
            // RFC 4180: a field with a comma or quote is quoted, and quotes are doubled.
            #expect(text.contains("\n\"a,b.png\",one,"), "\(text)")
            #expect(text.contains("\n\"say \"\"hi\"\".png\",box,"), "\(text)")

            let records = parseCSV(text)
            try #require(records.count == 5, "header + 2 inputs × 2 filters\n\(text)")
            #expect(records.allSatisfy { $0.count == 7 }, "\(records)")
            let expected: [(String, String, [Double])] = [
                ("a,b.png", "one", [0, 4, 10.0 / 9, (170.0 / 81).squareRoot(), 5.0 / 9]),
                ("a,b.png", "box", [0, 16, 8, 40.0.squareRoot(), 0.25]),
                ("say \"hi\".png", "one", [5, 5, 5, 0, 0]),
                ("say \"hi\".png", "box", [28, 28, 28, 0, 0]),
            ]
            for (record, (input, filter, numbers)) in zip(records.dropFirst(), expected) {
                #expect(record[0] == input && record[1] == filter, "\(record)")
                let parsed = record.dropFirst(2).map { Double($0) }
                #expect(parsed.allSatisfy { $0 != nil }, "unparseable number in \(record)")
                for (name, (got, want)) in zip(["min", "max", "mean", "std", "zero_fraction"], zip(parsed, numbers)) {
                    #expect(got.map { approximatelyEqual($0, want) } == true, "\(input) \(filter) \(name): \(String(describing: got)) ≠ \(want)")
                }
            }
        }
    }

    /// A failing input adds no row; without `--stats` (even with `--gallery`, which computes the numbers) no file.
    @Test func failuresAndAbsence() throws {
        try withTemporaryFolder { dir in
            try dir.write("a.png", ramp3)
            try dir.write("bad.png", Array("not an image".utf8))
            try dir.write("bank.json", text: reluBank)
            let r = try CLI.run(["apply", "a.png", "bad.png", "--bank", "bank.json", "--output", "out", "--stats"], in: dir.url)
            #expect(r.status == 1, "\(r)")
            let records = parseCSV(try String(contentsOf: dir.file("out/stats.csv"), encoding: .utf8))
            #expect(records.map { $0.prefix(2).joined(separator: " ") } == ["input filter", "a.png one", "a.png box"])

            let g = try CLI.run(["apply", "a.png", "--bank", "bank.json", "--output", "out2", "--gallery"], in: dir.url)
            #expect(g.status == 0, "\(g)")
            #expect(!FileManager.default.fileExists(atPath: dir.file("out2/stats.csv").path))
            #expect(FileManager.default.fileExists(atPath: dir.file("out2/index.html").path))
        }
    }
}

// MARK: - apply --sheet

@Suite("apply --sheet")
struct ContactSheetCLITests {
    @Test func sheetsPerInputColormapAndFailures() throws {
        try withTemporaryFolder { dir in
            try dir.write("in/a.png", ramp3)
            try dir.write("in/sub/b.png", TestPNG.encode(width: 4, height: 2, color: .rgb, bitDepth: 8,
                                                         samples: (0..<24).map { $0 * 10 }))
            try dir.write("in/bad.png", Array(ramp3.prefix(40)))  // truncated
            try dir.write("bank.json", text: reluBank)
            // A sheet left by an earlier run of the failing input must not survive.
            try dir.write("out/bad.sheet.png", ramp3)
            let r = try CLI.run(["apply", "in", "--bank", "bank.json", "--output", "out", "--sheet"], in: dir.url)
            #expect(r.status == 1, "\(r)")
            #expect(r.errorLines.contains { $0.hasPrefix("convbank: error:") && $0.contains("bad.png") }, "\(r)")
            #expect(filesUnder(dir.file("out")) == ["a.sheet.png", "a/box.png", "a/one.png",
                                                    "sub/b.sheet.png", "sub/b/box.png", "sub/b/one.png"])

            let gray = try ImageCodec.decode(path: dir.file("out/a.sheet.png").path)
            #expect(gray.format == .png && gray.bitDepth == 8)
            #expect(gray.tensor.channels == 3, "a contact sheet is RGB")
            #expect(gray.tensor.width > 3 * 2 && gray.tensor.height > 3 * 2, "larger than the (at most 2×) input thumbnail")
            // The gray colormap on a gray input: every pixel is gray (R = G = B).
            let g = gray.tensor
            #expect(g.plane(0) == g.plane(1) && g.plane(1) == g.plane(2), "gray sheet with coloured pixels")
            let b = try ImageCodec.decode(path: dir.file("out/sub/b.sheet.png").path)
            #expect(b.tensor.channels == 3 && b.tensor.width > 4 && b.tensor.height > 2)

            // viridis: same layout, other pixels; each map's minimum is exactly viridis's first colour #440154.
            let v = try CLI.run(["apply", "in/a.png", "--bank", "bank.json", "--output", "viridis", "--sheet", "--colormap", "viridis"], in: dir.url)
            #expect(v.status == 0, "\(v)")
            let colored = try ImageCodec.decode(path: dir.file("viridis/a.sheet.png").path).tensor
            #expect(colored.width == g.width && colored.height == g.height && colored.channels == 3)
            #expect(colored.storage != g.storage, "--colormap viridis changed no pixel")
            let pixels = colored.interleaved
            let hasDarkBlue = stride(from: 0, to: pixels.count, by: 3).contains { pixels[$0] == 0x44 && pixels[$0 + 1] == 0x01 && pixels[$0 + 2] == 0x54 }
            #expect(hasDarkBlue, "no #440154 (viridis minimum) pixel on the sheet")
        }
    }

    /// `x.png`'s sheet is the file `DIR/x.sheet.png`, exactly where `x.sheet.png.png`'s output folder would go:
    /// whichever comes second in argument order is renamed (`-2`), and nothing is overwritten.
    @Test(arguments: [["x.png", "x.sheet.png.png"], ["x.sheet.png.png", "x.png"]])
    func sheetFileVersusAnotherInputsFolder(_ order: [String]) throws {
        try withTemporaryFolder { dir in
            try dir.write("x.png", ramp3)
            try dir.write("x.sheet.png.png", TestPNG.gray8([[9, 8, 7], [6, 5, 4], [3, 2, 1]]))
            try dir.write("bank.json", text: reluBank)
            let r = try CLI.run(["apply"] + order + ["--bank", "bank.json", "--output", "out", "--sheet", "--gallery", "--format", "png16"], in: dir.url)
            #expect(r.status == 0, "\(r)")
            let keys = order[0] == "x.png" ? ["x", "x.sheet.png-2"] : ["x.sheet.png", "x-2"]
            let maps = keys.flatMap { [$0 + "/box.png", $0 + "/one.png"] }, sheets = keys.map { $0 + ".sheet.png" }
            let thumbnails = maps.map { "index.thumbs/" + $0 }
            #expect(filesUnder(dir.file("out")) == (["index.html"] + maps + sheets + thumbnails).sorted())
            let html = try String(contentsOf: dir.file("out/index.html"), encoding: .utf8)
            #expect(Set(htmlAttributes("src", in: html).compactMap(\.removingPercentEncoding)) == Set(thumbnails))
            #expect(Set(htmlAttributes("href", in: html).compactMap(\.removingPercentEncoding)) == Set(maps + sheets))
        }
    }

    /// The maps themselves do not depend on `--sheet`.
    @Test func sheetDoesNotChangeMaps() throws {
        try withTemporaryFolder { dir in
            try dir.write("a.png", ramp3)
            try dir.write("bank.json", text: reluBank)
            let a = try CLI.run(["apply", "a.png", "--bank", "bank.json", "--output", "plain", "--format", "npy"], in: dir.url)
            let b = try CLI.run(["apply", "a.png", "--bank", "bank.json", "--output", "sheet", "--format", "npy", "--sheet"], in: dir.url)
            #expect(a.status == 0 && b.status == 0, "\(a)\n\(b)")
            var withSheet = try contentsUnder(dir.file("sheet"))
            #expect(withSheet.removeValue(forKey: "a.sheet.png") != nil)
            #expect(withSheet == (try contentsUnder(dir.file("plain"))))
            let one = try Float32NPY(contentsOf: dir.file("plain/a/one.npy"), rank: 2)
            #expect(one.values == [0, 0, 0, 0, 0, 1, 2, 3, 4])
        }
    }
}

// MARK: - apply --gallery

@Suite("apply --gallery")
struct GalleryCLITests {
    /// Names with a space, `#`, `%`, `&` and non-ASCII letters, in a subfolder too; one input is not an image.
    static let names = ["in/sp ace#1.png", "in/50%.png", "in/ünï.png", "in/sub/x&y.png"]

    static func keys() -> [String] { names.map { String($0.dropFirst(3).dropLast(4)) } }

    @Test func linksPointAtFilesThatExist() throws {
        try withTemporaryFolder { dir in
            for name in Self.names { try dir.write(name, ramp3) }
            try dir.write("in/bad.png", Array("<garbage & more>".utf8))
            try dir.write("bank.json", text: reluBank)
            let r = try CLI.run(["apply", "in", "--bank", "bank.json", "--output", "out", "--sheet", "--gallery"], in: dir.url)
            #expect(r.status == 1, "\(r)")
            let html = try String(contentsOf: dir.file("out/index.html"), encoding: .utf8)
            // 4 good inputs × 2 map thumbnails; links: each map and each sheet.
            #expect(occurrences(of: "<img", in: html) == Self.names.count * 2, "\(html)")
            let sources = htmlAttributes("src", in: html), links = htmlAttributes("href", in: html)
            #expect(sources.count == 8 && links.count == 12, "\(sources) \(links)")
            var targets = Set<String>()
            for url in sources + links {
                #expect(!url.hasPrefix("/") && !url.contains("://") && !url.contains(".."), "not a plain relative link: \(url)")
                #expect(!url.contains(" ") && !url.contains("#"), "not percent-encoded: \(url)")
                let decoded = try #require(url.removingPercentEncoding, "bad percent-encoding: \(url)")
                #expect(FileManager.default.fileExists(atPath: dir.file("out").appendingPathComponent(decoded).path),
                        "\(url) → \(decoded) does not exist under the output folder")
                targets.insert(decoded)
            }
            var expected = Set<String>()
            for key in Self.keys() {
                let maps = [key + "/one.png", key + "/box.png"]
                expected.formUnion(maps + maps.map { "index.thumbs/" + $0 } + [key + ".sheet.png"])
            }
            #expect(targets == expected)
            #expect(!FileManager.default.fileExists(atPath: dir.file("out/bad.sheet.png").path))

            // The failing input: its path and the error, HTML-escaped, in an error paragraph.
            let errorParagraphs = html.components(separatedBy: "<p class=\"error\">").dropFirst()
                .map { String($0.prefix { $0 != "<" }) }
            #expect(errorParagraphs.count == 1, "\(html)")
            let shown = htmlUnescape(errorParagraphs.first ?? "")
            #expect(shown.contains("in/bad.png") && shown.contains("not a PNG, JPEG, TIFF or WebP file"), "\(shown)")
            let stderrError = r.errorLines.first { $0.hasPrefix("convbank: error:") } ?? ""
            #expect(stderrError == "convbank: error: " + shown, "the page shows another error than stderr")
            // Titles are escaped.
            #expect(html.contains("x&amp;y.png") && !html.contains("x&y.png"))
        }
    }

    @Test func withoutSheetsOnlyMaps() throws {
        try withTemporaryFolder { dir in
            try dir.write("a.png", ramp3)
            try dir.write("bank.json", text: reluBank)
            let r = try CLI.run(["apply", "a.png", "--bank", "bank.json", "--output", "out", "--gallery", "--format", "png16"], in: dir.url)
            #expect(r.status == 0, "\(r)")
            let html = try String(contentsOf: dir.file("out/index.html"), encoding: .utf8)
            #expect(occurrences(of: "<img", in: html) == 2)
            #expect(Set(htmlAttributes("src", in: html)) == ["index.thumbs/a/one.png", "index.thumbs/a/box.png"])
            #expect(Set(htmlAttributes("href", in: html)) == ["a/one.png", "a/box.png"])
            #expect(!html.contains("contact sheet"))
            #expect(filesUnder(dir.file("out")) == ["a/box.png", "a/one.png", "index.html", "index.thumbs/a/box.png", "index.thumbs/a/one.png"])
        }
    }

    /// Maps a browser cannot show (`npy`) get PNG thumbnails too: the page shows those and links to the `.npy` files.
    @Test func npyMapsGetThumbnails() throws {
        try withTemporaryFolder { dir in
            try dir.write("a.png", ramp3)
            try dir.write("bank.json", text: reluBank)
            let r = try CLI.run(["apply", "a.png", "--bank", "bank.json", "--output", "out", "--gallery", "--format", "npy"], in: dir.url)
            #expect(r.status == 0, "\(r)")
            let html = try String(contentsOf: dir.file("out/index.html"), encoding: .utf8)
            #expect(Set(htmlAttributes("src", in: html)) == ["index.thumbs/a/one.png", "index.thumbs/a/box.png"])
            #expect(Set(htmlAttributes("href", in: html)) == ["a/one.npy", "a/box.npy"])
            #expect(filesUnder(dir.file("out")) == ["a/box.npy", "a/one.npy", "index.html", "index.thumbs/a/box.png", "index.thumbs/a/one.png"])
        }
    }
}

// MARK: - The clamp warning

@Suite("Clamp warning")
struct ClampWarningTests {
    static let photo = CLI.sampleImages.appendingPathComponent("chelsea.png")
    static let prefix = "convbank: warning: --normalize clamp clipped"

    /// One warning line, listing exactly the filters whose npy values fall outside what 8-bit clamp can show
    /// (below −0.5 or from 255.5 on) for more than half the pixels, with their rounded percentages.
    @Test func edgesOnAPhotoWarnsOnce() throws {
        try withTemporaryFolder { dir in
            let copy = try dir.copy(Self.photo, to: "again.png")
            let r = try CLI.run(["apply", Self.photo.path, copy.path, "--bank", "edges", "--output", dir.file("png").path])
            #expect(r.status == 0, "\(r)")
            let warnings = r.errorLines.filter { $0.contains("warning") }
            #expect(warnings.count == 1, "one warning per run, even with two clipped inputs\n\(r)")
            let line = try #require(warnings.first)
            #expect(line.hasPrefix(Self.prefix), "\(line)")
            #expect(line.contains("'\(Self.photo.path)'"), "\(line)")

            let n = try CLI.run(["apply", Self.photo.path, "--bank", "edges", "--output", dir.file("npy").path, "--format", "npy"])
            #expect(n.status == 0, "\(n)")
            var listed: [String] = []
            for filter in BuiltinBankTests.edgeFilters {
                let map = try Float32NPY(contentsOf: dir.file("npy/chelsea/\(filter).npy"), rank: 2)
                let fraction = Double(map.values.filter { $0 < -0.5 || $0 >= 255.5 }.count) / Double(map.values.count)
                if fraction > 0.5 { listed.append("\(filter) \(Int((fraction * 100).rounded()))%") }
            }
            #expect(!listed.isEmpty)
            #expect(line.contains(" in " + listed.joined(separator: ", ") + ";"), "expected \(listed) in: \(line)")
        }
    }

    @Test(arguments: [["--normalize", "abs"], ["-q"], ["--quiet"], ["--normalize", "symmetric"], ["--format", "npy"]])
    func noWarning(_ extra: [String]) throws {
        try withTemporaryFolder { dir in
            let r = try CLI.run(["apply", Self.photo.path, "--bank", "edges", "--output", dir.file("out").path] + extra)
            #expect(r.status == 0, "\(r)")
            #expect(!r.stderr.contains("warning"), "\(r)")
            if extra.first?.hasPrefix("-q") == true || extra.first == "--quiet" { #expect(r.stderr.isEmpty, "\(r)") }
        }
    }

    /// A map that clamp shows faithfully draws no warning.
    @Test func noWarningWhenInRange() throws {
        try withTemporaryFolder { dir in
            try dir.write("a.png", ramp3)
            try dir.write("bank.json", text: reluBank)
            let r = try CLI.run(["apply", "a.png", "--bank", "bank.json", "--output", "out"], in: dir.url)
            #expect(r.status == 0 && !r.stderr.contains("warning"), "\(r)")
        }
    }
}

// MARK: - import

@Suite("import")
struct ImportCLITests {
    /// Two 2×2×3 filters, as `w[o][c][i][j]`, each with a few non-zero taps:
    /// - f0: R at (0,0), G at (0,1), B at (1,0), all weight 1; bias 0.5;
    /// - f1: 2·R at (1,1), −1·G at (1,0), 0.25·B at (0,0); bias −1.
    static func weight(_ o: Int, _ c: Int, _ i: Int, _ j: Int) -> Double {
        switch (o, c, i, j) {
        case (0, 0, 0, 0), (0, 1, 0, 1), (0, 2, 1, 0): 1
        case (1, 0, 1, 1): 2
        case (1, 1, 1, 0): -1
        case (1, 2, 0, 0): 0.25
        default: 0
        }
    }

    /// Keras `get_weights()[0]`: shape (kh, kw, C, F) = (2, 2, 3, 2), C order.
    static var hwio: [Double] {
        var v: [Double] = []
        for i in 0..<2 { for j in 0..<2 { for c in 0..<3 { for o in 0..<2 { v.append(weight(o, c, i, j)) } } } }
        return v
    }

    /// PyTorch `weight`: shape (F, C, kh, kw) = (2, 3, 2, 2).
    static var oihw: [Double] {
        var v: [Double] = []
        for o in 0..<2 { for c in 0..<3 { for i in 0..<2 { for j in 0..<2 { v.append(weight(o, c, i, j)) } } } }
        return v
    }

    /// A 2×2 16-bit RGB image: R = [[1, 2], [3, 4]], G = 10·R, B = 100·R.
    static let image = TestPNG.encode(width: 2, height: 2, color: .rgb, bitDepth: 16,
                                      samples: [1, 10, 100, 2, 20, 200, 3, 30, 300, 4, 40, 400])

    /// SAME padding of 2 on a 2×2 kernel: pads 0 top/left, 1 bottom/right (zeros).
    /// f0(y, x) = R(y, x) + G(y, x+1) + B(y+1, x) + 0.5:
    ///   (0,0) 1 + 20 + 300 + .5 = 321.5; (0,1) 2 + 0 + 400 + .5 = 402.5; (1,0) 3 + 40 + 0 + .5 = 43.5; (1,1) 4.5.
    /// f1(y, x) = 2·R(y+1, x+1) − G(y+1, x) + 0.25·B(y, x) − 1:
    ///   (0,0) 8 − 30 + 25 − 1 = 2; (0,1) 0 − 40 + 50 − 1 = 9; (1,0) 0 − 0 + 75 − 1 = 74; (1,1) 100 − 1 = 99.
    static let f0: [Float] = [321.5, 402.5, 43.5, 4.5]
    static let f1: [Float] = [2, 9, 74, 99]

    @Test func kerasKernelAndBias() throws {
        try withTemporaryFolder { dir in
            try dir.write("k.npy", TestNPY.encode(shape: [2, 2, 3, 2], dtype: .f4, values: Self.hwio))
            try dir.write("b.npy", TestNPY.encode(shape: [2], dtype: .f8, values: [0.5, -1]))
            try dir.write("img.png", Self.image)
            let r = try CLI.run(["import", "k.npy", "b.npy", "-o", "bank.json", "--padding", "same"], in: dir.url)
            #expect(r.status == 0, "\(r)")
            #expect(r.stderr.contains("HWIO"), "auto-detection should pick HWIO for (2, 2, 3, 2)\n\(r)")

            let s = try CLI.run(["summary", "--bank", "bank.json"], in: dir.url)
            #expect(s.status == 0, "\(s)")
            #expect(s.stdout.contains("Total params: 26"), "2 · (2·2·3 + 1)\n\(s)")

            let a = try CLI.run(["apply", "img.png", "--bank", "bank.json", "--output", "out", "--format", "npy"], in: dir.url)
            #expect(a.status == 0, "\(a)")
            #expect(filesUnder(dir.file("out")) == ["img/f0.npy", "img/f1.npy"])
            let m0 = try Float32NPY(contentsOf: dir.file("out/img/f0.npy"), rank: 2)
            let m1 = try Float32NPY(contentsOf: dir.file("out/img/f1.npy"), rank: 2)
            #expect(m0.shape == [2, 2] && m1.shape == [2, 2])
            #expect(m0.values == Self.f0)
            #expect(m1.values == Self.f1)
        }
    }

    /// (2, 3, 2, 2): as HWIO a 2×3 kernel, as OIHW a 2×2 one, so auto picks OIHW and gives the same bank.
    @Test func pytorchWeightIsDetected() throws {
        try withTemporaryFolder { dir in
            try dir.write("w.npy", TestNPY.encode(shape: [2, 3, 2, 2], dtype: .f4, values: Self.oihw))
            try dir.write("b.npy", TestNPY.encode(shape: [2], dtype: .f4, values: [0.5, -1]))
            try dir.write("img.png", Self.image)
            let r = try CLI.run(["import", "w.npy", "b.npy", "-o", "bank.json", "--padding", "same", "--names", "p,q"], in: dir.url)
            #expect(r.status == 0, "\(r)")
            #expect(r.stderr.contains("OIHW"), "\(r)")
            let a = try CLI.run(["apply", "img.png", "--bank", "bank.json", "--output", "out", "--format", "npy"], in: dir.url)
            #expect(a.status == 0, "\(a)")
            #expect(try Float32NPY(contentsOf: dir.file("out/img/p.npy"), rank: 2).values == Self.f0)
            #expect(try Float32NPY(contentsOf: dir.file("out/img/q.npy"), rank: 2).values == Self.f1)
        }
    }

    @Test func ambiguousShapeNeedsLayout() throws {
        try withTemporaryFolder { dir in
            try dir.write("k.npy", TestNPY.encode(shape: [2, 2, 2, 2], values: (0..<16).map(Double.init)))
            let r = try CLI.run(["import", "k.npy", "-o", "bank.json"], in: dir.url)
            #expect(r.status == 64, "\(r)")
            #expect(r.stderr.contains("--layout"), "\(r)")
            #expect(!FileManager.default.fileExists(atPath: dir.file("bank.json").path))
            // With the layout given it works: 2 filters of 2×2×2 → 2 · (8 + 1) = 18 parameters.
            let ok = try CLI.run(["import", "k.npy", "--layout", "OIHW", "-o", "bank.json"], in: dir.url)
            #expect(ok.status == 0, "\(ok)")
            let s = try CLI.run(["summary", "--bank", "bank.json"], in: dir.url)
            #expect(s.stdout.contains("Total params: 18"), "\(s)")
        }
    }

    @Test func notAnNPYFile() throws {
        try withTemporaryFolder { dir in
            try dir.write("k.npy", ramp3)  // a PNG
            try dir.write("good.npy", TestNPY.encode(shape: [2, 2, 3, 2], values: Self.hwio))
            let r = try CLI.run(["import", "k.npy", "-o", "bank.json"], in: dir.url)
            #expect(r.status == 64, "\(r)")
            #expect(r.stderr.contains("k.npy"), "\(r)")
            // A bad bias file is refused as well.
            let b = try CLI.run(["import", "good.npy", "k.npy", "-o", "bank.json"], in: dir.url)
            #expect(b.status == 64, "\(b)")
            let missing = try CLI.run(["import", "nothing.npy"], in: dir.url)
            #expect(missing.status == 64, "\(missing)")
            #expect(!FileManager.default.fileExists(atPath: dir.file("bank.json").path))
        }
    }
}

// MARK: - Built-in banks

@Suite("Built-in banks via the CLI")
struct BuiltinBanksCLITests {
    @Test func listing() throws {
        let r = try CLI.run(["banks"])
        #expect(r.status == 0, "\(r)")
        let names = Set(r.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) })
        for name in ["edges", "sobel", "gaussian", "gabor", "rgb"] { #expect(names.contains(name), "\(name) missing\n\(r)") }
    }

    @Test func parametricJSONRoundTrip() throws {
        try withTemporaryFolder { dir in
            let printed = try CLI.run(["banks", "gaussian:sigma=2"])
            #expect(printed.status == 0, "\(printed)")
            let object = try JSONSerialization.jsonObject(with: Data(printed.stdout.utf8)) as? [String: Any]
            #expect(object?["name"] as? String == "gaussian:sigma=2")
            let weights = (object?["filters"] as? [[String: Any]])?.first?["weights"] as? [[[Double]]]
            #expect(weights?.count == 1 && weights?.first?.count == 13, "σ = 2: one channel, 2⌈6⌉ + 1 = 13 rows")
            try dir.write("g.json", text: printed.stdout)
            try dir.write("img.png", TestPNG.gray8((0..<7).map { y in (0..<9).map { x in (y * 37 + x * x * 3) % 256 } }))
            for format in ["npy", "png"] {
                let a = try CLI.run(["apply", "img.png", "--bank", "gaussian:sigma=2", "--output", "name-\(format)", "--format", format, "--sheet"], in: dir.url)
                let b = try CLI.run(["apply", "img.png", "--bank", "g.json", "--output", "file-\(format)", "--format", format, "--sheet"], in: dir.url)
                #expect(a.status == 0 && b.status == 0, "\(a)\n\(b)")
                let ca = try contentsUnder(dir.file("name-\(format)")), cb = try contentsUnder(dir.file("file-\(format)"))
                #expect(ca.keys.sorted() == ["img.sheet.png", "img/gaussian_sigma2.\(format)"])
                #expect(ca == cb, "--bank gaussian:sigma=2 and --bank g.json differ (\(format))")
            }
        }
    }

    @Test(arguments: ["gaussian:sigma=-1", "gaussian:sigma=0", "gaussian:radius=2", "nosuchbank"])
    func badParameters(_ name: String) throws {
        let r = try CLI.run(["banks", name])
        #expect(r.status == 64, "\(r)")
        #expect(r.stdout.isEmpty, "\(r)")
        #expect(r.errorLines.count == 1 && r.errorLines[0].hasPrefix("convbank: error:"), "\(r)")
    }

    /// `"sobel"` expands in place to `sobel_x`, `sobel_y`, which run with this file's settings (same, zeros).
    /// On `ramp3`: sobel_x centre (3−1) + 2·(6−4) + (9−7) = 8; its top-left corner (zeros outside) 2·2 + 5 = 9;
    /// sobel_y centre (7+16+9) − (1+4+3) = 24; `mine` = 2·v.
    @Test func mixingBuiltinAndOwnFilters() throws {
        try withTemporaryFolder { dir in
            try dir.write("t.png", ramp3)
            try dir.write("bank.json", text: #"{"padding": "same", "filters": ["sobel", {"name": "mine", "weights": [[2]]}]}"#)
            let r = try CLI.run(["apply", "t.png", "--bank", "bank.json", "--output", "out", "--format", "npy"], in: dir.url)
            #expect(r.status == 0, "\(r)")
            #expect(filesUnder(dir.file("out")) == ["t/mine.npy", "t/sobel_x.npy", "t/sobel_y.npy"])
            let sx = try Float32NPY(contentsOf: dir.file("out/t/sobel_x.npy"), rank: 2)
            let sy = try Float32NPY(contentsOf: dir.file("out/t/sobel_y.npy"), rank: 2)
            let mine = try Float32NPY(contentsOf: dir.file("out/t/mine.npy"), rank: 2)
            #expect(sx.shape == [3, 3] && sx[1, 1] == 8 && sx[0, 0] == 9)
            #expect(sy[1, 1] == 24)
            #expect(mine.values == [2, 4, 6, 8, 10, 12, 14, 16, 18])
            let s = try CLI.run(["summary", "--bank", "bank.json"], in: dir.url)
            #expect(s.stdout.contains("Total params: 22"), "2 · (9 + 1) + (1 + 1)\n\(s)")
        }
    }

    @Test(arguments: [
        #"["rgb", {"name": "mine", "weights": [[1]]}]"#,
        #"[{"name": "mine", "weights": [[1]]}, "rgb"]"#,
    ])
    func mixingChannelCountsIsRefused(_ filters: String) throws {
        try withTemporaryFolder { dir in
            try dir.write("t.png", ramp3)
            try dir.write("bank.json", text: #"{"filters": "# + filters + "}")
            let r = try CLI.run(["apply", "t.png", "--bank", "bank.json", "--output", "out"], in: dir.url)
            #expect(r.status == 64, "\(r)")
            #expect(r.errorLines.count == 1, "\(r)")
            #expect(r.stderr.contains("bank.json") && r.stderr.contains("filters[1]"), "\(r)")
            #expect(filesUnder(dir.file("out")).isEmpty)
        }
    }
}
