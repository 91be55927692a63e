/* WebP encoding through libwebp, into memory. See include/CImageIO.h.
 *
 * The configuration is the one libwebp's simple API uses (WebPEncodeLosslessRGB / WebPEncodeRGB, src/enc/
 * picture_enc.c): WebPConfigPreset(DEFAULT, q) with q = 70 for lossless (compression effort; the pixels are exact
 * anyway) or the caller's quality for lossy, method 4. Only the import differs: libwebp takes no gray input, so the
 * samples are packed straight into the picture's ARGB pixels here (gray g becomes R = G = B = g, opaque; RGB opaque;
 * RGBA keeps its alpha) instead of through an RGB copy, and WebPEncode is called directly so that its error code
 * can be reported. libwebp never prints and never aborts; it has no setjmp to hold. */
#include "CImageIO.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <webp/encode.h>

static const char *cio_webp_error_text(WebPEncodingError code) {
    switch (code) {
    case VP8_ENC_ERROR_OUT_OF_MEMORY: return "out of memory";
    case VP8_ENC_ERROR_BITSTREAM_OUT_OF_MEMORY: return "out of memory while writing the bitstream";
    case VP8_ENC_ERROR_NULL_PARAMETER: return "missing parameter";
    case VP8_ENC_ERROR_INVALID_CONFIGURATION: return "invalid configuration";
    case VP8_ENC_ERROR_BAD_DIMENSION: return "bad dimension";
    case VP8_ENC_ERROR_PARTITION0_OVERFLOW: return "first partition over 512 KiB (try a lower --quality)";
    case VP8_ENC_ERROR_PARTITION_OVERFLOW: return "partition over 16 MiB";
    case VP8_ENC_ERROR_BAD_WRITE: return "write error";
    case VP8_ENC_ERROR_FILE_TOO_BIG: return "file over 4 GiB";
    case VP8_ENC_ERROR_USER_ABORT: return "aborted";
    default: return "encoding failed";
    }
}

cio_status cio_encode_webp(const uint8_t *samples, uint32_t width, uint32_t height, uint32_t channels, int quality,
                           uint8_t **out_bytes, size_t *out_count, char *message) {
    *out_bytes = NULL;
    *out_count = 0;
    message[0] = 0;
    if ((channels != 1 && channels != 3 && channels != 4) || width == 0 || height == 0 || width > WEBP_MAX_DIMENSION ||
        height > WEBP_MAX_DIMENSION) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "WebP cannot hold %u×%u pixels of %u channels (at most %d per side; 1, 3 or 4 channels)",
                 (unsigned)width, (unsigned)height, (unsigned)channels, WEBP_MAX_DIMENSION);
        return CIO_UNSUPPORTED;
    }
    if (quality > 100) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "WebP quality %d is not in 1…100", quality);
        return CIO_UNSUPPORTED;
    }
    const int lossless = quality < 1;
    WebPConfig config;
    WebPPicture picture;
    WebPMemoryWriter writer;
    if (!WebPConfigPreset(&config, WEBP_PRESET_DEFAULT, lossless ? 70.f : (float)quality) || !WebPPictureInit(&picture)) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "libwebp version mismatch");
        return CIO_UNSUPPORTED;
    }
    config.lossless = lossless;
    picture.use_argb = 1;
    picture.width = (int)width;
    picture.height = (int)height;
    if (!WebPPictureAlloc(&picture)) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "out of memory");
        return CIO_NO_MEMORY;
    }
    for (uint32_t y = 0; y < height; y++) {
        const uint8_t *s = samples + (size_t)y * width * channels;
        uint32_t *argb = picture.argb + (size_t)y * (size_t)picture.argb_stride;
        if (channels == 1) {
            for (uint32_t x = 0; x < width; x++) argb[x] = 0xFF000000u | (uint32_t)s[x] * 0x010101u;
        } else if (channels == 3) {
            for (uint32_t x = 0; x < width; x++, s += 3)
                argb[x] = 0xFF000000u | (uint32_t)s[0] << 16 | (uint32_t)s[1] << 8 | s[2];
        } else {
            for (uint32_t x = 0; x < width; x++, s += 4)
                argb[x] = (uint32_t)s[3] << 24 | (uint32_t)s[0] << 16 | (uint32_t)s[1] << 8 | s[2];
        }
    }
    WebPMemoryWriterInit(&writer);
    picture.writer = WebPMemoryWrite;
    picture.custom_ptr = &writer;
    int ok = WebPEncode(&config, &picture);
    WebPEncodingError code = picture.error_code;
    WebPPictureFree(&picture);
    if (!ok) {
        WebPMemoryWriterClear(&writer);
        snprintf(message, CIO_MESSAGE_CAPACITY, "WebP: %s", cio_webp_error_text(code));
        return code == VP8_ENC_ERROR_OUT_OF_MEMORY || code == VP8_ENC_ERROR_BITSTREAM_OUT_OF_MEMORY ? CIO_NO_MEMORY : CIO_CORRUPT;
    }
    /* Copied into our own malloc'ed block, so that cio_free (free) is right whatever allocator libwebp uses. */
    uint8_t *bytes = malloc(writer.size ? writer.size : 1);
    if (!bytes) {
        WebPMemoryWriterClear(&writer);
        snprintf(message, CIO_MESSAGE_CAPACITY, "out of memory");
        return CIO_NO_MEMORY;
    }
    memcpy(bytes, writer.mem, writer.size);
    *out_bytes = bytes;
    *out_count = writer.size;
    WebPMemoryWriterClear(&writer);
    return CIO_OK;
}
