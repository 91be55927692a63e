import Foundation

/// Hand-made `.npy` files (NumPy format 1.0), as `numpy.save` writes them: magic, version 1.0, a little-endian
/// header length, a Python dict literal padded with spaces and ending in a newline so the data starts at a
/// multiple of 64, then the values in C order.
enum TestNPY {
    enum DType: String { case f4 = "<f4", f8 = "<f8" }

    static func encode(shape: [Int], dtype: DType = .f4, values: [Double]) -> [UInt8] {
        precondition(values.count == shape.reduce(1, *), "value count does not match the shape")
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(dtype.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        out += [UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
        out += Array(header.utf8)
        for v in values {
            switch dtype {
            case .f4:
                let bits = Float(v).bitPattern
                out += (0..<4).map { UInt8((bits >> (8 * UInt32($0))) & 0xFF) }
            case .f8:
                let bits = v.bitPattern
                out += (0..<8).map { UInt8((bits >> (8 * UInt64($0))) & 0xFF) }
            }
        }
        return out
    }
}

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
