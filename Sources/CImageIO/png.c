/* PNG decoding through libpng's classic API, setjmp-protected. See include/CImageIO.h. */
#include "CImageIO.h"
#include <libdeflate.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef PNG_USER_TRANSFORM_INFO_SUPPORTED
#error "libpng without png_get_current_row_number / png_get_current_pass_number"
#endif

/* Limits on what is not pixels (README.md, "Decoder bombs"). Every ancillary chunk is skipped unread, so the
 * two libpng limits are a backstop: they bound what a chunk could cost if one were ever kept again, and make
 * the behaviour the same whatever defaults this libpng was built with. */
#define CIO_PNG_CHUNK_MALLOC_MAX ((png_alloc_size_t)8 << 20) /* libpng's own build default is 8,000,000 */
#define CIO_PNG_CHUNK_CACHE_MAX 32                           /* kept text/sPLT/unknown chunks: at most ~30 */
/* Bytes libpng may read after the last row is complete, to reach the end of the zlib stream and of its IDAT
 * chunk: a real file needs a handful (end code, Adler-32, CRC, perhaps one more IDAT header). With the 8 KiB libpng
 * may already hold, at most 16 KiB of deflate data is inflated past the image: ≤ 17 MB of output (deflate's ratio
 * is at most 1032:1), tens of ms. Unbounded, a 16×16 PNG whose stream went on for 8 GiB took 17 s. */
#define CIO_PNG_TRAILING_MAX ((size_t)8 << 10)

/* Per-call state reached from libpng's callbacks through png_get_error_ptr / png_get_io_ptr. */
struct cio_png_state {
    char *message;           /* caller's buffer, CIO_MESSAGE_CAPACITY bytes */
    const uint8_t *bytes;    /* decode: the input */
    size_t count;
    volatile size_t offset;  /* read after a longjmp */
    int in_image;            /* png_read_image is running */
    png_uint_32 height;      /* rows of the image (of each pass when interlaced) */
    int interlaced;
    size_t trailing;         /* bytes read by png_read_image after the last row */
    volatile int stopped;    /* cio_png_read stopped libpng in the data after the last row */
};

static void cio_png_error(png_structp png, png_const_charp text) {
    struct cio_png_state *state = (struct cio_png_state *)png_get_error_ptr(png);
    snprintf(state->message, CIO_MESSAGE_CAPACITY, "%s", text);
    png_longjmp(png, 1); /* back into the cio_* function's own frame, no Swift in between */
}

static void cio_png_warning(png_structp png, png_const_charp text) {
    (void)png;
    (void)text; /* libpng warns only about ancillary data (bad CRC in a text chunk, …): the pixels are intact */
}

/* Whether libpng has finished the last row: png_read_finish_row has then moved past it (row = height, or
 * pass 7 when interlaced) and is in png_read_finish_IDAT, which inflates whatever is left of the zlib stream. */
static int cio_png_rows_done(png_structp png, const struct cio_png_state *state) {
    return state->interlaced ? png_get_current_pass_number(png) >= 7 : png_get_current_row_number(png) >= state->height;
}

static void cio_png_read(png_structp png, png_bytep data, size_t length) {
    struct cio_png_state *state = (struct cio_png_state *)png_get_io_ptr(png);
    if (length > state->count - state->offset) png_error(png, "file ends early (truncated)");
    if (state->in_image && cio_png_rows_done(png, state)) {
        state->trailing += length;
        if (state->trailing > CIO_PNG_TRAILING_MAX) {
            state->stopped = 1; /* every row is in the caller's buffer; cio_decode_png checks the rest */
            png_longjmp(png, 1);
        }
    }
    memcpy(data, state->bytes + state->offset, length);
    state->offset += length;
}

/* The bounded stand-in for png_read_end when cio_png_read stopped libpng inside trailing IDAT data: follows the
 * chunk lengths from the signature to a whole IEND, and checks the CRC of every critical chunk libpng had not read
 * to its end (those end after `read_to`), as libpng would have. O(file size), nothing inflated. Returns CIO_OK, or
 * CIO_CORRUPT with the message written. */
static cio_status cio_png_check_rest(const uint8_t *bytes, size_t count, size_t read_to, char *message) {
    size_t at = 8;
    while (count - at >= 12) {
        const uint8_t *c = bytes + at;
        uint32_t length = (uint32_t)c[0] << 24 | (uint32_t)c[1] << 16 | (uint32_t)c[2] << 8 | c[3];
        if (length > 0x7fffffffu || length > count - at - 12) break;
        const uint8_t *stored = c + 8 + length;
        uint32_t crc = (uint32_t)stored[0] << 24 | (uint32_t)stored[1] << 16 | (uint32_t)stored[2] << 8 | stored[3];
        int critical = c[4] >= 'A' && c[4] <= 'Z';
        if (critical && at + 12 + length > read_to && libdeflate_crc32(0, c + 4, (size_t)length + 4) != crc) {
            snprintf(message, CIO_MESSAGE_CAPACITY, "%.4s: CRC error", (const char *)(c + 4));
            return CIO_CORRUPT;
        }
        if (memcmp(c + 4, "IEND", 4) == 0) return CIO_OK;
        at += 12 + (size_t)length;
    }
    snprintf(message, CIO_MESSAGE_CAPACITY, "file ends early (truncated)");
    return CIO_CORRUPT;
}

static int cio_png_is_chunk_name(const uint8_t *name) {
    for (int i = 0; i < 4; i++) {
        if (!((name[i] >= 'A' && name[i] <= 'Z') || (name[i] >= 'a' && name[i] <= 'z'))) return 0;
    }
    return 1;
}

static void cio_png_release(png_structp *png, png_infop *info, void *samples, void *indices, void *rows) {
    png_destroy_read_struct(png, info, NULL);
    free(samples);
    free(indices);
    free(rows);
}

static int cio_host_is_little_endian(void) {
    const uint16_t probe = 1;
    return *(const uint8_t *)&probe == 1;
}

cio_status cio_decode_png(const uint8_t *bytes, size_t count, uint64_t max_pixels, cio_raster *out, char *message) {
    memset(out, 0, sizeof *out);
    message[0] = 0;
    if (count < 8 || png_sig_cmp((png_const_bytep)bytes, 0, 8) != 0) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "not a PNG file (bad signature)");
        return CIO_NOT_IMAGE;
    }
    /* IHDR comes first: libpng's handlers of ancillary chunks checked that, skipping them unread does not (an
     * ancillary chunk's name starts with a lower-case letter; libpng itself refuses anything else before IHDR). */
    if (count >= 16 && bytes[12] >= 'a' && bytes[12] <= 'z' && cio_png_is_chunk_name(bytes + 12)) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "%.4s: missing IHDR", (const char *)(bytes + 12));
        return CIO_CORRUPT;
    }
    struct cio_png_state state = {.message = message, .bytes = bytes, .count = count, .offset = 0};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &state, cio_png_error, cio_png_warning);
    if (!png) return CIO_NO_MEMORY;
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return CIO_NO_MEMORY;
    }
    /* Set after setjmp and read after a longjmp: volatile. */
    uint8_t *volatile samples = NULL;
    uint8_t *volatile indices = NULL;
    png_bytep *volatile rows = NULL;
    volatile cio_status failure = CIO_CORRUPT;
    volatile png_uint_32 width = 0, height = 0;
    volatile uint32_t channels = 0, model = 0, out_depth = 8;
    volatile int palette = 0;
    if (setjmp(png_jmpbuf(png)) == 0) {
        png_set_read_fn(png, &state, cio_png_read);
        /* libpng refuses sides over 1,000,000 by default; the caller's pixel limit is what bounds memory. */
        png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
        png_set_chunk_malloc_max(png, CIO_PNG_CHUNK_MALLOC_MAX);
        png_set_chunk_cache_max(png, CIO_PNG_CHUNK_CACHE_MAX);
        /* Only IHDR, PLTE, IDAT and IEND are used: every other chunk, known (text, iCCP, sPLT, eXIf, gAMA, …) or
         * not, is skipped unread — nothing inflated, allocated or kept. tRNS too (ignored, see CImageIO.h). An
         * unknown critical chunk is still an error. */
        png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, -1);
        png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, (png_const_bytep) "tRNS", 1);
        png_read_info(png, info);

        png_uint_32 w = 0, h = 0;
        int depth = 0, color_type = 0, interlace = 0;
        png_get_IHDR(png, info, &w, &h, &depth, &color_type, &interlace, NULL, NULL);
        width = w;
        height = h;
        if ((uint64_t)w * (uint64_t)h > max_pixels) {
            snprintf(message, CIO_MESSAGE_CAPACITY, "%u×%u pixels is above the limit of %llu pixels", (unsigned)w,
                     (unsigned)h, (unsigned long long)max_pixels);
            failure = CIO_TOO_LARGE;
            png_longjmp(png, 1);
        }
        out_depth = depth == 16 ? 16 : 8;
        palette = color_type == PNG_COLOR_TYPE_PALETTE;
        switch (color_type) {
        case PNG_COLOR_TYPE_GRAY: channels = 1; model = CIO_MODEL_GRAY; break;
        case PNG_COLOR_TYPE_GRAY_ALPHA: channels = 2; model = CIO_MODEL_GRAY_ALPHA; break;
        case PNG_COLOR_TYPE_RGB: channels = 3; model = CIO_MODEL_RGB; break;
        case PNG_COLOR_TYPE_RGB_ALPHA: channels = 4; model = CIO_MODEL_RGBA; break;
        case PNG_COLOR_TYPE_PALETTE: channels = 3; model = CIO_MODEL_RGB; break;
        default:
            snprintf(message, CIO_MESSAGE_CAPACITY, "unknown PNG colour type %d", color_type);
            png_longjmp(png, 1);
        }
        /* Raw samples only: no png_set_expand (it would turn tRNS into alpha), no gamma, no shift. */
        if (palette) {
            png_set_packing(png); /* 1/2/4-bit indices → one byte each; mapped through PLTE below */
        } else if (depth < 8) {
            png_set_expand_gray_1_2_4_to_8(png);
        }
        if (depth == 16 && cio_host_is_little_endian()) png_set_swap(png);
        png_set_interlace_handling(png);
        png_read_update_info(png, info);

        size_t row_bytes = png_get_rowbytes(png, info);
        size_t expected_row = (size_t)w * (palette ? 1 : channels) * (out_depth / 8);
        if (row_bytes != expected_row) {
            snprintf(message, CIO_MESSAGE_CAPACITY, "unexpected row size %zu (expected %zu)", row_bytes, expected_row);
            failure = CIO_UNSUPPORTED;
            png_longjmp(png, 1);
        }
        size_t total = row_bytes * (size_t)h;
        uint8_t *target = (uint8_t *)malloc(total ? total : 1);
        rows = (png_bytep *)malloc(sizeof(png_bytep) * (h ? h : 1));
        if (!target || !rows) {
            free(target);
            snprintf(message, CIO_MESSAGE_CAPACITY, "out of memory for %u×%u pixels", (unsigned)w, (unsigned)h);
            failure = CIO_NO_MEMORY;
            png_longjmp(png, 1);
        }
        if (palette) indices = target; else samples = target;
        for (png_uint_32 y = 0; y < h; y++) rows[y] = target + (size_t)y * row_bytes;
        state.height = h;
        state.interlaced = interlace != PNG_INTERLACE_NONE;
        state.in_image = 1;
        png_read_image(png, rows);
        state.in_image = 0;
        /* A file cut after the image data is truncated too. Nothing is inflated here: the zlib stream has ended
         * and every chunk after it is skipped. */
        png_read_end(png, NULL);
    } else if (!state.stopped) {
        cio_png_release(&png, &info, samples, indices, rows);
        return failure;
    } else {
        /* Stopped past the last row (cio_png_read): the pixels are complete and what is left of the zlib stream is
         * ignored, as libpng's "Too much image data" is only a warning; the file must still be whole. */
        message[0] = 0;
        cio_status rest = cio_png_check_rest(bytes, count, state.offset, message);
        if (rest != CIO_OK) {
            cio_png_release(&png, &info, samples, indices, rows);
            return rest;
        }
    }
    /* From here on no libpng call can longjmp. */

    if (palette) {
        png_colorp entries = NULL;
        int entry_count = 0;
        if (!png_get_PLTE(png, info, &entries, &entry_count)) {
            snprintf(message, CIO_MESSAGE_CAPACITY, "palette image without a PLTE chunk");
            cio_png_release(&png, &info, samples, indices, rows);
            return CIO_CORRUPT;
        }
        size_t pixels = (size_t)width * (size_t)height;
        uint8_t *rgb = (uint8_t *)malloc(pixels * 3 ? pixels * 3 : 1);
        if (!rgb) {
            snprintf(message, CIO_MESSAGE_CAPACITY, "out of memory");
            cio_png_release(&png, &info, samples, indices, rows);
            return CIO_NO_MEMORY;
        }
        for (size_t i = 0; i < pixels; i++) {
            int index = indices[i];
            /* An index past the palette reads as black, as libpng's zero-filled 256-entry palette does. */
            png_color colour = index < entry_count ? entries[index] : (png_color){0, 0, 0};
            rgb[3 * i] = colour.red;
            rgb[3 * i + 1] = colour.green;
            rgb[3 * i + 2] = colour.blue;
        }
        free(indices);
        indices = NULL;
        samples = rgb;
    }
    free(rows);
    rows = NULL;
    png_destroy_read_struct(&png, &info, NULL);
    out->width = width;
    out->height = height;
    out->channels = channels;
    out->bit_depth = out_depth;
    out->model = model;
    out->warnings = 0;
    out->samples = samples;
    return CIO_OK;
}

void cio_free(void *pointer) { free(pointer); }
