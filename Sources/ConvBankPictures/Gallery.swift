import ConvBankEngine
import ConvBankImageIO

/// Static HTML pages (`index.html`, and for a large run `index.page-2.html`, …) showing every input's maps as
/// thumbnails, for browsing a run's output.
///
/// Pages are HTML5 with inline CSS only: no script, no external URL, so they work opened from the file system
/// (`file://`) with no server and no network. One section per input: its path, an error line if it failed, a link to
/// its contact sheet if there is one, then each map as a picture linking to the full-size file, with the filter name
/// and the map's min, max and mean. A map's picture is its thumbnail (`Thumbnail`: small, stretched over the map's
/// range) when the entry names one, loaded lazily (`loading="lazy"`, with its `width` and `height` so the page does
/// not reflow), else the map file itself. All text is HTML-escaped; file paths are percent-encoded (their bytes on
/// disk, everything but `A–Z a–z 0–9 - . _ ~ /`), so names with spaces, `#`, `?`, `%`, non-ASCII letters or bytes that
/// are not UTF-8 work; such bytes show in titles as `\xHH` (`FileSystem.display`).
///
/// A run with many inputs is split into pages (`Page`): each page starts with links to the first and the last input
/// and a row of page links (the first, the previous, nearby pages, the next, the last); the first page also lists
/// every page with the first and last input on it. Sections carry `id="input-N"` (N counts from 1 over the run), so
/// any input is one link away from the first page.
public enum Gallery {
    /// One map of one input.
    public struct MapEntry: Sendable {
        /// The filter's name.
        public var name: String
        /// The map's file, relative to `index.html`, with `/` between folders (not percent-encoded).
        public var file: String
        /// The map's numbers (before normalisation).
        public var statistics: MapStatistics
        /// The map's thumbnail, relative to `index.html` like `file`, and its size in pixels when known; nil: the
        /// page shows the map file itself.
        public var thumbnail: String?, thumbnailSize: Extent2D?

        /// A map entry; `file` (and `thumbnail`) are relative to `index.html`.
        public init(name: String, file: String, statistics: MapStatistics, thumbnail: String? = nil, thumbnailSize: Extent2D? = nil) {
            self.name = name
            self.file = file
            self.statistics = statistics
            self.thumbnail = thumbnail
            self.thumbnailSize = thumbnailSize
        }
    }

    /// One input image.
    public struct Row: Sendable {
        /// The input path as given on the command line.
        public var title: String
        /// The contact sheet's file relative to `index.html`, if one was written.
        public var sheet: String?
        /// A network's per-layer contact sheets (`apply --layers … --sheet`): each layer's name and its sheet's file
        /// relative to `index.html`, in layer order.
        public var layerSheets: [(layer: String, file: String)] = []
        /// The maps in bank order (empty when the input failed).
        public var maps: [MapEntry]
        /// Why the input failed, if it did.
        public var error: String?
        /// The input's number in the run, from 1: its section's anchor is `input-N` (none when nil).
        public var number: Int?

        /// An input's row: `maps` in bank order, or none and an `error` for an input that failed.
        public init(title: String, sheet: String? = nil, maps: [MapEntry], error: String? = nil, number: Int? = nil) {
            self.title = title
            self.sheet = sheet
            self.maps = maps
            self.error = error
            self.number = number
        }
    }

    /// One page of a gallery split into pages, as the navigation shows it.
    public struct Page: Sendable, Equatable {
        /// The page's file, in the same folder as every other page (not percent-encoded).
        public var file: String
        /// The numbers (from 1) of its first and last input.
        public var first: Int, last: Int
        /// The titles (input paths) of its first and last input.
        public var firstTitle: String, lastTitle: String

        /// A page holding inputs `first…last`.
        public init(file: String, first: Int, last: Int, firstTitle: String, lastTitle: String) {
            self.file = file
            self.first = first
            self.last = last
            self.firstTitle = firstTitle
            self.lastTitle = lastTitle
        }
    }

    /// How many inputs a page shows unless told otherwise.
    public static let defaultPageSize = 50

    /// The complete page.
    /// - Parameters:
    ///   - bankName: Shown in the page's title and heading.
    ///   - rows: One per input, in the order to show.
    /// - Complexity: O(total length of the text and paths).
    public static func html(bankName: String, rows: [Row]) -> String {
        header(bankName: bankName, inputs: rows.count, failed: rows.filter { $0.error != nil }.count)
            + rows.map(section).joined() + footer
    }

    /// The gallery as pages of `pageSize` rows: `(file, html)` per page, page `k`'s file `file(k)` (`k` from 1).
    /// Rows are numbered from 1 in order (their `number` is replaced), so page 1 links to every input. No rows: one
    /// page, empty.
    /// - Complexity: O(total length of the text and paths).
    public static func pages(bankName: String, rows: [Row], pageSize: Int = defaultPageSize, file: (Int) -> String) -> [(file: String, html: String)] {
        precondition(pageSize > 0, "a page shows at least one input")
        let numbered = rows.enumerated().map { i, row in
            var row = row
            row.number = i + 1
            return row
        }
        let chunks = stride(from: 0, to: max(numbered.count, 1), by: pageSize).map { Array(numbered[$0..<min($0 + pageSize, numbered.count)]) }
        let pages = chunks.enumerated().map { k, chunk in
            Page(file: file(k + 1), first: chunk.first?.number ?? 0, last: chunk.last?.number ?? 0,
                 firstTitle: chunk.first?.title ?? "", lastTitle: chunk.last?.title ?? "")
        }
        let failed = rows.filter { $0.error != nil }.count
        return chunks.enumerated().map { k, chunk in
            (pages[k].file, header(bankName: bankName, inputs: rows.count, failed: failed, page: k + 1, pages: pages)
                + chunk.map(section).joined() + footer)
        }
    }

    /// The page up to its first input: title, style and the summary line. With `section(_:)` per input and
    /// `footer`, the page is written piece by piece (the tool's `index.html` grows with the run, not in memory):
    /// `header`, then `section(_:)` of each row, then `footer` is `html(bankName:rows:)` when `inputs` is the number
    /// of rows and `failed` the number with an error.
    /// - Parameters:
    ///   - bankName: Shown in the page's title and heading.
    ///   - inputs: The number of inputs, for the summary line.
    ///   - failed: How many of them failed, for the summary line.
    ///   - page: Which page this is (from 1) when the gallery is paged.
    ///   - pages: Every page of the gallery, in order (empty or one: a single page, no navigation). Page 1 lists them
    ///     all; every page links to the first and last input and to the pages around it.
    public static func header(bankName: String, inputs: Int, failed: Int, page: Int = 1, pages: [Page] = []) -> String {
        let paged = pages.count > 1
        var html = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>convbank: \(escape(bankName))\(paged ? " (page \(page) of \(pages.count))" : "")</title>
            <style>
            \(css)
            </style>
            </head>
            <body>
            <header>
            <h1>Bank <span class="bank">\(escape(bankName))</span></h1>
            <p class="summary">\(inputs) input\(inputs == 1 ? "" : "s")\(failed > 0 ? ", \(failed) failed" : "")\
            \(paged ? " on \(pages.count) pages of \(pages[0].last - pages[0].first + 1); this is page \(page)" : ""). \
            Thumbnails are stretched over each map&#39;s own range and link to the full-size maps; numbers are each \
            map&#39;s values before normalisation.</p>

            """
        if paged {
            html += navigation(page: page, pages: pages)
            if page == 1 { html += contents(pages) }
        }
        return html + "</header>\n<main>\n"
    }

    /// Links to the first and last input, then page links: 1, the previous page, up to three pages either side, the
    /// next page and the last (a fixed number of links per page, however many pages there are).
    static func navigation(page: Int, pages: [Page]) -> String {
        func link(_ k: Int, _ text: String) -> String {
            k == page ? "<span class=\"current\">\(text)</span>" : "<a href=\"\(escape(percentEncode(pages[k - 1].file)))\">\(text)</a>"
        }
        let last = pages[pages.count - 1]
        var html = "<nav class=\"pages\">\n<p class=\"ends\">First input: <a href=\"\(escape(percentEncode(pages[0].file)))#input-1\">\(escape(FileSystem.display(pages[0].firstTitle)))</a> · "
            + "Last input: <a href=\"\(escape(percentEncode(last.file)))#input-\(last.last)\">\(escape(FileSystem.display(last.lastTitle)))</a></p>\n<p>Pages: "
        var shown: [String] = []
        if page > 1 { shown.append(link(page - 1, "&larr; previous")) }
        var previous = 0
        for k in Set([1, pages.count] + Array(max(1, page - 3)...min(pages.count, page + 3))).sorted() {
            if k > previous + 1 { shown.append("…") }
            shown.append(link(k, "\(k)"))
            previous = k
        }
        if page < pages.count { shown.append(link(page + 1, "next &rarr;")) }
        html += shown.joined(separator: " ") + "</p>\n</nav>\n"
        return html
    }

    /// Every page with the numbers and paths of its first and last input (page 1 only).
    static func contents(_ pages: [Page]) -> String {
        var html = "<details class=\"contents\"><summary>All \(pages.count) pages</summary>\n<ol>\n"
        for page in pages {
            let url = escape(percentEncode(page.file))
            html += "<li><a href=\"\(url)\">inputs \(page.first)–\(page.last)</a>: "
                + "<a href=\"\(url)#input-\(page.first)\">\(escape(FileSystem.display(page.firstTitle)))</a>"
                + (page.last > page.first ? " … <a href=\"\(url)#input-\(page.last)\">\(escape(FileSystem.display(page.lastTitle)))</a>" : "")
                + "</li>\n"
        }
        return html + "</ol>\n</details>\n"
    }

    /// The page after its last input.
    public static let footer = """
        </main>
        </body>
        </html>

        """

    static let css = """
        :root { color-scheme: light; }
        body { margin: 0; padding: 16px 24px; background: #f4f4f2; color: #1d1d1d; font: 14px/1.4 system-ui, sans-serif; }
        header h1 { margin: 0 0 4px; font-size: 20px; }
        .summary { margin: 0 0 16px; color: #555; }
        section.input { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 12px 16px; margin: 0 0 16px; }
        section.input h2 { margin: 0 0 8px; font-size: 15px; font-family: ui-monospace, monospace; word-break: break-all; }
        .error { color: #a00; background: #fff0f0; border: 1px solid #e8c0c0; padding: 6px 8px; margin: 0 0 8px; }
        .maps { display: flex; flex-wrap: wrap; gap: 12px; }
        figure { margin: 0; width: 168px; }
        figure img { display: block; width: 160px; height: 160px; object-fit: contain; background: #e8e8e8; border: 4px solid #e8e8e8; }
        figcaption { font-size: 12px; margin-top: 4px; }
        figcaption .name { font-family: ui-monospace, monospace; font-weight: 600; word-break: break-all; }
        figcaption .stats { color: #555; font-variant-numeric: tabular-nums; }
        figcaption .stats span { white-space: nowrap; }
        .sheet { margin: 0 0 8px; }
        nav.pages p { margin: 0 0 8px; }
        nav.pages a, nav.pages span.current { padding: 0 2px; }
        nav.pages span.current { font-weight: 600; }
        details.contents { margin: 0 0 16px; }
        details.contents ol { margin: 4px 0; padding-left: 40px; font-size: 12px; font-family: ui-monospace, monospace; }
        """

    /// One input's part of the page: its title, its error if it failed, its contact sheet and its maps.
    /// - Complexity: O(length of the row's text and paths).
    public static func section(_ row: Row) -> String {
        var html = "<section class=\"input\"\(row.number.map { " id=\"input-\($0)\"" } ?? "")>\n<h2>\(escape(FileSystem.display(row.title)))</h2>\n"
        if let error = row.error {
            html += "<p class=\"error\">\(escape(FileSystem.display(error)))</p>\n"
        }
        // The sheet is a link: drawn at a thumbnail's size, its 256-pixel cells and labels could not be read.
        if let sheet = row.sheet {
            html += "<p class=\"sheet\"><a href=\"\(escape(percentEncode(sheet)))\">contact sheet</a></p>\n"
        }
        if !row.layerSheets.isEmpty {
            let links = row.layerSheets.map { "<a href=\"\(escape(percentEncode($0.file)))\">\(escape(FileSystem.display($0.layer)))</a>" }
            html += "<p class=\"sheet\">contact sheets: \(links.joined(separator: " · "))</p>\n"
        }
        if !row.maps.isEmpty {
            html += "<div class=\"maps\">\n"
            for map in row.maps {
                let url = escape(percentEncode(map.file))
                let s = map.statistics
                let size = map.thumbnailSize.map { " width=\"\($0.width)\" height=\"\($0.height)\"" } ?? ""
                let image = map.thumbnail.map { "<img src=\"\(escape(percentEncode($0)))\" loading=\"lazy\" decoding=\"async\"\(size)" }
                    ?? "<img src=\"\(url)\" loading=\"lazy\" decoding=\"async\""
                html += """
                    <figure><a href="\(url)">\(image) alt="\(escape(map.name))"></a>\
                    <figcaption><span class="name">\(escape(map.name))</span><br>\
                    <span class="stats"><span>min \(number(Double(s.minimum)))</span> · <span>max \(number(Double(s.maximum)))</span> · \
                    <span>mean \(number(s.mean))</span></span></figcaption></figure>

                    """
            }
            html += "</div>\n"
        }
        return html + "</section>\n"
    }

    /// `value` as on the contact sheet, with a real minus sign.
    static func number(_ value: Double) -> String {
        let text = ContactSheet.format(value)
        return text.hasPrefix("-") ? "−" + text.dropFirst() : text
    }

    /// `text` with `&`, `<`, `>`, `"` and `'` replaced by character references: safe in element content and in
    /// quoted attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// A relative path as a URL path: every byte of its name on disk (`FileSystem.bytes(of:)`: UTF-8, and a byte
    /// that is not UTF-8 as itself) except `A–Z a–z 0–9 - . _ ~` and `/` as `%XX` (upper-case hex), so ` `, `#`,
    /// `?`, `%`, `:` and non-ASCII letters cannot change the URL's meaning.
    static func percentEncode(_ path: String) -> String {
        var out = ""
        for byte in FileSystem.bytes(of: path) {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "/"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(hex[Int(byte >> 4)])
                out.unicodeScalars.append(hex[Int(byte & 15)])
            }
        }
        return out
    }
}
