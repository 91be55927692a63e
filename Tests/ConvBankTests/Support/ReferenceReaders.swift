import CTIFF
import CWebP
import Foundation

/// Reads the TIFF and WebP files the encoders write with the libraries' own decoders (libtiff's strip reader,
/// libwebp's `WebPDecodeRGB`/`RGBA`), called here directly and sharing no code with `CImageIO`'s encoders.
enum ReferenceReaders {
    struct Failure: Error, CustomStringConvertible { var description: String }

    /// A TIFF's first image as libtiff reads it: its tags and its decoded strips (host byte order), concatenated.
    struct TIFF {
        var width = 0, height = 0, channels = 0, bitsPerSample = 0, sampleFormat = 0
        var compression = 0, predictor = 0, photometric = 0, planarConfig = 0, rowsPerStrip = 0, extraSamples = 0
        var littleEndian = false, directories = 0
        var samples: [UInt8] = []

        /// The samples as `Float` bit patterns (32-bit float files).
        var floatBits: [UInt32] {
            samples.withUnsafeBytes { raw in (0..<(samples.count / 4)).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self) } }
        }
        /// The samples as `UInt16` (16-bit files).
        var uint16: [UInt16] {
            samples.withUnsafeBytes { raw in (0..<(samples.count / 2)).map { raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self) } }
        }
    }

    /// Reads `bytes` with libtiff (through a temporary file: `TIFFOpen`).
    static func tiff(_ bytes: [UInt8]) throws -> TIFF {
        let path = NSTemporaryDirectory() + "convbank-reference-\(getpid())-\(UUID().uuidString).tif"
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        defer { try? FileManager.default.removeItem(atPath: path) }
        guard let tif = TIFFOpen(path, "r") else { throw Failure(description: "libtiff cannot open the file") }
        defer { TIFFClose(tif) }
        func field<T: FixedWidthInteger>(_ tag: Int32, _ type: T.Type, defaulted: Bool = true) -> Int {
            var value: T = 0
            let ok = withUnsafeMutablePointer(to: &value) { pointer in
                withVaList([pointer]) { defaulted ? TIFFVGetFieldDefaulted(tif, UInt32(tag), $0) : TIFFVGetField(tif, UInt32(tag), $0) }
            }
            return ok == 1 ? Int(value) : -1
        }
        var image = TIFF()
        image.width = field(TIFFTAG_IMAGEWIDTH, UInt32.self, defaulted: false)
        image.height = field(TIFFTAG_IMAGELENGTH, UInt32.self, defaulted: false)
        image.channels = field(TIFFTAG_SAMPLESPERPIXEL, UInt16.self)
        image.bitsPerSample = field(TIFFTAG_BITSPERSAMPLE, UInt16.self)
        image.sampleFormat = field(TIFFTAG_SAMPLEFORMAT, UInt16.self)
        image.compression = field(TIFFTAG_COMPRESSION, UInt16.self)
        image.predictor = field(TIFFTAG_PREDICTOR, UInt16.self)
        image.photometric = field(TIFFTAG_PHOTOMETRIC, UInt16.self, defaulted: false)
        image.planarConfig = field(TIFFTAG_PLANARCONFIG, UInt16.self)
        image.rowsPerStrip = field(TIFFTAG_ROWSPERSTRIP, UInt32.self)
        var extraCount: UInt16 = 0
        var extraValues: UnsafeMutablePointer<UInt16>? = nil
        let hasExtra = withUnsafeMutablePointer(to: &extraCount) { count in
            withUnsafeMutablePointer(to: &extraValues) { values in withVaList([count, values]) { TIFFVGetField(tif, UInt32(TIFFTAG_EXTRASAMPLES), $0) } }
        }
        image.extraSamples = hasExtra == 1 ? Int(extraCount) : 0
        image.littleEndian = TIFFIsBigEndian(tif) == 0
        image.directories = Int(TIFFNumberOfDirectories(tif))
        let stripSize = Int(TIFFStripSize(tif))
        var samples = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: stripSize)
        for strip in 0..<TIFFNumberOfStrips(tif) {
            let n = buffer.withUnsafeMutableBytes { TIFFReadEncodedStrip(tif, strip, $0.baseAddress, -1) }
            guard n >= 0 else { throw Failure(description: "libtiff cannot read strip \(strip)") }
            samples += buffer[0..<Int(n)]
        }
        image.samples = samples
        return image
    }

    /// A WebP decoded by libwebp: interleaved RGB (or RGBA) samples.
    static func webp(_ bytes: [UInt8], alpha: Bool = false) throws -> (width: Int, height: Int, samples: [UInt8]) {
        var width: Int32 = 0, height: Int32 = 0
        let decoded = bytes.withUnsafeBufferPointer {
            alpha ? WebPDecodeRGBA($0.baseAddress, $0.count, &width, &height) : WebPDecodeRGB($0.baseAddress, $0.count, &width, &height)
        }
        guard let decoded else { throw Failure(description: "libwebp cannot decode the file") }
        defer { WebPFree(decoded) }
        let count = Int(width) * Int(height) * (alpha ? 4 : 3)
        return (Int(width), Int(height), Array(UnsafeBufferPointer(start: decoded, count: count)))
    }
}
