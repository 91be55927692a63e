/// Why a bank cannot run on an image of a given size or channel count.
public enum ConvolutionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The (dilated) kernel does not fit in the (padded) input.
    case emptyOutput(input: Extent2D, kernel: Extent2D, dilation: Extent2D, padding: Padding)
    /// Filter `index` (`filters[index]` in the bank file) does not fit the image.
    indirect case filterDoesNotFit(index: Int, name: String, ConvolutionError)
    /// `reflect` needs every pad narrower than the image.
    case padTooWide(mode: PaddingMode, insets: EdgeInsets, input: Extent2D)
    /// Pads so wide that the padded image would be more than 4× the input (and over 16 M pixels).
    case paddingTooLarge(insets: EdgeInsets, input: Extent2D)
    /// The image's channels cannot be adapted to the bank's.
    case channelMismatch(image: Int, bank: Int)
    /// A filter name was not found.
    case unknownFilter(String, known: [String])
    /// An output position outside the map.
    case positionOutside(x: Int, y: Int, output: Extent2D)
    /// Sizes, strides, dilations or pads that are not positive (pads: negative) or whose arithmetic overflows.
    case geometryOutOfRange(input: Extent2D, kernel: Extent2D, stride: Extent2D, dilation: Extent2D, padding: Padding)
    /// Per-channel filtering needs a bank whose filters read one channel; this bank reads `bank` channels.
    case notOneChannel(bank: Int)
    /// Running the bank on this input needs more memory than the budget allows (`--max-memory`).
    case overMemoryBudget(needed: Int, budget: Int, input: Extent2D)

    /// The one-line message, naming the filter or sizes involved.
    public var description: String {
        switch self {
        case let .emptyOutput(input, kernel, dilation, padding):
            let span = Extent2D(height: (kernel.height - 1) * dilation.height + 1, width: (kernel.width - 1) * dilation.width + 1)
            return "a \(kernel.shape) kernel (\(span.shape) with dilation) does not fit a \(input.shape) image with padding \(padding)"
        case let .filterDoesNotFit(index, name, underlying):
            return "filters[\(index)] ('\(name)'): \(underlying)"
        case let .padTooWide(mode, insets, input):
            return "padding mode \(mode.rawValue) cannot fill pads \(insets) on a \(input.shape) image (each pad must be smaller than the image side)"
        case let .paddingTooLarge(insets, input):
            return "pads \(insets) on a \(input.shape) image make a padded image over 4 times the input's size (and over 16 M pixels)"
        case let .channelMismatch(image, bank):
            return "the image has \(image) channel\(image == 1 ? "" : "s") but the bank expects \(bank)"
        case let .unknownFilter(name, known):
            return "no filter named '\(name)' (filters: \(known.joined(separator: ", ")))"
        case let .positionOutside(x, y, output):
            return "position x=\(x), y=\(y) is outside the \(output.width)×\(output.height) (W×H) output"
        case let .geometryOutOfRange(input, kernel, stride, dilation, padding):
            return "a \(kernel.shape) kernel with stride \(stride), dilation \(dilation) and padding \(padding) on a \(input.shape) image is out of range (sizes, strides and dilations must be positive and their products must fit 64 bits)"
        case let .notOneChannel(bank):
            return "--per-channel needs a bank of one-channel filters; this bank's filters read \(bank) channels (use a one-channel bank, or drop --per-channel)"
        case let .overMemoryBudget(needed, budget, input):
            return "a \(input.shape) image needs about \(ByteCount.format(needed)) with this bank, over the memory budget of \(ByteCount.format(budget)); raise it with --max-memory, or use fewer filters or a larger stride"
        }
    }
}
