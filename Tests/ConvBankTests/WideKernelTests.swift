import ConvBankTestSupport
import Testing
@testable import ConvBankEngine

/// The wide kernel (filters in the vector lanes, `CConvKernels/wide.c`) against the 8-filter kernel (pixels in the
/// lanes, itself checked against Keras goldens and the naive oracle): the same maps bit for bit — the documented
/// order of additions — at every kernel level and thread count, over strides, dilations, padding kinds and modes,
/// activations, row tails of every width, and outputs large enough for its non-temporal stores.
@Suite("Wide kernel")
struct WideKernelTests {
    func bits(_ maps: [Tensor]) -> [[UInt32]] { maps.map { $0.storage.map(\.bitPattern) } }

    /// Where two map sets first differ ("map f, value i: a vs b"), or nil when they are identical bit for bit.
    func difference(_ a: [[UInt32]], _ b: [[UInt32]]) -> String? {
        guard a.count == b.count else { return "\(a.count) maps vs \(b.count)" }
        for (f, (x, y)) in zip(a, b).enumerated() where x != y {
            guard x.count == y.count else { return "map \(f): \(x.count) values vs \(y.count)" }
            let i = x.indices.first { x[$0] != y[$0] }!
            return "map \(f), value \(i): \(Float(bitPattern: x[i])) vs \(Float(bitPattern: y[i]))"
        }
        return nil
    }

    func randomBank(_ rng: inout SeededRandom, filters: Int, channels: Int, kernel: Extent2D, stride: Extent2D, dilation: Extent2D,
                    padding: Padding, mode: PaddingMode, activation: Activation) -> FilterBank {
        let taps = kernel.height * kernel.width * channels
        let list = (0..<filters).map { f in
            Filter(name: "f\(f)", kernel: kernel, channels: channels, weights: (0..<taps).map { _ in Float(rng.int(-1000...1000)) / 997 },
                   bias: Float(rng.int(-50...50)) / 7)
        }
        return FilterBank(name: "wide", filters: list, stride: stride, dilation: dilation, padding: padding, paddingMode: mode,
                          activation: activation)
    }

    func image(_ rng: inout SeededRandom, _ height: Int, _ width: Int, _ channels: Int) -> Tensor {
        Tensor(height: height, width: width, channels: channels,
               storage: (0..<(height * width * channels)).map { _ in Float(rng.int(0...255)) + Float(rng.int(0...7)) / 8 })
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var filters, channels: Int
        var kernel, stride, dilation: Extent2D
        var padding: Padding
        var mode: PaddingMode
        var activation: Activation
        var height, width: Int
        var testDescription: String { "\(filters)×\(kernel.height)×\(kernel.width)×\(channels) s\(stride) on \(height)×\(width)" }
    }

    static let cases: [Case] = [
        // W3's shape on a small image: one block of 64, stride 2, same, relu (fused in the kernel).
        Case(filters: 64, channels: 3, kernel: Extent2D(7), stride: Extent2D(2), dilation: Extent2D(1), padding: .same, mode: .zeros,
             activation: .relu, height: 45, width: 61),
        // 40 filters: a wide block of 32, then one of 8 on the 8-filter kernel; reflect, explicit pads, dilation.
        Case(filters: 40, channels: 2, kernel: Extent2D(height: 5, width: 7), stride: Extent2D(height: 1, width: 3),
             dilation: Extent2D(height: 2, width: 1), padding: .explicit(EdgeInsets(top: 3, bottom: 1, left: 4, right: 2)), mode: .reflect,
             activation: .linear, height: 33, width: 50),
        // 33 filters (32 + 1), valid, replicate, tanh after the kernel; rows of 67 (one 48-pixel group and a tail of 19).
        Case(filters: 33, channels: 4, kernel: Extent2D(4), stride: Extent2D(1), dilation: Extent2D(1), padding: .valid, mode: .replicate,
             activation: .tanh, height: 20, width: 70),
        // 70 filters (64 + 4 + 1 + 1), one channel, stride 3, circular, sigmoid; rows narrower than one micro-tile.
        Case(filters: 70, channels: 1, kernel: Extent2D(height: 9, width: 8), stride: Extent2D(3), dilation: Extent2D(1), padding: .same,
             mode: .circular, activation: .sigmoid, height: 50, width: 14),
    ]

    @Test(arguments: cases)
    func equalsTheEightFilterKernelBitForBit(_ c: Case) throws {
        var rng = SeededRandom(seed: UInt64(c.filters * 1000 + c.width))
        let bank = randomBank(&rng, filters: c.filters, channels: c.channels, kernel: c.kernel, stride: c.stride, dilation: c.dilation,
                              padding: c.padding, mode: c.mode, activation: c.activation)
        let input = image(&rng, c.height, c.width, c.channels)
        let wide = try ConvolutionPlan(bank: bank, input: input.extent, bandRows: nil)
        let narrow = try ConvolutionPlan(bank: bank, input: input.extent, bandRows: nil, wideBlocks: false)
        #expect(wide.blocks.contains { $0.width >= 32 }, "the wide kernel is not used")
        #expect(narrow.blocks.allSatisfy { $0.width <= 8 })
        let reference = bits(narrow.run(input, jobs: 1, kernels: .portable))
        for level in KernelLevel.available {
            for jobs in [1, 2] {
                let found = difference(bits(wide.run(input, jobs: jobs, kernels: level)), reference)
                #expect(found == nil, "\(level), \(jobs) jobs: \(found ?? "")")
            }
        }
        // And against the formula itself (float64 oracle), to float32 rounding.
        let oracle = try naiveConvolution(input, bank)
        let maps = wide.run(input, jobs: 2)
        for f in [0, c.filters / 2, c.filters - 1] {
            for y in Swift.stride(from: 0, to: maps[f].height, by: 3) {
                for x in 0..<maps[f].width {
                    let expected = oracle[f][y][x]
                    #expect(abs(Double(maps[f][y, x, 0]) - expected) <= 1e-4 * max(1, abs(expected)), "f\(f) (\(y), \(x))")
                }
            }
        }
    }

    /// Outputs past `streamingStoreBytes` are written with non-temporal stores, which need aligned blocks: each map row
    /// starts at its own alignment (the carried values and ordinary stores at a row's ends). Still the same bits.
    @Test func nonTemporalStoresKeepTheBits() throws {
        var rng = SeededRandom(seed: 9)
        let bank = randomBank(&rng, filters: 64, channels: 1, kernel: Extent2D(8), stride: Extent2D(1), dilation: Extent2D(1),
                              padding: .same, mode: .zeros, activation: .relu)
        let input = image(&rng, 182, 183, 1)
        let wide = try ConvolutionPlan(bank: bank, input: input.extent, bandRows: nil)
        let narrow = try ConvolutionPlan(bank: bank, input: input.extent, bandRows: nil, wideBlocks: false)
        let block = try #require(wide.blocks.first)
        #expect(block.width == 64)
        #expect(ConvolutionPlan.streamsStores(block: block, rows: 182, width: 183, epilogue: wide.epilogue))
        #expect(!ConvolutionPlan.streamsStores(block: block, rows: 182, width: 183, epilogue: .after(.tanh)))
        #expect(!ConvolutionPlan.streamsStores(block: block, rows: 8, width: 183, epilogue: wide.epilogue))
        let reference = bits(narrow.run(input, jobs: 2, kernels: .best))
        for level in KernelLevel.available {
            let found = difference(bits(wide.run(input, jobs: 2, kernels: level)), reference)
            #expect(found == nil, "\(level): \(found ?? "")")
        }
    }

    /// The stream's bands run the wide kernel on a window of rows: the same maps as the whole-image run.
    @Test func streamedBandsEqualTheWholeRun() throws {
        var rng = SeededRandom(seed: 31)
        let bank = randomBank(&rng, filters: 48, channels: 3, kernel: Extent2D(5), stride: Extent2D(2), dilation: Extent2D(1),
                              padding: .same, mode: .zeros, activation: .relu)
        let input = image(&rng, 40, 29, 3)
        let whole = bits(try ConvolutionPlan(bank: bank, input: input.extent).run(input, jobs: 2))
        let stream = try ConvolutionStream(bank: bank, input: input.extent, bandRows: 3, jobs: 2)
        #expect(stream.plan.blocks.contains { $0.width >= 32 })
        var maps = stream.plan.filters.map { [Float](repeating: .nan, count: $0.geometry.output.height * $0.geometry.output.width) }
        let emit: ConvolutionStream.Emit<Never> = { f, firstRow, band in
            for (k, value) in band.enumerated() { maps[f][firstRow * stream.plan.filters[f].geometry.output.width + k] = value }
        }
        for row in Swift.stride(from: 0, to: input.height, by: 7) {
            let n = min(7, input.height - row)
            var rows = [Float](repeating: 0, count: n * input.width * input.channels)
            for c in 0..<input.channels {
                for r in 0..<n {
                    for x in 0..<input.width { rows[(c * n + r) * input.width + x] = input[row + r, x, c] }
                }
            }
            stream.push(Tensor(height: n, width: input.width, channels: input.channels, storage: rows), emit: emit)
        }
        stream.finish(emit: emit)
        let found = difference(maps.map { $0.map(\.bitPattern) }, whole)
        #expect(found == nil, "\(found ?? "")")
    }
}
