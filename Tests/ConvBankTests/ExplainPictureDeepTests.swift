import Foundation
import Testing
@testable import ConvBankEngine
@testable import ConvBankImageIO
@testable import ConvBankPictures

/// The explain picture of a deeper layer: many input channels (the largest |partial sums| on their own rows, the
/// others added into one row and one map), and the input drawn over its own range.
@Suite struct ExplainPictureDeepTests {
    /// A 4×5 input of 12 channels, channel c constant c − 5 plus a ramp, and one 1×1 filter whose weight on channel c
    /// is 1, except channels 2, 7 and 11 (weights 10, −20, 30) — those three have the largest |partial sums|.
    static func deep() -> (bank: FilterBank, image: Tensor) {
        var image = Tensor(height: 4, width: 5, channels: 12)
        for c in 0..<12 { for y in 0..<4 { for x in 0..<5 { image[y, x, c] = Float(c - 5) + Float(y * 5 + x) / 4 } } }
        var weights = [Float](repeating: 1, count: 12)
        weights[2] = 10
        weights[7] = -20
        weights[11] = 30
        let filter = Filter(name: "k", kernel: Extent2D(1), channels: 12, weights: weights, bias: 0.5)
        return (FilterBank(name: "deep", filters: [filter]), image)
    }

    @Test func largestPartialsGetRowsTheRestOneRow() throws {
        let (bank, image) = Self.deep()
        let e = try bank.explain(image, filter: 0, x: 1, y: 2)
        // Pixel (1, 2): ramp 11/4 = 2.75, so channel c holds c − 2.25; partials: c − 2.25 (×10, −20, 30 at 2, 7, 11).
        let expected: [Float] = (0..<12).map { c in Float(c) - 2.25 }.enumerated().map { c, v in v * [2: 10, 7: -20, 11: 30][c, default: 1] }
        #expect(e.partials == expected)
        // |partials| ranked: ch 11 (8.75 · 30 = 262.5), 7 (4.75 · 20 = 95), 10 (7.75), 9 (6.75), 8 (5.75), 6 (3.75);
        // then 5 (2.75), 2 (0.25 · 10 = 2.5), … — the six shown in channel order: 6, 7, 8, 9, 10, 11.
        let shown = ExplainPicture.shownChannels(e.partials)
        #expect(shown == [6, 7, 8, 9, 10, 11, nil])
        let rest = ExplainPicture.rest(e.partials)
        #expect(rest.channels == [0, 1, 2, 3, 4, 5])
        var sum: Float = 0
        for c in 0..<6 { sum += expected[c] }
        #expect(rest.sum == sum)
        let partialMaps = try bank.partialMaps(of: 0, in: image)
        let map = try bank.convolve(image)[0]
        let labels = ExplainPicture.labels(explanation: e, bankName: "deep", imageExtent: image.extent, partialMaps: partialMaps, map: map,
                                           inputView: .largestChannel)
        #expect(labels.contains("+ the other 6 channels (smaller |partial sum|), added in channel order: \(formatNumber(sum))"), "\(labels)")
        #expect(labels.contains("other 6 ch") && labels.contains("input ch 11"), "\(labels)")
        #expect(["ch 6", "ch 11"].allSatisfy(labels.contains) && !labels.contains("ch 5"))
        // The rest map: the other channels' partial maps added, pixel by pixel.
        let restMap = try #require(ExplainPicture.restMap(partialMaps, channels: rest.channels))
        #expect(restMap[2, 1, 0] == sum)
        let layout = ExplainPicture.layout(explanation: e, bankName: "deep", imageExtent: image.extent, partialMaps: partialMaps, map: map,
                                           inputView: .largestChannel)
        #expect(layout.maps.map(\.index) == [-1, 6, 7, 8, 9, 10, 11, 13, 12], "input, six partial maps, the rest, the map")
        let picture = ExplainPicture.render(explanation: e, image: image, partialMaps: partialMaps, map: map, bankName: "deep",
                                            inputView: .largestChannel)
        #expect(picture.width == layout.width && picture.height == layout.height)
        // Eight channels or fewer: every channel, as before.
        #expect(ExplainPicture.shownChannels([1, -2, 3, 4, 5, 6, 7, 8]) == Array(0..<8))
    }

    /// A 1×2 input whose channel 1 holds [2, 6]: drawn from its own range, 2 → black and 6 → white; on the image
    /// scale (÷ 255), 2 and 6 stay dark.
    @Test func inputStretchedOverItsOwnRange() {
        let image = Tensor(height: 1, width: 2, channels: 2, storage: [100, 200, 2, 6])
        let stretched = ExplainPicture.inputPicture(image, size: (2, 1), view: .largestChannel, channel: 1)
        #expect(stretched[x: 0, y: 0] == Picture.Color(gray: 0) && stretched[x: 1, y: 0] == Picture.Color(gray: 255))
        let raw = ExplainPicture.inputPicture(image, size: (2, 1))
        #expect(raw[x: 0, y: 0] == Picture.Color(gray: 100) && raw[x: 1, y: 0] == Picture.Color(gray: 200), "channel 0, 0…255")
        // A preprocessed RGB image around 0: one range over the three channels, −1 → 0, 1 → 255, 0 → 128.
        let rgb = Tensor(height: 1, width: 1, channels: 3, storage: [-1, 0, 1])
        let s = ExplainPicture.inputPicture(rgb, size: (1, 1), view: .stretched)
        #expect(s[x: 0, y: 0] == Picture.Color(0, 128, 255))
    }
}
