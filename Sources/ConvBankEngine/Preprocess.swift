/// What is done to the decoded image's samples (raw 0…255 for 8-bit files) before a bank or network sees them,
/// before any padding: the modes of Keras `keras.applications.imagenet_utils.preprocess_input`, or a per-channel
/// scale and offset.
///
/// Computed in `Float` in Keras's order (NumPy on a float32 array), so results equal Keras's bit for bit:
/// - `caffe`: channels reversed (RGB → BGR), then `x − mean` with mean `[103.939, 116.779, 123.68]` (BGR order);
/// - `tf`: `x / 127.5 − 1`;
/// - `torch`: `(x / 255 − mean) / std` with mean `[0.485, 0.456, 0.406]`, std `[0.229, 0.224, 0.225]`;
/// - `affine`: channels 0 and 2 swapped first when `bgr`, then `x · scale[c] + offset[c]`.
public enum Preprocess: Sendable, Equatable {
    /// Raw samples (the default).
    case none
    /// Keras `caffe` mode (VGG16, ResNet50): RGB → BGR, minus the ImageNet BGR means. Needs 3 channels.
    case caffe
    /// Keras `tf` mode (MobileNet, Inception): `x / 127.5 − 1`.
    case tf
    /// Keras `torch` mode (DenseNet): `x / 255`, minus the ImageNet RGB means, divided by their standard deviations.
    /// Needs 3 channels.
    case torch
    /// `x · scale[c] + offset[c]` per channel, after swapping channels 0 and 2 when `bgr` (one value per channel).
    case affine(scale: [Float], offset: [Float], bgr: Bool)

    /// The mode names `--preprocess` and a bank file's `"preprocess"` string take.
    public static let modeNames = ["none", "caffe", "tf", "torch"]

    /// The mode of that name (`none`, `caffe`, `tf`, `torch`; letter case ignored), or nil.
    /// - Parameter name: the mode's name.
    public init?(name: String) {
        switch name.lowercased() {
        case "none": self = .none
        case "caffe": self = .caffe
        case "tf": self = .tf
        case "torch": self = .torch
        default: return nil
        }
    }

    /// The channel count the mode needs, if it needs one (`caffe` and `torch`: 3; `affine`: its value count).
    public var requiredChannels: Int? {
        switch self {
        case .none, .tf: nil
        case .caffe, .torch: 3
        case .affine(let scale, _, _): scale.count
        }
    }

    /// Its spelling in a bank or network file: a mode name, or `{"scale": […], "offset": […], "bgr": …}`
    /// (numbers print as the shortest decimal that round-trips the `Float`).
    public var jsonText: String {
        switch self {
        case .none: return "\"none\""
        case .caffe: return "\"caffe\""
        case .tf: return "\"tf\""
        case .torch: return "\"torch\""
        case let .affine(scale, offset, bgr):
            let s = scale.map { "\($0)" }.joined(separator: ", "), o = offset.map { "\($0)" }.joined(separator: ", ")
            return "{\"scale\": [\(s)], \"offset\": [\(o)], \"bgr\": \(bgr)}"
        }
    }

    /// The mode's name (`scale/offset` for `affine`), for messages.
    public var summaryName: String {
        switch self {
        case .none: "none"
        case .caffe: "caffe"
        case .tf: "tf"
        case .torch: "torch"
        case .affine: "scale/offset"
        }
    }

    /// A canonical text for fingerprints: every number as the hex of its 32-bit pattern.
    public var canonicalText: String {
        switch self {
        case .none: return "none"
        case .caffe: return "caffe"
        case .tf: return "tf"
        case .torch: return "torch"
        case let .affine(scale, offset, bgr):
            func hex(_ v: Float) -> String { String(v.bitPattern, radix: 16) }
            return "affine \(bgr) \(scale.map(hex).joined(separator: ",")) \(offset.map(hex).joined(separator: ","))"
        }
    }

    /// The image with the preprocessing applied; `image` itself for `none`.
    /// - Parameter image: raw samples, with `requiredChannels` channels when the mode needs a count.
    /// - Precondition: the channel count is the one the mode needs (`requiredChannels`).
    /// - Complexity: O(height · width · channels).
    public func apply(to image: Tensor) -> Tensor {
        if case .none = self { return image }
        if let needed = requiredChannels { precondition(image.channels == needed, "preprocessing needs \(needed) channels") }
        let plane = image.height * image.width
        var storage = image.storage
        func swapRedBlue() {
            guard image.channels >= 3 else { return }
            for p in 0..<plane { storage.swapAt(p, 2 * plane + p) }
        }
        func perChannel(_ body: (Int, Float) -> Float) {
            storage.withUnsafeMutableBufferPointer { buffer in
                for c in 0..<image.channels {
                    for p in c * plane..<(c + 1) * plane { buffer[p] = body(c, buffer[p]) }
                }
            }
        }
        switch self {
        case .none: break
        case .caffe:
            swapRedBlue()
            let mean: [Float] = [103.939, 116.779, 123.68]
            perChannel { c, x in x - mean[c] }
        case .tf:
            perChannel { _, x in x / 127.5 - 1 }
        case .torch:
            let mean: [Float] = [0.485, 0.456, 0.406], std: [Float] = [0.229, 0.224, 0.225]
            perChannel { c, x in (x / 255 - mean[c]) / std[c] }
        case let .affine(scale, offset, bgr):
            if bgr { swapRedBlue() }
            perChannel { c, x in x * scale[c] + offset[c] }
        }
        return Tensor(height: image.height, width: image.width, channels: image.channels, storage: storage)
    }
}
