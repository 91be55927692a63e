/* PNG decoding through libpng's classic API, setjmp-protected. See include/CImageIO.h. */
#include "CImageIO.h"
#include "rows.h"
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

/* Checks that need no libpng: the signature, and that IHDR comes first (libpng's handlers of ancillary chunks
 * checked that, skipping them unread does not: an ancillary chunk's name starts with a lower-case letter;
 * libpng itself refuses anything else before IHDR). CIO_OK, or the status with the message written. */
static cio_status cio_png_preflight(const uint8_t *bytes, size_t count, char *message) {
    if (count < 8 || png_sig_cmp((png_const_bytep)bytes, 0, 8) != 0) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "not a PNG file (bad signature)");
        return CIO_NOT_IMAGE;
    }
    if (count >= 16 && bytes[12] >= 'a' && bytes[12] <= 'z' && cio_png_is_chunk_name(bytes + 12)) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "%.4s: missing IHDR", (const char *)(bytes + 12));
        return CIO_CORRUPT;
    }
    return CIO_OK;
}

/* What the decoded rows look like. */
struct cio_png_layout {
    png_uint_32 width, height;
    uint32_t channels, model, depth; /* of the samples handed out (palette: 3 channels of RGB, 8-bit) */
    int palette;                     /* libpng's rows hold one index per pixel, mapped through PLTE afterwards */
    int interlaced;
    size_t row_bytes;                /* of libpng's rows: indices for a palette image */
    size_t out_row_bytes;            /* of the rows handed out */
};

/* Everything up to the first row, for both decoders: the reader, the chunk policy and libpng's limits (README.md,
 * "Decoder bombs"), png_read_info, the pixel limit from IHDR before anything image-sized is allocated, the colour
 * type, the transforms and the row size. Call only under a live setjmp(png_jmpbuf(png)): a refusal writes the
 * message and *failure, then longjmps. */
static void cio_png_start(png_structp png, png_infop info, struct cio_png_state *state, uint64_t max_pixels,
                          volatile cio_status *failure, struct cio_png_layout *layout) {
    char *message = state->message;
    png_set_read_fn(png, state, cio_png_read);
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
    layout->width = w;
    layout->height = h;
    if ((uint64_t)w * (uint64_t)h > max_pixels) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "%u×%u pixels is above the limit of %llu pixels", (unsigned)w,
                 (unsigned)h, (unsigned long long)max_pixels);
        *failure = CIO_TOO_LARGE;
        png_longjmp(png, 1);
    }
    layout->depth = depth == 16 ? 16 : 8;
    layout->palette = color_type == PNG_COLOR_TYPE_PALETTE;
    layout->interlaced = interlace != PNG_INTERLACE_NONE;
    switch (color_type) {
    case PNG_COLOR_TYPE_GRAY: layout->channels = 1; layout->model = CIO_MODEL_GRAY; break;
    case PNG_COLOR_TYPE_GRAY_ALPHA: layout->channels = 2; layout->model = CIO_MODEL_GRAY_ALPHA; break;
    case PNG_COLOR_TYPE_RGB: layout->channels = 3; layout->model = CIO_MODEL_RGB; break;
    case PNG_COLOR_TYPE_RGB_ALPHA: layout->channels = 4; layout->model = CIO_MODEL_RGBA; break;
    case PNG_COLOR_TYPE_PALETTE: layout->channels = 3; layout->model = CIO_MODEL_RGB; break;
    default:
        snprintf(message, CIO_MESSAGE_CAPACITY, "unknown PNG colour type %d", color_type);
        png_longjmp(png, 1);
    }
    /* Raw samples only: no png_set_expand (it would turn tRNS into alpha), no gamma, no shift. */
    if (layout->palette) {
        png_set_packing(png); /* 1/2/4-bit indices → one byte each; mapped through PLTE afterwards */
    } else if (depth < 8) {
        png_set_expand_gray_1_2_4_to_8(png);
    }
    if (depth == 16 && cio_host_is_little_endian()) png_set_swap(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    size_t row_bytes = png_get_rowbytes(png, info);
    size_t expected_row = (size_t)w * (layout->palette ? 1 : layout->channels) * (layout->depth / 8);
    if (row_bytes != expected_row) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "unexpected row size %zu (expected %zu)", row_bytes, expected_row);
        *failure = CIO_UNSUPPORTED;
        png_longjmp(png, 1);
    }
    layout->row_bytes = row_bytes;
    layout->out_row_bytes = (size_t)w * layout->channels * (layout->depth / 8);
    state->height = h;
    state->interlaced = layout->interlaced;
}

/* Palette indices → RGB. An index past the palette reads as black, as libpng's zero-filled 256-entry palette does. */
static void cio_png_expand_palette(const png_color *entries, int entry_count, const uint8_t *indices, uint8_t *rgb,
                                   size_t pixels) {
    for (size_t i = 0; i < pixels; i++) {
        int index = indices[i];
        png_color colour = index < entry_count ? entries[index] : (png_color){0, 0, 0};
        rgb[3 * i] = colour.red;
        rgb[3 * i + 1] = colour.green;
        rgb[3 * i + 2] = colour.blue;
    }
}

cio_status cio_decode_png(const uint8_t *bytes, size_t count, uint64_t max_pixels, cio_raster *out, char *message) {
    memset(out, 0, sizeof *out);
    message[0] = 0;
    cio_status preflight = cio_png_preflight(bytes, count, message);
    if (preflight != CIO_OK) return preflight;
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
        struct cio_png_layout layout;
        cio_png_start(png, info, &state, max_pixels, &failure, &layout);
        png_uint_32 h = layout.height;
        width = layout.width;
        height = h;
        channels = layout.channels;
        model = layout.model;
        out_depth = layout.depth;
        palette = layout.palette;
        size_t row_bytes = layout.row_bytes;
        size_t total = row_bytes * (size_t)h;
        uint8_t *target = (uint8_t *)malloc(total ? total : 1);
        rows = (png_bytep *)malloc(sizeof(png_bytep) * (h ? h : 1));
        if (!target || !rows) {
            free(target);
            snprintf(message, CIO_MESSAGE_CAPACITY, "out of memory for %u×%u pixels", (unsigned)layout.width, (unsigned)h);
            failure = CIO_NO_MEMORY;
            png_longjmp(png, 1);
        }
        if (layout.palette) indices = target; else samples = target;
        for (png_uint_32 y = 0; y < h; y++) rows[y] = target + (size_t)y * row_bytes;
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
        cio_png_expand_palette(entries, entry_count, indices, rgb, pixels);
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

/* ---- Row decoding (cio_rows_*, rows.c) ----
 *
 * A non-interlaced PNG streams: each read calls png_read_row once per row, straight into the caller's buffer (a
 * palette image's indices go through a one-row buffer and PLTE). An interlaced (Adam7) PNG cannot: every pass
 * covers the whole image and only the last fills the odd rows, so the first read decodes it whole with
 * png_read_image into a buffer the decoder keeps (its samples, or one index per pixel), and reads hand rows out
 * of it. That is the whole-image decoder's own raster (not its float tensor), and callers need no second path.
 *
 * The defences are the whole-image decoder's, through the same code: cio_png_start (chunk policy, libpng limits,
 * the pixel limit from IHDR before any image-sized allocation), cio_png_read (the 8 KiB cap on what is read past
 * the last row) and, in the read that delivers the last row, png_read_end or — when cio_png_read stopped libpng in
 * trailing stream data — cio_png_check_rest (chunk walk to IEND, CRCs), exactly as cio_decode_png does. */
struct cio_png_rows {
    struct cio_row_decoder base; /* first: rows.c sees only this */
    struct cio_png_state state;  /* reached from libpng's callbacks, so it must not move: on the heap */
    png_structp png;
    png_infop info;
    struct cio_png_layout layout;
    png_color palette[256];      /* PLTE, zero-filled: an index past it reads as black */
    int palette_entries;
    uint8_t *indices;            /* a palette image's row of indices while streaming */
    uint8_t *whole;              /* interlaced: the whole image (libpng's rows), decoded at the first read */
    int decoded;                 /* interlaced: the first read has decoded it (whole is freed after the last row) */
    uint8_t *pending;            /* the caller's row being filled, for a stop inside the last row's png_read_row */
};

struct cio_row_decoder *cio_png_rows_open(const uint8_t *bytes, size_t count, uint64_t max_pixels,
                                          cio_row_header *header, char *message, cio_status *status) {
    *status = cio_png_preflight(bytes, count, message);
    if (*status != CIO_OK) return NULL;
    struct cio_png_rows *d = (struct cio_png_rows *)calloc(1, sizeof *d);
    if (!d) {
        *status = CIO_NO_MEMORY;
        return NULL;
    }
    d->base.format = CIO_FORMAT_PNG;
    d->state.message = message;
    d->state.bytes = bytes;
    d->state.count = count;
    d->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &d->state, cio_png_error, cio_png_warning);
    if (d->png) d->info = png_create_info_struct(d->png);
    if (!d->png || !d->info) {
        png_destroy_read_struct(&d->png, NULL, NULL);
        free(d);
        *status = CIO_NO_MEMORY;
        return NULL;
    }
    volatile cio_status failure = CIO_CORRUPT;
    if (setjmp(png_jmpbuf(d->png))) {
        png_destroy_read_struct(&d->png, &d->info, NULL);
        free(d->indices);
        free(d);
        *status = failure;
        return NULL;
    }
    cio_png_start(d->png, d->info, &d->state, max_pixels, &failure, &d->layout);
    const struct cio_png_layout *layout = &d->layout;
    if (layout->palette) {
        /* libpng refuses a palette image whose PLTE does not come before IDAT ("Missing PLTE before IDAT"), so
         * png_read_info has it; the whole-image decoder's later check says the same. */
        png_colorp entries = NULL;
        int entry_count = 0;
        if (!png_get_PLTE(d->png, d->info, &entries, &entry_count)) {
            snprintf(message, CIO_MESSAGE_CAPACITY, "palette image without a PLTE chunk");
            png_longjmp(d->png, 1);
        }
        if (entry_count > 256) entry_count = 256;
        if (entry_count < 0) entry_count = 0;
        memcpy(d->palette, entries, sizeof(png_color) * (size_t)entry_count);
        d->palette_entries = entry_count;
        if (!layout->interlaced) {
            d->indices = (uint8_t *)malloc(layout->row_bytes ? layout->row_bytes : 1);
            if (!d->indices) {
                snprintf(message, CIO_MESSAGE_CAPACITY, "out of memory for a row of %u pixels", (unsigned)layout->width);
                failure = CIO_NO_MEMORY;
                png_longjmp(d->png, 1);
            }
        }
    }
    d->base.height = layout->height;
    header->format = CIO_FORMAT_PNG;
    header->width = layout->width;
    header->height = layout->height;
    header->channels = layout->channels;
    header->bit_depth = layout->depth;
    header->model = layout->model;
    header->row_bytes = layout->out_row_bytes;
    header->interlaced = (uint32_t)layout->interlaced;
    header->whole_image_bytes = layout->interlaced ? (uint64_t)layout->row_bytes * layout->height : 0;
    return &d->base;
}

/* A row libpng has written to d->pending (or, for a palette image, to d->indices) is complete: expand it. */
static void cio_png_rows_deliver(struct cio_png_rows *d) {
    if (d->layout.palette) {
        cio_png_expand_palette(d->palette, d->palette_entries, d->indices, d->pending, d->layout.width);
    }
    d->base.next_row++;
}

/* The first read of an interlaced image: decodes it whole into d->whole, as cio_decode_png does, end check
 * included. Holds its own setjmp. */
static cio_status cio_png_rows_decode_whole(struct cio_png_rows *d, char *message) {
    png_uint_32 h = d->layout.height;
    size_t row_bytes = d->layout.row_bytes, total = row_bytes * (size_t)h;
    d->whole = (uint8_t *)malloc(total ? total : 1);
    png_bytep *volatile rows = (png_bytep *)malloc(sizeof(png_bytep) * (h ? h : 1)); /* read after a longjmp */
    if (!d->whole || !rows) {
        free(rows);
        snprintf(message, CIO_MESSAGE_CAPACITY, "out of memory for %u×%u pixels", (unsigned)d->layout.width, (unsigned)h);
        return CIO_NO_MEMORY;
    }
    for (png_uint_32 y = 0; y < h; y++) rows[y] = d->whole + (size_t)y * row_bytes;
    if (setjmp(png_jmpbuf(d->png))) {
        free(rows);
        if (!d->state.stopped) return CIO_CORRUPT;
        /* Stopped past the last row: the pixels are complete; the file must still be whole (cio_decode_png). */
        message[0] = 0;
        return cio_png_check_rest(d->state.bytes, d->state.count, d->state.offset, message);
    }
    d->state.in_image = 1;
    png_read_image(d->png, rows);
    d->state.in_image = 0;
    png_read_end(d->png, NULL);
    free(rows);
    return CIO_OK;
}

cio_status cio_png_rows_read(struct cio_row_decoder *decoder, uint8_t *dst, uint32_t rows, char *message) {
    struct cio_png_rows *d = (struct cio_png_rows *)decoder;
    const struct cio_png_layout *layout = &d->layout;
    d->state.message = message; /* this call's buffer, for cio_png_error */
    if (layout->interlaced) {
        if (!d->decoded) {
            cio_status status = cio_png_rows_decode_whole(d, message);
            if (status != CIO_OK) return status;
            d->decoded = 1;
        }
        for (uint32_t i = 0; i < rows; i++) {
            const uint8_t *from = d->whole + (size_t)d->base.next_row * layout->row_bytes;
            uint8_t *to = dst + (size_t)i * layout->out_row_bytes;
            if (layout->palette) cio_png_expand_palette(d->palette, d->palette_entries, from, to, layout->width);
            else memcpy(to, from, layout->row_bytes);
            d->base.next_row++;
        }
        if (d->base.next_row == d->base.height) {
            free(d->whole); /* every row handed out; rows.c refuses reads past the end */
            d->whole = NULL;
        }
        return CIO_OK;
    }
    if (setjmp(png_jmpbuf(d->png))) {
        if (!d->state.stopped) return CIO_CORRUPT;
        /* cio_png_read stopped libpng in the data after the last row, inside that row's png_read_row: the row is
         * complete in d->pending (or d->indices). The rest of the stream is ignored, as libpng's "Too much image
         * data" is only a warning; the file must still be whole. */
        cio_png_rows_deliver(d);
        message[0] = 0;
        return cio_png_check_rest(d->state.bytes, d->state.count, d->state.offset, message);
    }
    d->state.in_image = 1;
    for (uint32_t i = 0; i < rows; i++) {
        d->pending = dst + (size_t)i * layout->out_row_bytes;
        png_read_row(d->png, layout->palette ? d->indices : d->pending, NULL);
        cio_png_rows_deliver(d);
    }
    if (d->base.next_row == d->base.height) {
        /* The last row: the end check cio_decode_png makes. A file cut after the image data is truncated too;
         * nothing is inflated here (the zlib stream has ended, every chunk after it is skipped). */
        d->state.in_image = 0;
        png_read_end(d->png, NULL);
    }
    return CIO_OK;
}

void cio_png_rows_close(struct cio_row_decoder *decoder) {
    struct cio_png_rows *d = (struct cio_png_rows *)decoder;
    png_destroy_read_struct(&d->png, &d->info, NULL);
    free(d->indices);
    free(d->whole);
    free(d);
}

void cio_free(void *pointer) { free(pointer); }
