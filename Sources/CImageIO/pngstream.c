/* Streaming PNG encoding for gray 8- and 16-bit images: rows in, file bytes out through a callback. See CImageIO.h.
 *
 * The same file as pngwrite.c's (signature, IHDR, IDAT, IEND, libpng's adaptive row filter, shared through
 * pngshared.h) except the zlib stream: libdeflate compresses only whole buffers, so this one is zlib's `deflate`,
 * fed a few filtered rows at a time and drained into IDAT chunks of CIO_PNG_STREAM_IDAT bytes as they fill.
 * Memory: two raw rows, five candidate rows, ≥ 64 KiB of filtered rows, one IDAT chunk, and zlib's state
 * (windowBits 15, memLevel 8: 256 KiB + a few KiB), allocated at open; nothing grows with the height. */
#include "CImageIO.h"
#include "pngshared.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Filtered rows are handed to deflate in batches of about this many bytes (at least one row). */
#define CIO_PNG_STREAM_BATCH 65536

struct cio_png_stream {
    cio_png_write_fn write;
    void *context;
    uint32_t width, height, bit_depth;
    uint32_t rows_given;
    size_t n;                  /* bytes per raw row */
    size_t batch_rows;         /* filtered rows per deflate call */
    uint8_t *cur, *prev;       /* raw rows (big-endian samples), prev starts as zeros */
    uint8_t *scratch;          /* 5·n bytes for the filter candidates */
    uint8_t *filtered;         /* batch_rows · (n + 1) bytes */
    size_t filtered_rows;      /* rows waiting in `filtered` */
    uint8_t *chunk;            /* IDAT being filled: 8-byte header, CIO_PNG_STREAM_IDAT data bytes, 4-byte CRC */
    z_stream z;
    int z_ready;
    cio_status status;         /* the first failure, sticky */
    char failure[CIO_MESSAGE_CAPACITY];
};

/* Our 0…12 (libdeflate's scale, as cio_encode_png) → zlib's level and strategy, matched by speed. Measured with
 * 64-row bands on the edges bank over the sample photos (80 maps, 148 MP, adaptive filters; sizes relative to
 * libdeflate 1, the default):
 *
 *   8-bit clamp   libdeflate 1 187 MB/s 1.000 | zlib Z_RLE 147 MB/s 0.936 | zlib 1 105 MB/s 1.083 | zlib 3 68 MB/s 1.039
 *   16-bit clamp  libdeflate 1 254 MB/s 1.000 | zlib Z_RLE 175 MB/s 0.953 | zlib 1 138 MB/s 1.069
 *   8-bit abs     libdeflate 1 108 MB/s 1.000 | zlib Z_RLE 100 MB/s 0.968 | zlib 1  60 MB/s 1.057
 *   blur bank     libdeflate 1 204 MB/s 1.000 | zlib Z_RLE 137 MB/s 0.971 | zlib 1 118 MB/s 1.194
 *
 * Filtered feature maps are mostly runs of one byte, so Z_RLE (matches at distance 1 only, no hash chains) is
 * both the fastest zlib setting and smaller than libdeflate 1; it takes level 1. The slower levels follow speed:
 * libdeflate 2…4 (75–90 MB/s) → zlib 4 (70), 5…6 (≈ 50) → zlib 5 (47), 7 → 6, 8 → 7, 9 (≈ 10) → 8, 10…12 → 9. */
static void zlib_settings(int level, int *zlib_level, int *strategy) {
    static const int zlib_levels[13] = {0, 1, 4, 4, 4, 5, 5, 6, 7, 8, 9, 9, 9};
    if (level < 0) level = 0;
    if (level > 12) level = 12;
    *zlib_level = zlib_levels[level];
    *strategy = level == 1 ? Z_RLE : Z_DEFAULT_STRATEGY;
}

static cio_status fail(cio_png_stream *s, cio_status status, char *message, const char *text) {
    if (s->status == CIO_OK) {
        s->status = status;
        snprintf(s->failure, sizeof s->failure, "%s", text);
    }
    snprintf(message, CIO_MESSAGE_CAPACITY, "%s", s->failure);
    return s->status;
}

static int emit(cio_png_stream *s, const uint8_t *bytes, size_t count) {
    return s->write(s->context, bytes, count) == 0;
}

/* Frames the `length` bytes deflate left at chunk + 8 as an IDAT and writes it; resets the output window. */
static int emit_idat(cio_png_stream *s, size_t length) {
    size_t total = cio_png_put_chunk(s->chunk, "IDAT", s->chunk + 8, length);
    s->z.next_out = s->chunk + 8;
    s->z.avail_out = CIO_PNG_STREAM_IDAT;
    return emit(s, s->chunk, total);
}

/* Runs deflate over the waiting filtered rows (flush = Z_NO_FLUSH), or to the end of the stream (Z_FINISH),
 * writing every IDAT chunk that fills. */
static cio_status pump(cio_png_stream *s, int flush, char *message) {
    s->z.next_in = s->filtered;
    s->z.avail_in = (uInt)(s->filtered_rows * (s->n + 1));
    s->filtered_rows = 0;
    for (;;) {
        int r = deflate(&s->z, flush);
        if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR) {
            char text[CIO_MESSAGE_CAPACITY];
            snprintf(text, sizeof text, "zlib deflate failed (%d%s%s)", r, s->z.msg ? ": " : "", s->z.msg ? s->z.msg : "");
            return fail(s, CIO_CORRUPT, message, text);
        }
        if (s->z.avail_out == 0) {
            if (!emit_idat(s, CIO_PNG_STREAM_IDAT)) return fail(s, CIO_WRITE_FAILED, message, "write failed");
            continue;
        }
        if (flush == Z_FINISH ? r == Z_STREAM_END : s->z.avail_in == 0) break;
    }
    return CIO_OK;
}

/* Opens a stream with an explicit zlib level and strategy (cio_png_stream_open picks them). */
static cio_status open_stream(uint32_t width, uint32_t height, uint32_t bit_depth, int zlib_level, int strategy,
                              cio_png_write_fn write, void *context, cio_png_stream **out, char *message) {
    *out = NULL;
    message[0] = 0;
    if ((bit_depth != 8 && bit_depth != 16) || width == 0 || height == 0 || width > 0x7FFFFFFF ||
        height > 0x7FFFFFFF || !write) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "cannot encode %u×%u gray at %u bits", (unsigned)width,
                 (unsigned)height, (unsigned)bit_depth);
        return CIO_UNSUPPORTED;
    }
    cio_png_stream *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "out of memory");
        return CIO_NO_MEMORY;
    }
    s->write = write;
    s->context = context;
    s->width = width;
    s->height = height;
    s->bit_depth = bit_depth;
    s->n = (size_t)width * (bit_depth / 8);
    s->batch_rows = CIO_PNG_STREAM_BATCH / (s->n + 1);
    if (s->batch_rows == 0) s->batch_rows = 1;
    s->cur = malloc(s->n);
    s->prev = calloc(1, s->n); /* the row above the first is zeros */
    s->scratch = malloc(5 * s->n);
    s->filtered = malloc(s->batch_rows * (s->n + 1));
    s->chunk = malloc(8 + CIO_PNG_STREAM_IDAT + 4);
    if (!s->cur || !s->prev || !s->scratch || !s->filtered || !s->chunk) {
        cio_png_stream_close(s);
        snprintf(message, CIO_MESSAGE_CAPACITY, "out of memory");
        return CIO_NO_MEMORY;
    }
    int r = deflateInit2(&s->z, zlib_level, Z_DEFLATED, 15, 8, strategy);
    if (r != Z_OK) {
        cio_png_stream_close(s);
        snprintf(message, CIO_MESSAGE_CAPACITY, r == Z_MEM_ERROR ? "out of memory" : "zlib deflateInit2 failed (%d)", r);
        return r == Z_MEM_ERROR ? CIO_NO_MEMORY : CIO_CORRUPT;
    }
    s->z_ready = 1;
    s->z.next_out = s->chunk + 8;
    s->z.avail_out = CIO_PNG_STREAM_IDAT;

    uint8_t head[8 + 25];
    memcpy(head, cio_png_signature, 8);
    uint8_t ihdr[13];
    cio_png_ihdr(ihdr, width, height, 1, bit_depth);
    cio_png_put_chunk(head + 8, "IHDR", ihdr, 13);
    if (!emit(s, head, sizeof head)) {
        cio_png_stream_close(s);
        snprintf(message, CIO_MESSAGE_CAPACITY, "write failed");
        return CIO_WRITE_FAILED;
    }
    *out = s;
    return CIO_OK;
}

cio_status cio_png_stream_open(uint32_t width, uint32_t height, uint32_t bit_depth, int level, cio_png_write_fn write,
                               void *context, cio_png_stream **out, char *message) {
    int zlib_level, strategy;
    zlib_settings(level, &zlib_level, &strategy);
    return open_stream(width, height, bit_depth, zlib_level, strategy, write, context, out, message);
}

cio_status cio_png_stream_write_rows(cio_png_stream *s, const void *samples, uint32_t rows, char *message) {
    message[0] = 0;
    if (s->status != CIO_OK) return fail(s, s->status, message, "");
    if (rows > s->height - s->rows_given) {
        char text[CIO_MESSAGE_CAPACITY];
        snprintf(text, sizeof text, "%u rows given after %u of %u", (unsigned)rows, (unsigned)s->rows_given,
                 (unsigned)s->height);
        return fail(s, CIO_MISUSE, message, text);
    }
    const uint8_t *src = (const uint8_t *)samples;
    for (uint32_t y = 0; y < rows; y++) {
        cio_png_pack_row(src + (size_t)y * s->n, s->width, s->bit_depth, s->cur);
        cio_png_filter_row(s->cur, s->prev, s->n, s->bit_depth / 8, s->filtered + s->filtered_rows * (s->n + 1),
                           s->scratch);
        uint8_t *t = s->prev;
        s->prev = s->cur;
        s->cur = t;
        s->rows_given++;
        if (++s->filtered_rows == s->batch_rows) {
            cio_status status = pump(s, Z_NO_FLUSH, message);
            if (status != CIO_OK) return status;
        }
    }
    return CIO_OK;
}

cio_status cio_png_stream_finish(cio_png_stream *s, char *message) {
    message[0] = 0;
    if (s->status != CIO_OK) return fail(s, s->status, message, "");
    if (s->rows_given != s->height) {
        char text[CIO_MESSAGE_CAPACITY];
        snprintf(text, sizeof text, "finished after %u of %u rows", (unsigned)s->rows_given, (unsigned)s->height);
        return fail(s, CIO_MISUSE, message, text);
    }
    cio_status status = pump(s, Z_FINISH, message);
    if (status != CIO_OK) return status;
    size_t left = CIO_PNG_STREAM_IDAT - s->z.avail_out;
    if (left && !emit_idat(s, left)) return fail(s, CIO_WRITE_FAILED, message, "write failed");
    uint8_t iend[12];
    cio_png_put_chunk(iend, "IEND", NULL, 0);
    if (!emit(s, iend, sizeof iend)) return fail(s, CIO_WRITE_FAILED, message, "write failed");
    /* The file is complete: any later call is misuse. */
    s->status = CIO_MISUSE;
    snprintf(s->failure, sizeof s->failure, "already finished");
    return CIO_OK;
}

void cio_png_stream_close(cio_png_stream *s) {
    if (!s) return;
    if (s->z_ready) deflateEnd(&s->z);
    free(s->cur);
    free(s->prev);
    free(s->scratch);
    free(s->filtered);
    free(s->chunk);
    free(s);
}
