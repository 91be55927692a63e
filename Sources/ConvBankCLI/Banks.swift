import ArgumentParser
import ConvBank

extension Convbank {
    struct Banks: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the built-in banks, or print one as bank JSON that --bank accepts back.")

        @Argument(help: "A built-in bank to print as JSON.")
        var name: String?

        func run() throws {
            guard let name else {
                let width = BuiltinBank.all.map(\.name.count).max() ?? 0
                for bank in BuiltinBank.all {
                    print("\(bank.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(bank.summary ?? "")")
                }
                return
            }
            guard let bank = BuiltinBank.named(name) else {
                printError("error: no built-in bank named '\(name)' (built-in banks: \(BuiltinBank.allNames))")
                throw ExitCode(64)
            }
            print(bank.jsonText, terminator: "")
        }
    }
}
