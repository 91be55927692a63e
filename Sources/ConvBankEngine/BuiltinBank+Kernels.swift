import Foundation

/// The kernels of the built-in banks, as `[row][column]` arrays for cross-correlation (row 0 is the top).
///
/// Every sampled kernel is computed in `Double` and rounded once to `Float`. Nothing is rescaled behind the
/// caller's back: zero-sum kernels (edges, LoG, DoG) are never divided by their sum, and smoothing kernels are
/// normalized only where stated (the 1-D Gaussian sums to 1 before its outer product is taken).
enum BuiltinKernels {
    /// Sobel x: `[[-1,0,1],[-2,0,2],[-1,0,1]]`, positive where brightness grows to the right.
    static let sobelX: [[Float]] = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
    /// Scharr x: `[[-3,0,3],[-10,0,10],[-3,0,3]]`.
    static let scharrX: [[Float]] = [[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]]
    /// Prewitt x: `[[-1,0,1],[-1,0,1],[-1,0,1]]`.
    static let prewittX: [[Float]] = [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]
    /// Roberts cross, 2×2: `a` = `[[1,0],[0,-1]]` (↘ diagonal), `b` = `[[0,1],[-1,0]]` (↙ diagonal).
    static let robertsA: [[Float]] = [[1, 0], [0, -1]]
    static let robertsB: [[Float]] = [[0, 1], [-1, 0]]
    /// 4-neighbour Laplacian `[[0,1,0],[1,-4,1],[0,1,0]]` and 8-neighbour `[[1,1,1],[1,-8,1],[1,1,1]]`.
    static let laplacian4: [[Float]] = [[0, 1, 0], [1, -4, 1], [0, 1, 0]]
    static let laplacian8: [[Float]] = [[1, 1, 1], [1, -8, 1], [1, 1, 1]]
    static let sharpen: [[Float]] = [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]
    static let emboss: [[Float]] = [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]

    /// Kirsch compass kernels, as a table (the classic "north" kernel `[[5,5,5],[-3,0,-3],[-3,-3,-3]]` turned
    /// clockwise in 45° steps): each responds most to a bright region on its side.
    static let kirsch: [(name: String, kernel: [[Float]])] = [
        ("n", [[5, 5, 5], [-3, 0, -3], [-3, -3, -3]]),
        ("ne", [[-3, 5, 5], [-3, 0, 5], [-3, -3, -3]]),
        ("e", [[-3, -3, 5], [-3, 0, 5], [-3, -3, 5]]),
        ("se", [[-3, -3, -3], [-3, 0, 5], [-3, 5, 5]]),
        ("s", [[-3, -3, -3], [-3, 0, -3], [5, 5, 5]]),
        ("sw", [[-3, -3, -3], [5, 0, -3], [5, 5, -3]]),
        ("w", [[5, -3, -3], [5, 0, -3], [5, -3, -3]]),
        ("nw", [[5, 5, -3], [5, 0, -3], [-3, -3, -3]]),
    ]

    static func transposed(_ k: [[Float]]) -> [[Float]] { k[0].indices.map { j in k.map { $0[j] } } }

    /// `⌈3σ⌉`: the radius of every Gaussian-based built-in (size `2⌈3σ⌉ + 1`).
    static func radius(sigma: Double) -> Int { Int((3 * sigma).rounded(.up)) }

    /// The sampled 1-D Gaussian `exp(−x²/(2σ²))` for `x = −radius…radius`, divided by its sum (as
    /// `scipy.ndimage.gaussian_filter` and `cv2.getGaussianKernel` build it).
    static func gaussian1D(sigma: Double, radius: Int) -> [Double] {
        let g = (-radius...radius).map { x in exp(-Double(x * x) / (2 * sigma * sigma)) }
        let sum = g.reduce(0, +)
        return g.map { $0 / sum }
    }

    /// `outer(a, b)`: `[i][j] = a[i] · b[j]`.
    static func outer(_ a: [Double], _ b: [Double]) -> [[Double]] { a.map { ai in b.map { ai * $0 } } }

    static func rounded(_ k: [[Double]]) -> [[Float]] { k.map { $0.map(Float.init) } }

    /// The 2-D Gaussian `outer(g, g)` with `g = gaussian1D(σ, ⌈3σ⌉)` (or the given radius); sums to 1.
    static func gaussian(sigma: Double, radius: Int? = nil) -> [[Double]] {
        let g = gaussian1D(sigma: sigma, radius: radius ?? self.radius(sigma: sigma))
        return outer(g, g)
    }

    /// Laplacian of Gaussian, as `scipy.ndimage.gaussian_laplace`: `∂²/∂y² + ∂²/∂x²` of the separable
    /// normalized Gaussian, i.e. `g₂(y)·g(x) + g(y)·g₂(x)` with `g₂(t) = (t²/σ⁴ − 1/σ²)·g(t)`. Negative at the
    /// centre. Not shifted to zero mean: its sum is the truncation error at `⌈3σ⌉` (≈ −0.003 for σ = 1.4).
    static func laplacianOfGaussian(sigma: Double) -> [[Double]] {
        let r = radius(sigma: sigma)
        let g = gaussian1D(sigma: sigma, radius: r)
        let s2 = sigma * sigma
        let g2 = (-r...r).enumerated().map { k, t in (Double(t * t) / (s2 * s2) - 1 / s2) * g[k] }
        let a = outer(g2, g), b = outer(g, g2)
        return zip(a, b).map { zip($0, $1).map { $0 + $1 } }
    }

    /// Difference of Gaussians `G(σ) − G(kσ)`, both sampled on the larger window (radius `⌈3kσ⌉`) and each
    /// normalized to sum 1 there, so the kernel sums to 0 up to rounding.
    static func differenceOfGaussians(sigma: Double, k: Double) -> [[Double]] {
        let r = radius(sigma: max(sigma, k * sigma))
        let a = gaussian(sigma: sigma, radius: r), b = gaussian(sigma: k * sigma, radius: r)
        return zip(a, b).map { zip($0, $1).map { $0 - $1 } }
    }

    /// Unsharp masking `(1 + amount)·δ − amount·G(σ)`: sums to 1, so flat regions keep their value.
    static func unsharp(sigma: Double, amount: Double) -> [[Double]] {
        var k = gaussian(sigma: sigma).map { $0.map { -amount * $0 } }
        let r = radius(sigma: sigma)
        k[r][r] += 1 + amount
        return k
    }

    /// Binomial smoothing: `outer(row, row)` with `row[i] = C(n−1, i) / 2^(n−1)` (size 5: `[1,4,6,4,1]/16`).
    static func binomial(size n: Int) -> [[Double]] {
        var row: [Double] = [1]
        for _ in 1..<max(n, 1) { row = zip(row + [0], [0] + row).map { $0 + $1 } }
        let scale = pow(2, Double(n - 1))
        let normalized = row.map { $0 / scale }
        return outer(normalized, normalized)
    }

    /// The real Gabor kernel exactly as OpenCV's `cv2.getGaborKernel((size, size), σ, θ, λ, γ, ψ, CV_64F)`:
    /// for `x, y ∈ −r…r` (`r = size / 2`), `x' = x cos θ + y sin θ`, `y' = −x sin θ + y cos θ`,
    /// `v = exp(−(x'² + γ² y'²) / (2σ²)) · cos(2π x'/λ + ψ)` stored at row `r − y`, column `r − x`. Not normalized.
    static func gabor(size: Int, sigma: Double, theta: Double, lambda: Double, gamma: Double, psi: Double) -> [[Double]] {
        let r = size / 2
        let sigmaX = sigma, sigmaY = sigma / gamma
        let ex = -0.5 / (sigmaX * sigmaX), ey = -0.5 / (sigmaY * sigmaY)
        let c = cos(theta), s = sin(theta)
        let cscale = Double.pi * 2 / lambda
        var k = [[Double]](repeating: [Double](repeating: 0, count: 2 * r + 1), count: 2 * r + 1)
        for y in -r...r {
            for x in -r...r {
                let xr = Double(x) * c + Double(y) * s
                let yr = -Double(x) * s + Double(y) * c
                k[r - y][r - x] = exp(ex * xr * xr + ey * yr * yr) * cos(cscale * xr + psi)
            }
        }
        return k
    }
}
