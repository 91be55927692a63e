/// One filter of a bank: a `kh × kw` kernel for each of `channels` input channels, and a bias.
///
/// Weights are stored in the canonical `[channel][ky][kx]` order, whatever form the bank file used:
/// `weights[(c * kernel.height + i) * kernel.width + j]` multiplies input channel `c` at kernel row `i`, column `j`.
public struct Filter: Sendable, Equatable {
    /// The map's file name stem; unique in its bank.
    public var name: String
    /// Kernel height and width.
    public internal(set) var kernel: Extent2D
    /// Input channels this filter reads.
    public internal(set) var channels: Int
    /// `channels · kh · kw` weights, `[c][i][j]`.
    public internal(set) var weights: [Float]
    /// Added to the channel sum before the activation.
    public var bias: Float
    /// The input channel this filter's channel 0 reads (grouped banks: the first channel of its group; set by the
    /// bank's `groups`).
    public internal(set) var firstChannel: Int = 0

    /// A filter from its weights in the canonical `[c][i][j]` order.
    /// - Precondition: the shape is positive and `weights.count == channels · kernel.height · kernel.width`.
    public init(name: String, kernel: Extent2D, channels: Int, weights: [Float], bias: Float = 0) {
        precondition(kernel.height >= 1 && kernel.width >= 1 && channels >= 1, "invalid filter shape")
        precondition(weights.count == channels * kernel.height * kernel.width, "weights do not match the shape")
        self.name = name
        self.kernel = kernel
        self.channels = channels
        self.weights = weights
        self.bias = bias
    }

    /// A filter applying the same 2-D kernel (`rows`, `kh × kw`) to each channel, scaled per channel by `channelWeights`.
    public init(name: String, kernel rows: [[Float]], channelWeights: [Float], bias: Float = 0) {
        let kh = rows.count, kw = rows.first?.count ?? 0
        var weights: [Float] = []
        weights.reserveCapacity(channelWeights.count * kh * kw)
        for s in channelWeights { for row in rows { for v in row { weights.append(s * v) } } }
        self.init(name: name, kernel: Extent2D(height: kh, width: kw), channels: channelWeights.count, weights: weights, bias: bias)
    }

    /// Weight for channel `c`, kernel row `i`, column `j`.
    @inlinable public subscript(c: Int, i: Int, j: Int) -> Float {
        weights[(c * kernel.height + i) * kernel.width + j]
    }

    /// The longest filter name a bank file may give, in UTF-8 bytes: the longest file the tool forms from it — the
    /// hidden temporary name of a partial map, `.<name>.c<k>.<ext>.tmp-<pid>-<n>` — then stays within the 255 bytes
    /// of a file name.
    public static let maximumNameBytes = 200

    /// Trainable parameters, as Keras counts them: `kh · kw · C + 1`.
    public var parameterCount: Int { kernel.height * kernel.width * channels + 1 }
}

/// A filter bank: filters sharing one input channel count, convolved with one stride, dilation, padding,
/// padding mode and activation — a Keras `Conv2D` layer whose filters may differ in kernel size.
///
/// Defaults are Keras's: stride 1, dilation 1, `valid`, zeros, `linear`.
public struct FilterBank: Sendable, Equatable {
    /// The bank's name, shown in summaries, sheets and the gallery.
    public var name: String
    /// Output step in rows and columns.
    public var stride: Extent2D
    /// Spacing of the kernel's taps in rows and columns (1: adjacent).
    public var dilation: Extent2D
    /// How much border surrounds the input: `valid`, `same` or explicit pads.
    public var padding: Padding
    /// What fills the border.
    public var paddingMode: PaddingMode
    /// Applied to each filter's channel sum plus bias.
    public var activation: Activation
    /// At least one filter; all read the same number of channels.
    public internal(set) var filters: [Filter]
    /// Keras/PyTorch `groups`: the input channels split into `groups` consecutive groups and filter `f` reads
    /// only group `⌊f·G/F⌋` (so each filter has `channels / groups` channels). 1 is an ordinary convolution;
    /// `groups == channels` is a depthwise convolution.
    public private(set) var groups: Int = 1
    /// Whether the filters have biases that count as parameters (Keras `use_bias`, PyTorch `bias=`): false for a layer
    /// without them, whose biases are all 0 and which `parameterCount` counts without them. Bank JSON `"use_bias"`.
    public var usesBias = true
    /// A one-line description (built-in banks).
    public var summary: String?
    /// Maps made pixel by pixel from pairs of the filters' maps (edge strength, edge direction), written instead of
    /// the filters' maps when not empty (see `MapCombination`, `outputNames`, `outputMaps(_:)`); set by
    /// `combining(_:source:)` or a bank file's `"combine"`.
    public internal(set) var combinations: [MapCombination] = []
    /// Applied to the image (adapted to `channels`) before the filters see it, before any padding (a bank file's
    /// `"preprocess"`; `none` by default).
    public var preprocess: Preprocess = .none

    /// A bank with Keras's defaults.
    /// - Parameters:
    ///   - name: shown in summaries, sheets and the gallery.
    ///   - filters: at least one, all with the same channel count.
    ///   - stride: output step, rows and columns.
    ///   - dilation: spacing of the kernel's taps.
    ///   - padding: how much border (`valid`, `same`, explicit).
    ///   - paddingMode: what fills the border.
    ///   - activation: applied after the bias.
    ///   - groups: Keras/PyTorch `groups` (see `groups`); each filter then reads its filter's channel count of
    ///     consecutive input channels, those of its group. Must divide the filter count.
    ///   - summary: a one-line description.
    public init(name: String, filters: [Filter], stride: Extent2D = Extent2D(1), dilation: Extent2D = Extent2D(1),
                padding: Padding = .valid, paddingMode: PaddingMode = .zeros, activation: Activation = .linear,
                groups: Int = 1, summary: String? = nil) {
        precondition(!filters.isEmpty, "a bank needs at least one filter")
        precondition(filters.allSatisfy { $0.channels == filters[0].channels }, "filters must share a channel count")
        self.name = name
        self.filters = filters
        self.stride = stride
        self.dilation = dilation
        self.padding = padding
        self.paddingMode = paddingMode
        self.activation = activation
        self.summary = summary
        if groups > 1 { setGroups(groups) }
    }

    /// This bank with its filters named `names`, in order; every other setting kept.
    /// - Parameter names: one name per filter.
    /// - Precondition: `names.count == filters.count`.
    public func renamingFilters(_ names: [String]) -> FilterBank {
        precondition(names.count == filters.count, "one name per filter")
        var bank = self
        for k in bank.filters.indices { bank.filters[k].name = names[k] }
        return bank
    }

    /// Input channels the bank reads (each filter reads `channels / groups` of them).
    public var channels: Int { filters[0].channels * groups }

    /// Filter `f`'s per-channel partial maps on `image` (see `ConvolutionPlan.partialMaps(of:in:jobs:kernels:)`),
    /// named by `partialNames(of:)`.
    /// - Throws: `ConvolutionError` when the bank cannot run on an image of this size or channel count.
    /// - Complexity: O(H_out · W_out · C · k_h · k_w) multiply-adds.
    public func partialMaps(of f: Int, in image: Tensor, jobs: Int = 1, kernels: KernelLevel = .best) throws(ConvolutionError) -> [Tensor] {
        guard image.channels == channels else { throw .channelMismatch(image: image.channels, bank: channels) }
        return try ConvolutionPlan(bank: self, input: image.extent).partialMaps(of: f, in: image, jobs: jobs, kernels: kernels)
    }

    /// The names of filter `f`'s partial maps, `<name>.c<k>` for each input channel `k` it reads, in the order
    /// `partialMaps(of:in:jobs:kernels:)` returns them.
    /// - Complexity: O(channels of the filter).
    public func partialNames(of f: Int) -> [String] {
        let filter = filters[f]
        return (0..<filter.channels).map { "\(filter.name).c\(filter.firstChannel + $0)" }
    }

    /// Splits the input channels into `groups` groups (see `groups`), setting each filter's first channel.
    /// - Precondition: `groups` divides the filter count.
    private mutating func setGroups(_ groups: Int) {
        precondition(groups >= 1 && filters.count % groups == 0, "groups must divide the filter count")
        self.groups = groups
        let perGroup = filters[0].channels
        for f in filters.indices { filters[f].firstChannel = (f * groups / filters.count) * perGroup }
    }

    /// The bank with some settings replaced (nil keeps the bank's own): what the command-line overrides do.
    public func overriding(stride: Extent2D? = nil, dilation: Extent2D? = nil, padding: Padding? = nil,
                           paddingMode: PaddingMode? = nil, activation: Activation? = nil) -> FilterBank {
        var bank = self
        if let stride { bank.stride = stride }
        if let dilation { bank.dilation = dilation }
        if let padding { bank.padding = padding }
        if let paddingMode { bank.paddingMode = paddingMode }
        if let activation { bank.activation = activation }
        return bank
    }

    /// Total parameters: Σ (kh · kw · C/groups + 1), without the 1 when `usesBias` is false.
    public var parameterCount: Int { filters.reduce(0) { $0 + $1.parameterCount } - (usesBias ? 0 : filters.count) }

    /// The filter called `name`.
    public func filter(named name: String) -> Filter? { filters.first { $0.name == name } }

    /// The geometry of filter `index` on an input of `extent`.
    public func geometry(of index: Int, input extent: Extent2D) throws(ConvolutionError) -> ConvolutionGeometry {
        try ConvolutionGeometry.resolve(input: extent, kernel: filters[index].kernel, stride: stride, dilation: dilation, padding: padding)
    }
}
