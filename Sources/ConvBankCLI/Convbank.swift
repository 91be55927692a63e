import ArgumentParser
import ConvBankBatch
import ConvBankEngine
import ConvBankImageIO
import ConvBankPictures
import Foundation

@main
struct Convbank: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convbank",
        abstract: "Convolve images with a bank of multi-channel filters, exactly as a Keras Conv2D layer.",
        discussion: """
            Each filter holds one kh×kw kernel per input channel; the per-channel cross-correlations are summed, \
            the bias is added, then the activation. One output map per filter.
            """,
        version: "convbank \(ConvBankVersion.string) (kernels: \(KernelLevel.fromEnvironment))",
        subcommands: [Apply.self, Summary.self, Explain.self, Kernels.self, Banks.self, Import.self, CheckModel.self])

    /// Parses, runs, and turns any error into one line on stderr and the contract's exit status: `CLIError` here,
    /// the argument parser's own (usage errors 64, `--help`, `--version`) by its rules.
    static func main() {
        StandardStreams.prepare()
        keepLargeBuffersMapped()
        do {
            var command = try parseAsRoot(nil)
            try command.run()
        } catch let error as CLIError {
            if let message = error.message { printError("error: \(message)") }
            Foundation.exit(error.exitCode)
        } catch {
            exit(withError: error)
        }
    }
}

extension KernelLevel {
    /// The kernels the tool runs: the widest this CPU has, lowered by `CONVBANK_KERNELS=portable|avx2|avx512`.
    static var fromEnvironment: KernelLevel { limited(byName: ProcessInfo.processInfo.environment["CONVBANK_KERNELS"]) }
}
