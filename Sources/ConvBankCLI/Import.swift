import ArgumentParser
import ConvBankBatch
import ConvBankEngine
import ConvBankImageIO
import ConvBankPictures
import Foundation

extension Convbank {
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Turn a model file (.keras, Keras .h5, .onnx) into a network JSON file, or exported layer weights (.npy, .npz, .safetensors, .weights.h5) into a bank JSON file.",
            discussion: """
                A model file (.keras, a Keras .h5 model, .onnx): --list shows its convolution layers and where the stack \
                convbank runs ends; without --layer the stack from the input up to the first layer convbank does not \
                run (Flatten, Dense, a branch, …) becomes a network JSON (layers named as in the file, filters f0, f1, …); \
                --layer NAME imports one convolution layer as a bank, with its stride, padding and activation.
                Keras: numpy.save("kernel.npy", layer.get_weights()[0]); numpy.save("bias.npy", layer.get_weights()[1]) \
                (kernel shape kh, kw, C, F: layout HWIO).
                PyTorch: numpy.save("weight.npy", state_dict["conv1.weight"].numpy()); likewise the bias \
                (weight shape F, C, kh, kw: layout OIHW).
                An .npz or .safetensors file holds many arrays: --list shows its convolution kernels, --layer NAME \
                picks one (with its NAME…bias sibling). A file of one kernel needs no --layer.
                The layout of a named array in an .npz/.safetensors file is inferred from its name (kernel: HWIO, \
                depthwise_kernel: HWCM, weight: OIHW); otherwise, and for a .npy, from its shape when only one reading \
                gives a square kernel; otherwise give --layout. Stride and padding are not in these files: defaults \
                1 and valid, set them with --stride and --padding.
                A Keras model (.keras, or .h5 from model.save) brings its layer settings: --list shows its convolution \
                layers and where the stack convbank runs ends, --layer NAME imports one layer as a bank, and without \
                --layer the stack from the input to the first layer convbank does not run is written as a network. \
                A .weights.h5 (or a Keras 2 save_weights .h5) holds arrays only, named <layer>/kernel, <layer>/bias, ….
                """)

        enum Layout: String, ExpressibleByArgument, CaseIterable { case auto, hwio = "HWIO", oihw = "OIHW", hwcm = "HWCM" }

        @Argument(help: "The model or weight file: .keras, .h5, .onnx, a kernel .npy, or an .npz, .safetensors or .weights.h5 file of named arrays.")
        var kernel: String

        @Argument(help: "The bias array (.npy), optional; only with a kernel .npy.")
        var bias: String?

        @Option(help: "Array layout: HWIO (Keras), OIHW (PyTorch), HWCM (Keras DepthwiseConv2D) or auto.")
        var layout: Layout = .auto

        @Flag(help: "List the convolution kernels the file holds (name, shape, layout, bias) and exit.")
        var list = false

        @Option(help: ArgumentHelp("The kernel array to import (see --list); its bias sibling comes along.", valueName: "name"))
        var layer: String?

        @Option(help: "Bank name.")
        var name = "imported"

        @Option(help: ArgumentHelp("Filter names, comma-separated (default f0, f1, …).", valueName: "a,b,…"))
        var names: String?

        @OptionGroup var overrides: BankOverrides

        @Option(name: .shortAndLong, help: ArgumentHelp("Write the bank here (default: standard output).", valueName: "file"))
        var output: String?

        func run() throws {
            let exact = FileSystem.commandLineArguments([kernel] + (bias.map { [$0] } ?? []))
            let source: ImportSource
            try ModelFileCheck.run(exact[0])
            do { source = try ImportSource.read(contentsOfFile: exact[0]) } catch { throw CLIError.usage("\(error)") }
            let file: WeightFile
            switch source {
            case .model(let model):
                try importModel(model)
                return
            case .weights(let weights):
                file = weights
            }
            if bias != nil, file.format != .npy {
                throw CLIError.usage("a bias file goes with a kernel .npy only; '\(kernel)' is an .\(file.format.rawValue) file (its bias comes with --layer)")
            }
            if list {
                print(Self.listing(file, layout: layout == .auto ? nil : layout.rawValue, path: kernel), terminator: "")
                return
            }
            var biasArray: NPYArray?
            if let bias {
                do { biasArray = try NPYArray(contentsOfFile: exact[1]) } catch {
                    throw CLIError.usage("cannot read '\(bias)': \(error)")
                }
            }
            let bank: FilterBank
            var chosen: ConvolutionWeights
            do {
                // A kernel .npy: its one array, whatever its name, with the bias file given (if any).
                if file.format == .npy {
                    let k = file.entries[0].array
                    guard k.shape.count == 4 else {
                        throw CLIError.usage("'\(kernel)': a kernel array has 4 dimensions, this one has shape \(k.shape)")
                    }
                    let found = file.convolutions(layout: layout == .auto ? nil : layout.rawValue)[0]
                    guard let chosenLayout = found.layout else {
                        throw CLIError.usage("'\(kernel)': cannot tell HWIO from OIHW for shape \(k.shape); give --layout")
                    }
                    if layer != nil, layer != found.name {
                        throw CLIError.usage("'\(kernel)' holds one array ('\(found.name)'); --layer is for .npz and .safetensors files")
                    }
                    chosen = found
                    bank = try FilterBank(importing: k, bias: biasArray, layout: chosenLayout,
                                          names: names.map { $0.split(separator: ",").map(String.init) }, name: name, source: kernel)
                } else {
                    (bank, chosen) = try file.bank(layer: layer, layout: layout == .auto ? nil : layout.rawValue,
                                                   names: names.map { $0.split(separator: ",").map(String.init) }, bankName: name, source: kernel)
                }
                if file.format == .npy { chosen.bias = bias }
            } catch let error as CLIError {
                throw error
            } catch {
                throw CLIError.usage("\(error)")
            }
            let chosenLayout = chosen.layout ?? ""
            let finalBank = overrides.apply(to: bank)
            if let output {
                do { try AtomicFile.write(Array(finalBank.jsonText.utf8), to: output) } catch {
                    throw CLIError.failure("\(error)")
                }
                let from = file.format == .npy ? "" : "'\(chosen.name)'\(chosen.bias.map { " + '\($0)'" } ?? ""), "
                printError("wrote '\(output)': \(finalBank.filters.count) filters \(finalBank.filters[0].kernel.shape)×\(finalBank.channels) (\(from)\(chosenLayout)), \(finalBank.parameterCount) parameters")
            } else {
                print(finalBank.jsonText, terminator: "")
            }
        }

        /// `import` of a model file: `--list`, one convolution layer (`--layer`) as a bank, or the whole stack the
        /// engine runs as a network.
        func importModel(_ model: ImportedModel) throws {
            if bias != nil { throw CLIError.usage("a bias file goes with a kernel .npy only; '\(kernel)' is a .\(model.format) model") }
            if list {
                print(model.listing(path: kernel), terminator: "")
                return
            }
            if layout != .auto { throw CLIError.usage("--layout is for weight arrays; '\(kernel)' is a .\(model.format) model, whose layers state their layouts") }
            let text: String
            let report: String
            if let layer {
                guard let found = model.convolutions.first(where: { $0.name == layer }) else {
                    let known = model.convolutions.map { "'\($0.name)'" }.joined(separator: ", ")
                    throw CLIError.usage("'\(kernel)' has no convolution layer '\(layer)' (it has \(known.isEmpty ? "none" : known); see --list)")
                }
                var bank = found.bank
                guard NetworkLayer(name: "l", kind: .convolution(bank)).isFinite else {
                    throw CLIError.usage("'\(kernel)': layer '\(layer)' holds a NaN or infinite weight or bias")
                }
                bank.name = name == "imported" ? found.name : name
                if let names {
                    let list = names.split(separator: ",").map(String.init)
                    guard list.count == bank.filters.count else {
                        throw CLIError.usage("--names gives \(list.count) names; layer '\(layer)' has \(bank.filters.count) filters")
                    }
                    bank = bank.renamingFilters(list)
                }
                let finalBank = overrides.apply(to: bank)
                text = finalBank.jsonText
                report = "\(finalBank.filters.count) filters \(finalBank.filters[0].kernel.shape)×\(finalBank.channels) ('\(found.name)', \(found.layout)), \(finalBank.parameterCount) parameters"
            } else {
                if overrides.isSet || names != nil {
                    throw CLIError.usage("--stride, --dilation, --padding, --padding-mode, --activation and --names set one bank's settings; give --layer NAME, or import the whole stack without them")
                }
                guard !model.layers.isEmpty else {
                    let why = model.stop.map { "its first layer '\($0.layer)' (\($0.type)) is not one convbank runs: \($0.reason)" } ?? "it has no layers"
                    throw CLIError.usage("'\(kernel)': nothing to import, \(why); --list shows its convolution layers, --layer NAME imports one")
                }
                let network: Network
                do { network = try model.network(name: name == "imported" ? nil : name) } catch {
                    throw CLIError.usage("'\(kernel)': \(error)")
                }
                text = network.jsonText
                let ends = model.stop.map { "; the stack ends before '\($0.layer)' (\($0.type)): \($0.reason)" } ?? " (the whole model)"
                report = "network '\(network.name)' of \(network.layers.count) layers, \(network.parameterCount) parameters\(ends)"
            }
            if let output {
                do { try AtomicFile.write(Array(text.utf8), to: output) } catch { throw CLIError.failure("\(error)") }
                printError("wrote '\(output)': \(report)")
            } else {
                print(text, terminator: "")
                if model.stop != nil, layer == nil { printError(report) }
            }
        }

        /// The `--list` text: one line per 4-D array (name, stored shape, layout and how it was chosen, filters ×
        /// kernel × channels, bias), then what these formats do not store.
        static func listing(_ file: WeightFile, layout: String?, path: String) -> String {
            let found = file.convolutions(layout: layout)
            var lines = ["'\(path)' (.\(file.format.rawValue)): \(file.entries.count) array\(file.entries.count == 1 ? "" : "s"), \(found.count) convolution kernel\(found.count == 1 ? "" : "s")"]
            let width = found.map(\.name.count).max() ?? 0
            for k in found {
                let name = k.name.padding(toLength: width, withPad: " ", startingAt: 0)
                let shape = "(" + k.shape.map(String.init).joined(separator: ", ") + ")"
                var line = "  \(name)  \(shape)  "
                if let d = k.dimensions, let layout = k.layout {
                    line += "\(layout) (\(k.layoutSource == "given" ? "--layout" : "by " + k.layoutSource))  \(d.filters) filters \(d.height)×\(d.width)×\(layout == "HWCM" ? "1, depthwise over \(d.channels) channels" : "\(d.channels)")"
                } else {
                    line += "layout ? (give --layout HWIO or OIHW)"
                }
                line += "  bias: \(k.bias ?? "none")"
                lines.append(line)
            }
            lines.append("stride/padding: not in file, defaults 1/valid, override with --stride/--padding")
            return lines.joined(separator: "\n") + "\n"
        }
    }
}
