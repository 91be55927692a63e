import ConvBankTestSupport
import Foundation
import Testing
@testable import ConvBankBatch
@testable import ConvBankEngine
@testable import ConvBankImageIO
@testable import ConvBankPictures

/// Renders a gallery page in a real browser (headless Chromium) and checks that the images were drawn.
///
/// Chromium is Debian's `chromium` package: when missing, the test installs it with `apt-get` (as root, bounded
/// by a time limit); when it cannot (not root, no network), the test fails and says so — it never passes silently.
@Suite(.serialized) struct GalleryBrowserTests {
    /// Distinctive colours: no text, border or background of the page uses them.
    static let mapLevels: [UInt8] = [77, 173]
    static let sheetColor = Picture.Color(200, 60, 120)

    @Test(.timeLimit(.minutes(20))) func galleryRendersImagesInChromium() throws {
        let browser: String
        do {
            browser = try Chromium.executable()
        } catch {
            Issue.record("headless Chromium is needed for this test and could not be found or installed: \(error)")
            return
        }

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("convbank-gallery-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }

        // Two solid maps and a sheet, under names that need percent-encoding.
        let sub = dir.appendingPathComponent("my cat #1")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        var entries: [Gallery.MapEntry] = []
        for (i, level) in Self.mapLevels.enumerated() {
            let name = i == 0 ? "sobel x?.png" : "café.png"
            let samples = [UInt8](repeating: level, count: 48 * 32)
            try Data(try ImageCodec.encodePNG(gray8: samples, width: 48, height: 32)).write(to: sub.appendingPathComponent(name))
            entries.append(Gallery.MapEntry(name: "filter \(i)", file: "my cat #1/\(name)", statistics: MapStatistics([Float(level)])))
        }
        let sheet = Picture(width: 300, height: 120, filling: Self.sheetColor)
        try Data(try sheet.pngBytes()).write(to: sub.appendingPathComponent("sheet.png"))
        let rows = [
            Gallery.Row(title: "photos/my cat #1.png", sheet: "my cat #1/sheet.png", maps: entries),
            Gallery.Row(title: "photos/broken.jpg", maps: [], error: "cannot decode 'photos/broken.jpg': JPEG: Premature end"),
        ]
        let index = dir.appendingPathComponent("index.html")
        try Gallery.html(bankName: "test bank", rows: rows).write(to: index, atomically: true, encoding: .utf8)

        let screenshot = dir.appendingPathComponent("shot.png")
        let profile = dir.appendingPathComponent("profile")
        let result = try Chromium.run(browser, arguments: [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--no-default-browser-check", "--hide-scrollbars", "--force-device-scale-factor=1",
            "--user-data-dir=\(profile.path)", "--screenshot=\(screenshot.path)", "--window-size=1200,900",
            index.absoluteString,
        ], timeout: 120)
        guard FileManager.default.fileExists(atPath: screenshot.path) else {
            Issue.record("chromium wrote no screenshot (status \(result.status)): \(result.output.suffix(2000))")
            return
        }
        let shot = try ImageCodec.decode(path: screenshot.path).tensor
        #expect(shot.width == 1200 && shot.height == 900)

        for level in Self.mapLevels {
            let color = Picture.Color(gray: level)
            #expect(Self.hasBlock(of: color, size: 24, in: shot), "no 24×24 block of gray \(level): the map thumbnail was not drawn")
        }
        #expect(Self.hasBlock(of: Self.sheetColor, size: 24, in: shot), "no 24×24 block of the sheet's colour: its thumbnail was not drawn")
        // The check can fail: a colour that no image has is not found.
        #expect(!Self.hasBlock(of: Picture.Color(gray: 123), size: 8, in: shot))
    }

    /// Whether `shot` holds a `size × size` square of exactly `color`.
    static func hasBlock(of color: Picture.Color, size: Int, in shot: Tensor) -> Bool {
        guard shot.channels >= 3 else { return false }
        let target = [Float(color.red), Float(color.green), Float(color.blue)]
        func matches(_ x: Int, _ y: Int) -> Bool { (0..<3).allSatisfy { shot[y, x, $0] == target[$0] } }
        for y in 0...(shot.height - size) {
            for x in 0...(shot.width - size) where matches(x, y) {
                if (0..<size).allSatisfy({ dy in (0..<size).allSatisfy { dx in matches(x + dx, y + dy) } }) { return true }
            }
        }
        return false
    }
}

/// Finding, installing and running Debian's `chromium`, each step bounded in time.
enum Chromium {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The path of a Chromium binary, installing Debian's `chromium` package first if there is none.
    static func executable() throws -> String {
        if let found = find() { return found }
        guard getuid() == 0 else {
            throw Failure(description: "chromium is not installed and this is not root: run `sudo apt-get install chromium`")
        }
        let environment = ["DEBIAN_FRONTEND": "noninteractive"]
        let update = try run("/usr/bin/apt-get", arguments: ["update"], timeout: 300, environment: environment)
        guard update.status == 0 else {
            throw Failure(description: "`apt-get update` failed (status \(update.status)): \(update.output.suffix(1500))")
        }
        let install = try run("/usr/bin/apt-get", arguments: ["install", "-y", "--no-install-recommends", "chromium"],
                              timeout: 600, environment: environment)
        guard install.status == 0 else {
            throw Failure(description: "`apt-get install chromium` failed (status \(install.status)): \(install.output.suffix(1500))")
        }
        guard let found = find() else { throw Failure(description: "`apt-get install chromium` succeeded but no chromium binary was found") }
        return found
    }

    static func find() -> String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/lib/chromium/chromium"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    /// Runs `path` with `arguments`, standard output and error as one stream; after `timeout` seconds the process
    /// group is sent SIGTERM, then SIGKILL 5 s later. A timed-out run is an error.
    static func run(_ path: String, arguments: [String], timeout: TimeInterval,
                    environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let outcome = try ProcessRunner.run(ProcessRunner.Command(
            path, arguments, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
            standardError: .standardOutput, timeout: timeout, terminationGrace: 5))
        let output = outcome.stdoutText
        if outcome.timedOut {
            throw Failure(description: "`\(path) \(arguments.joined(separator: " "))` did not finish in \(Int(timeout)) s: \(output.suffix(1500))")
        }
        return (outcome.status, output)
    }
}
