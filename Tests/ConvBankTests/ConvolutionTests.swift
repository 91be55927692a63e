import ConvBankTestSupport
import Foundation
import Testing
@testable import ConvBankBatch
@testable import ConvBankEngine
@testable import ConvBankImageIO
@testable import ConvBankPictures

/// A one-channel bank of one filter.
private func bank(_ rows: [[Float]], channels: Int = 1, bias: Float = 0, stride: Extent2D = Extent2D(1), dilation: Extent2D = Extent2D(1),
                  padding: Padding = .valid, mode: PaddingMode = .zeros, activation: Activation = .linear) -> FilterBank {
    FilterBank(name: "t", filters: [Filter(name: "f", kernel: rows, channelWeights: [Float](repeating: 1, count: channels), bias: bias)],
               stride: stride, dilation: dilation, padding: padding, paddingMode: mode, activation: activation)
}

private func row(_ values: [Float]) -> Tensor { Tensor(height: 1, width: values.count, channels: 1, storage: values) }

@Suite struct ConvolutionTests {
    /// A 1×1 identity kernel with explicit pads returns the padded row itself: each mode written out by hand.
    @Test(arguments: [
        (PaddingMode.zeros, [0, 0, 0, 1, 2, 3, 4, 0, 0, 0] as [Float]),
        (.reflect, [4, 3, 2, 1, 2, 3, 4, 3, 2, 1]),     // dcb|abcd|cba
        (.replicate, [1, 1, 1, 1, 2, 3, 4, 4, 4, 4]),   // aaa|abcd|ddd
        (.circular, [2, 3, 4, 1, 2, 3, 4, 1, 2, 3]),    // bcd|abcd|abc
    ])
    func paddingModes(_ mode: PaddingMode, _ expected: [Float]) throws {
        let b = bank([[1]], padding: .explicit(EdgeInsets(top: 0, bottom: 0, left: 3, right: 3)), mode: mode)
        let out = try b.convolve(row([1, 2, 3, 4]))[0]
        #expect(out.storage == expected)
    }

    /// The corners of a 2-D pad: 2×2 image [[1, 2], [3, 4]], pad 1 on every side.
    @Test(arguments: [
        (PaddingMode.reflect, [4, 3, 4, 3, 2, 1, 2, 1, 4, 3, 4, 3, 2, 1, 2, 1] as [Float]),
        (.replicate, [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]),
        (.zeros, [0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0]),
    ])
    func paddingCorners(_ mode: PaddingMode, _ expected: [Float]) throws {
        let image = Tensor(height: 2, width: 2, channels: 1, storage: [1, 2, 3, 4])
        let out = try bank([[1]], padding: .explicit(EdgeInsets(1)), mode: mode).convolve(image)[0]
        #expect(out.height == 4 && out.width == 4)
        #expect(out.storage == expected)
    }

    @Test func circularOnThreeColumns() throws {
        // [1 2 3] padded by 2 on both sides: 2 3 | 1 2 3 | 1 2
        let out = try bank([[1]], padding: .explicit(EdgeInsets(top: 0, bottom: 0, left: 2, right: 2)), mode: .circular).convolve(row([1, 2, 3]))[0]
        #expect(out.storage == [2, 3, 1, 2, 3, 1, 2])
    }

    @Test func reflectWiderThanImageIsRefused() {
        let b = bank([[1]], padding: .explicit(EdgeInsets(top: 0, bottom: 0, left: 4, right: 0)), mode: .reflect)
        #expect(throws: ConvolutionError.padTooWide(mode: .reflect, insets: EdgeInsets(top: 0, bottom: 0, left: 4, right: 0), input: Extent2D(height: 1, width: 4))) {
            try b.convolve(row([1, 2, 3, 4]))
        }
    }

    /// Stride 2 and dilation 3 on the row 0…6 with taps [1, 10]: span 4, out (7 − 4)/2 + 1 = 2.
    @Test func strideAndDilation() throws {
        let out = try bank([[1, 10]], stride: Extent2D(2), dilation: Extent2D(3)).convolve(row([0, 1, 2, 3, 4, 5, 6]))[0]
        let expected: [Float] = [30, 52]  // 0·1 + 3·10, 2·1 + 5·10
        #expect(out.storage == expected)
    }

    /// SAME with stride 2 on 6 columns: pads 0 left, 1 right (TensorFlow), so the last window sees 5, 6 and a zero.
    @Test func asymmetricSameSplit() throws {
        let out = try bank([[1, 1, 1]], stride: Extent2D(2), padding: .same).convolve(row([1, 2, 3, 4, 5, 6]))[0]
        let expected: [Float] = [6, 12, 11]  // 1+2+3, 3+4+5, 5+6+0
        #expect(out.storage == expected)
        // Even kernel, stride 1: pads 0/1, so the window starts at the pixel itself.
        let even = try bank([[1, 10]], padding: .same).convolve(row([1, 2, 3]))[0]
        #expect(even.storage == [21, 32, 3])
    }

    /// The channel sum: R = 1, G = 100, B = 10000 under a 2×2 all-ones filter gives 4 + 400 + 40000.
    @Test func channelSum40404() throws {
        let plane = [Float](repeating: 1, count: 9)
        let image = Tensor(height: 3, width: 3, channels: 3, storage: plane + plane.map { $0 * 100 } + plane.map { $0 * 10000 })
        let b = bank([[1, 1], [1, 1]], channels: 3, activation: .relu)
        #expect(b.parameterCount == 13)
        let out = try b.convolve(image)[0]
        #expect(out.height == 2 && out.width == 2)
        #expect(out.storage == [40404, 40404, 40404, 40404])
        let e = try b.explain(image, filter: 0, x: 1, y: 1)
        #expect(e.partials == [4, 400, 40000])
        #expect(e.preActivation == 40404 && e.postActivation == 40404)
    }

    @Test func biasThenActivation() throws {
        let image = row([1, 2, 3])
        #expect(try bank([[1]], bias: -2, activation: .relu).convolve(image)[0].storage == [0, 0, 1])
        #expect(try bank([[1]], bias: -2, activation: .sigmoid).convolve(image)[0].storage[1] == 0.5)
        #expect(try bank([[-1]], bias: 0, activation: .tanh).convolve(image)[0].storage[0] == Float(tanh(-1.0)))
    }

    /// Integer images and dyadic weights keep every sum exact in Float, so the engine must equal the oracle
    /// exactly, for every padding mode, padding kind, stride and dilation.
    @Test(arguments: PaddingMode.allCases)
    func matchesOracleExactly(mode: PaddingMode) throws {
        var rng = SeededRandom(seed: 7 + UInt64(mode.rawValue.count))
        let weights: [Float] = [-2, -1, -0.5, -0.25, 0, 0.25, 0.5, 1, 2]
        let paddings: [Padding] = [.valid, .same, .explicit(EdgeInsets(1)), .explicit(EdgeInsets(top: 0, bottom: 2, left: 1, right: 3))]
        var checked = 0
        for padding in paddings {
            for stride in [Extent2D(1), Extent2D(2), Extent2D(height: 1, width: 3)] {
                for dilation in [Extent2D(1), Extent2D(2), Extent2D(height: 2, width: 1)] {
                    let channels = Int.random(in: 1...4, using: &rng)
                    let h = Int.random(in: 5...11, using: &rng), w = Int.random(in: 5...11, using: &rng)
                    let image = Tensor(height: h, width: w, channels: channels,
                                       storage: (0..<(h * w * channels)).map { _ in Float(Int.random(in: 0...255, using: &rng)) })
                    let filters = (0..<Int.random(in: 1...3, using: &rng)).map { f in
                        let kh = Int.random(in: 1...4, using: &rng), kw = Int.random(in: 1...4, using: &rng)
                        return Filter(name: "f\(f)", kernel: Extent2D(height: kh, width: kw), channels: channels,
                                      weights: (0..<(kh * kw * channels)).map { _ in weights.randomElement(using: &rng)! },
                                      bias: Float(Int.random(in: -50...50, using: &rng)))
                    }
                    let b = FilterBank(name: "r", filters: filters, stride: stride, dilation: dilation, padding: padding,
                                       paddingMode: mode, activation: Bool.random(using: &rng) ? .relu : .linear)
                    let maps: [Tensor]
                    do { maps = try b.convolve(image, jobs: 2) } catch {
                        // Refusals: a kernel that does not fit, or reflect with a pad as wide as the image.
                        switch error {
                        case .emptyOutput, .filterDoesNotFit: #expect(throws: ConvolutionError.self) { try naiveConvolution(image, b) }
                        case .padTooWide: #expect(mode == .reflect)
                        default: Issue.record("unexpected refusal: \(error)")
                        }
                        continue
                    }
                    let oracle = try naiveConvolution(image, b)
                    for (map, expected) in zip(maps, oracle) {
                        #expect(map.height == expected.count && map.width == expected[0].count)
                        #expect(map.storage == expected.flatMap { $0 }.map { Float($0) }, "\(padding) \(stride) \(dilation)")
                    }
                    checked += 1
                }
            }
        }
        #expect(checked >= 20)
    }

    /// Results are bit-identical whatever the number of jobs.
    @Test func jobsDoNotChangeResults() throws {
        var rng = SeededRandom(seed: 99)
        let image = Tensor(height: 67, width: 53, channels: 3, storage: (0..<(67 * 53 * 3)).map { _ in Float.random(in: 0...255, using: &rng) })
        let filters = (0..<4).map { f in
            Filter(name: "f\(f)", kernel: Extent2D(height: 5, width: 3), channels: 3,
                   weights: (0..<45).map { _ in Float.random(in: -1...1, using: &rng) }, bias: Float.random(in: -1...1, using: &rng))
        }
        let b = FilterBank(name: "r", filters: filters, padding: .same, paddingMode: .reflect, activation: .tanh)
        let one = try b.convolve(image, jobs: 1), two = try b.convolve(image, jobs: 2), eight = try b.convolve(image, jobs: 8)
        #expect(one == two && one == eight)
    }

    /// The portable, AVX2 and AVX-512 builds of the kernels give bit-identical maps (same order of operations,
    /// no fused multiply-add), for every block width (8, 4, 1 filters), stride phase and activation.
    @Test func kernelLevelsAgreeBitForBit() throws {
        var rng = SeededRandom(seed: 42)
        let image = Tensor(height: 41, width: 70, channels: 3, storage: (0..<(41 * 70 * 3)).map { _ in Float.random(in: 0...255, using: &rng) })
        let filters = (0..<13).map { f in
            Filter(name: "f\(f)", kernel: Extent2D(height: 3, width: 4), channels: 3,
                   weights: (0..<36).map { _ in Float.random(in: -1...1, using: &rng) }, bias: Float.random(in: -3...3, using: &rng))
        }
        #expect(KernelLevel.available.contains(.portable))
        for (stride, activation) in [(Extent2D(1), Activation.linear), (Extent2D(height: 2, width: 3), .relu), (Extent2D(2), .tanh)] {
            let bank = FilterBank(name: "k", filters: filters, stride: stride, dilation: Extent2D(height: 1, width: 2), padding: .same,
                                  paddingMode: .replicate, activation: activation)
            let plan = try ConvolutionPlan(bank: bank, input: image.extent)
            let reference = plan.run(image, jobs: 2, kernels: .portable)
            let oracle = try naiveConvolution(image, bank)
            #expect(reference[0][5, 7, 0] == Float(oracle[0][5][7]) || abs(reference[0][5, 7, 0] - Float(oracle[0][5][7])) < 1e-3)
            for level in KernelLevel.available {
                #expect(plan.run(image, jobs: 2, kernels: level) == reference, "\(level) differs")
            }
        }
    }

    /// The partials invariant: filter f's per-channel partial maps, added in channel order, plus the bias, through
    /// the activation, equal f's map bit for bit — on every built-in bank (direct and separable paths) and on
    /// random banks with strides, dilations, groups and every activation kind.
    @Test func partialsSumToTheMap() throws {
        var rng = SeededRandom(seed: 77)
        let image = Tensor(height: 29, width: 37, channels: 3, storage: (0..<(29 * 37 * 3)).map { _ in Float(Int.random(in: 0...255, using: &rng)) })
        var banks = BuiltinBank.all
        for (k, activation) in [Activation.linear, .relu, .tanh, .sigmoid].enumerated() {
            let filters = (0..<4).map { f in
                Filter(name: "f\(f)", kernel: Extent2D(height: 2 + k, width: 5 - k), channels: 3,
                       weights: (0..<((2 + k) * (5 - k) * 3)).map { _ in Float.random(in: -1...1, using: &rng) }, bias: Float.random(in: -9...9, using: &rng))
            }
            banks.append(FilterBank(name: "r\(k)", filters: filters, stride: Extent2D(height: 1 + k % 2, width: 2 - k % 2),
                                    dilation: Extent2D(1 + k / 2), padding: .same, paddingMode: PaddingMode.allCases[k], activation: activation))
        }
        let grouped = FilterBank(name: "g", filters: (0..<6).map { f in
            Filter(name: "g\(f)", kernel: Extent2D(3), channels: 1, weights: (0..<9).map { _ in Float.random(in: -2...2, using: &rng) }, bias: 1)
        }, padding: .same, groups: 3)
        banks.append(grouped)
        // Channels of different rank: channel 0 separable, 1 and 2 not. Each slice must follow its parent's path.
        let u = (0..<7).map { _ in Float.random(in: -1...1, using: &rng) }, v = (0..<7).map { _ in Float.random(in: -1...1, using: &rng) }
        let mixed = (0..<49).map { u[$0 / 7] * v[$0 % 7] } + (0..<98).map { _ in Float.random(in: -1...1, using: &rng) }
        let separableToo = (0..<3).flatMap { _ in (0..<49).map { u[$0 / 7] * v[$0 % 7] } }
        banks.append(FilterBank(name: "mixed-rank", filters: [
            Filter(name: "m", kernel: Extent2D(7), channels: 3, weights: mixed, bias: 2),
            Filter(name: "s", kernel: Extent2D(7), channels: 3, weights: separableToo, bias: -1),
        ], padding: .same, paddingMode: .replicate))
        for bank in banks {
            let input = try image.adapted(toChannels: bank.channels)
            let maps = try bank.convolve(input, jobs: 2)
            for f in bank.filters.indices {
                let partials = try bank.partialMaps(of: f, in: input, jobs: 2)
                #expect(partials.count == bank.filters[f].channels)
                var total = partials[0].storage
                for c in 1..<partials.count { for i in total.indices { total[i] += partials[c].storage[i] } }
                let rebuilt = total.map { bank.activation.apply($0 + bank.filters[f].bias) }
                #expect(rebuilt == maps[f].storage, "\(bank.name) filter \(bank.filters[f].name)")
            }
        }
    }

    /// Large kernels of low rank run as row and column passes (rank 1 from 5×5, rank 2 from 9×9); the result
    /// matches the naive dense sum to float32 rounding, `explain` still matches the map bit for bit, and a
    /// full-rank kernel stays direct.
    @Test func lowRankKernels() throws {
        var rng = SeededRandom(seed: 123)
        func outer(_ terms: Int, _ n: Int) -> [Float] {
            let us = (0..<terms).map { _ in (0..<n).map { _ in Float.random(in: -1...1, using: &rng) } }
            let vs = (0..<terms).map { _ in (0..<n).map { _ in Float.random(in: -1...1, using: &rng) } }
            return (0..<n).flatMap { i in (0..<n).map { j in (0..<terms).reduce(Float(0)) { $0 + us[$1][i] * vs[$1][j] } } }
        }
        let image = Tensor(height: 31, width: 45, channels: 2, storage: (0..<(31 * 45 * 2)).map { _ in Float(Int.random(in: 0...255, using: &rng)) })
        for (terms, n, expected) in [(1, 5, 1), (2, 11, 2), (3, 13, 3), (6, 7, 0)] {
            let filter = Filter(name: "k", kernel: Extent2D(n), channels: 2, weights: outer(terms, n) + outer(terms, n), bias: 0.5)
            let bank = FilterBank(name: "lr", filters: [filter], stride: Extent2D(height: 1, width: 2), padding: .same, paddingMode: .reflect, activation: .linear)
            let plan = try ConvolutionPlan(bank: bank, input: image.extent)
            #expect((plan.filters[0].separable?.terms ?? 0) == expected, "rank \(terms), \(n)×\(n)")
            let map = try bank.convolve(image, jobs: 2)[0]
            let oracle = try naiveConvolution(image, bank)[0]
            let worst = (0..<map.height).flatMap { y in (0..<map.width).map { x in abs(Double(map[y, x, 0]) - oracle[y][x]) } }.max()!
            // The documented bound: 1e-6·max|w| per weight over Σ|x|, plus float32 rounding of sums of Σ|w·x|.
            let scale = 255 * Double(filter.weights.reduce(0) { $0 + abs($1) })
            #expect(worst < 1e-6 * scale + 1e-5 * scale, "rank \(terms): \(worst)")
            for (y, x) in [(0, 0), (15, 11), (30, 22)] {
                #expect(try bank.explain(image, filter: 0, x: x, y: y).postActivation.bitPattern == map[y, x, 0].bitPattern)
            }
        }
    }

    /// `explain` reproduces the engine bit for bit at every pixel (same order of summation).
    @Test func explainMatchesEngine() throws {
        var rng = SeededRandom(seed: 5)
        let image = Tensor(height: 9, width: 7, channels: 3, storage: (0..<189).map { _ in Float.random(in: 0...255, using: &rng) })
        let filters = (0..<2).map { f in
            Filter(name: "f\(f)", kernel: Extent2D(3), channels: 3, weights: (0..<27).map { _ in Float.random(in: -1...1, using: &rng) },
                   bias: Float.random(in: -5...5, using: &rng))
        }
        let b = FilterBank(name: "r", filters: filters, stride: Extent2D(2), padding: .same, paddingMode: .circular, activation: .sigmoid)
        let maps = try b.convolve(image)
        for f in 0..<2 {
            for y in 0..<maps[f].height {
                for x in 0..<maps[f].width {
                    let e = try b.explain(image, filter: f, x: x, y: y)
                    #expect(e.postActivation.bitPattern == maps[f][y, x, 0].bitPattern)
                }
            }
        }
        #expect(throws: ConvolutionError.self) { try b.explain(image, filter: 0, x: 4, y: 0) }
    }

    /// Filters of different sizes under SAME all give the input's size; each has its own pads.
    @Test func mixedKernelSizes() throws {
        let image = Tensor(height: 6, width: 6, channels: 1, storage: (0..<36).map(Float.init))
        let b = FilterBank(name: "m", filters: [
            Filter(name: "a", kernel: [[1]], channelWeights: [1]),
            Filter(name: "b", kernel: [[0, 0, 0], [0, 1, 0], [0, 0, 0]], channelWeights: [1]),
            Filter(name: "c", kernel: [[Float]](repeating: [Float](repeating: 0, count: 5), count: 5).enumerated().map { i, r in
                r.enumerated().map { j, _ in i == 2 && j == 2 ? 1 : 0 } }, channelWeights: [1]),
        ], padding: .same, paddingMode: .reflect)
        let maps = try b.convolve(image)
        for map in maps { #expect(map == image) }  // centred identities
    }
}
