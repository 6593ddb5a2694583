/* Private to src/image: the format readers behind image_read. */
#ifndef A2I2A_IMAGE_INTERNAL_H
#define A2I2A_IMAGE_INTERNAL_H

#include <stdio.h>
#include "image/image.h"

/* f is positioned at the start; path is only for messages. meta may be NULL. */
a2i2a_status png_read_file(FILE *f, const char *path, image_u8 *img, png_meta *meta);
a2i2a_status jpeg_read_file(FILE *f, const char *path, image_u8 *img);
/* The size check shared by the readers (before any pixel memory is allocated). */
a2i2a_status image_check_size(const char *path, unsigned long w, unsigned long h);

#endif
