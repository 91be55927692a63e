/* CImageIO: the only code that calls libpng, libjpeg, libtiff, libwebp, libdeflate and zlib. No Swift API of its own.
 *
 * Each exported function does one whole job (decode one byte buffer, or encode one image into memory) and holds the
 * setjmp for that job in its own frame, so a libpng/libjpeg error comes back as a status and a message in a caller-
 * owned buffer, never as abort() or exit(). State is per call: the functions may run concurrently on different
 * threads. Two APIs spread one job over several calls, with their state on the heap between them: the row decoder
 * (cio_rows_*), each of whose calls holds its own setjmp too, and the streaming PNG writer (cio_png_stream_*),
 * which needs no setjmp (zlib returns error codes) and reports its errors the same way.
 */
#ifndef CIMAGEIO_H
#define CIMAGEIO_H

#include <stddef.h>
#include <stdint.h>

#define CIO_MESSAGE_CAPACITY 256

typedef enum {
    CIO_OK = 0,
    CIO_NOT_IMAGE = 1,    /* signature not recognised */
    CIO_UNSUPPORTED = 2,  /* a valid file of a kind we do not decode */
    CIO_CORRUPT = 3,      /* libpng/libjpeg reported an error, or the data ended early */
    CIO_NO_MEMORY = 4,
    CIO_TOO_LARGE = 5,    /* width × height above the caller's limit (checked from the header) */
    CIO_WRITE_FAILED = 6, /* a streaming writer's write callback reported failure */
    CIO_MISUSE = 7,       /* a streaming writer called out of order (too many rows, finish before the last row) */
} cio_status;

/* Colour model of decoded samples. */
typedef enum {
    CIO_MODEL_GRAY = 0,       /* 1 channel */
    CIO_MODEL_GRAY_ALPHA = 1, /* 2 channels */
    CIO_MODEL_RGB = 2,        /* 3 channels */
    CIO_MODEL_RGBA = 3,       /* 4 channels */
    CIO_MODEL_CMYK = 4,       /* 4 channels, true CMYK (0 = no ink); Adobe inversion already undone */
} cio_model;

/* A decoded image: `samples` holds height rows of width × channels interleaved samples, top-left first,
 * no row padding; uint8_t when bit_depth is 8, host-order uint16_t when 16, host-order IEEE float when 32 (TIFF
 * only). Free with cio_free. */
typedef struct {
    uint32_t width, height, channels, bit_depth, model;
    uint32_t warnings;  /* count of warnings that mean damaged data (JPEG: premature end, bad Huffman code, …) */
    void *samples;
} cio_raster;

/* Header facts without decoding the pixels. */
typedef struct {
    uint32_t width, height, channels, bit_depth;
} cio_header;

/* Decodes a PNG: palette → RGB (tRNS ignored), 1/2/4-bit gray → 8-bit values (v·255/(2^b−1)),
 * 16-bit samples raw, no gamma or colour conversion, interlacing undone. Refuses images with
 * more than max_pixels pixels before allocating the pixel buffer. Only IHDR, PLTE, IDAT and IEND are
 * read: every other chunk (text, iCCP, eXIf, tRNS, …) is skipped unread. At most 8 KiB is read past the
 * last row: a zlib stream that goes on after the pixels is not inflated; the image decodes from its complete
 * rows if the rest of the file is whole (reaches IEND, right CRCs on the critical chunks), else CIO_CORRUPT. */
cio_status cio_decode_png(const uint8_t *bytes, size_t count, uint64_t max_pixels, cio_raster *out, char *message);

/* Decodes a JPEG at libjpeg's defaults (islow IDCT, fancy upsampling): gray → 1 channel, colour → RGB,
 * CMYK/YCCK → true CMYK (CIO_MODEL_CMYK). EXIF orientation is not applied here. */
cio_status cio_decode_jpeg(const uint8_t *bytes, size_t count, uint64_t max_pixels, cio_raster *out, char *message);

/* What a TIFF's or WebP's header says (cio_tiff_info, cio_webp_info), and what the decoders of those two formats
 * report beside the raster. */
typedef struct {
    uint32_t width, height;       /* as stored, before the orientation */
    uint32_t channels, bit_depth; /* of the raster the decoder returns (bit_depth 8, 16, or 32 = IEEE float) */
    uint32_t orientation;         /* TIFF tag 274, 1…8 (1 when missing or out of range); WebP: 1 */
    uint32_t animated;            /* WebP: an animation (the first frame is decoded) */
    uint64_t decoder_bytes;       /* bytes the decoder holds beside the raster at its peak (strip/tile buffer, palette
                                   * indices, an animation's canvases); an estimate for the memory budget */
} cio_image_info;

/* Decodes the first image (IFD 0) of a TIFF (classic or BigTIFF, either byte order) from memory with libtiff:
 * 8- and 16-bit unsigned samples, 32-bit IEEE float samples (bit_depth 32, host-order float), 1/2/4-bit gray
 * (scaled to 8-bit values as PNG's are) and 1/2/4/8-bit palette (→ 16-bit RGB, the colour map's raw values);
 * gray (min-is-white inverted: v → max − v), gray+alpha, RGB, RGBA (the first extra sample is the alpha; further
 * extra samples are dropped); planar contiguous or separate; strips or tiles; every compression libtiff was built
 * with (JPEG-in-TIFF YCbCr comes out RGB). Anything else (signed or 64-bit samples, 16-bit float, CMYK, CIELab,
 * subsampled YCbCr without JPEG, min-is-white float) is CIO_UNSUPPORTED with a message naming it. The orientation
 * tag is not applied: it is returned in *info. Refuses images over max_pixels from the directory, before any
 * image-sized allocation. libtiff's errors and warnings are caught into `message` (the first error), never printed.
 * A failure to decode any strip or tile is CIO_CORRUPT. *info may be NULL. */
cio_status cio_decode_tiff(const uint8_t *bytes, size_t count, uint64_t max_pixels, cio_raster *out,
                           cio_image_info *info, char *message);

/* Reads IFD 0 only (no pixel data) and refuses what cio_decode_tiff would refuse from it, with the same status and
 * message. */
cio_status cio_tiff_info(const uint8_t *bytes, size_t count, uint64_t max_pixels, cio_image_info *info, char *message);

/* Decodes a WebP (lossy, lossless, with or without alpha) with libwebp at its defaults: RGB (3 channels), or RGBA
 * when the file has alpha; 8-bit. An animation's first frame is decoded, as shown on its canvas (libwebpdemux's
 * WebPAnimDecoder); its canvas size is the image size. Refuses images over max_pixels from the header
 * (WebPGetFeatures), before decoding. *info may be NULL. */
cio_status cio_decode_webp(const uint8_t *bytes, size_t count, uint64_t max_pixels, cio_raster *out,
                           cio_image_info *info, char *message);

/* Reads the WebP header (WebPGetFeatures) and refuses what cio_decode_webp would refuse from it. */
cio_status cio_webp_info(const uint8_t *bytes, size_t count, uint64_t max_pixels, cio_image_info *info, char *message);

/* Row decoding: the same samples as cio_decode_png / cio_decode_jpeg, handed out a few rows at a time, so that
 * memory grows with the width of an image rather than its area (README.md, "Row decoding").
 *
 *   cio_row_decoder *d = cio_rows_open(bytes, count, max_pixels, &header, message, &status);
 *   while (rows left) status = cio_rows_read(d, buffer, n, message);   (n × header.row_bytes bytes)
 *   cio_rows_close(d);
 *
 * The decoder reads `bytes` until it is closed: they must stay valid and unchanged. Every call that enters
 * libpng/libjpeg holds its own setjmp, so errors come back as a status and a message, as with the whole-image
 * functions; the decoder's state lives on the heap between calls. After a read fails the decoder is dead: later
 * reads return the same status and message, and only cio_rows_close is useful. A decoder is used by one thread at
 * a time; different decoders may run concurrently. */
typedef struct cio_row_decoder cio_row_decoder;

typedef enum {
    CIO_FORMAT_PNG = 0,
    CIO_FORMAT_JPEG = 1,
} cio_format;

typedef struct {
    uint32_t format;                          /* cio_format */
    uint32_t width, height, channels, bit_depth, model; /* of the rows handed out, as in cio_raster */
    uint64_t row_bytes;                       /* width × channels × bit_depth/8: one row, no padding */
    /* Bytes the decoder holds for the whole image from the first read to the last row (0 when it streams):
     * an interlaced PNG is decoded whole at the first read (its samples; one index per pixel for a palette image);
     * for a multi-scan (progressive) JPEG, libjpeg reads every scan into its whole-image coefficient arrays
     * (2 bytes per sample of each component at its own sampling) before the first row comes out. */
    uint64_t whole_image_bytes;
    uint32_t interlaced;                      /* PNG: Adam7 */
    uint32_t multi_scan;                      /* JPEG: progressive, or sequential in several scans */
} cio_row_header;

/* Opens a PNG (by its signature) or a JPEG (FF D8) and reads its header: for PNG everything before the first
 * IDAT, for JPEG every marker before the first scan. Refuses what the whole-image decoders refuse at this stage,
 * with the same status and message: bad signature, chunk before IHDR, pixel limit (before anything image-sized is
 * allocated), unsupported kinds. Returns NULL with *status and message set on failure. Cheap: no pixels decoded. */
cio_row_decoder *cio_rows_open(const uint8_t *bytes, size_t count, uint64_t max_pixels, cio_row_header *header,
                               char *message, cio_status *status);

/* Decodes the next `rows` rows into dst (rows × row_bytes bytes), interleaved exactly as the whole-image raster
 * would hold them. The read that delivers the last row also checks the end of the file as the whole-image decoder
 * does (PNG: IEND and CRCs, at most 8 KiB of stream inflated past the last row; JPEG: up to EOI, no damage), so
 * the image is known whole only once the last row has been read with CIO_OK. Asking for more rows than are left
 * returns CIO_UNSUPPORTED and reads nothing (the decoder stays usable). */
cio_status cio_rows_read(cio_row_decoder *decoder, void *dst, uint32_t rows, char *message);

/* Frees the decoder (NULL is ignored). Never enters libpng/libjpeg's error paths. */
void cio_rows_close(cio_row_decoder *decoder);

/* Encodes interleaved samples (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA channels; 8- or 16-bit, 16-bit samples in
 * host order) as a PNG in memory with libpng-style adaptive row filtering, compressed at `level` (0…12): 1 by the
 * run-length encoder of deflate_rle.c, 0 and 2…12 by libdeflate at that level (0 stores).
 * *out_bytes is malloc'ed: free with cio_free. */
cio_status cio_encode_png(const void *samples, uint32_t width, uint32_t height, uint32_t channels, uint32_t bit_depth,
                          int level, uint8_t **out_bytes, size_t *out_count, char *message);

/* The encoders below take interleaved 8-bit (TIFF also 16-bit host-order or float) samples, top-left first, no row
 * padding, 1 gray, 3 RGB or 4 RGBA channels (TIFF also 2, gray+alpha), and return a malloc'ed file in *out_bytes
 * (free with cio_free). Errors are a status and a message in `message` (CIO_MESSAGE_CAPACITY bytes); nothing is
 * printed, nothing aborts, and calls may run concurrently. */

/* Baseline JPEG at quality 1…100 (libjpeg's standard tables scaled by jpeg_set_quality, force_baseline), islow
 * DCT, no Huffman optimization, JFIF header. 1 channel: a one-component gray file. 3: YCbCr, 4:2:0 (libjpeg's
 * default, as Pillow and OpenCV at their defaults). 4: the alpha is ignored (JCS_EXT_RGBX), as 3. At most 65500
 * pixels a side. libjpeg's errors longjmp back into this function's own setjmp. */
cio_status cio_encode_jpeg(const uint8_t *samples, uint32_t width, uint32_t height, uint32_t channels, int quality,
                           uint8_t **out_bytes, size_t *out_count, char *message);

/* WebP: lossless when quality is 0 (or below), else lossy at quality 1…100; libwebp's simple-API configuration
 * (method 4; lossless effort 70). libwebp takes no gray input: gray g is written as R = G = B = g. 4 channels keep
 * their alpha. At most 16383 pixels a side. */
cio_status cio_encode_webp(const uint8_t *samples, uint32_t width, uint32_t height, uint32_t channels, int quality,
                           uint8_t **out_bytes, size_t *out_count, char *message);

/* Sample kinds of cio_encode_tiff. */
typedef enum {
    CIO_TIFF_UINT8 = 0,   /* uint8_t */
    CIO_TIFF_UINT16 = 1,  /* host-order uint16_t */
    CIO_TIFF_FLOAT32 = 2, /* IEEE float (SampleFormat 3), bit patterns kept exactly */
} cio_tiff_sample;

/* TIFF: one little-endian image (BigTIFF past 4 GB of samples), chunky samples in strips of about 64 KiB,
 * Adobe deflate at `level` (1…12, libdeflate's scale as libtiff uses it) with `predictor` 1 (none), 2 (horizontal
 * differencing, integer samples) or 3 (floating point, float samples). Photometric MinIsBlack for 1–2 channels,
 * RGB for 3–4; a 2nd/4th channel is unassociated alpha. */
cio_status cio_encode_tiff(const void *samples, uint32_t width, uint32_t height, uint32_t channels, uint32_t sample,
                           int predictor, int level, uint8_t **out_bytes, size_t *out_count, char *message);

/* Streaming PNG encoder for gray 8- and 16-bit images: rows go in as they are produced, the file comes out
 * through `write` as it is compressed, so memory is O(width) plus zlib's fixed state (≈ 260 KiB), whatever the
 * height. Same file layout and row filters as cio_encode_png (signature, IHDR, IDAT chunks of at most
 * CIO_PNG_STREAM_IDAT bytes of one zlib stream, IEND); the zlib stream is zlib's `deflate`, not libdeflate, so
 * the bytes differ from cio_encode_png's while the pixels are the same.
 *
 *   cio_png_stream_open → cio_png_stream_write_rows … → cio_png_stream_finish → cio_png_stream_close
 *
 * `write(context, bytes, count)` must take all `count` bytes and return 0, or return non-zero to fail the stream
 * (CIO_WRITE_FAILED). The first failure is sticky: every later call returns it again with the same message, and
 * nothing more is written. cio_png_stream_close frees the stream at any point (the file is then incomplete).
 * One stream is used by one thread at a time; different streams are independent. */
typedef int (*cio_png_write_fn)(void *context, const uint8_t *bytes, size_t count);
typedef struct cio_png_stream cio_png_stream;

#define CIO_PNG_STREAM_IDAT 65536

/* Starts a PNG of width × height gray samples at bit_depth 8 or 16 and writes the signature and IHDR. `level` is
 * cio_encode_png's 0…12 (libdeflate's scale), mapped to zlib's by speed: 0 stores, 1 (the default) is zlib's
 * Z_RLE strategy, 2…12 zlib levels 4…9 (table and measurements in pngstream.c). On success
 * *out is the stream (close it with cio_png_stream_close); on failure *out is NULL and nothing needs freeing. */
cio_status cio_png_stream_open(uint32_t width, uint32_t height, uint32_t bit_depth, int level, cio_png_write_fn write,
                               void *context, cio_png_stream **out, char *message);

/* Appends `rows` rows of width samples (uint8_t, or host-order uint16_t at 16 bits), top first, no padding.
 * More rows than the height in all is CIO_MISUSE. */
cio_status cio_png_stream_write_rows(cio_png_stream *stream, const void *samples, uint32_t rows, char *message);

/* Ends the zlib stream and writes the last IDAT and IEND. CIO_MISUSE if fewer than height rows were given. */
cio_status cio_png_stream_finish(cio_png_stream *stream, char *message);

/* Frees the stream (NULL is allowed). */
void cio_png_stream_close(cio_png_stream *stream);

/* 8-bit gray levels of a feature map: `clamp` (absolute = 0) or `abs` (absolute = 1), rounding half away from
 * zero, NaN → 0. Returns how many values lie outside [-0.5, 255.5) (what clamping loses). */
size_t cio_levels8(const float *values, uint8_t *out, size_t count, int absolute);

/* SHA-256 of a byte buffer. */
void cio_sha256(const uint8_t *bytes, size_t count, uint8_t digest[32]);

/* Raw deflate, for zip members (.npz): what cio_inflate_raw found. */
typedef enum {
    CIO_INFLATE_OK = 0,        /* the stream ended having produced exactly out_count bytes */
    CIO_INFLATE_SHORT = 1,     /* the stream ended early: *produced < out_count */
    CIO_INFLATE_LONG = 2,      /* the stream goes on past out_count bytes (nothing is written past the buffer) */
    CIO_INFLATE_BAD_DATA = 3,  /* not valid deflate data */
    CIO_INFLATE_NO_MEMORY = 4,
} cio_inflate_status;

/* Inflates the raw deflate stream in[0..in_count) into out[0..out_count): never writes past out_count, so a
 * member that inflates beyond its declared size costs at most that size (the caller caps it). */
cio_inflate_status cio_inflate_raw(const uint8_t *in, size_t in_count, uint8_t *out, size_t out_count, size_t *produced);

/* CRC-32 (zip, gzip, PNG) of a byte buffer. */
uint32_t cio_crc32(const uint8_t *bytes, size_t count);

void cio_free(void *pointer);

/* glibc: keep freed large blocks mapped so later images reuse their pages (no first-touch page faults). */
void cio_keep_large_buffers(void);


/* HDF5 (hdf5.c; Keras .h5, .weights.h5, a .keras archive's model.weights.h5). A file is opened from a copy of its
 * bytes in memory (the core driver, nothing touches the disk) and named by an opaque handle; close it with
 * cio_h5_close. libhdf5 is not thread-safe here: every call holds one process-wide lock. Errors are a status and a
 * one-line message (CIO_MESSAGE_CAPACITY bytes); libhdf5 prints nothing. */
#define CIO_H5_MAX_RANK 8
#define CIO_H5_MAX_NAME_BYTES 4096
#define CIO_H5_MAX_STRING_BYTES (64 << 20)
#define CIO_H5_MAX_STRINGS 1000000

typedef enum { CIO_H5_INTEGER = 0, CIO_H5_FLOAT = 1, CIO_H5_STRING = 2, CIO_H5_OTHER = 3 } cio_h5_class;

/* One dataset: its path from the root (no leading '/'), datatype class and byte size, rank and dimensions
 * (dims[rank…] are 0; a scalar has rank 0, an empty (null) dataspace rank 0 and class OTHER). */
typedef struct {
    char *path;
    uint32_t type_class, type_size, rank;
    uint64_t dims[CIO_H5_MAX_RANK];
} cio_h5_dataset;

cio_status cio_h5_open(const uint8_t *bytes, size_t count, int64_t *file, char *message);
void cio_h5_close(int64_t file);
/* Every dataset reachable from the root, each once, in name order per group; more than max_count is CIO_TOO_LARGE,
 * a rank above CIO_H5_MAX_RANK or a path above CIO_H5_MAX_NAME_BYTES an error. Free *out with cio_h5_free_datasets. */
cio_status cio_h5_datasets(int64_t file, size_t max_count, cio_h5_dataset **out, size_t *out_count, char *message);
void cio_h5_free_datasets(cio_h5_dataset *items, size_t count);
/* Reads an integer or float dataset of exactly `count` values (checked against its dataspace first), converted by
 * libhdf5 to doubles, row-major, into `buffer`. */
cio_status cio_h5_read_doubles(int64_t file, const char *path, double *buffer, uint64_t count, char *message);
/* A string attribute (fixed or variable length; one string or a 1-D list) of the object at `object` ("/" the root);
 * `image` is the file's bytes as opened, against which each variable-length string's global-heap object is checked
 * before libhdf5 reads it:
 * *out is malloc'ed (free with cio_free), *out_count strings each followed by a NUL, *out_length bytes in all
 * (≤ CIO_H5_MAX_STRING_BYTES). An absent attribute is CIO_OK with *out == NULL. */
cio_status cio_h5_string_attribute(int64_t file, const uint8_t *image, size_t image_count, const char *object, const char *name,
                                   char **out, size_t *out_length, uint32_t *out_count, char *message);

#endif
