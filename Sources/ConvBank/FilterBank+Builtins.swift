/// Banks that ship with convbank, by name (`convbank banks` lists them).
public enum BuiltinBank {
    /// Every built-in bank, in listing order.
    public static var all: [FilterBank] { [edges] }

    /// Built-in names, comma-separated, for help texts.
    public static var allNames: String { all.map(\.name).joined(separator: ", ") }

    /// The built-in bank called `name` (letter case ignored).
    public static func named(_ name: String) -> FilterBank? { all.first { $0.name == name.lowercased() } }

    /// 8 classic 3×3 edge and detail filters, each applying the same kernel to R, G and B (so it responds to
    /// the edges of R + G + B), `same` padding with zeros, linear. Sobel responses on 0…255 input span
    /// ±3060 (±1020 per channel): use `--normalize abs`, `symmetric` or `minmax` to see them as pictures.
    public static var edges: FilterBank {
        let sobelX: [[Float]] = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
        let scharrX: [[Float]] = [[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]]
        let prewittX: [[Float]] = [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]
        func transposed(_ k: [[Float]]) -> [[Float]] { k[0].indices.map { j in k.map { $0[j] } } }
        let rgb: [Float] = [1, 1, 1]
        return FilterBank(
            name: "edges",
            filters: [
                Filter(name: "sobel_x", kernel: sobelX, channelWeights: rgb),
                Filter(name: "sobel_y", kernel: transposed(sobelX), channelWeights: rgb),
                Filter(name: "scharr_x", kernel: scharrX, channelWeights: rgb),
                Filter(name: "scharr_y", kernel: transposed(scharrX), channelWeights: rgb),
                Filter(name: "laplacian", kernel: [[0, 1, 0], [1, -4, 1], [0, 1, 0]], channelWeights: rgb),
                Filter(name: "prewitt_x", kernel: prewittX, channelWeights: rgb),
                Filter(name: "prewitt_y", kernel: transposed(prewittX), channelWeights: rgb),
                Filter(name: "sharpen", kernel: [[0, -1, 0], [-1, 5, -1], [0, -1, 0]], channelWeights: rgb),
            ],
            padding: .same,
            summary: "Sobel, Scharr, Prewitt (x, y), Laplacian and sharpen, 3×3 on each of R, G, B, summed; same padding")
    }
}

extension FilterBank {
    /// Loads a bank from a JSON file, or a built-in bank by name when no such file exists.
    /// - Throws: `BankError`.
    public static func load(_ reference: String) throws(BankError) -> FilterBank {
        var isDirectory = false
        if fileExists(reference, isDirectory: &isDirectory), !isDirectory {
            let bytes: [UInt8]
            do { bytes = try ImageCodec.readFile(reference, limit: 1 << 30) } catch {
                throw .unreadable(source: reference, reason: error.detail)
            }
            return try FilterBank(json: bytes, source: reference)
        }
        if let builtin = BuiltinBank.named(reference) { return builtin }
        if reference.hasSuffix(".json") || reference.contains("/") {
            throw .unreadable(source: reference, reason: isDirectory ? "is a folder" : "no such file")
        }
        throw .unknownBuiltin(reference, known: BuiltinBank.all.map(\.name))
    }
}
