import ConvBankTestSupport
import Foundation
import Testing

/// `--bank` given a weight or model file instead of JSON: a weight file without layer settings is refused with a
/// pointer to `convbank import` (exit 64, one line), not as "invalid JSON".
@Suite("weight and model files as --bank")
struct ModelBankCLITests {
    static let readers = CLI.repository.appendingPathComponent("Tests/ConvBankTests/Fixtures/readers")
    static let image = CLI.repository.appendingPathComponent("examples/mtcnn/astronaut-64.png").path

    @Test(arguments: ["keras.npz", "torch.safetensors"])
    func weightFileIsRefusedWithImportHint(file: String) throws {
        let path = Self.readers.appendingPathComponent(file).path
        for command in [["apply", Self.image, "--bank", path, "-o", "/nonexistent-out"], ["summary", "--bank", path]] {
            let r = try CLI.run(command)
            #expect(r.status == 64, "\(r)")
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].contains(file) && lines[0].contains("convbank import"), "\(r.stderr)")
        }
    }
}
