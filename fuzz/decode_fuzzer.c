/* libFuzzer target over convbank's C decoders (Sources/CImageIO): cio_decode_png and cio_decode_jpeg.
 *
 * Both decoders are called on every input (each refuses a foreign signature at once), as
 * ImageCodec.decode(bytes:) would after sniffing. Beyond "no crash, no leak, no hang" (ASan, UBSan, libFuzzer's
 * leak and timeout checks), the harness checks the contract of CImageIO.h on every result:
 *   - failure: no samples returned, a status from the enum, a NUL-terminated message;
 *   - success: width, height >= 1, width·height <= the pixel limit, channels/bit depth/model consistent, and a
 *     samples buffer of exactly height·width·channels·(bit_depth/8) bytes (its first and last byte are read,
 *     so ASan reports a buffer that is too short);
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
    if (r->bit_depth != 8 && r->bit_depth != 16) fail(decoder, "bit depth not 8 or 16");
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
    return 0;
}
