import ArgumentParser
import ConvBankBatch
import ConvBankEngine
import ConvBankImageIO
import ConvBankPictures
import Foundation

extension Convbank {
    struct Explain: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Take one output pixel apart: each input channel's partial sum, the bias, the value before and after the activation.")

        @OptionGroup var bankOptions: BankOptions

        @Argument(help: "The image.")
        var image: String

        @Option(help: ArgumentHelp("Output pixel: column X, row Y (0-based, in the output map).", valueName: "x,y"))
        var at: Position

        @Option(help: ArgumentHelp("Only this filter — a name, or an index 0…F-1 in bank order (a filter whose name is all digits and exists wins over the index) — or this combined map (--combine, a bank's \"combine\": its two filters, then the combination) (default: every filter and every combined map).", valueName: "name|index"))
        var filter: String?

        @Option(help: "Refuse images with more pixels than this.")
        var maxPixels = ImageCodec.defaultMaxPixels

        @Option(help: ArgumentHelp(
            "Also draw the explanation as a picture (.png) or a self-contained HTML page (.html, maps inline): receptive field, kernel slice, products and partial sum of every channel, the sums, bias and activation, and each channel's partial map + … = the filter's map. Needs --filter when the bank has more than one filter.",
            valueName: "file.png|file.html"))
        var picture: String?

        @Option(help: ArgumentHelp("With a network file as --bank: the convolution layer whose output pixel is taken apart (its input is the layer before's output, computed first).", valueName: "name"))
        var layer: String?

        @Option(help: ArgumentHelp("Preprocess the image as apply --preprocess does (none, caffe, tf, torch); overrides the bank's or network's \"preprocess\".", valueName: "none|caffe|tf|torch"))
        var preprocess: String?


        /// Explains output pixels of a pooling, batch normalization, activation or PReLU layer (every channel, or
        /// `--filter`'s: a map name `f<k>` or an index), printing them.
        func explainLayer(_ network: Network, index: Int, image: String) throws {
            let layer = network.layers[index]
            if picture != nil {
                throw CLIError.usage("--picture draws a convolution layer's pixel; '\(layer.name)' is a \(layer.typeName) layer (its explanation is text)")
            }
            let channels = network.channelCounts[index]
            let names = layer.mapNames(input: channels)
            var selected = Array(0..<channels)
            if let filter {
                if let k = names.firstIndex(of: filter) {
                    selected = [k]
                } else if !filter.isEmpty, filter.utf8.allSatisfy({ (48...57).contains($0) }) {
                    guard let k = Int(filter), k < channels else {
                        throw CLIError.usage("--filter \(filter): layer '\(layer.name)' has \(channels) map\(channels == 1 ? "" : "s") (indices 0…\(channels - 1), names f0…f\(channels - 1))")
                    }
                    selected = [k]
                } else {
                    throw CLIError.usage("--filter: layer '\(layer.name)' has no map '\(filter)' (its maps are f0…f\(channels - 1), or give an index)")
                }
            }
            do {
                let decoded = try ImageCodec.decode(path: image, maxPixels: maxPixels)
                let tensor = try decoded.tensor.adapted(toChannels: network.channels)
                let input = try network.input(ofLayer: index, image: tensor, jobs: ProcessInfo.processInfo.activeProcessorCount, kernels: .fromEnvironment)
                print("layer '\(layer.name)': its input is \(input.width)×\(input.height) (W×H), \(input.channels) channel\(input.channels == 1 ? "" : "s") (\(index == 0 ? "the preprocessed image" : "the output of layer '\(network.layers[index - 1].name)'"))")
                for (n, k) in selected.enumerated() {
                    if n > 0 { print("") }
                    if let explanation = try layer.explain(input, channel: k, x: at.x, y: at.y) { print(explanation) }
                }
            } catch {
                throw CLIError.failure(FileSystem.display("\(error)"))
            }
        }

        /// What `--bank` and `--layer` pick.
        enum Target {
            /// A bank: explained as it is.
            case bank
            /// A network's convolution layer: its bank, what it reads on the image, the decoded image, how the
            /// picture draws that input, and the network's name.
            case layer(FilterBank, Tensor, DecodedImage, ExplainPicture.InputView, String)
            /// Another kind of layer, already explained.
            case done
        }

        /// With a network: the named convolution layer's bank and what it reads on `image` (another kind of layer
        /// is explained here, `.done`); `.bank` for a bank.
        func networkLayer(image: String) throws -> Target {
            guard var network = try bankOptions.loadNetwork() else {
                if layer != nil { throw CLIError.usage("--layer picks a layer of a network file; '\(bankOptions.bank)' is a bank") }
                return .bank
            }
            if let mode = try Preprocess.option(preprocess, channels: network.channels, what: "network '\(network.name)'") {
                network.preprocess = mode
            }
            guard let layer else {
                throw CLIError.usage("'\(bankOptions.bank)' is a network: add --layer NAME (one of its convolution layers: \(network.convolutionLayerNames.joined(separator: ", ")))")
            }
            guard let index = network.layerIndex(named: layer) else {
                throw CLIError.usage("--layer: no layer named '\(layer)' in network '\(network.name)' (layers: \(network.layers.map(\.name).joined(separator: ", ")))")
            }
            guard case .convolution(let bank) = network.layers[index].kind else {
                try explainLayer(network, index: index, image: image)
                return .done
            }
            do {
                let decoded = try ImageCodec.decode(path: image, maxPixels: maxPixels)
                let tensor = try decoded.tensor.adapted(toChannels: network.channels)
                let input = try network.input(ofLayer: index, image: tensor, jobs: ProcessInfo.processInfo.activeProcessorCount, kernels: .fromEnvironment)
                // A deeper layer reads maps (drawn: the channel of largest |partial|); a first one the preprocessed image.
                let view: ExplainPicture.InputView = index > 0 ? .largestChannel : (network.preprocess == .none ? .image : .stretched)
                return .layer(bank, input, decoded, view, network.name)
            } catch {
                throw CLIError.failure(FileSystem.display("\(error)"))
            }
        }

        func run() throws {
            // File arguments keep their exact bytes (a name that is not UTF-8 included).
            let exact = FileSystem.commandLineArguments([self.image] + (self.picture.map { [$0] } ?? []))
            let image = exact[0], picture = self.picture == nil ? nil : exact[1]
            let layerInput: (FilterBank, Tensor, DecodedImage)?
            var inputView = ExplainPicture.InputView.image
            var networkName: String?
            switch try networkLayer(image: image) {
            case .bank: layerInput = nil
            case .layer(let bank, let input, let decoded, let view, let name):
                layerInput = (bank, input, decoded)
                inputView = view
                networkName = name
            case .done: return
            }
            var bank = try layerInput?.0 ?? bankOptions.load()
            if layerInput == nil, let mode = try Preprocess.option(preprocess, channels: bank.channels, what: "bank '\(bank.name)'") {
                bank.preprocess = mode
            }
            if layerInput == nil, bank.preprocess != .none { inputView = .stretched }
            var indices = Array(bank.filters.indices)
            var combinations = bank.combinations
            if let picture {
                guard [".png", ".html", ".htm"].contains(where: picture.lowercased().hasSuffix) else {
                    throw CLIError.usage("--picture writes .png or .html: give a file name ending in one of them (got '\(picture)')")
                }
                guard filter != nil || bank.filters.count == 1 else {
                    throw CLIError.usage("--picture draws one filter: add --filter NAME (one of \(bank.filters.map(\.name).joined(separator: ", ")))")
                }
            }
            if let filter {
                if let index = bank.filters.firstIndex(where: { $0.name == filter }) {
                    indices = [index]
                    combinations = []
                } else if let combination = bank.combinations.first(where: { $0.name == filter }) {
                    guard picture == nil else {
                        throw CLIError.usage("--picture draws one filter, and '\(filter)' is a combined map: give --filter \(bank.filters[combination.x].name) or \(bank.filters[combination.y].name)")
                    }
                    indices = combination.x == combination.y ? [combination.x] : [combination.x, combination.y]
                    combinations = [combination]
                } else if !filter.isEmpty, filter.utf8.allSatisfy({ (48...57).contains($0) }) {
                    // An index (a filter whose name is those digits won above).
                    guard let index = Int(filter), index < bank.filters.count else {
                        throw CLIError.usage("--filter \(filter): no filter of that name, and as an index it is out of range: the bank has \(bank.filters.count) filter\(bank.filters.count == 1 ? "" : "s") (indices 0…\(bank.filters.count - 1))")
                    }
                    indices = [index]
                    combinations = []
                } else {
                    throw CLIError.usage("\(ConvolutionError.unknownFilter(filter, known: bank.filters.map(\.name) + bank.combinations.map(\.name)))")
                }
            }
            do {
                let decoded = try layerInput?.2 ?? ImageCodec.decode(path: image, maxPixels: maxPixels)
                // A bank's own preprocessing, as `apply` does; a network layer's input is already its layer before's output.
                let tensor = try layerInput?.1 ?? bank.preprocess.apply(to: decoded.tensor.adapted(toChannels: bank.channels))
                if let layer, layerInput != nil {
                    print("layer '\(layer)': its input is \(tensor.width)×\(tensor.height) (W×H), \(tensor.channels) channel\(tensor.channels == 1 ? "" : "s") (the previous layer's output)")
                }
                let explanations = try indices.map { index throws in try bank.explain(tensor, filter: index, x: at.x, y: at.y) }
                print("image '\(FileSystem.display(image))': \(tensor.width)×\(tensor.height) (W×H), \(decoded.tensor.channels) channel\(decoded.tensor.channels == 1 ? "" : "s") in the file, \(bank.channels) used by the bank")
                for (n, explanation) in explanations.enumerated() {
                    if n > 0 { print("") }
                    print(explanation)
                }
                // A combined map's value from its two filters' values, as written (after their bias and activation).
                let values = Dictionary(zip(indices, explanations.map(\.postActivation)), uniquingKeysWith: { a, _ in a })
                for (n, combination) in combinations.enumerated() {
                    if n == 0 { print("") }
                    guard let gx = values[combination.x], let gy = values[combination.y] else { continue }
                    print(combination.explanation(x: gx, y: gy, xName: bank.filters[combination.x].name, yName: bank.filters[combination.y].name))
                }
                if let picture, let index = indices.first, let explanation = explanations.first {
                    let jobs = ProcessInfo.processInfo.activeProcessorCount
                    let plan = try ConvolutionPlan(bank: bank, input: tensor.extent)
                    let partialMaps = plan.partialMaps(of: index, in: tensor, jobs: jobs, kernels: .fromEnvironment)
                    let map = plan.run(tensor, jobs: jobs, kernels: .fromEnvironment)[index]
                    if picture.lowercased().hasSuffix(".png") {
                        let drawn = ExplainPicture.render(explanation: explanation, image: tensor, partialMaps: partialMaps, map: map,
                                                          bankName: networkName ?? bank.name, layer: networkName == nil ? nil : layer, inputView: inputView)
                        try AtomicFile.write(try drawn.pngBytes(), to: picture)
                        print("picture: \(FileSystem.display(picture)) (\(drawn.width)×\(drawn.height))")
                    } else {
                        let page = try ExplainPicture.html(explanation: explanation, image: tensor, partialMaps: partialMaps, map: map,
                                                           bankName: networkName ?? bank.name, layer: networkName == nil ? nil : layer, inputView: inputView)
                        try AtomicFile.write(Array(page.utf8), to: picture)
                        print("page: \(FileSystem.display(picture))")
                    }
                }
            } catch {
                throw CLIError.failure(FileSystem.display("\(error)"))
            }
        }
    }
}
