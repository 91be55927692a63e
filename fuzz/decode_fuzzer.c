/* libFuzzer target over convbank's C decoders (Sources/CImageIO): cio_decode_png, cio_decode_jpeg, cio_decode_tiff
 * and cio_decode_webp, and the header readers cio_tiff_info and cio_webp_info.
 *
 * Every decoder is called on every input (each refuses a foreign signature at once), as
 * ImageCodec.decode(bytes:) would after sniffing. Beyond "no crash, no leak, no hang" (ASan, UBSan, libFuzzer's
 * leak and timeout checks), the harness checks the contract of CImageIO.h on every result:
 *   - failure: no samples returned, a status from the enum, a NUL-terminated message;
 *   - success: width, height >= 1, width·height <= the pixel limit, channels/bit depth/model consistent, and a
 *     samples buffer of exactly height·width·channels·(bit_depth/8) bytes (its first and last byte are read,
 *     so ASan reports a buffer that is too short);
 *   - TIFF and WebP: the header reader agrees with the decoder (a file the decoder takes has a header that says the
 *     same size, channels and depth; a header the reader refuses as too large is refused by the decoder too);
 *   - the JPEG EXIF path: ImageCodec.swift reads the orientation only from JPEGs that decoded; that parser is
 *     Swift (ExifOrientation.swift) and is fuzzed by fuzz/exif_fuzzer.swift.
 * Build and run: fuzz/run.sh.
 */
#include "CImageIO.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX_PIXELS ((uint64_t)1 << 22)

static void fail(const char *decoder, const char *what) {
    fprintf(stderr, "decode_fuzzer: %s broke its contract: %s\n", decoder, what);
    abort(); /* libFuzzer saves the input as a crash */
}

static volatile uint8_t sink;

static void check(const char *decoder, cio_status status, const cio_raster *r, const char *message) {
    if (memchr(message, 0, CIO_MESSAGE_CAPACITY) == NULL) fail(decoder, "message not NUL-terminated");
    if (status != CIO_OK) {
        if (status > CIO_TOO_LARGE) fail(decoder, "unknown status");
        if (r->samples != NULL) fail(decoder, "samples returned with a failure status");
        return;
    }
    if (r->samples == NULL) fail(decoder, "CIO_OK without samples");
    if (r->width == 0 || r->height == 0) fail(decoder, "empty image");
    if ((uint64_t)r->width * r->height > FUZZ_MAX_PIXELS) fail(decoder, "pixel limit not enforced");
    if (r->bit_depth != 8 && r->bit_depth != 16 && r->bit_depth != 32) fail(decoder, "bit depth not 8, 16 or 32");
    static const uint32_t model_channels[] = {1, 2, 3, 4, 4};
    if (r->model > CIO_MODEL_CMYK) fail(decoder, "unknown colour model");
    if (r->channels != model_channels[r->model]) fail(decoder, "channel count does not match the model");
    size_t total = (size_t)r->width * r->height * r->channels * (r->bit_depth / 8);
    const uint8_t *s = (const uint8_t *)r->samples;
    sink = s[0];
    sink = s[total - 1];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char message[CIO_MESSAGE_CAPACITY];
    cio_raster raster;

    memset(message, 0x55, sizeof message);
    cio_status status = cio_decode_png(data, size, FUZZ_MAX_PIXELS, &raster, message);
    check("cio_decode_png", status, &raster, message);
    if (status == CIO_OK && raster.model == CIO_MODEL_CMYK) fail("cio_decode_png", "PNG returned CMYK");
    cio_free(raster.samples);

    memset(message, 0x55, sizeof message);
    status = cio_decode_jpeg(data, size, FUZZ_MAX_PIXELS, &raster, message);
    check("cio_decode_jpeg", status, &raster, message);
    if (status == CIO_OK && raster.bit_depth != 8) fail("cio_decode_jpeg", "JPEG not 8-bit");
    cio_free(raster.samples);

    typedef cio_status (*decode_fn)(const uint8_t *, size_t, uint64_t, cio_raster *, cio_image_info *, char *);
    typedef cio_status (*info_fn)(const uint8_t *, size_t, uint64_t, cio_image_info *, char *);
    static const struct { const char *name; decode_fn decode; info_fn info; } formats[] = {
        {"cio_decode_tiff", cio_decode_tiff, cio_tiff_info},
        {"cio_decode_webp", cio_decode_webp, cio_webp_info},
    };
    for (size_t k = 0; k < sizeof formats / sizeof formats[0]; k++) {
        cio_image_info header, info;
        char header_message[CIO_MESSAGE_CAPACITY];
        memset(header_message, 0x55, sizeof header_message);
        cio_status header_status = formats[k].info(data, size, FUZZ_MAX_PIXELS, &header, header_message);
        if (memchr(header_message, 0, CIO_MESSAGE_CAPACITY) == NULL) fail(formats[k].name, "header message not NUL-terminated");
        memset(message, 0x55, sizeof message);
        status = formats[k].decode(data, size, FUZZ_MAX_PIXELS, &raster, &info, message);
        check(formats[k].name, status, &raster, message);
        if (status == CIO_OK) {
            if (raster.model == CIO_MODEL_CMYK) fail(formats[k].name, "returned CMYK");
            if (header_status != CIO_OK) fail(formats[k].name, "decoded a file whose header the reader refused");
            if (header.width != raster.width || header.height != raster.height || header.channels != raster.channels ||
                header.bit_depth != raster.bit_depth || info.orientation != header.orientation || header.orientation < 1 ||
                header.orientation > 8)
                fail(formats[k].name, "header reader and decoder disagree");
            if (raster.bit_depth == 32 && k != 0) fail(formats[k].name, "float samples from WebP");
        }
        if (header_status == CIO_TOO_LARGE && status != CIO_TOO_LARGE) fail(formats[k].name, "pixel limit only in the header reader");
        cio_free(raster.samples);
    }
    return 0;
}
