import ConvBankEngine
internal import CImageIO
import Foundation

/// A decoded image: raw samples as floats, in the file's own channels (gray 1, gray+alpha 2, RGB 3, RGBA 4;
/// palette PNGs and TIFFs and CMYK JPEGs arrive as RGB), turned upright by its EXIF orientation (JPEG) or its
/// Orientation tag (TIFF).
public struct DecodedImage: Sendable {
    /// The file formats read, told apart by their first bytes; the raw value is the name used in messages.
    public enum Format: String, Sendable {
        /// PNG: 8 or 16 bits per sample after expansion (1-, 2- and 4-bit gray and palette images become 8-bit).
        case png = "PNG"
        /// JPEG: 8 bits per sample.
        case jpeg = "JPEG"
        /// TIFF (first image only): 8 or 16 bits per sample (1-, 2- and 4-bit gray become 8-bit, palette images
        /// 16-bit RGB from the colour map), or 32-bit float samples kept as they are.
        case tiff = "TIFF"
        /// WebP, lossy or lossless (an animation's first frame): 8 bits per sample.
        case webp = "WebP"
    }

    /// The samples as `Float`, unscaled (0…255 for 8-bit files, 0…65535 for 16-bit ones, a float TIFF's own
    /// values), `height × width × channels` with the file's channels, upright.
    public var tensor: Tensor
    /// The format the bytes were in.
    public var format: Format
    /// Bits per sample in the file after expansion: 8 or 16, or 32 for a float TIFF.
    public var bitDepth: Int
    /// The orientation that was applied (always `.up` for PNG and WebP).
    public var orientation: ExifOrientation
    /// Whether the file stored CMYK (converted to RGB).
    public var wasCMYK: Bool
}

/// Reads PNG, JPEG, TIFF and WebP files into tensors and writes grayscale PNGs; the only caller of the `CImageIO` shim.
public enum ImageCodec {
    /// Images with more pixels than this are refused from their header: 2^28 ≈ 268 megapixels.
    public static let defaultMaxPixels = 1 << 28

    /// How to lift the pixel limit, appended to the errors it causes.
    public static let pixelLimitHelp = "the limit guards against decompression bombs: raise it with --max-pixels N (memory stays bounded by --max-memory)"

    /// The largest file worth reading under a pixel limit: 16-bit RGBA samples plus 64 MiB (saturating).
    package static func fileSizeLimit(maxPixels: Int) -> Int {
        let (bytes, overflow) = max(maxPixels, 1).multipliedReportingOverflow(by: 8)
        return overflow || bytes > Int.max - (64 << 20) ? Int.max : bytes + (64 << 20)
    }

    /// The format the bytes start with, if any: the PNG signature, a JPEG's `FF D8 FF`, a TIFF's `II*\0` or
    /// `MM\0*` (BigTIFF: `II+\0`, `MM\0+`), a WebP's `RIFF` … `WEBP`. Never the file name.
    /// - Complexity: O(1).
    public static func sniff(_ bytes: [UInt8]) -> DecodedImage.Format? {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if bytes.starts(with: [0x49, 0x49, 0x2A, 0x00]) || bytes.starts(with: [0x4D, 0x4D, 0x00, 0x2A]) { return .tiff }
        if bytes.starts(with: [0x49, 0x49, 0x2B, 0x00]) || bytes.starts(with: [0x4D, 0x4D, 0x00, 0x2B]) { return .tiff }
        if bytes.count >= 12, bytes.starts(with: Array("RIFF".utf8)), bytes[8..<12].elementsEqual("WEBP".utf8) { return .webp }
        return nil
    }

    /// What `sniff` knows, for messages about bytes that are none of them.
    static let knownFormats = "a PNG, JPEG, TIFF or WebP file"

    /// What an image's header says, read without decoding: enough to work out the memory that decoding and
    /// filtering it will need before any of it is allocated.
    public struct Header: Sendable, Equatable {
        /// The file's format.
        public var format: DecodedImage.Format
        /// Width and height after the EXIF orientation (JPEG) or the Orientation tag (TIFF).
        public var extent: Extent2D
        /// Channels of the decoded tensor (palette PNG or TIFF and CMYK JPEG: 3).
        public var channels: Int
        /// Bytes per pixel of the decoder's own buffers: its interleaved samples (palette PNG: index and RGB both),
        /// for a progressive JPEG its whole-image coefficient buffers (2 bytes per component), for a TIFF its strip
        /// or tile buffer, for a WebP libwebp's own image (lossless) or canvases (animation), spread over the pixels.
        public var rawBytesPerPixel: Int
    }

    /// Reads the header of image bytes (PNG: IHDR; JPEG: the first SOF segment, and the EXIF orientation; TIFF: the
    /// first image directory, through libtiff; WebP: the VP8/VP8L/VP8X header, through libwebp).
    /// Nil when the bytes are none of these or the header cannot be read; decoding then reports the problem.
    /// - Complexity: O(bytes before the first scan) for JPEG, O(1) for PNG and WebP, O(first directory) for TIFF.
    public static func header(of bytes: [UInt8]) -> Header? {
        func be16(_ i: Int) -> Int { Int(bytes[i]) << 8 | Int(bytes[i + 1]) }
        func be32(_ i: Int) -> Int { be16(i) << 16 | be16(i + 2) }
        switch sniff(bytes) {
        case .png?:
            guard bytes.count >= 26, bytes[12..<16].elementsEqual("IHDR".utf8) else { return nil }
            let depthBytes = bytes[24] == 16 ? 2 : 1
            let (channels, raw): (Int, Int)
            switch bytes[25] {
            case 0: (channels, raw) = (1, depthBytes)
            case 2: (channels, raw) = (3, 3 * depthBytes)
            case 3: (channels, raw) = (3, 4)
            case 4: (channels, raw) = (2, 2 * depthBytes)
            case 6: (channels, raw) = (4, 4 * depthBytes)
            default: return nil
            }
            return Header(format: .png, extent: Extent2D(height: be32(20), width: be32(16)), channels: channels, rawBytesPerPixel: raw)
        case .jpeg?:
            var i = 2
            while i + 3 < bytes.count {
                guard bytes[i] == 0xFF else { return nil }
                let marker = bytes[i + 1]
                if marker == 0xFF { i += 1; continue }
                if marker == 0x01 || (0xD0...0xD7).contains(marker) { i += 2; continue }
                if marker == 0xDA || marker == 0xD9 { return nil }  // a scan before any frame header
                let length = be16(i + 2)
                guard length >= 2 else { return nil }
                if (0xC0...0xCF).contains(marker), marker != 0xC4, marker != 0xC8, marker != 0xCC {
                    guard i + 9 < bytes.count else { return nil }
                    let height = be16(i + 5), width = be16(i + 7), components = Int(bytes[i + 9])
                    let swapped = ExifOrientation.fromJPEG(bytes).swapsAxes
                    let progressive = [0xC2, 0xC6, 0xCA, 0xCE].contains(marker)
                    return Header(format: .jpeg, extent: swapped ? Extent2D(height: width, width: height) : Extent2D(height: height, width: width),
                                  channels: components == 1 ? 1 : 3, rawBytesPerPixel: max(components, 1) * (progressive ? 3 : 1))
                }
                i += 2 + length
            }
            return nil
        case let format?:
            guard case .success(let info) = imageInfo(format, bytes: bytes, maxPixels: .max) else { return nil }
            let pixels = max(Int(info.width) * Int(info.height), 1)
            let swapped = (ExifOrientation(rawValue: Int(info.orientation)) ?? .up).swapsAxes
            let extent = swapped ? Extent2D(height: Int(info.width), width: Int(info.height)) : Extent2D(height: Int(info.height), width: Int(info.width))
            let decoderBytes = (Int(clamping: info.decoder_bytes) + pixels - 1) / pixels
            return Header(format: format, extent: extent, channels: Int(info.channels),
                          rawBytesPerPixel: Int(info.channels) * Int(info.bit_depth) / 8 + decoderBytes)
        case nil:
            return nil
        }
    }

    /// The C layer's header facts of a TIFF or WebP (`cio_tiff_info`, `cio_webp_info`), or its status and message.
    /// The corresponding C functions are `cio_tiff_info` and `cio_webp_info`.
    static func imageInfo(_ format: DecodedImage.Format, bytes: [UInt8], maxPixels: UInt64) -> Result<cio_image_info, InfoFailure> {
        var info = cio_image_info()
        var message = [CChar](repeating: 0, count: Int(CIO_MESSAGE_CAPACITY))
        let status = bytes.withUnsafeBufferPointer { buffer in
            switch format {
            case .tiff: cio_tiff_info(buffer.baseAddress, buffer.count, maxPixels, &info, &message)
            case .webp: cio_webp_info(buffer.baseAddress, buffer.count, maxPixels, &info, &message)
            case .png, .jpeg: preconditionFailure("PNG and JPEG headers are read in Swift")
            }
        }
        return status == CIO_OK ? .success(info) : .failure(InfoFailure(status: status, message: message))
    }

    /// Why `imageInfo` failed: the C status and message, for `decodeError`.
    struct InfoFailure: Error {
        var status: cio_status
        var message: [CChar]
    }

    /// Reads and decodes the file at `path`: a PNG, JPEG, TIFF or WebP, told apart by its bytes, not its name.
    /// - Parameters:
    ///   - path: The file; a lossless path string (see `FileSystem`).
    ///   - maxPixels: Images with more pixels are refused from their header, before any decoding; a larger file
    ///     than such an image could take is refused before it is read.
    /// - Throws: `ImageCodecError` naming the file: unreadable, not an image, corrupt or truncated, too large.
    /// - Complexity: O(file size + pixels).
    public static func decode(path: String, maxPixels: Int = defaultMaxPixels) throws(ImageCodecError) -> DecodedImage {
        // A file can hold at most 16-bit RGBA samples plus some slack; anything larger is not worth reading.
        let limit = ImageCodec.fileSizeLimit(maxPixels: maxPixels)
        let bytes = try readFile(path, limit: limit)
        return try decode(bytes: bytes, path: path, maxPixels: maxPixels)
    }

    /// Decodes PNG, JPEG, TIFF or WebP bytes (told apart by their signature, not the file name). A TIFF's
    /// Orientation tag and a JPEG's EXIF orientation are applied; a float TIFF's samples are kept as they are, but
    /// one holding NaN or an infinity is refused (`unsupported`: no filter can give a number from it).
    /// - Parameters:
    ///   - bytes: The whole file.
    ///   - path: Named in errors only.
    ///   - maxPixels: Images with more pixels are refused from their header, before any decoding.
    /// - Throws: `ImageCodecError` naming `path`: not an image, unsupported, corrupt or truncated (a decoder
    ///   warning, or any libtiff error, is an error too), too large, out of memory.
    /// - Complexity: O(pixels).
    public static func decode(bytes: [UInt8], path: String, maxPixels: Int = defaultMaxPixels) throws(ImageCodecError) -> DecodedImage {
        guard let format = sniff(bytes) else {
            let start = bytes.prefix(4).map { String(format: "0x%02x", $0) }.joined(separator: " ")
            throw ImageCodecError(.notAnImage, path: path, detail: bytes.isEmpty ? "empty file" : "not \(knownFormats) (starts with \(start))")
        }
        var raster = cio_raster()
        var info = cio_image_info()
        var message = [CChar](repeating: 0, count: Int(CIO_MESSAGE_CAPACITY))
        let status = bytes.withUnsafeBufferPointer { buffer in
            switch format {
            case .png: cio_decode_png(buffer.baseAddress, buffer.count, UInt64(max(maxPixels, 0)), &raster, &message)
            case .jpeg: cio_decode_jpeg(buffer.baseAddress, buffer.count, UInt64(max(maxPixels, 0)), &raster, &message)
            case .tiff: cio_decode_tiff(buffer.baseAddress, buffer.count, UInt64(max(maxPixels, 0)), &raster, &info, &message)
            case .webp: cio_decode_webp(buffer.baseAddress, buffer.count, UInt64(max(maxPixels, 0)), &raster, &info, &message)
            }
        }
        defer { cio_free(raster.samples) }
        guard status == CIO_OK else { throw decodeError(status, message, format: format, path: path) }
        let text = message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        if raster.warnings > 0 {
            throw ImageCodecError(.corrupt, path: path, detail: "\(format.rawValue): \(text.isEmpty ? "damaged data" : text)")
        }
        let width = Int(raster.width), height = Int(raster.height), channels = Int(raster.channels)
        let cmyk = raster.model == CIO_MODEL_CMYK.rawValue
        var tensor = cmyk
            ? cmykToRGB(UnsafePointer(raster.samples.assumingMemoryBound(to: UInt8.self)), width: width, height: height)
            : planar(raster, width: width, height: height, channels: channels)
        if raster.bit_depth == 32, let bad = firstNonFinite(raster, count: width * height * channels) {
            let p = bad / channels, value = raster.samples.assumingMemoryBound(to: Float.self)[bad]
            throw ImageCodecError(.unsupported, path: path, detail: "\(format.rawValue): float sample \(value) at x \(p % width), y \(p / width) (as stored), channel \(bad % channels); only finite values can be filtered")
        }
        var orientation = ExifOrientation.up
        if format == .jpeg { orientation = ExifOrientation.fromJPEG(bytes) }
        if format == .tiff { orientation = ExifOrientation(rawValue: Int(info.orientation)) ?? .up }
        tensor = orientation.apply(to: tensor)
        return DecodedImage(tensor: tensor, format: format, bitDepth: Int(raster.bit_depth), orientation: orientation, wasCMYK: cmyk)
    }

    /// The index of the first sample of a float raster that is NaN or infinite, if any.
    private static func firstNonFinite(_ raster: cio_raster, count: Int) -> Int? {
        let s = raster.samples.assumingMemoryBound(to: Float.self)
        for i in 0..<count where !s[i].isFinite { return i }
        return nil
    }

    /// Interleaved 8/16-bit or float samples → planar floats.
    private static func planar(_ raster: cio_raster, width: Int, height: Int, channels: Int) -> Tensor {
        let plane = width * height
        let storage = [Float](unsafeUninitializedCapacity: plane * channels) { out, initialized in
            let dst = out.baseAddress!
            switch raster.bit_depth {
            case 32: deinterleave(raster.samples.assumingMemoryBound(to: Float.self), into: dst, plane: plane, channels: channels) { $0 }
            case 16: deinterleave(raster.samples.assumingMemoryBound(to: UInt16.self), into: dst, plane: plane, channels: channels) { Float($0) }
            default: deinterleave(raster.samples.assumingMemoryBound(to: UInt8.self), into: dst, plane: plane, channels: channels) { Float($0) }
            }
            initialized = plane * channels
        }
        return Tensor(height: height, width: width, channels: channels, storage: storage)
    }

    /// Interleaved samples (`channels` per pixel) into `channels` planes of `plane` floats, each written once (no
    /// zeroing first); one plane at a time, so the stores stream and the common counts unroll (this copy was a tenth
    /// of a colour run's time as a pixel-by-pixel loop over a zeroed array).
    @inline(__always)
    private static func deinterleave<T>(_ source: UnsafePointer<T>, into dst: UnsafeMutablePointer<Float>, plane: Int, channels: Int,
                                        _ convert: (T) -> Float) {
        switch channels {
        case 1:
            for p in 0..<plane { (dst + p).initialize(to: convert(source[p])) }
        case 3:
            for c in 0..<3 {
                let out = dst + c * plane, from = source + c
                for p in 0..<plane { (out + p).initialize(to: convert(from[3 * p])) }
            }
        default:
            for c in 0..<channels {
                let out = dst + c * plane, from = source + c
                for p in 0..<plane { (out + p).initialize(to: convert(from[channels * p])) }
            }
        }
    }

    /// True CMYK (0 = no ink) → RGB: `R = (255 − C)(255 − K)/255`, likewise G from M and B from Y, computed in
    /// `Double` and rounded once to `Float` (no ICC profile).
    private static func cmykToRGB(_ s: UnsafePointer<UInt8>, width: Int, height: Int) -> Tensor {
        let plane = width * height
        var storage = [Float](repeating: 0, count: plane * 3)
        storage.withUnsafeMutableBufferPointer { out in
            for p in 0..<plane {
                let k = 255 - Double(s[4 * p + 3])
                for c in 0..<3 { out[c * plane + p] = Float((255 - Double(s[4 * p + c])) * k / 255) }
            }
        }
        return Tensor(height: height, width: width, channels: 3, storage: storage)
    }

    /// The decoders' error for a C status and message (the whole-image decoders and `ImageRowReader` alike):
    /// its kind, the format, the message (or a generic one), and how to lift the pixel limit when that was hit.
    static func decodeError(_ status: cio_status, _ message: [CChar], format: DecodedImage.Format, path: String) -> ImageCodecError {
        let text = message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let kind: ImageCodecError.Kind = switch status {
        case CIO_NOT_IMAGE: .notAnImage
        case CIO_UNSUPPORTED: .unsupported
        case CIO_NO_MEMORY: .noMemory
        case CIO_TOO_LARGE: .tooLarge
        default: .corrupt
        }
        let lift = kind == .tooLarge ? "; \(pixelLimitHelp)" : ""
        return ImageCodecError(kind, path: path, detail: "\(format.rawValue): \(text.isEmpty ? "decoding failed" : text)\(lift)")
    }

    /// Reads a whole regular file, refusing directories and files over `limit` bytes. `path` is a lossless string
    /// (`FileSystem`); a dangling symbolic link and a path longer than `PATH_MAX` are named as such.
    package static func readFile(_ path: String, limit: Int) throws(ImageCodecError) -> [UInt8] {
        let fd = FileSystem.openDescriptor(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)  // a FIFO must not block the batch
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT, FileSystem.info(path, followingLinks: false).map(FileSystem.isSymbolicLink) == true {
                let target = FileSystem.linkTarget(path).map { " '\($0)'" } ?? ""
                throw ImageCodecError(.unreadable, path: path, detail: "dangling symbolic link (its target\(target) does not exist)")
            }
            throw ImageCodecError(.unreadable, path: path, detail: FileSystem.reason(code, path: path))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ImageCodecError(.unreadable, path: path, detail: String(cString: strerror(errno))) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw ImageCodecError(.unreadable, path: path, detail: "not a regular file") }
        let size = Int(info.st_size)
        guard size <= limit else { throw ImageCodecError(.tooLarge, path: path, detail: "file of \(size) bytes is larger than any image within the pixel limit; \(ImageCodec.pixelLimitHelp)") }
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, size - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ImageCodecError(.unreadable, path: path, detail: String(cString: strerror(errno)))
            }
            if n == 0 { bytes.removeLast(size - done); break }  // shrank while reading
            done += n
        }
        return bytes
    }

    /// Encodes a grayscale image as PNG (libpng-style adaptive row filters; at level 1 convbank's run-length deflate
    /// encoder, otherwise libdeflate) at 8 or 16 bits.
    /// - Parameters:
    ///   - samples: `width · height` values, row-major; `UInt8` for 8-bit, `UInt16` for 16-bit.
    ///   - width: pixels per row.
    ///   - height: rows.
    ///   - level: 0 (stored) … 12 (smallest): 1 the run-length encoder, 2…12 libdeflate's levels.
    ///   - path: the file the bytes are meant for, named in errors (may be empty).
    /// - Throws: `ImageCodecError` (`.unwritable`) if encoding fails.
    public static func encodePNG(gray8 samples: [UInt8], width: Int, height: Int, level: Int = 6, path: String = "") throws(ImageCodecError) -> [UInt8] {
        precondition(samples.count == width * height)
        let result = samples.withUnsafeBytes { raw in Result { () throws(ImageCodecError) in try encode(raw.baseAddress!, width, height, 1, 8, level, path) } }
        return try result.get()
    }

    /// Encodes a 16-bit grayscale image as PNG: `encodePNG(gray8:width:height:level:path:)` with `UInt16`
    /// samples (`width · height`, row-major).
    /// - Throws: `ImageCodecError` (`.unwritable`) if encoding fails.
    public static func encodePNG(gray16 samples: [UInt16], width: Int, height: Int, level: Int = 6, path: String = "") throws(ImageCodecError) -> [UInt8] {
        precondition(samples.count == width * height)
        let result = samples.withUnsafeBytes { raw in Result { () throws(ImageCodecError) in try encode(raw.baseAddress!, width, height, 1, 16, level, path) } }
        return try result.get()
    }

    /// Encodes interleaved 8-bit RGB samples (`width · height · 3`, row-major) as a PNG: pictures for people.
    /// - Throws: `ImageCodecError` (`.unwritable`) if encoding fails.
    public static func encodePNG(rgb8 samples: [UInt8], width: Int, height: Int, level: Int = 6, path: String = "") throws(ImageCodecError) -> [UInt8] {
        precondition(samples.count == width * height * 3)
        let result = samples.withUnsafeBytes { raw in Result { () throws(ImageCodecError) in try encode(raw.baseAddress!, width, height, 3, 8, level, path) } }
        return try result.get()
    }

    /// Encodes interleaved 16-bit RGB samples (`width · height · 3`, row-major, host order) as a 16-bit RGB PNG.
    /// - Throws: `ImageCodecError` (`.unwritable`) if encoding fails.
    public static func encodePNG(rgb16 samples: [UInt16], width: Int, height: Int, level: Int = 6, path: String = "") throws(ImageCodecError) -> [UInt8] {
        precondition(samples.count == width * height * 3)
        let result = samples.withUnsafeBytes { raw in Result { () throws(ImageCodecError) in try encode(raw.baseAddress!, width, height, 3, 16, level, path) } }
        return try result.get()
    }

    private static func encode(_ samples: UnsafeRawPointer, _ width: Int, _ height: Int, _ channels: Int, _ depth: Int, _ level: Int, _ path: String) throws(ImageCodecError) -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>? = nil
        var count = 0
        var message = [CChar](repeating: 0, count: Int(CIO_MESSAGE_CAPACITY))
        let status = cio_encode_png(samples, UInt32(width), UInt32(height), UInt32(channels), UInt32(depth), Int32(level), &out, &count, &message)
        defer { cio_free(out) }
        guard status == CIO_OK, let out else {
            let text = message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw ImageCodecError(.unwritable, path: path, detail: "PNG encoding failed: \(text)")
        }
        return Array(UnsafeBufferPointer(start: out, count: count))
    }
}

extension Tensor {
    /// The image adapted to a bank's input channel count, as the contract says: a matching count is kept
    /// (alpha included); otherwise alpha is dropped (gray+alpha → gray, RGBA → RGB), then gray → RGB replicates
    /// and RGB → gray is BT.601 luma `0.299 R + 0.587 G + 0.114 B` (in `Double`, rounded once to `Float`).
    /// - Throws: `ConvolutionError.channelMismatch` for any other combination.
    /// - Complexity: O(height · width · channels).
    public func adapted(toChannels target: Int) throws(ConvolutionError) -> Tensor {
        if channels == target { return self }
        let plane = height * width
        var base = self
        if channels == 2 || channels == 4 {
            base = Tensor(height: height, width: width, channels: channels - 1, storage: Array(storage[0..<(channels - 1) * plane]))
        }
        if base.channels == target { return base }
        if base.channels == 1 && target == 3 {
            return Tensor(height: height, width: width, channels: 3, storage: base.storage + base.storage + base.storage)
        }
        if base.channels == 3 && target == 1 {
            var luma = [Float](repeating: 0, count: plane)
            for p in 0..<plane {
                luma[p] = Float(0.299 * Double(base.storage[p]) + 0.587 * Double(base.storage[plane + p]) + 0.114 * Double(base.storage[2 * plane + p]))
            }
            return Tensor(height: height, width: width, channels: 1, storage: luma)
        }
        throw .channelMismatch(image: channels, bank: target)
    }
}
