import ArgumentParser
import Foundation

/// Why a command stops: the one error type of the tool, printed once by `Convbank.main` as `convbank: error: …` and
/// turned into the contract's exit status.
enum CLIError: Error, CustomStringConvertible {
    /// A bad flag, value or bank: nothing was processed. Exit 64.
    case usage(String)
    /// The command could not do its work (an unreadable image for `explain`, an unwritable output folder). Exit 1.
    case failure(String)
    /// Some inputs or outputs of a batch failed; each was already named on its own line. Exit 1.
    case inputsFailed

    var exitCode: Int32 {
        switch self {
        case .usage: 64
        case .failure, .inputsFailed: 1
        }
    }

    /// The line to print, if any.
    var message: String? {
        switch self {
        case .usage(let text), .failure(let text): text
        case .inputsFailed: nil
        }
    }

    var description: String { message ?? "some inputs failed" }
}
