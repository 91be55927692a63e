import Foundation

/// Bank JSON text for tests.
enum TestBank {
    /// One filter `name` with `weights[c][i][j]`.
    static func single(name: String = "f", weights: [[[Double]]], bias: Double = 0, padding: String = "\"valid\"",
                       stride: Int = 1, activation: String = "linear", paddingMode: String = "zeros") -> String {
        """
        {"name": "test", "stride": \(stride), "padding": \(padding), "padding_mode": "\(paddingMode)", "activation": "\(activation)",
         "filters": [{"name": "\(name)", "bias": \(number(bias)), "weights": \(array(weights))}]}
        """
    }

    static func array(_ w: [[[Double]]]) -> String {
        "[" + w.map { c in "[" + c.map { r in "[" + r.map(number).joined(separator: ", ") + "]" }.joined(separator: ", ") + "]" }
            .joined(separator: ", ") + "]"
    }

    static func number(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }
}
