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
    /// The full-size map behind a thumbnail: never drawn on the page.
    static let hiddenLevel: UInt8 = 31
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

        // Two solid maps and a sheet, under names that need percent-encoding; the second map has a thumbnail of
        // another colour (the page must show the thumbnail, not the map).
        let sub = dir.appendingPathComponent("my cat #1")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        var entries: [Gallery.MapEntry] = []
        for (i, level) in Self.mapLevels.enumerated() {
            let name = i == 0 ? "sobel x?.png" : "café.png"
            let samples = [UInt8](repeating: i == 0 ? level : Self.hiddenLevel, count: 48 * 32)
            try Data(try ImageCodec.encodePNG(gray8: samples, width: 48, height: 32)).write(to: sub.appendingPathComponent(name))
            var entry = Gallery.MapEntry(name: "filter \(i)", file: "my cat #1/\(name)", statistics: MapStatistics([Float(level)]))
            if i == 1 {
                let thumbnail = "thumbs #/café.png"
                try FileManager.default.createDirectory(at: dir.appendingPathComponent("thumbs #"), withIntermediateDirectories: true)
                try Data(try ImageCodec.encodePNG(gray8: [UInt8](repeating: level, count: 24 * 16), width: 24, height: 16))
                    .write(to: dir.appendingPathComponent(thumbnail))
                entry.thumbnail = thumbnail
                entry.thumbnailSize = Extent2D(height: 16, width: 24)
            }
            entries.append(entry)
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
        // The sheet is a link, not a picture (at thumbnail size its cells could not be read); the map behind a
        // thumbnail is not drawn either.
        #expect(!Self.hasBlock(of: Self.sheetColor, size: 8, in: shot), "the sheet was drawn")
        #expect(!Self.hasBlock(of: Picture.Color(gray: Self.hiddenLevel), size: 8, in: shot), "the full-size map was drawn, not its thumbnail")
        let html = try String(contentsOf: index, encoding: .utf8)
        #expect(html.contains("<a href=\"my%20cat%20%231/sheet.png\">contact sheet</a>"))
        #expect(html.contains("<img src=\"thumbs%20%23/caf%C3%A9.png\" loading=\"lazy\" decoding=\"async\" width=\"24\" height=\"16\""))
        // The check can fail: a colour that no image has is not found.
        #expect(!Self.hasBlock(of: Picture.Color(gray: 123), size: 8, in: shot))
    }

    /// A run of 1002 inputs (1000 8×8 images in ten folders and two bad files, the last input one of them) with
    /// `--gallery` through `ApplyRun`: pages of 50, `index.html` loads in Chromium within a generous bound (the real
    /// time is printed), the first and the last input are one link from it (the links resolve, in the browser too),
    /// every thumbnail exists and is small, and a map that `clamp` draws nearly black (values −200…10) has a
    /// thumbnail spanning 0…255, pixel for pixel `round(255 · (v − min) / (max − min))` from the input's values.
    @Test(.timeLimit(.minutes(20))) func thousandInputsOpenFastWithStretchedThumbnails() throws {
        let browser: String
        do {
            browser = try Chromium.executable()
        } catch {
            Issue.record("headless Chromium is needed for this test and could not be found or installed: \(error)")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("convbank-gallery-1000-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("in"), output = dir.appendingPathComponent("out")
        var random = SeededRandom(seed: 1000)
        var pixels: [String: [UInt8]] = [:]  // by key
        for i in 0..<1000 {
            let folder = input.appendingPathComponent(String(format: "%02d", i / 100))
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let samples = (0..<64).map { _ in UInt8.random(in: 0...210, using: &random) }
            let name = String(format: "img%04d", i)
            try Data(try ImageCodec.encodePNG(gray8: samples, width: 8, height: 8)).write(to: folder.appendingPathComponent(name + ".png"))
            pixels[String(format: "%02d/", i / 100) + name] = samples
        }
        try Data("not an image".utf8).write(to: input.appendingPathComponent("05/bad1.png"))
        try Data("not an image either".utf8).write(to: input.appendingPathComponent("09/zzz-bad.png"))

        // map = pixel − 200: under clamp, levels 0…10 only.
        let bank = FilterBank(name: "dark", filters: [Filter(name: "minus200", kernel: Extent2D(1), channels: 1, weights: [1], bias: -200)])
        var settings = ApplySettings()
        settings.jobs = 2
        let run = try ApplyRun(bank: bank, settings: settings, inputs: [input.path], output: output.path, gallery: true)
        let started = Date()
        var statuses: [ItemReport.Status] = []
        _ = run.run { event in if let report = event.report { statuses.append(report.status) } }
        let runSeconds = Date().timeIntervalSince(started)
        #expect(statuses.count == 1002 && statuses.filter { $0 == .failed }.count == 2)

        // Pages: index.html, index.page-2.html … index.page-21.html, nothing more.
        let pageFiles = (1...21).map { run.runFiles.galleryPage($0) }
        #expect(pageFiles[0] == "index.html" && pageFiles[20] == "index.page-21.html")
        let written = try FileManager.default.contentsOfDirectory(atPath: output.path).filter { $0.hasSuffix(".html") }
        #expect(Set(written) == Set(pageFiles))
        var images = 0, thumbnailBytes: [Int] = []
        for page in pageFiles {
            let html = try String(contentsOf: output.appendingPathComponent(page), encoding: .utf8)
            for tag in html.components(separatedBy: "<img ").dropFirst() {
                images += 1
                #expect(tag.contains("loading=\"lazy\"") && tag.contains("width=\"8\" height=\"8\""), "\(tag.prefix(200))")
            }
            // Every link and picture resolves to a file of the output folder.
            for url in Self.attributes("src", in: html) + Self.attributes("href", in: html) {
                let path = String(url.prefix { $0 != "#" }).removingPercentEncoding ?? ""
                #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent(path).path), "\(page): \(url)")
                if url.hasPrefix(RunFiles.thumbnailFolder + "/"), html.contains("src=\"\(url)\"") {
                    thumbnailBytes.append(try Data(contentsOf: output.appendingPathComponent(path)).count)
                }
            }
            #expect(html.components(separatedBy: "<section class=\"input\"").count - 1 == (page == pageFiles[20] ? 2 : 50))
        }
        #expect(images == 1000 && thumbnailBytes.count == 1000)
        #expect(thumbnailBytes.allSatisfy { $0 < 300 }, "largest thumbnail: \(thumbnailBytes.max() ?? 0) bytes")

        // The first and the last input, one link from index.html.
        let index = try String(contentsOf: output.appendingPathComponent("index.html"), encoding: .utf8)
        let ends = try #require(index.components(separatedBy: "<p class=\"ends\">").dropFirst().first?.prefix { $0 != "\n" })
        let links = Self.attributes("href", in: String(ends))
        #expect(links == ["index.html#input-1", "index.page-21.html#input-1002"], "\(ends)")
        #expect(index.contains("<section class=\"input\" id=\"input-1\">\n<h2>\(input.path)/00/img0000.png</h2>"))
        let lastPage = try String(contentsOf: output.appendingPathComponent("index.page-21.html"), encoding: .utf8)
        #expect(lastPage.contains("<section class=\"input\" id=\"input-1002\">\n<h2>\(input.path)/09/zzz-bad.png</h2>\n<p class=\"error\">"))
        #expect(index.contains("<a href=\"index.page-21.html\">inputs 1001–1002</a>"))

        // The stretch, by hand: thumbnail = round(255 · (v − min) / (max − min)) of v = pixel − 200.
        for key in ["00/img0000", "05/img0517", "09/img0999"] {
            let values = pixels[key]!.map { Double($0) - 200 }
            let lo = values.min()!, hi = values.max()!
            let thumbnail = try ImageCodec.decode(path: output.appendingPathComponent("\(RunFiles.thumbnailFolder)/\(key)/minus200.png").path).tensor
            #expect(thumbnail.width == 8 && thumbnail.height == 8 && thumbnail.channels == 1)
            #expect(thumbnail.storage == values.map { Float((255 * ($0 - lo) / (hi - lo)).rounded()) }, "\(key)")
            #expect(thumbnail.storage.min() == 0 && thumbnail.storage.max() == 255, "\(key)")
            let map = try ImageCodec.decode(path: output.appendingPathComponent("\(key)/minus200.png").path).tensor
            #expect(map.storage.max()! <= 10, "the map itself is nearly black under clamp")
        }

        // In the browser: index.html inside a frame of a measuring page, timed from the page's start to the frame's
        // load event (a generous bound; the real figure is printed).
        let harness = dir.appendingPathComponent("harness.html")
        try """
            <!DOCTYPE html><html><head><meta charset="utf-8"><script>const t0 = performance.now();</script></head><body>
            <iframe src="out/index.html" style="width:1200px;height:900px" onload="document.getElementById('t').textContent = 'loaded ' + (performance.now() - t0).toFixed(1)"></iframe>
            <p id="t">pending</p></body></html>
            """.write(to: harness, atomically: true, encoding: .utf8)
        let flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
                     "--user-data-dir=\(dir.appendingPathComponent("profile").path)", "--window-size=1200,900", "--dump-dom"]
        let clock = Date()
        let timed = try Chromium.run(browser, arguments: flags + [harness.absoluteString], timeout: 120)
        let browserSeconds = Date().timeIntervalSince(clock)
        let milliseconds = timed.output.components(separatedBy: "<p id=\"t\">loaded ").dropFirst().first.flatMap { Double($0.prefix { $0 != "<" }) }
        #expect(milliseconds != nil, "no load time in the dumped page: \(timed.output.suffix(1500))")
        if let milliseconds { #expect(milliseconds < 3000, "index.html took \(milliseconds) ms to load") }
        print("gallery of 1002 inputs: run \(String(format: "%.2f", runSeconds)) s; index.html loaded in \(milliseconds.map { String($0) } ?? "?") ms "
              + "(Chromium start to exit \(String(format: "%.2f", browserSeconds)) s); \(Set(thumbnailBytes).count) thumbnail sizes, largest \(thumbnailBytes.max() ?? 0) bytes")

        // The last input's link, followed in the browser, shows its section.
        let target = URL(string: links[1], relativeTo: output.appendingPathComponent("index.html"))!.absoluteURL
        let last = try Chromium.run(browser, arguments: flags + [target.absoluteString], timeout: 120)
        #expect(last.output.contains("id=\"input-1002\"") && last.output.contains("zzz-bad.png"), "\(last.output.suffix(1500))")
    }

    /// The values of every `name="…"` attribute in `html`.
    static func attributes(_ name: String, in html: String) -> [String] {
        html.components(separatedBy: " \(name)=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
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
