import ConvBankEngine
import Foundation

extension FilterBank {
    /// A bank from exported layer weights: `kernel` in `layout` (`"HWIO"`: Keras `get_weights()[0]`, shape
    /// (kh, kw, C, F); `"OIHW"`: PyTorch `weight`, shape (F, C, kh, kw); `"HWCM"`: Keras `DepthwiseConv2D`'s
    /// `depthwise_kernel`, shape (kh, kw, C, M)) and an optional `bias` of shape (F,) (C·M for HWCM).
    /// - Parameters:
    ///   - kernel: The 4-D weight array.
    ///   - bias: The 1-D bias array, or `nil`.
    ///   - layout: `"HWIO"`, `"OIHW"` or `"HWCM"`.
    ///   - names: Filter names, or `nil` for `f0`, `f1`, ….
    ///   - name: The bank's name.
    ///   - source: How errors name the file.
    /// - Throws: `BankError` naming what is wrong with the arrays (shape, NaN, range).
    public init(importing kernel: NPYArray, bias: NPYArray?, layout: String, names: [String]? = nil, name: String = "imported",
                source: String) throws(BankError) {
        guard kernel.shape.count == 4 else {
            throw .invalid(source: source, at: "", reason: "a kernel array has 4 dimensions, this one has shape \(kernel.shape)")
        }
        func nested(_ values: ArraySlice<Double>, _ shape: ArraySlice<Int>) -> JSONValue {
            guard let first = shape.first else { return .number(values.first!) }
            let step = shape.dropFirst().reduce(1, *)
            return .array((0..<first).map { i in
                let lo = values.startIndex + i * step
                return nested(values[lo..<(lo + step)], shape.dropFirst())
            })
        }
        var members: [(key: String, value: JSONValue)] = [("name", .string(name)), ("layout", .string(layout))]
        let key = ["HWIO": "kernel", "HWCM": "depthwise_kernel"][layout.uppercased()] ?? "weight"
        members.append((key, nested(kernel.values[...], kernel.shape[...])))
        if let bias {
            guard bias.shape.count == 1 else {
                throw .invalid(source: source, at: "bias", reason: "a bias array has 1 dimension, this one has shape \(bias.shape)")
            }
            members.append(("bias", nested(bias.values[...], bias.shape[...])))
        }
        if let names { members.append(("names", .array(names.map { .string($0) }))) }
        try self.init(jsonValue: .object(members), source: source)
    }
}
