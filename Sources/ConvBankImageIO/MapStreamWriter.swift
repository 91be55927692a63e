import ConvBankEngine
internal import CImageIO

/// Writes one feature map file from row bands, top first, without ever holding the whole map: memory grows with
/// the width, not the area. The file is atomic as with `AtomicFile.Writer` (whose temporary it writes: the hidden
/// `.NAME.tmp-PID-N` beside `path`, which a later run's stale-temporary cleanup removes if this process is killed):
/// `commit()` renames it into place once every row was given; `abort()`, any thrown error, or releasing the writer
/// uncommitted removes it.
///
/// - `npy`: the header, then each band's values as little-endian `<f4`: byte for byte `MapEncoder.npy` of the
///   whole map (any `normalization`; it is not applied).
/// - `png`, `png16`: `clamp` and `abs` only, which map each value on its own; the 8-bit levels are
///   `Normalization.levels8`'s and the 16-bit ones `levels(_:maximum: 65535)`'s, exactly as `MapEncoder.encode`.
///   The file has the same adaptive row filters, but its zlib stream comes from zlib's `deflate` (libdeflate has
///   no streaming interface), so the bytes differ from `MapEncoder.encode`'s while the pixels are the same.
///   `minmax` and `symmetric` need the whole map's range and are refused (`supports(format:normalization:)`).
///
/// ```swift
/// let writer = try MapStreamWriter(path: "out/photo.c0.png", width: w, height: h, format: .png, normalization: .clamp)
/// for band in bands { try band.withUnsafeBufferPointer { try writer.append(rows: $0, count: $0.count / w) } }
/// try writer.commit()
/// ```
public final class MapStreamWriter {
    /// The final path.
    public let path: String
    /// Values per row.
    public let width: Int
    /// Rows in all.
    public let height: Int
    /// The file format.
    public let format: OutputFormat
    /// How values become gray levels (PNG only).
    public let normalization: Normalization
    /// Rows given so far.
    public private(set) var rowsWritten = 0

    private var file: AtomicFile.Writer?
    private var png: OpaquePointer?  // cio_png_stream *
    /// Rows converted per C call, so the writer's own scratch stays O(width) whatever the caller's band height.
    private let rowsPerStep: Int

    /// Whether maps in `format` under `normalization` can be written band by band: always for `npy`; for PNG only
    /// the per-value normalizations `clamp` and `abs` (`minmax` and `symmetric` need the whole map's range); never
    /// for `jpeg`, `webp`, `tiff` and `tiff16`, whose encoders take a whole image.
    /// - Complexity: O(1).
    public static func supports(format: OutputFormat, normalization: Normalization) -> Bool {
        format.streams && (format == .npy || normalization == .clamp || normalization == .abs)
    }

    /// Creates the temporary file (and missing parent folders) and writes the file's header.
    /// - Parameters:
    ///   - path: Where the map goes; an existing file there is replaced only by `commit()`.
    ///   - width: Values per row (≥ 1 for PNG).
    ///   - height: Rows (≥ 1 for PNG).
    ///   - format: `npy`, `png` or `png16`.
    ///   - normalization: For PNG: `clamp` or `abs`.
    ///   - pngLevel: Compression effort 0…12 on libdeflate's scale, as `MapEncoder.encode`, mapped to zlib's by
    ///     speed: 0 stores; the default 1 is zlib's run-length strategy (measured on edge maps: ≈ 80 % of
    ///     libdeflate 1's speed, 3–6 % smaller files); 2…12 are zlib levels 4…9.
    /// - Throws: `ImageCodecError` (`.unwritable`) naming `path`: a normalization that cannot stream, an empty
    ///   PNG, or the system's reason the temporary file could not be created or written. Nothing is left behind.
    /// - Complexity: O(width): the encoder's row buffers (PNG) or the header (`npy`).
    public init(path: String, width: Int, height: Int, format: OutputFormat, normalization: Normalization,
                pngLevel: Int = MapEncoder.defaultPNGLevel) throws(ImageCodecError) {
        precondition(width >= 0 && height >= 0, "invalid map shape")
        self.path = path
        self.width = width
        self.height = height
        self.format = format
        self.normalization = normalization
        rowsPerStep = max(1, 65536 / max(width, 1))
        guard format.streams else {
            throw ImageCodecError(.unwritable, path: path, detail: "\(format.rawValue) maps cannot be written band by band (encode the whole map with MapEncoder.encode)")
        }
        guard Self.supports(format: format, normalization: normalization) else {
            throw ImageCodecError(.unwritable, path: path, detail: "normalization '\(normalization.rawValue)' needs the whole map's range, "
                + "so \(format.rawValue) maps under it cannot be written band by band (encode the whole map with MapEncoder.encode)")
        }
        let file = try AtomicFile.Writer(path: path)
        self.file = file
        switch format {
        case .npy:
            file.append(MapEncoder.npyHeader(height: height, width: width))
            if let failure = file.failure { throw fail(failure) }
        case .png, .png16:
            var stream: OpaquePointer?
            var message = [CChar](repeating: 0, count: Int(CIO_MESSAGE_CAPACITY))
            // The corresponding C function is `cio_png_stream_open`.
            let status = cio_png_stream_open(UInt32(clamping: width), UInt32(clamping: height), format == .png ? 8 : 16,
                                             Int32(clamping: pngLevel), Self.writeToFile, Unmanaged.passUnretained(file).toOpaque(),
                                             &stream, &message)
            guard status == CIO_OK else { throw fail(status, message) }
            png = stream
        case .jpeg, .webp, .tiff, .tiff16:
            preconditionFailure("refused above")
        }
    }

    deinit { abort() }

    /// Appends `count` rows of `width` values, top first (`rows` holds at least `count · width` values; only those
    /// are read).
    /// - Throws: `ImageCodecError` (`.unwritable`) naming `path`: more rows than `height` in all, a write failure,
    ///   or the writer already committed or aborted. The temporary file is then removed and the writer closed.
    /// - Complexity: O(count · width).
    public func append(rows: UnsafeBufferPointer<Float>, count: Int) throws(ImageCodecError) {
        precondition(count >= 0 && rows.count >= count * width, "rows holds fewer than count · width values")
        guard let file else { throw ImageCodecError(.unwritable, path: path, detail: "map writer already committed or aborted") }
        guard count <= height - rowsWritten else {
            throw fail(ImageCodecError(.unwritable, path: path, detail: "\(count) rows given after \(rowsWritten) of \(height)"))
        }
        guard count > 0, width > 0 else {
            rowsWritten += count
            return
        }
        var row = 0
        while row < count {
            let step = min(rowsPerStep, count - row)
            let values = UnsafeBufferPointer(rebasing: rows[(row * width)..<((row + step) * width)])
            switch format {
            case .npy:
                file.append(MapEncoder.npyValues(values))
                if let failure = file.failure { throw fail(failure) }
            case .png:
                let levels = [UInt8](unsafeUninitializedCapacity: values.count) { buffer, initialized in
                    normalization.levels8(values, into: buffer)
                    initialized = values.count
                }
                try writePNG(levels, rows: step)
            case .png16:
                try writePNG(normalization.levels(Array(values), maximum: 65535).map { UInt16($0) }, rows: step)
            case .jpeg, .webp, .tiff, .tiff16:
                preconditionFailure("refused by init")
            }
            row += step
            rowsWritten += step
        }
    }

    /// Ends the file and renames it to `path`.
    /// - Throws: `ImageCodecError` (`.unwritable`) naming `path` if fewer than `height` rows were given, or the
    ///   file could not be finished, closed or renamed; the temporary file is then removed and nothing is at
    ///   `path` that was not there before.
    /// - Complexity: O(1) beyond ending the zlib stream.
    public func commit() throws(ImageCodecError) {
        guard let file else { throw ImageCodecError(.unwritable, path: path, detail: "map writer already committed or aborted") }
        guard rowsWritten == height else {
            throw fail(ImageCodecError(.unwritable, path: path, detail: "only \(rowsWritten) of \(height) rows were given"))
        }
        if let png {
            var message = [CChar](repeating: 0, count: Int(CIO_MESSAGE_CAPACITY))
            // The corresponding C function is `cio_png_stream_finish`.
            let status = cio_png_stream_finish(png, &message)
            guard status == CIO_OK else { throw fail(status, message) }
            cio_png_stream_close(png)
            self.png = nil
        }
        self.file = nil
        try file.commit()
    }

    /// Removes the temporary file and closes the writer (nothing once committed or aborted).
    public func abort() {
        cio_png_stream_close(png)
        png = nil
        file?.abort()
        file = nil
    }

    // MARK: - Internals

    /// The C encoder's output sink: appends to the `AtomicFile.Writer` passed as context; non-zero once it failed.
    private static let writeToFile: cio_png_write_fn = { context, bytes, count in
        let file = Unmanaged<AtomicFile.Writer>.fromOpaque(context!).takeUnretainedValue()
        file.append(Array(UnsafeBufferPointer(start: bytes, count: count)))
        return file.failure == nil ? 0 : 1
    }

    private func writePNG<Sample>(_ levels: [Sample], rows: Int) throws(ImageCodecError) {
        var message = [CChar](repeating: 0, count: Int(CIO_MESSAGE_CAPACITY))
        // The corresponding C function is `cio_png_stream_write_rows`.
        let status = levels.withUnsafeBytes { cio_png_stream_write_rows(png, $0.baseAddress, UInt32(rows), &message) }
        guard status == CIO_OK else { throw fail(status, message) }
    }

    /// `error`, after removing the temporary file and closing the writer.
    private func fail(_ error: ImageCodecError) -> ImageCodecError {
        abort()
        return error
    }

    /// The error for a failed C call: the file's own failure when the write callback reported one, else the
    /// encoder's message.
    private func fail(_ status: cio_status, _ message: [CChar]) -> ImageCodecError {
        if status == CIO_WRITE_FAILED, let failure = file?.failure { return fail(failure) }
        let text = message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return fail(ImageCodecError(.unwritable, path: path, detail: "PNG encoding failed: \(text)"))
    }
}
