/* JPEG encoding through libjpeg(-turbo), setjmp-protected, into memory. See include/CImageIO.h.
 *
 * Baseline sequential JPEG at libjpeg's defaults apart from the quality: standard (Annex K) tables scaled by
 * jpeg_set_quality(q, force_baseline = TRUE), islow forward DCT, no Huffman optimization, a JFIF header. Gray
 * samples are written as a one-component JCS_GRAYSCALE file; RGB as YCbCr with libjpeg's default sampling, 4:2:0
 * (luma 2×2, chroma 1×1), which is also what Pillow and OpenCV write at their defaults. */
#include "CImageIO.h"
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

struct cio_jpeg_write_error {
    struct jpeg_error_mgr pub; /* first, so a j_common_ptr's err can be cast to this */
    jmp_buf escape;
    char *message;             /* caller's buffer */
};

static void cio_jpeg_write_error_exit(j_common_ptr cinfo) {
    struct cio_jpeg_write_error *err = (struct cio_jpeg_write_error *)cinfo->err;
    char text[JMSG_LENGTH_MAX];
    err->pub.format_message(cinfo, text);
    snprintf(err->message, CIO_MESSAGE_CAPACITY, "%s", text);
    longjmp(err->escape, 1); /* replaces libjpeg's exit(): back into cio_encode_jpeg's frame */
}

/* Warnings and trace messages are counted, never printed. */
static void cio_jpeg_write_emit_message(j_common_ptr cinfo, int level) {
    if (level == -1) cinfo->err->num_warnings++;
}

/* A growable memory destination whose buffer the caller's frame owns (jpeg_mem_dest frees and replaces its buffer
 * as it grows without telling the caller until the end, so after a longjmp the last buffer could not be freed). */
struct cio_jpeg_sink {
    struct jpeg_destination_mgr pub;
    uint8_t *buffer;
    size_t capacity;
};

static void cio_jpeg_sink_init(j_compress_ptr cinfo) {
    struct cio_jpeg_sink *sink = (struct cio_jpeg_sink *)cinfo->dest;
    sink->pub.next_output_byte = sink->buffer;
    sink->pub.free_in_buffer = sink->capacity;
}

static boolean cio_jpeg_sink_grow(j_compress_ptr cinfo) {
    struct cio_jpeg_sink *sink = (struct cio_jpeg_sink *)cinfo->dest;
    size_t used = sink->capacity; /* libjpeg calls this only when the buffer is full */
    size_t capacity = sink->capacity * 2;
    uint8_t *grown = capacity > sink->capacity ? realloc(sink->buffer, capacity) : NULL;
    if (!grown) ERREXIT1(cinfo, JERR_OUT_OF_MEMORY, 99);
    sink->buffer = grown;
    sink->capacity = capacity;
    sink->pub.next_output_byte = grown + used;
    sink->pub.free_in_buffer = capacity - used;
    return TRUE;
}

static void cio_jpeg_sink_term(j_compress_ptr cinfo) { (void)cinfo; }

cio_status cio_encode_jpeg(const uint8_t *samples, uint32_t width, uint32_t height, uint32_t channels, int quality,
                           uint8_t **out_bytes, size_t *out_count, char *message) {
    *out_bytes = NULL;
    *out_count = 0;
    message[0] = 0;
    if ((channels != 1 && channels != 3 && channels != 4) || width == 0 || height == 0 || width > JPEG_MAX_DIMENSION ||
        height > JPEG_MAX_DIMENSION) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "JPEG cannot hold %u×%u pixels of %u channels (at most %d per side; 1, 3 or 4 channels)",
                 (unsigned)width, (unsigned)height, (unsigned)channels, (int)JPEG_MAX_DIMENSION);
        return CIO_UNSUPPORTED;
    }
    if (quality < 1 || quality > 100) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "JPEG quality %d is not in 1…100", quality);
        return CIO_UNSUPPORTED;
    }
    struct jpeg_compress_struct cinfo;
    struct cio_jpeg_write_error err;
    /* On the heap, so the buffer pointer libjpeg's callbacks change is not an automatic variable that a longjmp
     * would leave indeterminate; `sink` itself never changes after setjmp. */
    struct cio_jpeg_sink *sink = calloc(1, sizeof *sink);
    /* A first guess that most files fit: a quarter of the raw samples, at least 64 KiB. */
    size_t raw = (size_t)width * height * channels;
    if (sink) sink->capacity = raw / 4 > 65536 ? raw / 4 : 65536;
    if (sink) sink->buffer = malloc(sink->capacity);
    if (!sink || !sink->buffer) {
        free(sink);
        snprintf(message, CIO_MESSAGE_CAPACITY, "out of memory");
        return CIO_NO_MEMORY;
    }
    cinfo.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = cio_jpeg_write_error_exit;
    err.pub.emit_message = cio_jpeg_write_emit_message;
    err.message = message;
    if (setjmp(err.escape)) {
        jpeg_destroy_compress(&cinfo);
        free(sink->buffer);
        free(sink);
        return CIO_CORRUPT;
    }
    jpeg_create_compress(&cinfo);
    sink->pub.init_destination = cio_jpeg_sink_init;
    sink->pub.empty_output_buffer = cio_jpeg_sink_grow;
    sink->pub.term_destination = cio_jpeg_sink_term;
    cinfo.dest = &sink->pub;
    cinfo.image_width = width;
    cinfo.image_height = height;
    cinfo.input_components = (int)channels;
    cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : channels == 3 ? JCS_RGB : JCS_EXT_RGBX; /* RGBX: alpha ignored */
    jpeg_set_defaults(&cinfo); /* gray → one component; RGB → YCbCr 4:2:0; islow DCT; standard Huffman tables */
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    size_t stride = (size_t)width * channels;
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW rows[16];
        JDIMENSION n = 0;
        while (n < 16 && cinfo.next_scanline + n < cinfo.image_height) {
            rows[n] = (JSAMPROW)(samples + (size_t)(cinfo.next_scanline + n) * stride);
            n++;
        }
        jpeg_write_scanlines(&cinfo, rows, n);
    }
    jpeg_finish_compress(&cinfo);
    size_t count = sink->capacity - sink->pub.free_in_buffer;
    jpeg_destroy_compress(&cinfo);
    *out_bytes = sink->buffer;
    *out_count = count;
    free(sink);
    return CIO_OK;
}
