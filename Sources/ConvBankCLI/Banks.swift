import ArgumentParser
import ConvBankBatch
import ConvBankEngine
import ConvBankImageIO
import ConvBankPictures

extension Convbank {
    struct Banks: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the built-in banks, or print one as bank JSON that --bank accepts back.",
            discussion: "Parametric banks: \(BuiltinBank.syntax).")

        @Argument(help: "A built-in bank to print as JSON (NAME or NAME:key=value,…).")
        var name: String?

        func run() throws {
            guard let name else {
                print(Self.listing, terminator: "")
                return
            }
            let bank: FilterBank
            do { bank = try BuiltinBank.parse(name) } catch {
                throw CLIError.usage("\(error)")
            }
            print(bank.jsonText, terminator: "")
        }

        /// The table of built-ins (name, channels, filters, summary), then the parametric syntax and each
        /// parametric bank's keys with their defaults.
        static var listing: String {
            let rows = BuiltinBank.all.map { [$0.name, "\($0.channels)", "\($0.filters.count)", $0.summary ?? ""] }
            let header = ["bank", "C", "filters", "summary"]
            let widths = (0..<3).map { c in ([header] + rows).map { $0[c].count }.max()! }
            func line(_ r: [String]) -> String {
                (0..<3).map { c in c == 0 ? r[c].padding(toLength: widths[c], withPad: " ", startingAt: 0)
                                          : String(repeating: " ", count: widths[c] - r[c].count) + r[c] }
                    .joined(separator: "  ") + "  " + r[3]
            }
            var out = ([header] + rows).map(line)
            out.append("")
            out.append("Parameters: \(BuiltinBank.syntax).")
            let parametric = BuiltinBank.all.filter { !BuiltinBank.parameters(of: $0.name).isEmpty }
            let width = parametric.map(\.name.count).max() ?? 0
            for bank in parametric {
                let keys = BuiltinBank.parameters(of: bank.name).map { "\($0.usage) (\($0.help))" }.joined(separator: "; ")
                out.append("  \(bank.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(keys)")
            }
            out.append("`convbank banks NAME` prints a bank as JSON; save it, edit it, and pass the file to --bank.")
            return out.joined(separator: "\n") + "\n"
        }
    }
}
