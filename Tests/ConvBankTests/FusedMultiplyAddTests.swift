import ConvBankTestSupport
import Testing
@testable import ConvBankEngine

/// Each tap is one fused multiply-add, `acc + x · w` rounded once, at every kernel level — the FMA instruction in
/// the AVX2 and AVX-512 copies, an exact double-precision emulation in the portable x86-64 copy — checked against
/// Swift's `addingProduct` (IEEE fusedMultiplyAdd, computed by the C library) in the documented order, on inputs
/// where a plain multiply-then-add and a naive double-precision emulation both give other bits.
@Suite("Fused multiply-add")
struct FusedMultiplyAddTests {
    /// 1 + 2⁻²³, then a product of 2⁻²⁴ − 2⁻⁶⁰: the exact sum lies just below the float midpoint 1 + 2⁻²³ + 2⁻²⁴, so
    /// the fused result is 1 + 2⁻²³. Rounded twice (the product to float, or the sum to double first) it lands on the
    /// midpoint, which ties to the even 1 + 2⁻²².
    static let first: Float = 1 + 0x1p-23
    static let left: Float = 0x1p-12 * (1 + 0x1p-18)
    static let right: Float = 0x1p-12 * (1 - 0x1p-18)

    /// An 8×8 one-channel kernel (64 taps, so blocks of 32 filters take the wide kernel): random weights (full rank,
    /// so no low-rank passes) except the first two taps, 1 and `right`.
    static func bank(filters: Int, seed: UInt64) -> FilterBank {
        var rng = SeededRandom(seed: seed)
        let list = (0..<filters).map { f in
            var weights = (0..<64).map { _ in Float(rng.int(-1000...1000)) / 997 }
            weights[0] = 1
            weights[1] = right
            return Filter(name: "f\(f)", kernel: Extent2D(8), channels: 1, weights: weights, bias: Float(rng.int(-8...8)) / 8)
        }
        return FilterBank(name: "fma", filters: list, padding: .valid, activation: .linear)
    }

    /// Zeros, with the pair (`first`, `left`) every 8 rows and 8 columns: the window at each pair's position reads
    /// that pair at its first two taps and zeros elsewhere.
    static func image() -> Tensor {
        let height = 24, width = 88
        var values = [Float](repeating: 0, count: height * width)
        for y in stride(from: 0, to: height, by: 8) {
            for x in stride(from: 0, to: width - 1, by: 8) {
                values[y * width + x] = first
                values[y * width + x + 1] = left
            }
        }
        return Tensor(height: height, width: width, channels: 1, storage: values)
    }

    /// Filter `filter`'s output at (y, x), in the documented order with `step` as each tap's multiply-add.
    static func reference(_ bank: FilterBank, _ image: Tensor, filter: Int, y: Int, x: Int, step: (Float, Float, Float) -> Float) -> Float {
        let f = bank.filters[filter]
        var acc: Float = 0
        for i in 0..<8 {
            for j in 0..<8 { acc = step(acc, image[y + i, x + j, 0], f[0, i, j]) }
        }
        return acc + f.bias
    }

    static func fused(_ acc: Float, _ x: Float, _ w: Float) -> Float { acc.addingProduct(x, w) }

    @Test func theInputsTellTheRoundingsApart() {
        let fused = Self.fused(Self.first, Self.left, Self.right)
        #expect(fused == 1 + 0x1p-23)
        #expect(Self.first + Self.left * Self.right == 1 + 0x1p-22)
        #expect(Float(Double(Self.first) + Double(Self.left) * Double(Self.right)) == 1 + 0x1p-22)
    }

    @Test(arguments: [(filters: 32, wide: true), (filters: 8, wide: false), (filters: 1, wide: false)])
    func everyLevelFusesEachTap(filters: Int, wide: Bool) throws {
        let bank = Self.bank(filters: filters, seed: UInt64(filters))
        let input = Self.image()
        let plan = try ConvolutionPlan(bank: bank, input: input.extent, bandRows: nil, wideBlocks: wide)
        #expect(plan.passes.allSatisfy { $0 == nil }, "a low-rank filter: the test needs the direct kernels")
        #expect(plan.blocks.contains { $0.width >= 32 } == wide)
        let out = plan.filters[0].geometry.output
        var expected: [[Float]] = []
        var plainDiffers = 0
        for f in 0..<filters {
            var map: [Float] = []
            for y in 0..<out.height {
                for x in 0..<out.width {
                    let value = Self.reference(bank, input, filter: f, y: y, x: x, step: Self.fused)
                    map.append(value)
                    if value != Self.reference(bank, input, filter: f, y: y, x: x, step: { $0 + $1 * $2 }) { plainDiffers += 1 }
                }
            }
            expected.append(map)
        }
        #expect(plainDiffers >= filters * 3 * 10, "too few outputs where fusing changes the bits: \(plainDiffers)")
        for level in KernelLevel.available {
            for jobs in [1, 2] {
                let maps = plan.run(input, jobs: jobs, kernels: level)
                for f in 0..<filters {
                    let found = maps[f].storage.map(\.bitPattern), want = expected[f].map(\.bitPattern)
                    let i = found.indices.first { found[$0] != want[$0] }
                    #expect(i == nil, "\(level), \(jobs) jobs, filter \(f), value \(i ?? 0): \(maps[f].storage[i ?? 0]) vs \(expected[f][i ?? 0])")
                }
            }
        }
        // `explain` takes the same steps.
        let e = try bank.explain(input, filter: 0, x: 8, y: 8)
        #expect(e.postActivation.bitPattern == expected[0][8 * out.width + 8].bitPattern)
    }
}
