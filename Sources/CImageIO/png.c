/* PNG decoding through libpng's classic API, setjmp-protected. See include/CImageIO.h. */
#include "CImageIO.h"
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Per-call state reached from libpng's callbacks through png_get_error_ptr / png_get_io_ptr. */
struct cio_png_state {
    char *message;           /* caller's buffer, CIO_MESSAGE_CAPACITY bytes */
    const uint8_t *bytes;    /* decode: the input */
    size_t count, offset;
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

static void cio_png_read(png_structp png, png_bytep data, size_t length) {
    struct cio_png_state *state = (struct cio_png_state *)png_get_io_ptr(png);
    if (length > state->count - state->offset) png_error(png, "file ends early (truncated)");
    memcpy(data, state->bytes + state->offset, length);
    state->offset += length;
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
    struct cio_png_state state = {.message = message, .bytes = bytes, .count = count, .offset = 0};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &state, cio_png_error, cio_png_warning);
    if (!png) return CIO_NO_MEMORY;
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return CIO_NO_MEMORY;
    }
    uint8_t *volatile samples = NULL;
    uint8_t *volatile indices = NULL;
    png_bytep *volatile rows = NULL;
    volatile cio_status failure = CIO_CORRUPT;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(samples);
        free(indices);
        free(rows);
        return failure;
    }
    png_set_read_fn(png, &state, cio_png_read);
    /* libpng refuses sides over 1,000,000 by default; the caller's pixel limit is what bounds memory. */
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_read_info(png, info);

    png_uint_32 width = 0, height = 0;
    int depth = 0, color_type = 0, interlace = 0;
    png_get_IHDR(png, info, &width, &height, &depth, &color_type, &interlace, NULL, NULL);
    if ((uint64_t)width * (uint64_t)height > max_pixels) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "%u×%u pixels is above the limit of %llu pixels", (unsigned)width,
                 (unsigned)height, (unsigned long long)max_pixels);
        failure = CIO_TOO_LARGE;
        png_longjmp(png, 1);
    }
    uint32_t channels = 0, model = 0, out_depth = depth == 16 ? 16 : 8;
    int palette = color_type == PNG_COLOR_TYPE_PALETTE;
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
    size_t expected_row = (size_t)width * (palette ? 1 : channels) * (out_depth / 8);
    if (row_bytes != expected_row) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "unexpected row size %zu (expected %zu)", row_bytes, expected_row);
        failure = CIO_UNSUPPORTED;
        png_longjmp(png, 1);
    }
    size_t total = row_bytes * (size_t)height;
    uint8_t *target = (uint8_t *)malloc(total ? total : 1);
    rows = (png_bytep *)malloc(sizeof(png_bytep) * (height ? height : 1));
    if (!target || !rows) {
        free(target);
        snprintf(message, CIO_MESSAGE_CAPACITY, "out of memory for %u×%u pixels", (unsigned)width, (unsigned)height);
        failure = CIO_NO_MEMORY;
        png_longjmp(png, 1);
    }
    if (palette) indices = target; else samples = target;
    for (png_uint_32 y = 0; y < height; y++) rows[y] = target + (size_t)y * row_bytes;
    png_read_image(png, rows);
    png_read_end(png, NULL); /* a file cut after the image data is truncated too */

    if (palette) {
        png_colorp entries = NULL;
        int entry_count = 0;
        if (!png_get_PLTE(png, info, &entries, &entry_count)) {
            snprintf(message, CIO_MESSAGE_CAPACITY, "palette image without a PLTE chunk");
            png_longjmp(png, 1);
        }
        size_t pixels = (size_t)width * (size_t)height;
        uint8_t *rgb = (uint8_t *)malloc(pixels * 3 ? pixels * 3 : 1);
        if (!rgb) {
            snprintf(message, CIO_MESSAGE_CAPACITY, "out of memory");
            failure = CIO_NO_MEMORY;
            png_longjmp(png, 1);
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

#include <malloc.h>
void cio_keep_large_buffers(void) {
#ifdef M_MMAP_THRESHOLD
    mallopt(M_MMAP_THRESHOLD, 1 << 30); /* serve big blocks from the heap, not fresh mmaps */
    mallopt(M_TRIM_THRESHOLD, 0x7FFFFFFF); /* and never give the heap back */
#endif
}

/* 2: AVX-512 (x86-64-v4), 1: AVX2 (x86-64-v3), 0: neither or not x86. */
int cio_cpu_level(void) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    __builtin_cpu_init();
    int v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2") &&
             __builtin_cpu_supports("avx");
    int v4 = v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
    return v4 ? 2 : (v3 ? 1 : 0);
#else
    return 0;
#endif
}
