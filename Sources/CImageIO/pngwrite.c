/* PNG encoding: libpng-style adaptive row filtering and a libdeflate zlib stream for IDAT. See CImageIO.h.
 *
 * The file is a standard PNG (signature, IHDR, one or more IDAT, IEND, each chunk with its CRC-32), read back
 * identically by libpng, Pillow and pngcheck. Each row gets the filter (None, Sub, Up, Average, Paeth) whose
 * output has the smallest sum of absolute values taken as signed bytes: libpng's own heuristic.
 * The pieces the streaming writer (pngstream.c) shares are defined here and declared in pngshared.h. */
#include "CImageIO.h"
#include "deflate_rle.h"
#include "pngshared.h"
#include <libdeflate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const uint8_t cio_png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

uint32_t cio_png_crc(const uint8_t *type_and_data, size_t count) { return libdeflate_crc32(0, type_and_data, count); }

size_t cio_png_put_chunk(uint8_t *out, const char type[4], const uint8_t *data, size_t length) {
    cio_put32(out, (uint32_t)length);
    memcpy(out + 4, type, 4);
    if (length && data != out + 8) memcpy(out + 8, data, length);
    cio_put32(out + 8 + length, cio_png_crc(out + 4, length + 4));
    return length + 12;
}

void cio_png_ihdr(uint8_t ihdr[13], uint32_t width, uint32_t height, uint32_t channels, uint32_t bit_depth) {
    static const uint8_t color_types[5] = {0, 0, 4, 2, 6};
    cio_put32(ihdr, width);
    cio_put32(ihdr + 4, height);
    ihdr[8] = (uint8_t)bit_depth;
    ihdr[9] = color_types[channels];
    ihdr[10] = 0; /* deflate */
    ihdr[11] = 0; /* adaptive filtering */
    ihdr[12] = 0; /* not interlaced */
}

void cio_png_pack_row(const void *samples, size_t count, uint32_t bit_depth, uint8_t *out) {
    if (bit_depth == 16) {
        const uint16_t *src = (const uint16_t *)samples;
        for (size_t i = 0; i < count; i++) {
            out[2 * i] = (uint8_t)(src[i] >> 8);
            out[2 * i + 1] = (uint8_t)src[i];
        }
    } else {
        memcpy(out, samples, count);
    }
}

static inline __attribute__((always_inline)) uint32_t cost(const uint8_t *row, size_t n) {
    uint32_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        int8_t v = (int8_t)row[i];
        sum += (uint32_t)(v < 0 ? -v : v);
    }
    return sum;
}

static inline __attribute__((always_inline)) uint8_t paeth(uint8_t a, uint8_t b, uint8_t c) {
    int p = (int)a + (int)b - (int)c;
    int pa = abs(p - (int)a), pb = abs(p - (int)b), pc = abs(p - (int)c);
    return (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c);
}

CIO_VECTOR_CLONES
void cio_png_filter_row(const uint8_t *cur, const uint8_t *prev, size_t n, size_t bpp, uint8_t *dst, uint8_t *scratch) {
    uint8_t *cand[5] = {scratch, scratch + n, scratch + 2 * n, scratch + 3 * n, scratch + 4 * n};
    for (size_t i = 0; i < n; i++) {
        uint8_t a = i >= bpp ? cur[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
        cand[0][i] = cur[i];
        cand[1][i] = (uint8_t)(cur[i] - a);
        cand[2][i] = (uint8_t)(cur[i] - b);
        cand[3][i] = (uint8_t)(cur[i] - (uint8_t)(((unsigned)a + (unsigned)b) >> 1));
        cand[4][i] = (uint8_t)(cur[i] - paeth(a, b, c));
    }
    int best = 0;
    uint32_t best_cost = cost(cand[0], n);
    for (int f = 1; f < 5; f++) {
        uint32_t c = cost(cand[f], n);
        if (c < best_cost) {
            best_cost = c;
            best = f;
        }
    }
    dst[0] = (uint8_t)best;
    memcpy(dst + 1, cand[best], n);
}

cio_status cio_encode_png(const void *samples, uint32_t width, uint32_t height, uint32_t channels, uint32_t bit_depth,
                          int level, uint8_t **out_bytes, size_t *out_count, char *message) {
    *out_bytes = NULL;
    *out_count = 0;
    message[0] = 0;
    if ((bit_depth != 8 && bit_depth != 16) || channels < 1 || channels > 4 || width == 0 || height == 0 ||
        width > 0x7FFFFFFF || height > 0x7FFFFFFF) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "cannot encode %u×%u, %u channels at %u bits", (unsigned)width,
                 (unsigned)height, (unsigned)channels, (unsigned)bit_depth);
        return CIO_UNSUPPORTED;
    }
    if (level < 0) level = 0;
    if (level > 12) level = 12;
    size_t bpp = (size_t)channels * (bit_depth / 8);
    size_t n = (size_t)width * bpp;
    size_t filtered_size = (size_t)height * (n + 1);
    uint8_t *filtered = malloc(filtered_size);
    uint8_t *rows = malloc(2 * n);        /* current and previous raw (big-endian) rows */
    uint8_t *scratch = malloc(5 * n);
    struct libdeflate_compressor *compressor = libdeflate_alloc_compressor(level);
    uint8_t *png = NULL;
    cio_status status = CIO_NO_MEMORY;
    if (!filtered || !rows || !scratch || !compressor) goto done;

    memset(rows + n, 0, n); /* the row above the first is zeros */
    uint8_t *cur = rows, *prev = rows + n;
    for (uint32_t y = 0; y < height; y++) {
        cio_png_pack_row((const uint8_t *)samples + (size_t)y * n, (size_t)width * channels, bit_depth, cur);
        cio_png_filter_row(cur, prev, n, bpp, filtered + (size_t)y * (n + 1), scratch);
        uint8_t *t = prev;
        prev = cur;
        cur = t;
    }

    /* Level 1: literals and runs only (deflate_rle.c), much faster on feature maps and about as small. */
    const int runs_only = level == 1;
    size_t bound = runs_only ? cio_zlib_rle_bound(filtered_size) : libdeflate_zlib_compress_bound(compressor, filtered_size);
    size_t chunks = bound / 0x40000000 + 1; /* IDAT chunks of at most 1 GiB */
    png = malloc(8 + 25 + bound + 12 * chunks + 12);
    if (!png) goto done;
    /* The compressed stream goes where the IDAT data will be, then chunk headers are laid around it. */
    uint8_t *stream = malloc(bound);
    if (!stream) goto done;
    size_t compressed = runs_only ? cio_zlib_rle(filtered, filtered_size, stream, bound)
                                  : libdeflate_zlib_compress(compressor, filtered, filtered_size, stream, bound);
    if (compressed == 0) {
        free(stream);
        snprintf(message, CIO_MESSAGE_CAPACITY, "compression failed");
        status = CIO_CORRUPT;
        goto done;
    }
    size_t at = 0;
    memcpy(png, cio_png_signature, 8);
    at += 8;
    uint8_t ihdr[13];
    cio_png_ihdr(ihdr, width, height, channels, bit_depth);
    at += cio_png_put_chunk(png + at, "IHDR", ihdr, 13);
    for (size_t offset = 0; offset < compressed; offset += 0x40000000) {
        size_t length = compressed - offset < 0x40000000 ? compressed - offset : 0x40000000;
        at += cio_png_put_chunk(png + at, "IDAT", stream + offset, length);
    }
    at += cio_png_put_chunk(png + at, "IEND", NULL, 0);
    free(stream);
    *out_bytes = png;
    *out_count = at;
    png = NULL;
    status = CIO_OK;
done:
    if (status == CIO_NO_MEMORY) snprintf(message, CIO_MESSAGE_CAPACITY, "out of memory");
    if (compressor) libdeflate_free_compressor(compressor);
    free(filtered);
    free(rows);
    free(scratch);
    free(png);
    return status;
}

/* 8-bit levels of a feature map under `clamp` (absolute = 0) or `abs` (absolute = 1): round half away from
 * zero, clip to 0…255 (NaN → 0). floor(v + 0.5) is exact here except for v in [0.25, 0.5), where the sum can
 * round up to 1: those are sent to 0 explicitly. Returns how many values lie outside [-0.5, 255.5). */
CIO_VECTOR_CLONES
size_t cio_levels8(const float *values, uint8_t *out, size_t count, int absolute) {
    size_t clipped = 0;
    for (size_t k = 0; k < count; k++) {
        float v = values[k];
        clipped += (v < -0.5f) | (v >= 255.5f);
        if (absolute) v = v < 0 ? -v : v;
        v = v > 0 ? v : 0;
        v = v < 255 ? v : 255;
        int r = (int)(v + 0.5f);
        out[k] = (uint8_t)(v < 0.5f ? 0 : r);
    }
    return clipped;
}
