import ConvBankTestSupport
import Foundation
import Testing

/// `--stride`, `--padding`, `--padding-mode`, `--dilation` override the bank; output sizes follow the
/// contract: valid/explicit `out = (in + before + after − ((k − 1)·d + 1)) / s + 1`, same `out = ceil(in / s)`.
///
/// Input: 5×7 (H×W) ramp `v(y, x) = 10·y + x`; bank: one 3×3 all-ones filter, `same` in the file.
@Suite("Bank overrides")
struct OverrideTests {
    static let ramp = (0..<5).map { y in (0..<7).map { x in 10 * y + x } }
    static let ones3 = [[[1.0, 1, 1], [1, 1, 1], [1, 1, 1]]]
    static let bank = TestBank.single(name: "box", weights: ones3, padding: "\"same\"")

    struct Case: Sendable, CustomTestStringConvertible {
        var flags: [String]
        var shape: [Int]
        var testDescription: String { flags.joined(separator: " ") }
    }

    static let cases: [Case] = [
        Case(flags: [], shape: [5, 7]),  // same, stride 1
        Case(flags: ["--padding", "valid"], shape: [3, 5]),  // 5 − 3 + 1, 7 − 3 + 1
        Case(flags: ["--stride", "2"], shape: [3, 4]),  // same: ceil(5/2), ceil(7/2)
        Case(flags: ["--padding", "valid", "--stride", "2"], shape: [2, 3]),  // (5 − 3)/2 + 1, (7 − 3)/2 + 1
        Case(flags: ["--padding", "valid", "--stride", "2,3"], shape: [2, 2]),  // (5 − 3)/2 + 1, (7 − 3)/3 + 1
        Case(flags: ["--padding", "1,0,2,0"], shape: [4, 7]),  // 5 + 1 − 3 + 1, 7 + 2 − 3 + 1
        Case(flags: ["--padding", "2"], shape: [7, 9]),  // 5 + 4 − 3 + 1, 7 + 4 − 3 + 1
        Case(flags: ["--padding", "valid", "--dilation", "2"], shape: [1, 3]),  // span 5: 5 − 5 + 1, 7 − 5 + 1
        Case(flags: ["--dilation", "2"], shape: [5, 7]),  // same keeps the size
        Case(flags: ["--padding", "valid", "--dilation", "1,2"], shape: [3, 3]),  // 5 − 3 + 1, 7 − 5 + 1
        Case(flags: ["--padding", "1,0,2,0", "--stride", "2", "--dilation", "2"], shape: [1, 3]),  // (6 − 5)/2 + 1, (9 − 5)/2 + 1
        Case(flags: ["--padding-mode", "reflect"], shape: [5, 7]),
        Case(flags: ["--padding-mode", "circular", "--padding", "1,0,2,0"], shape: [4, 7]),
    ]

    func run(_ flags: [String], in dir: TemporaryFolder) throws -> (CLI.Result, Float32NPY?) {
        let image = try dir.write("ramp.png", TestPNG.gray8(Self.ramp)).path
        let bank = try dir.write("box.json", text: Self.bank).path
        let out = dir.file("out")
        let r = try CLI.run(["apply", image, "--bank", bank, "--output", out.path, "--format", "npy"] + flags)
        let map = try? Float32NPY(contentsOf: out.appendingPathComponent("ramp/box.npy"), rank: 2)
        return (r, map)
    }

    @Test(arguments: cases)
    func outputSize(_ c: Case) throws {
        try withTemporaryFolder { dir in
            let (r, map) = try run(c.flags, in: dir)
            #expect(r.status == 0, "\(r)")
            #expect(map?.shape == c.shape)
        }
    }

    /// Values at the top-left corner, where the padding shows. Rows around y = 0 and columns around x = 0
    /// read, per mode: zeros → (0), reflect → row/column 1, replicate → 0, circular → the last (4, 6).
    @Test func paddingModesFillTheBorder() throws {
        try withTemporaryFolder { dir in
            // Box sum at (0, 0) = Σ over rows r ∈ R, columns c ∈ C of 10·r + c = 3·10·ΣR + 3·ΣC (all taps present).
            // zeros: rows {0, 1}, columns {0, 1}: Σ (10r + c) over 4 taps = 0 + 1 + 10 + 11 = 22.
            let (z, zm) = try run(["--padding-mode", "zeros"], in: dir)
            #expect(z.status == 0, "\(z)")
            #expect(zm?[0, 0] == 22)
            // reflect: rows {1, 0, 1}, columns {1, 0, 1}: 3·10·2 + 3·2 = 66.
            let (rf, rm) = try run(["--padding-mode", "reflect"], in: dir)
            #expect(rf.status == 0, "\(rf)")
            #expect(rm?[0, 0] == 66)
            // replicate: rows {0, 0, 1}, columns {0, 0, 1}: 3·10·1 + 3·1 = 33.
            let (rp, pm) = try run(["--padding-mode", "replicate"], in: dir)
            #expect(rp.status == 0, "\(rp)")
            #expect(pm?[0, 0] == 33)
            // circular: rows {4, 0, 1}, columns {6, 0, 1}: 3·10·5 + 3·7 = 171.
            let (c, cm) = try run(["--padding-mode", "circular"], in: dir)
            #expect(c.status == 0, "\(c)")
            #expect(cm?[0, 0] == 171)
            // Centre pixel (2, 3) has no padding in any mode: 9·(10·2 + 3) = 207.
            #expect([zm?[2, 3], rm?[2, 3], pm?[2, 3], cm?[2, 3]] == [207, 207, 207, 207])
        }
    }

    /// Explicit `T,B,L,R` = 1,0,2,0 with zeros: output (0, 0) reads rows {−1, 0, 1}, columns {−2, −1, 0}: only
    /// (0, 0) and (1, 0) are inside: 0 + 10 = 10; output (3, 6) reads rows {2, 3, 4}, columns {4, 5, 6}:
    /// 3·10·9 + 3·15 = 315.
    @Test func explicitPaddingIsPlacedAsGiven() throws {
        try withTemporaryFolder { dir in
            let (r, map) = try run(["--padding", "1,0,2,0"], in: dir)
            #expect(r.status == 0, "\(r)")
            #expect(map?.shape == [4, 7])
            #expect(map?[0, 0] == 10)
            #expect(map?[3, 6] == 315)
        }
    }

    /// Stride 2 under same: out 3×4, total pad rows (3−1)·2 + 3 − 5 = 2 → 1/1; columns (4−1)·2 + 3 − 7 = 2 → 1/1.
    /// Output (0, 0) reads rows {−1, 0, 1}, columns {−1, 0, 1} → 22; output (2, 3) reads rows {3, 4, 5}, columns
    /// {5, 6, 7}, of which rows 3, 4 × columns 5, 6 are inside: 35 + 36 + 45 + 46 = 162.
    @Test func strideUnderSame() throws {
        try withTemporaryFolder { dir in
            let (r, map) = try run(["--stride", "2"], in: dir)
            #expect(r.status == 0, "\(r)")
            #expect(map?.shape == [3, 4])
            #expect(map?[0, 0] == 22)
            #expect(map?[2, 3] == 162)
        }
    }

    /// Dilation 2, valid: output (0, 0) reads rows {0, 2, 4}, columns {0, 2, 4}: 3·10·6 + 3·6 = 198.
    @Test func dilationSpreadsTheTaps() throws {
        try withTemporaryFolder { dir in
            let (r, map) = try run(["--padding", "valid", "--dilation", "2"], in: dir)
            #expect(r.status == 0, "\(r)")
            #expect(map?.values == [198, 207, 216])  // one column right: each of the 9 taps reads 1 more
        }
    }

    /// `reflect` cannot fill a pad as wide as the image: an error for that image only (exit 1), the others go on.
    @Test func reflectWiderThanTheImageFailsThatImage() throws {
        try withTemporaryFolder { dir in
            let small = try dir.write("in/small.png", TestPNG.gray8([[1, 2, 3], [4, 5, 6], [7, 8, 9]])).path
            let big = try dir.write("in/big.png", TestPNG.gray8(Self.ramp)).path
            let bank = try dir.write("box.json", text: Self.bank).path
            let out = dir.file("out")
            // Pad 3 on every side: 3 ≥ 3 (small) cannot be reflected; 3 < 5 and 3 < 7 (big) can.
            let r = try CLI.run(["apply", small, big, "--bank", bank, "--output", out.path, "--format", "npy",
                                 "--padding", "3", "--padding-mode", "reflect", "--quiet"])
            #expect(r.status == 1, "\(r)")
            #expect(r.errorLines.count == 1, "\(r)")
            #expect(r.errorLines.first?.contains(small) == true, "\(r)")
            #expect(r.errorLines.first?.contains("reflect") == true, "\(r)")
            #expect(filesUnder(out) == ["big/box.npy"])
            // 5 + 6 − 3 + 1 = 9, 7 + 6 − 3 + 1 = 11.
            #expect(try Float32NPY(contentsOf: out.appendingPathComponent("big/box.npy"), rank: 2).shape == [9, 11])
            // The widest pad reflect can fill on the small image is 2.
            let ok = try CLI.run(["apply", small, "--bank", bank, "--output", out.path, "--format", "npy",
                                  "--padding", "2", "--padding-mode", "reflect"])
            #expect(ok.status == 0, "\(ok)")
            #expect(try Float32NPY(contentsOf: out.appendingPathComponent("small/box.npy"), rank: 2).shape == [5, 5])
        }
    }

    /// A kernel that does not fit the image is an error for that image.
    @Test func kernelLargerThanTheImageFailsThatImage() throws {
        try withTemporaryFolder { dir in
            let (r, map) = try run(["--padding", "valid", "--dilation", "3"], in: dir)  // span 7 > 5 rows
            #expect(r.status == 1, "\(r)")
            #expect(map == nil)
            #expect(r.stderr.contains("ramp.png"), "\(r)")
        }
    }

    @Test func summaryReflectsOverrides() throws {
        try withTemporaryFolder { dir in
            let bank = try dir.write("box.json", text: Self.bank).path
            let r = try CLI.run(["summary", "--bank", bank, "--input-size", "5,7", "--stride", "2"])
            #expect(r.status == 0, "\(r)")
            #expect(r.stdout.contains("3×4"), "\(r)")  // ceil(5/2) × ceil(7/2)
            #expect(r.stdout.contains("1,1,1,1"), "\(r)")  // pads, as worked out in strideUnderSame
            #expect(r.stdout.split(separator: "\n").contains("Total params: 10"), "\(r)")  // 3·3·1 + 1
        }
    }
}
