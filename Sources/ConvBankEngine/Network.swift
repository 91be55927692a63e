import Foundation

/// Keras `MaxPooling2D` / `AveragePooling2D`: the maximum or the mean of each `size` window, `stride` apart, on
/// every channel on its own. `same` pads as convolution does (`out = ceil(in/s)`, the extra row or column after);
/// padded pixels never count: a max ignores them and an average divides by the number of real pixels in the window,
/// as Keras does.
public struct Pooling: Sendable, Equatable {
    /// Maximum or mean.
    public enum Kind: String, Sendable, CaseIterable {
        /// The window's largest value (`MaxPooling2D`).
        case max
        /// The mean of the window's real pixels (`AveragePooling2D`).
        case average
    }

    /// Maximum or mean.
    public var kind: Kind
    /// Window height and width.
    public var size: Extent2D
    /// Step between windows (Keras's default: the size).
    public var stride: Extent2D
    /// `valid` or `same` (explicit pads are not a Keras pooling option).
    public var padding: Padding

    /// A pooling layer.
    /// - Parameters:
    ///   - kind: maximum or mean.
    ///   - size: window height and width.
    ///   - stride: step between windows; nil takes `size`, as Keras.
    ///   - padding: `valid` or `same`.
    public init(kind: Kind, size: Extent2D, stride: Extent2D? = nil, padding: Padding = .valid) {
        self.kind = kind
        self.size = size
        self.stride = stride ?? size
        self.padding = padding
    }

    /// The output size and pads on an input of `extent`.
    /// - Parameter extent: the input's height and width.
    /// - Throws: `ConvolutionError` when the window does not fit.
    public func geometry(input extent: Extent2D) throws(ConvolutionError) -> ConvolutionGeometry {
        let g = try ConvolutionGeometry.resolve(input: extent, kernel: size, stride: stride, dilation: Extent2D(1), padding: padding)
        // Every window must hold a real pixel (always so for valid and same; explicit pads as wide as the window are not).
        let i = g.insets
        if i.top >= size.height || i.bottom >= size.height || i.left >= size.width || i.right >= size.width {
            throw .geometryOutOfRange(input: extent, kernel: size, stride: stride, dilation: Extent2D(1), padding: padding)
        }
        return g
    }

    /// Pools every channel of `input`.
    /// - Parameters:
    ///   - input: any channel count.
    ///   - jobs: threads (channels are split between them); never changes the result.
    /// - Returns: a tensor of the same channel count and the pooled size.
    /// - Throws: `ConvolutionError` when the window does not fit.
    /// - Complexity: O(H_out · W_out · C · kh · kw); a max takes each window's rows first (one pass over the window's
    ///   input rows per output row, vectorised), then its columns.
    public func run(_ input: Tensor, jobs: Int = 1) throws(ConvolutionError) -> Tensor {
        let g = try geometry(input: input.extent)
        let (h, w, oh, ow) = (input.height, input.width, g.output.height, g.output.width)
        let (top, left) = (g.insets.top, g.insets.left)
        let (kind, size, stride) = (self.kind, self.size, self.stride)
        var out = [Float](repeating: 0, count: oh * ow * input.channels)
        input.storage.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                let source = SharedReads(base: src.baseAddress!), target = DisjointWrites(base: dst.baseAddress!)
                parallelFor(input.channels, jobs: jobs) { c in
                    let plane = source.base + c * h * w
                    let output = target.base + c * oh * ow
                    var rows = [Float](repeating: 0, count: w)
                    for oy in 0..<oh {
                        let y0 = oy * stride.height - top
                        let ys = max(y0, 0), ye = min(y0 + size.height, h)
                        switch kind {
                        case .max:
                            // Column maxima over the window's rows (padded rows never count), then row maxima.
                            rows.withUnsafeMutableBufferPointer { m in
                                let first = plane + ys * w
                                for x in 0..<w { m[x] = first[x] }
                                for y in (ys + 1)..<max(ye, ys + 1) {
                                    let line = plane + y * w
                                    var x = 0
                                    // Swift.max(a, b) is `b >= a ? b : a`, lane by lane.
                                    while x + 16 <= w {
                                        let a = UnsafeRawPointer(m.baseAddress! + x).loadUnaligned(as: SIMD16<Float>.self)
                                        let b = UnsafeRawPointer(line + x).loadUnaligned(as: SIMD16<Float>.self)
                                        UnsafeMutableRawPointer(m.baseAddress! + x).storeBytes(of: a.replacing(with: b, where: b .>= a), as: SIMD16<Float>.self)
                                        x += 16
                                    }
                                    while x < w {
                                        m[x] = Swift.max(m[x], line[x])
                                        x += 1
                                    }
                                }
                                let line = output + oy * ow
                                func window(_ ox: Int) {
                                    let x0 = ox * stride.width - left
                                    let xs = max(x0, 0), xe = min(x0 + size.width, w)
                                    var value = m[xs]
                                    for x in (xs + 1)..<max(xe, xs + 1) { value = Swift.max(value, m[x]) }
                                    line[ox] = value
                                }
                                // Windows wholly inside the row: [inside, beyond); the rest clip at the borders.
                                let inside = min((left + stride.width - 1) / stride.width, ow)
                                let beyond = max(min(w - size.width + left >= 0 ? (w - size.width + left) / stride.width + 1 : 0, ow), inside)
                                for ox in 0..<inside { window(ox) }
                                var ox = inside
                                if size.width == 2, stride.width == 2 {  // the common 2×2/2 pool: 16 outputs at a time
                                    let base = m.baseAddress! + (inside * 2 - left)
                                    while ox + 16 <= beyond {
                                        let v = UnsafeRawPointer(base + 2 * (ox - inside)).loadUnaligned(as: SIMD32<Float>.self)
                                        let (a, b) = (v.evenHalf, v.oddHalf)
                                        UnsafeMutableRawPointer(line + ox).storeBytes(of: a.replacing(with: b, where: b .>= a), as: SIMD16<Float>.self)
                                        ox += 16
                                    }
                                }
                                while ox < beyond {
                                    let x0 = ox &* stride.width &- left
                                    var value = m[x0]
                                    for x in (x0 &+ 1)..<(x0 &+ size.width) { value = Swift.max(value, m[x]) }
                                    line[ox] = value
                                    ox += 1
                                }
                                for ox in beyond..<ow { window(ox) }
                            }
                        case .average:
                            // Keras sums the window in row-major order, then divides by the real pixels' count.
                            for ox in 0..<ow {
                                let x0 = ox * stride.width - left
                                let xs = max(x0, 0), xe = min(x0 + size.width, w)
                                var sum: Float = 0
                                for y in ys..<ye { for x in xs..<xe { sum += plane[y * w + x] } }
                                output[oy * ow + ox] = sum / Float((ye - ys) * (xe - xs))
                            }
                        }
                    }
                }
            }
        }
        return Tensor(height: oh, width: ow, channels: input.channels, storage: out)
    }
}

/// Keras `BatchNormalization` in inference mode, per channel `c`:
/// `y = x · inv[c] + (beta[c] − mean[c] · inv[c])` with `inv[c] = gamma[c] / √(variance[c] + epsilon)` — the order
/// of Keras's `ops.batch_normalization` (the JAX and TensorFlow backends), `inv` worked out in `Double` and rounded
/// once, then one multiply and one add per value in `Float`.
public struct BatchNorm: Sendable, Equatable {
    /// Scale per channel.
    public var gamma: [Float]
    /// Offset per channel.
    public var beta: [Float]
    /// Moving mean per channel.
    public var mean: [Float]
    /// Moving variance per channel.
    public var variance: [Float]
    /// Added to the variance (Keras's default 0.001).
    public var epsilon: Float
    /// Whether `gamma` is a learned weight (Keras `scale=True`); false: all ones, not counted as parameters.
    public var scale = true
    /// Whether `beta` is a learned weight (Keras `center=True`); false: all zeros, not counted as parameters.
    public var center = true

    /// A batch normalization over `gamma.count` channels.
    /// - Parameters:
    ///   - gamma: scale per channel.
    ///   - beta: offset per channel.
    ///   - mean: moving mean per channel.
    ///   - variance: moving variance per channel.
    ///   - epsilon: added to the variance.
    /// - Precondition: all four have the same, positive count.
    public init(gamma: [Float], beta: [Float], mean: [Float], variance: [Float], epsilon: Float = 0.001) {
        precondition(!gamma.isEmpty && [beta.count, mean.count, variance.count].allSatisfy { $0 == gamma.count }, "batchnorm vectors differ in length")
        self.gamma = gamma
        self.beta = beta
        self.mean = mean
        self.variance = variance
        self.epsilon = epsilon
    }

    /// Channels normalized.
    public var channels: Int { gamma.count }

    /// Normalizes every channel of `input` (which must have `channels` channels).
    /// - Parameter input: `channels` planes.
    /// - Returns: a tensor of the same shape.
    /// - Complexity: O(H · W · C).
    public func run(_ input: Tensor) -> Tensor {
        precondition(input.channels == channels, "batchnorm channel count")
        let plane = input.height * input.width
        var storage = input.storage
        for c in 0..<channels {
            let inv = Float(Double(gamma[c]) / (Double(variance[c]) + Double(epsilon)).squareRoot())
            let shift = beta[c] - mean[c] * inv
            storage.withUnsafeMutableBufferPointer { b in
                for p in c * plane..<(c + 1) * plane { b[p] = b[p] * inv + shift }
            }
        }
        return Tensor(height: input.height, width: input.width, channels: input.channels, storage: storage)
    }
}

/// One layer of a `Network`: its name (the folder its maps go in) and what it does.
public struct NetworkLayer: Sendable, Equatable {
    /// What a layer does.
    public enum Kind: Sendable, Equatable {
        /// A convolution (Keras `Conv2D`, `DepthwiseConv2D`, grouped): one output channel per filter.
        case convolution(FilterBank)
        /// Max or average pooling on each channel.
        case pooling(Pooling)
        /// Inference batch normalization.
        case batchNorm(BatchNorm)
        /// A standalone activation (Keras `Activation`, `ReLU`, …).
        case activation(Activation)
        /// Keras `PReLU` with one slope per channel (`shared_axes=[1, 2]`): `x` for `x ≥ 0`, else `alpha[c] · x`.
        case prelu(alpha: [Float])
    }

    /// Unique in its network; a file-name component.
    public var name: String
    /// What the layer does.
    public var kind: Kind

    /// A layer.
    /// - Parameters:
    ///   - name: unique in its network.
    ///   - kind: what it does.
    public init(name: String, kind: Kind) {
        self.name = name
        self.kind = kind
    }

    /// Whether every weight, bias and per-channel value of the layer is finite.
    public var isFinite: Bool {
        switch kind {
        case .convolution(let bank): bank.filters.allSatisfy { $0.bias.isFinite && $0.weights.allSatisfy(\.isFinite) }
        case .batchNorm(let bn): (bn.gamma + bn.beta + bn.mean + bn.variance + [bn.epsilon]).allSatisfy(\.isFinite)
        case .prelu(let alpha): alpha.allSatisfy(\.isFinite)
        case .pooling, .activation: true
        }
    }

    /// The channel count the layer reads, when it fixes one (pooling and activations take any).
    public var inputChannels: Int? {
        switch kind {
        case .convolution(let bank): bank.channels
        case .batchNorm(let bn): bn.channels
        case .prelu(let alpha): alpha.count
        case .pooling, .activation: nil
        }
    }

    /// The channels the layer writes for an input of `channels`.
    /// - Parameter channels: the input's channel count.
    public func outputChannels(input channels: Int) -> Int {
        if case .convolution(let bank) = kind { return bank.filters.count }
        return channels
    }

    /// The names of the layer's maps for an input of `channels`: a bank's filter names, else `f0`, `f1`, … by channel.
    /// - Parameter channels: the input's channel count.
    public func mapNames(input channels: Int) -> [String] {
        if case .convolution(let bank) = kind { return bank.filters.map(\.name) }
        return (0..<channels).map { "f\($0)" }
    }

    /// Trainable and non-trainable parameters as Keras `model.summary()` counts them: a convolution
    /// `Σ (kh·kw·C/groups + 1)` (no 1 without biases), batch normalization `4·C` (gamma, beta, moving mean, moving variance;
    /// 3·C or 2·C without `scale` or `center`), PReLU its
    /// slopes, pooling and activations 0.
    public var parameterCount: Int {
        switch kind {
        case .convolution(let bank): bank.parameterCount
        case .batchNorm(let bn): (2 + (bn.scale ? 1 : 0) + (bn.center ? 1 : 0)) * bn.channels
        case .prelu(let alpha): alpha.count
        case .pooling, .activation: 0
        }
    }

    /// The output size on an input of `extent`.
    /// - Parameter extent: the input's height and width.
    /// - Throws: `ConvolutionError` when a kernel or window does not fit.
    public func outputExtent(input extent: Extent2D) throws(ConvolutionError) -> Extent2D {
        switch kind {
        case .convolution(let bank): try ConvolutionPlan(bank: bank, input: extent).filters[0].geometry.output
        case .pooling(let pool): try pool.geometry(input: extent).output
        case .batchNorm, .activation, .prelu: extent
        }
    }

    /// Runs the layer on `input` (its channel count checked by the network).
    /// - Parameters:
    ///   - input: the previous layer's output (or the preprocessed image).
    ///   - jobs: threads for convolutions; never changes the result.
    ///   - kernels: which compiled convolution kernels run; never changes the result.
    /// - Returns: the layer's output, all channels in one tensor.
    /// - Throws: `ConvolutionError` when a kernel or window does not fit.
    /// - Complexity: a convolution's O(H_out · W_out · C · kh · kw) per filter; the others O(H · W · C · window).
    public func run(_ input: Tensor, jobs: Int = 1, kernels: KernelLevel = .best) throws(ConvolutionError) -> Tensor {
        switch kind {
        case .convolution(let bank):
            return try ConvolutionPlan(bank: bank, input: input.extent).runStacked(input, jobs: jobs, kernels: kernels)
        case .pooling(let pool):
            return try pool.run(input, jobs: jobs)
        case .batchNorm(let bn):
            return bn.run(input)
        case .activation(let activation):
            guard activation != .linear else { return input }
            var storage = input.storage
            storage.withUnsafeMutableBufferPointer { b in for i in b.indices { b[i] = activation.apply(b[i]) } }
            return Tensor(height: input.height, width: input.width, channels: input.channels, storage: storage)
        case .prelu(let alpha):
            let plane = input.height * input.width
            var storage = input.storage
            storage.withUnsafeMutableBufferPointer { b in
                for c in alpha.indices {
                    let a = alpha[c]
                    for p in c * plane..<(c + 1) * plane where b[p] < 0 { b[p] = a * b[p] }
                }
            }
            return Tensor(height: input.height, width: input.width, channels: input.channels, storage: storage)
        }
    }
}

/// A stack of layers run one after the other on a preprocessed image, each layer's output (all its channels) the
/// next one's input: a Keras `Sequential` model of the supported layer kinds. Read from network JSON
/// (`init(json:source:)`).
public struct Network: Sendable, Equatable {
    /// Shown in summaries and sheets.
    public var name: String
    /// Applied to the image (adapted to `channels`) before the first layer.
    public var preprocess: Preprocess
    /// At least one; each reads the previous one's channel count.
    public private(set) var layers: [NetworkLayer]
    /// The channel count of the image the network reads: the first layer that fixes a count.
    public let channels: Int

    /// A network; checks that every layer reads what the previous one writes.
    /// - Parameters:
    ///   - name: shown in summaries and sheets.
    ///   - preprocess: applied to the image before the first layer.
    ///   - layers: at least one, with unique names, one of which fixes the input channel count (a convolution,
    ///     batch normalization or PReLU).
    /// - Throws: `NetworkError` naming the first layer whose channel count does not match.
    public init(name: String, preprocess: Preprocess = .none, layers: [NetworkLayer]) throws(NetworkError) {
        guard !layers.isEmpty else { throw .noLayers }
        var names = Set<String>()
        for layer in layers where !names.insert(layer.name).inserted { throw .duplicateName(layer.name) }
        // Names become output folders (`--layers`): whatever built the layers (a model file's reader too).
        for layer in layers {
            let name = layer.name
            if name.isEmpty || name.hasPrefix(".") || name.contains("/") || name.contains("\0") || name.utf8.count > Filter.maximumNameBytes {
                throw .badName(name)
            }
            if !layer.isFinite { throw .nonFinite(name) }
        }
        guard let first = layers.firstIndex(where: { $0.inputChannels != nil }) else { throw .noChannelCount }
        var channels = layers[first].inputChannels!
        let input = channels
        for (index, layer) in layers.enumerated() {
            if let needed = layer.inputChannels, needed != channels {
                throw .channelMismatch(layer: layer.name, index: index, expected: needed, found: channels,
                                       previous: index > 0 ? layers[index - 1].name : nil)
            }
            channels = layer.outputChannels(input: channels)
        }
        if let needed = preprocess.requiredChannels, needed != input {
            throw .preprocessChannels(needed: needed, found: input)
        }
        self.name = name
        self.preprocess = preprocess
        self.layers = layers
        self.channels = input
    }

    /// The channel count each layer reads, in layer order (the last entry is what the network writes, so there are
    /// `layers.count + 1`).
    public var channelCounts: [Int] {
        var counts = [channels]
        for layer in layers { counts.append(layer.outputChannels(input: counts.last!)) }
        return counts
    }

    /// The index of the layer called `name`.
    /// - Parameter name: a layer's name.
    public func layerIndex(named name: String) -> Int? { layers.firstIndex { $0.name == name } }

    /// The output size of every layer on an input of `extent`, in layer order.
    /// - Parameter extent: the image's height and width.
    /// - Throws: `NetworkError.layer` naming the first layer whose kernel or window does not fit.
    public func outputExtents(input extent: Extent2D) throws(NetworkError) -> [Extent2D] {
        var sizes: [Extent2D] = []
        var current = extent
        for layer in layers {
            do { current = try layer.outputExtent(input: current) } catch { throw .layer(layer.name, error) }
            sizes.append(current)
        }
        return sizes
    }

    /// What layer `index` reads on `image`: the preprocessed image for the first layer, else the output of the
    /// layer before it.
    /// - Parameters:
    ///   - index: a layer index.
    ///   - image: the image adapted to `channels`, not yet preprocessed.
    ///   - jobs: threads for convolutions; never changes the result.
    ///   - kernels: which compiled convolution kernels run; never changes the result.
    /// - Throws: `NetworkError.layer` naming a layer before it that cannot run on its input's size.
    /// - Complexity: the layers before `index`.
    public func input(ofLayer index: Int, image: Tensor, jobs: Int = 1, kernels: KernelLevel = .best) throws(NetworkError) -> Tensor {
        guard index > 0 else { return preprocess.apply(to: image) }
        return try run(image, keep: [index - 1], jobs: jobs, kernels: kernels)[index - 1]!
    }

    /// Runs the network on `image` and returns the outputs of the layers in `keep` (every layer's output is
    /// computed up to the last kept one; only the kept ones are held).
    /// - Parameters:
    ///   - image: the image adapted to `channels`, not yet preprocessed (this applies `preprocess`).
    ///   - keep: indices of the layers whose outputs are returned; nil: the last layer only.
    ///   - jobs: threads for convolutions; never changes the result.
    ///   - kernels: which compiled convolution kernels run; never changes the result.
    /// - Returns: the kept layers' outputs (all channels of a layer in one tensor), by layer index.
    /// - Throws: `NetworkError.layer` naming the layer that cannot run on its input's size.
    /// - Complexity: the sum of the layers' costs up to the last kept layer.
    public func run(_ image: Tensor, keep: Set<Int>? = nil, jobs: Int = 1, kernels: KernelLevel = .best) throws(NetworkError) -> [Int: Tensor] {
        precondition(image.channels == channels, "the image must have the network's channel count")
        let wanted = keep ?? [layers.count - 1]
        guard let last = wanted.max() else { return [:] }
        var current = preprocess.apply(to: image)
        var kept: [Int: Tensor] = [:]
        for index in 0...last {
            do { current = try layers[index].run(current, jobs: jobs, kernels: kernels) } catch { throw .layer(layers[index].name, error) }
            if wanted.contains(index) { kept[index] = current }
        }
        return kept
    }
}

/// Why a network cannot be built or run.
public enum NetworkError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A network needs at least one layer.
    case noLayers
    /// Two layers share a name.
    case duplicateName(String)
    /// No layer fixes the channel count the network reads.
    case noChannelCount
    /// Layer `layer` (index `index`) reads `expected` channels, but its input has `found`.
    case channelMismatch(layer: String, index: Int, expected: Int, found: Int, previous: String?)
    /// The preprocessing needs `needed` channels; the network reads `found`.
    case preprocessChannels(needed: Int, found: Int)
    /// A layer cannot run on its input.
    indirect case layer(String, ConvolutionError)
    /// A layer's name cannot be a folder name (empty, starting with '.', holding '/' or NUL, or too long).
    case badName(String)
    /// A layer holds a NaN or infinite weight, bias or batch-norm/PReLU value.
    case nonFinite(String)

    /// The one-line message, naming the layer.
    public var description: String {
        switch self {
        case .noLayers: return "a network needs at least one layer"
        case .duplicateName(let name): return "two layers are named '\(name)' (layer names must be unique: they name the output folders)"
        case .noChannelCount:
            return "no layer fixes the number of input channels (a network needs a convolution, batchnorm or prelu layer)"
        case let .channelMismatch(layer, index, expected, found, previous):
            return "layer '\(layer)' (layers[\(index)]) reads \(expected) channel\(expected == 1 ? "" : "s"), but \(previous.map { "layer '\($0)' writes" } ?? "its input has") \(found)"
        case let .preprocessChannels(needed, found):
            return "the preprocessing needs \(needed) channel\(needed == 1 ? "" : "s"), but the network reads \(found)"
        case let .layer(name, error): return "layer '\(name)': \(error)"
        case .badName(let name):
            return "layer name '\(name)' cannot be a folder name (no '/', not empty, not starting with '.', at most \(Filter.maximumNameBytes) bytes)"
        case .nonFinite(let name): return "layer '\(name)' holds a NaN or infinite value"
        }
    }
}

extension Tensor {
    /// One tensor whose channels are the given single-channel maps, in order.
    /// - Parameter maps: one-channel tensors of one size (at least one).
    /// - Complexity: O(total samples).
    public init(stacking maps: [Tensor]) {
        precondition(!maps.isEmpty && maps.allSatisfy { $0.extent == maps[0].extent && $0.channels == 1 }, "maps must be one-channel, of one size")
        if maps.count == 1 { self = maps[0]; return }
        var storage: [Float] = []
        storage.reserveCapacity(maps.count * maps[0].storage.count)
        for map in maps { storage += map.storage }
        self.init(height: maps[0].height, width: maps[0].width, channels: maps.count, storage: storage)
    }
}
