import ConvBankImageIO
import ConvBankTestSupport
import Foundation
import Testing

/// Edge strength (`--combine`, a bank's `"combine"`, `sobel-magnitude`) and inline kernels (`--bank 'WxH: …'`)
/// through the real binary, against scipy references from `scripts/make_edge_goldens.py`
/// (`Tests/ConvBankTests/Fixtures/edges/`).
@Suite("Edge strength and inline kernels")
struct EdgeAndInlineTests {
    static let fixtures = CLI.repository.appendingPathComponent("Tests/ConvBankTests/Fixtures/edges")
    static var image: String { fixtures.appendingPathComponent("image.png").path }

    static func golden(_ name: String) throws -> Float32NPY {
        try Float32NPY(contentsOf: fixtures.appendingPathComponent(name), rank: 2)
    }

    static func map(_ out: URL, _ relative: String) throws -> Float32NPY {
        try Float32NPY(contentsOf: out.appendingPathComponent(relative), rank: 2)
    }

    // MARK: - Edge strength

    /// The Sobel pair with zeros `same` padding: gx, gy exactly scipy's; the magnitude exactly √ of the float64 sum
    /// of squares rounded once (integers: every step exact), the orientation within float rounding of arctan2.
    @Test func sobelMagnitudeAndOrientationMatchNumpy() throws {
        try withTemporaryFolder { dir in
            let out = dir.file("out")
            var r = try CLI.run(["apply", Self.image, "--bank", "sobel", "--padding-mode", "zeros", "-o", out.path, "--format", "npy"])
            #expect(r.status == 0, "\(r)")
            #expect(try Self.map(out, "image/sobel_x.npy") == Self.golden("sobel_zeros_x.npy"))
            #expect(try Self.map(out, "image/sobel_y.npy") == Self.golden("sobel_zeros_y.npy"))

            let combined = dir.file("combined")
            r = try CLI.run(["apply", Self.image, "--bank", "sobel", "--padding-mode", "zeros", "--combine", "magnitude,orientation",
                             "-o", combined.path, "--format", "npy"])
            #expect(r.status == 0, "\(r)")
            // Only the combined maps are written.
            #expect(filesUnder(combined) == ["image/magnitude.npy", "image/orientation.npy"])
            let magnitude = try Self.map(combined, "image/magnitude.npy")
            #expect(magnitude == (try Self.golden("sobel_zeros_magnitude.npy")))
            let orientation = try Self.map(combined, "image/orientation.npy"), expected = try Self.golden("sobel_zeros_orientation.npy")
            #expect(orientation.shape == expected.shape)
            for (a, b) in zip(orientation.values, expected.values) { #expect(abs(a - b) <= 1e-6, "\(a) vs \(b)") }
            #expect(orientation.values.allSatisfy { abs($0) <= Float.pi })
        }
    }

    @Test func builtinSobelMagnitudeIsOneMapWithReplicatePadding() throws {
        try withTemporaryFolder { dir in
            let out = dir.file("out")
            var r = try CLI.run(["apply", Self.image, "--bank", "sobel-magnitude", "-o", out.path, "--format", "npy", "--layout", "flat", "--stats"])
            #expect(r.status == 0, "\(r)")
            // One map: the flat layout names it after the input alone.
            #expect(filesUnder(out) == ["image.npy", "stats.csv"])
            let golden = try Self.golden("sobel_replicate_magnitude.npy")
            #expect(try Self.map(out, "image.npy") == golden)
            let csv = parseCSV(String(decoding: try bytes(of: out.appendingPathComponent("stats.csv")), as: UTF8.self))
            #expect(csv.count == 2 && csv[1][1] == "magnitude" && Float(csv[1][3]) == golden.values.max())

            // PNG under the default clamp holds the magnitude rounded and clipped to 0…255.
            let png = dir.file("png")
            r = try CLI.run(["apply", Self.image, "--bank", "sobel-magnitude", "-o", png.path])
            #expect(r.status == 0, "\(r)")
            let levels = try ImageCodec.decode(path: png.appendingPathComponent("image/magnitude.png").path).tensor.storage
            #expect(levels == golden.values.map { min(max($0.rounded(.toNearestOrAwayFromZero), 0), 255) })

            // `banks sobel-magnitude` prints JSON that reads back to the same maps.
            let json = try CLI.run(["banks", "sobel-magnitude"])
            #expect(json.status == 0 && json.stdout.contains("\"combine\""), "\(json)")
            let file = try dir.write("sm.json", text: json.stdout).path
            let again = dir.file("again")
            r = try CLI.run(["apply", Self.image, "--bank", file, "-o", again.path, "--format", "npy"])
            #expect(r.status == 0, "\(r)")
            #expect(try Self.map(again, "image/magnitude.npy") == golden)
        }
    }

    /// Named pairs in a bank file: two magnitudes from a four-filter bank.
    @Test func namedPairsInABankFile() throws {
        try withTemporaryFolder { dir in
            let bank = try dir.write("pairs.json", text: """
                {"name": "pairs", "padding": "same", "filters": ["sobel", "scharr"],
                 "combine": [{"name": "sobel_strength", "op": "magnitude", "x": "sobel_x", "y": "sobel_y"},
                             {"name": "scharr_strength", "op": "magnitude", "x": "scharr_x", "y": "scharr_y"}]}
                """).path
            let out = dir.file("out")
            let r = try CLI.run(["apply", Self.image, "--bank", bank, "-o", out.path, "--format", "npy"])
            #expect(r.status == 0, "\(r)")
            #expect(filesUnder(out) == ["image/scharr_strength.npy", "image/sobel_strength.npy"])
            #expect(try Self.map(out, "image/sobel_strength.npy") == Self.golden("sobel_zeros_magnitude.npy"))
            let summary = try CLI.run(["summary", "--bank", bank])
            #expect(summary.stdout.contains("sobel_strength = √(sobel_x² + sobel_y²)"), "\(summary)")
            // --combine none writes the four filters' maps again.
            let plain = try CLI.run(["apply", Self.image, "--bank", bank, "--combine", "none", "-o", dir.file("plain").path, "--format", "npy"])
            #expect(plain.status == 0 && filesUnder(dir.file("plain")).count == 4, "\(plain)")
        }
    }

    @Test func badCombinationsAreUsageErrors() throws {
        try withTemporaryFolder { dir in
            let cases: [([String], String)] = [
                (["--bank", "edges", "--combine", "magnitude"], "exactly two"),
                (["--bank", "sobel", "--combine", "length"], "unknown operation 'length'"),
                (["--bank", "sobel", "--combine", "magnitude,magnitude"], "given twice"),
            ]
            for (args, message) in cases {
                let r = try CLI.run(["apply", Self.image, "-o", dir.file("out").path] + args)
                #expect(r.status == 64 && r.stderr.contains(message), "\(args): \(r)")
            }
            let bank = try dir.write("bad.json", text: #"{"padding": "same", "filters": ["sobel"], "combine": [{"op": "magnitude", "x": "sobel_x", "y": "nope"}]}"#).path
            let r = try CLI.run(["summary", "--bank", bank])
            #expect(r.status == 64 && r.stderr.contains("combine[0].y: no filter named 'nope'"), "\(r)")
        }
    }

    /// `explain` shows the two values and the magnitude, equal to the map's value.
    @Test func explainTakesTheMagnitudeApart() throws {
        let golden = try Self.golden("sobel_zeros_magnitude.npy"), gx = try Self.golden("sobel_zeros_x.npy"), gy = try Self.golden("sobel_zeros_y.npy")
        let (x, y) = (4, 3), k = 3 * 9 + 4
        let r = try CLI.run(["explain", "--bank", "sobel", "--padding-mode", "zeros", "--combine", "magnitude", Self.image,
                             "--at", "\(x),\(y)", "--filter", "magnitude"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("filter 'sobel_x'") && r.stdout.contains("filter 'sobel_y'"), "\(r)")
        func text(_ v: Float) -> String { v == v.rounded() ? String(Int(v)) : "\(v)" }
        let line = try #require(r.stdout.split(separator: "\n").last { $0.hasPrefix("magnitude = ") })
        #expect(line.hasSuffix("= \(golden.values[k])"), "\(line) vs \(golden.values[k])")
        #expect(line.contains(gx.values[k] < 0 ? "(\(text(gx.values[k])))²" : "\(text(gx.values[k]))²"), "\(line)")
        #expect(line.contains(gy.values[k] < 0 ? "(\(text(gy.values[k])))²" : "\(text(gy.values[k]))²"), "\(line)")
    }

    // MARK: - Inline kernels

    @Test func inlineSharpenMatchesScipy() throws {
        try withTemporaryFolder { dir in
            let out = dir.file("out")
            let r = try CLI.run(["apply", Self.image, "--bank", "3x3: 0,-1,0,-1,5,-1,0,-1,0", "-o", out.path, "--format", "npy"])
            #expect(r.status == 0, "\(r)")
            #expect(filesUnder(out) == ["image/kernel.npy"])
            #expect(try Self.map(out, "image/kernel.npy") == Self.golden("sharpen_zeros.npy"))
            // Spaces only, or spaces and commas, are the same kernel.
            let spaced = dir.file("spaced")
            let s = try CLI.run(["apply", Self.image, "--bank", " 3X3 :0 -1 0, -1 5 -1 ,0,-1,0 ", "-o", spaced.path, "--format", "npy"])
            #expect(s.status == 0, "\(s)")
            #expect(try Self.map(spaced, "image/kernel.npy") == Self.golden("sharpen_zeros.npy"))
        }
    }

    /// `WxH`: W columns, H rows, values row by row — `3x1` is a row, `1x3` a column.
    @Test func inlineWidthThenHeight() throws {
        try withTemporaryFolder { dir in
            for (spec, golden) in [("3x1: -1 0 2", "row_zeros.npy"), ("1x3: -1,0,2", "column_zeros.npy")] {
                let out = dir.file(golden)
                let r = try CLI.run(["apply", Self.image, "--bank", spec, "-o", out.path, "--format", "npy", "--layout", "flat"])
                #expect(r.status == 0, "\(r)")
                #expect(try Self.map(out, "image.npy") == Self.golden(golden), "\(spec)")
            }
            let summary = try CLI.run(["summary", "--bank", "3x1: -1 0 2"])
            #expect(summary.stdout.contains("kernel   1×3×1"), "\(summary)")
            // A 2x3 kernel: row-by-row order (2 columns per row) shows in explain's weights.
            let explain = try CLI.run(["explain", "--bank", "2x3: 1,2,3,4,5,6", Self.image, "--at", "0,0"])
            #expect(explain.status == 0, "\(explain)")
            #expect(explain.stdout.contains("[ 1 2 ]") && explain.stdout.contains("[ 3 4 ]") && explain.stdout.contains("[ 5 6 ]"), "\(explain)")
        }
    }

    @Test func badInlineKernelsAreUsageErrors() throws {
        let cases: [(String, String)] = [
            ("3x3: 1,2,3", "expected 3·3 = 9 numbers"),
            ("2x2: 1,2,x,4", "value 3 (row 2, column 1): 'x' is not a number"),
            ("2x1: nan 1", "NaN and infinities"),
            ("2x1: 1 inf", "NaN and infinities"),
            ("1x1: 1e39", "beyond float32"),
            ("0x3: ", "the width must be a whole number in 1…999999999, found 0"),
            ("3x0: ", "the height must be"),
            ("1000000000x1: 1", "the width must be"),
            ("99999999999999999999x1: 1", "the width must be"),
            ("999999999x999999999: 1", "expected 999999999·999999999"),
            ("3x3+1+1: 0,0,0,0,1,0,0,0,0", "origin offset"),
        ]
        for (spec, message) in cases {
            let r = try CLI.run(["summary", "--bank", spec])
            #expect(r.status == 64, "\(spec): \(r)")
            #expect(r.errorLines.count == 1 && r.stderr.contains(message), "\(spec): \(r)")
        }
    }

    /// A file named like an inline kernel is read as the file.
    @Test func aFileNamedLikeAKernelWins() throws {
        try withTemporaryFolder { dir in
            _ = try dir.write("3x1: 1 1 1", text: #"{"name": "from-file", "filters": [{"name": "f", "weights": [[7]]}]}"#)
            let r = try CLI.run(["summary", "--bank", "3x1: 1 1 1"], in: dir.url)
            #expect(r.status == 0 && r.stdout.contains("Bank \"from-file\""), "\(r)")
            let inline = try CLI.run(["summary", "--bank", "3x1: 1 1 1"])
            #expect(inline.status == 0 && inline.stdout.contains("kernel"), "\(inline)")
        }
    }
}
