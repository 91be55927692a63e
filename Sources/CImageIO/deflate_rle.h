/* Internal to CImageIO: the run-length zlib encoder (deflate_rle.c) behind PNG level 1. */
#ifndef CIO_DEFLATE_RLE_H
#define CIO_DEFLATE_RLE_H
#include <stddef.h>
#include <stdint.h>

/* The most bytes cio_zlib_rle can write for `count` input bytes. */
size_t cio_zlib_rle_bound(size_t count);

/* A zlib stream (RFC 1950) of `in`: deflate blocks of literals and runs only (matches at distance 1), each block
 * with its own Huffman codes. Returns its length, or 0 when `capacity` is too small. */
size_t cio_zlib_rle(const uint8_t *in, size_t count, uint8_t *out, size_t capacity);

#endif
