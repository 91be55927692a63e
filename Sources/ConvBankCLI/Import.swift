import ArgumentParser
import ConvBankBatch
import ConvBankEngine
import ConvBankImageIO
import ConvBankPictures
import Foundation

extension Convbank {
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Turn exported layer weights (.npy) into a bank JSON file.",
            discussion: """
                Keras: numpy.save("kernel.npy", layer.get_weights()[0]); numpy.save("bias.npy", layer.get_weights()[1]) \
                (kernel shape kh, kw, C, F: layout HWIO).
                PyTorch: numpy.save("weight.npy", state_dict["conv1.weight"].numpy()); likewise the bias \
                (weight shape F, C, kh, kw: layout OIHW).
                The layout is inferred when only one reading gives a square kernel; otherwise give --layout.
                """)

        enum Layout: String, ExpressibleByArgument, CaseIterable { case auto, hwio = "HWIO", oihw = "OIHW" }

        @Argument(help: "The kernel/weight array (.npy).")
        var kernel: String

        @Argument(help: "The bias array (.npy), optional.")
        var bias: String?

        @Option(help: "Array layout: HWIO (Keras), OIHW (PyTorch) or auto.")
        var layout: Layout = .auto

        @Option(help: "Bank name.")
        var name = "imported"

        @Option(help: ArgumentHelp("Filter names, comma-separated (default f0, f1, …).", valueName: "a,b,…"))
        var names: String?

        @OptionGroup var overrides: BankOverrides

        @Option(name: .shortAndLong, help: ArgumentHelp("Write the bank here (default: standard output).", valueName: "file"))
        var output: String?

        func run() throws {
            func array(_ path: String) throws -> NPYArray {
                do { return try NPYArray(contentsOfFile: path) } catch {
                    throw CLIError.usage("cannot read '\(path)': \(error)")
                }
            }
            let exact = FileSystem.commandLineArguments([kernel] + (bias.map { [$0] } ?? []))
            let k = try array(exact[0])
            let b = try bias == nil ? nil : array(exact[1])
            var chosen = layout.rawValue
            if layout == .auto {
                guard k.shape.count == 4 else {
                    throw CLIError.usage("'\(kernel)': a kernel array has 4 dimensions, this one has shape \(k.shape)")
                }
                let hwio = k.shape[0] == k.shape[1], oihw = k.shape[2] == k.shape[3]
                guard hwio != oihw else {
                    throw CLIError.usage("'\(kernel)': cannot tell HWIO from OIHW for shape \(k.shape); give --layout")
                }
                chosen = hwio ? "HWIO" : "OIHW"
            }
            let bank: FilterBank
            do {
                bank = try overrides.apply(to: FilterBank(importing: k, bias: b, layout: chosen, names: names.map { $0.split(separator: ",").map(String.init) },
                                      name: name, source: kernel))
            } catch {
                throw CLIError.usage("\(error)")
            }
            if let output {
                do { try AtomicFile.write(Array(bank.jsonText.utf8), to: output) } catch {
                    throw CLIError.failure("\(error)")
                }
                printError("wrote '\(output)': \(bank.filters.count) filters \(bank.filters[0].kernel.shape)×\(bank.channels) (\(chosen)), \(bank.parameterCount) parameters")
            } else {
                print(bank.jsonText, terminator: "")
            }
        }
    }
}
