/* WebP decode through libwebp (and libwebpdemux for animations). See include/CImageIO.h (cio_decode_webp,
 * cio_webp_info).
 *
 * libwebp never prints, never aborts and needs no setjmp: every call returns a status. WebPGetFeatures reads the
 * header first (size, alpha, animation), so the pixel limit is checked before anything image-sized is allocated.
 * A still image is decoded by WebPDecode straight into the raster (RGB, or RGBA when the file has alpha; libwebp's
 * defaults, fancy upsampling included, as Pillow and dwebp decode). An animation's first frame is decoded by
 * WebPAnimDecoder onto its RGBA canvas (the frame placed at its offset over a transparent canvas, as viewers show
 * it), then copied, without alpha when the file declares none. */
#include "CImageIO.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <webp/decode.h>
#include <webp/demux.h>

static const char *cio_webp_status_text(VP8StatusCode status) {
    switch (status) {
    case VP8_STATUS_OUT_OF_MEMORY: return "out of memory";
    case VP8_STATUS_INVALID_PARAM: return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR: return "bitstream error (damaged data)";
    case VP8_STATUS_UNSUPPORTED_FEATURE: return "unsupported feature";
    case VP8_STATUS_SUSPENDED: return "suspended";
    case VP8_STATUS_USER_ABORT: return "aborted";
    case VP8_STATUS_NOT_ENOUGH_DATA: return "data ends early (truncated)";
    default: return "decoding failed";
    }
}

static cio_status cio_webp_status(VP8StatusCode status) {
    switch (status) {
    case VP8_STATUS_OK: return CIO_OK;
    case VP8_STATUS_OUT_OF_MEMORY: return CIO_NO_MEMORY;
    case VP8_STATUS_UNSUPPORTED_FEATURE: return CIO_UNSUPPORTED;
    default: return CIO_CORRUPT;
    }
}

/* Reads the features and checks them; fills *info. */
static cio_status cio_webp_examine(const uint8_t *bytes, size_t count, uint64_t max_pixels, WebPBitstreamFeatures *features,
                                   cio_image_info *info, char *message) {
    if (count < 12 || memcmp(bytes, "RIFF", 4) != 0 || memcmp(bytes + 8, "WEBP", 4) != 0) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "not a WebP file (no RIFF/WEBP header)");
        return CIO_NOT_IMAGE;
    }
    VP8StatusCode status = WebPGetFeatures(bytes, count, features);
    if (status != VP8_STATUS_OK) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "header: %s", cio_webp_status_text(status));
        return cio_webp_status(status);
    }
    if (features->width <= 0 || features->height <= 0) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "empty image (%d×%d)", features->width, features->height);
        return CIO_CORRUPT;
    }
    uint64_t width = (uint64_t)features->width, height = (uint64_t)features->height, pixels = width * height;
    if (pixels > max_pixels) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "%llu×%llu pixels is above the limit of %llu pixels", (unsigned long long)width,
                 (unsigned long long)height, (unsigned long long)max_pixels);
        return CIO_TOO_LARGE;
    }
    memset(info, 0, sizeof *info);
    info->width = (uint32_t)width;
    info->height = (uint32_t)height;
    info->channels = features->has_alpha ? 4 : 3;
    info->bit_depth = 8;
    info->orientation = 1;
    info->animated = features->has_animation ? 1 : 0;
    /* What libwebp holds beside the output: an animation's two RGBA canvases and a frame's ARGB (lossless) image;
     * a lossless still image's whole ARGB image; a lossy one's alpha plane and a few rows of YUV. */
    if (features->has_animation) info->decoder_bytes = pixels * 12;
    else if (features->format == 1) info->decoder_bytes = (features->has_alpha ? pixels : 0) + width * 64;
    else info->decoder_bytes = pixels * 4 + width * 64;
    return CIO_OK;
}

cio_status cio_webp_info(const uint8_t *bytes, size_t count, uint64_t max_pixels, cio_image_info *info, char *message) {
    message[0] = 0;
    cio_image_info local;
    WebPBitstreamFeatures features;
    cio_status status = cio_webp_examine(bytes, count, max_pixels, &features, info ? info : &local, message);
    if (status != CIO_OK && info) memset(info, 0, sizeof *info);
    return status;
}

static cio_status cio_webp_first_frame(const uint8_t *bytes, size_t count, const cio_image_info *info, uint8_t *raster,
                                       char *message) {
    WebPAnimDecoderOptions options;
    if (!WebPAnimDecoderOptionsInit(&options)) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "libwebp version mismatch");
        return CIO_UNSUPPORTED;
    }
    options.color_mode = MODE_RGBA;
    options.use_threads = 0;
    WebPData data = {bytes, count};
    WebPAnimDecoder *decoder = WebPAnimDecoderNew(&data, &options);
    if (!decoder) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "animation cannot be read (damaged or truncated)");
        return CIO_CORRUPT;
    }
    WebPAnimInfo animation;
    uint8_t *canvas = NULL;
    int timestamp = 0;
    cio_status status = CIO_OK;
    if (!WebPAnimDecoderGetInfo(decoder, &animation) || animation.canvas_width != info->width ||
        animation.canvas_height != info->height || animation.frame_count == 0) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "animation header disagrees with the file header");
        status = CIO_CORRUPT;
    } else if (!WebPAnimDecoderGetNext(decoder, &canvas, &timestamp) || !canvas) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "first frame cannot be decoded (damaged or truncated)");
        status = CIO_CORRUPT;
    } else {
        size_t pixels = (size_t)info->width * info->height;
        if (info->channels == 4) {
            memcpy(raster, canvas, pixels * 4);
        } else {
            for (size_t p = 0; p < pixels; p++) memcpy(raster + 3 * p, canvas + 4 * p, 3);
        }
    }
    WebPAnimDecoderDelete(decoder);
    return status;
}

cio_status cio_decode_webp(const uint8_t *bytes, size_t count, uint64_t max_pixels, cio_raster *out,
                           cio_image_info *info, char *message) {
    memset(out, 0, sizeof *out);
    message[0] = 0;
    cio_image_info local;
    if (!info) info = &local;
    WebPBitstreamFeatures features;
    cio_status status = cio_webp_examine(bytes, count, max_pixels, &features, info, message);
    if (status != CIO_OK) {
        memset(info, 0, sizeof *info);
        return status;
    }
    size_t row_bytes = (size_t)info->width * info->channels, total = row_bytes * info->height; /* < 2^32 · 4 · 2^14 */
    uint8_t *raster = (uint8_t *)malloc(total);
    if (!raster) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "out of memory for %u×%u pixels", (unsigned)info->width, (unsigned)info->height);
        memset(info, 0, sizeof *info);
        return CIO_NO_MEMORY;
    }
    if (info->animated) {
        status = cio_webp_first_frame(bytes, count, info, raster, message);
    } else {
        WebPDecoderConfig config;
        if (!WebPInitDecoderConfig(&config)) {
            snprintf(message, CIO_MESSAGE_CAPACITY, "libwebp version mismatch");
            status = CIO_UNSUPPORTED;
        } else {
            config.output.colorspace = info->channels == 4 ? MODE_RGBA : MODE_RGB;
            config.output.is_external_memory = 1;
            config.output.u.RGBA.rgba = raster;
            config.output.u.RGBA.stride = (int)row_bytes;
            config.output.u.RGBA.size = total;
            VP8StatusCode decoded = WebPDecode(bytes, count, &config);
            if (decoded != VP8_STATUS_OK) {
                snprintf(message, CIO_MESSAGE_CAPACITY, "%s", cio_webp_status_text(decoded));
                status = cio_webp_status(decoded);
            } else if (config.output.width != (int)info->width || config.output.height != (int)info->height) {
                snprintf(message, CIO_MESSAGE_CAPACITY, "decoded size differs from the header");
                status = CIO_CORRUPT;
            }
            WebPFreeDecBuffer(&config.output); /* frees nothing of ours (external memory) */
        }
    }
    if (status != CIO_OK) {
        free(raster);
        memset(info, 0, sizeof *info);
        return status;
    }
    out->width = info->width;
    out->height = info->height;
    out->channels = info->channels;
    out->bit_depth = 8;
    out->model = info->channels == 4 ? CIO_MODEL_RGBA : CIO_MODEL_RGB;
    out->samples = raster;
    return CIO_OK;
}
