/* CImageIO: the only code that calls libpng and libjpeg. No Swift API of its own.
 *
 * Each exported function does one whole job (decode one byte buffer, or encode one grayscale image into
 * memory) and holds the setjmp for that job in its own frame, so a libpng/libjpeg error comes back as a
 * status and a message in a caller-owned buffer, never as abort() or exit(). State is per call: the
 * functions may run concurrently on different threads.
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
 * no row padding; uint8_t when bit_depth is 8, host-order uint16_t when 16. Free with cio_free. */
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

/* Encodes interleaved samples (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA channels; 8- or 16-bit, 16-bit samples in
 * host order) as a PNG in memory with libpng-style adaptive row filtering, compressed by libdeflate at `level` (0…12; 0 stores).
 * *out_bytes is malloc'ed: free with cio_free. */
cio_status cio_encode_png(const void *samples, uint32_t width, uint32_t height, uint32_t channels, uint32_t bit_depth,
                          int level, uint8_t **out_bytes, size_t *out_count, char *message);

/* 8-bit gray levels of a feature map: `clamp` (absolute = 0) or `abs` (absolute = 1), rounding half away from
 * zero, NaN → 0. Returns how many values lie outside [-0.5, 255.5) (what clamping loses). */
size_t cio_levels8(const float *values, uint8_t *out, size_t count, int absolute);

/* SHA-256 of a byte buffer. */
void cio_sha256(const uint8_t *bytes, size_t count, uint8_t digest[32]);

void cio_free(void *pointer);

/* glibc: keep freed large blocks mapped so later images reuse their pages (no first-touch page faults). */
void cio_keep_large_buffers(void);


#endif
