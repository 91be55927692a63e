import ConvBankEngine
import ConvBankImageIO
import Foundation

/// A network run by `apply` and which layers' maps it writes: the last layer's maps named by their filters
/// (`DIR/<key>/<filter>.<ext>`), or chosen layers' maps as `<layer>/<map>` (`DIR/<key>/<layer>/<map>.<ext>`). Maps of
/// layers that are not banks are named `f0`, `f1`, … by channel.
public struct NetworkSelection: Sendable, Equatable {
    /// The network.
    public let network: Network
    /// Indices of the layers whose maps are written, ascending; nil: the last layer's, named by map alone.
    public let layers: [Int]?

    /// A selection.
    /// - Parameters:
    ///   - network: the network run.
    ///   - layers: indices of the layers written (any order, no repeats); nil for the last layer alone.
    public init(network: Network, layers: [Int]? = nil) {
        self.network = network
        self.layers = layers.map { Array(Set($0)).sorted() }
    }

    /// The selection for `--layers A,B,…` (layer names, or `all`).
    /// - Parameters:
    ///   - network: the network run.
    ///   - list: comma-separated layer names, or `all`.
    /// - Throws: `ApplyRun.SetupError.usage` naming an unknown layer.
    public init(network: Network, layerList list: String) throws(ApplyRun.SetupError) {
        if list.lowercased() == "all" {
            self.init(network: network, layers: Array(network.layers.indices))
            return
        }
        var indices: [Int] = []
        for name in list.split(separator: ",", omittingEmptySubsequences: false).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let index = network.layerIndex(named: name) else {
                throw .usage("--layers: no layer named '\(name)' in network '\(network.name)' (layers: \(network.layers.map(\.name).joined(separator: ", ")); or all)")
            }
            indices.append(index)
        }
        self.init(network: network, layers: indices)
    }

    /// The layers whose outputs a run keeps.
    var keep: Set<Int> { Set(layers ?? [network.layers.count - 1]) }

    /// A layer's contact sheet shows at most this many of its maps (the first ones; the title says so).
    public static let maxSheetMaps = 256

    /// The longest side of a map's cell on a layer's contact sheet, by the layer's map count: 256 pixels up to 16
    /// maps, 160 up to 64, 128 beyond — so 64 maps of 1024² make a 2098×1752 sheet, and the
    /// largest sheet (256 maps) is 3954×2936.
    /// - Parameter maps: the layer's map count.
    public static func sheetCellSize(maps: Int) -> Int { maps <= 16 ? 256 : (maps <= 64 ? 160 : 128) }

    /// The written layers in order and how many maps each writes: one sheet each (`apply --sheet`).
    var sheetGroups: [(layer: Int, count: Int)] {
        let counts = network.channelCounts
        return keep.sorted().map { ($0, counts[$0 + 1]) }
    }

    /// The written maps' names, in order: the last layer's map names, or `<layer>/<map>` for each selected layer.
    public var mapNames: [String] {
        let counts = network.channelCounts
        guard let layers else {
            let last = network.layers.count - 1
            return network.layers[last].mapNames(input: counts[last])
        }
        return layers.flatMap { k in network.layers[k].mapNames(input: counts[k]).map { network.layers[k].name + "/" + $0 } }
    }

    /// The size of every written map on an image of `extent`, in `mapNames` order; nil when a layer does not fit.
    func mapExtents(input extent: Extent2D) -> [Extent2D]? {
        guard let sizes = try? network.outputExtents(input: extent) else { return nil }
        let counts = network.channelCounts
        return keep.sorted().flatMap { k in [Extent2D](repeating: sizes[k], count: counts[k + 1]) }
    }

    /// A stand-in bank whose filters are named like the maps (`mapNames`) and read the network's channels, so that
    /// the batch's paths, statistics, gallery and sheets name the maps as for a bank. It is never convolved:
    /// `applyBank` runs the network instead.
    public var standInBank: FilterBank {
        let filters = mapNames.map { Filter(name: $0, kernel: Extent2D(1), channels: network.channels, weights: [Float](repeating: 0, count: network.channels)) }
        return FilterBank(name: network.name, filters: filters)
    }

    /// Runs the network on `image` (adapted to its channels) and returns the written maps in `mapNames` order.
    /// - Throws: `NetworkError` naming the layer that cannot run.
    func maps(of image: Tensor, jobs: Int, kernels: KernelLevel) throws(NetworkError) -> [Tensor] {
        let outputs = try network.run(image, keep: keep, jobs: jobs, kernels: kernels)
        return keep.sorted().flatMap { k in
            let t = outputs[k]!
            return (0..<t.channels).map { t.plane($0) }
        }
    }

    /// Bytes a run needs at its peak on an image of `extent`: the preprocessed copy of the input, then the larger of
    /// the peak while the layers run — for each layer, the outputs kept so far plus its step (its input and its
    /// convolution plan, `ConvolutionPlan.memoryBytes`: padded input and maps; or its input and output) — and the peak
    /// at the end, the kept outputs and their maps split into planes for writing.
    /// - Throws: `NetworkError` when a layer does not fit the size.
    func memoryBytes(input extent: Extent2D) throws(NetworkError) -> Int {
        let sizes = try network.outputExtents(input: extent)
        let counts = network.channelCounts
        let float = MemoryLayout<Float>.stride
        let last = keep.max() ?? network.layers.count - 1
        var kept = Saturating(0), running = Saturating(0)
        let image = Saturating(extent.height) * (extent.width * counts[0] * float)
        var previous = image
        for (k, layer) in network.layers.enumerated() where k <= last {
            let output = Saturating(sizes[k].height) * (sizes[k].width * counts[k + 1] * float)
            var step = previous + output.value
            if case .convolution(let bank) = layer.kind {
                do { step = previous + (try ConvolutionPlan(bank: bank, input: k == 0 ? extent : sizes[k - 1]).memoryBytes) } catch {
                    throw .layer(layer.name, error)
                }
            }
            running = Saturating(max(running.value, (kept + step.value).value))
            if keep.contains(k) { kept = kept + output.value }
            previous = output
        }
        return (image + max(running.value, (kept + kept.value).value)).value
    }

    /// The canonical lines of the network for resume fingerprints: every layer's kind and settings, every weight as
    /// the hex of its bit pattern.
    var canonicalLines: [String] {
        func hex(_ v: Float) -> String { String(v.bitPattern, radix: 16) }
        func vector(_ v: [Float]) -> String { v.map(hex).joined(separator: " ") }
        var lines = ["network \(network.name.utf8.map { String($0) }.joined(separator: ","))",
                     "network.preprocess \(network.preprocess.canonicalText)",
                     "network.layers \(network.layers.count)",
                     "network.written \(layers.map { $0.map(String.init).joined(separator: ",") } ?? "last")"]
        for layer in network.layers {
            let name = layer.name.utf8.map { String($0) }.joined(separator: ",")
            switch layer.kind {
            case .convolution(let bank):
                lines.append("layer \(name) conv \(bank.stride.height) \(bank.stride.width) \(bank.dilation.height) \(bank.dilation.width) \(bank.padding) \(bank.paddingMode.rawValue) \(bank.activation.rawValue) \(bank.groups) \(bank.filters.count)")
                for filter in bank.filters {
                    lines.append("filter \(filter.name.utf8.map { String($0) }.joined(separator: ",")) \(filter.kernel.height) \(filter.kernel.width) \(filter.channels) \(filter.firstChannel) \(hex(filter.bias))")
                    lines.append(vector(filter.weights))
                }
            case .pooling(let p):
                lines.append("layer \(name) pool \(p.kind.rawValue) \(p.size.height) \(p.size.width) \(p.stride.height) \(p.stride.width) \(p.padding)")
            case .batchNorm(let bn):
                lines.append("layer \(name) batchnorm \(hex(bn.epsilon))")
                lines += [vector(bn.gamma), vector(bn.beta), vector(bn.mean), vector(bn.variance)]
            case .activation(let a):
                lines.append("layer \(name) activation \(a.rawValue)")
            case .prelu(let alpha):
                lines.append("layer \(name) prelu")
                lines.append(vector(alpha))
            }
        }
        return lines
    }
}
