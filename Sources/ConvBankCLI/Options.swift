import ArgumentParser
import ConvBank
import Foundation

/// The bank and the options that override its settings; shared by `apply`, `summary` and `explain`.
struct BankOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A JSON bank file, or a built-in bank name (\(BuiltinBank.allNames)).", valueName: "bank"))
    var bank: String

    @Option(help: ArgumentHelp("Stride; overrides the bank.", valueName: "n|h,w"))
    var stride: Extent2D?

    @Option(help: ArgumentHelp("Dilation; overrides the bank.", valueName: "n|h,w"))
    var dilation: Extent2D?

    @Option(help: ArgumentHelp("Padding; overrides the bank.", valueName: "valid|same|n|t,b,l,r"))
    var padding: Padding?

    @Option(help: "What fills the padding; overrides the bank.")
    var paddingMode: PaddingMode?

    @Option(help: ArgumentHelp("Activation (Keras name); overrides the bank.", valueName: "name"))
    var activation: Activation?

    /// The bank with the overrides applied. A bad bank prints one line and exits with 64 (usage error).
    func load() throws -> FilterBank {
        var bank: FilterBank
        do { bank = try FilterBank.load(self.bank) } catch {
            printError("error: \(error)")
            throw ExitCode(64)
        }
        bank = bank.overriding(stride: stride, dilation: dilation, padding: padding, paddingMode: paddingMode, activation: activation)
        return bank
    }
}

/// Writes one line to standard error, prefixed with the tool's name.
func printError(_ line: String) {
    FileHandle.standardError.write(Data("convbank: \(line)\n".utf8))
}
