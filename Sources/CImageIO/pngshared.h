/* What the two PNG writers share (pngwrite.c: a whole image into memory; pngstream.c: rows as they come):
 * the signature, big-endian integers, chunk framing, the IHDR of a gray or colour image, the 16-bit row
 * packing and the adaptive row filter. Internal to CImageIO; the definitions are in pngwrite.c. */
#ifndef CIMAGEIO_PNGSHARED_H
#define CIMAGEIO_PNGSHARED_H

#include <stddef.h>
#include <stdint.h>

#define CIO_HIDDEN __attribute__((visibility("hidden")))

/* Hot loops get AVX-512 and AVX2 copies beside the portable one; the loader picks one per CPU. */
#if defined(__x86_64__) && defined(__clang__) && defined(__linux__)
#define CIO_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CIO_VECTOR_CLONES
#endif

extern const uint8_t cio_png_signature[8] CIO_HIDDEN;

static inline void cio_put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* The 13 data bytes of IHDR: width, height, depth, colour type of `channels` (1 gray, 2 gray+alpha, 3 RGB,
 * 4 RGBA), deflate, adaptive filtering, not interlaced. */
CIO_HIDDEN void cio_png_ihdr(uint8_t ihdr[13], uint32_t width, uint32_t height, uint32_t channels, uint32_t bit_depth);

/* Writes a chunk (length, type, data, CRC-32 over type and data) at out; returns the bytes written
 * (length + 12). `data` may already be at out + 8. */
CIO_HIDDEN size_t cio_png_put_chunk(uint8_t *out, const char type[4], const uint8_t *data, size_t length);

/* CRC-32 of a chunk's type and data, laid out as at out + 4 by cio_png_put_chunk. */
CIO_HIDDEN uint32_t cio_png_crc(const uint8_t *type_and_data, size_t count);

/* One row of `count` samples as PNG stores it: 8-bit copied, 16-bit host order → big-endian. */
CIO_HIDDEN void cio_png_pack_row(const void *samples, size_t count, uint32_t bit_depth, uint8_t *out);

/* Filters one row (`cur`, with `prev` the previous raw row or zeros; n bytes, bpp bytes per pixel) into
 * dst[0] = filter type, dst[1…n], choosing among None, Sub, Up, Average and Paeth the output with the smallest
 * sum of absolute values taken as signed bytes (libpng's heuristic). `scratch` holds 5·n bytes. */
CIO_HIDDEN void cio_png_filter_row(const uint8_t *cur, const uint8_t *prev, size_t n, size_t bpp, uint8_t *dst,
                                   uint8_t *scratch);

#endif
