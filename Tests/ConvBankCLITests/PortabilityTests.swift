import ConvBankTestSupport
import Foundation
import Testing
@testable import ConvBankBatch
@testable import ConvBankEngine
@testable import ConvBankImageIO
@testable import ConvBankPictures

/// The default build must run on x86-64 CPUs without AVX-512 (or AVX2): the kernels are picked at run time.
/// Proof: the real binary under `qemu-x86_64 -cpu MODEL` (user-mode emulation of an older CPU; `make deps`
/// installs Debian's `qemu-user`) picks the kernels that CPU has and writes byte-identical maps.
@Suite("Runs on CPUs without AVX-512") struct PortabilityTests {
    #if arch(x86_64)
    static let qemu = ["/usr/bin/qemu-x86_64", "/usr/local/bin/qemu-x86_64"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Runs `executable arguments…` (the binary, or the binary under qemu) and returns its exit status and standard
    /// output; standard error is discarded.
    func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let outcome = try ProcessRunner.run(ProcessRunner.Command(executable, arguments, environment: CLI.environment(), standardError: .discard))
        return (outcome.status, outcome.stdoutText)
    }

    @Test(arguments: [("Nehalem", "portable"), ("Haswell", "avx2")])
    func olderCPUsGiveIdenticalMaps(_ model: String, _ expectedKernels: String) throws {
        let qemu = try #require(Self.qemu, "qemu-x86_64 is missing: `make deps` installs Debian's qemu-user")
        let binary = CLI.binary.path
        let version = try run(qemu, ["-cpu", model, binary, "--version"])
        #expect(version.status == 0, "the binary died under a \(model) CPU (status \(version.status))")
        #expect(version.output.contains("kernels: \(expectedKernels)"), "\(version.output)")

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("portability-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = CLI.sampleImages.appendingPathComponent("chelsea-gray.png").path
        // A separable blur and the 8-filter edge bank: both kernel paths, and a stride.
        for (bank, extra) in [("edges", ["--stride", "2"]), ("gaussian:sigma=2", [])] {
            let native = dir.appendingPathComponent("native-\(bank)").path, emulated = dir.appendingPathComponent("qemu-\(bank)").path
            #expect(try run(binary, ["apply", image, "--bank", bank, "--output", native, "--format", "npy", "-q"] + extra).status == 0)
            #expect(try run(qemu, ["-cpu", model, binary, "apply", image, "--bank", bank, "--output", emulated, "--format", "npy", "-q"] + extra).status == 0)
            let names = try FileManager.default.contentsOfDirectory(atPath: native + "/chelsea-gray").filter { !$0.hasPrefix(".") }.sorted()
            #expect(!names.isEmpty)
            for name in names {
                let a = try Data(contentsOf: URL(fileURLWithPath: native + "/chelsea-gray/" + name))
                let b = try Data(contentsOf: URL(fileURLWithPath: emulated + "/chelsea-gray/" + name))
                #expect(a == b, "\(bank)/\(name) differs under \(model)")
            }
        }
    }
    #endif
}
