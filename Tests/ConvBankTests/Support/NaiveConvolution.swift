import ConvBankTestSupport
import Testing
@testable import ConvBankBatch
@testable import ConvBankEngine
@testable import ConvBankImageIO
@testable import ConvBankPictures

/// A deliberately naive oracle of the contract's formula, written independently of the engine: it pads
/// nothing and looks every tap up through the padding mode, in `Double`.
/// `out[f](y, x) = act(b[f] + Σ_c Σ_i Σ_j in_c(y·sh + i·dh − top, x·sw + j·dw − left) · w[f][c][i][j])`.
func naiveConvolution(_ image: Tensor, _ bank: FilterBank) throws -> [[[Double]]] {
    var maps: [[[Double]]] = []
    for (f, filter) in bank.filters.enumerated() {
        let g = try bank.geometry(of: f, input: image.extent)
        var map = [[Double]](repeating: [Double](repeating: 0, count: g.output.width), count: g.output.height)
        for y in 0..<g.output.height {
            for x in 0..<g.output.width {
                var sum = 0.0
                for c in 0..<filter.channels {
                    for i in 0..<filter.kernel.height {
                        for j in 0..<filter.kernel.width {
                            let iy = y * bank.stride.height + i * bank.dilation.height - g.insets.top
                            let ix = x * bank.stride.width + j * bank.dilation.width - g.insets.left
                            guard let sy = padIndex(iy, image.height, bank.paddingMode),
                                  let sx = padIndex(ix, image.width, bank.paddingMode) else { continue }
                            sum += Double(image[sy, sx, c]) * Double(filter[c, i, j])
                        }
                    }
                }
                map[y][x] = bank.activation.apply(sum + Double(filter.bias))
            }
        }
        maps.append(map)
    }
    return maps
}

/// Padding written out from the mode's definition (not the engine's `sourceIndex`).
private func padIndex(_ i: Int, _ n: Int, _ mode: PaddingMode) -> Int? {
    if (0..<n).contains(i) { return i }
    switch mode {
    case .zeros: return nil
    case .replicate: return min(max(i, 0), n - 1)
    case .circular: return ((i % n) + n) % n
    case .reflect:
        // Mirror about the first and last samples, without repeating them, until inside.
        var k = i
        while !(0..<n).contains(k) { k = k < 0 ? -k : 2 * (n - 1) - k }
        return k
    }
}

/// Checks `maps` against a reference `(F, H_out, W_out)` array within float32 rounding of each filter's largest
/// possible sum: `1e-5 · (max|input| · Σ|w_f| + |b_f|) + 1e-6`.
func expectMatchesReference(_ maps: [Tensor], _ expected: Float32NPY, bank: FilterBank, input image: Tensor,
                            sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(maps.count == expected.shape[0], sourceLocation: sourceLocation)
    guard maps.count == expected.shape[0] else { return }
    let maxInput = image.storage.map(abs).max() ?? 0
    var offset = 0
    for (f, map) in maps.enumerated() {
        #expect(map.height == expected.shape[1] && map.width == expected.shape[2], "filter \(f) shape", sourceLocation: sourceLocation)
        let filter = bank.filters[f]
        let tolerance = 1e-5 * (Double(maxInput) * filter.weights.reduce(0) { $0 + Double(abs($1)) } + Double(abs(filter.bias))) + 1e-6
        var worst = 0.0, at = 0
        for k in 0..<map.storage.count {
            let d = abs(Double(map.storage[k]) - Double(expected.values[offset + k]))
            if d > worst { worst = d; at = k }
        }
        #expect(worst <= tolerance, "filter \(f): max difference \(worst) > \(tolerance) at (y \(at / max(map.width, 1)), x \(at % max(map.width, 1)))",
                sourceLocation: sourceLocation)
        offset += map.storage.count
    }
}
