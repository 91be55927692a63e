import ConvBankTestSupport
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// Support for `HostilePropertyTests`: file-system helpers that take byte paths (non-UTF-8 names, paths longer
// than PATH_MAX), and generators of hostile banks, parameters, image files and names. Everything a case contains
// is drawn from one `SeededRandom`, so a seed and a case number rebuild it byte for byte; the runs go through
// `ProcessRunner` (peak RSS, death by signal, a timeout, a memory and disk watchdog).

// MARK: - File system with byte paths

/// File operations on byte-string paths, one component at a time through directory descriptors, so names need
/// not be UTF-8 and paths may be longer than PATH_MAX.
enum HostileFS {
    struct Failure: Error, CustomStringConvertible { var description: String }

    static func withCString<R>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        var z = bytes
        z.append(0)
        return try z.withUnsafeBufferPointer { buffer in
            try buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { try body($0) }
        }
    }

    static func failure(_ what: String, _ name: [UInt8]) -> Failure {
        let reason = String(cString: strerror(errno))
        return Failure(description: "\(what) '\(HostileText.printable(name))': \(reason)")
    }

    /// A descriptor of the folder `components` below `root` (created when `create`); the caller closes it.
    static func openFolder(root: String, _ components: [[UInt8]], create: Bool) throws -> Int32 {
        var fd = open(root, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { throw failure("cannot open", Array(root.utf8)) }
        for component in components {
            if create { _ = withCString(component) { mkdirat(fd, $0, 0o755) } }
            let next = withCString(component) { openat(fd, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW) }
            let saved = errno
            close(fd)
            guard next >= 0 else {
                errno = saved
                throw failure("cannot open folder", component)
            }
            fd = next
        }
        return fd
    }

    static func makeFolder(root: String, _ path: [[UInt8]]) throws {
        close(try openFolder(root: root, path, create: true))
    }

    static func writeFile(root: String, _ path: [[UInt8]], _ bytes: [UInt8]) throws {
        let folder = try openFolder(root: root, Array(path.dropLast()), create: true)
        defer { close(folder) }
        let fd = withCString(path[path.count - 1]) { openat(folder, $0, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0o644) }
        guard fd >= 0 else { throw failure("cannot create", path[path.count - 1]) }
        defer { close(fd) }
        try bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                guard n > 0 else { throw failure("cannot write", path[path.count - 1]) }
                offset += n
            }
        }
    }

    static func makeSymlink(root: String, _ path: [[UInt8]], target: [UInt8]) throws {
        let folder = try openFolder(root: root, Array(path.dropLast()), create: true)
        defer { close(folder) }
        let status = withCString(target) { t in withCString(path[path.count - 1]) { symlinkat(t, folder, $0) } }
        guard status == 0 else { throw failure("cannot link", path[path.count - 1]) }
    }

    static func makeFIFO(root: String, _ path: [[UInt8]]) throws {
        let folder = try openFolder(root: root, Array(path.dropLast()), create: true)
        defer { close(folder) }
        let status = withCString(path[path.count - 1]) { mkfifoat(folder, $0, 0o644) }
        guard status == 0 else { throw failure("cannot make fifo", path[path.count - 1]) }
    }

    /// The names in an open folder (not `.` and `..`), in byte order.
    static func names(_ fd: Int32) -> [[UInt8]] {
        let copy = dup(fd)
        guard copy >= 0 else { return [] }
        guard let dir = fdopendir(copy) else {
            close(copy)
            return []
        }
        defer { closedir(dir) }
        var names: [[UInt8]] = []
        while let entry = readdir(dir) {
            let name: [UInt8] = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            if name == [0x2E] || name == [0x2E, 0x2E] { continue }
            names.append(name)
        }
        return names.sorted { $0.lexicographicallyPrecedes($1) }
    }

    enum Kind: String { case file, folder, link, other }

    struct Entry: Equatable {
        /// Components joined by `/`.
        var path: [UInt8]
        var kind: Kind
    }

    static func kind(_ mode: mode_t) -> Kind {
        switch mode & S_IFMT {
        case S_IFREG: .file
        case S_IFDIR: .folder
        case S_IFLNK: .link
        default: .other
        }
    }

    /// Every entry under `root` (links not followed), as paths relative to it; `skip` prunes a relative path
    /// and everything below it.
    static func walk(_ root: String, skip: [UInt8]? = nil) -> [Entry] {
        let fd = open(root, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var out: [Entry] = []
        walk(fd, prefix: [], skip: skip, depth: 0, into: &out)
        return out
    }

    private static func walk(_ fd: Int32, prefix: [UInt8], skip: [UInt8]?, depth: Int, into out: inout [Entry]) {
        guard depth < 200 else { return }
        for name in names(fd) {
            let path = prefix.isEmpty ? name : prefix + [0x2F] + name
            if let skip, path == skip { continue }
            var info = stat()
            guard withCString(name, { fstatat(fd, $0, &info, AT_SYMLINK_NOFOLLOW) }) == 0 else { continue }
            let k = kind(info.st_mode)
            out.append(Entry(path: path, kind: k))
            if k == .folder {
                let sub = withCString(name) { openat(fd, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW) }
                if sub >= 0 {
                    walk(sub, prefix: path, skip: skip, depth: depth + 1, into: &out)
                    close(sub)
                }
            }
        }
    }

    /// Every entry below the folder `components` of `root` (see `walk(_:skip:)`); empty when it cannot be opened.
    static func walk(root: String, below components: [[UInt8]]) -> [Entry] {
        guard let fd = try? openFolder(root: root, components, create: false) else { return [] }
        defer { close(fd) }
        var out: [Entry] = []
        walk(fd, prefix: [], skip: nil, depth: 0, into: &out)
        return out
    }

    /// The bytes of the regular file at `path` (components joined by `/`) below `root`, not following links.
    static func contents(root: String, path: [UInt8]) -> [UInt8]? {
        let components = path.split(separator: 0x2F).map(Array.init)
        guard let last = components.last, let folder = try? openFolder(root: root, Array(components.dropLast()), create: false) else { return nil }
        defer { close(folder) }
        let fd = withCString(last) { openat(folder, $0, O_RDONLY | O_NOFOLLOW | O_NONBLOCK) }
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            out += buffer[0..<n]
        }
        return out
    }

    /// Removes `path` and everything below it (links are removed, never followed).
    static func removeTree(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if kind(info.st_mode) == .folder {
            let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
            if fd >= 0 {
                removeContents(fd, depth: 0)
                close(fd)
            }
            rmdir(path)
        } else {
            unlink(path)
        }
    }

    private static func removeContents(_ fd: Int32, depth: Int) {
        guard depth < 400 else { return }
        for name in names(fd) {
            var info = stat()
            guard withCString(name, { fstatat(fd, $0, &info, AT_SYMLINK_NOFOLLOW) }) == 0 else { continue }
            if kind(info.st_mode) == .folder {
                let sub = withCString(name) { openat(fd, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW) }
                if sub >= 0 {
                    removeContents(sub, depth: depth + 1)
                    close(sub)
                }
                _ = withCString(name) { unlinkat(fd, $0, AT_REMOVEDIR) }
            } else {
                _ = withCString(name) { unlinkat(fd, $0, 0) }
            }
        }
    }
}

// MARK: - Text

enum HostileText {
    /// `bytes` as text for messages: valid UTF-8 as is (control characters escaped), other bytes as `\xHH`.
    static func printable(_ bytes: [UInt8]) -> String {
        var out = ""
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b >= 0x20 && b < 0x7F && b != 0x5C {
                out.unicodeScalars.append(UnicodeScalar(b))
                i += 1
                continue
            }
            if b >= 0xC2, let (scalar, length) = decodeScalar(bytes, at: i) {
                out.unicodeScalars.append(scalar)
                i += length
                continue
            }
            switch b {
            case 0x0A: out += "\\n"
            case 0x09: out += "\\t"
            case 0x5C: out += "\\\\"
            default: out += String(format: "\\x%02X", b)
            }
            i += 1
        }
        return out
    }

    private static func decodeScalar(_ bytes: [UInt8], at i: Int) -> (UnicodeScalar, Int)? {
        let b = bytes[i]
        let length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2
        guard b < 0xF5, i + length <= bytes.count else { return nil }
        let slice = Array(bytes[i..<(i + length)])
        guard let s = String(validating: slice, as: UTF8.self), let scalar = s.unicodeScalars.first,
              s.unicodeScalars.count == 1 else { return nil }
        return (scalar, length)
    }

    /// One shell word: `'…'` for printable ASCII, else bash's `$'…'` with `\xHH` escapes.
    static func shellWord(_ bytes: [UInt8]) -> String {
        if !bytes.isEmpty, bytes.allSatisfy({ ($0 >= 0x20 && $0 < 0x7F) }) {
            let text = String(decoding: bytes, as: UTF8.self)
            if text.allSatisfy({ $0.isLetter || $0.isNumber || "-_./,:=+%@".contains($0) }) { return text }
            return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }
        var out = "$'"
        for b in bytes {
            switch b {
            case 0x27: out += "\\'"
            case 0x5C: out += "\\\\"
            case 0x20..<0x7F: out.unicodeScalars.append(UnicodeScalar(b))
            default: out += String(format: "\\x%02X", b)
            }
        }
        return out + "'"
    }

    static func command(_ arguments: [[UInt8]]) -> String { arguments.map(shellWord).joined(separator: " ") }

    /// A JSON string literal.
    static func json(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }

    /// Every `zq<digits>zq` token in `bytes`.
    static func tokens(in bytes: [UInt8]) -> Set<[UInt8]> {
        var out = Set<[UInt8]>()
        var i = 0
        while i + 4 < bytes.count {
            if bytes[i] == 0x7A, bytes[i + 1] == 0x71 {
                var j = i + 2
                while j < bytes.count, bytes[j] >= 0x30, bytes[j] <= 0x39 { j += 1 }
                if j > i + 2, j + 1 < bytes.count, bytes[j] == 0x7A, bytes[j + 1] == 0x71 {
                    out.insert(Array(bytes[i..<(j + 2)]))
                    i = j
                    continue
                }
            }
            i += 1
        }
        return out
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return needle.isEmpty }
        let first = needle[0]
        var i = 0
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == first {
                var j = 1
                while j < needle.count && haystack[i + j] == needle[j] { j += 1 }
                if j == needle.count { return true }
            }
            i += 1
        }
        return false
    }

    /// The first `head` and last `tail` lines of `text`, noting how many were left out.
    static func excerpt(_ bytes: [UInt8], head: Int = 14, tail: Int = 8, width: Int = 300) -> String {
        let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map { line -> String in
            let s = printable(Array(line.prefix(width)))
            return line.count > width ? s + "…(\(line.count) bytes)" : s
        }
        let trimmed = lines.last == "" ? Array(lines.dropLast()) : lines
        if trimmed.count <= head + tail { return trimmed.map { "    | " + $0 }.joined(separator: "\n") }
        return (trimmed.prefix(head).map { "    | " + $0 } + ["    | … \(trimmed.count - head - tail) more lines …"]
            + trimmed.suffix(tail).map { "    | " + $0 }).joined(separator: "\n")
    }
}

// MARK: - Image bytes

/// Valid and hostile image files.
enum HostileImages {
    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// A valid PNG of random colour type, bit depth and pixels.
    static func validPNG(_ r: inout SeededRandom, maxSide: Int) -> (bytes: [UInt8], what: String) {
        let width = r.int(1...max(1, maxSide)), height = r.int(1...max(1, maxSide))
        let color = r.pick([TestPNG.ColorType.gray, .rgb, .grayAlpha, .rgba])
        let depth = r.chance(0.25) ? 16 : 8
        let top = (1 << depth) - 1
        let style = r.below(4)
        var samples: [Int] = []
        samples.reserveCapacity(width * height * color.channels)
        for i in 0..<(width * height * color.channels) {
            switch style {
            case 0: samples.append(r.int(0...top))
            case 1: samples.append(top)
            case 2: samples.append(i % 2 == 0 ? 0 : top)
            default: samples.append((i * 37) % (top + 1))
            }
        }
        let bytes = TestPNG.encode(width: width, height: height, color: color, bitDepth: depth, samples: samples)
        return (bytes, "valid \(width)×\(height) \(color) \(depth)-bit PNG")
    }

    /// The chunks of a PNG (type, data), or nil.
    static func chunks(_ png: [UInt8]) -> [(type: [UInt8], data: [UInt8])]? {
        guard png.count >= 8, Array(png[0..<8]) == pngSignature else { return nil }
        var out: [(type: [UInt8], data: [UInt8])] = []
        var i = 8
        while i + 12 <= png.count {
            let length = Int(png[i]) << 24 | Int(png[i + 1]) << 16 | Int(png[i + 2]) << 8 | Int(png[i + 3])
            guard i + 12 + length <= png.count else { return nil }
            out.append((Array(png[(i + 4)..<(i + 8)]), Array(png[(i + 8)..<(i + 8 + length)])))
            i += 12 + length
        }
        return out
    }

    static func assemble(_ chunks: [(type: [UInt8], data: [UInt8])]) -> [UInt8] {
        var out = pngSignature
        for c in chunks { out += chunk(c.type, c.data) }
        return out
    }

    static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// CRC-32 by table (TestPNG's bitwise one is too slow for megabytes in a debug build).
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        crcTable.withUnsafeBufferPointer { table in
            for b in bytes { crc = table[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
        }
        return ~crc
    }

    static func chunk(_ type: [UInt8], _ data: [UInt8]) -> [UInt8] {
        let body = type + data
        return TestPNG.be32(UInt32(data.count)) + body + TestPNG.be32(crc32(body))
    }

    static func ihdr(width: UInt32, height: UInt32, depth: UInt8, color: UInt8, interlace: UInt8 = 0) -> [UInt8] {
        TestPNG.be32(width) + TestPNG.be32(height) + [depth, color, 0, 0, interlace]
    }

    /// A zlib stream of `count` zero bytes: fixed-Huffman deflate, one literal then length-258 matches at
    /// distance 1 (13 bits per 258 bytes), so gigabytes inflate from a few megabytes. With `truncateAfter`,
    /// the stream stops after that many output bytes, unterminated.
    static func zlibZeros(_ count: Int, truncateAfter: Int? = nil) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var accumulator: UInt64 = 0, bits = 0
        func put(_ value: UInt64, _ n: Int) {
            accumulator |= value << UInt64(bits)
            bits += n
            while bits >= 8 {
                out.append(UInt8(accumulator & 0xFF))
                accumulator >>= 8
                bits -= 8
            }
        }
        /// A Huffman code, most significant bit first.
        func code(_ value: UInt64, _ n: Int) {
            var reversed: UInt64 = 0
            for k in 0..<n where value & (1 << UInt64(k)) != 0 { reversed |= 1 << UInt64(n - 1 - k) }
            put(reversed, n)
        }
        let limit = min(count, truncateAfter ?? count)
        put(1, 1)  // BFINAL
        put(1, 2)  // BTYPE 01: fixed Huffman
        var produced = 0
        if limit > 0 {
            code(0x30, 8)  // literal 0
            produced = 1
        }
        while produced + 258 <= limit {
            put(0xA3, 13)  // length 258 (symbol 285, code 11000101) then distance 1 (code 00000), bits reversed
            produced += 258
        }
        while produced < limit {
            code(0x30, 8)
            produced += 1
        }
        if truncateAfter != nil && limit < count {
            if bits > 0 { out.append(UInt8(accumulator & 0xFF)) }
            return out
        }
        code(0, 7)  // end of block
        if bits > 0 { out.append(UInt8(accumulator & 0xFF)) }
        return out + TestPNG.be32(UInt32(1) | UInt32(count % 65521) << 16)  // Adler-32 of zeros: a = 1, b = count
    }

    /// An all-zero PNG of `width × height` whose IDAT inflates to every row (or only `rowsPresent` of them).
    static func zeroPNG(width: Int, height: Int, color: UInt8 = 0, depth: UInt8 = 8, rowsPresent: Int? = nil) -> [UInt8] {
        let channels = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][Int(color)] ?? 1
        let rowBytes = 1 + (width * channels * Int(depth) + 7) / 8
        let total = rowBytes * height
        let idat = rowsPresent.map { zlibZeros(total, truncateAfter: rowBytes * $0) } ?? zlibZeros(total)
        return assemble([(Array("IHDR".utf8), ihdr(width: UInt32(width), height: UInt32(height), depth: depth, color: color)),
                         (Array("IDAT".utf8), idat), (Array("IEND".utf8), [])])
    }

    /// `valid` with `count` copies of one chunk put right after IHDR.
    static func withChunks(_ valid: [UInt8], _ type: String, _ data: [UInt8], count: Int) -> [UInt8] {
        guard let list = chunks(valid), !list.isEmpty else { return valid }
        let one = chunk(Array(type.utf8), data)
        var out = pngSignature + chunk(list[0].type, list[0].data)
        out.reserveCapacity(out.count + one.count * count + valid.count)
        for _ in 0..<count { out += one }
        for c in list.dropFirst() { out += chunk(c.type, c.data) }
        return out
    }

    /// JPEG segments before the scan: (marker, offset of the marker, total length with marker).
    static func jpegSegments(_ jpeg: [UInt8]) -> [(marker: UInt8, offset: Int, length: Int)] {
        var out: [(marker: UInt8, offset: Int, length: Int)] = []
        guard jpeg.count > 4, jpeg[0] == 0xFF, jpeg[1] == 0xD8 else { return out }
        var i = 2
        while i + 4 <= jpeg.count, jpeg[i] == 0xFF {
            let marker = jpeg[i + 1]
            let length = Int(jpeg[i + 2]) << 8 | Int(jpeg[i + 3])
            out.append((marker, i, length + 2))
            if marker == 0xDA { break }
            i += length + 2
        }
        return out
    }

    /// `jpeg` with its frame header's height and width replaced.
    static func jpegWithSize(_ jpeg: [UInt8], width: Int, height: Int) -> [UInt8] {
        var out = jpeg
        if let sof = jpegSegments(jpeg).first(where: { (0xC0...0xCF).contains($0.marker) && ![0xC4, 0xC8, 0xCC].contains($0.marker) }),
           sof.offset + 9 <= out.count {
            out[sof.offset + 5] = UInt8((height >> 8) & 0xFF)
            out[sof.offset + 6] = UInt8(height & 0xFF)
            out[sof.offset + 7] = UInt8((width >> 8) & 0xFF)
            out[sof.offset + 8] = UInt8(width & 0xFF)
        }
        return out
    }

    /// `jpeg` with `segment` (marker + payload) inserted right after SOI.
    static func jpegInserting(_ jpeg: [UInt8], marker: UInt8, payload: [UInt8]) -> [UInt8] {
        let length = min(payload.count + 2, 0xFFFF)
        return [0xFF, 0xD8, 0xFF, marker, UInt8(length >> 8), UInt8(length & 0xFF)] + payload.prefix(length - 2) + jpeg.dropFirst(2)
    }

    /// A hostile EXIF (APP1) payload: orientation tags with wild counts, offsets and loops.
    static func hostileEXIF(_ r: inout SeededRandom) -> (payload: [UInt8], what: String) {
        let bigEndian = r.chance(0.5)
        func u16(_ v: Int) -> [UInt8] { bigEndian ? [UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] : [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
        func u32(_ v: UInt32) -> [UInt8] {
            let b = [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
            return bigEndian ? b : b.reversed()
        }
        let kind = r.below(7)
        var tiff: [UInt8] = (bigEndian ? Array("MM".utf8) : Array("II".utf8)) + u16(42)
        var what: String
        switch kind {
        case 0:
            tiff += u32(8) + u16(0xFFFF) + Array(repeating: 0, count: 12)
            what = "EXIF IFD claiming 65535 entries in 12 bytes"
        case 1:
            let orientation = r.pick([0, 9, 255, 65535, 5, 6, 7, 8])
            tiff += u32(8) + u16(1) + u16(0x0112) + u16(3) + u32(1) + u16(orientation) + u16(0) + u32(8)
            what = "EXIF orientation \(orientation), next IFD pointing at itself"
        case 2:
            tiff += u32(0xFFFF_FFF0)
            what = "EXIF first IFD offset 0xFFFFFFF0"
        case 3:
            tiff += u32(8) + u16(1) + u16(0x0112) + u16(3) + u32(0xFFFF_FFFF) + u32(0xFFFF_FFF8) + u32(0)
            what = "EXIF orientation with count 2^32-1 at offset 0xFFFFFFF8"
        case 4:
            // A chain of 2000 IFDs, each one entry long, each pointing at the next, the last at the first.
            let n = 2000
            tiff += u32(8)
            for k in 0..<n {
                let next = k == n - 1 ? 8 : 8 + (k + 1) * 18
                tiff += u16(1) + u16(0x0112) + u16(3) + u32(1) + u16(6) + u16(0) + u32(UInt32(next))
            }
            what = "EXIF chain of 2000 IFDs that loops"
        case 5:
            tiff += u32(8) + u16(1) + u16(0x8769) + u16(4) + u32(1) + u32(8) + u32(0)
            what = "EXIF sub-IFD pointer to its own IFD"
        default:
            tiff = r.bytes(r.int(0...40))
            what = "EXIF header then \(tiff.count) random bytes"
        }
        return (Array("Exif".utf8) + [0, 0] + tiff, what)
    }

    /// The scan-flood JPEG of the decoder fuzz regressions, if present.
    static func fixture(_ relative: String) -> [UInt8]? {
        let url = CLI.repository.appendingPathComponent(relative)
        return FileManager.default.contents(atPath: url.path).map { [UInt8]($0) }
    }

    static func pngSuite() -> [String] {
        let folder = CLI.testdata.appendingPathComponent("pngsuite")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".png") }.sorted()
    }

    static func jpegFixtures() -> [String] {
        let folder = CLI.testdata.appendingPathComponent("jpeg")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".jpg") }.sorted()
    }
}

/// One hostile file: its bytes (or a special kind), what it is, and how many pixels its header claims.
struct HostileFile {
    enum Special { case none, fifo, devZeroLink, danglingLink, loopLink(target: [UInt8]) }
    var bytes: [UInt8]
    var what: String
    var special: Special = .none
    /// Pixels the header declares, when the decoder may allocate (and fill) that much.
    var declaredPixels = 0
    /// Whether its data really inflates to all of `declaredPixels`.
    var fullData = false
    /// Whether it is a JPEG (for the file extension).
    var isJPEG = false
}

extension HostileImages {
    /// A random hostile file. `allowFullBombs`: may return a file that really decodes to tens of megapixels.
    /// Damaged copies of valid images may still decode, so they are made from a PNG of at most `baseSide`
    /// pixels a side, and from the 157×121 JPEG fixtures only when `allowJPEGFixtures` (a light bank).
    static func hostile(_ r: inout SeededRandom, kind forced: Int? = nil, allowFullBombs: Bool, baseSide: Int = 12,
                        allowJPEGFixtures: Bool = true) -> HostileFile {
        let valid = validPNG(&r, maxSide: max(1, min(12, baseSide))).bytes
        let jpegNames = allowJPEGFixtures ? jpegFixtures() : []
        let jpeg = jpegNames.isEmpty ? nil : fixture("Tests/ConvBankTests/Fixtures/testdata/jpeg/" + r.pick(jpegNames))
        let kind = forced ?? r.below(30)
        switch kind {
        case 0:
            return HostileFile(bytes: [], what: "empty file")
        case 1:
            let n = r.pick([1, 7, 8, 100, 4096, 65536])
            return HostileFile(bytes: r.bytes(n), what: "\(n) random bytes")
        case 2:
            return HostileFile(bytes: pngSignature + r.bytes(r.int(0...300)), what: "PNG signature then random bytes")
        case 3:
            return HostileFile(bytes: [0xFF, 0xD8, 0xFF] + r.bytes(r.int(0...300)), what: "JPEG SOI then random bytes", isJPEG: true)
        case 4:
            let cut = r.int(8...max(8, valid.count - 1))
            return HostileFile(bytes: Array(valid.prefix(cut)), what: "PNG truncated at \(cut) of \(valid.count) bytes")
        case 5:
            guard let jpeg else { return HostileFile(bytes: Array(valid.prefix(20)), what: "PNG truncated at 20 bytes") }
            let cut = r.int(2...max(2, jpeg.count - 1))
            return HostileFile(bytes: Array(jpeg.prefix(cut)), what: "JPEG truncated at \(cut) of \(jpeg.count) bytes", isJPEG: true)
        case 6:
            var bytes = r.chance(0.5) || jpeg == nil ? valid : jpeg!
            let isJPEG = bytes.first == 0xFF
            let flips = r.int(1...8)
            for _ in 0..<flips where bytes.count > 9 { bytes[r.int(8...(bytes.count - 1))] ^= UInt8(1 << r.below(8)) }
            return HostileFile(bytes: bytes, what: "\(isJPEG ? "JPEG" : "PNG") with \(flips) flipped bits", isJPEG: isJPEG)
        case 7:
            var list = chunks(valid) ?? []
            if let k = list.firstIndex(where: { $0.type == Array("IDAT".utf8) }) {
                list[k].data = list[k].data.map { $0 ^ 0x5A }
            }
            return HostileFile(bytes: assemble(list), what: "PNG with scrambled IDAT")
        case 8:
            let count = r.pick([2000, 20000, 100_000])
            let type = r.pick(["tEXt", "zTXt", "iTXt", "prVt", "sPLT"])
            let payload: [UInt8]
            switch type {
            case "zTXt": payload = Array("Comment".utf8) + [0, 0] + zlibZeros(100)
            case "iTXt": payload = Array("Comment".utf8) + [0, 1, 0, 0, 0] + zlibZeros(100)
            case "sPLT": payload = Array("p".utf8) + [0, 8] + [1, 2, 3, 4, 0, 1]
            default: payload = Array("Comment".utf8) + [0] + Array("x".utf8)
            }
            return HostileFile(bytes: withChunks(valid, type, payload, count: count), what: "PNG with \(count) \(type) chunks")
        case 9:
            // 150 zTXt chunks each inflating to 7 MB (under libpng's 8 MB per-chunk limit): 1 GB of text.
            let count = r.pick([150, 400])
            let payload = Array("Comment".utf8) + [0, 0] + zlibZeros(7_000_000)
            return HostileFile(bytes: withChunks(valid, "zTXt", payload, count: count),
                               what: "PNG with \(count) zTXt chunks each inflating to 7 MB")
        case 10:
            let side = r.pick([(UInt32(0x7FFF_FFFF), UInt32(0x7FFF_FFFF)), (1_000_000, 1_000_000), (100_000, 100_000),
                               (65536, 65536), (0x7FFF_FFFF, 1), (1, 0x7FFF_FFFF), (46341, 46341)])
            let color = r.pick([UInt8(0), 2, 4, 6])
            let depth: UInt8 = r.chance(0.5) ? 16 : 8
            let interlace: UInt8 = r.chance(0.3) ? 1 : 0
            let bytes = assemble([(Array("IHDR".utf8), ihdr(width: side.0, height: side.1, depth: depth, color: color, interlace: interlace)),
                                  (Array("IDAT".utf8), zlibZeros(1 << 20, truncateAfter: r.pick([0, 1000, 200_000]))),
                                  (Array("IEND".utf8), [])])
            return HostileFile(bytes: bytes, what: "PNG declaring \(side.0)×\(side.1) (colour \(color), \(depth)-bit\(interlace == 1 ? ", interlaced" : "")) with a short IDAT",
                               declaredPixels: Int(side.0) * Int(side.1))
        case 11:
            let w = r.pick([0, 1]), h = w == 0 ? 1 : 0
            let bytes = assemble([(Array("IHDR".utf8), ihdr(width: UInt32(w), height: UInt32(h), depth: 8, color: 0)),
                                  (Array("IDAT".utf8), zlibZeros(4)), (Array("IEND".utf8), [])])
            return HostileFile(bytes: bytes, what: "PNG declaring \(w)×\(h)")
        case 12:
            guard var list = chunks(valid), let k = list.firstIndex(where: { $0.type == Array("IDAT".utf8) }) else { return HostileFile(bytes: Array(valid.prefix(20)), what: "PNG truncated at 20 bytes") }
            let data = list[k].data
            let confetti = data.map { (type: Array("IDAT".utf8), data: [$0]) }
            let empties = Array(repeating: (type: Array("IDAT".utf8), data: [UInt8]()), count: 50_000)
            list.replaceSubrange(k...k, with: empties + confetti)
            return HostileFile(bytes: assemble(list), what: "PNG with 50,000 empty IDAT chunks, then one byte per IDAT")
        case 13:
            var bytes = Array(valid.prefix(33))
            bytes += TestPNG.be32(r.chance(0.5) ? 0x7FFF_FFFF : 0xFFFF_FFFF) + Array("IDAT".utf8) + r.bytes(64)
            return HostileFile(bytes: bytes, what: "PNG whose IDAT length field is near 2^31")
        case 14:
            if allowFullBombs {
                let side = r.pick([8192, 16384])
                return HostileFile(bytes: zeroPNG(width: side, height: side), what: "PNG bomb: \(side)×\(side) zeros in a few MB",
                                   declaredPixels: side * side, fullData: true)
            }
            let side = r.pick([20000, 30000])
            return HostileFile(bytes: zeroPNG(width: side, height: side, rowsPresent: 64),
                               what: "PNG bomb header \(side)×\(side), first 64 rows of zeros", declaredPixels: side * side)
        case 15:
            guard let jpeg else { return HostileFile(bytes: Array(valid.prefix(20)), what: "PNG truncated at 20 bytes") }
            let size = r.pick([(65535, 65535), (65500, 1), (1, 65500), (30000, 30000), (16384, 16384)])
            var bytes = jpegWithSize(jpeg, width: size.0, height: size.1)
            if r.chance(0.5) { bytes = Array(bytes.prefix(r.int(bytes.count / 2...bytes.count))) }
            return HostileFile(bytes: bytes, what: "JPEG whose frame header claims \(size.0)×\(size.1)",
                               declaredPixels: size.0 * size.1, isJPEG: true)
        case 16:
            guard let jpeg else { return HostileFile(bytes: Array(valid.prefix(20)), what: "PNG truncated at 20 bytes") }
            return HostileFile(bytes: jpegWithSize(jpeg, width: 0, height: r.pick([0, 121])), what: "JPEG with a zero width", isJPEG: true)
        case 17, 18:
            guard let jpeg else { return HostileFile(bytes: Array(valid.prefix(20)), what: "PNG truncated at 20 bytes") }
            let exif = hostileEXIF(&r)
            return HostileFile(bytes: jpegInserting(jpeg, marker: 0xE1, payload: exif.payload), what: "JPEG with \(exif.what)", isJPEG: true)
        case 19:
            guard let jpeg else { return HostileFile(bytes: Array(valid.prefix(20)), what: "PNG truncated at 20 bytes") }
            var bytes: [UInt8] = [0xFF, 0xD8]
            let count = r.pick([5000, 40000])
            for _ in 0..<count { bytes += [0xFF, 0xFE, 0x00, 0x06] + Array("junk".utf8) }
            bytes += jpeg.dropFirst(2)
            return HostileFile(bytes: bytes, what: "JPEG with \(count) COM segments before the frame", isJPEG: true)
        case 20:
            guard let flood = fixture("Tests/ConvBankTests/Fixtures/fuzz/jpeg_progressive_scan_flood_8192.jpg") else { return HostileFile(bytes: Array(valid.prefix(20)), what: "PNG truncated at 20 bytes") }
            return HostileFile(bytes: flood, what: "progressive scan-flood JPEG 8192×8192 (fuzz finding)", declaredPixels: 8192 * 8192, isJPEG: true)
        case 21:
            let text = String(repeating: "This is not a JPEG.\n", count: r.int(1...200))
            return HostileFile(bytes: Array(text.utf8), what: "text named as an image", isJPEG: r.chance(0.5))
        case 22:
            let names = pngSuite()
            let corrupt = names.filter { $0.hasPrefix("x") }
            guard !corrupt.isEmpty, let bytes = fixture("Tests/ConvBankTests/Fixtures/testdata/pngsuite/" + r.pick(corrupt)) else { return HostileFile(bytes: Array(valid.prefix(20)), what: "PNG truncated at 20 bytes") }
            return HostileFile(bytes: bytes, what: "a corrupt PngSuite file")
        case 23:
            let bytes = assemble([(Array("IHDR".utf8), ihdr(width: 4, height: 4, depth: 8, color: 3)),
                                  (Array("IDAT".utf8), zlibZeros(20)), (Array("IEND".utf8), [])])
            return HostileFile(bytes: bytes, what: "palette PNG without PLTE")
        case 24:
            let exif = hostileEXIF(&r)
            return HostileFile(bytes: withChunks(valid, "eXIf", Array(exif.payload.dropFirst(6)), count: 1), what: "PNG with \(exif.what) (eXIf)")
        case 25:
            let bytes = assemble([(Array("IHDR".utf8), ihdr(width: 3, height: 3, depth: UInt8(r.pick([3, 5, 7, 32])), color: UInt8(r.pick([1, 5, 7, 8])))),
                                  (Array("IDAT".utf8), zlibZeros(20)), (Array("IEND".utf8), [])])
            return HostileFile(bytes: bytes, what: "PNG with an impossible bit depth / colour type")
        case 26:
            return HostileFile(bytes: [], what: "dangling symbolic link", special: .danglingLink)
        case 27:
            return HostileFile(bytes: [], what: "symbolic link to /dev/zero", special: .devZeroLink)
        case 28:
            return HostileFile(bytes: [], what: "FIFO", special: .fifo)
        default:
            let depth = r.pick([UInt8(1), 2, 4])
            let bytes = zeroPNG(width: 40000, height: 4, color: 0, depth: depth, rowsPresent: 2)
            return HostileFile(bytes: bytes, what: "\(depth)-bit gray PNG 40000×4, rows missing", declaredPixels: 160_000)
        }
    }
}

// MARK: - Values drawn from the legal range and beyond

enum HostileValues {
    static let smallExtents = ["1", "1", "1", "2", "3", "1,2", "2,1", "3,2"]
    static let hugeExtents = ["999999999", "1000000000", "1000000001", "2147483647", "2147483648", "4294967296", "4294967297",
                              "9007199254740993", "3037000500", "4611686018427387904", "9223372036854775806", "9223372036854775807",
                              "9223372036854775807,1", "1,9223372036854775807", "9223372036854775807,9223372036854775807",
                              "3037000500,3037000500", "9223372036854775808", "99999999999999999999"]
    static let explosiveExtents = ["100000", "65536", "46341", "1000000", "12345678", "999999999", "100000,1", "1,100000"]
    static let moderateExtents = ["10", "100", "1000", "7,11"]
    static let badExtents = ["0", "-1", "0,0", "1,0", "-9223372036854775808", "1.5", "1e9", "", ",", "1,2,3", "+1", " 1",
                             "0x10", "\u{0661}", "nan", "1,-1", "2,", "-0"]

    static let smallPaddings = ["valid", "same", "0", "1", "2", "3", "8", "1,2,3,4", "0,0,0,8", "same", "valid"]
    static let hugePaddings = ["100000", "999999999", "1000000000", "2147483647", "3037000500", "4611686018427387903",
                               "9223372036854775806", "9223372036854775807", "0,9223372036854775807,0,0",
                               "9223372036854775807,9223372036854775807,9223372036854775807,9223372036854775807",
                               "1,1,1,4611686018427387904", "0,0,100000,100000", "99999999999999999999"]
    static let explosivePaddings = ["100000", "999999999", "0,0,100000,100000", "999999999,0,0,0", "123456", "0,999999999,0,999999999"]
    static let badPaddings = ["-1", "1,2", "1,2,3", "-1,0,0,0", "x", "SAME ", "1e9", "", "1,2,3,4,5", "full", "causal"]

    /// JSON numbers (and non-numbers) for stride/dilation/padding in a bank file.
    static let jsonSmall = ["1", "1", "1", "2", "3", "[1, 2]", "[2, 1]"]
    static let jsonHuge = ["1000000000", "999999999", "1000000001", "2147483647", "2147483648", "4294967296", "9007199254740993",
                           "9223372036854775807", "9223372036854775806", "9223372036854775808", "18446744073709551616", "1e9",
                           "1e18", "1e19", "1e300", "1e400", "[9223372036854775807, 1]", "[1, 999999999]", "[999999999, 999999999]",
                           "123456789012345678901234567890"]
    static let jsonExplosive = ["100000", "65536", "46341", "1000000", "12345678", "999999999", "[100000, 1]"]
    static let jsonBad = ["0", "-0", "-1", "-2147483648", "-9223372036854775808", "-9223372036854775809", "1.5", "0.5", "1e-300",
                          "2.0000000001", "-1e300", "NaN", "Infinity", "null", "\"2\"", "true", "[]", "[1]", "[1, 2, 3]",
                          "{}", "[[1]]", "[1, -1]", "[0, 0]"]
    static let jsonPaddingsSmall = ["\"valid\"", "\"same\"", "0", "1", "2", "[0, 1, 2, 3]", "\"SAME\""]
    static let jsonPaddingsHuge = ["100000", "999999999", "1000000000", "2147483647", "9223372036854775807", "1e300",
                                   "[0, 999999999, 0, 0]", "[999999999, 999999999, 999999999, 999999999]",
                                   "[9223372036854775807, 0, 0, 0]", "[1, 1, 1, 4611686018427387904]"]
    static let jsonPaddingsBad = ["-1", "[1, 2]", "[-1, 0, 0, 0]", "\"full\"", "1.5", "null", "[1, 2, 3, 4, 5]", "\"\"",
                                  "[0.5, 0, 0, 0]"]

    static let smallWeights = ["0", "1", "-1", "0.5", "-0.25", "2", "0.125", "3", "-2", "0.1", "1e-3"]
    static let extremeWeights = ["3.4028234e38", "-3.4028234e38", "3.4e38", "1e38", "-1e38", "1e-45", "-1e-45", "1e-40",
                                 "1e-320", "-0.0", "65504", "1.7e38"]
    static let invalidWeights = ["1e39", "3.5e38", "1e400", "-1e400", "NaN", "\"1\"", "null", "[]", "true", "1e309", "0x10"]

    static let activations = ["linear", "relu", "sigmoid", "tanh", "softplus", "elu", "selu", "gelu", "swish", "exponential",
                              "hard_sigmoid", "softsign", "relu6", "leaky_relu"]
    static let badActivations = ["silu", "mish", "RELU", "bogus", ""]
    static let paddingModes = ["zeros", "reflect", "replicate", "circular"]
    static let badPaddingModes = ["mirror", "ZEROS", ""]

    /// Built-in banks, their parameters, and values for each from the legal range and beyond.
    static let builtinNames = ["edges", "sobel", "scharr", "prewitt", "roberts", "laplacian", "kirsch", "log", "dog", "box",
                               "gaussian", "binomial", "sharpen", "unsharp", "emboss", "identity", "gabor", "luma-edges", "rgb",
                               "opponent"]
    static let builtinParameters: [String: [String]] = [
        "log": ["sigma"], "dog": ["sigma", "k"], "box": ["size"], "gaussian": ["sigma"], "binomial": ["size"],
        "unsharp": ["sigma", "amount"], "gabor": ["orientations", "wavelengths", "wavelength", "gamma", "psi"],
    ]
    static let parameterValues: [String: [String]] = [
        "sigma": ["1", "0.5", "2", "1e-200", "1e-10", "1e-300", "5e-324", "1e-7", "41", "41.9", "42", "42.5", "43", "1e9",
                  "1e300", "1.7976931348623157e308", "0", "-1", "-0", "nan", "inf", "-inf", "1e", "0x10", " 1", "1e-320"],
        "k": ["1.6", "1.0000001", "1", "2", "100", "1e300", "0.5", "nan", "1e-300", "1.0000000000000002"],
        "amount": ["1", "0", "1e300", "1e38", "3.5e38", "1e-300", "-1", "1.7976931348623157e308", "0.5", "1e10"],
        "size": ["1", "2", "3", "255", "256", "0", "-1", "1e9", "1000000001", "9007199254740993", "9223372036854775807",
                 "9223372036854775808", "2.5", "1e300", "4294967297"],
        "orientations": ["1", "4", "8", "64", "65", "0", "1e9", "9223372036854775807", "1.5"],
        "wavelengths": ["1", "2", "3", "8", "9", "0", "-1"],
        "wavelength": ["2", "4", "1.9", "1e300", "7", "30", "31", "1e-300", "5e-324"],
        "gamma": ["0.5", "1", "1e-300", "1e300", "0", "5e-324", "1e-10", "1e10"],
        "psi": ["0", "3.14", "1e300", "-1e300", "1e16", "nan", "inf", "1e-300"],
    ]
    /// The five spellings the issue names.
    static let issueBuiltins = ["gaussian:sigma=1e-200", "dog:sigma=1e-200", "unsharp:sigma=1e-200", "log:sigma=1e-10",
                                "unsharp:amount=1e300"]

    /// A built-in spec with random parameters; returns the spec and an estimate of (filters, largest kernel
    /// side, channels) for sizing the images (nil side when the spec should be refused).
    static func builtin(_ r: inout SeededRandom) -> (spec: String, filters: Int, side: Int, channels: Int) {
        let name = r.pick(builtinNames)
        var pairs: [(String, String)] = []
        let keys = builtinParameters[name] ?? (r.chance(0.1) ? ["sigma"] : [])
        for key in keys where r.chance(0.7) {
            pairs.append((key, r.pick(parameterValues[key] ?? ["1"])))
        }
        if r.chance(0.05), let first = pairs.first { pairs.append(first) }  // a key given twice
        if r.chance(0.04) { pairs.append(("bogus", "1")) }
        var spec = name
        if !pairs.isEmpty || r.chance(0.03) { spec += ":" + pairs.map { "\($0.0)=\($0.1)" }.joined(separator: ",") }
        if r.chance(0.1) { spec = spec.uppercased() }
        if r.chance(0.02) { spec += ":" + String(repeating: "sigma=1,", count: 12000) }  // ~96 KB, under Linux's 128 KiB per argument
        let estimate = estimateBuiltin(name: name, pairs: pairs)
        return (spec, estimate.filters, estimate.side, ["edges", "luma-edges", "rgb", "opponent"].contains(name) ? 3 : 1)
    }

    /// Filters and the largest kernel side of a built-in (from the formulas in FilterBank+Builtins.swift).
    static func estimateBuiltin(name: String, pairs: [(String, String)]) -> (filters: Int, side: Int) {
        func value(_ key: String, _ fallback: Double) -> Double {
            guard let text = pairs.first(where: { $0.0 == key })?.1, let v = Double(text.trimmingCharacters(in: .whitespaces)),
                  v.isFinite else { return fallback }
            return v
        }
        func gaussianSide(_ sigma: Double) -> Int {
            let side = 2 * (3 * sigma).rounded(.up) + 1
            return side.isFinite && side <= 255 && side >= 1 ? Int(side) : 1
        }
        switch name {
        case "edges", "kirsch": return (8, 3)
        case "log": return (1, gaussianSide(value("sigma", 1.4)))
        case "dog": return (1, gaussianSide(value("sigma", 1) * value("k", 1.6)))
        case "gaussian", "unsharp": return (1, gaussianSide(value("sigma", 1)))
        case "box", "binomial":
            let s = value("size", name == "box" ? 3 : 5)
            return (1, s >= 1 && s <= 255 ? Int(s) : 1)
        case "gabor":
            let o = value("orientations", 4), n = value("wavelengths", 2), w = value("wavelength", 4)
            let count = (o >= 1 && o <= 64 ? Int(o) : 4) * (n >= 1 && n <= 8 ? Int(n) : 2)
            return (count, gaussianSide(0.56 * w * pow(2, max(0, min(n, 8)) - 1)))
        case "identity", "rgb", "opponent": return (3, 1)
        default: return (2, 3)
        }
    }
}

// MARK: - Cases

/// What a case is mainly about; case `i` has theme `i % 8`, so every run of 8 or more cases covers them all.
enum HostileTheme: Int, CaseIterable, CustomStringConvertible {
    case bankParameters, cliParameters, builtinParameters, manyFilters, hostileImages, oddNames, subcommands, mixed

    var description: String {
        switch self {
        case .bankParameters: "bank-json-parameters"
        case .cliParameters: "cli-parameters"
        case .builtinParameters: "builtin-parameters"
        case .manyFilters: "many-filters"
        case .hostileImages: "hostile-images"
        case .oddNames: "odd-names"
        case .subcommands: "summary-explain-banks"
        case .mixed: "mixed"
        }
    }
}

/// What the binary under test accepts (probed once from its --help).
struct HostileProbe {
    var applyMaxMemory = false
    var explainMaxMemory = false
    var summaryMaxMemory = false
    /// The --max-memory value passed when the option exists.
    var maxMemory = "512M"
    /// `apply --help`, to use only the options and values this binary has (others are usage errors, drawn only
    /// as a case's one deliberate usage error).
    var applyHelp = ""

    func applyHas(_ word: String) -> Bool { applyHelp.contains(word) }

    /// The values `apply --help` lists for `--format` (`(values: png, png16, npy; default: png)`).
    var formats: [String] {
        guard let option = applyHelp.range(of: "--format <"),
              let values = applyHelp.range(of: "(values:", range: option.upperBound..<applyHelp.endIndex) else { return ["png"] }
        let rest = applyHelp[values.upperBound...]
        let end = rest.firstIndex { $0 == ";" || $0 == ")" } ?? rest.endIndex
        let list = rest[..<end].split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        return list.isEmpty ? ["png"] : list
    }
}

/// An input of an `apply` run: it must end up with maps in the output folder or be named on stderr.
struct HostileExpectedInput {
    /// A unique `zqNzq` in the input's own name.
    var token: [UInt8]
    /// The token of the folder argument holding it, if any: when that folder itself is reported (and none of
    /// the inputs in it), the input counts as named.
    var folderToken: [UInt8]?
    var what: String
}

/// One run of the binary.
struct HostileRunSpec {
    enum Kind: String { case apply, summary, explain, banks }
    var kind: Kind
    /// Arguments after the binary's path; relative paths, the run's working directory is the case's work folder.
    var arguments: [[UInt8]]
    /// The folder the run may write into (apply's --output, explain's picture folder), relative to the work folder.
    var output: [UInt8]?
    var expected: [HostileExpectedInput] = []
    var timeout: Double
    /// Tokens of paths that do not exist or cannot be opened on purpose (a missing argument, dangling links, link
    /// loops): only these may be reported as missing.
    var absentTokens: Set<[UInt8]> = []
}

struct HostileCase {
    var index: Int
    var seed: UInt64
    var theme: HostileTheme
    var variant: String
    var notes: [String]
    var runs: [HostileRunSpec]
}

/// A bank choice: the --bank value and what is known about it (for sizing images and picking options).
struct HostileBankChoice {
    var argument: [UInt8]
    var channels = 1
    var filters = 1
    var side = 3
    var firstFilterName: String? = nil
    var what: String
}

/// Builds one case inside `work` (an empty folder), drawing everything from the case's seed.
struct HostileCaseBuilder {
    let work: String
    let probe: HostileProbe
    var r: SeededRandom
    var notes: [String] = []
    var nextToken = 0
    /// Hostile files of this case whose header declares many pixels.
    var declared: [Int] = []
    /// Valid images (relative paths), usable for explain.
    var validImages: [[UInt8]] = []
    var hostileImages: [[UInt8]] = []
    let baseTimeout: Double
    /// Deliberate usage errors still allowed in this case (0 or 1), so that most runs get past argument
    /// checking; a theme's own variant about bad values does not count.
    var invalidBudget = 0
    /// Inputs made outside `placeInputs` (they join the next apply run), and extra seconds for that run.
    var extraExpected: [HostileExpectedInput] = []
    var extraTimeout = 0.0
    /// Tokens of paths made not to exist or not to open (see `HostileRunSpec.absentTokens`).
    var absentTokens: Set<[UInt8]> = []

    init(work: String, probe: HostileProbe, seed: UInt64, baseTimeout: Double) {
        self.work = work
        self.probe = probe
        self.r = SeededRandom(seed: seed)
        self.baseTimeout = baseTimeout
    }

    /// True (and the budget spent) with probability `p` while the case may still draw a usage error.
    mutating func invalid(_ p: Double) -> Bool {
        guard invalidBudget > 0, r.chance(p) else { return false }
        invalidBudget -= 1
        return true
    }

    mutating func token() -> String {
        defer { nextToken += 1 }
        return "zq\(nextToken)zq"
    }

    static func b(_ s: String) -> [UInt8] { Array(s.utf8) }

    // MARK: Case

    mutating func build(index: Int, seed: UInt64) throws -> HostileCase {
        let themes = HostileTheme.allCases
        let theme = themes[index % themes.count]
        let occurrence = index / themes.count
        invalidBudget = r.chance(0.25) ? 1 : 0
        var runs: [HostileRunSpec] = []
        var variant = ""
        switch theme {
        case .bankParameters:
            let v = occurrence % 7
            variant = ["stride beyond 1e9/Int.max", "explosive dilation", "explosive padding", "zero/negative/float/non-number values",
                       "huge kernel", "extreme or invalid weights", "malformed bank file"][v]
            if v == 6 {
                let bank = try malformedBank()
                runs.append(try applyRun(bank: bank, inputs: InputPlan(valid: r.int(1...2), hostile: 0)))
                if r.chance(0.5) { runs.append(summaryRun(bank: bank)) }
                if r.chance(0.3), !validImages.isEmpty { runs.append(explainRun(bank: bank, image: r.pick(validImages))) }
                break
            }
            var plan = HostileBankPlan()
            plan.channels = r.pick([1, 1, 3, 3, 2, 4])
            plan.filters = r.int(1...4)
            plan.kernel = (r.int(1...5), r.int(1...5))
            plan.padding = r.chance(0.5) ? r.pick(HostileValues.jsonPaddingsSmall) : nil
            plan.paddingMode = r.chance(0.3) ? HostileText.json(r.pick(HostileValues.paddingModes)) : nil
            switch v {
            case 0: plan.stride = r.pick(HostileValues.jsonHuge)
            case 1:
                plan.dilation = r.pick(HostileValues.jsonExplosive + HostileValues.jsonHuge)
                plan.padding = r.pick(["\"same\"", "\"same\"", "\"valid\"", "1"])
            case 2: plan.padding = r.pick(HostileValues.jsonPaddingsHuge + HostileValues.jsonExplosive)
            case 3:
                switch r.below(3) {
                case 0: plan.stride = r.pick(HostileValues.jsonBad)
                case 1: plan.dilation = r.pick(HostileValues.jsonBad)
                default: plan.padding = r.pick(HostileValues.jsonPaddingsBad + HostileValues.jsonBad)
                }
            case 4:
                plan.filters = 1
                plan.channels = r.pick([1, 1, 3])
                plan.kernel = r.pick([(511, 511), (1000, 1), (1, 1000), (256, 256), (700, 700), (64, 2000)])
                plan.weights = .tiny
            default:
                plan.weights = r.chance(0.6) ? .extreme : .invalid
                plan.activation = HostileText.json(r.pick(HostileValues.activations + HostileValues.badActivations))
            }
            if r.chance(0.3) { plan.stride = plan.stride ?? r.pick(HostileValues.jsonSmall) }
            if r.chance(0.3) { plan.dilation = plan.dilation ?? r.pick(HostileValues.jsonSmall) }
            if r.chance(0.2) { plan.layout = r.pick(["HWIO", "OIHW"]) }
            let bank = try writeBank(plan)
            runs.append(try applyRun(bank: bank, inputs: InputPlan(valid: r.int(1...3), hostile: r.int(0...2))))
            if r.chance(0.25) { runs.append(summaryRun(bank: bank)) }
        case .cliParameters:
            let v = occurrence % 5
            variant = ["--stride near Int.max", "--dilation explosive or near Int.max", "--padding explosive or near Int.max",
                       "--jobs/--max-pixels/--png-level extremes", "all overrides at random"][v]
            let bank = try smallBank()
            var overrides: [[UInt8]] = []
            switch v {
            case 0: overrides += [Self.b("--stride"), Self.b(r.pick(HostileValues.hugeExtents + HostileValues.explosiveExtents))]
            case 1: overrides += [Self.b("--dilation"), Self.b(r.pick(HostileValues.explosiveExtents + HostileValues.hugeExtents))]
            case 2: overrides += [Self.b("--padding"), Self.b(r.pick(HostileValues.hugePaddings + HostileValues.explosivePaddings))]
            case 3:
                let which = r.below(3)
                if which == 0 {
                    overrides += [Self.b("--jobs"), Self.b(r.pick(["0", "-1", "1000", "100000", "2147483647", "9223372036854775807", "abc", "64"]))]
                } else if which == 1 {
                    overrides += [Self.b("--max-pixels"), Self.b(r.pick(["0", "-5", "1", "64", "9223372036854775807", "18446744073709551616", "1e9"]))]
                } else {
                    overrides += [Self.b("--png-level"), Self.b(r.pick(["-1", "13", "99999999999999999999", "12", "0"]))]
                }
            default:
                overrides += randomOverrides(probability: 0.8)
            }
            overrides = Self.deduplicated(overrides + randomOverrides(probability: 0.15))
            runs.append(try applyRun(bank: bank, inputs: InputPlan(valid: r.int(1...3), hostile: r.int(0...1)), overrides: overrides))
            if r.chance(0.3) { runs.append(summaryRun(bank: bank, overrides: overrides.filter { !["--jobs", "--max-pixels", "--png-level"].contains(String(decoding: $0, as: UTF8.self)) })) }
        case .builtinParameters:
            let v = occurrence % (HostileValues.issueBuiltins.count + 2)
            var bank: HostileBankChoice
            if v < HostileValues.issueBuiltins.count {
                let spec = HostileValues.issueBuiltins[v]
                variant = spec
                let e = HostileValues.estimateBuiltin(name: String(spec.prefix { $0 != ":" }), pairs: [])
                bank = HostileBankChoice(argument: Self.b(spec), channels: 1, filters: e.filters, side: e.side, what: "built-in \(spec)")
            } else if v == HostileValues.issueBuiltins.count {
                variant = "built-ins inside a bank file's filter list"
                var plan = HostileBankPlan()
                plan.filters = 0
                plan.builtinEntries = (0..<r.int(1...3)).map { _ in r.chance(0.5) ? r.pick(HostileValues.issueBuiltins) : HostileValues.builtin(&r).spec }
                bank = try writeBank(plan)
                bank.side = 255
                bank.filters = 8
            } else {
                let b = HostileValues.builtin(&r)
                variant = "random built-in parameters"
                bank = HostileBankChoice(argument: Self.b(b.spec), channels: b.channels, filters: b.filters, side: b.side, what: "built-in \(b.spec)")
            }
            runs.append(try applyRun(bank: bank, inputs: InputPlan(valid: r.int(1...2), hostile: r.int(0...1)),
                                     overrides: randomOverrides(probability: 0.15)))
            if r.chance(0.3) { runs.append(summaryRun(bank: bank)) }
            if r.chance(0.3) { runs.append(banksRun(spec: bank.argument)) }
        case .manyFilters:
            // The first five variants are the ones a default run (40 cases) takes: one 20,000-filter run, the
            // others smaller so `make test` stays short; the heavier ones come up under `make fuzz`.
            let v = occurrence % 9
            var plan = HostileBankPlan()
            plan.kernel = (1, 1)
            plan.weights = .tiny
            var extra: [[UInt8]] = []
            switch v {
            case 0:
                plan.filters = 20000
                variant = "20,000 1×1 filters on a 1×1 image"
            case 1:
                plan.filters = 1000
                extra += [Self.b("--sheet"), Self.b("--gallery"), Self.b("--stats")]
                variant = "1,000 filters with sheet, gallery and stats"
            case 2:
                plan.filters = 1000
                plan.layout = r.pick(["HWIO", "OIHW"])
                extra += [Self.b("--format"), Self.b("npy")]
                variant = "1,000 filters as one whole layer, npy"
            case 3:
                plan.filters = 3000
                plan.kernel = (3, 3)
                extra += [Self.b("--stats")]
                variant = "3,000 3×3 filters with stats"
            case 4:
                plan.filters = 200
                plan.channels = 3
                extra += [Self.b("--partials")]
                variant = "200 3-channel filters with partials"
            case 5:
                plan.filters = 20000
                plan.layout = "HWIO"
                extra += [Self.b("--format"), Self.b("npy")]
                variant = "20,000 filters as one HWIO layer, npy"
            case 6:
                plan.filters = 20000
                extra += [Self.b("--sheet")]
                variant = "20,000 filters with a contact sheet"
            case 7:
                plan.filters = 5000
                plan.kernel = (3, 3)
                extra += [Self.b("--partials"), Self.b("--stats")]
                variant = "5,000 3×3 filters with partials and stats"
            default:
                // Not many filters but many inputs: memory must not grow with the folder.
                plan.filters = 2
                extra += [Self.b("--stats"), Self.b("--gallery")]
                variant = "3,000 tiny inputs"
                let folderToken = token()
                let folder = Self.b(folderToken + "_many")
                for k in 0..<3000 {
                    let t = token()
                    let bad = k % 10 == 9
                    let bytes = bad ? r.bytes(20) : HostileImages.validPNG(&r, maxSide: 2).bytes
                    try HostileFS.writeFile(root: work, [folder, Self.b(t + ".png")], bytes)
                    extraExpected.append(HostileExpectedInput(token: Self.b(t), folderToken: Self.b(folderToken), what: bad ? "20 random bytes" : "valid tiny PNG"))
                }
                extra = [folder] + extra
                extraTimeout = 30
            }
            if r.chance(0.3) { plan.names = r.chance(0.8) ? .long200 : .long240 }
            plan.padding = plan.kernel == (1, 1) ? r.pick(["\"same\"", "\"valid\"", "0"]) : "\"same\""
            let bank = try writeBank(plan)
            runs.append(try applyRun(bank: bank, inputs: InputPlan(valid: 1, hostile: r.chance(0.3) ? 1 : 0, maxSide: 1),
                                     overrides: extra, decorate: false))
            if r.chance(0.3) { runs.append(summaryRun(bank: bank)) }
        case .hostileImages:
            let kinds = [9, 10, 14, 4, 8, 15, 17, 20, 5, 12, 13, 19, 24, 29]
            let forced = kinds[occurrence % kinds.count]
            variant = "hostile image kind \(forced) among others"
            let bank = try smallBank()
            var inputs = InputPlan(valid: r.int(1...2), hostile: r.int(2...5))
            inputs.forcedKinds = [forced]
            runs.append(try applyRun(bank: bank, inputs: inputs, overrides: randomOverrides(probability: 0.1)))
            if r.chance(0.3), !hostileImages.isEmpty { runs.append(explainRun(bank: bank, image: r.pick(hostileImages))) }
        case .oddNames:
            let v = occurrence % 7
            variant = ["non-UTF-8 file names", "dangling links, link loops, /dev/zero, FIFO", "240-character filter names",
                       "255-byte input names (with sheet)", "non-UTF-8 folder argument or output folder", "a path beyond PATH_MAX",
                       "control characters, quotes, dashes, Unicode"][v]
            var bank = try smallBank()
            var inputs = InputPlan(valid: r.int(1...3), hostile: r.int(0...1))
            var extra: [[UInt8]] = []
            switch v {
            case 0:
                inputs.names = .nonUTF8
                inputs.fileArguments = r.int(0...2)
            case 1: inputs.links = true
            case 2:
                var plan = HostileBankPlan()
                plan.filters = r.pick([1, 2, 8, 50])
                plan.names = r.pick([.long200, .long240, .long240, .long255, .long300, .unicode240])
                plan.channels = r.pick([1, 3])
                bank = try writeBank(plan)
                if r.chance(0.5) { extra += [Self.b("--partials")] }
            case 3:
                inputs.names = .long255
                extra += [Self.b("--sheet")]
                inputs.fileArguments = r.int(0...1)
            case 4:
                inputs.nonUTF8Folder = r.chance(0.6)
                inputs.nonUTF8Output = !inputs.nonUTF8Folder || r.chance(0.3)
            case 5: inputs.deep = true
            default:
                inputs.names = .control
                var plan = HostileBankPlan()
                plan.filters = r.int(1...4)
                plan.names = r.pick([.weird, .unicode240, .short])
                if r.chance(0.5) { bank = try writeBank(plan) }
            }
            runs.append(try applyRun(bank: bank, inputs: inputs, overrides: extra))
        case .subcommands:
            let v = occurrence % 4
            variant = ["summary --input-size", "explain --at", "banks NAME", "explain on a hostile image"][v]
            let bank = r.chance(0.5) ? try smallBank() : try randomBank()
            let overrides = randomOverrides(probability: 0.3, forApply: false)
            var plan = InputPlan(valid: 2, hostile: 2, maxSide: 12)
            plan.names = r.weighted([(6, .plain), (2, .nonUTF8), (1, .control), (1, .long255)])
            _ = try placeInputs(plan, bank: bank, allowFullBombs: probe.explainMaxMemory)
            switch v {
            case 0: runs.append(summaryRun(bank: bank, overrides: overrides, forceSize: true))
            case 1: runs.append(explainRun(bank: bank, image: r.pick(validImages), overrides: overrides, forceAt: true))
            case 2: runs.append(banksRun(spec: Self.b(HostileValues.builtin(&r).spec)))
            default: runs.append(explainRun(bank: bank, image: r.pick(hostileImages.isEmpty ? validImages : hostileImages), overrides: overrides))
            }
            for _ in 0..<r.int(0...2) {
                switch r.below(3) {
                case 0: runs.append(summaryRun(bank: bank, overrides: overrides, forceSize: r.chance(0.5)))
                case 1: runs.append(explainRun(bank: bank, image: r.pick(validImages + hostileImages), overrides: overrides))
                default: runs.append(banksRun(spec: Self.b(HostileValues.builtin(&r).spec)))
                }
            }
        case .mixed:
            variant = "everything at random"
            let bank = try randomBank()
            var inputs = InputPlan(valid: r.int(1...3), hostile: r.int(0...4))
            inputs.names = r.pick([.plain, .plain, .plain, .nonUTF8, .control, .long255])
            inputs.links = r.chance(0.2)
            inputs.fileArguments = r.int(0...2)
            runs.append(try applyRun(bank: bank, inputs: inputs, overrides: randomOverrides(probability: 0.35)))
            if r.chance(0.3) { runs.append(summaryRun(bank: bank, overrides: randomOverrides(probability: 0.3, forApply: false))) }
            if r.chance(0.2), !validImages.isEmpty { runs.append(explainRun(bank: bank, image: r.pick(validImages))) }
        }
        for k in runs.indices { runs[k].absentTokens = absentTokens }
        return HostileCase(index: index, seed: seed, theme: theme, variant: variant, notes: notes, runs: runs)
    }

    // MARK: Banks

    /// A small bank: a fixed built-in, a valid built-in with parameters, or a small JSON bank.
    mutating func smallBank() throws -> HostileBankChoice {
        switch r.below(4) {
        case 0:
            let name = r.pick(["edges", "sobel", "identity", "gaussian", "box", "laplacian", "rgb", "luma-edges", "roberts"])
            let e = HostileValues.estimateBuiltin(name: name, pairs: [])
            return HostileBankChoice(argument: Self.b(name), channels: ["edges", "rgb", "luma-edges"].contains(name) ? 3 : 1,
                                     filters: e.filters, side: e.side, what: "built-in \(name)")
        default:
            var plan = HostileBankPlan()
            plan.channels = r.pick([1, 3, 3, 4])
            plan.filters = r.int(1...3)
            plan.kernel = (r.int(1...3), r.int(1...3))
            plan.padding = r.pick(["\"same\"", "\"valid\"", "1", nil])
            return try writeBank(plan)
        }
    }

    /// A bank file that is not a valid bank: deep nesting, bad UTF-8, truncation, absurd numbers, … (exit 64).
    mutating func malformedBank() throws -> HostileBankChoice {
        let valid = #"{"name": "m", "filters": [{"name": "f", "weights": [[[1]]], "bias": 0}]}"#
        var bytes: [UInt8], what: String
        switch r.below(15) {
        case 0:
            let depth = r.pick([1000, 100_000, 1_000_000])
            bytes = Self.b(#"{"name": "m", "filters": "#) + Array(repeating: 0x5B, count: depth) + Array(repeating: 0x5D, count: depth) + Self.b("}")
            what = "arrays nested \(depth) deep"
        case 1:
            let depth = r.pick([1000, 100_000, 500_000])
            bytes = Array(repeating: Self.b(#"{"a":"#), count: depth).flatMap { $0 } + Self.b("1") + Array(repeating: 0x7D, count: depth)
            what = "objects nested \(depth) deep"
        case 2:
            bytes = Self.b(#"{"name": "m", "filters": [{"name": "f"#) + [0xFF, 0xFE, 0xC0, 0xAF] + Self.b(#"", "weights": [[[1]]], "bias": 0}]}"#)
            what = "a filter name that is not UTF-8"
        case 3:
            let cut = r.int(1...(valid.utf8.count - 1))
            bytes = Array(Self.b(valid).prefix(cut))
            what = "truncated at \(cut) bytes"
        case 4:
            bytes = Self.b(#"{"name": "m", "filters": [{"name": "f", "weights": [[[1]]], "bias": 1e999999}]}"#)
            what = "bias 1e999999"
        case 5:
            bytes = Self.b(#"{"name": "m", "stride": 1"#) + Array(repeating: 0x30, count: 200_000) + Self.b(#", "filters": [{"name": "f", "weights": [[[1]]], "bias": 0}]}"#)
            what = "a stride of 200,001 digits"
        case 6:
            bytes = Self.b(#"{"name": "m", "stride": 1, "stride": 999999999, "filters": [{"name": "f", "weights": [[[1]]], "bias": 0}]}"#)
            what = "the key stride twice"
        case 7:
            bytes = [0xEF, 0xBB, 0xBF] + Self.b(valid)
            what = "a byte-order mark, then a valid bank"
        case 8:
            bytes = []
            what = "an empty file"
        case 9:
            bytes = r.bytes(r.pick([1, 100, 10_000]))
            what = "random bytes"
        case 10:
            bytes = Self.b(#"{"name": "m", "filters": []}"#)
            what = "no filters"
        case 11:
            bytes = Self.b(#"{"name": "m", "filters": [{"name": "f", "weights": [[[1, 2], [3]], [[1]]], "bias": 0}]}"#)
            what = "ragged weights"
        case 12:
            bytes = Array(repeating: 0x20, count: 10 << 20) + Self.b(valid)
            what = "10 MB of spaces, then a valid bank"
        case 13:
            bytes = Self.b(#"{"name": ""#) + Array(repeating: Self.b("\\u00e9"), count: 200_000).flatMap { $0 } + Self.b(#"", "filters": [{"name": "f", "weights": [[[1]]], "bias": 0}]}"#)
            what = "a bank name of 200,000 escapes"
        default:
            bytes = Self.b(#"{"name": "m", "filters": [{"name": "f", "weights": [[["#) + Array(repeating: Self.b("1,"), count: 2_000_000).flatMap { $0 } + Self.b("1]]], \"bias\": 0}]}")
            what = "one kernel row of 2,000,001 weights"
        }
        let name = r.chance(0.2) ? Self.b("bank_") + [0xFF] + Self.b(".json") : Self.b("bank.json")
        try HostileFS.writeFile(root: work, [name], bytes)
        notes.append("malformed bank \(HostileText.printable(name)): \(what)")
        return HostileBankChoice(argument: name, channels: 1, filters: 1, side: 1, what: what)
    }

    /// Any bank: JSON with random (often hostile) settings, or a random built-in spec.
    mutating func randomBank() throws -> HostileBankChoice {
        if r.chance(0.35) {
            let b = HostileValues.builtin(&r)
            return HostileBankChoice(argument: Self.b(b.spec), channels: b.channels, filters: b.filters, side: b.side, what: "built-in \(b.spec)")
        }
        var plan = HostileBankPlan()
        plan.channels = r.pick([1, 1, 3, 3, 2, 4])
        plan.filters = r.weighted([(8, r.int(1...4)), (2, r.int(5...64)), (1, r.pick([500, 2000]))])
        plan.kernel = plan.filters > 64 ? (1, 1) : r.weighted([(8, (r.int(1...5), r.int(1...5))), (1, (r.pick([31, 61, 127]), r.pick([1, 31, 61])))])
        func field(_ small: [String], _ huge: [String], _ bad: [String]) -> String? {
            if invalid(0.15) { return r.pick(bad) }
            return r.weighted([(5, nil), (4, r.pick(small)), (1, r.pick(huge))])
        }
        plan.stride = field(HostileValues.jsonSmall, HostileValues.jsonHuge, HostileValues.jsonBad)
        plan.dilation = field(HostileValues.jsonSmall, HostileValues.jsonExplosive + HostileValues.jsonHuge, HostileValues.jsonBad)
        plan.padding = field(HostileValues.jsonPaddingsSmall, HostileValues.jsonPaddingsHuge, HostileValues.jsonPaddingsBad)
        plan.paddingMode = r.chance(0.3) ? HostileText.json(r.pick(HostileValues.paddingModes)) : nil
        plan.activation = r.chance(0.3) ? HostileText.json(r.pick(HostileValues.activations)) : nil
        plan.weights = invalid(0.1) ? .invalid : r.weighted([(8, .small), (2, .extreme)])
        plan.names = invalid(0.1) ? r.pick([.long240, .weird]) : r.weighted([(8, .short), (1, .unicode240), (1, .long200)])
        plan.layout = r.weighted([(8, "filters"), (1, "HWIO"), (1, "OIHW")])
        if r.chance(0.1) { plan.builtinEntries = [r.pick(HostileValues.issueBuiltins)] }
        return try writeBank(plan)
    }

    mutating func writeBank(_ plan: HostileBankPlan) throws -> HostileBankChoice {
        let rendered = plan.render(&r)
        let name = "bank.json"
        try HostileFS.writeFile(root: work, [Self.b(name)], rendered.json)
        var facts = [String]()
        if let s = plan.stride { facts.append("stride \(s)") }
        if let s = plan.dilation { facts.append("dilation \(s)") }
        if let s = plan.padding { facts.append("padding \(s)") }
        if let s = plan.paddingMode { facts.append("padding_mode \(s)") }
        if let s = plan.activation { facts.append("activation \(s)") }
        facts.append("\(plan.filters) filter\(plan.filters == 1 ? "" : "s") \(plan.kernel.0)×\(plan.kernel.1)×\(plan.channels) (\(plan.layout))")
        if plan.weights != .small { facts.append("\(plan.weights) weights") }
        if plan.names != .short { facts.append("\(plan.names) filter names") }
        if !plan.builtinEntries.isEmpty { facts.append("built-in entries \(plan.builtinEntries)") }
        let what = "bank.json: " + facts.joined(separator: ", ")
        notes.append(what)
        return HostileBankChoice(argument: Self.b(name), channels: plan.channels, filters: max(1, plan.filters + plan.builtinEntries.count * 8),
                                 side: max(plan.kernel.0, plan.kernel.1, plan.builtinEntries.isEmpty ? 1 : 255),
                                 firstFilterName: rendered.firstName, what: what)
    }

    // MARK: Options

    /// `arguments` without a repeated option (the first one stays), so one value decides each run.
    static func deduplicated(_ arguments: [[UInt8]]) -> [[UInt8]] {
        let valued = Set(["--stride", "--dilation", "--padding", "--padding-mode", "--activation", "--jobs", "--max-pixels",
                          "--png-level", "--format", "--normalize", "--max-memory"].map { Array($0.utf8) })
        var seen = Set<[UInt8]>(), out: [[UInt8]] = []
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            if valued.contains(a), i + 1 < arguments.count {
                if seen.insert(a).inserted { out += [a, arguments[i + 1]] }
                i += 2
            } else {
                out.append(a)
                i += 1
            }
        }
        return out
    }

    /// Overrides and options, each present with `probability`, values from the legal range and beyond.
    mutating func randomOverrides(probability p: Double, forApply: Bool = true) -> [[UInt8]] {
        var out: [[UInt8]] = []
        // Huge values (beyond 999999999, up to Int.max) are usage errors or per-input errors depending on the
        // version; explosive ones (1e5…999999999) are legal and must fail per input (or be done in bounded memory).
        if r.chance(p) {
            let v = invalid(0.2) ? r.pick(HostileValues.badExtents)
                : r.weighted([(6, r.pick(HostileValues.smallExtents)), (1, r.pick(HostileValues.moderateExtents)),
                              (1, r.pick(HostileValues.hugeExtents)), (2, r.pick(HostileValues.explosiveExtents))])
            out += [Self.b("--stride"), Self.b(v)]
        }
        if r.chance(p) {
            let d = invalid(0.2) ? r.pick(HostileValues.badExtents)
                : r.weighted([(5, r.pick(HostileValues.smallExtents)), (2, r.pick(HostileValues.moderateExtents)),
                              (1, r.pick(HostileValues.hugeExtents)), (2, r.pick(HostileValues.explosiveExtents))])
            out += [Self.b("--dilation"), Self.b(d)]
        }
        if r.chance(p) {
            let v = invalid(0.2) ? r.pick(HostileValues.badPaddings)
                : r.weighted([(6, r.pick(HostileValues.smallPaddings)), (1, r.pick(HostileValues.hugePaddings)),
                              (2, r.pick(HostileValues.explosivePaddings))])
            out += [Self.b("--padding"), Self.b(v)]
        }
        if r.chance(p / 2) {
            out += [Self.b("--padding-mode"), Self.b(invalid(0.2) ? r.pick(HostileValues.badPaddingModes) : r.pick(HostileValues.paddingModes))]
        }
        if r.chance(p / 2) {
            out += [Self.b("--activation"), Self.b(invalid(0.2) ? r.pick(HostileValues.badActivations) : r.pick(HostileValues.activations))]
        }
        if forApply, r.chance(p / 3) {
            out += [Self.b("--jobs"), Self.b(invalid(0.3) ? r.pick(["0", "-1", "abc"]) : r.weighted([(6, r.pick(["1", "2", "3"])), (1, r.pick(["64", "1000", "100000", "9223372036854775807"]))]))]
        }
        return out
    }

    // MARK: Inputs

    enum NameStyle { case plain, nonUTF8, control, long255 }

    struct InputPlan {
        var valid = 2
        var hostile = 1
        var forcedKinds: [Int] = []
        var names: NameStyle = .plain
        var fileArguments = 0
        var links = false
        var deep = false
        var nonUTF8Folder = false
        var nonUTF8Output = false
        /// Largest side of generated valid images (further limited by the bank's cost).
        var maxSide = 40
    }

    /// A file name holding `token`, styled.
    mutating func name(_ token: String, ext: String, style: NameStyle) -> [UInt8] {
        let t = Self.b(token)
        switch style {
        case .plain:
            return t + Self.b("_" + r.pick(["a", "photo", "IMG 0001", "x.y", "b-c", "é", "日本"])) + Self.b(ext)
        case .nonUTF8:
            let junk: [[UInt8]] = [[0xFF, 0xFE], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0x63, 0x61, 0x66, 0xE9], [0x80], [0xF4, 0x90, 0x80, 0x80], [0xC3]]
            return t + [0x5F] + r.pick(junk) + Self.b(ext)
        case .control:
            let junk = ["a\nb", "tab\there", "\u{1B}[31mred", "quote'\"", "back\\slash", "$(echo)`x`", "%s%n%x", " lead", "trail ",
                        "e\u{301}", "\u{202E}gnp", "semi;colon", "star*?[", "--flag"]
            let base = r.chance(0.2) ? Self.b("-") + t : t
            return base + Self.b("_" + r.pick(junk)) + Self.b(ext)
        case .long255:
            let body = 255 - t.count - ext.utf8.count - 1
            return t + [0x5F] + Self.b(String(repeating: "L", count: max(0, body))) + Self.b(ext)
        }
    }

    /// Creates the inputs; returns the arguments naming them and the inputs that must be processed or named.
    mutating func placeInputs(_ plan: InputPlan, bank: HostileBankChoice, allowFullBombs: Bool) throws -> (arguments: [[UInt8]], expected: [HostileExpectedInput]) {
        var arguments: [[UInt8]] = []
        var expected: [HostileExpectedInput] = []
        let folderToken = Self.b(token())
        var folder = folderToken + Self.b("_in")
        if plan.nonUTF8Folder {
            folder += [0xFF]
            notes.append("the input folder's name is not UTF-8")
        }
        arguments.append(folder)
        // The cost of one output pixel decides how large valid images may be.
        let perPixel = Double(max(1, bank.filters)) * Double(max(1, bank.side * bank.side)) * Double(max(1, bank.channels))
        let budgetSide = Int(min((30e6 / perPixel).squareRoot(), (60_000 / Double(max(1, bank.filters))).squareRoot()))
        let maxSide = max(1, min(plan.maxSide, budgetSide))
        let extensions = [".png", ".png", ".PNG", ".jpg", ".jpeg", ".JPG", ".Jpeg"]
        let subfolders: [[[UInt8]]] = [[], [], [Self.b("sub")], [Self.b("a"), Self.b("b")]]

        func place(_ bytes: [UInt8], ext: String, what: String, special: HostileFile.Special = .none, style: NameStyle,
                   asArgument: Bool, builder: inout HostileCaseBuilder) throws {
            let t = builder.token()
            let fileName = builder.name(t, ext: ext, style: style)
            let path: [[UInt8]] = asArgument ? [fileName] : [folder] + builder.r.pick(subfolders) + [fileName]
            switch special {
            case .none: try HostileFS.writeFile(root: builder.work, path, bytes)
            case .fifo: try HostileFS.makeFIFO(root: builder.work, path)
            case .devZeroLink: try HostileFS.makeSymlink(root: builder.work, path, target: Self.b("/dev/zero"))
            case .danglingLink:
                try HostileFS.makeSymlink(root: builder.work, path, target: Self.b("does-not-exist/zz.png"))
                builder.absentTokens.insert(Self.b(t))
            case .loopLink(let target):
                try HostileFS.makeSymlink(root: builder.work, path, target: target)
                builder.absentTokens.insert(Self.b(t))
            }
            // A name starting with '-' would be read as an option.
            let relative = (asArgument && fileName.first == 0x2D ? Self.b("./") : []) + path.dropFirst().reduce(path[0]) { $0 + [0x2F] + $1 }
            if asArgument { arguments.append(relative) }
            expected.append(HostileExpectedInput(token: Self.b(t), folderToken: asArgument ? nil : folderToken, what: what))
            switch special {
            case .fifo, .devZeroLink: break  // explain reads the file it is given, as `cat` would: never a FIFO or /dev/zero
            default:
                if what.hasPrefix("valid") { builder.validImages.append(relative) } else { builder.hostileImages.append(relative) }
            }
        }

        try HostileFS.makeFolder(root: work, [folder])
        var fileArgumentsLeft = plan.fileArguments
        for k in 0..<max(1, plan.valid) {
            let useFixture = k > 0 && r.chance(0.3)
            var bytes: [UInt8], what: String, ext = ".png"
            let jpegs = HostileImages.jpegFixtures(), suite = HostileImages.pngSuite().filter { !$0.hasPrefix("x") }
            if useFixture && r.chance(0.5) && !jpegs.isEmpty && bank.filters <= 8 && bank.side <= 7 && maxSide >= 40,
               let data = HostileImages.fixture("Tests/ConvBankTests/Fixtures/testdata/jpeg/" + r.pick(jpegs)) {
                bytes = data
                what = "valid JPEG fixture 157×121"
                ext = r.pick([".jpg", ".jpeg", ".JPG"])
            } else if useFixture && !suite.isEmpty && maxSide >= 32,
                      let data = HostileImages.fixture("Tests/ConvBankTests/Fixtures/testdata/pngsuite/" + r.pick(suite)) {
                bytes = data
                what = "valid PngSuite image"
            } else {
                (bytes, what) = HostileImages.validPNG(&r, maxSide: maxSide)
            }
            let asArgument = fileArgumentsLeft > 0 && r.chance(0.5)
            if asArgument { fileArgumentsLeft -= 1 }
            try place(bytes, ext: ext, what: what, style: plan.names, asArgument: asArgument, builder: &self)
        }
        let kinds: [Int?] = plan.forcedKinds.map { Optional($0) } + Array(repeating: nil, count: max(0, plan.hostile - plan.forcedKinds.count))
        let lightBank = bank.filters <= 8 && bank.side <= 7 && maxSide >= 40
        for forced in kinds {
            let file = HostileImages.hostile(&r, kind: forced, allowFullBombs: allowFullBombs, baseSide: maxSide, allowJPEGFixtures: lightBank)
            if file.declaredPixels > 0 { declared.append(file.declaredPixels) }
            notes.append("hostile input: \(file.what)")
            let ext = file.isJPEG ? r.pick([".jpg", ".jpeg", ".JPG"]) : r.pick(extensions)
            let asArgument = fileArgumentsLeft > 0 && r.chance(0.5)
            if asArgument { fileArgumentsLeft -= 1 }
            try place(file.bytes, ext: ext, what: file.what, special: file.special, style: plan.names, asArgument: asArgument, builder: &self)
        }
        if plan.links {
            for kind in [26, 27, 28] where r.chance(0.6) {
                let file = HostileImages.hostile(&r, kind: kind, allowFullBombs: false)
                notes.append("hostile input: \(file.what)")
                try place([], ext: ".png", what: file.what, special: file.special, style: plan.names, asArgument: false, builder: &self)
            }
            // A folder link back to the input folder (a loop), and two links pointing at each other.
            try place([], ext: "", what: "symbolic link loop to its own folder", special: .loopLink(target: Self.b(".")), style: .plain,
                      asArgument: false, builder: &self)
            let a = token(), b = token()
            try HostileFS.makeSymlink(root: work, [folder, Self.b(a + "_x.png")], target: Self.b(b + "_y.png"))
            try HostileFS.makeSymlink(root: work, [folder, Self.b(b + "_y.png")], target: Self.b(a + "_x.png"))
            absentTokens.formUnion([Self.b(a), Self.b(b)])
            expected.append(HostileExpectedInput(token: Self.b(a), folderToken: folderToken, what: "link to a link to itself"))
            expected.append(HostileExpectedInput(token: Self.b(b), folderToken: folderToken, what: "link to a link to itself"))
            notes.append("links: a loop to '.', two links pointing at each other, maybe dangling, /dev/zero, FIFO")
        }
        if plan.deep {
            // 18 folders of 240 bytes: the file's path is over 4,400 bytes, beyond PATH_MAX.
            let t = token()
            var path: [[UInt8]] = [folder]
            for level in 0..<18 { path.append(Self.b("d\(level)_" + String(repeating: "D", count: 236))) }
            path.append(Self.b(t + "_deep.png"))
            try HostileFS.writeFile(root: work, path, HostileImages.validPNG(&r, maxSide: min(8, maxSide)).bytes)
            expected.append(HostileExpectedInput(token: Self.b(t), folderToken: folderToken, what: "valid PNG at a path beyond PATH_MAX"))
            notes.append("one input at a path of \(path.reduce(0) { $0 + $1.count + 1 }) bytes")
        }
        if plan.fileArguments > 0, r.chance(0.3) {
            let t = token()
            arguments.append(Self.b(t + "_missing.png"))
            absentTokens.insert(Self.b(t))
            expected.append(HostileExpectedInput(token: Self.b(t), folderToken: nil, what: "a file argument that does not exist"))
        }
        if r.chance(0.1) {
            // A decoy that is not an input: folders pass over other extensions.
            try HostileFS.writeFile(root: work, [folder, Self.b("notes.txt")], Self.b("not an image"))
        }
        if r.chance(0.1) { arguments.append(folder) }  // the same folder twice: each input once
        return (arguments, expected)
    }

    // MARK: Runs

    mutating func applyRun(bank: HostileBankChoice, inputs plan: InputPlan, overrides: [[UInt8]] = [], decorate: Bool = true) throws -> HostileRunSpec {
        let placed = try placeInputs(plan, bank: bank, allowFullBombs: probe.applyMaxMemory)
        var output: [UInt8] = Self.b("out")
        switch r.below(20) {
        case 0, 1: output = placed.arguments[0] + Self.b("/out")  // inside the input folder
        case 2, 3: output = Self.b("o/u/t")
        case 4:
            output = placed.arguments[0]  // the input folder itself
            notes.append("the output folder is the input folder")
        default: break
        }
        if plan.nonUTF8Output {
            output = Self.b("out_") + [0xFE, 0xFF]
            notes.append("the output folder's name is not UTF-8")
        }
        var arguments: [[UInt8]] = [Self.b("apply")] + placed.arguments + [Self.b("--bank"), bank.argument, Self.b("--output"), output]
        if decorate {
            if r.chance(0.3) {
                let format = invalid(0.2) ? r.pick(["bmp", "PNG", "", "jpeg", "tiff"]) : r.pick(probe.formats)
                arguments += [Self.b("--format"), Self.b(format)]
            }
            if r.chance(0.3) { arguments += [Self.b("--normalize"), Self.b(invalid(0.2) ? "bogus" : r.pick(["clamp", "minmax", "abs", "symmetric"]))] }
            if r.chance(0.3) { arguments += [Self.b("--jobs"), Self.b(r.pick(["1", "2", "3"]))] }
            if r.chance(0.1) { arguments += [Self.b("--png-level"), Self.b(String(r.int(0...12)))] }
            if r.chance(0.12), bank.filters <= 64 { arguments += [Self.b("--sheet")] + (r.chance(0.3) ? [Self.b("--colormap"), Self.b("viridis")] : []) }
            if r.chance(0.15) { arguments += [Self.b("--stats")] }
            if r.chance(0.08), !arguments.contains(Self.b("npy")) { arguments += [Self.b("--gallery")] }
            if r.chance(0.08), bank.filters * bank.channels <= 48 { arguments += [Self.b("--partials")] }
            if r.chance(0.2) { arguments += [Self.b("-q")] }
            // `invalid` first, so the random stream (and every later case) is the same whether or not the binary has the flag.
            if r.chance(0.1), invalid(0.3) || probe.applyHas("--per-channel") { arguments += [Self.b("--per-channel")] }
            if r.chance(0.1), invalid(0.3) || probe.applyHas("--layout") { arguments += [Self.b("--layout"), Self.b("flat")] }
        }
        arguments = Self.deduplicated(arguments + overrides)
        if probe.applyMaxMemory {
            let value = invalid(0.3) ? r.pick(["0", "-1", "abc", "", "99999999999999999999", "1e300", "1", "1K", "1M", "64M", "512", "1.5G", "100M"])
                : probe.maxMemory
            arguments += [Self.b("--max-memory"), Self.b(value)]
        } else {
            clampMaxPixels(&arguments, bank: bank, partials: arguments.contains(Self.b("--partials")), sheet: arguments.contains(Self.b("--sheet")))
        }
        let timeout = baseTimeout + Double(bank.filters) / 1000 + extraTimeout
        defer {
            extraExpected = []
            extraTimeout = 0
        }
        return HostileRunSpec(kind: .apply, arguments: arguments, output: output, expected: placed.expected + extraExpected, timeout: timeout)
    }

    /// Without --max-memory, a header the pixel limit lets through may legitimately need gigabytes; then the
    /// case caps --max-pixels so that only images that fit in ~128 MB of work are decoded (the rest must still
    /// be refused from their header, as the contract says).
    mutating func clampMaxPixels(_ arguments: inout [[UInt8]], bank: HostileBankChoice, partials: Bool, sheet: Bool) {
        guard let largest = declared.max() else { return }
        let floatsPerPixel = 2 + 4 + bank.filters * (1 + (partials ? bank.channels : 0)) + (sheet ? 4 * bank.filters : 0)
        let cap = max(4096, (128 << 20) / (4 * floatsPerPixel))
        guard largest > cap else { return }
        let flag = Self.b("--max-pixels")
        if let k = arguments.firstIndex(of: flag), k + 1 < arguments.count {
            if let given = Int(String(decoding: arguments[k + 1], as: UTF8.self)), given <= cap { return }
            if Int(String(decoding: arguments[k + 1], as: UTF8.self)) == nil { return }  // refused as a usage error anyway
            arguments[k + 1] = Self.b(String(cap))
        } else {
            arguments += [flag, Self.b(String(cap))]
        }
        notes.append("--max-pixels \(cap): no --max-memory in this binary, and an input declares \(largest) pixels")
    }

    mutating func summaryRun(bank: HostileBankChoice, overrides: [[UInt8]] = [], forceSize: Bool = false) -> HostileRunSpec {
        var arguments: [[UInt8]] = [Self.b("summary"), Self.b("--bank"), bank.argument]
        if forceSize || r.chance(0.6) {
            let size = invalid(0.25) ? r.pick(["0,0", "-1,5", "1", "1,2,3", "", "x,y", "9223372036854775808,1"])
                : r.weighted([(3, r.pick(["1,1", "32,32", "7,5", "1000,1000", "1,1000000"])),
                              (2, r.pick(["9223372036854775807,9223372036854775807", "1000000000,1000000000", "3037000500,3037000500",
                                          "4294967296,1", "9223372036854775807,1", "4611686018427387904,2"])),
                              (3, r.pick(["999999999,999999999", "999999999,1", "1,999999999", "100000,100000", "65536,65536"]))])
            arguments += [Self.b("--input-size"), Self.b(size)]
        }
        arguments += overrides
        if probe.summaryMaxMemory { arguments += [Self.b("--max-memory"), Self.b(probe.maxMemory)] }
        return HostileRunSpec(kind: .summary, arguments: arguments, output: nil, timeout: baseTimeout + Double(bank.filters) / 1000)
    }

    mutating func explainRun(bank: HostileBankChoice, image: [UInt8], overrides: [[UInt8]] = [], forceAt: Bool = false) -> HostileRunSpec {
        let at = invalid(0.2) ? r.pick(["-1,0", "1,2,3", "", "1.5,2", "x,1"])
            : forceAt || r.chance(0.5)
            ? r.weighted([(2, r.pick(["0,0", "1,1", "2,3", "5,0"])),
                          (4, r.pick(["9223372036854775807,0", "0,9223372036854775807", "9223372036854775807,9223372036854775807",
                                      "1000000000,1000000000", "4611686018427387904,4611686018427387904", "2147483648,2147483648",
                                      "999999999,999999999", "999999999,0"]))])
            : r.pick(["0,0", "1,1", "3,2"])
        var arguments: [[UInt8]] = [Self.b("explain"), Self.b("--bank"), bank.argument, image, Self.b("--at"), Self.b(at)]
        if r.chance(0.3), let name = bank.firstFilterName { arguments += [Self.b("--filter"), Self.b(name)] }
        var output: [UInt8]? = nil
        if r.chance(0.3), bank.filters == 1 || arguments.contains(Self.b("--filter")) {
            output = Self.b("pic")
            try? HostileFS.makeFolder(root: work, [Self.b("pic")])
            arguments += [Self.b("--picture"), Self.b(r.chance(0.5) ? "pic/p.png" : "pic/p.html")]
        }
        arguments += overrides
        if probe.explainMaxMemory {
            arguments += [Self.b("--max-memory"), Self.b(probe.maxMemory)]
        } else {
            clampMaxPixels(&arguments, bank: bank, partials: output != nil, sheet: false)
        }
        return HostileRunSpec(kind: .explain, arguments: arguments, output: output, timeout: baseTimeout + Double(bank.filters) / 1000)
    }

    mutating func banksRun(spec: [UInt8]) -> HostileRunSpec {
        var arguments: [[UInt8]] = [Self.b("banks")]
        if r.chance(0.9) { arguments.append(spec) }
        return HostileRunSpec(kind: .banks, arguments: arguments, output: nil, timeout: baseTimeout)
    }
}

/// A bank file to render.
struct HostileBankPlan {
    enum Weights: CustomStringConvertible {
        case small, tiny, extreme, invalid
        var description: String {
            switch self {
            case .small: "small"
            case .tiny: "one-digit"
            case .extreme: "extreme (±3.4e38, subnormal)"
            case .invalid: "one invalid (NaN, 1e39, a string…)"
            }
        }
    }
    enum Names: CustomStringConvertible {
        case short, long200, long240, long255, long300, unicode240, weird
        var description: String {
            switch self {
            case .short: "short"
            case .long200: "200-character"
            case .long240: "240-character"
            case .long255: "255-character"
            case .long300: "300-character"
            case .unicode240: "240-byte Unicode"
            case .weird: "odd (spaces, control characters, slashes, dots)"
            }
        }
    }

    var stride: String? = nil
    var dilation: String? = nil
    var padding: String? = nil
    var paddingMode: String? = nil
    var activation: String? = nil
    var channels = 1
    var filters = 1
    var kernel = (3, 3)
    var weights = Weights.small
    var names = Names.short
    /// "filters" (per filter), "HWIO" (Keras) or "OIHW" (PyTorch).
    var layout = "filters"
    /// Built-in names put in the filters list.
    var builtinEntries: [String] = []

    func filterName(_ i: Int, _ r: inout SeededRandom) -> String {
        func padded(_ prefix: String, to length: Int) -> String {
            let fill = "abcdefghijklmnoprstuvwxy"
            var s = prefix
            var k = 0
            while s.utf8.count < length {
                s.append(fill[fill.index(fill.startIndex, offsetBy: k % fill.count)])
                k += 1
            }
            return s
        }
        switch names {
        case .short: return "f\(i)"
        case .long200: return padded("f\(i)_", to: 200)
        case .long240: return padded("f\(i)_", to: 240)
        case .long255: return padded("f\(i)_", to: 255)
        case .long300: return padded("f\(i)_", to: 300)
        case .unicode240:
            var s = "f\(i)_"
            while s.utf8.count + 2 <= 240 { s += "é" }
            return s
        case .weird:
            return r.pick([" lead", "tab\t", "new\nline", "-dash", "quo\"te", "back\\slash", "%s%n", "CON", "a/b", "..", "", ".hidden",
                           "nul\u{0}x", "sp ace", "日本語", "\u{202E}rtl", "trail.", "x.png"]) + (i == 0 ? "" : "\(i)")
        }
    }

    /// The bank JSON and the first filter's name.
    func render(_ r: inout SeededRandom) -> (json: [UInt8], firstName: String?) {
        var out = "{\"name\": \"prop\""
        if let stride { out += ", \"stride\": \(stride)" }
        if let dilation { out += ", \"dilation\": \(dilation)" }
        if let padding { out += ", \"padding\": \(padding)" }
        if let paddingMode { out += ", \"padding_mode\": \(paddingMode)" }
        if let activation { out += ", \"activation\": \(activation)" }
        let names = (0..<filters).map { filterName($0, &r) }
        let invalidAt = weights == .invalid ? r.below(max(1, filters * channels * kernel.0 * kernel.1)) : -1
        var counter = 0
        func weight(_ r: inout SeededRandom) -> String {
            defer { counter += 1 }
            if counter == invalidAt { return r.pick(HostileValues.invalidWeights) }
            switch weights {
            case .tiny: return r.pick(["1", "0", "-1", "2"])
            case .extreme: return r.chance(0.3) ? r.pick(HostileValues.extremeWeights) : r.pick(HostileValues.smallWeights)
            default: return r.pick(HostileValues.smallWeights)
            }
        }
        func bias(_ r: inout SeededRandom) -> String {
            switch weights {
            case .extreme: r.chance(0.3) ? r.pick(HostileValues.extremeWeights) : "0"
            case .invalid: r.chance(0.2) ? r.pick(HostileValues.invalidWeights) : "0"
            default: r.chance(0.3) ? r.pick(HostileValues.smallWeights) : "0"
            }
        }
        let (kh, kw) = kernel
        switch layout {
        case "HWIO":
            // kernel[kh][kw][C][F]
            var k = "["
            for i in 0..<kh {
                k += i == 0 ? "[" : ", ["
                for j in 0..<kw {
                    k += j == 0 ? "[" : ", ["
                    for c in 0..<channels {
                        k += c == 0 ? "[" : ", ["
                        k += (0..<filters).map { _ in weight(&r) }.joined(separator: ",")
                        k += "]"
                    }
                    k += "]"
                }
                k += "]"
            }
            k += "]"
            out += ", \"layout\": \"HWIO\", \"kernel\": \(k), \"bias\": [" + (0..<filters).map { _ in bias(&r) }.joined(separator: ",") + "]"
            if names.first != "f0" || r.chance(0.5) { out += ", \"names\": [" + names.map(HostileText.json).joined(separator: ",") + "]" }
        case "OIHW":
            var w = "["
            for f in 0..<filters {
                w += f == 0 ? "" : ", "
                w += "[" + (0..<channels).map { _ in
                    "[" + (0..<kh).map { _ in "[" + (0..<kw).map { _ in weight(&r) }.joined(separator: ",") + "]" }.joined(separator: ",") + "]"
                }.joined(separator: ",") + "]"
            }
            w += "]"
            out += ", \"layout\": \"OIHW\", \"weight\": \(w), \"bias\": [" + (0..<filters).map { _ in bias(&r) }.joined(separator: ",") + "]"
            if names.first != "f0" || r.chance(0.5) { out += ", \"names\": [" + names.map(HostileText.json).joined(separator: ",") + "]" }
        default:
            var items: [String] = []
            items.reserveCapacity(filters + builtinEntries.count)
            for f in 0..<filters {
                var item = "{\"name\": \(HostileText.json(names[f])), \"weights\": "
                let twoD = channels == 1 && r.chance(0.3)
                var perChannel: [String] = []
                for _ in 0..<channels {
                    var rows: [String] = []
                    rows.reserveCapacity(kh)
                    for _ in 0..<kh { rows.append("[" + (0..<kw).map { _ in weight(&r) }.joined(separator: ",") + "]") }
                    perChannel.append("[" + rows.joined(separator: ",") + "]")
                }
                item += twoD ? perChannel[0] : "[" + perChannel.joined(separator: ",") + "]"
                item += ", \"bias\": \(bias(&r))}"
                items.append(item)
            }
            items += builtinEntries.map(HostileText.json)
            out += ", \"filters\": [" + items.joined(separator: ",\n") + "]"
        }
        out += "}\n"
        return (Array(out.utf8), names.first ?? builtinEntries.first.map { _ in "f0" })
    }
}
