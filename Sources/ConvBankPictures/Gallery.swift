import ConvBankEngine
import ConvBankImageIO

/// A static HTML page (`index.html`) showing every input's maps as thumbnails, for browsing a run's output.
///
/// The page is HTML5 with inline CSS only: no script, no external URL, so it works opened from the file system
/// (`file://`) with no server and no network. One section per input: its path, an error line if it failed, its contact
/// sheet if there is one (a thumbnail linking to the full-size sheet), then each map as a thumbnail (linking to the full-size file) with the
/// filter name and the map's min, max and mean. All text is HTML-escaped; file paths are percent-encoded (their bytes
/// on disk, everything but `A–Z a–z 0–9 - . _ ~ /`), so names with spaces, `#`, `?`, `%`, non-ASCII letters or bytes
/// that are not UTF-8 work; such bytes show in titles as `\xHH` (`FileSystem.display`).
public enum Gallery {
    /// One map of one input.
    public struct MapEntry: Sendable {
        /// The filter's name.
        public var name: String
        /// The map's file, relative to `index.html`, with `/` between folders (not percent-encoded).
        public var file: String
        /// The map's numbers (before normalisation).
        public var statistics: MapStatistics

        /// A map entry; `file` is relative to `index.html`.
        public init(name: String, file: String, statistics: MapStatistics) {
            self.name = name
            self.file = file
            self.statistics = statistics
        }
    }

    /// One input image.
    public struct Row: Sendable {
        /// The input path as given on the command line.
        public var title: String
        /// The contact sheet's file relative to `index.html`, if one was written.
        public var sheet: String?
        /// The maps in bank order (empty when the input failed).
        public var maps: [MapEntry]
        /// Why the input failed, if it did.
        public var error: String?

        /// An input's row: `maps` in bank order, or none and an `error` for an input that failed.
        public init(title: String, sheet: String? = nil, maps: [MapEntry], error: String? = nil) {
            self.title = title
            self.sheet = sheet
            self.maps = maps
            self.error = error
        }
    }

    /// The complete page.
    /// - Parameters:
    ///   - bankName: Shown in the page's title and heading.
    ///   - rows: One per input, in the order to show.
    /// - Complexity: O(total length of the text and paths).
    public static func html(bankName: String, rows: [Row]) -> String {
        header(bankName: bankName, inputs: rows.count, failed: rows.filter { $0.error != nil }.count)
            + rows.map(section).joined() + footer
    }

    /// The page up to its first input: title, style and the summary line. With `section(_:)` per input and
    /// `footer`, the page is written piece by piece (the tool's `index.html` grows with the run, not in memory):
    /// `header`, then `section(_:)` of each row, then `footer` is `html(bankName:rows:)` when `inputs` is the number
    /// of rows and `failed` the number with an error.
    /// - Parameters:
    ///   - bankName: Shown in the page's title and heading.
    ///   - inputs: The number of inputs, for the summary line.
    ///   - failed: How many of them failed, for the summary line.
    public static func header(bankName: String, inputs: Int, failed: Int) -> String {
        """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>convbank: \(escape(bankName))</title>
            <style>
            \(css)
            </style>
            </head>
            <body>
            <header>
            <h1>Bank <span class="bank">\(escape(bankName))</span></h1>
            <p class="summary">\(inputs) input\(inputs == 1 ? "" : "s")\(failed > 0 ? ", \(failed) failed" : ""). \
            Thumbnails link to the full-size maps; numbers are each map&#39;s values before normalisation.</p>
            </header>
            <main>

            """
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
        figure.sheet { width: auto; }
        figure.sheet img { width: auto; max-width: 320px; }
        """

    /// One input's part of the page: its title, its error if it failed, its contact sheet and its maps.
    /// - Complexity: O(length of the row's text and paths).
    public static func section(_ row: Row) -> String {
        var html = "<section class=\"input\">\n<h2>\(escape(FileSystem.display(row.title)))</h2>\n"
        if let error = row.error {
            html += "<p class=\"error\">\(escape(FileSystem.display(error)))</p>\n"
        }
        if row.sheet != nil || !row.maps.isEmpty {
            html += "<div class=\"maps\">\n"
        }
        if let sheet = row.sheet {
            let url = escape(percentEncode(sheet))
            html += """
                <figure class="sheet"><a href="\(url)"><img src="\(url)" alt="contact sheet"></a>\
                <figcaption><span class="name">contact sheet</span></figcaption></figure>

                """
        }
        if !row.maps.isEmpty {
            for map in row.maps {
                let url = escape(percentEncode(map.file))
                let s = map.statistics
                html += """
                    <figure><a href="\(url)"><img src="\(url)" alt="\(escape(map.name))"></a>\
                    <figcaption><span class="name">\(escape(map.name))</span><br>\
                    <span class="stats"><span>min \(number(Double(s.minimum)))</span> · <span>max \(number(Double(s.maximum)))</span> · \
                    <span>mean \(number(s.mean))</span></span></figcaption></figure>

                    """
            }
        }
        if row.sheet != nil || !row.maps.isEmpty {
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
