extension FilterBank {
    /// Whether the bank reads one input channel (every filter one channel, no groups): what per-channel filtering
    /// (`perChannel(channels:)`, `convolvePerChannel(_:jobs:kernels:)`, `apply --per-channel`) runs.
    public var isOneChannel: Bool { channels == 1 }

    /// The bank that runs this one-channel bank on each of `channels` colour channels on its own: a depthwise bank
    /// (`groups == channels`, Keras `DepthwiseConv2D` with depth multiplier 1 per filter) whose filter `c · F + f` is
    /// filter `f` (its kernel, its bias) reading channel `c`, named `<name>.c<c>`; stride, dilation, padding, padding
    /// mode and activation are this bank's. `channels == 1` gives this bank itself. Plan it with
    /// `ConvolutionPlan(bank:input:)` and run it with `ConvolutionPlan.runPerChannel(_:jobs:kernels:)`, which gathers
    /// the maps into one `channels`-channel result per filter.
    /// - Throws: `ConvolutionError.notOneChannel` when the bank reads more than one channel.
    /// - Precondition: `channels ≥ 1`.
    /// - Complexity: O(channels · weights).
    public func perChannel(channels: Int) throws(ConvolutionError) -> FilterBank {
        precondition(channels >= 1, "at least one channel")
        guard isOneChannel else { throw .notOneChannel(bank: self.channels) }
        guard channels > 1 else { return self }
        var expanded: [Filter] = []
        expanded.reserveCapacity(filters.count * channels)
        for c in 0..<channels {
            for filter in filters {
                expanded.append(Filter(name: "\(filter.name).c\(c)", kernel: filter.kernel, channels: 1, weights: filter.weights, bias: filter.bias))
            }
        }
        var bank = FilterBank(name: name, filters: expanded, stride: stride, dilation: dilation, padding: padding, paddingMode: paddingMode,
                          activation: activation, groups: channels, summary: summary)
        bank.usesBias = usesBias
        return bank
    }

    /// Runs every filter of this one-channel bank on each channel of `image` on its own (Keras `DepthwiseConv2D`,
    /// depth multiplier 1: the filter's kernel and bias on every channel, then the activation): per filter, one
    /// tensor with `image`'s channels, channel `c` being the filter's map of channel `c`. The image is not adapted
    /// first (pass it with the channels you want filtered; `apply --per-channel` drops alpha).
    ///
    /// Each channel is computed exactly as `convolve` computes the map of a one-channel image, so channel `c` of
    /// the result equals `convolve(image.plane(c))` bit for bit, for any `jobs`.
    /// - Parameters:
    ///   - image: raw samples, any channel count.
    ///   - jobs: threads working on the image; never changes the result.
    ///   - kernels: which compiled kernels run; never changes the result.
    /// - Returns: One `image.channels`-channel tensor per filter, in bank order, before normalization.
    /// - Throws: `ConvolutionError.notOneChannel` for a bank of more than one channel; as `convolve` when the bank
    ///   cannot run on an image of this size.
    /// - Complexity: O(H_out · W_out · C · k_h · k_w) multiply-adds per filter.
    public func convolvePerChannel(_ image: Tensor, jobs: Int = 1, kernels: KernelLevel = .best) throws(ConvolutionError) -> [Tensor] {
        let plan = try ConvolutionPlan(bank: try perChannel(channels: image.channels), input: image.extent)
        return plan.runPerChannel(image, jobs: jobs, kernels: kernels)
    }
}
