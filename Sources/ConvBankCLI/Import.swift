import ArgumentParser
import ConvBankBatch
import ConvBankEngine
import ConvBankImageIO
import ConvBankPictures
import Foundation

extension Convbank {
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Turn exported layer weights (.npy, .npz, .safetensors) into a bank JSON file.",
            discussion: """
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
                """)

        enum Layout: String, ExpressibleByArgument, CaseIterable { case auto, hwio = "HWIO", oihw = "OIHW", hwcm = "HWCM" }

        @Argument(help: "The weight file: a kernel .npy, or an .npz or .safetensors file of named arrays.")
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
            let file: WeightFile
            do { file = try WeightFile(contentsOfFile: exact[0]) } catch { throw CLIError.usage("\(error)") }
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
