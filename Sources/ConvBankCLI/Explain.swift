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

        @Option(help: "Only this filter, or this combined map (--combine, a bank's \"combine\": its two filters, then the combination) (default: every filter and every combined map).")
        var filter: String?

        @Option(help: "Refuse images with more pixels than this.")
        var maxPixels = ImageCodec.defaultMaxPixels

        @Option(help: ArgumentHelp(
            "Also draw the explanation as a picture (.png) or a self-contained HTML page (.html, maps inline): receptive field, kernel slice, products and partial sum of every channel, the sums, bias and activation, and each channel's partial map + … = the filter's map. Needs --filter when the bank has more than one filter.",
            valueName: "file.png|file.html"))
        var picture: String?

        func run() throws {
            // File arguments keep their exact bytes (a name that is not UTF-8 included).
            let exact = FileSystem.commandLineArguments([self.image] + (self.picture.map { [$0] } ?? []))
            let image = exact[0], picture = self.picture == nil ? nil : exact[1]
            let bank = try bankOptions.load()
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
                } else {
                    throw CLIError.usage("\(ConvolutionError.unknownFilter(filter, known: bank.filters.map(\.name) + bank.combinations.map(\.name)))")
                }
            }
            do {
                let decoded = try ImageCodec.decode(path: image, maxPixels: maxPixels)
                let tensor = try decoded.tensor.adapted(toChannels: bank.channels)
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
                                                          bankName: bank.name)
                        try AtomicFile.write(try drawn.pngBytes(), to: picture)
                        print("picture: \(FileSystem.display(picture)) (\(drawn.width)×\(drawn.height))")
                    } else {
                        let page = try ExplainPicture.html(explanation: explanation, image: tensor, partialMaps: partialMaps, map: map,
                                                           bankName: bank.name)
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
