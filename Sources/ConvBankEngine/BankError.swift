/// Why a bank could not be loaded: a missing file, an unknown built-in, bad JSON, or a value that breaks the
/// bank format, with the JSON path of the problem (`filters[2].weights: expected 3×3×3, found 2×3×3`).
public enum BankError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No such built-in bank (and no such file).
    case unknownBuiltin(String, known: [String])
    /// The file could not be read.
    case unreadable(source: String, reason: String)
    /// The file is not valid JSON.
    case syntax(source: String, reason: String)
    /// The JSON is valid but not a valid bank; `at` is the JSON path.
    case invalid(source: String, at: String, reason: String)

    /// The one-line message: the bank's source, where in it, and what is wrong.
    public var description: String {
        switch self {
        case let .unknownBuiltin(name, known):
            return "no bank file or built-in bank named '\(name)' (built-in banks: \(known.joined(separator: ", ")))"
        case let .unreadable(source, reason): return "bank '\(source)': \(reason)"
        case let .syntax(source, reason): return "bank '\(source)': \(reason)"
        case let .invalid(source, at, reason): return "bank '\(source)': \(at.isEmpty ? "" : "\(at): ")\(reason)"
        }
    }
}
