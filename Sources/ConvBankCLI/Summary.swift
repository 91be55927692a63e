import ArgumentParser
import ConvBankBatch
import ConvBankEngine
import ConvBankImageIO
import ConvBankPictures

extension Convbank {
    struct Summary: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a Keras-style table of the bank: kernel shapes and parameters (kh·kw·C + 1 per filter).",
            discussion: "With --input-size, also each filter's output size, its pads (T,B,L,R) and multiply-adds per image.")

        @OptionGroup var bankOptions: BankOptions

        @Option(help: ArgumentHelp("Input height and width.", valueName: "h,w"))
        var inputSize: Extent2D?

        func run() throws {
            if let network = try bankOptions.loadNetwork() {
                do { print(try network.summary(input: inputSize)) } catch { throw CLIError.failure("\(error)") }
                return
            }
            let bank = try bankOptions.load()
            do { print(try bank.summary(input: inputSize)) } catch {
                throw CLIError.failure("\(error)")
            }
        }
    }
}
