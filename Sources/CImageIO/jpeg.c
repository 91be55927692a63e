/* JPEG decode through libjpeg(-turbo), setjmp-protected. See include/CImageIO.h. */
#include "CImageIO.h"
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

struct cio_jpeg_error {
    struct jpeg_error_mgr pub; /* first, so a j_common_ptr's err can be cast to this */
    jmp_buf escape;
    char *message;             /* caller's buffer */
    uint32_t damage_warnings;  /* warnings that mean the data is damaged */
};

static void cio_jpeg_error_exit(j_common_ptr cinfo) {
    struct cio_jpeg_error *err = (struct cio_jpeg_error *)cinfo->err;
    char text[JMSG_LENGTH_MAX];
    err->pub.format_message(cinfo, text);
    snprintf(err->message, CIO_MESSAGE_CAPACITY, "%s", text);
    longjmp(err->escape, 1); /* replaces libjpeg's exit(): back into cio_decode_jpeg's frame */
}

/* libjpeg only warns when the data is truncated or damaged (and fills the rest with gray); those warnings
 * are counted so the caller can refuse the image. Warnings about ancillary matters are ignored. */
static void cio_jpeg_emit_message(j_common_ptr cinfo, int level) {
    if (level != -1) return; /* trace messages */
    struct cio_jpeg_error *err = (struct cio_jpeg_error *)cinfo->err;
    switch (err->pub.msg_code) {
    case JWRN_JPEG_EOF:
    case JWRN_HIT_MARKER:
    case JWRN_MUST_RESYNC:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_ARITH_BAD_CODE:
    case JWRN_BOGUS_PROGRESSION:
    case JWRN_NOT_SEQUENTIAL:
    case JWRN_TOO_MUCH_DATA:
    case JWRN_EXTRANEOUS_DATA: /* bytes between entropy data and a marker: what flipped scan bits look like */
        if (err->damage_warnings++ == 0) {
            char text[JMSG_LENGTH_MAX];
            err->pub.format_message(cinfo, text);
            snprintf(err->message, CIO_MESSAGE_CAPACITY, "%s", text);
        }
        /* Damaged data is refused anyway: stop now rather than decode (possibly for seconds) to the end. */
        longjmp(err->escape, 1);
    default:
        break;
    }
    err->pub.num_warnings++;
}

/* More scans than any real encoder writes (libjpeg-turbo's own tools cap them too): a file of thousands of cheap
 * progressive scans would otherwise take seconds to absorb. */
#define CIO_MAX_SCANS 300

static void cio_jpeg_progress(j_common_ptr cinfo) {
    if (!cinfo->is_decompressor) return;
    j_decompress_ptr d = (j_decompress_ptr)cinfo;
    if (d->input_scan_number > CIO_MAX_SCANS) {
        struct cio_jpeg_error *err = (struct cio_jpeg_error *)cinfo->err;
        snprintf(err->message, CIO_MESSAGE_CAPACITY, "more than %d scans (not a real image)", CIO_MAX_SCANS);
        longjmp(err->escape, 1);
    }
}

cio_status cio_decode_jpeg(const uint8_t *bytes, size_t count, uint64_t max_pixels, cio_raster *out, char *message) {
    memset(out, 0, sizeof *out);
    message[0] = 0;
    if (count < 3 || bytes[0] != 0xFF || bytes[1] != 0xD8) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "not a JPEG file (no SOI marker)");
        return CIO_NOT_IMAGE;
    }
    struct jpeg_decompress_struct cinfo;
    struct cio_jpeg_error err;
    memset(&cinfo, 0, sizeof cinfo);
    memset(&err, 0, sizeof err);
    cinfo.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = cio_jpeg_error_exit;
    err.pub.emit_message = cio_jpeg_emit_message;
    err.message = message;
    uint8_t *volatile samples = NULL;
    volatile cio_status failure = CIO_CORRUPT;
    if (setjmp(err.escape)) {
        jpeg_destroy_decompress(&cinfo);
        free(samples);
        return failure;
    }
    jpeg_create_decompress(&cinfo);
    struct jpeg_progress_mgr progress;
    memset(&progress, 0, sizeof progress);
    progress.progress_monitor = cio_jpeg_progress;
    cinfo.progress = &progress;
    jpeg_mem_src(&cinfo, (const unsigned char *)bytes, (unsigned long)count);
    /* No jpeg_save_markers: libjpeg then skips every APPn and COM segment unread (of APP0 and APP14 it looks at the
     * first 14 bytes, for JFIF and Adobe's colour transform), in O(1) each from memory, and keeps nothing. EXIF
     * orientation is read by Swift (ExifOrientation.swift) from the bytes. A segment is at most 64 KiB anyway. */
    jpeg_read_header(&cinfo, TRUE);
    if (cinfo.data_precision != 8 || cinfo.jpeg_color_space == JCS_UNKNOWN) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "%d-bit samples or %d components of an unknown colour space are not supported",
                 cinfo.data_precision, cinfo.num_components);
        failure = CIO_UNSUPPORTED;
        longjmp(err.escape, 1);
    }
    /* Before jpeg_start_decompress, which allocates the image-sized buffers: jpeg_read_header allocates none. */
    if ((uint64_t)cinfo.image_width * (uint64_t)cinfo.image_height > max_pixels) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "%u×%u pixels is above the limit of %llu pixels",
                 (unsigned)cinfo.image_width, (unsigned)cinfo.image_height, (unsigned long long)max_pixels);
        failure = CIO_TOO_LARGE;
        longjmp(err.escape, 1);
    }
    uint32_t model;
    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE:
        cinfo.out_color_space = JCS_GRAYSCALE;
        model = CIO_MODEL_GRAY;
        break;
    case JCS_CMYK:
    case JCS_YCCK:
        cinfo.out_color_space = JCS_CMYK;
        model = CIO_MODEL_CMYK;
        break;
    default:
        cinfo.out_color_space = JCS_RGB;
        model = CIO_MODEL_RGB;
        break;
    }
    jpeg_start_decompress(&cinfo);
    uint32_t width = cinfo.output_width, height = cinfo.output_height, channels = (uint32_t)cinfo.output_components;
    size_t row_bytes = (size_t)width * channels;
    samples = (uint8_t *)malloc(row_bytes * height ? row_bytes * height : 1);
    if (!samples) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "out of memory for %u×%u pixels", (unsigned)width, (unsigned)height);
        failure = CIO_NO_MEMORY;
        longjmp(err.escape, 1);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = samples + (size_t)cinfo.output_scanline * row_bytes;
        if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) break; /* suspension cannot happen with a memory source */
    }
    if (cinfo.output_scanline < cinfo.output_height) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "image data ends early (truncated)");
        longjmp(err.escape, 1);
    }
    jpeg_finish_decompress(&cinfo);
    if (model == CIO_MODEL_CMYK) {
        /* 4-component JPEGs store inverted CMYK (Adobe's convention, as Photoshop writes and Pillow assumes). */
        size_t total = row_bytes * height;
        for (size_t i = 0; i < total; i++) samples[i] = (uint8_t)(255 - samples[i]);
    }
    out->width = width;
    out->height = height;
    out->channels = channels;
    out->bit_depth = 8;
    out->model = model;
    out->warnings = err.damage_warnings;
    out->samples = samples;
    jpeg_destroy_decompress(&cinfo);
    return CIO_OK;
}
