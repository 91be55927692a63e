import Foundation

/// The function applied after the bias, by its Keras name. Computed in `Double` and rounded once to `Float`.
public enum Activation: String, CaseIterable, Codable, Sendable {
    /// `x`.
    case linear
    /// `max(x, 0)`.
    case relu
    /// `min(max(x, 0), 6)`.
    case relu6
    /// `1 / (1 + e^−x)`.
    case sigmoid
    /// `tanh(x)`.
    case tanh
    /// `x` for `x > 0`, else `e^x − 1`.
    case elu
    /// `1.0507009873554805 · elu(x, α = 1.6732632423543772)`.
    case selu
    /// `log(1 + e^x)`.
    case softplus
    /// `x / (1 + |x|)`.
    case softsign
    /// `x · sigmoid(x)` (also spelled `silu`).
    case swish
    /// `x · Φ(x)` with the exact normal CDF `Φ(x) = (1 + erf(x/√2)) / 2` (Keras `gelu`, `approximate=False`).
    case gelu
    /// Keras 3: `relu6(x + 3) / 6`.
    case hardSigmoid = "hard_sigmoid"
    /// `e^x`.
    case exponential
    /// `x` for `x ≥ 0`, else `0.2·x` (Keras 3 default slope).
    case leakyRelu = "leaky_relu"

    /// Accepts the Keras aliases too (`silu` for `swish`).
    public init?(name: String) {
        let n = name.lowercased()
        if n == "silu" { self = .swish; return }
        if n == "identity" || n == "none" { self = .linear; return }
        self.init(rawValue: n)
    }

    /// Applies the activation to one value.
    @inlinable public func apply(_ value: Float) -> Float {
        switch self {
        case .linear: return value
        case .relu: return value > 0 ? value : 0
        case .relu6: return min(max(value, 0), 6)
        default: return Float(apply(Double(value)))
        }
    }

    /// Applies the activation in double precision.
    public func apply(_ x: Double) -> Double {
        switch self {
        case .linear: return x
        case .relu: return max(x, 0)
        case .relu6: return min(max(x, 0), 6)
        case .sigmoid: return x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x))
        case .tanh: return Foundation.tanh(x)
        case .elu: return x > 0 ? x : Foundation.expm1(x)
        case .selu: return 1.0507009873554805 * (x > 0 ? x : 1.6732632423543772 * Foundation.expm1(x))
        case .softplus: return x > 30 ? x : Foundation.log1p(Foundation.exp(x))
        case .softsign: return x / (1 + abs(x))
        case .swish: return x * Activation.sigmoid.apply(x)
        case .gelu: return 0.5 * x * (1 + Foundation.erf(x / 2.0.squareRoot()))
        case .hardSigmoid: return min(max(x + 3, 0), 6) / 6
        case .exponential: return Foundation.exp(x)
        case .leakyRelu: return x >= 0 ? x : 0.2 * x
        }
    }

    /// Every accepted spelling, for help texts.
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
