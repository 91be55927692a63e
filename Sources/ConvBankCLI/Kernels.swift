import ArgumentParser
import ConvBankEngine
import ConvBankImageIO
import ConvBankPictures
import Foundation

extension Convbank {
    struct Kernels: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Draw every filter's kernel as a small image: the classic grid of a network's first-layer filters.",
            discussion: """
                One tile per filter, each weight a --scale × --scale block, labelled with the filter's name; 3-channel \
                filters in colour (their R, G, B weights), 1-channel filters in gray or the diverging map; other channel \
                counts (or --split) as one row per filter of its per-channel kernels (the first \(KernelGrid.maxChannelColumns) \
                channels). One range for the whole layer: gray = (w - min)/(max - min), diverging = symmetric about 0. \
                With a network whose preprocessing reads BGR (caffe), colour tiles are swapped back to RGB.
                """)

        @Option(help: ArgumentHelp("A JSON bank file, a built-in bank name, an inline kernel 'WxH: …', or a network: a network JSON file or a model file (as apply --bank takes).", valueName: "bank|network"))
        var bank: String

        @Option(help: ArgumentHelp("With a network: the convolution layer drawn (default: the first).", valueName: "name"))
        var layer: String?

        @Option(name: [.short, .customLong("output")], help: ArgumentHelp("The picture to write (.png).", valueName: "file.png"))
        var output: String

        @Option(help: ArgumentHelp("Pixels per weight, 1…64 (default: 64 / the longest kernel side, 1…16: a 3×3 kernel is 48 pixels).", valueName: "n"))
        var scale: Int?

        @Option(help: "gray: (w - min)/(max - min) over the layer (colour filters: per channel); diverging: symmetric about 0, blue-white-red (colour filters: 0 is mid-gray).")
        var colormap: KernelGrid.Coloring = .gray

        @Flag(help: "One row per filter of its per-channel kernels, also for 1- and 3-channel filters.")
        var split = false

        func validate() throws {
            if let scale, !(1...64).contains(scale) { throw ValidationError("--scale must be 1…64 (got \(scale)).") }
            guard output.lowercased().hasSuffix(".png") else { throw ValidationError("-o writes a PNG: give a file name ending in .png (got '\(output)').") }
        }

        func run() throws {
            let output = FileSystem.commandLineArguments([self.output])[0]
            var chosen: FilterBank
            var title: String
            var bgr = false
            let path = FileSystem.commandLineArguments([bank])[0]
            let network: Network?
            try ModelFileCheck.run(path)
            do { network = try Network.load(path) } catch { throw CLIError.usage("\(error)") }
            if let network {
                let names = network.convolutionLayerNames
                guard let name = layer ?? names.first else {
                    throw CLIError.usage("network '\(network.name)' has no convolution layer to draw")
                }
                guard let index = network.layerIndex(named: name) else {
                    throw CLIError.usage("--layer: no layer named '\(name)' in network '\(network.name)' (convolution layers: \(names.joined(separator: ", ")))")
                }
                guard case .convolution(let layerBank) = network.layers[index].kind else {
                    throw CLIError.usage("--layer '\(name)' is a \(network.layers[index].typeName) layer, which has no kernels (convolution layers: \(names.joined(separator: ", ")))")
                }
                chosen = layerBank
                title = "network '\(network.name)', layer '\(name)' (layers[\(index)])"
                // Only the first layer reads the image; its channel 0 is blue when the preprocessing swaps.
                if index == network.layers.firstIndex(where: { $0.inputChannels != nil }) {
                    switch network.preprocess {
                    case .caffe: bgr = true
                    case .affine(_, _, let swap): bgr = swap
                    default: break
                    }
                }
            } else {
                if layer != nil { throw CLIError.usage("--layer picks a layer of a network file; '\(bank)' is a bank") }
                do { chosen = try FilterBank.load(path) } catch { throw CLIError.usage("\(error)") }
                title = "bank '\(chosen.name)'"
                if case .caffe = chosen.preprocess { bgr = true }
                if case .affine(_, _, let swap) = chosen.preprocess { bgr = swap }
            }
            do {
                let picture = try KernelGrid.render(bank: chosen, title: title, scale: scale, coloring: colormap, split: split,
                                                    bgr: bgr && chosen.filters[0].channels == 3)
                try AtomicFile.write(try picture.pngBytes(), to: output)
                print("kernels: \(FileSystem.display(output)) (\(picture.width)×\(picture.height), \(chosen.filters.count) filter\(chosen.filters.count == 1 ? "" : "s"))")
            } catch {
                throw CLIError.failure("'\(FileSystem.display(output))': \(error)")
            }
        }
    }
}

extension KernelGrid.Coloring: ExpressibleByArgument {}

