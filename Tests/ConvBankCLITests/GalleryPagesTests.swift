import ConvBankImageIO
import ConvBankTestSupport
import Foundation
import Testing

/// One 1×1 filter: v − 200, so that `clamp` draws the maps of 0…210 images nearly black.
private let darkBank = """
    {"name": "dark", "filters": [{"name": "neg", "weights": [[1]], "bias": -200}]}
    """

/// A 3×3 gray image whose values start at `base`.
private func image(_ base: Int) -> [UInt8] {
    TestPNG.gray8([[base, base + 1, base + 2], [base + 3, base + 4, base + 5], [base + 6, base + 7, base + 8]])
}

/// Every `src`/`href` of `html` (anchors dropped, percent-decoded) exists under `root`.
private func expectLinksResolve(_ html: String, under root: URL, _ page: String) {
    for url in htmlAttributes("src", in: html) + htmlAttributes("href", in: html) {
        let path = String(url.prefix { $0 != "#" }).removingPercentEncoding ?? ""
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path), "\(page): \(url) does not resolve")
    }
}

/// `apply --gallery` over more inputs than a page holds: pages, their links, resume, shards, the thumbnails' folder
/// and stale files, through the real binary.
@Suite("apply --gallery: pages and thumbnails")
struct GalleryPagesTests {
    static let letters = ["a", "b", "c", "d", "e", "f", "g"]

    /// 7 inputs at 2 a page: `index.html` and pages 2…4, linked both ways, the last input one link from the first
    /// page; a resumed run writes the same pages; a later run of 3 inputs removes pages 3 and 4.
    @Test func pagesResumeAndFewerInputs() throws {
        try withTemporaryFolder { dir in
            for (i, letter) in Self.letters.enumerated() { try dir.write("\(letter).png", image(i * 10)) }
            try dir.write("bank.json", text: darkBank)
            let arguments = { (inputs: [String]) in ["apply"] + inputs.map { $0 + ".png" } + ["--bank", "bank.json", "--output", "out", "--gallery", "--gallery-page-size", "2"] }
            let first = try CLI.run(arguments(Self.letters), in: dir.url)
            #expect(first.status == 0, "\(first)")
            let pages = ["index.html", "index.page-2.html", "index.page-3.html", "index.page-4.html"]
            #expect(filesUnder(dir.file("out")).filter { $0.hasSuffix(".html") } == pages)
            var texts: [String] = []
            for (k, page) in pages.enumerated() {
                let html = try String(contentsOf: dir.file("out/" + page), encoding: .utf8)
                texts.append(html)
                expectLinksResolve(html, under: dir.file("out"), page)
                #expect(occurrences(of: "<section class=\"input\"", in: html) == (k == 3 ? 1 : 2), "\(page)")
                #expect(html.contains("<title>convbank: dark (page \(k + 1) of 4)</title>"), "\(page)")
                #expect(html.contains("Last input: <a href=\"index.page-4.html#input-7\">g.png</a>"), "\(page)")
                #expect(html.contains("First input: <a href=\"index.html#input-1\">a.png</a>"), "\(page)")
                if k > 0 { #expect(html.contains("<a href=\"\(pages[k - 1])\">&larr; previous</a>"), "\(page)") }
                if k < 3 { #expect(html.contains("<a href=\"\(pages[k + 1])\">next &rarr;</a>"), "\(page)") }
            }
            #expect(texts[3].contains("id=\"input-7\"") && texts[3].contains("<h2>g.png</h2>"))
            #expect(texts[0].contains("<li><a href=\"index.page-4.html\">inputs 7–7</a>: <a href=\"index.page-4.html#input-7\">g.png</a></li>"))
            #expect(!texts[1].contains("<details"), "only the first page lists every page")

            let again = try CLI.run(arguments(Self.letters), in: dir.url)
            #expect(again.status == 0 && again.stderr.contains("7 skipped"), "\(again)")
            for (page, text) in zip(pages, texts) {
                #expect(try String(contentsOf: dir.file("out/" + page), encoding: .utf8) == text, "\(page) changed on resume")
            }

            let fewer = try CLI.run(arguments(Array(Self.letters.prefix(3))), in: dir.url)
            #expect(fewer.status == 0, "\(fewer)")
            #expect(filesUnder(dir.file("out")).filter { $0.hasSuffix(".html") } == ["index.html", "index.page-2.html"])
            let index = try String(contentsOf: dir.file("out/index.html"), encoding: .utf8)
            #expect(index.contains("3 inputs on 2 pages") && index.contains("Last input: <a href=\"index.page-2.html#input-3\">c.png</a>"))
        }
    }

    /// Thumbnails are part of an input's files when the gallery is on: a `--gallery` run after one without redoes
    /// the input (and writes them); a run without after one with skips it.
    @Test func resumeWithAndWithoutTheGallery() throws {
        try withTemporaryFolder { dir in
            try dir.write("a.png", image(0))
            try dir.write("bank.json", text: darkBank)
            let plain = ["apply", "a.png", "--bank", "bank.json", "--output", "out"]
            let r1 = try CLI.run(plain, in: dir.url)
            #expect(r1.status == 0 && r1.stderr.contains("1 succeeded"), "\(r1)")
            #expect(!FileManager.default.fileExists(atPath: dir.file("out/index.thumbs").path))
            let r2 = try CLI.run(plain + ["--gallery"], in: dir.url)
            #expect(r2.status == 0 && r2.stderr.contains("1 succeeded"), "\(r2)")
            #expect(FileManager.default.fileExists(atPath: dir.file("out/index.thumbs/a/neg.png").path))
            let r3 = try CLI.run(plain, in: dir.url)
            #expect(r3.status == 0 && r3.stderr.contains("1 skipped"), "\(r3)")
            // Deleting a thumbnail makes the next gallery run redo the input.
            try FileManager.default.removeItem(at: dir.file("out/index.thumbs/a/neg.png"))
            let r4 = try CLI.run(plain + ["--gallery"], in: dir.url)
            #expect(r4.status == 0 && r4.stderr.contains("1 succeeded"), "\(r4)")
            #expect(FileManager.default.fileExists(atPath: dir.file("out/index.thumbs/a/neg.png").path))
        }
    }

    /// Shards write their own pages (`index.shard-K-of-N.html`, `index.shard-K-of-N.page-2.html`, …) and share the
    /// thumbnails' folder; together they list every input once.
    @Test func shardsPageTheirOwnGalleries() throws {
        try withTemporaryFolder { dir in
            for (i, letter) in Self.letters.enumerated() { try dir.write("in/\(letter).png", image(i * 10)) }
            try dir.write("bank.json", text: darkBank)
            var titles: [String] = []
            for k in 0..<2 {
                let r = try CLI.run(["apply", "in", "--bank", "bank.json", "--output", "out", "--gallery", "--gallery-page-size", "1", "--shard", "\(k)/2"],
                                    in: dir.url)
                #expect(r.status == 0, "\(r)")
                let name = "index.shard-\(k)-of-2"
                let pages = filesUnder(dir.file("out")).filter { $0.hasPrefix(name) }
                #expect(pages.first == name + ".html" && pages.dropFirst().allSatisfy { $0.hasPrefix(name + ".page-") }, "\(pages)")
                for page in pages {
                    let html = try String(contentsOf: dir.file("out/" + page), encoding: .utf8)
                    expectLinksResolve(html, under: dir.file("out"), page)
                    titles += html.components(separatedBy: "<h2>").dropFirst().map { String($0.prefix { $0 != "<" }) }
                }
            }
            #expect(titles.sorted() == Self.letters.map { "in/\($0).png" })
            #expect(!FileManager.default.fileExists(atPath: dir.file("out/index.html").path))
            #expect(filesUnder(dir.file("out/index.thumbs")) == Self.letters.map { "\($0)/neg.png" })
        }
    }

    /// `index.thumbs` is the run's: an input folder or file of that name at the top gets `-2`, as other run-file
    /// names do, and every link still resolves.
    @Test func theThumbnailFolderNameIsReserved() throws {
        try withTemporaryFolder { dir in
            try dir.write("in/index.thumbs/a.png", image(0))
            try dir.write("in/b.png", image(10))
            try dir.write("index.thumbs.png", image(20))
            try dir.write("bank.json", text: darkBank)
            let r = try CLI.run(["apply", "in", "index.thumbs.png", "--bank", "bank.json", "--output", "out", "--gallery"], in: dir.url)
            #expect(r.status == 0, "\(r)")
            let maps = ["b/neg.png", "index.thumbs-2/a/neg.png", "index.thumbs-3/neg.png"]
            #expect(filesUnder(dir.file("out")) == (["index.html"] + maps + maps.map { "index.thumbs/" + $0 }).sorted())
            let html = try String(contentsOf: dir.file("out/index.html"), encoding: .utf8)
            expectLinksResolve(html, under: dir.file("out"), "index.html")
        }
    }

    /// Temporaries a killed run left of a page or a thumbnail go; one of a live process stays.
    @Test func staleTemporariesOfPagesAndThumbnailsGo() throws {
        try withTemporaryFolder { dir in
            try dir.write("a.png", image(0))
            try dir.write("bank.json", text: darkBank)
            let dead = ["out/.index.page-3.html.tmp-999999-1", "out/index.thumbs/a/.neg.png.tmp-999999-2", "out/.index.html.tmp-999999-3"]
            let live = "out/.index.page-5.html.tmp-\(getpid())-4"
            for name in dead + [live] { try dir.write(name, [1, 2, 3]) }
            let r = try CLI.run(["apply", "a.png", "--bank", "bank.json", "--output", "out", "--gallery"], in: dir.url)
            #expect(r.status == 0, "\(r)")
            for name in dead { #expect(!FileManager.default.fileExists(atPath: dir.file(name).path), "\(name) is left") }
            #expect(FileManager.default.fileExists(atPath: dir.file(live).path))
        }
    }

    /// Maps no browser shows (TIFF) get PNG thumbnails, and the page links to the `.tif` files; a flat layout's
    /// thumbnails mirror its files (`index.thumbs/<key>.<map>.png`).
    @Test func tiffMapsAndTheFlatLayoutGetThumbnails() throws {
        try withTemporaryFolder { dir in
            try dir.write("in/sub/a.png", image(0))
            try dir.write("bank.json", text: darkBank)
            let tiff = try CLI.run(["apply", "in", "--bank", "bank.json", "-o", "tiff", "--format", "tiff", "--gallery"], in: dir.url)
            #expect(tiff.status == 0, "\(tiff)")
            #expect(filesUnder(dir.file("tiff")) == ["index.html", "index.thumbs/sub/a/neg.png", "sub/a/neg.tif"])
            let html = try String(contentsOf: dir.file("tiff/index.html"), encoding: .utf8)
            #expect(htmlAttributes("src", in: html) == ["index.thumbs/sub/a/neg.png"] && htmlAttributes("href", in: html) == ["sub/a/neg.tif"])
            let flat = try CLI.run(["apply", "in", "--bank", "sobel", "-o", "flat", "--layout", "flat", "--gallery"], in: dir.url)
            #expect(flat.status == 0, "\(flat)")
            #expect(filesUnder(dir.file("flat")) == ["index.html", "index.thumbs/sub/a.sobel_x.png", "index.thumbs/sub/a.sobel_y.png",
                                                    "sub/a.sobel_x.png", "sub/a.sobel_y.png"])
            expectLinksResolve(try String(contentsOf: dir.file("flat/index.html"), encoding: .utf8), under: dir.file("flat"), "flat")
        }
    }

    /// A `--per-channel` colour result gets a colour thumbnail, one stretch over its three channels: the channel
    /// holding the largest value reaches 255, the one holding the smallest 0.
    @Test func colourResultsGetColourThumbnails() throws {
        try withTemporaryFolder { dir in
            let photo = CLI.sampleImages.appendingPathComponent("coffee.png").path
            let r = try CLI.run(["apply", photo, "--bank", "gaussian:sigma=1", "--per-channel", "-o", "out", "--gallery", "-q"], in: dir.url)
            #expect(r.status == 0, "\(r)")
            let names = filesUnder(dir.file("out/index.thumbs"))
            #expect(names.count == 1, "\(names)")
            let thumbnail = try ImageCodec.decode(path: dir.file("out/index.thumbs/" + names[0]).path).tensor
            #expect(thumbnail.channels == 3 && thumbnail.width == 256 && thumbnail.height == 171, "\(thumbnail.width)×\(thumbnail.height)×\(thumbnail.channels)")
            let planes = (0..<3).map { c in (0..<(thumbnail.width * thumbnail.height)).map { thumbnail.storage[c * thumbnail.width * thumbnail.height + $0] } }
            #expect(planes.contains { $0.max() == 255 } && planes.contains { $0.min() == 0 })
            #expect(planes[0] != planes[1] || planes[1] != planes[2], "the thumbnail is gray")
        }
    }

    /// A photo filtered as a stream (the default) and whole (with `--sheet`) gets the same thumbnails, byte for byte;
    /// under clamp most of a Sobel map is black, its thumbnail spans 0…255.
    @Test func streamedAndWholeInputsGetTheSameThumbnails() throws {
        try withTemporaryFolder { dir in
            let photo = CLI.sampleImages.appendingPathComponent("chelsea.png").path
            let streamed = try CLI.run(["apply", photo, "--bank", "sobel", "--output", "streamed", "--gallery", "-q"], in: dir.url)
            let whole = try CLI.run(["apply", photo, "--bank", "sobel", "--output", "whole", "--gallery", "--sheet", "-q"], in: dir.url)
            #expect(streamed.status == 0 && whole.status == 0, "\(streamed)\n\(whole)")
            let thumbnails = filesUnder(dir.file("streamed/index.thumbs"))
            #expect(thumbnails == ["chelsea/sobel_x.png", "chelsea/sobel_y.png"])
            for name in thumbnails {
                let a = try Data(contentsOf: dir.file("streamed/index.thumbs/" + name)), b = try Data(contentsOf: dir.file("whole/index.thumbs/" + name))
                #expect(a == b, "\(name) differs between the streamed and the whole run")
                #expect(a.count < 80_000, "\(name): \(a.count) bytes")
                let png = try ImageCodec.decode(bytes: Array(a), path: name).tensor
                #expect(png.width == 256 && png.height == 170 && png.channels == 1, "\(name): \(png.width)×\(png.height)")
                #expect(png.storage.min() == 0 && png.storage.max() == 255, "\(name) is not stretched")
            }
        }
    }
}
