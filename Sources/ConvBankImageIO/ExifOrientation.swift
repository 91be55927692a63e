import ConvBankEngine

/// The EXIF `Orientation` tag (0x0112): how the stored pixels must be turned to display upright.
/// Values 1…8 as in the EXIF/TIFF specification; anything else (0, missing, out of range) is `.up`.
public enum ExifOrientation: Int, Sendable, CaseIterable {
    /// 1: stored upright (also what a missing or unreadable tag means).
    case up = 1
    /// 2: mirrored left to right to display.
    case mirrored = 2
    /// 3: turned 180° to display.
    case rotated180 = 3
    /// 4: mirrored top to bottom to display.
    case flipped = 4
    /// 5: transposed to display (mirrored along the top-left to bottom-right diagonal): shown `(y, x)` is
    /// stored `(x, y)`.
    case transposed = 5
    /// 6: turned 90° clockwise to display.
    case rotatedClockwise = 6
    /// 7: transversed to display (mirrored along the top-right to bottom-left diagonal).
    case transversed = 7
    /// 8: turned 90° counter-clockwise to display.
    case rotatedCounterClockwise = 8

    /// Whether applying it swaps width and height (values 5…8).
    public var swapsAxes: Bool { rawValue >= 5 }

    /// Reads the orientation from a JPEG's first `APP1` `Exif` segment (before the first scan). Never traps on
    /// damaged data: whatever cannot be read is `.up`.
    /// - Complexity: O(header size).
    public static func fromJPEG(_ bytes: [UInt8]) -> ExifOrientation {
        var i = 2  // after SOI
        while i + 4 <= bytes.count {
            guard bytes[i] == 0xFF else { return .up }
            let marker = bytes[i + 1]
            if marker == 0xFF { i += 1; continue }  // fill byte
            if marker == 0xD8 || marker == 0x01 || (0xD0...0xD7).contains(marker) { i += 2; continue }
            if marker == 0xDA || marker == 0xD9 { return .up }  // scan data or end: no EXIF before it
            let length = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
            guard length >= 2, i + 2 + length <= bytes.count else { return .up }
            if marker == 0xE1, length >= 8, Array(bytes[(i + 4)..<(i + 10)]) == [0x45, 0x78, 0x69, 0x66, 0, 0] {
                return fromTIFF(Array(bytes[(i + 10)..<(i + 2 + length)]))
            }
            i += 2 + length
        }
        return .up
    }

    /// Reads tag 0x0112 from IFD0 of a TIFF structure (the payload of an EXIF segment).
    static func fromTIFF(_ t: [UInt8]) -> ExifOrientation {
        guard t.count >= 8 else { return .up }
        let little: Bool
        switch (t[0], t[1]) {
        case (0x49, 0x49): little = true
        case (0x4D, 0x4D): little = false
        default: return .up
        }
        func u16(_ o: Int) -> Int? {
            guard o >= 0, o + 2 <= t.count else { return nil }
            return little ? Int(t[o]) | Int(t[o + 1]) << 8 : Int(t[o]) << 8 | Int(t[o + 1])
        }
        func u32(_ o: Int) -> Int? {
            guard let a = u16(o), let b = u16(o + 2) else { return nil }
            return little ? a | b << 16 : a << 16 | b
        }
        guard u16(2) == 42, let ifd = u32(4), let count = u16(ifd) else { return .up }
        for k in 0..<count {
            let entry = ifd + 2 + 12 * k
            guard let tag = u16(entry) else { return .up }
            if tag == 0x0112 {
                guard let type = u16(entry + 2), type == 3, let value = u16(entry + 8) else { return .up }
                return ExifOrientation(rawValue: value) ?? .up
            }
        }
        return .up
    }

    /// `image` turned upright.
    /// - Complexity: O(height · width · channels).
    public func apply(to image: Tensor) -> Tensor {
        if self == .up { return image }
        let h = image.height, w = image.width
        let oh = swapsAxes ? w : h, ow = swapsAxes ? h : w
        var out = Tensor(height: oh, width: ow, channels: image.channels)
        for c in 0..<image.channels {
            for y in 0..<oh {
                for x in 0..<ow {
                    // (sy, sx): the stored pixel shown at (y, x).
                    let (sy, sx): (Int, Int)
                    switch self {
                    case .up: (sy, sx) = (y, x)
                    case .mirrored: (sy, sx) = (y, w - 1 - x)
                    case .rotated180: (sy, sx) = (h - 1 - y, w - 1 - x)
                    case .flipped: (sy, sx) = (h - 1 - y, x)
                    case .transposed: (sy, sx) = (x, y)
                    case .rotatedClockwise: (sy, sx) = (h - 1 - x, y)
                    case .transversed: (sy, sx) = (h - 1 - x, w - 1 - y)
                    case .rotatedCounterClockwise: (sy, sx) = (x, w - 1 - y)
                    }
                    out[y, x, c] = image[sy, sx, c]
                }
            }
        }
        return out
    }
}
