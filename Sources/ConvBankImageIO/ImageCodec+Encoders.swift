internal import CImageIO

/// The JPEG, WebP and TIFF writers. Every one takes interleaved samples (`(y, x, c)` at `(y · width + x) · channels
/// + c`, top-left first, no row padding) with 1 (gray), 3 (RGB) or 4 (RGBA) channels, so a colour map goes through the
/// same call as a gray one: pass `channels: 3`. Each returns the whole file; nothing is written to disk here.
extension ImageCodec {
    /// The quality of `jpeg` outputs when none is given: 90.
    public static let defaultJPEGQuality = 90

    /// Encodes 8-bit samples as a baseline JPEG: libjpeg(-turbo)'s standard tables scaled to `quality`
    /// (`jpeg_set_quality`, forced baseline), islow DCT, no Huffman optimization, a JFIF header. One channel is a
    /// one-component gray file; three are stored as YCbCr with 4:2:0 chroma subsampling (libjpeg's default, and what
    /// Pillow and OpenCV write at theirs); a fourth (alpha) is ignored. At most 65500 pixels a side.
    /// The corresponding C function is `cio_encode_jpeg`.
    /// - Parameters:
    ///   - samples: `width · height · channels` interleaved samples.
    ///   - width: pixels per row.
    ///   - height: rows.
    ///   - channels: 1, 3 or 4.
    ///   - quality: 1…100.
    ///   - path: The file the bytes are meant for, named in errors (may be empty).
    /// - Throws: `ImageCodecError` (`.unwritable`) with libjpeg's message.
    /// - Complexity: O(width · height · channels).
    public static func encodeJPEG(_ samples: [UInt8], width: Int, height: Int, channels: Int, quality: Int = defaultJPEGQuality,
                                  path: String = "") throws(ImageCodecError) -> [UInt8] {
        precondition(samples.count == width * height * channels, "samples do not fill the image")
        return try encoded(path: path, format: "JPEG") { out, count, message in
            samples.withUnsafeBufferPointer {
                cio_encode_jpeg($0.baseAddress, UInt32(clamping: width), UInt32(clamping: height), UInt32(clamping: channels), Int32(clamping: quality),
                                &out, &count, message)
            }
        }
    }

    /// Encodes 8-bit samples as WebP: lossless when `quality` is nil (the decoded pixels equal `samples`), else lossy
    /// VP8 at `quality` 1…100; libwebp's simple-API settings otherwise (method 4). WebP has no gray pixels: one
    /// channel is stored as R = G = B (and decodes as RGB). Four channels keep their alpha. At most 16383 pixels a side.
    /// The corresponding C function is `cio_encode_webp`.
    /// - Parameters:
    ///   - samples: `width · height · channels` interleaved samples.
    ///   - width: pixels per row.
    ///   - height: rows.
    ///   - channels: 1, 3 or 4.
    ///   - quality: nil for lossless, else 1…100.
    ///   - path: The file the bytes are meant for, named in errors (may be empty).
    /// - Throws: `ImageCodecError` (`.unwritable`) with libwebp's reason.
    /// - Complexity: O(width · height); lossless is the slower by far (see the README's measurements).
    public static func encodeWebP(_ samples: [UInt8], width: Int, height: Int, channels: Int, quality: Int? = nil,
                                  path: String = "") throws(ImageCodecError) -> [UInt8] {
        precondition(samples.count == width * height * channels, "samples do not fill the image")
        precondition(quality.map { (1...100).contains($0) } ?? true, "WebP quality is 1…100")
        return try encoded(path: path, format: "WebP") { out, count, message in
            samples.withUnsafeBufferPointer {
                cio_encode_webp($0.baseAddress, UInt32(clamping: width), UInt32(clamping: height), UInt32(clamping: channels), Int32(quality ?? 0),
                                &out, &count, message)
            }
        }
    }

    /// Encodes 32-bit floats as a TIFF whose samples are their exact bit patterns (SampleFormat IEEE float,
    /// little-endian): Adobe deflate at libdeflate level 1 with the floating-point predictor (3), strips of about
    /// 64 KiB. Channels 1 and 2 are MinIsBlack, 3 and 4 RGB; a 2nd or 4th channel is unassociated alpha. Past 4 GB of
    /// samples the file is BigTIFF. The corresponding C function is `cio_encode_tiff`.
    /// - Parameters:
    ///   - samples: `width · height · channels` interleaved values (NaN, infinities, −0 and subnormals kept as they are).
    ///   - width: pixels per row.
    ///   - height: rows.
    ///   - channels: 1…4.
    ///   - path: The file the bytes are meant for, named in errors (may be empty).
    /// - Throws: `ImageCodecError` (`.unwritable`) with libtiff's message.
    /// - Complexity: O(width · height · channels).
    public static func encodeTIFF(float32 samples: [Float], width: Int, height: Int, channels: Int,
                                  path: String = "") throws(ImageCodecError) -> [UInt8] {
        precondition(samples.count == width * height * channels, "samples do not fill the image")
        return try encoded(path: path, format: "TIFF") { out, count, message in
            samples.withUnsafeBufferPointer {
                cio_encode_tiff($0.baseAddress, UInt32(clamping: width), UInt32(clamping: height), UInt32(clamping: channels),
                                CIO_TIFF_FLOAT32.rawValue, tiffFloatPredictor, tiffLevel, &out, &count, message)
            }
        }
    }

    /// Encodes 16-bit unsigned samples as a TIFF: `encodeTIFF(float32:…)`'s layout with 16-bit samples and the
    /// horizontal-differencing predictor (2). The corresponding C function is `cio_encode_tiff`.
    /// - Parameters:
    ///   - samples: `width · height · channels` interleaved samples.
    ///   - width: pixels per row.
    ///   - height: rows.
    ///   - channels: 1…4.
    ///   - path: The file the bytes are meant for, named in errors (may be empty).
    /// - Throws: `ImageCodecError` (`.unwritable`) with libtiff's message.
    /// - Complexity: O(width · height · channels).
    public static func encodeTIFF(uint16 samples: [UInt16], width: Int, height: Int, channels: Int,
                                  path: String = "") throws(ImageCodecError) -> [UInt8] {
        precondition(samples.count == width * height * channels, "samples do not fill the image")
        return try encoded(path: path, format: "TIFF") { out, count, message in
            samples.withUnsafeBufferPointer {
                cio_encode_tiff($0.baseAddress, UInt32(clamping: width), UInt32(clamping: height), UInt32(clamping: channels),
                                CIO_TIFF_UINT16.rawValue, 2, tiffLevel, &out, &count, message)
            }
        }
    }

    /// Deflate level of TIFF outputs: 1 on libdeflate's scale, which libtiff's ZIPQUALITY uses. Measured on a
    /// Gaussian-blurred photo (float32): level 1 0.611 of the raw size at ≈ 100 MB/s, level 6 0.601 at ≈ 40 MB/s,
    /// level 9 0.586 at 8.
    static let tiffLevel: Int32 = 1
    /// Predictor of float TIFF outputs: 3, floating point. On a Gaussian-blurred photo it makes the file 30 % smaller
    /// than no predictor (0.611 against 0.878 of the raw size, and no slower); on an integer-valued Sobel map it is
    /// 7 % larger (0.700 against 0.653). Blurred and fractional values are the common case.
    static let tiffFloatPredictor: Int32 = 3

    /// Runs one C encoder and copies its malloc'ed file out.
    private static func encoded(path: String, format: String,
                                _ body: (inout UnsafeMutablePointer<UInt8>?, inout Int, UnsafeMutablePointer<CChar>) -> cio_status)
        throws(ImageCodecError) -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>? = nil
        var count = 0
        var message = [CChar](repeating: 0, count: Int(CIO_MESSAGE_CAPACITY))
        let status = message.withUnsafeMutableBufferPointer { body(&out, &count, $0.baseAddress!) }
        defer { cio_free(out) }
        guard status == CIO_OK, let out else {
            let text = message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw ImageCodecError(.unwritable, path: path, detail: "\(format) encoding failed: \(text.isEmpty ? "unknown error" : text)")
        }
        return Array(UnsafeBufferPointer(start: out, count: count))
    }
}
