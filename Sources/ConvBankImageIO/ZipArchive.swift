internal import CImageIO

/// A zip archive held in memory, read from its central directory (the authority for names, sizes and offsets; the
/// local headers only locate the data): stored and deflated members, zip64 end records and extra fields (NumPy's
/// `savez` writes zip64 local headers), one disk. Hostile archives are refused before anything large is allocated:
/// every offset and size is checked against the file, members' data may not overlap (the "overlapping files" zip
/// bomb), the declared uncompressed sizes must add up to at most `limit`, and a member is inflated into a buffer of
/// exactly its declared size, so one that inflates further (or less) is refused having cost at most that size.
struct ZipArchive {
    /// One member, as the central directory declares it.
    struct Member {
        /// The member's name (UTF-8, as NumPy and Python's `zipfile` write it).
        var name: String
        /// 0 stored, 8 deflated.
        var method: Int
        /// General-purpose flags (bit 0: encrypted).
        var flags: Int
        /// CRC-32 of the uncompressed bytes.
        var crc: UInt32
        /// Bytes of stored or compressed data.
        var compressedSize: Int
        /// Declared uncompressed size.
        var size: Int
        /// Where the local header starts.
        var localOffset: Int
        /// Where the member's data starts (after the local header, its name and extra field).
        var dataOffset = 0
    }

    /// Why an archive or a member cannot be read, in one line (the caller names the file).
    struct Failure: Error {
        /// The problem.
        var reason: String
    }

    /// The most members an archive may list.
    static let maximumMembers = 100_000

    let bytes: [UInt8]
    /// The cap on declared uncompressed sizes.
    let limit: Int
    /// Members in central-directory order.
    private(set) var members: [Member] = []

    /// Reads the central directory of `bytes`; `limit` caps the sum of the declared uncompressed sizes of the
    /// members `counted` selects (the ones that will be read).
    /// - Complexity: O(members · log members) after the O(65 KiB) search for the end record.
    init(bytes: [UInt8], limit: Int, counted: (String) -> Bool) throws(Failure) {
        self.bytes = bytes
        self.limit = limit
        let n = bytes.count
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        func u64(_ at: Int) -> UInt64 { UInt64(u32(at)) | UInt64(u32(at + 4)) << 32 }
        func checked(_ v: UInt64, _ what: String) throws(Failure) -> Int {
            guard v <= UInt64(n) else { throw Failure(reason: "\(what) \(v) lies beyond the file's \(n) bytes") }
            return Int(v)
        }

        // End of central directory: 22 bytes plus a comment of at most 65535, at the end of the file.
        guard n >= 22 else { throw Failure(reason: "truncated zip file (\(n) bytes, no end-of-directory record)") }
        var eocd = -1
        var at = n - 22
        while at >= max(0, n - 22 - 65535) {
            if bytes[at] == 0x50, bytes[at + 1] == 0x4B, bytes[at + 2] == 5, bytes[at + 3] == 6, at + 22 + u16(at + 20) <= n {
                eocd = at
                break
            }
            at -= 1
        }
        guard eocd >= 0 else { throw Failure(reason: "no zip end-of-directory record (truncated or not a zip file)") }
        guard u16(eocd + 4) == 0, u16(eocd + 6) == 0 || u16(eocd + 6) == 0xFFFF else {
            throw Failure(reason: "multi-disk zip archives are not supported")
        }
        var entries = UInt64(u16(eocd + 10)), directorySize = UInt64(u32(eocd + 12)), directoryOffset = UInt64(u32(eocd + 16))
        // Zip64: a locator just before the end record points to the zip64 end record.
        if eocd >= 20, bytes[eocd - 20] == 0x50, bytes[eocd - 19] == 0x4B, bytes[eocd - 18] == 6, bytes[eocd - 17] == 7 {
            let record = try checked(u64(eocd - 12), "zip64 end record offset")
            guard record <= n - 56, u32(record) == 0x0606_4B50 else { throw Failure(reason: "bad zip64 end-of-directory record") }
            entries = u64(record + 32)
            directorySize = u64(record + 40)
            directoryOffset = u64(record + 48)
        }
        guard entries <= UInt64(Self.maximumMembers) else {
            throw Failure(reason: "the archive lists \(entries) members, more than the \(Self.maximumMembers) read")
        }
        let start = try checked(directoryOffset, "central directory offset")
        let size = try checked(directorySize, "central directory size")
        guard size <= n - start else { throw Failure(reason: "the central directory runs past the end of the file") }
        let directoryEnd = start + size

        var p = start
        for index in 0..<Int(entries) {
            guard p <= directoryEnd - 46, u32(p) == 0x0201_4B50 else {
                throw Failure(reason: "central directory entry \(index) is damaged or missing")
            }
            let nameLength = u16(p + 28), extraLength = u16(p + 30), commentLength = u16(p + 32)
            guard nameLength + extraLength + commentLength <= directoryEnd - p - 46 else {
                throw Failure(reason: "central directory entry \(index) runs past the directory")
            }
            var member = Member(name: String(decoding: bytes[(p + 46)..<(p + 46 + nameLength)], as: UTF8.self), method: u16(p + 10),
                                flags: u16(p + 8), crc: UInt32(u32(p + 16)), compressedSize: u32(p + 20), size: u32(p + 24),
                                localOffset: u32(p + 42))
            // Zip64 extra field (id 1): the 64-bit values of the fields that hold 0xFFFFFFFF, in this order.
            var e = p + 46 + nameLength
            let extraEnd = e + extraLength
            while e + 4 <= extraEnd {
                let id = u16(e), length = u16(e + 2)
                guard length <= extraEnd - e - 4 else { throw Failure(reason: "member '\(member.name)': damaged extra field") }
                if id == 1 {
                    var q = e + 4
                    func next() throws(Failure) -> Int {
                        guard q + 8 <= e + 4 + length else { throw Failure(reason: "member '\(member.name)': short zip64 extra field") }
                        defer { q += 8 }
                        return try checked(u64(q), "member '\(member.name)': zip64 size or offset")
                    }
                    if member.size == 0xFFFF_FFFF {
                        // The uncompressed size may exceed the file (that is what compression is for): cap it instead.
                        guard q + 8 <= e + 4 + length else { throw Failure(reason: "member '\(member.name)': short zip64 extra field") }
                        let v = u64(q)
                        q += 8
                        guard v <= UInt64(limit) else {
                            throw Failure(reason: "member '\(member.name)' declares \(v) bytes, more than the \(limit >> 20) MiB limit")
                        }
                        member.size = Int(v)
                    }
                    if member.compressedSize == 0xFFFF_FFFF { member.compressedSize = try next() }
                    if member.localOffset == 0xFFFF_FFFF { member.localOffset = try next() }
                }
                e += 4 + length
            }
            members.append(member)
            p += 46 + nameLength + extraLength + commentLength
        }

        // Local headers: where each member's data starts; data within the file, before the directory, no overlaps.
        var total = 0
        for i in members.indices {
            let m = members[i]
            guard m.localOffset <= n - 30, u32(m.localOffset) == 0x0403_4B50 else {
                throw Failure(reason: "member '\(m.name)': no local header at offset \(m.localOffset)")
            }
            let dataOffset = m.localOffset + 30 + u16(m.localOffset + 26) + u16(m.localOffset + 28)
            guard dataOffset <= start, m.compressedSize <= start - dataOffset else {
                throw Failure(reason: "member '\(m.name)': its \(m.compressedSize) bytes of data run past the archive's data")
            }
            members[i].dataOffset = dataOffset
            if counted(m.name) {
                guard m.size <= limit - total else {
                    throw Failure(reason: "the members declare more than \(limit >> 20) MiB uncompressed in all (a zip bomb?)")
                }
                total += m.size
            }
        }
        let byOffset = members.sorted { $0.localOffset < $1.localOffset }
        for (a, b) in zip(byOffset, byOffset.dropFirst()) where a.dataOffset + a.compressedSize > b.localOffset {
            throw Failure(reason: "members '\(a.name)' and '\(b.name)' overlap (a zip bomb?)")
        }
        var seen = Set<String>()
        for m in members where !seen.insert(m.name).inserted {
            throw Failure(reason: "the archive holds two members named '\(m.name)'")
        }
    }

    /// The uncompressed bytes of `member`, CRC-checked.
    /// - Throws: `Failure` for encryption, an unknown method, a size that deflate cannot reach, data that inflates
    ///   to more or fewer bytes than declared, corrupt deflate data or a CRC mismatch.
    /// - Complexity: O(member.size); never allocates more than `member.size` bytes.
    func contents(of member: Member) throws(Failure) -> [UInt8] {
        guard member.size <= limit else { throw Failure(reason: "declares \(member.size) bytes, more than the \(limit >> 20) MiB limit") }
        guard member.flags & 1 == 0 else { throw Failure(reason: "encrypted members are not supported") }
        let data = bytes[member.dataOffset..<(member.dataOffset + member.compressedSize)]
        let out: [UInt8]
        switch member.method {
        case 0:
            guard member.compressedSize == member.size else {
                throw Failure(reason: "stored member of \(member.compressedSize) bytes declares \(member.size)")
            }
            out = Array(data)
        case 8:
            // Deflate gives at most 258 bytes per 2 bits (≈ 1032:1): a larger claim is a lie, refused before inflating.
            guard member.size / 1032 <= member.compressedSize + 1 else {
                throw Failure(reason: "declares \(member.size) bytes from \(member.compressedSize) compressed, more than deflate can give (a zip bomb?)")
            }
            var buffer = [UInt8](repeating: 0, count: max(member.size, 1))
            var produced = 0
            let status = data.withUnsafeBufferPointer { input in
                buffer.withUnsafeMutableBufferPointer { output in
                    cio_inflate_raw(input.baseAddress, input.count, output.baseAddress, member.size, &produced)
                }
            }
            switch status {
            case CIO_INFLATE_OK: break
            case CIO_INFLATE_LONG: throw Failure(reason: "inflates past its declared \(member.size) bytes (a zip bomb?)")
            case CIO_INFLATE_SHORT: throw Failure(reason: "inflates to \(produced) bytes, fewer than its declared \(member.size)")
            case CIO_INFLATE_NO_MEMORY: throw Failure(reason: "out of memory")
            default: throw Failure(reason: "corrupt deflate data")
            }
            buffer.removeLast(buffer.count - member.size)
            out = buffer
        default:
            throw Failure(reason: "compression method \(member.method) is not supported (stored and deflate are)")
        }
        let crc = out.withUnsafeBufferPointer { cio_crc32($0.baseAddress, $0.count) }
        guard crc == member.crc else { throw Failure(reason: "CRC mismatch (damaged data)") }
        return out
    }
}
