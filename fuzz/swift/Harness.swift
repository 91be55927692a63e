// libFuzzer target over the Swift side of decoding: ImageCodec.decode(bytes:path:maxPixels:) (sniffing, status
// mapping, warnings → error, planar conversion, CMYK → RGB, EXIF orientation) and the EXIF parser
// (ExifOrientation.fromJPEG / fromTIFF). Compiled by fuzz/swift/run.sh together with those Swift files of
// the engine and image I/O sources and the C decoders, so a trap (index out of range, overflow, precondition) is a crash.

/// Checks the decoded image against the documented contract; traps (a crash for libFuzzer) if it is broken.
private func check(_ image: DecodedImage, _ count: Int) {
    let t = image.tensor
    precondition(t.height >= 1 && t.width >= 1, "empty image")
    precondition(t.height * t.width <= 1 << 22, "pixel limit not enforced")
    precondition([1, 2, 3, 4].contains(t.channels), "channel count \(t.channels)")
    // 32-bit float samples come only from TIFF, raw and finite (a NaN or infinity refuses the file).
    precondition(image.bitDepth == 8 || image.bitDepth == 16 || (image.bitDepth == 32 && image.format == .tiff), "bit depth \(image.bitDepth)")
    precondition(t.storage.count == t.height * t.width * t.channels)
    if image.bitDepth == 32 {
        for v in t.storage { precondition(v.isFinite, "sample \(v) not finite") }
    } else {
        let top: Float = image.bitDepth == 16 ? 65535 : 255
        for v in t.storage { precondition(v >= 0 && v <= top, "sample \(v) outside 0…\(top)") }
    }
    if image.format == .png { precondition(image.orientation == .up && !image.wasCMYK) }
    if image.wasCMYK { precondition(t.channels == 3) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))

    // 1. The whole decode path, as the CLI reaches it.
    do {
        let image = try ImageCodec.decode(bytes: bytes, path: "fuzz", maxPixels: 1 << 22)
        check(image, size)
    } catch {
        precondition(!error.detail.isEmpty, "error without detail")
    }

    // 2. The EXIF parser on the raw bytes (segment walk) and on the bytes as a TIFF payload inside an APP1 segment.
    _ = ExifOrientation.fromJPEG(bytes)
    if size <= 65533 - 8 {
        let length = size + 8
        var jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF), 0x45, 0x78, 0x69, 0x66, 0, 0]
        jpeg += bytes
        jpeg += [0xFF, 0xD9]
        let orientation = ExifOrientation.fromJPEG(jpeg)
        let turned = orientation.apply(to: Tensor(height: 2, width: 3, channels: 1, storage: [1, 2, 3, 4, 5, 6]))
        precondition(turned.storage.sorted() == [1, 2, 3, 4, 5, 6])
        precondition(turned.height == (orientation.swapsAxes ? 3 : 2))
    }
    return 0
}
