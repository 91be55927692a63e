/* TIFF encoding through libtiff, into memory. See include/CImageIO.h.
 *
 * One image, little-endian, chunky (interleaved) samples in strips of about CIO_TIFF_STRIP_BYTES, Adobe deflate
 * (compression 8) at the caller's level with the caller's predictor. The file is written through TIFFClientOpenExt
 * into a growable buffer; the error and warning handlers are per call (TIFFOpenOptions, libtiff ≥ 4.5), so nothing
 * is printed, no global handler is touched and calls may run concurrently. A file whose samples would pass 4 GB is
 * written as BigTIFF (libtiff, tifffile and Pillow ≥ 10 read it). libtiff reports failures by return values, never
 * by longjmp or abort, so there is no setjmp here. */
#include "CImageIO.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>

/* Uncompressed bytes per strip (at least one row). Measured on a 2560×1600 Gaussian-blurred photo (float32, level 1,
 * predictor 3): 64 KiB strips 0.612 of the raw size, 256 KiB 0.611, 1 MiB 0.611, the smallest as fast as any (a strip
 * stays in the core's L2 between the predictor and deflate); a reader also decodes little more than it asks for. */
#ifndef CIO_TIFF_STRIP_BYTES
#define CIO_TIFF_STRIP_BYTES (64u << 10)
#endif

struct cio_tiff_memory {
    uint8_t *data;
    uint64_t size, capacity, position;
    char *message; /* caller's buffer: the first error is kept */
};

static int cio_tiff_error(TIFF *tif, void *user, const char *module, const char *format, va_list args) {
    (void)tif;
    struct cio_tiff_memory *memory = (struct cio_tiff_memory *)user;
    if (memory->message[0] == 0) {
        char text[CIO_MESSAGE_CAPACITY];
        vsnprintf(text, sizeof text, format, args);
        snprintf(memory->message, CIO_MESSAGE_CAPACITY, "%s%s%s", module ? module : "", module ? ": " : "", text);
    }
    return 1; /* handled: libtiff's global handler (stderr) is not called */
}

static int cio_tiff_warning(TIFF *tif, void *user, const char *module, const char *format, va_list args) {
    (void)tif, (void)user, (void)module, (void)format, (void)args;
    return 1;
}

static tmsize_t cio_tiff_read(thandle_t handle, void *buffer, tmsize_t count) {
    struct cio_tiff_memory *m = (struct cio_tiff_memory *)handle;
    if (count <= 0 || m->position >= m->size) return 0;
    uint64_t n = m->size - m->position < (uint64_t)count ? m->size - m->position : (uint64_t)count;
    memcpy(buffer, m->data + m->position, (size_t)n);
    m->position += n;
    return (tmsize_t)n;
}

static tmsize_t cio_tiff_write(thandle_t handle, void *buffer, tmsize_t count) {
    struct cio_tiff_memory *m = (struct cio_tiff_memory *)handle;
    if (count < 0) return -1;
    uint64_t end = m->position + (uint64_t)count;
    if (end > m->capacity) {
        uint64_t capacity = m->capacity ? m->capacity : 65536;
        while (capacity < end) capacity += capacity / 2;
        if (capacity != (size_t)capacity) return -1;
        uint8_t *grown = realloc(m->data, (size_t)capacity);
        if (!grown) return -1; /* libtiff reports the short write through the error handler */
        m->data = grown;
        m->capacity = capacity;
    }
    if (m->position > m->size) memset(m->data + m->size, 0, (size_t)(m->position - m->size)); /* a gap after a seek */
    memcpy(m->data + m->position, buffer, (size_t)count);
    m->position = end;
    if (end > m->size) m->size = end;
    return count;
}

static toff_t cio_tiff_seek(thandle_t handle, toff_t offset, int whence) {
    struct cio_tiff_memory *m = (struct cio_tiff_memory *)handle;
    uint64_t base = whence == SEEK_CUR ? m->position : whence == SEEK_END ? m->size : 0;
    m->position = base + offset;
    return m->position;
}

static int cio_tiff_close(thandle_t handle) {
    (void)handle;
    return 0;
}

static toff_t cio_tiff_size(thandle_t handle) { return ((struct cio_tiff_memory *)handle)->size; }

static int cio_tiff_map(thandle_t handle, void **base, toff_t *size) {
    (void)handle, (void)base, (void)size;
    return 0; /* no mapping */
}

static void cio_tiff_unmap(thandle_t handle, void *base, toff_t size) { (void)handle, (void)base, (void)size; }

cio_status cio_encode_tiff(const void *samples, uint32_t width, uint32_t height, uint32_t channels, uint32_t sample,
                           int predictor, int level, uint8_t **out_bytes, size_t *out_count, char *message) {
    *out_bytes = NULL;
    *out_count = 0;
    message[0] = 0;
    const uint32_t bytes_per_sample = sample == CIO_TIFF_UINT8 ? 1 : sample == CIO_TIFF_UINT16 ? 2 : 4;
    if (channels < 1 || channels > 4 || sample > CIO_TIFF_FLOAT32 || width == 0 || height == 0 || predictor < 1 ||
        predictor > 3 || (predictor == 3 && sample != CIO_TIFF_FLOAT32) || (predictor == 2 && sample == CIO_TIFF_FLOAT32)) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "cannot encode %u×%u, %u channels of sample kind %u with predictor %d as TIFF",
                 (unsigned)width, (unsigned)height, (unsigned)channels, (unsigned)sample, predictor);
        return CIO_UNSUPPORTED;
    }
    if (level < 1) level = 1;
    if (level > 12) level = 12;
    const uint64_t row_bytes = (uint64_t)width * channels * bytes_per_sample;
    const uint64_t total = row_bytes * height;
    uint64_t rows = CIO_TIFF_STRIP_BYTES / row_bytes;
    if (rows < 1) rows = 1;
    if (rows > height) rows = height;
    uint8_t *strip = malloc((size_t)(rows * row_bytes));
    TIFFOpenOptions *options = TIFFOpenOptionsAlloc();
    struct cio_tiff_memory memory = {NULL, 0, 0, 0, message};
    if (!strip || !options) {
        free(strip);
        if (options) TIFFOpenOptionsFree(options);
        snprintf(message, CIO_MESSAGE_CAPACITY, "out of memory");
        return CIO_NO_MEMORY;
    }
    TIFFOpenOptionsSetErrorHandlerExtR(options, cio_tiff_error, &memory);
    TIFFOpenOptionsSetWarningHandlerExtR(options, cio_tiff_warning, &memory);
    /* Deflate never grows data by more than a fraction of a percent: past 4 GB of samples, BigTIFF. */
    const char *mode = total > 4000000000u ? "wl8" : "wl";
    TIFF *tif = TIFFClientOpenExt("memory", mode, (thandle_t)&memory, cio_tiff_read, cio_tiff_write, cio_tiff_seek,
                                  cio_tiff_close, cio_tiff_size, cio_tiff_map, cio_tiff_unmap, options);
    cio_status status = CIO_CORRUPT;
    if (!tif) goto done;
    int ok = TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, width) && TIFFSetField(tif, TIFFTAG_IMAGELENGTH, height) &&
             TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, (uint16_t)channels) &&
             TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, (uint16_t)(8 * bytes_per_sample)) &&
             TIFFSetField(tif, TIFFTAG_SAMPLEFORMAT, (uint16_t)(sample == CIO_TIFF_FLOAT32 ? SAMPLEFORMAT_IEEEFP : SAMPLEFORMAT_UINT)) &&
             TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, (uint16_t)(channels >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK)) &&
             TIFFSetField(tif, TIFFTAG_PLANARCONFIG, (uint16_t)PLANARCONFIG_CONTIG) &&
             TIFFSetField(tif, TIFFTAG_ORIENTATION, (uint16_t)ORIENTATION_TOPLEFT) &&
             TIFFSetField(tif, TIFFTAG_COMPRESSION, (uint16_t)COMPRESSION_ADOBE_DEFLATE) &&
             TIFFSetField(tif, TIFFTAG_ZIPQUALITY, level) && TIFFSetField(tif, TIFFTAG_PREDICTOR, (uint16_t)predictor) &&
             TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, (uint32_t)rows);
    if (ok && (channels == 2 || channels == 4)) {
        uint16_t extra = EXTRASAMPLE_UNASSALPHA;
        ok = TIFFSetField(tif, TIFFTAG_EXTRASAMPLES, (uint16_t)1, &extra);
    }
    /* Each strip is copied first: libtiff's predictor and byte order work on the buffer they are given. */
    for (uint32_t s = 0; ok && (uint64_t)s * rows < height; s++) {
        uint64_t first = (uint64_t)s * rows, n = height - first < rows ? height - first : rows;
        memcpy(strip, (const uint8_t *)samples + first * row_bytes, (size_t)(n * row_bytes));
        ok = TIFFWriteEncodedStrip(tif, s, strip, (tmsize_t)(n * row_bytes)) >= 0;
    }
    ok = ok && TIFFFlush(tif);
    TIFFClose(tif);
    if (!ok) goto done;
    *out_bytes = memory.data;
    *out_count = (size_t)memory.size;
    memory.data = NULL;
    status = CIO_OK;
done:
    if (status != CIO_OK && message[0] == 0) snprintf(message, CIO_MESSAGE_CAPACITY, "TIFF encoding failed");
    free(memory.data);
    free(strip);
    TIFFOpenOptionsFree(options);
    return status;
}
