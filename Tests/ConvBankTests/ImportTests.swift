import Foundation
import Testing
@testable import ConvBankBatch
@testable import ConvBankEngine
@testable import ConvBankImageIO
@testable import ConvBankPictures

/// `.npy` weights as Keras and PyTorch users save them (`scripts/make_import_fixtures.py`), against the canonical
/// layout NumPy's own transposes give.
@Suite struct ImportTests {
    static let dir = Fixtures.root.appendingPathComponent("import")

    func array(_ name: String) throws -> NPYArray { try NPYArray(bytes: Fixtures.bytes(Self.dir.appendingPathComponent(name))) }

    func expected(_ key: String) throws -> (weights: [[[[Double]]]], bias: [Double]) {
        let json = try Fixtures.json(Self.dir.appendingPathComponent("expected.json")) as! [String: [String: Any]]
        return (json[key]!["weights"] as! [[[[Double]]]], json[key]!["bias"] as! [Double])
    }

    func check(_ bank: FilterBank, against e: (weights: [[[[Double]]]], bias: [Double])) {
        #expect(bank.filters.count == e.weights.count)
        for (f, filter) in bank.filters.enumerated() {
            #expect(filter.bias == Float(e.bias[f]))  // JSONSerialization may be an ulp off in Double
            for c in 0..<filter.channels {
                for i in 0..<filter.kernel.height {
                    for j in 0..<filter.kernel.width { #expect(filter[c, i, j] == Float(e.weights[f][c][i][j])) }
                }
            }
        }
    }

    @Test func kerasHWIO() throws {
        let kernel = try array("keras_kernel.npy")
        #expect(kernel.shape == [3, 2, 3, 4])
        let bank = try FilterBank(importing: kernel, bias: try array("keras_bias.npy"), layout: "HWIO", source: "k")
        #expect(bank.channels == 3 && bank.filters[0].kernel == Extent2D(height: 3, width: 2))
        #expect(bank.parameterCount == 4 * (3 * 2 * 3 + 1))
        check(bank, against: try expected("keras"))
    }

    @Test func torchOIHWBigEndianDoublesAndIntegerBias() throws {
        let weight = try array("torch_weight.npy")
        #expect(weight.shape == [4, 3, 3, 2])
        let bank = try FilterBank(importing: weight, bias: try array("torch_bias.npy"), layout: "OIHW", names: ["a", "b", "c", "d"], source: "t")
        #expect(bank.filters.map(\.name) == ["a", "b", "c", "d"])
        check(bank, against: try expected("torch"))
    }

    @Test func badArrays() throws {
        let kernel = try array("keras_kernel.npy")
        #expect(throws: BankError.self) { try FilterBank(importing: kernel, bias: kernel, layout: "HWIO", source: "k") }  // bias of 4 dims
        let bias = try array("keras_bias.npy")
        #expect(throws: BankError.self) { try FilterBank(importing: bias, bias: nil, layout: "HWIO", source: "b") }
        var nan = kernel
        nan.values[5] = .nan
        #expect(throws: BankError.self) { try FilterBank(importing: nan, bias: nil, layout: "HWIO", source: "n") }
        #expect(throws: NPYArray.FormatError.self) { try NPYArray(bytes: Array("not numpy".utf8)) }
        var bytes = try Fixtures.bytes(Self.dir.appendingPathComponent("keras_kernel.npy"))
        bytes.removeLast(3)
        #expect(throws: NPYArray.FormatError.self) { try NPYArray(bytes: bytes) }
    }

    /// Kernel rank: separable kernels are rank 1, a Laplacian is not.
    @Test func kernelRank() {
        #expect(Filter(name: "s", kernel: [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], channelWeights: [1]).kernelRank == 1)
        #expect(Filter(name: "g", kernel: [[1, 2, 1], [2, 4, 2], [1, 2, 1]], channelWeights: [1, 1, 1]).kernelRank == 1)
        #expect(Filter(name: "l", kernel: [[0, 1, 0], [1, -4, 1], [0, 1, 0]], channelWeights: [1]).kernelRank == 2)
        #expect(Filter(name: "z", kernel: [[0, 0], [0, 0]], channelWeights: [1]).kernelRank == 0)
        #expect(Filter(name: "i", kernel: [[1, 0, 0], [0, 1, 0], [0, 0, 1]], channelWeights: [1]).kernelRank == 3)
    }
}
