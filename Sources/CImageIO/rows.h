/* Private to CImageIO: what rows.c shares with png.c and jpeg.c. Not a public header (see include/CImageIO.h). */
#ifndef CIO_ROWS_H
#define CIO_ROWS_H

#include "CImageIO.h"

/* The part of every row decoder that rows.c manages: each format's decoder struct starts with it. */
struct cio_row_decoder {
    uint32_t format;    /* cio_format: which functions below own it */
    uint32_t height;    /* rows in the image */
    uint32_t next_row;  /* rows handed out so far */
    cio_status failure; /* CIO_OK while usable; after a failed read, what every later read returns */
    char failure_message[CIO_MESSAGE_CAPACITY];
};

/* Each checks its own signature, as cio_decode_png / cio_decode_jpeg do. */
struct cio_row_decoder *cio_png_rows_open(const uint8_t *bytes, size_t count, uint64_t max_pixels,
                                          cio_row_header *header, char *message, cio_status *status);
struct cio_row_decoder *cio_jpeg_rows_open(const uint8_t *bytes, size_t count, uint64_t max_pixels,
                                           cio_row_header *header, char *message, cio_status *status);

/* Called by cio_rows_read with 0 < rows <= rows left, on a live decoder; they advance next_row. */
cio_status cio_png_rows_read(struct cio_row_decoder *decoder, uint8_t *dst, uint32_t rows, char *message);
cio_status cio_jpeg_rows_read(struct cio_row_decoder *decoder, uint8_t *dst, uint32_t rows, char *message);

void cio_png_rows_close(struct cio_row_decoder *decoder);
void cio_jpeg_rows_close(struct cio_row_decoder *decoder);

#endif
