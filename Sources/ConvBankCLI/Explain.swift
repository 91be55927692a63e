import ArgumentParser
import ConvBank

extension Convbank {
    struct Explain: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Take one output pixel apart: each input channel's partial sum, the bias, the value before and after the activation.")

        @OptionGroup var bankOptions: BankOptions

        @Argument(help: "The image.")
        var image: String

        @Option(help: ArgumentHelp("Output pixel: column X, row Y (0-based, in the output map).", valueName: "x,y"))
        var at: Position

        @Option(help: "Only this filter (default: every filter).")
        var filter: String?

        @Option(help: "Refuse images with more pixels than this.")
        var maxPixels = ImageCodec.defaultMaxPixels

        func run() throws {
            let bank = try bankOptions.load()
            var indices = Array(bank.filters.indices)
            if let filter {
                guard let index = bank.filters.firstIndex(where: { $0.name == filter }) else {
                    printError("error: \(ConvolutionError.unknownFilter(filter, known: bank.filters.map(\.name)))")
                    throw ExitCode(64)
                }
                indices = [index]
            }
            do {
                let decoded = try ImageCodec.decode(path: image, maxPixels: maxPixels)
                let tensor = try decoded.tensor.adapted(toChannels: bank.channels)
                let explanations = try indices.map { index throws in try bank.explain(tensor, filter: index, x: at.x, y: at.y) }
                print("image '\(image)': \(tensor.width)×\(tensor.height) (W×H), \(decoded.tensor.channels) channel\(decoded.tensor.channels == 1 ? "" : "s") in the file, \(bank.channels) used by the bank")
                for (n, explanation) in explanations.enumerated() {
                    if n > 0 { print("") }
                    print(explanation)
                }
            } catch {
                printError("error: \(error)")
                throw ExitCode(1)
            }
        }
    }
}
