import Foundation
import Testing

/// Inputs that are not regular files must fail alone and at once: a named pipe would otherwise block the batch
/// forever, a link to `/dev/zero` read forever.
@Suite("Special files") struct SpecialFilesTests {
    @Test func fifoAndDeviceFailWithoutBlocking() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("special-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: input, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: CLI.sampleImages.appendingPathComponent("chelsea-gray.png"), to: input.appendingPathComponent("good.png"))
        #expect(mkfifo(input.appendingPathComponent("pipe.png").path, 0o644) == 0)
        try FileManager.default.createSymbolicLink(atPath: input.appendingPathComponent("zero.png").path, withDestinationPath: "/dev/zero")
        let out = dir.appendingPathComponent("out")
        let r = try CLI.run(["apply", input.path, "--bank", "identity", "--output", out.path, "-q"])
        #expect(r.status == 1, "\(r)")
        #expect(r.errorLines.count == 2, "\(r)")
        #expect(r.errorLines.allSatisfy { $0.contains("not a regular file") }, "\(r)")
        #expect(filesUnder(out) == ["good/identity.png"])
    }
}
