import ConvBankTestSupport
import Foundation
import Testing
@testable import ConvBankBatch
@testable import ConvBankEngine
@testable import ConvBankImageIO
@testable import ConvBankPictures

/// Outputs of real Keras 3 (`Conv2D`, JAX backend) and, where Keras refuses stride > 1 with dilation > 1, of a
/// float64 NumPy loop, made by `scripts/make_goldens.py` and committed under `Fixtures/conv/`.
@Suite struct ReferenceTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String, input: String, bank: String, expected: String, note: String
        var testDescription: String { "\(name): \(note)" }
    }

    static let cases: [Case] = {
        guard let list = try? Fixtures.json(Fixtures.conv.appendingPathComponent("cases.json")) as? [[String: Any]] else { return [] }
        return list.map { Case(name: $0["name"] as! String, input: $0["input"] as! String, bank: $0["bank"] as! String,
                               expected: $0["expected"] as! String, note: $0["note"] as? String ?? "") }
    }()

    @Test func fixturesArePresent() {
        #expect(Self.cases.count >= 80)
    }

    @Test(arguments: cases)
    func matchesReference(_ c: Case) throws {
        let input = try Float32NPY(contentsOf: Fixtures.conv.appendingPathComponent(c.input))
        let expected = try Float32NPY(contentsOf: Fixtures.conv.appendingPathComponent(c.expected))
        let bank = try FilterBank(json: Fixtures.bytes(Fixtures.conv.appendingPathComponent(c.bank)), source: c.bank)
        let image = Tensor(height: input.shape[0], width: input.shape[1], channels: input.shape[2], interleaved: input.values)
        let maps = try bank.convolve(image, jobs: 2)
        expectMatchesReference(maps, expected, bank: bank, input: image)
    }

    @Test func refusedCases() throws {
        let list = try Fixtures.json(Fixtures.conv.appendingPathComponent("refused.json")) as! [[String: Any]]
        #expect(!list.isEmpty)
        for entry in list {
            let shape = entry["input_shape"] as! [Int]
            let bank = try FilterBank(json: Fixtures.bytes(Fixtures.conv.appendingPathComponent(entry["bank"] as! String)), source: "r")
            let image = Tensor(height: shape[0], width: shape[1], channels: shape[2])
            #expect(throws: ConvolutionError.self) { try bank.convolve(image) }
        }
    }
}
