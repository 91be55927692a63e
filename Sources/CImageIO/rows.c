/* Row decoding: the format-independent part (dispatch, dead decoders, row accounting). See include/CImageIO.h. */
#include "rows.h"
#include <stdio.h>
#include <string.h>

cio_row_decoder *cio_rows_open(const uint8_t *bytes, size_t count, uint64_t max_pixels, cio_row_header *header,
                               char *message, cio_status *status) {
    static const uint8_t png_signature[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    memset(header, 0, sizeof *header);
    message[0] = 0;
    *status = CIO_OK;
    if (count >= 8 && memcmp(bytes, png_signature, 8) == 0) {
        return cio_png_rows_open(bytes, count, max_pixels, header, message, status);
    }
    if (count >= 2 && bytes[0] == 0xFF && bytes[1] == 0xD8) {
        return cio_jpeg_rows_open(bytes, count, max_pixels, header, message, status);
    }
    snprintf(message, CIO_MESSAGE_CAPACITY, "not a PNG or JPEG file");
    *status = CIO_NOT_IMAGE;
    return NULL;
}

cio_status cio_rows_read(cio_row_decoder *decoder, void *dst, uint32_t rows, char *message) {
    message[0] = 0;
    if (decoder->failure != CIO_OK) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "%s", decoder->failure_message);
        return decoder->failure;
    }
    uint32_t left = decoder->height - decoder->next_row;
    if (rows > left) {
        snprintf(message, CIO_MESSAGE_CAPACITY, "asked for %u rows, %u left", (unsigned)rows, (unsigned)left);
        return CIO_UNSUPPORTED;
    }
    if (rows == 0) return CIO_OK;
    cio_status status = decoder->format == CIO_FORMAT_PNG ? cio_png_rows_read(decoder, (uint8_t *)dst, rows, message)
                                                          : cio_jpeg_rows_read(decoder, (uint8_t *)dst, rows, message);
    if (status != CIO_OK) {
        decoder->failure = status;
        snprintf(decoder->failure_message, CIO_MESSAGE_CAPACITY, "%s", message);
    }
    return status;
}

void cio_rows_close(cio_row_decoder *decoder) {
    if (!decoder) return;
    if (decoder->format == CIO_FORMAT_PNG) cio_png_rows_close(decoder);
    else cio_jpeg_rows_close(decoder);
}
