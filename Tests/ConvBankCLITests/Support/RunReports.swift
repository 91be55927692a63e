import Foundation

/// Reading what a run reports besides its maps: the closing summary line and the manifest on stderr and disk, and
/// the text of `stats.csv` and `index.html`.
enum RunReport {
    /// Complete lines in a file (0 when it is missing).
    static func lineCount(_ url: URL) -> Int {
        guard let data = FileManager.default.contents(atPath: url.path) else { return 0 }
        return data.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    }

    struct Summary: Equatable, CustomStringConvertible {
        var inputs = 0, succeeded = 0, skipped = 0, failed = 0
        var megapixels = 0.0, seconds = 0.0, rate = 0.0
        var description: String { "\(inputs) inputs: \(succeeded) succeeded, \(skipped) skipped, \(failed) failed" }
        /// The counts only.
        var counts: [Int] { [inputs, succeeded, skipped, failed] }
    }

    /// The closing summary line `N inputs: a succeeded, b skipped, c failed; X MP in T s (R MP/s)` in `text`.
    static func summary(in text: String) -> Summary? {
        let pattern = #/(\d+) inputs?: (\d+) succeeded, (\d+) skipped, (\d+) failed; ([0-9.]+) MP in ([0-9.]+) s \(([0-9.]+) MP\/s\)/#
        guard let m = text.matches(of: pattern).last else { return nil }
        return Summary(inputs: Int(m.1)!, succeeded: Int(m.2)!, skipped: Int(m.3)!, failed: Int(m.4)!,
                       megapixels: Double(m.5) ?? -1, seconds: Double(m.6) ?? -1, rate: Double(m.7) ?? -1)
    }

    /// One manifest line.
    struct ManifestLine {
        var object: [String: Any]
        var input: String { object["input"] as? String ?? "" }
        var key: String { object["key"] as? String ?? "" }
        var status: String { object["status"] as? String ?? "" }
        var outputs: [String] { object["outputs"] as? [String] ?? [] }
        var error: String? { object["error"] as? String }
    }

    struct MalformedManifest: Error, CustomStringConvertible { var description: String }

    /// Every line of a manifest, parsed (a line that is not a JSON object throws).
    static func manifest(_ url: URL) throws -> [ManifestLine] {
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        let text = String(decoding: try Data(contentsOf: url), as: UTF8.self)
        var lines: [ManifestLine] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw MalformedManifest(description: "line \(n + 1) of \(url.lastPathComponent) is not a JSON object: \(line)")
            }
            lines.append(ManifestLine(object: object))
        }
        if !text.isEmpty, !text.hasSuffix("\n") { throw MalformedManifest(description: "\(url.lastPathComponent) does not end with a newline") }
        return lines
    }
}

// MARK: - stats.csv, index.html and the numbers in them

/// An RFC 4180 CSV reader: fields separated by `,`, records by `\n` (or `\r\n`); a field in double quotes may hold
/// `,`, line breaks and `""` (one quote). Returns the records, without a trailing empty one.
func parseCSV(_ text: String) -> [[String]] {
    var records: [[String]] = []
    var record: [String] = []
    var field = ""
    var quoted = false, atFieldStart = true
    var chars = Array(text)[...]
    while let c = chars.popFirst() {
        if quoted {
            if c == "\"" {
                if chars.first == "\"" { field.append("\""); chars.removeFirst() } else { quoted = false }
            } else {
                field.append(c)
            }
            continue
        }
        switch c {
        case "\"" where atFieldStart:
            quoted = true
            atFieldStart = false
        case ",":
            record.append(field)
            field = ""
            atFieldStart = true
        case "\n", "\r\n":
            record.append(field)
            records.append(record)
            record = []
            field = ""
            atFieldStart = true
        case "\r":
            break
        default:
            field.append(c)
            atFieldStart = false
        }
    }
    if !field.isEmpty || !record.isEmpty { record.append(field); records.append(record) }
    return records
}

/// The values of every `name="…"` attribute in `html` (double-quoted), with character references
/// (`&amp; &lt; &gt; &quot; &#39;`) resolved.
func htmlAttributes(_ name: String, in html: String) -> [String] {
    var out: [String] = []
    var rest = html[...]
    let marker = " \(name)=\""
    while let start = rest.range(of: marker) {
        let after = rest[start.upperBound...]
        guard let close = after.firstIndex(of: "\"") else { break }
        out.append(htmlUnescape(String(after[..<close])))
        rest = after[after.index(after: close)...]
    }
    return out
}

func htmlUnescape(_ text: String) -> String {
    text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
        .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
        .replacingOccurrences(of: "&amp;", with: "&")
}

/// How often `needle` occurs in `text` (non-overlapping).
func occurrences(of needle: String, in text: String) -> Int {
    text.components(separatedBy: needle).count - 1
}

/// `|a − b| ≤ tolerance · max(1, |b|)`.
func approximatelyEqual(_ a: Double, _ b: Double, tolerance: Double = 1e-6) -> Bool {
    abs(a - b) <= tolerance * max(1, abs(b))
}
