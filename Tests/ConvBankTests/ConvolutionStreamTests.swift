import ConvBankTestSupport
import Foundation
import Testing
@testable import ConvBankEngine

/// `ConvolutionStream` against `ConvolutionPlan.run` (itself checked against Keras goldens and the naive oracle):
/// the same maps bit for bit, whatever bands the rows arrive and leave in, while holding only a window of rows.
@Suite("ConvolutionStream")
struct ConvolutionStreamTests {
    /// Runs `bank` on `image` through a stream fed in pieces of the given sizes (cycled) and puts the maps together.
    func streamed(_ bank: FilterBank, _ image: Tensor, pieces: [Int], bandRows: Int, jobs: Int) throws -> (maps: [Tensor], stream: ConvolutionStream) {
        let stream = try ConvolutionStream(bank: bank, input: image.extent, bandRows: bandRows, jobs: jobs)
        var maps = stream.plan.filters.map { [Float](repeating: .nan, count: $0.geometry.output.height * $0.geometry.output.width) }
        var seen = stream.plan.filters.map { [Bool](repeating: false, count: $0.geometry.output.height) }
        let emit: ConvolutionStream.Emit<Never> = { f, firstRow, band in
            let width = stream.plan.filters[f].geometry.output.width
            #expect(band.count % width == 0)
            for r in 0..<(band.count / width) {
                #expect(!seen[f][firstRow + r], "row \(firstRow + r) of filter \(f) emitted twice")
                seen[f][firstRow + r] = true
                for x in 0..<width { maps[f][(firstRow + r) * width + x] = band[r * width + x] }
            }
        }
        var row = 0, k = 0
        while row < image.height {
            let n = min(pieces[k % pieces.count], image.height - row)
            k += 1
            var rows = [Float](repeating: 0, count: n * image.width * image.channels)
            for c in 0..<image.channels {
                for r in 0..<n {
                    for x in 0..<image.width { rows[(c * n + r) * image.width + x] = image[row + r, x, c] }
                }
            }
            stream.push(Tensor(height: n, width: image.width, channels: image.channels, storage: rows), emit: emit)
            row += n
        }
        stream.finish(emit: emit)
        #expect(seen.allSatisfy { $0.allSatisfy { $0 } }, "some output rows never emitted")
        let tensors = zip(stream.plan.filters, maps).map { plan, storage in
            Tensor(height: plan.geometry.output.height, width: plan.geometry.output.width, channels: 1, storage: storage)
        }
        return (tensors, stream)
    }

    func bits(_ t: Tensor) -> [UInt32] { t.storage.map(\.bitPattern) }

    /// Random banks over the whole parameter space the stream must handle: kernel sizes mixed in one bank (so filters
    /// have different origins and output heights), strides, dilations, every padding kind and mode, activations
    /// fused and not, large low-rank kernels (the row/column passes), groups; pieces and bands of many sizes.
    @Test(arguments: 0..<60)
    func equalsTheWholeImageRunBitForBit(_ seed: Int) throws {
        var rng = SeededRandom(seed: 0x5EED_0000 + UInt64(seed))
        let channels = rng.pick([1, 2, 3, 4])
        let groups = channels % 2 == 0 && rng.chance(0.3) ? 2 : 1
        let height = rng.int(1...40), width = rng.int(1...37)
        let image = Tensor(height: height, width: width, channels: channels,
                           storage: (0..<(height * width * channels)).map { _ in Float(rng.int(-300...300)) / 8 })
        let stride = Extent2D(height: rng.int(1...3), width: rng.int(1...3))
        let dilation = rng.chance(0.7) ? Extent2D(1) : Extent2D(height: rng.int(1...3), width: rng.int(1...2))
        let lowRank = rng.chance(0.3)
        let filterCount = groups * rng.int(1...5)
        let filters = (0..<filterCount).map { f -> Filter in
            let k = lowRank && f % 2 == 0 ? Extent2D(rng.pick([5, 7, 9])) : Extent2D(height: rng.int(1...4), width: rng.int(1...4))
            let perChannel = channels / groups
            var weights: [Float]
            if lowRank && f % 2 == 0 {
                // A separable kernel: the engine runs it as row and column passes.
                let u = (0..<k.height).map { _ in Float(rng.int(-8...8)) / 4 }, v = (0..<k.width).map { _ in Float(rng.int(-8...8)) / 4 }
                weights = (0..<perChannel).flatMap { _ in (0..<(k.height * k.width)).map { u[$0 / k.width] * v[$0 % k.width] } }
            } else {
                weights = (0..<(perChannel * k.height * k.width)).map { _ in Float(rng.int(-16...16)) / 16 }
            }
            return Filter(name: "f\(f)", kernel: k, channels: perChannel, weights: weights, bias: Float(rng.int(-4...4)))
        }
        let padding: Padding = rng.pick([.valid, .same, .explicit(EdgeInsets(top: rng.int(0...3), bottom: rng.int(0...3), left: rng.int(0...2), right: rng.int(0...2)))])
        let mode = rng.pick(PaddingMode.allCases)
        let activation = rng.pick([Activation.linear, .relu, .sigmoid, .tanh])
        let bank = FilterBank(name: "r\(seed)", filters: filters, stride: stride, dilation: dilation, padding: padding, paddingMode: mode,
                              activation: activation, groups: groups)
        let whole: [Tensor]
        do { whole = try bank.convolve(image) } catch {
            // A bank that does not fit this image must not fit the stream either.
            #expect(throws: ConvolutionError.self) { try ConvolutionStream(bank: bank, input: image.extent) }
            return
        }
        let pieces = [rng.int(1...5), rng.int(1...9), rng.int(1...40)]
        let bandRows = rng.pick([1, 2, 3, 8, 64])
        let (maps, stream) = try streamed(bank, image, pieces: pieces, bandRows: bandRows, jobs: rng.pick([1, 2]))
        #expect(maps.count == whole.count)
        for (m, w) in zip(maps, whole) {
            #expect(m.extent == w.extent)
            #expect(bits(m) == bits(w), "seed \(seed): \(bank.filters.count) filters, stride \(stride), dilation \(dilation), \(padding), \(mode), bands \(bandRows), pieces \(pieces)")
        }
        if stream.isBounded {
            // Never more input rows held than the window, the pads and one piece.
            #expect(stream.peakHeldRows <= stream.plan.windowRows + stream.plan.insets.top + stream.plan.insets.bottom + 1 + pieces.max()!)
        }
    }

    /// A tall image through a small band holds a few dozen rows, not the image.
    @Test func memoryGrowsWithWidthNotHeight() throws {
        let bank = try BuiltinBank.parse("sobel")
        let height = 5000, width = 64
        let image = Tensor(height: height, width: width, channels: 1, storage: (0..<(height * width)).map { Float(($0 % width) ^ ($0 / width) & 255) })
        let (maps, stream) = try streamed(bank.overriding(paddingMode: .reflect), image, pieces: [7], bandRows: 16, jobs: 2)
        let whole = try bank.overriding(paddingMode: .reflect).convolve(image, jobs: 2)
        #expect(maps.map(bits) == whole.map(bits))
        #expect(stream.peakHeldRows < 40, "held \(stream.peakHeldRows) of \(height) rows")
        #expect(stream.memoryBytes < 64 * width * 4 * 8)
        // The same image as one piece is held whole (the caller chose so), and still equal.
        let (one, _) = try streamed(bank, image, pieces: [height], bandRows: 64, jobs: 1)
        #expect(one.map(bits) == (try bank.convolve(image)).map(bits))
    }
}
