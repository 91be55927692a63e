extension FilterBank {
    /// A Keras-style table: each filter's kernel shape (kh×kw×C), kernel rank (the largest over its channels; rank 1
    /// = separable) and parameters (kh·kw·C + 1), the total; with an
    /// input size, each filter's output size, pads (T,B,L,R — TensorFlow's asymmetric SAME split shows here) and
    /// multiply-adds per image.
    /// - Throws: `ConvolutionError` when a kernel does not fit the input size.
    public func summary(input: Extent2D? = nil) throws(ConvolutionError) -> String {
        var lines: [String] = []
        lines.append("Bank \"\(name)\": \(filters.count) filter\(filters.count == 1 ? "" : "s"), \(channels) input channel\(channels == 1 ? "" : "s")"
                     + (groups > 1 ? ", \(groups) groups of \(channels / groups) channel\(channels / groups == 1 ? "" : "s")"
                        + (groups == channels ? " (depthwise, \(filters.count / groups) per channel)" : "") : ""))
        if let summary { lines.append(summary) }
        lines.append("stride \(stride.shape), dilation \(dilation.shape), padding \(padding), padding mode \(paddingMode.rawValue), activation \(activation.rawValue)")
        if let input { lines.append("input \(input.height)×\(input.width)×\(channels) (H×W×C)") }
        var header = ["Filter", groups > 1 ? "Kernel (kh×kw×C/G)" : "Kernel (kh×kw×C)", "Rank", "Params"]
        if groups > 1 { header.insert("Reads", at: 1) }
        if input != nil { header += ["Output (H×W)", "Pads T,B,L,R", "Mult-adds"] }
        var rows: [[String]] = []
        var macs = 0
        for (index, filter) in filters.enumerated() {
            // The rank takes O(kh·kw·min(kh, kw)) per channel: beyond 256×256 taps it is left out ("-") rather than
            // let a hostile kernel stall the table.
            let rankText: String
            if filter.kernel.height * filter.kernel.width > Filter.maximumRankedTaps {
                rankText = "-"
            } else {
                let rank = filter.kernelRank
                rankText = rank == 1 && filter.kernel.height > 1 && filter.kernel.width > 1 ? "1 separable" : "\(rank)"
            }
            var row = [filter.name, "\(filter.kernel.height)×\(filter.kernel.width)×\(filter.channels)", rankText, grouped(filter.parameterCount - (usesBias ? 0 : 1))]
            if groups > 1 {
                let last = filter.firstChannel + filter.channels - 1
                row.insert(filter.channels == 1 ? "c\(filter.firstChannel)" : "c\(filter.firstChannel)…c\(last)", at: 1)
            }
            if let input {
                let g = try geometry(of: index, input: input)
                let m = (Saturating(g.output.height) * g.output.width * filter.kernel.height * filter.kernel.width * filter.channels).value
                macs = (Saturating(macs) + m).value
                row += [g.output.shape, g.insets.description, grouped(m)]
            }
            rows.append(row)
        }
        let widths = header.indices.map { col in max(header[col].count, rows.map { $0[col].count }.max() ?? 0) }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { col, cell in
                !header[col].hasPrefix("Params") && !header[col].hasPrefix("Mult") ? cell.padding(toLength: widths[col], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[col] - cell.count) + cell
            }.joined(separator: "   ").trimmingTrailingSpaces()
        }
        let rule = String(repeating: "─", count: widths.reduce(0, +) + 3 * (widths.count - 1))
        lines.append(rule)
        lines.append(line(header))
        lines.append(rule)
        for row in rows { lines.append(line(row)) }
        lines.append(rule)
        lines.append("Total params: \(grouped(parameterCount))")
        if input != nil { lines.append("Multiply-adds per image: \(grouped(macs))") }
        if !combinations.isEmpty {
            lines.append("Maps written (combined per pixel from the filters' maps, in Double, instead of them):")
            for c in combinations {
                lines.append("  \(c.name) = \(c.operation.formula(filters[c.x].name, filters[c.y].name))")
            }
        }
        return lines.joined(separator: "\n")
    }
}

/// `1234567` → `1,234,567`; `Int.max` (a saturated count) → `more than 9,223,372,036,854,775,806`.
func grouped(_ n: Int) -> String {
    if n == Int.max { return "more than " + grouped(Int.max - 1) }
    let digits = String(Swift.abs(n))
    var out = ""
    for (k, ch) in digits.enumerated() {
        if k > 0 && (digits.count - k) % 3 == 0 { out.append(",") }
        out.append(ch)
    }
    return (n < 0 ? "-" : "") + out
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
