/* Raw deflate (zip members, method 8) into a buffer of the size the archive declares, with libdeflate. */
#include "CImageIO.h"

#include <libdeflate.h>

uint32_t cio_crc32(const uint8_t *bytes, size_t count) { return libdeflate_crc32(0, bytes, count); }

cio_inflate_status cio_inflate_raw(const uint8_t *in, size_t in_count, uint8_t *out, size_t out_count, size_t *produced) {
    *produced = 0;
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    if (!d) return CIO_INFLATE_NO_MEMORY;
    size_t used = 0, made = 0;
    enum libdeflate_result r = libdeflate_deflate_decompress_ex(d, in, in_count, out, out_count, &used, &made);
    libdeflate_free_decompressor(d);
    *produced = made;
    switch (r) {
    case LIBDEFLATE_SUCCESS: return made == out_count ? CIO_INFLATE_OK : CIO_INFLATE_SHORT;
    case LIBDEFLATE_INSUFFICIENT_SPACE: return CIO_INFLATE_LONG;
    default: return CIO_INFLATE_BAD_DATA;
    }
}
