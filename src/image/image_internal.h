/* Private to src/image: the format readers behind image_read and image_read_memory. */
#ifndef A2I2A_IMAGE_INTERNAL_H
#define A2I2A_IMAGE_INTERNAL_H

#include <stdio.h>
#include "image/image.h"

/* Where an encoded image is read from: an open file or bytes in memory, so that files and
 * buffers share one reader per format. */
typedef struct {
  FILE *f;             /* a file, positioned at its start, or NULL for: */
  const uint8_t *data; /* bytes in memory */
  size_t size, pos;    /* size: of the data, or of a regular file (0: unknown) */
  const char *name;    /* names it in errors */
} image_source;

/* Up to n bytes from the source; fewer at its end (and on a file's read error: ferror). */
size_t image_source_read(image_source *src, void *buf, size_t n);

/* meta may be NULL. */
a2i2a_status png_read_source(image_source *src, image_u8 *img, png_meta *meta);
a2i2a_status jpeg_read_source(image_source *src, image_u8 *img);
/* The size check shared by the readers (before any pixel memory is allocated). */
a2i2a_status image_check_size(const char *path, unsigned long w, unsigned long h);

#endif
