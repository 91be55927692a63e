/// A dense `Float` image of `height × width × channels` stored as `channels` row-major planes:
/// sample `(y, x, c)` is `storage[(c * height + y) * width + x]`. Values are raw samples (8-bit files give
/// 0…255, 16-bit files 0…65535) or, for feature maps, the values a filter produced.
public struct Tensor: Sendable, Equatable {
    /// Rows.
    public let height: Int
    /// Columns.
    public let width: Int
    /// Planes.
    public let channels: Int
    /// Planar storage, `channels · height · width` values (set only through the initialisers, so the count always
    /// matches the shape).
    public internal(set) var storage: [Float]

    /// A tensor of zeros.
    /// - Complexity: O(height · width · channels).
    public init(height: Int, width: Int, channels: Int) {
        precondition(height >= 0 && width >= 0 && channels >= 1, "invalid tensor shape")
        self.height = height
        self.width = width
        self.channels = channels
        self.storage = [Float](repeating: 0, count: height * width * channels)
    }

    /// A tensor over existing planar storage (`storage.count == height · width · channels`).
    public init(height: Int, width: Int, channels: Int, storage: [Float]) {
        precondition(storage.count == height * width * channels, "storage does not match the shape")
        self.height = height
        self.width = width
        self.channels = channels
        self.storage = storage
    }

    /// A tensor from interleaved `H × W × C` samples (the layout of image files and of NumPy `(H, W, C)` arrays).
    /// - Complexity: O(height · width · channels).
    public init(height: Int, width: Int, channels: Int, interleaved: [Float]) {
        precondition(interleaved.count == height * width * channels, "samples do not match the shape")
        var planar = [Float](repeating: 0, count: interleaved.count)
        let plane = height * width
        for p in 0..<plane {
            for c in 0..<channels { planar[c * plane + p] = interleaved[p * channels + c] }
        }
        self.init(height: height, width: width, channels: channels, storage: planar)
    }

    /// Height and width.
    public var extent: Extent2D { Extent2D(height: height, width: width) }

    /// Sample `(y, x, c)`.
    public subscript(y: Int, x: Int, c: Int) -> Float {
        get { storage[(c * height + y) * width + x] }
        set { storage[(c * height + y) * width + x] = newValue }
    }

    /// Channel `c` as a one-channel tensor.
    /// - Complexity: O(height · width).
    public func plane(_ c: Int) -> Tensor {
        let n = height * width
        return Tensor(height: height, width: width, channels: 1, storage: Array(storage[c * n..<(c + 1) * n]))
    }

    /// The samples in interleaved `H × W × C` order.
    /// - Complexity: O(height · width · channels).
    public var interleaved: [Float] {
        var out = [Float](repeating: 0, count: storage.count)
        let plane = height * width
        for p in 0..<plane {
            for c in 0..<channels { out[p * channels + c] = storage[c * plane + p] }
        }
        return out
    }
}
