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

    /// The HDF5 files that still crash, loop or exhaust memory inside libhdf5 (`fuzz/known/`, found by `make fuzz`)
    /// are read in a child process under a memory and time limit: each is one error line naming the file, exit 64,
    /// through `import`, `--bank` and `kernels`, and nothing is left running.
    @Test func libhdf5FailuresAreOneLine() throws {
        let known = CLI.repository.appendingPathComponent("fuzz/known")
        let files = try FileManager.default.contentsOfDirectory(atPath: known.path).filter { $0.hasSuffix(".h5") }.sorted()
        #expect(files.count >= 5)
        for file in files {
            let path = known.appendingPathComponent(file).path
            for command in [["import", path, "--list"], ["summary", "--bank", path], ["kernels", "--bank", path, "-o", "/nonexistent/k.png"]] {
                let r = try CLI.run(command)
                #expect(r.status == 64, "\(command): \(r)")
                let lines = r.stderr.split(separator: "\n")
                #expect(lines.count == 1 && lines[0].contains(file), "\(command): \(r.stderr)")
            }
        }
    }

    /// `explain --preprocess` replaces the network's own preprocessing exactly as writing it into the file does.
    @Test func explainPreprocessEqualsTheFileSetting() throws {
        try withTemporaryFolder { dir in
            let network = CLI.repository.appendingPathComponent("examples/mtcnn/pnet.json")
            var text = try String(contentsOf: network, encoding: .utf8)
            let range = text.range(of: #""preprocess": {"scale": [0.0078125, 0.0078125, 0.0078125], "offset": [-0.99609375, -0.99609375, -0.99609375], "bgr": false}"#)
            #expect(range != nil)
            guard let range else { return }
            text.replaceSubrange(range, with: #""preprocess": "tf""#)
            let edited = try dir.write("tf.json", text: text).path
            let arguments = ["--layer", "conv2", "--at", "3,4", "--filter", "2"]
            let given = try CLI.run(["explain", "--bank", network.path, Self.image, "--preprocess", "tf"] + arguments)
            let inFile = try CLI.run(["explain", "--bank", edited, Self.image] + arguments)
            let own = try CLI.run(["explain", "--bank", network.path, Self.image] + arguments)
            #expect(given.status == 0 && inFile.status == 0 && own.status == 0, "\(given) \(inFile)")
            #expect(given.stdout == inFile.stdout)
            #expect(given.stdout != own.stdout)
            let bad = try CLI.run(["explain", "--bank", network.path, Self.image, "--preprocess", "yolo"] + arguments)
            #expect(bad.status == 64)
        }
    }

    /// A dataset whose values live in another file (HDF5 external storage, a virtual dataset) is refused, never read:
    /// a model file must not make convbank read other files on disk (`scripts/make_hostile_hdf5.py`).
    @Test(arguments: ["external_storage.h5", "virtual.h5"])
    func valuesOutsideTheFileAreRefused(file: String) throws {
        let path = CLI.repository.appendingPathComponent("Tests/ConvBankTests/Fixtures/keras/\(file)").path
        let r = try CLI.run(["import", path, "--layer", "conv/kernel"])
        #expect(r.status == 64, "\(r)")
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains("keeps its values outside the file") && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    }

    /// A model's layer named "../../escaped" still writes its maps inside the output folder (as "_._.._escaped"),
    /// and a model file whose name starts with '-' is checked as a file, not read as a flag.
    @Test func hostileNamesStayInside() throws {
        try withTemporaryFolder { dir in
            let model = CLI.repository.appendingPathComponent("Tests/ConvBankTests/Fixtures/keras/traversal.keras").path
            let out = dir.file("a/b/out")
            let r = try CLI.run(["apply", Self.image, "--bank", model, "-o", out.path, "--layers", "all", "-q"])
            #expect(r.status == 0, "\(r)")
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("astronaut-64/_._.._escaped/f0.png").path))
            let outside = try FileManager.default.contentsOfDirectory(atPath: dir.file("a").path)
            #expect(outside == ["b"], "\(outside)")
            let dashed = try dir.write("-model.h5", Array(Data(contentsOf: CLI.repository.appendingPathComponent("fuzz/known/hdf5-segv-local-heap.h5"))))
            let d = try CLI.run(["import", "--list", "--", dashed.lastPathComponent], in: dir.url)
            #expect(d.status == 64 && d.stderr.contains("-model.h5"), "\(d)")
        }
    }
}
