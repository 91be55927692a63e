extension FilterBank {
    /// Cross-correlates `image` with every filter (no kernel flip, as Keras `Conv2D`):
    /// `out_f(y, x) = act(b_f + Σ_c Σ_i Σ_j in_c(y·sh + i·dh − top, x·sw + j·dw − left) · w_f[c][i][j])`.
    ///
    /// Summation order, which `explain` reproduces exactly: each channel's partial sum adds its taps in
    /// `(i, j)` row-major order starting from zero; the partials are added in channel order; then the bias;
    /// then the activation. Results are bit-identical for any `jobs`.
    /// - Parameter image: raw samples with exactly `channels` channels (see `Tensor.adapted(toChannels:)`).
    /// - Returns: One single-channel tensor per filter, in bank order, before normalization.
    /// - Throws: `ConvolutionError` when the bank cannot run on an image of this size or channel count.
    /// - Complexity: O(H_out · W_out · C · k_h · k_w) multiply-adds per filter.
    public func convolve(_ image: Tensor, jobs: Int = 1) throws(ConvolutionError) -> [Tensor] {
        guard image.channels == channels else { throw .channelMismatch(image: image.channels, bank: channels) }
        let plan = try ConvolutionPlan(bank: self, input: image.extent)
        return plan.run(image, jobs: jobs)
    }
}

extension ConvolutionPlan {
    /// Output rows per work item.
    static let bandRows = 16

    /// Runs the plan on `image` (its size and channels must match the plan).
    /// - Complexity: O(H_out · W_out · C · k_h · k_w) multiply-adds per filter.
    public func run(_ image: Tensor, jobs: Int = 1) -> [Tensor] {
        let paddedPlanes = pad(image)
        return paddedPlanes.withUnsafeBufferPointer { src in
            let input = SharedReads(base: src.baseAddress!)
            return filters.indices.map { f in
                let out = filters[f].geometry.output
                let bands = (out.height + ConvolutionPlan.bandRows - 1) / ConvolutionPlan.bandRows
                let storage = [Float](unsafeUninitializedCapacity: out.height * out.width) { buffer, count in
                    let target = DisjointWrites(base: buffer.baseAddress!)
                    parallelFor(bands, jobs: jobs) { band in
                        let start = band * ConvolutionPlan.bandRows
                        self.computeRows(filter: f, rows: start..<min(start + ConvolutionPlan.bandRows, out.height),
                                         input: input.base, output: target.base)
                    }
                    count = out.height * out.width
                }
                return Tensor(height: out.height, width: out.width, channels: 1, storage: storage)
            }
        }
    }

    /// Computes output rows `rows` of filter `f` into `output` (that filter's H_out × W_out map).
    func computeRows(filter f: Int, rows: Range<Int>, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
        let plan = filters[f]
        let outW = plan.geometry.output.width
        let sh = bank.stride.height, sw = bank.stride.width
        let bias = bank.filters[f].bias
        let activation = bank.activation
        let partial = UnsafeMutablePointer<Float>.allocate(capacity: outW)
        defer { partial.deallocate() }
        let tapsPerChannel = plan.tapsPerChannel
        let channels = plan.tapOffsets.count / tapsPerChannel
        plan.tapOffsets.withUnsafeBufferPointer { offsets in
            plan.tapWeights.withUnsafeBufferPointer { weights in
                for y in rows {
                    let rowOrigin = plan.origin + y * sh * padded.width
                    let total = output + y * outW
                    for c in 0..<channels {
                        let acc = c == 0 ? total : partial
                        acc.initialize(repeating: 0, count: outW)
                        for t in (c * tapsPerChannel)..<((c + 1) * tapsPerChannel) {
                            let w = weights[t]
                            let src = input + rowOrigin + offsets[t]
                            if sw == 1 {
                                for x in 0..<outW { acc[x] += w * src[x] }
                            } else {
                                for x in 0..<outW { acc[x] += w * src[x * sw] }
                            }
                        }
                        if c > 0 { for x in 0..<outW { total[x] += partial[x] } }
                    }
                    switch activation {
                    case .linear: for x in 0..<outW { total[x] = total[x] + bias }
                    case .relu: for x in 0..<outW { let v = total[x] + bias; total[x] = v > 0 ? v : 0 }
                    default: for x in 0..<outW { total[x] = activation.apply(total[x] + bias) }
                    }
                }
            }
        }
    }
}
