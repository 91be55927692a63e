/* TIFF decode through libtiff, from memory. See include/CImageIO.h (cio_decode_tiff, cio_tiff_info).
 *
 * libtiff reports errors through handlers instead of longjmp: a handler per open (TIFFOpenOptions, libtiff ≥ 4.5)
 * copies the first error into the caller's message and counts it; warnings are swallowed. Every libtiff call
 * returns a status that is checked, and any error reported during a decode fails it (CIO_CORRUPT), even when the
 * call that reported it returned something. The global handlers, which print to stderr, are switched off once as a
 * backstop for any path of libtiff that still calls them.
 *
 * The bytes are given to libtiff as a read-only memory-mapped file (map/unmap procs that hand out the caller's
 * buffer), so libtiff reads strips and tiles in place and never copies the file. Strips and tiles are decoded one
 * at a time by TIFFReadEncodedStrip/TIFFReadEncodedTile (so every codec is libtiff's, predictors and byte swapping
 * included) into one chunk buffer, and copied from there into the interleaved raster, keeping only the channels
 * returned (extra samples after the first are dropped), expanding palettes, scaling 1/2/4-bit gray and inverting
 * min-is-white on the way. */
#include "CImageIO.h"
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>

/* ---- Memory "file" ---- */

struct cio_tiff_source {
    const uint8_t *bytes;
    uint64_t size, position;
};

static tmsize_t cio_tiff_read(thandle_t handle, void *dst, tmsize_t count) {
    struct cio_tiff_source *s = (struct cio_tiff_source *)handle;
    if (count <= 0 || s->position >= s->size) return 0;
    uint64_t left = s->size - s->position;
    uint64_t n = (uint64_t)count < left ? (uint64_t)count : left;
    memcpy(dst, s->bytes + s->position, (size_t)n);
    s->position += n;
    return (tmsize_t)n;
}

static tmsize_t cio_tiff_write(thandle_t handle, void *src, tmsize_t count) {
    (void)handle, (void)src, (void)count;
    return -1; /* read-only */
}

static toff_t cio_tiff_seek(thandle_t handle, toff_t offset, int whence) {
    struct cio_tiff_source *s = (struct cio_tiff_source *)handle;
    uint64_t base = whence == SEEK_CUR ? s->position : whence == SEEK_END ? s->size : 0;
    if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END) return (toff_t)-1;
    if (offset > UINT64_MAX - base) return (toff_t)-1;
    s->position = base + offset; /* past the end is allowed, as lseek; reads there return 0 */
    return (toff_t)s->position;
}

static int cio_tiff_close(thandle_t handle) {
    (void)handle;
    return 0;
}

static toff_t cio_tiff_size(thandle_t handle) { return (toff_t)((struct cio_tiff_source *)handle)->size; }

static int cio_tiff_map(thandle_t handle, void **base, toff_t *size) {
    struct cio_tiff_source *s = (struct cio_tiff_source *)handle;
    *base = (void *)s->bytes; /* libtiff only reads a file opened "r" */
    *size = (toff_t)s->size;
    return 1;
}

static void cio_tiff_unmap(thandle_t handle, void *base, toff_t size) { (void)handle, (void)base, (void)size; }

/* ---- Errors ---- */

struct cio_tiff_errors {
    char *message; /* caller's buffer */
    uint32_t count;
};

static int cio_tiff_on_error(TIFF *tif, void *user, const char *module, const char *format, va_list args) {
    (void)tif;
    struct cio_tiff_errors *e = (struct cio_tiff_errors *)user;
    if (e->count++ == 0) {
        char text[CIO_MESSAGE_CAPACITY];
        vsnprintf(text, sizeof text, format, args);
        if (module && *module) snprintf(e->message, CIO_MESSAGE_CAPACITY, "%s: %s", module, text);
        else snprintf(e->message, CIO_MESSAGE_CAPACITY, "%s", text);
    }
    return 1; /* handled: the global handler is not called */
}

static int cio_tiff_on_warning(TIFF *tif, void *user, const char *module, const char *format, va_list args) {
    (void)tif, (void)user, (void)module, (void)format, (void)args;
    return 1; /* unknown tags, odd but readable values: not a reason to refuse, not worth a line */
}

static pthread_once_t cio_tiff_silenced = PTHREAD_ONCE_INIT;

static void cio_tiff_silence_globals(void) {
    TIFFSetErrorHandler(NULL);
    TIFFSetWarningHandler(NULL);
}

/* Opens `bytes` as a TIFF (IFD 0 read). On failure returns NULL with the status and message set. */
static TIFF *cio_tiff_open(struct cio_tiff_source *source, struct cio_tiff_errors *errors, cio_status *status) {
    pthread_once(&cio_tiff_silenced, cio_tiff_silence_globals);
    const uint8_t *b = source->bytes;
    int classic = source->size >= 8 && ((b[0] == 'I' && b[1] == 'I' && b[2] == 42 && b[3] == 0) ||
                                        (b[0] == 'M' && b[1] == 'M' && b[2] == 0 && b[3] == 42));
    int big = source->size >= 16 && ((b[0] == 'I' && b[1] == 'I' && b[2] == 43 && b[3] == 0) ||
                                     (b[0] == 'M' && b[1] == 'M' && b[2] == 0 && b[3] == 43));
    if (!classic && !big) {
        snprintf(errors->message, CIO_MESSAGE_CAPACITY, "not a TIFF file (no II*/MM* header)");
        *status = CIO_NOT_IMAGE;
        return NULL;
    }
    TIFFOpenOptions *options = TIFFOpenOptionsAlloc();
    if (!options) {
        snprintf(errors->message, CIO_MESSAGE_CAPACITY, "out of memory");
        *status = CIO_NO_MEMORY;
        return NULL;
    }
    TIFFOpenOptionsSetErrorHandlerExtR(options, cio_tiff_on_error, errors);
    TIFFOpenOptionsSetWarningHandlerExtR(options, cio_tiff_on_warning, errors);
    /* libtiff's own arrays (strip offsets and counts, tag values, codec state) are bounded by the file: no single
     * allocation of more than twice its size, or 64 MiB. Pixels go into buffers allocated here, not by libtiff. */
    uint64_t cap = source->size > ((uint64_t)32 << 20) ? 2 * source->size : (uint64_t)64 << 20;
    TIFFOpenOptionsSetMaxSingleMemAlloc(options, (tmsize_t)(cap > (uint64_t)INT64_MAX ? INT64_MAX : cap));
    TIFF *tif = TIFFClientOpenExt("TIFF", "r", (thandle_t)source, cio_tiff_read, cio_tiff_write, cio_tiff_seek,
                                  cio_tiff_close, cio_tiff_size, cio_tiff_map, cio_tiff_unmap, options);
    TIFFOpenOptionsFree(options);
    if (!tif) {
        if (errors->count == 0) snprintf(errors->message, CIO_MESSAGE_CAPACITY, "cannot read the first image directory");
        *status = CIO_CORRUPT;
        return NULL;
    }
    return tif;
}

/* ---- What is decoded ---- */

struct cio_tiff_layout {
    uint32_t width, height;
    uint16_t bps, spp, photometric, planar, sample_format, compression;
    uint32_t orientation;
    uint32_t channels;      /* of the raster */
    uint32_t out_depth;     /* 8, 16 or 32 */
    uint32_t source_samples; /* samples read from the file per pixel (palette: 1 index) */
    int palette, invert;
    int tiled;
    uint32_t chunk_width, chunk_height; /* a tile, or a strip (image width × rows per strip) */
    uint64_t chunk_bytes;
    uint16_t *colormap[3];
};

static const char *cio_tiff_photometric_name(uint16_t p) {
    switch (p) {
    case PHOTOMETRIC_SEPARATED: return "CMYK (separated)";
    case PHOTOMETRIC_YCBCR: return "YCbCr";
    case PHOTOMETRIC_CIELAB: return "CIE L*a*b*";
    case PHOTOMETRIC_ICCLAB: return "ICC L*a*b*";
    case PHOTOMETRIC_ITULAB: return "ITU L*a*b*";
    case PHOTOMETRIC_CFA: return "colour filter array (raw sensor data)";
    case PHOTOMETRIC_LOGL: return "LogL";
    case PHOTOMETRIC_LOGLUV: return "LogLuv";
    case PHOTOMETRIC_MASK: return "transparency mask";
    default: return NULL;
    }
}

#define CIO_TIFF_REFUSE(kind, ...) \
    do { \
        snprintf(message, CIO_MESSAGE_CAPACITY, __VA_ARGS__); \
        return (kind); \
    } while (0)

/* Reads IFD 0's tags and decides what comes out; refuses what is not decoded and images over the pixel limit
 * before anything image-sized is allocated. */
static cio_status cio_tiff_examine(TIFF *tif, uint64_t max_pixels, struct cio_tiff_layout *L, char *message) {
    memset(L, 0, sizeof *L);
    if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &L->width) || !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &L->height))
        CIO_TIFF_REFUSE(CIO_CORRUPT, "no image width or length");
    if (L->width == 0 || L->height == 0) CIO_TIFF_REFUSE(CIO_CORRUPT, "empty image (%u×%u)", (unsigned)L->width, (unsigned)L->height);
    TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &L->bps);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &L->spp);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &L->sample_format);
    TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &L->planar);
    TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &L->compression);
    uint16_t orientation = 1;
    TIFFGetFieldDefaulted(tif, TIFFTAG_ORIENTATION, &orientation);
    L->orientation = orientation >= 1 && orientation <= 8 ? orientation : 1;
    if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &L->photometric)) {
        L->photometric = L->spp >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK; /* as libtiff's own guess */
    }
    if (L->spp == 0) CIO_TIFF_REFUSE(CIO_CORRUPT, "0 samples per pixel");
    if (L->spp > 16) CIO_TIFF_REFUSE(CIO_UNSUPPORTED, "%u samples per pixel are not supported (at most 16)", (unsigned)L->spp);

    uint32_t base; /* colour samples */
    switch (L->photometric) {
    case PHOTOMETRIC_MINISBLACK:
    case PHOTOMETRIC_MINISWHITE:
        base = 1;
        L->invert = L->photometric == PHOTOMETRIC_MINISWHITE;
        break;
    case PHOTOMETRIC_RGB:
        base = 3;
        break;
    case PHOTOMETRIC_PALETTE:
        base = 1;
        L->palette = 1;
        break;
    case PHOTOMETRIC_YCBCR:
        if (L->compression != COMPRESSION_JPEG)
            CIO_TIFF_REFUSE(CIO_UNSUPPORTED, "YCbCr samples are supported only in JPEG-compressed TIFFs");
        /* libtiff's JPEG codec converts to RGB (and upsamples) itself. */
        if (!TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB))
            CIO_TIFF_REFUSE(CIO_UNSUPPORTED, "YCbCr JPEG cannot be converted to RGB");
        L->photometric = PHOTOMETRIC_RGB;
        base = 3;
        break;
    default: {
        const char *name = cio_tiff_photometric_name(L->photometric);
        if (name) CIO_TIFF_REFUSE(CIO_UNSUPPORTED, "%s images are not supported", name);
        CIO_TIFF_REFUSE(CIO_UNSUPPORTED, "photometric interpretation %u is not supported", (unsigned)L->photometric);
    }
    }
    if (L->spp < base) CIO_TIFF_REFUSE(CIO_CORRUPT, "%u samples per pixel for a %s image", (unsigned)L->spp, base == 3 ? "RGB" : "gray");

    /* Sample kinds. */
    switch (L->sample_format) {
    case SAMPLEFORMAT_UINT:
    case SAMPLEFORMAT_VOID:
        if (L->bps == 8 || L->bps == 16) break;
        if ((L->bps == 1 || L->bps == 2 || L->bps == 4) && L->spp == 1) break; /* gray or palette */
        if (L->bps == 1 || L->bps == 2 || L->bps == 4)
            CIO_TIFF_REFUSE(CIO_UNSUPPORTED, "%u-bit samples with %u samples per pixel are not supported", (unsigned)L->bps, (unsigned)L->spp);
        CIO_TIFF_REFUSE(CIO_UNSUPPORTED, "%u-bit unsigned samples are not supported (8 or 16)", (unsigned)L->bps);
    case SAMPLEFORMAT_IEEEFP:
        if (L->bps != 32) CIO_TIFF_REFUSE(CIO_UNSUPPORTED, "%u-bit floating-point samples are not supported (32 only)", (unsigned)L->bps);
        if (L->palette) CIO_TIFF_REFUSE(CIO_UNSUPPORTED, "floating-point palette indices");
        if (L->invert) CIO_TIFF_REFUSE(CIO_UNSUPPORTED, "floating-point min-is-white samples are not supported");
        break;
    case SAMPLEFORMAT_INT:
        CIO_TIFF_REFUSE(CIO_UNSUPPORTED, "signed %u-bit integer samples are not supported", (unsigned)L->bps);
    case SAMPLEFORMAT_COMPLEXINT:
    case SAMPLEFORMAT_COMPLEXIEEEFP:
        CIO_TIFF_REFUSE(CIO_UNSUPPORTED, "complex samples are not supported");
    default:
        CIO_TIFF_REFUSE(CIO_UNSUPPORTED, "sample format %u is not supported", (unsigned)L->sample_format);
    }
    if (L->palette) {
        if (L->bps > 8) CIO_TIFF_REFUSE(CIO_UNSUPPORTED, "%u-bit palette indices are not supported (1…8)", (unsigned)L->bps);
        if (!TIFFGetField(tif, TIFFTAG_COLORMAP, &L->colormap[0], &L->colormap[1], &L->colormap[2]) ||
            !L->colormap[0] || !L->colormap[1] || !L->colormap[2])
            CIO_TIFF_REFUSE(CIO_CORRUPT, "palette image without a colour map");
        L->channels = 3;
        L->out_depth = 16;
        L->source_samples = 1;
    } else {
        L->channels = L->spp > base ? base + 1 : base; /* the first extra sample is the alpha */
        L->out_depth = L->bps < 8 ? 8 : L->bps;
        L->source_samples = L->channels;
    }

    if ((uint64_t)L->width * L->height > max_pixels)
        CIO_TIFF_REFUSE(CIO_TOO_LARGE, "%u×%u pixels is above the limit of %llu pixels", (unsigned)L->width,
                        (unsigned)L->height, (unsigned long long)max_pixels);

    L->tiled = TIFFIsTiled(tif);
    if (L->tiled) {
        if (!TIFFGetField(tif, TIFFTAG_TILEWIDTH, &L->chunk_width) || !TIFFGetField(tif, TIFFTAG_TILELENGTH, &L->chunk_height) ||
            L->chunk_width == 0 || L->chunk_height == 0)
            CIO_TIFF_REFUSE(CIO_CORRUPT, "tiled image without a tile size");
        /* A tile may overhang the image, but not absurdly: at most 4 times its area (or 1 MP), within the limit. */
        uint64_t area = (uint64_t)L->chunk_width * L->chunk_height, pixels = (uint64_t)L->width * L->height;
        uint64_t most = pixels * 4 > ((uint64_t)1 << 20) ? pixels * 4 : ((uint64_t)1 << 20);
        if (area > most || area > (max_pixels > ((uint64_t)1 << 20) ? max_pixels : ((uint64_t)1 << 20)))
            CIO_TIFF_REFUSE(CIO_CORRUPT, "tiles of %u×%u for a %u×%u image", (unsigned)L->chunk_width,
                            (unsigned)L->chunk_height, (unsigned)L->width, (unsigned)L->height);
        L->chunk_bytes = TIFFTileSize64(tif);
    } else {
        uint32_t rows = 0;
        TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rows);
        if (rows == 0 || rows > L->height) rows = L->height;
        L->chunk_width = L->width;
        L->chunk_height = rows;
        L->chunk_bytes = TIFFStripSize64(tif);
    }
    /* The chunk as this code reads it: chunk_height rows of ceil(chunk_width × samples × bps / 8) bytes. */
    uint64_t per_chunk = L->planar == PLANARCONFIG_SEPARATE ? 1 : L->spp;
    uint64_t row_bytes = ((uint64_t)L->chunk_width * per_chunk * L->bps + 7) / 8;
    uint64_t expected = row_bytes * L->chunk_height;
    if (L->chunk_bytes == 0 || L->chunk_bytes < expected)
        CIO_TIFF_REFUSE(CIO_CORRUPT, "strip or tile size %llu does not hold %u rows of %llu bytes",
                        (unsigned long long)L->chunk_bytes, (unsigned)L->chunk_height, (unsigned long long)row_bytes);
    return CIO_OK;
}

static void cio_tiff_fill_info(const struct cio_tiff_layout *L, cio_image_info *info) {
    if (!info) return;
    memset(info, 0, sizeof *info);
    info->width = L->width;
    info->height = L->height;
    info->channels = L->channels;
    info->bit_depth = L->out_depth;
    info->orientation = L->orientation;
    info->decoder_bytes = L->chunk_bytes;
}

/* Sample `index` of a row of `bps`-bit samples (bps < 8), MSB first (FillOrder 2 is undone by libtiff). */
static inline uint32_t cio_tiff_bits(const uint8_t *row, uint64_t index, uint32_t bps) {
    uint64_t bit = index * bps;
    return (row[bit >> 3] >> (8 - bps - (bit & 7))) & ((1u << bps) - 1);
}

/* Copies one decoded chunk (plane `plane` when separate, else all planes) at (x0, y0) into the raster. */
static void cio_tiff_copy_chunk(const struct cio_tiff_layout *L, const uint8_t *chunk, uint32_t x0, uint32_t y0,
                                uint32_t plane, uint8_t *raster) {
    int separate = L->planar == PLANARCONFIG_SEPARATE;
    uint64_t per_chunk = separate ? 1 : L->spp;
    uint64_t row_bytes = ((uint64_t)L->chunk_width * per_chunk * L->bps + 7) / 8;
    uint32_t rows = L->chunk_height < L->height - y0 ? L->chunk_height : L->height - y0;
    uint32_t cols = L->chunk_width < L->width - x0 ? L->chunk_width : L->width - x0;
    uint32_t channels = L->channels;
    uint32_t first = separate ? plane : 0, last = separate ? plane + 1 : L->source_samples; /* samples taken */
    for (uint32_t r = 0; r < rows; r++) {
        const uint8_t *row = chunk + (uint64_t)r * row_bytes;
        uint64_t pixel0 = (uint64_t)(y0 + r) * L->width + x0;
        if (L->bps < 8) {
            uint32_t max = (1u << L->bps) - 1;
            for (uint32_t x = 0; x < cols; x++) {
                uint32_t v = cio_tiff_bits(row, x, L->bps);
                if (L->palette) {
                    uint16_t *out = (uint16_t *)raster + (pixel0 + x) * 3;
                    for (int k = 0; k < 3; k++) out[k] = L->colormap[k][v];
                } else {
                    uint8_t level = (uint8_t)(v * 255 / max);
                    raster[pixel0 + x] = L->invert ? (uint8_t)(255 - level) : level;
                }
            }
            continue;
        }
        if (L->palette) { /* 8-bit indices */
            for (uint32_t x = 0; x < cols; x++) {
                uint16_t *out = (uint16_t *)raster + (pixel0 + x) * 3;
                for (int k = 0; k < 3; k++) out[k] = L->colormap[k][row[x * per_chunk]];
            }
            continue;
        }
        uint32_t size = L->bps / 8; /* 1, 2 or 4 */
        for (uint32_t x = 0; x < cols; x++) {
            const uint8_t *src = row + (uint64_t)x * per_chunk * size;
            uint8_t *dst = raster + ((pixel0 + x) * channels) * size;
            for (uint32_t s = first; s < last; s++) {
                const uint8_t *from = src + (separate ? 0 : (uint64_t)s * size);
                uint8_t *to = dst + (uint64_t)s * size;
                if (L->invert && s == 0) { /* gray of min-is-white: max − v */
                    if (size == 1) *to = (uint8_t)(255 - *from);
                    else {
                        uint16_t v;
                        memcpy(&v, from, 2);
                        v = (uint16_t)(65535 - v);
                        memcpy(to, &v, 2);
                    }
                } else {
                    memcpy(to, from, size);
                }
            }
        }
    }
}

/* Opens the file and examines its first image (the pixel limit applied): the one start of both entry points. The
 * caller's `source` and `errors` back the TIFF while it is open. NULL with `*status` set when the file is refused. */
static TIFF *cio_tiff_start(struct cio_tiff_source *source, struct cio_tiff_errors *errors, uint64_t max_pixels,
                            struct cio_tiff_layout *L, cio_status *status) {
    *status = CIO_OK;
    TIFF *tif = cio_tiff_open(source, errors, status);
    if (!tif) return NULL;
    *status = errors->count > 0 ? CIO_CORRUPT : cio_tiff_examine(tif, max_pixels, L, errors->message);
    if (*status != CIO_OK) {
        TIFFClose(tif);
        return NULL;
    }
    return tif;
}

cio_status cio_tiff_info(const uint8_t *bytes, size_t count, uint64_t max_pixels, cio_image_info *info, char *message) {
    message[0] = 0;
    if (info) memset(info, 0, sizeof *info);
    struct cio_tiff_source source = {bytes, count, 0};
    struct cio_tiff_errors errors = {message, 0};
    struct cio_tiff_layout L;
    cio_status status;
    TIFF *tif = cio_tiff_start(&source, &errors, max_pixels, &L, &status);
    if (!tif) return status;
    cio_tiff_fill_info(&L, info);
    TIFFClose(tif);
    return CIO_OK;
}

cio_status cio_decode_tiff(const uint8_t *bytes, size_t count, uint64_t max_pixels, cio_raster *out,
                           cio_image_info *info, char *message) {
    memset(out, 0, sizeof *out);
    message[0] = 0;
    if (info) memset(info, 0, sizeof *info);
    struct cio_tiff_source source = {bytes, count, 0};
    struct cio_tiff_errors errors = {message, 0};
    struct cio_tiff_layout L;
    cio_status status;
    TIFF *tif = cio_tiff_start(&source, &errors, max_pixels, &L, &status);
    if (!tif) return status;
    size_t raster_bytes, chunk_bytes = (size_t)L.chunk_bytes;
    if (__builtin_mul_overflow((size_t)L.width, (size_t)L.height, &raster_bytes) ||
        __builtin_mul_overflow(raster_bytes, (size_t)L.channels * (L.out_depth / 8), &raster_bytes) ||
        (uint64_t)chunk_bytes != L.chunk_bytes) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "%u×%u pixels do not fit in memory", (unsigned)L.width, (unsigned)L.height);
        TIFFClose(tif);
        return CIO_TOO_LARGE;
    }
    uint8_t *raster = (uint8_t *)malloc(raster_bytes);
    uint8_t *chunk = (uint8_t *)malloc(chunk_bytes);
    if (!raster || !chunk) {
        free(raster);
        free(chunk);
        snprintf(message, CIO_MESSAGE_CAPACITY, "out of memory for %u×%u pixels", (unsigned)L.width, (unsigned)L.height);
        TIFFClose(tif);
        return CIO_NO_MEMORY;
    }
    uint32_t planes = L.planar == PLANARCONFIG_SEPARATE ? L.source_samples : 1;
    status = CIO_OK;
    for (uint32_t plane = 0; plane < planes && status == CIO_OK; plane++) {
        for (uint32_t y = 0; y < L.height && status == CIO_OK; y += L.chunk_height) {
            for (uint32_t x = 0; x < L.width && status == CIO_OK; x += L.chunk_width) {
                tmsize_t got;
                uint32_t index;
                if (L.tiled) {
                    index = TIFFComputeTile(tif, x, y, 0, (uint16_t)plane);
                    got = index < TIFFNumberOfTiles(tif) ? TIFFReadEncodedTile(tif, index, chunk, (tmsize_t)chunk_bytes) : -1;
                } else {
                    index = TIFFComputeStrip(tif, y, (uint16_t)plane);
                    got = index < TIFFNumberOfStrips(tif) ? TIFFReadEncodedStrip(tif, index, chunk, (tmsize_t)chunk_bytes) : -1;
                }
                uint64_t per_chunk = L.planar == PLANARCONFIG_SEPARATE ? 1 : L.spp;
                uint64_t row_bytes = ((uint64_t)L.chunk_width * per_chunk * L.bps + 7) / 8;
                uint32_t rows = L.chunk_height < L.height - y ? L.chunk_height : L.height - y;
                if (got < 0 || (uint64_t)got < row_bytes * (L.tiled ? L.chunk_height : rows) || errors.count > 0) {
                    if (errors.count == 0)
                        snprintf(message, CIO_MESSAGE_CAPACITY, "%s %u cannot be read (truncated or damaged)",
                                 L.tiled ? "tile" : "strip", (unsigned)index);
                    status = CIO_CORRUPT;
                    break;
                }
                cio_tiff_copy_chunk(&L, chunk, x, y, plane, raster);
            }
        }
    }
    free(chunk);
    if (status == CIO_OK && errors.count > 0) status = CIO_CORRUPT;
    TIFFClose(tif);
    if (status != CIO_OK) {
        free(raster);
        return status;
    }
    out->width = L.width;
    out->height = L.height;
    out->channels = L.channels;
    out->bit_depth = L.out_depth;
    out->model = L.channels == 1 ? CIO_MODEL_GRAY : L.channels == 2 ? CIO_MODEL_GRAY_ALPHA : L.channels == 3 ? CIO_MODEL_RGB : CIO_MODEL_RGBA;
    out->samples = raster;
    cio_tiff_fill_info(&L, info);
    return CIO_OK;
}
