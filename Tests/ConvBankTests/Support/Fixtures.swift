import Foundation

/// Paths of committed fixtures.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")
    static var conv: URL { root.appendingPathComponent("conv") }
    static var decode: URL { root.appendingPathComponent("decode") }
    static var formats: URL { root.appendingPathComponent("formats") }
    static var testdata: URL { root.appendingPathComponent("testdata") }
    static var repository: URL { root.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }

    static func bytes(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }

    static func json(_ url: URL) throws -> Any { try JSONSerialization.jsonObject(with: Data(contentsOf: url)) }
}
