import ConvBankTestSupport
import Foundation
import Testing
@testable import ConvBankEngine
@testable import ConvBankImageIO

/// `NetworkLayer.explain` (`explain --layer` on pooling, batch normalization, activations and PReLU): every pixel of
/// every such layer of the Keras-golden networks equals the layer's own output bit for bit and Keras's within 1e-4,
/// and small cases worked out by hand (the max's winner, an average over the real pixels of a `same` window, the
/// batchnorm formula, PReLU's branch).
@Suite struct LayerExplanationTests {
    /// Every non-convolution layer of the four golden networks, every pixel and channel.
    @Test(arguments: NetworkTests.cases)
    func everyPixelEqualsTheLayer(_ net: NetworkTests.NetCase) throws {
        let network = try NetworkTests.load(net.file)
        let image = try NetworkTests.image().adapted(toChannels: network.channels)
        for (index, layer) in network.layers.enumerated() {
            if case .convolution = layer.kind { continue }
            let input = try network.input(ofLayer: index, image: image)
            let output = try layer.run(input)
            let keras = try Float32NPY(contentsOf: NetworkTests.folder.appendingPathComponent(net.layers[index].output))
            var checked = 0
            for c in 0..<output.channels {
                for y in 0..<output.height {
                    for x in 0..<output.width {
                        let e = try #require(try layer.explain(input, channel: c, x: x, y: y))
                        guard e.value.bitPattern == output[y, x, c].bitPattern else {
                            Issue.record("\(net.name).\(layer.name) c\(c) (\(x), \(y)): explained \(e.value), layer \(output[y, x, c])")
                            return
                        }
                        let k = keras.values[(y * output.width + x) * output.channels + c]
                        #expect(abs(e.value - k) <= 1e-4 * max(abs(k), 1), "\(net.name).\(layer.name) vs Keras")
                        checked += 1
                    }
                }
            }
            #expect(checked == output.height * output.width * output.channels)
        }
    }

    /// A 3×3 one-channel input 1…9 (row-major).
    static let ramp = Tensor(height: 3, width: 3, channels: 1, storage: [1, 9, 3, 4, 5, 6, 7, 8, 2])

    @Test func maxPoolingNamesTheWinner() throws {
        let layer = NetworkLayer(name: "mp", kind: .pooling(Pooling(kind: .max, size: Extent2D(2), stride: Extent2D(1))))
        let e = try #require(try layer.explain(Self.ramp, channel: 0, x: 0, y: 0))
        // Window rows 0…1, columns 0…1: 1 9 / 4 5; the max 9 at x=1, y=0.
        #expect(e.value == 9)
        guard case let .pooling(_, rows, columns, values, winner, _) = e.detail else { Issue.record("not pooling"); return }
        #expect(values == [1, 9, 4, 5] && winner?.x == 1 && winner?.y == 0 && rows == 0...1 && columns == 0...1)
        #expect(e.description.contains("max: 9 at input x=1, y=0"), "\(e)")
        #expect(e.description.contains("[ 1  9< ]"), "\(e)")
    }

    /// A global pool (a window of 999,999,999 over a 40×30 image, `same`): one output, 1200 real pixels summed and
    /// counted but not listed; the max's position found.
    @Test func hugeWindowIsSummarised() throws {
        var image = Tensor(height: 30, width: 40, channels: 1)
        for y in 0..<30 { for x in 0..<40 { image[y, x, 0] = Float((x * 7 + y * 3) % 11) } }
        image[17, 23, 0] = 50
        for kind in [Pooling.Kind.max, .average] {
            let layer = NetworkLayer(name: "g", kind: .pooling(Pooling(kind: kind, size: Extent2D(999_999_999), padding: .same)))
            let e = try #require(try layer.explain(image, channel: 0, x: 0, y: 0))
            #expect(e.value.bitPattern == (try layer.run(image))[0, 0, 0].bitPattern)
            #expect(e.description.contains("1200 values: more than 256, not listed") && e.description.split(separator: "\n").count < 8, "\(e)")
            if kind == .max { #expect(e.description.contains("max: 50 at input x=23, y=17"), "\(e)") }
        }
    }

    /// `same` average pooling of size 2 on 3×3: output 2×2, pads T,B,L,R = 0,1,0,1; pixel (1, 1) covers input (2, 2)
    /// alone (the padding never counts): 2 / 1 = 2; pixel (1, 0) covers (2, 0), (2, 1): (3 + 6) / 2 = 4.5.
    @Test func averageSameCountsRealPixels() throws {
        let layer = NetworkLayer(name: "ap", kind: .pooling(Pooling(kind: .average, size: Extent2D(2), padding: .same)))
        let corner = try #require(try layer.explain(Self.ramp, channel: 0, x: 1, y: 1))
        #expect(corner.value == 2 && corner.description.contains("mean: 2 / 1 = 2"), "\(corner)")
        #expect(corner.description.contains("1 of 2×2 = 4 pixels in the image (the rest is padding"), "\(corner)")
        let edge = try #require(try layer.explain(Self.ramp, channel: 0, x: 1, y: 0))
        #expect(edge.value == 4.5 && edge.description.contains("3 + 6 = 9"), "\(edge)")
        #expect(throws: ConvolutionError.self) { try layer.explain(Self.ramp, channel: 0, x: 2, y: 0) }
    }

    /// gamma 2, beta 1, mean 3, variance 3.999, epsilon 0.001: inv = 2 / √4 = 1, shift = 1 − 3 = −2; x = 9 → 7.
    @Test func batchNormFormula() throws {
        let bn = BatchNorm(gamma: [2], beta: [1], mean: [3], variance: [3.999], epsilon: 0.001)
        let layer = NetworkLayer(name: "bn", kind: .batchNorm(bn))
        let e = try #require(try layer.explain(Self.ramp, channel: 0, x: 1, y: 0))
        #expect(e.value == 7 && e.value == bn.run(Self.ramp)[0, 1, 0])
        #expect(e.description.contains("inv = gamma / √(variance + epsilon) = 2 / √(3.999 + 0.001) = 1"), "\(e)")
        #expect(e.description.contains("y = x · inv + shift = 9 · 1 + -2 = 7"), "\(e)")
    }

    @Test func activationsAndPReLU() throws {
        let signed = Tensor(height: 1, width: 2, channels: 2, storage: [-4, 3, -2, 8])
        let prelu = NetworkLayer(name: "p", kind: .prelu(alpha: [0.25, -0.5]))
        let negative = try #require(try prelu.explain(signed, channel: 0, x: 0, y: 0))
        #expect(negative.value == -1 && negative.description.contains("-4 < 0, so alpha · x = 0.25 · -4 = -1"), "\(negative)")
        let other = try #require(try prelu.explain(signed, channel: 1, x: 0, y: 0))
        #expect(other.value == 1, "alpha of channel 1: -0.5 · -2")
        let positive = try #require(try prelu.explain(signed, channel: 0, x: 1, y: 0))
        #expect(positive.value == 3 && positive.description.contains("3 ≥ 0, so unchanged = 3"))
        let relu = NetworkLayer(name: "r", kind: .activation(.relu))
        let r = try #require(try relu.explain(signed, channel: 0, x: 0, y: 0))
        #expect(r.value == 0 && r.description.contains("after relu: relu(-4) = 0"), "\(r)")
        let conv = NetworkLayer(name: "c", kind: .convolution(FilterBank(name: "b", filters: [Filter(name: "k", kernel: [[1]], channelWeights: [1, 1])])))
        #expect(try conv.explain(signed, channel: 0, x: 0, y: 0) == nil)
    }
}
