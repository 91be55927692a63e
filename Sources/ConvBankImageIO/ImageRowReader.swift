import ConvBankEngine
internal import CImageIO
import Foundation

/// Decodes a PNG or JPEG a few rows at a time, top to bottom, so that memory grows with the width of the image
/// rather than its area: the rows are exactly the corresponding rows of `ImageCodec.decode(bytes:path:maxPixels:)`'s
/// tensor (raw samples as `Float`, palette → RGB, CMYK → RGB, 16-bit samples unscaled).
///
/// What streams, and what the reader holds for the whole image (`wholeImageBytes`):
/// - A non-interlaced PNG and a baseline JPEG stream: one row of samples (and libjpeg's MCU row) at a time.
/// - An interlaced (Adam7) PNG is decoded whole by the first read, into its raw samples (one byte per pixel for a
///   palette image), and handed out row by row from there: every Adam7 pass covers the whole image.
/// - A progressive (multi-scan) JPEG: libjpeg reads every scan into its own whole-image coefficient arrays (about
///   2 bytes per sample of each component) at the first read, then produces rows from them.
/// - A TIFF or a WebP is never streamed (`isStreamable` is false): the first read decodes it whole with
///   `ImageCodec.decode` (a TIFF's strips, tiles and planes may come in any order, and libwebp decodes whole images).
/// - A JPEG whose EXIF orientation turns or flips it top to bottom (anything but `.up` and `.mirrored`, which is a
///   flip within each row) cannot come out upright row by row: `isStreamable` is false, and the first read decodes
///   it whole with `ImageCodec.decode` (a caller budgeting memory can check `isStreamable` after `init`, which
///   decodes nothing, and decode the image whole itself).
///
/// The reader copies the file's bytes (the decoder reads them between calls). Errors are the whole-image
/// decoder's, with the same kinds and messages naming the file: the header's at `init` (not an image, unsupported,
/// over the pixel limit), the data's at the read that reaches them (a truncated file fails at the row where its
/// data ends, or at the end check made by the read that returns the last row: PNG IEND and CRCs, JPEG EOI). The
/// image is known whole only once its last row has been read. After an error every later read throws it again.
///
/// One reader is used by one thread at a time; different readers may run concurrently.
public final class ImageRowReader {
    /// The file's format.
    public let format: DecodedImage.Format
    /// Columns of the upright image (after the EXIF orientation).
    public let width: Int
    /// Rows of the upright image (after the EXIF orientation).
    public let height: Int
    /// Channels of the rows: the file's own (gray 1, gray+alpha 2, RGB 3, RGBA 4; palette PNG and CMYK JPEG 3),
    /// as `DecodedImage.tensor.channels`.
    public let channels: Int
    /// Bits per sample after expansion: 8 or 16 (JPEG and WebP: 8), or 32 for a float TIFF.
    public let bitDepth: Int
    /// The orientation applied to the rows (always `.up` for PNG).
    public let orientation: ExifOrientation
    /// Whether the file stores CMYK (converted to RGB).
    public let wasCMYK: Bool
    /// Whether the rows come from the row decoder rather than a whole-image decode (`ImageCodec.decode`): false
    /// for TIFF and WebP, and for a JPEG whose orientation needs the whole image (anything but `.up` and `.mirrored`). An interlaced
    /// PNG or a progressive JPEG is streamable but holds `wholeImageBytes` while it is read.
    public let isStreamable: Bool
    /// Bytes held for the whole image from the first read until the last row (0 when the image streams): an
    /// interlaced PNG's raw samples, a multi-scan JPEG's coefficient arrays, and when `!isStreamable` the
    /// whole-image decode (its raw samples and its `Float` tensor).
    public let wholeImageBytes: Int
    /// Rows read so far.
    public private(set) var rowsRead = 0
    /// Rows not yet read.
    public var rowsLeft: Int { height - rowsRead }

    private let path: String
    private let maxPixels: Int
    /// The C decoder (streamable images), open until the last row has been read or an error.
    private var decoder: OpaquePointer?
    /// The bytes the C decoder reads, owned here: they must not move while it is open.
    private var input: UnsafeMutableBufferPointer<UInt8>?
    /// Interleaved rows from the decoder, `batchRows` at a time.
    private let scratch: UnsafeMutableRawBufferPointer
    private let batchRows: Int
    private let rawChannels: Int
    private let rawRowBytes: Int
    private let mirrored: Bool
    /// Not streamable: the file, decoded whole at the first read into `whole`.
    private var fileBytes: [UInt8]?
    private var whole: Tensor?
    private var failure: ImageCodecError?

    /// Reads the header of PNG, JPEG, TIFF or WebP bytes (told apart by their signature) and gets ready to decode
    /// rows; no pixels are decoded yet.
    /// - Parameters:
    ///   - bytes: The whole file (copied).
    ///   - path: Named in errors only.
    ///   - maxPixels: Images with more pixels are refused from their header, before anything image-sized exists.
    /// - Throws: `ImageCodecError` naming `path`, as `ImageCodec.decode(bytes:path:maxPixels:)` would for the same
    ///   header: not an image, unsupported, corrupt header, too large.
    /// - Complexity: O(file size) for the copy; O(bytes before the first scan) of decoding.
    public init(bytes: [UInt8], path: String, maxPixels: Int = ImageCodec.defaultMaxPixels) throws(ImageCodecError) {
        guard let format = ImageCodec.sniff(bytes) else {
            let start = bytes.prefix(4).map { String(format: "0x%02x", $0) }.joined(separator: " ")
            throw ImageCodecError(.notAnImage, path: path, detail: bytes.isEmpty ? "empty file" : "not \(ImageCodec.knownFormats) (starts with \(start))")
        }
        if format == .tiff || format == .webp {
            // No row decoder: the header is checked here as the whole-image decoder checks it, and the first read
            // decodes the image whole (a TIFF's strips, tiles and planes come in any order; libwebp decodes whole).
            let info: cio_image_info
            switch ImageCodec.imageInfo(format, bytes: bytes, maxPixels: UInt64(max(maxPixels, 0))) {
            case .success(let found): info = found
            case .failure(let failure): throw ImageCodec.decodeError(failure.status, failure.message, format: format, path: path)
            }
            let orientation = ExifOrientation(rawValue: Int(info.orientation)) ?? .up
            let rawWidth = Int(info.width), rawHeight = Int(info.height), channels = Int(info.channels)
            self.format = format
            self.path = path
            self.maxPixels = maxPixels
            self.orientation = orientation
            self.wasCMYK = false
            self.bitDepth = Int(info.bit_depth)
            self.rawChannels = channels
            self.channels = channels
            self.width = orientation.swapsAxes ? rawHeight : rawWidth
            self.height = orientation.swapsAxes ? rawWidth : rawHeight
            self.rawRowBytes = 0
            self.mirrored = false
            self.isStreamable = false
            self.fileBytes = bytes
            let pixels = rawWidth * rawHeight
            // The decoder's buffers and raw samples, the Float tensor, and a turned copy of it.
            self.wholeImageBytes = Int(clamping: info.decoder_bytes) + pixels * channels * Int(info.bit_depth) / 8
                + pixels * channels * MemoryLayout<Float>.size * (orientation == .up ? 1 : 2)
            self.batchRows = 0
            self.scratch = .allocate(byteCount: 1, alignment: 16)
            return
        }
        let input = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(bytes.count, 1))
        _ = input.initialize(from: bytes)
        var header = cio_row_header()
        var status = CIO_OK
        var message = [CChar](repeating: 0, count: Int(CIO_MESSAGE_CAPACITY))
        guard let decoder = cio_rows_open(input.baseAddress, bytes.count, UInt64(max(maxPixels, 0)), &header, &message, &status) else {
            input.deallocate()
            throw ImageCodec.decodeError(status, message, format: format, path: path)
        }
        let orientation = format == .jpeg ? ExifOrientation.fromJPEG(bytes) : .up
        let cmyk = header.model == CIO_MODEL_CMYK.rawValue
        let rawWidth = Int(header.width), rawHeight = Int(header.height)
        self.format = format
        self.path = path
        self.maxPixels = maxPixels
        self.orientation = orientation
        self.wasCMYK = cmyk
        self.bitDepth = Int(header.bit_depth)
        self.rawChannels = Int(header.channels)
        self.channels = cmyk ? 3 : Int(header.channels)
        self.width = orientation.swapsAxes ? rawHeight : rawWidth
        self.height = orientation.swapsAxes ? rawWidth : rawHeight
        self.rawRowBytes = Int(header.row_bytes)
        self.mirrored = orientation == .mirrored
        let streamable = orientation == .up || orientation == .mirrored
        self.isStreamable = streamable
        if streamable {
            self.decoder = decoder
            self.input = input
            self.wholeImageBytes = Int(clamping: header.whole_image_bytes)
            // Rows per call into C: about 256 KiB of samples, at least one row.
            self.batchRows = max(1, min(rawHeight, (256 << 10) / max(rawRowBytes, 1)))
        } else {
            // Decoded whole by the first read: the C decoder has checked the header; nothing more is needed of it.
            cio_rows_close(decoder)
            input.deallocate()
            self.fileBytes = bytes
            let pixels = rawWidth * rawHeight, rawChannels = Int(header.channels)
            self.wholeImageBytes = Int(clamping: header.whole_image_bytes) + pixels * rawChannels + pixels * (cmyk ? 3 : rawChannels) * MemoryLayout<Float>.size
            self.batchRows = 0
        }
        self.scratch = .allocate(byteCount: max(rawRowBytes * batchRows, 1), alignment: 16)
    }

    /// Reads the file at `path` (a lossless path string, see `FileSystem`), refusing files larger than any image
    /// within `maxPixels` could be, then as `init(bytes:path:maxPixels:)`.
    /// - Throws: `ImageCodecError` naming the file: unreadable, too large, or as `init(bytes:path:maxPixels:)`.
    public convenience init(path: String, maxPixels: Int = ImageCodec.defaultMaxPixels) throws(ImageCodecError) {
        let bytes = try ImageCodec.readFile(path, limit: ImageCodec.fileSizeLimit(maxPixels: maxPixels))
        try self.init(bytes: bytes, path: path, maxPixels: maxPixels)
    }

    deinit {
        closeDecoder()
        scratch.deallocate()
    }

    /// The next `count` rows (fewer when fewer are left; none after the last) as a planar `Float` tensor,
    /// `rows × width × channels`, equal value for value to those rows of the whole-image decode.
    /// - Throws: `ImageCodecError` naming the file, as the whole-image decoder would for the same damage.
    /// - Complexity: O(rows · width · channels); the first read of an interlaced PNG, a multi-scan JPEG or a
    ///   non-streamable image decodes what the decoder holds whole (see the type's notes).
    public func nextRows(_ count: Int) throws(ImageCodecError) -> Tensor {
        precondition(count >= 0, "a negative row count")
        let rows = min(count, rowsLeft)
        var storage = [Float](repeating: 0, count: rows * width * channels)
        let result = storage.withUnsafeMutableBufferPointer { planes in
            Result { () throws(ImageCodecError) in try read(rows: rows, into: planes, planeStride: rows * width) }
        }
        _ = try result.get()
        return Tensor(height: rows, width: width, channels: channels, storage: storage)
    }

    /// Decodes the next `count` rows (fewer when fewer are left) into caller-owned planes: sample `(y, x, c)`
    /// of the rows read, `y` counted from the first of them, goes to `planes[c * planeStride + y * width + x]`.
    /// - Parameters:
    ///   - count: Rows wanted.
    ///   - planes: At least `(channels − 1) · planeStride + rows · width` values.
    ///   - planeStride: Distance between channel planes, at least `rows · width`.
    /// - Returns: The rows read: `min(count, rowsLeft)`.
    /// - Throws: `ImageCodecError` naming the file, as the whole-image decoder would for the same damage.
    /// - Complexity: O(rows · width · channels), as `nextRows(_:)`.
    @discardableResult
    public func read(rows count: Int, into planes: UnsafeMutableBufferPointer<Float>, planeStride: Int) throws(ImageCodecError) -> Int {
        precondition(count >= 0, "a negative row count")
        if let failure { throw failure }
        let rows = min(count, rowsLeft)
        guard rows > 0 else { return 0 }
        precondition(planeStride >= rows * width && planes.count >= (channels - 1) * planeStride + rows * width,
                     "the planes are too small for \(rows) rows of \(width) × \(channels)")
        do {
            if isStreamable {
                try decodeRows(rows, into: planes, planeStride: planeStride)
            } else {
                try copyRowsOfWholeImage(rows, into: planes, planeStride: planeStride)
            }
        } catch {
            failure = error
            closeDecoder()
            fileBytes = nil
            whole = nil
            throw error
        }
        return rows
    }

    private func decodeRows(_ rows: Int, into planes: UnsafeMutableBufferPointer<Float>, planeStride: Int) throws(ImageCodecError) {
        guard let decoder else { preconditionFailure("rows left but no decoder") }
        var message = [CChar](repeating: 0, count: Int(CIO_MESSAGE_CAPACITY))
        var done = 0
        while done < rows {
            let batch = min(rows - done, batchRows)
            let status = cio_rows_read(decoder, scratch.baseAddress, UInt32(batch), &message)
            guard status == CIO_OK else { throw ImageCodec.decodeError(status, message, format: format, path: path) }
            convert(rows: batch, into: planes, planeStride: planeStride, firstRow: done)
            done += batch
            rowsRead += batch
        }
        if rowsLeft == 0 { closeDecoder() }
    }

    /// Interleaved samples in `scratch` (`rows` rows) → planar floats at row `firstRow` of `planes`, as
    /// `ImageCodec.decode` converts them: `Float(sample)`, or CMYK → RGB by its formula; mirrored per row.
    private func convert(rows: Int, into planes: UnsafeMutableBufferPointer<Float>, planeStride: Int, firstRow: Int) {
        let width = self.width, channels = self.channels, rawChannels = self.rawChannels
        for r in 0..<rows {
            let row = scratch.baseAddress! + r * rawRowBytes
            let base = (firstRow + r) * width
            if wasCMYK {
                // True CMYK (0 = no ink) → RGB: `(255 − C)(255 − K)/255` in `Double`, rounded once to `Float`.
                let s = row.assumingMemoryBound(to: UInt8.self)
                for x in 0..<width {
                    let p = mirrored ? width - 1 - x : x
                    let k = 255 - Double(s[4 * p + 3])
                    for c in 0..<3 { planes[c * planeStride + base + x] = Float((255 - Double(s[4 * p + c])) * k / 255) }
                }
            } else if bitDepth == 16 {
                let s = row.assumingMemoryBound(to: UInt16.self)
                for x in 0..<width {
                    let p = mirrored ? width - 1 - x : x
                    for c in 0..<channels { planes[c * planeStride + base + x] = Float(s[p * rawChannels + c]) }
                }
            } else {
                let s = row.assumingMemoryBound(to: UInt8.self)
                for x in 0..<width {
                    let p = mirrored ? width - 1 - x : x
                    for c in 0..<channels { planes[c * planeStride + base + x] = Float(s[p * rawChannels + c]) }
                }
            }
        }
    }

    private func copyRowsOfWholeImage(_ rows: Int, into planes: UnsafeMutableBufferPointer<Float>, planeStride: Int) throws(ImageCodecError) {
        if whole == nil, let bytes = fileBytes {
            let image = try ImageCodec.decode(bytes: bytes, path: path, maxPixels: maxPixels)
            fileBytes = nil
            precondition(image.tensor.height == height && image.tensor.width == width && image.tensor.channels == channels,
                         "the whole-image decode disagrees with the header")
            whole = image.tensor
        }
        guard let whole else { preconditionFailure("rows left but no image") }
        whole.storage.withUnsafeBufferPointer { source in
            let plane = height * width
            for c in 0..<channels {
                let from = source.baseAddress! + c * plane + rowsRead * width
                (planes.baseAddress! + c * planeStride).update(from: from, count: rows * width)
            }
        }
        rowsRead += rows
        if rowsLeft == 0 { self.whole = nil }
    }

    private func closeDecoder() {
        if let decoder { cio_rows_close(decoder) }
        decoder = nil
        input?.deallocate()
        input = nil
    }
}
