/* JPEG decode through libjpeg(-turbo), setjmp-protected. See include/CImageIO.h. */
#include "CImageIO.h"
#include "rows.h"
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

/* The error manager both decoders use: error_exit longjmps to err->escape, damage warnings are refused. */
static void cio_jpeg_init_error(j_decompress_ptr cinfo, struct cio_jpeg_error *err, char *message) {
    cinfo->err = jpeg_std_error(&err->pub);
    err->pub.error_exit = cio_jpeg_error_exit;
    err->pub.emit_message = cio_jpeg_emit_message;
    err->message = message;
}

/* After jpeg_read_header, for both decoders: refuses what is not decoded and, before jpeg_start_decompress
 * allocates the image-sized buffers (jpeg_read_header allocates none), images over the pixel limit; chooses the
 * output colour space. Call only under a live setjmp(err->escape): a refusal writes the message and *failure,
 * then longjmps. Returns the cio_model of the output. */
static uint32_t cio_jpeg_prepare(j_decompress_ptr cinfo, uint64_t max_pixels, volatile cio_status *failure) {
    struct cio_jpeg_error *err = (struct cio_jpeg_error *)cinfo->err;
    if (cinfo->data_precision != 8 || cinfo->jpeg_color_space == JCS_UNKNOWN) {
        snprintf(err->message, CIO_MESSAGE_CAPACITY, "%d-bit samples or %d components of an unknown colour space are not supported",
                 cinfo->data_precision, cinfo->num_components);
        *failure = CIO_UNSUPPORTED;
        longjmp(err->escape, 1);
    }
    if ((uint64_t)cinfo->image_width * (uint64_t)cinfo->image_height > max_pixels) {
        snprintf(err->message, CIO_MESSAGE_CAPACITY, "%u×%u pixels is above the limit of %llu pixels",
                 (unsigned)cinfo->image_width, (unsigned)cinfo->image_height, (unsigned long long)max_pixels);
        *failure = CIO_TOO_LARGE;
        longjmp(err->escape, 1);
    }
    switch (cinfo->jpeg_color_space) {
    case JCS_GRAYSCALE:
        cinfo->out_color_space = JCS_GRAYSCALE;
        return CIO_MODEL_GRAY;
    case JCS_CMYK:
    case JCS_YCCK:
        cinfo->out_color_space = JCS_CMYK;
        return CIO_MODEL_CMYK;
    default:
        cinfo->out_color_space = JCS_RGB;
        return CIO_MODEL_RGB;
    }
}

/* 4-component JPEGs store inverted CMYK (Adobe's convention, as Photoshop writes and Pillow assumes). */
static void cio_jpeg_uninvert(uint8_t *samples, size_t count) {
    for (size_t i = 0; i < count; i++) samples[i] = (uint8_t)(255 - samples[i]);
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
    cio_jpeg_init_error(&cinfo, &err, message);
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
    /* Before jpeg_start_decompress, which allocates the image-sized buffers: jpeg_read_header allocates none. */
    uint32_t model = cio_jpeg_prepare(&cinfo, max_pixels, &failure);
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
    if (model == CIO_MODEL_CMYK) cio_jpeg_uninvert(samples, row_bytes * height);
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

/* ---- Row decoding (cio_rows_*, rows.c) ----
 *
 * jpeg_read_scanlines hands out rows in order for every JPEG. Open reads the header (jpeg_read_header, then
 * jpeg_calc_output_dimensions for the output size, nothing image-sized allocated); the first read calls
 * jpeg_start_decompress. A baseline (single-scan) JPEG then streams: libjpeg keeps one MCU row of coefficients and
 * a few rows of samples. A multi-scan JPEG (progressive, or sequential in several scans) cannot: in
 * jpeg_start_decompress libjpeg reads every scan into its own whole-image coefficient arrays (2 bytes per sample
 * of each component at its sampling), and rows come out of those — still without a whole-image sample raster.
 *
 * Defences, as in cio_decode_jpeg and through the same code: the pixel limit before jpeg_start_decompress
 * (cio_jpeg_prepare), every damage warning refused at once (cio_jpeg_emit_message: a file cut short fails at the
 * row where its data ends, where libjpeg would start inventing gray), the scan cap (cio_jpeg_progress), no saved
 * markers; the read that delivers the last row calls jpeg_finish_decompress, which reads on to EOI. */
struct cio_jpeg_rows {
    struct cio_row_decoder base; /* first: rows.c sees only this */
    struct jpeg_decompress_struct cinfo;
    struct cio_jpeg_error err;   /* err.escape is set by each call's own setjmp */
    struct jpeg_progress_mgr progress;
    uint32_t model;
    size_t row_bytes;
    int started;                 /* jpeg_start_decompress has run */
};

static uint64_t cio_jpeg_coefficient_bytes(j_decompress_ptr cinfo) {
    if (!jpeg_has_multiple_scans(cinfo)) return 0;
    uint64_t bytes = 0;
    for (int ci = 0; ci < cinfo->num_components; ci++) {
        const jpeg_component_info *c = &cinfo->comp_info[ci];
        uint64_t across = (c->width_in_blocks + c->h_samp_factor - 1) / c->h_samp_factor * c->h_samp_factor;
        uint64_t down = (c->height_in_blocks + c->v_samp_factor - 1) / c->v_samp_factor * c->v_samp_factor;
        bytes += across * down * sizeof(JBLOCK);
    }
    return bytes;
}

struct cio_row_decoder *cio_jpeg_rows_open(const uint8_t *bytes, size_t count, uint64_t max_pixels,
                                           cio_row_header *header, char *message, cio_status *status) {
    if (count < 3 || bytes[0] != 0xFF || bytes[1] != 0xD8) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "not a JPEG file (no SOI marker)");
        *status = CIO_NOT_IMAGE;
        return NULL;
    }
    struct cio_jpeg_rows *d = (struct cio_jpeg_rows *)calloc(1, sizeof *d);
    if (!d) {
        *status = CIO_NO_MEMORY;
        return NULL;
    }
    d->base.format = CIO_FORMAT_JPEG;
    cio_jpeg_init_error(&d->cinfo, &d->err, message);
    volatile cio_status failure = CIO_CORRUPT;
    if (setjmp(d->err.escape)) {
        jpeg_destroy_decompress(&d->cinfo);
        free(d);
        *status = failure;
        return NULL;
    }
    jpeg_create_decompress(&d->cinfo);
    d->progress.progress_monitor = cio_jpeg_progress;
    d->cinfo.progress = &d->progress;
    jpeg_mem_src(&d->cinfo, (const unsigned char *)bytes, (unsigned long)count);
    /* No jpeg_save_markers, as in cio_decode_jpeg. */
    jpeg_read_header(&d->cinfo, TRUE);
    d->model = cio_jpeg_prepare(&d->cinfo, max_pixels, &failure);
    jpeg_calc_output_dimensions(&d->cinfo); /* what jpeg_start_decompress will give, without starting */
    uint32_t width = d->cinfo.output_width, height = d->cinfo.output_height;
    uint32_t channels = (uint32_t)d->cinfo.output_components;
    d->row_bytes = (size_t)width * channels;
    d->base.height = height;
    header->format = CIO_FORMAT_JPEG;
    header->width = width;
    header->height = height;
    header->channels = channels;
    header->bit_depth = 8;
    header->model = d->model;
    header->row_bytes = d->row_bytes;
    header->multi_scan = jpeg_has_multiple_scans(&d->cinfo) ? 1 : 0;
    header->whole_image_bytes = cio_jpeg_coefficient_bytes(&d->cinfo);
    return &d->base;
}

cio_status cio_jpeg_rows_read(struct cio_row_decoder *decoder, uint8_t *dst, uint32_t rows, char *message) {
    struct cio_jpeg_rows *d = (struct cio_jpeg_rows *)decoder;
    j_decompress_ptr cinfo = &d->cinfo;
    d->err.message = message; /* this call's buffer */
    if (setjmp(d->err.escape)) return CIO_CORRUPT; /* libjpeg's state is now undefined: the decoder is dead */
    if (!d->started) {
        jpeg_start_decompress(cinfo); /* multi-scan: reads every scan here */
        d->started = 1;
        if (cinfo->output_width * (size_t)cinfo->output_components != d->row_bytes ||
            cinfo->output_height != d->base.height) {
            snprintf(message, CIO_MESSAGE_CAPACITY, "output size changed after the header");
            return CIO_CORRUPT;
        }
    }
    for (uint32_t i = 0; i < rows; i++) {
        JSAMPROW row = dst + (size_t)i * d->row_bytes;
        if (jpeg_read_scanlines(cinfo, &row, 1) != 1) { /* suspension cannot happen with a memory source */
            snprintf(message, CIO_MESSAGE_CAPACITY, "image data ends early (truncated)");
            return CIO_CORRUPT;
        }
        if (d->model == CIO_MODEL_CMYK) cio_jpeg_uninvert(row, d->row_bytes);
        d->base.next_row++;
    }
    if (d->base.next_row == d->base.height) jpeg_finish_decompress(cinfo); /* on to EOI, damage still refused */
    return CIO_OK;
}

void cio_jpeg_rows_close(struct cio_row_decoder *decoder) {
    struct cio_jpeg_rows *d = (struct cio_jpeg_rows *)decoder;
    jpeg_destroy_decompress(&d->cinfo);
    free(d);
}
