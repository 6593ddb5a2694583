/* Animated PNG (APNG) output: the preview of a travel's frames. */
#ifndef A2I2A_IMAGE_APNG_H
#define A2I2A_IMAGE_APNG_H

#include "image/image.h"

/* An animated PNG of n frames of one size, each shown delay_ms (< 65536), played for ever;
 * written atomically, an existing file replaced only with force. */
a2i2a_status apng_write(const char *path, const image_u8 *frames, int n, int delay_ms, int force);

#endif
