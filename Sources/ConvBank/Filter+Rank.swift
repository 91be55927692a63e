extension Filter {
    /// The largest kernel (kh · kw) whose rank `summary` works out: 256 × 256.
    public static let maximumRankedTaps = 1 << 16

    /// The numerical rank of channel `c`'s kh×kw kernel (Gaussian elimination with full pivoting in `Double`;
    /// singular values below `1e-9 · max|w|` count as zero). Rank 1 means separable: an outer product of a
    /// column and a row, so two 1-D passes compute it.
    /// - Complexity: O(kh · kw · min(kh, kw)).
    public func kernelRank(channel c: Int) -> Int {
        var m = (0..<kernel.height).map { i in (0..<kernel.width).map { j in Double(self[c, i, j]) } }
        let scale = m.joined().map { Swift.abs($0) }.max() ?? 0
        if scale == 0 { return 0 }
        let tolerance = 1e-9 * scale
        var rank = 0
        var rows = Array(0..<kernel.height), columns = Array(0..<kernel.width)
        while !rows.isEmpty && !columns.isEmpty {
            var best = (r: -1, c: -1, v: 0.0)
            for r in rows { for col in columns where Swift.abs(m[r][col]) > best.v { best = (r, col, Swift.abs(m[r][col])) } }
            if best.v <= tolerance { break }
            rank += 1
            let pivot = m[best.r][best.c]
            for r in rows where r != best.r {
                let f = m[r][best.c] / pivot
                if f != 0 { for col in columns { m[r][col] -= f * m[best.r][col] } }
            }
            rows.removeAll { $0 == best.r }
            columns.removeAll { $0 == best.c }
        }
        return rank
    }

    /// The largest kernel rank over the channels; 1 when every channel's kernel is separable.
    public var kernelRank: Int { (0..<channels).map { kernelRank(channel: $0) }.max() ?? 0 }
}
