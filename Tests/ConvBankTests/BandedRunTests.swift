import ConvBankTestSupport
import Foundation
import Testing
@testable import ConvBankEngine

/// Whole-image runs in bands of output rows (`ConvolutionPlan.Banded`: each worker pads only the rows its band reads)
/// against runs on one padded copy of the whole image: the same maps bit for bit, at every kernel level and thread
/// count, over strides, dilations, padding kinds and modes, grouped banks, banks of more than one chunk, activations
/// inside and after the kernels, and maps whose last band is short.
@Suite("Banded whole-image runs")
struct BandedRunTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var filters, channels, groups: Int
        var kernel, stride, dilation: Extent2D
        var padding: Padding
        var mode: PaddingMode
        var activation: Activation
        var height, width: Int
        var testDescription: String { "\(filters)×\(kernel.height)×\(kernel.width)×\(channels)/\(groups) s\(stride) d\(dilation) \(mode) on \(height)×\(width)" }
    }

    static let cases: [Case] = [
        // W3's layer (one wide block of 64, relu in the kernel), 37 output rows: two whole bands and a short one.
        Case(filters: 64, channels: 3, groups: 1, kernel: Extent2D(7), stride: Extent2D(2), dilation: Extent2D(1), padding: .same,
             mode: .zeros, activation: .relu, height: 73, width: 90),
        // 8-filter blocks, reflect, dilation, explicit pads, tanh after the kernels.
        Case(filters: 12, channels: 2, groups: 1, kernel: Extent2D(height: 3, width: 5), stride: Extent2D(height: 1, width: 3),
             dilation: Extent2D(height: 2, width: 1), padding: .explicit(EdgeInsets(top: 2, bottom: 5, left: 3, right: 1)), mode: .reflect,
             activation: .tanh, height: 50, width: 47),
        // More than one chunk of 64 filters (two wide blocks, then 8 + 4 + 1), circular, stride 3, exactly 3 bands.
        Case(filters: 141, channels: 2, groups: 1, kernel: Extent2D(6), stride: Extent2D(3), dilation: Extent2D(1), padding: .same,
             mode: .circular, activation: .linear, height: 144, width: 40),
        // Grouped (each filter reads its own channels), replicate, valid.
        Case(filters: 8, channels: 4, groups: 2, kernel: Extent2D(3), stride: Extent2D(1), dilation: Extent2D(1), padding: .valid,
             mode: .replicate, activation: .relu, height: 40, width: 35),
    ]

    @Test(arguments: cases)
    func equalsTheWholeImageRunBitForBit(_ c: Case) throws {
        var rng = SeededRandom(seed: UInt64(c.filters * 100 + c.height))
        let perGroup = c.channels / c.groups
        let taps = c.kernel.height * c.kernel.width * perGroup
        let list = (0..<c.filters).map { f in
            Filter(name: "f\(f)", kernel: c.kernel, channels: perGroup, weights: (0..<taps).map { _ in Float(rng.int(-1000...1000)) / 997 },
                   bias: Float(rng.int(-50...50)) / 7)
        }
        let bank = FilterBank(name: "banded", filters: list, stride: c.stride, dilation: c.dilation, padding: c.padding, paddingMode: c.mode,
                              activation: c.activation, groups: c.groups)
        let input = Tensor(height: c.height, width: c.width, channels: c.channels,
                           storage: (0..<(c.height * c.width * c.channels)).map { _ in Float(rng.int(0...255)) + Float(rng.int(0...7)) / 8 })
        // Small images (fast tests): bands from any size of padded copy.
        let banded = try ConvolutionPlan(bank: bank, input: input.extent, bandRows: nil, bandedFrom: 0)
        let whole = try ConvolutionPlan(bank: bank, input: input.extent, bandRows: nil, bandedFrom: nil)
        #expect(banded.banded != nil, "the banded path is not taken")
        #expect(whole.banded == nil)
        let reference = whole.run(input, jobs: 1, kernels: .best).map { $0.storage.map(\.bitPattern) }
        for level in KernelLevel.available {
            for jobs in [1, 2, 3] {
                let maps = banded.run(input, jobs: jobs, kernels: level).map { $0.storage.map(\.bitPattern) }
                let f = maps.indices.first { maps[$0] != reference[$0] }
                #expect(f == nil, "\(level), \(jobs) jobs: map \(f ?? 0) differs")
            }
        }
        // The stacked form (a network layer's output) too.
        let stacked = banded.runStacked(input, jobs: 2).storage.map(\.bitPattern)
        #expect(stacked == whole.runStacked(input, jobs: 1).storage.map(\.bitPattern))
    }

    /// A map shorter than two bands, a padded copy under 2 MiB, a low-rank filter, or filters of different origins run on
    /// the whole padded copy.
    @Test func fallsBackWhereBandsDoNotApply() throws {
        let edges = BuiltinBank.edges
        #expect(try ConvolutionPlan(bank: edges, input: Extent2D(height: 31, width: 8000), bandRows: nil).banded == nil)
        #expect(try ConvolutionPlan(bank: edges, input: Extent2D(height: 32, width: 8000), bandRows: nil).banded != nil)
        // A padded copy under 2 MiB stays in cache: no bands.
        #expect(try ConvolutionPlan(bank: edges, input: Extent2D(height: 100, width: 100), bandRows: nil).banded == nil)
        let gaussian = try #require(BuiltinBank.named("gaussian:sigma=2"))
        #expect(try ConvolutionPlan(bank: gaussian, input: Extent2D(height: 1000, width: 1000), bandRows: nil).banded == nil)
        let mixed = FilterBank(name: "mixed", filters: [
            Filter(name: "a", kernel: Extent2D(3), channels: 1, weights: [Float](repeating: 1, count: 9)),
            Filter(name: "b", kernel: Extent2D(5), channels: 1, weights: (0..<25).map { Float($0 % 7) }),
        ], padding: .same)
        #expect(try ConvolutionPlan(bank: mixed, input: Extent2D(height: 1000, width: 1000), bandRows: nil).banded == nil)
        #expect(try ConvolutionPlan(bank: edges, input: Extent2D(height: 1000, width: 1000), bandRows: 16).banded == nil)
    }

    /// The memory a banded run holds, by hand: a 1000×1000 gray image under two 3×3 `same` filters pads to 1002 rows
    /// of 1002 + 16 floats (4 MB: banded); a window is 15 + 3 = 18 of those rows, one per worker, plus 16 spare floats;
    /// then the two maps.
    @Test func memoryByHand() throws {
        let bank = FilterBank(name: "b", filters: [
            Filter(name: "f", kernel: Extent2D(3), channels: 1, weights: [Float](repeating: 1, count: 9)),
            Filter(name: "g", kernel: Extent2D(3), channels: 1, weights: [Float](repeating: 2, count: 9)),
        ], padding: .same)
        let plan = try ConvolutionPlan(bank: bank, input: Extent2D(height: 1000, width: 1000))
        #expect(plan.banded?.windowRows == 18)
        let maps = 2 * 1000 * 1000
        #expect(plan.memoryBytes(jobs: 1) == (18 * 1018 + 16 + maps) * 4)
        let workers = min(2, ProcessInfo.processInfo.activeProcessorCount)
        #expect(plan.memoryBytes(jobs: 2) == (workers * (18 * 1018 + 16) + maps) * 4)
        // On one padded copy: 1002 rows.
        let whole = try ConvolutionPlan(bank: bank, input: Extent2D(height: 1000, width: 1000), bandRows: nil, bandedFrom: nil)
        #expect(whole.memoryBytes(jobs: 2) == (1002 * 1018 + 16 + maps) * 4)
    }
}
