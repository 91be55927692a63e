import Foundation

/// A fresh temporary folder, removed when the value is released (`withTemporaryFolder`).
struct TemporaryFolder {
    let url: URL
    var path: String { url.path }

    func file(_ relative: String) -> URL { url.appendingPathComponent(relative) }

    /// Writes `bytes` at `relative`, creating parent folders.
    @discardableResult
    func write(_ relative: String, _ bytes: [UInt8]) throws -> URL {
        let target = file(relative)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: target)
        return target
    }

    @discardableResult
    func write(_ relative: String, text: String) throws -> URL { try write(relative, Array(text.utf8)) }

    /// Copies `source` to `relative`.
    @discardableResult
    func copy(_ source: URL, to relative: String) throws -> URL {
        try write(relative, [UInt8](try Data(contentsOf: source)))
    }
}

func withTemporaryFolder<R>(_ body: (TemporaryFolder) throws -> R) throws -> R {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("convbank-cli-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(TemporaryFolder(url: url))
}

func bytes(of url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }
