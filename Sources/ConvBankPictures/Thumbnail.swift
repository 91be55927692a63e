import ConvBankEngine
import ConvBankImageIO

/// A small picture of one map for the gallery: at most `longestSide` pixels on its longest side, never enlarged,
/// stretched over the map's own range as a contact sheet stretches it, so that a map `clamp` draws almost all black
/// still shows its structure.
///
/// How values become levels, the same for a map held whole and one that arrives in bands (`Accumulator`):
/// - The range is the sheet's (`ContactSheet`): the 0.5th to 99.5th percentile of the map's finite values, taken
///   from the same evenly spaced values a sheet samples, or its minimum to maximum when those percentiles are the
///   extremes anyway, coincide, or the map has fewer than 200 values.
/// - Each thumbnail pixel covers a box of the map with the sheet's area weights (exact fractional coverage, each
///   axis separately). The weighted mean of the box's finite values `m` becomes `t = clamp((m − lo) / (hi − lo))`;
///   `+∞` counts as `t = 1`, `−∞` and NaN as `t = 0`, by their share of the box. Level `round(255 · t)`.
/// - A constant map is mid-gray (level 128); a map without a finite value is black.
///
/// A sheet stretches each value and then averages; a thumbnail averages and then stretches, which is what a map
/// arriving in bands allows (the range is known only at its end). The two agree (up to rounding) where a box holds
/// no value outside `lo…hi` — everywhere when the range is the minimum to maximum, and always for a map no larger
/// than `longestSide`, whose thumbnail shows one value per pixel — and differ only where a box holds some of the 1 %
/// of values beyond the percentiles: the thumbnail clips their mean once instead of each value.
///
/// A one-channel map gives an 8-bit gray PNG; a three-channel (colour, `--per-channel`) result an RGB PNG, one range
/// over all three channels, as the sheet draws it.
public enum Thumbnail {
    /// The longest side of a thumbnail, in pixels (the contact sheet's cell size).
    public static let longestSide = 256

    /// The thumbnail size of a `width × height` map: scaled by `min(longestSide / width, longestSide / height, 1)`,
    /// each side rounded, at least 1.
    public static func size(width: Int, height: Int) -> (width: Int, height: Int) {
        ContactSheet.displaySize(width: width, height: height, cellSize: longestSide, maxScale: 1)
    }

    /// The thumbnail of a map held whole (`channels` planes, top row first) as PNG bytes.
    /// - Throws: `ImageCodecError` (`.unwritable`) if encoding fails.
    /// - Complexity: O(map values + thumbnail pixels).
    public static func pngBytes(of map: Tensor) throws(ImageCodecError) -> [UInt8] {
        var accumulator = Accumulator(width: map.width, height: map.height, channels: map.channels)
        map.storage.withUnsafeBufferPointer { accumulator.add($0) }
        return try accumulator.pngBytes()
    }

    /// The bytes an `Accumulator` of a `map`-sized map of `channels` channels holds at its peak, with its PNG: the
    /// box sums (and the shares of non-finite values, when there are any), the sampled values, the box weights and
    /// the encoded file. Saturates at `Int.max`.
    package static func memoryBytes(map: Extent2D, channels: Int) -> Int {
        let shown = size(width: map.width, height: map.height)
        let pixels = Saturating(shown.width) * shown.height * channels
        let values = (Saturating(map.height) * map.width * channels).value
        let samples = values / ContactSheet.sampleStep(count: values) + 1
        let taps = (Saturating(map.width) + map.height + 3 * (shown.width + shown.height)) * 16
        return (pixels * (3 * MemoryLayout<Double>.stride + 8) + Saturating(samples) * MemoryLayout<Float>.stride + taps).value
    }

    /// A thumbnail built from a map that arrives in pieces — its values in storage order (channel by channel, each
    /// top row first), whole rows at a time — holding only the thumbnail's box sums, the sampled values of the
    /// range and the map's finite minimum and maximum, never the map.
    public struct Accumulator: Sendable {
        /// The map's width, height and channels.
        public let width: Int, height: Int, channels: Int
        /// The thumbnail's width and height (`Thumbnail.size`).
        public let thumbnailWidth: Int, thumbnailHeight: Int
        /// The horizontal box weights (`ContactSheet.weights`) flattened: column `x` reads source pixels
        /// `columnFirst[x]…` with weights `columnWeights[columnOffset[x]..<columnOffset[x + 1]]`.
        private let columnFirst: [Int], columnOffset: [Int], columnWeights: [Double]
        private let rows: [[(index: Int, weight: Double)]]
        /// Per channel, thumbnail pixel: the weighted sum of finite values; the weights of `+∞`, and of `−∞` or NaN
        /// (both empty until the first non-finite value).
        private var sums: [Double], positive: [Double] = [], negative: [Double] = []
        /// Every `step`-th value of the map (storage order, from the first), the finite ones.
        private var samples: [Float] = []
        private let step: Int
        private var added = 0
        /// The first thumbnail row whose box the next map row may still reach.
        private var firstOpenRow = 0
        private var finiteLow = Float.infinity, finiteHigh = -Float.infinity
        /// One row's horizontal sums.
        private var rowSums: [Double], rowPositive: [Double], rowNegative: [Double]

        /// An empty thumbnail of a `width × height` map of `channels` channels (1 or 3).
        public init(width: Int, height: Int, channels: Int = 1) {
            precondition(width > 0 && height > 0, "a map has at least one value")
            precondition(channels == 1 || channels == 3, "a map has one channel, or three (colour)")
            self.width = width
            self.height = height
            self.channels = channels
            (thumbnailWidth, thumbnailHeight) = Thumbnail.size(width: width, height: height)
            let columns = ContactSheet.weights(from: width, to: thumbnailWidth)
            columnFirst = columns.map { $0.first!.index }
            columnOffset = [0] + columns.reduce(into: [Int]()) { $0.append(($0.last ?? 0) + $1.count) }
            columnWeights = columns.flatMap { $0.map(\.weight) }
            rows = ContactSheet.weights(from: height, to: thumbnailHeight)
            sums = [Double](repeating: 0, count: thumbnailWidth * thumbnailHeight * channels)
            step = ContactSheet.sampleStep(count: width * height * channels)
            rowSums = [Double](repeating: 0, count: thumbnailWidth)
            rowPositive = rowSums
            rowNegative = rowSums
        }

        /// Whether every value of the map was added.
        public var isComplete: Bool { added == width * height * channels }

        /// Adds the next values of the map: whole rows, in storage order.
        /// - Complexity: O(values.count).
        public mutating func add(_ values: UnsafeBufferPointer<Float>) {
            precondition(values.count % width == 0 && added + values.count <= width * height * channels, "whole rows of the map")
            guard let base = values.baseAddress, !values.isEmpty else { return }
            // The sampled values: storage positions 0, step, 2·step, …
            var k = (added + step - 1) / step * step
            while k < added + values.count {
                let v = base[k - added]
                if v.isFinite { samples.append(v) }
                k += step
            }
            // The finite range: from the vectorised statistics kernel (NaN skipped), unless an infinity shows.
            var statistics = MapStatistics.Accumulator()
            statistics.add(values)
            let band = statistics.statistics
            if band.minimum.isFinite && band.maximum.isFinite {
                finiteLow = min(finiteLow, band.minimum)
                finiteHigh = max(finiteHigh, band.maximum)
            } else {
                for v in values where v.isFinite {
                    finiteLow = min(finiteLow, v)
                    finiteHigh = max(finiteHigh, v)
                }
            }
            for r in 0..<(values.count / width) {
                addRow(base + r * width)
                added += width
            }
        }

        private mutating func addRow(_ row: UnsafePointer<Float>) {
            let index = added / width, channel = index / height, y = index % height
            if y == 0 { firstOpenRow = 0 }
            // Horizontal: the row's finite values into each column's box; non-finite ones by their share. A box's plain
            // sum is finite exactly when all its values are (|v| · w ≤ Float's maximum), else it is summed again with care.
            let thumbnailWidth = self.thumbnailWidth
            var nonFinite = false
            columnFirst.withUnsafeBufferPointer { first in
                columnOffset.withUnsafeBufferPointer { offset in
                    columnWeights.withUnsafeBufferPointer { weights in
                        rowSums.withUnsafeMutableBufferPointer { sums in
                            for x in 0..<thumbnailWidth {
                                var sum = 0.0
                                var source = row + first[x], t = offset[x]
                                let end = offset[x + 1]
                                while t < end {
                                    sum += Double(source.pointee) * weights[t]
                                    source += 1
                                    t += 1
                                }
                                sums[x] = sum
                                if !sum.isFinite { nonFinite = true }
                            }
                            guard nonFinite else { return }
                            for x in 0..<thumbnailWidth {
                                var sum = 0.0, positive = 0.0, negative = 0.0
                                let source = row + first[x]
                                for (j, t) in (offset[x]..<offset[x + 1]).enumerated() {
                                    let v = source[j]
                                    if v.isFinite {
                                        sum += Double(v) * weights[t]
                                    } else if v == .infinity {
                                        positive += weights[t]
                                    } else {
                                        negative += weights[t]
                                    }
                                }
                                sums[x] = sum
                                rowPositive[x] = positive
                                rowNegative[x] = negative
                            }
                        }
                    }
                }
            }
            if nonFinite && positive.isEmpty {
                positive = [Double](repeating: 0, count: sums.count)
                negative = positive
            }
            // Vertical: into every thumbnail row whose box holds this row, in row order (as the sheet's second pass).
            while firstOpenRow < thumbnailHeight, rows[firstOpenRow].last!.index < y { firstOpenRow += 1 }
            var t = firstOpenRow
            while t < thumbnailHeight, let first = rows[t].first, first.index <= y {
                let weight = rows[t][y - first.index].weight
                let start = (channel * thumbnailHeight + t) * thumbnailWidth
                for x in 0..<thumbnailWidth { sums[start + x] += rowSums[x] * weight }
                if nonFinite {
                    for x in 0..<thumbnailWidth {
                        positive[start + x] += rowPositive[x] * weight
                        negative[start + x] += rowNegative[x] * weight
                    }
                }
                t += 1
            }
        }

        /// The range the thumbnail is stretched over (`ContactSheet.displayRange`'s), nil when the map has no finite
        /// value; `clipped` when it is the 0.5–99.5 percentiles.
        /// - Precondition: every value was added.
        public var range: (lo: Float, hi: Float, clipped: Bool)? {
            precondition(isComplete, "the map is not complete")
            guard finiteLow <= finiteHigh else { return nil }
            return ContactSheet.displayRange(sample: samples, full: (finiteLow, finiteHigh))
        }

        /// The thumbnail's levels, channel by channel, each `thumbnailWidth × thumbnailHeight`, top row first.
        /// - Precondition: every value was added.
        public func levels() -> [UInt8] {
            let range = self.range
            return sums.indices.map { i in
                let t: Double
                if let range {
                    if range.lo == range.hi {
                        t = 0.5
                    } else {
                        let lo = Double(range.lo), hi = Double(range.hi)
                        if positive.isEmpty || positive[i] + negative[i] == 0 {
                            t = ContactSheet.stretch(sums[i], lo: lo, hi: hi)
                        } else {
                            let finite = 1 - positive[i] - negative[i]
                            t = (finite > 1e-12 ? finite * ContactSheet.stretch(sums[i] / finite, lo: lo, hi: hi) : 0) + positive[i]
                        }
                    }
                } else {
                    t = 0
                }
                return Colormap.gray.color(t).red
            }
        }

        /// The thumbnail as PNG bytes: 8-bit gray, or RGB for a three-channel map.
        /// - Throws: `ImageCodecError` (`.unwritable`) if encoding fails.
        /// - Precondition: every value was added.
        public func pngBytes(level: Int = 6) throws(ImageCodecError) -> [UInt8] {
            let planes = levels()
            guard channels == 3 else {
                return try ImageCodec.encodePNG(gray8: planes, width: thumbnailWidth, height: thumbnailHeight, level: level)
            }
            let area = thumbnailWidth * thumbnailHeight
            var rgb = [UInt8](repeating: 0, count: 3 * area)
            for p in 0..<area {
                for c in 0..<3 { rgb[3 * p + c] = planes[c * area + p] }
            }
            return try ImageCodec.encodePNG(rgb8: rgb, width: thumbnailWidth, height: thumbnailHeight, level: level)
        }
    }
}
