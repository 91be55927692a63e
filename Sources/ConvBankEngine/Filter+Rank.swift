extension Filter {
    /// The largest kernel (kh · kw) whose rank `summary` works out: 256 × 256.
    public static let maximumRankedTaps = 1 << 16

    /// The numerical rank of channel `c`'s kh×kw kernel: the number of outer-product terms `eliminate` takes until
    /// every remaining weight is within 1e-6 of the largest — the engine's own tolerance, so the rank shown is the
    /// number of terms the engine runs a large kernel with (rank 1: separable, two 1-D passes).
    /// - Complexity: O(kh · kw · rank).
    public func kernelRank(channel c: Int) -> Int {
        eliminate(channel: c, stopAfter: { _ in false })?.u.count ?? 0
    }

    /// Gaussian elimination with full pivoting of channel `c`'s kernel, in `Double`: pivot `w[p][q]` = the largest
    /// remaining weight, column `u = w[·][q]`, row `v = w[p][·] / w[p][q]`, subtract `u vᵀ`, repeat until every
    /// remaining weight is within 1e-6 of the kernel's largest. The one factorization behind both the engine's
    /// low-rank path (`ConvolutionPlan`) and the rank in `summary`.
    /// - Parameter stopAfter: called with the term count after each term; when it says stop, the terms so far are
    ///   returned if the rest is negligible, else nil.
    /// - Returns: the terms' columns `u` (kh values each) and rows `v` (kw values each); none for a zero kernel.
    func eliminate(channel c: Int, stopAfter: (Int) -> Bool) -> (u: [[Double]], v: [[Double]])? {
        let kh = kernel.height, kw = kernel.width
        var m = (0..<kh).map { i in (0..<kw).map { j in Double(self[c, i, j]) } }
        let largest = m.joined().map { Swift.abs($0) }.max() ?? 0
        let tolerance = 1e-6 * largest
        var u: [[Double]] = [], v: [[Double]] = []
        while true {
            var p = 0, q = 0, best = 0.0
            for i in 0..<kh { for j in 0..<kw where Swift.abs(m[i][j]) > best { best = Swift.abs(m[i][j]); p = i; q = j } }
            if best <= tolerance { break }
            let column = (0..<kh).map { m[$0][q] }
            let row = (0..<kw).map { m[p][$0] / m[p][q] }
            for i in 0..<kh { for j in 0..<kw { m[i][j] -= column[i] * row[j] } }
            u.append(column)
            v.append(row)
            if stopAfter(u.count) {
                if m.joined().contains(where: { Swift.abs($0) > tolerance }) { return nil }
                break
            }
        }
        return (u, v)
    }

    /// The largest kernel rank over the channels; 1 when every channel's kernel is separable.
    public var kernelRank: Int { (0..<channels).map { kernelRank(channel: $0) }.max() ?? 0 }
}
