/* Pictures in and out of the VAE, exactly as diffusers' VaeImageProcessor does it.
 * In: each side rounded DOWN to a multiple of 8; if that changes the size, Pillow's LANCZOS
 * resize of the 8-bit RGB picture; then x/255·2−1 as float32 [3][H][W].
 * Out: clamp(x/2 + 0.5, 0, 1) as float32 [H][W][3] (the pipeline's output_type="np"), then
 * round(v·255) with numpy's rounding (half to even) to 8-bit RGB. */
#ifndef A2I2A_SD_IMAGE_H
#define A2I2A_SD_IMAGE_H

#include "image/image.h"

/* The size the pipeline works at: w − w mod 8, h − h mod 8 (both must stay ≥ 8). */
a2i2a_status sd_image_size(int w, int h, int *W, int *H);
/* RGB (c = 3; grey c = 1 is replicated) to a new [3][H][W] buffer in [-1, 1] (free()). */
a2i2a_status sd_image_preprocess(const image_u8 *in, float **chw, int *H, int *W);
/* [3][H][W] decoder output -> [H][W][3] in [0, 1]. */
void sd_image_to_unit(const float *chw, int H, int W, float *hwc);
/* [H][W][3] in [0, 1] -> 8-bit RGB (out allocated with image_alloc). */
a2i2a_status sd_image_to_u8(const float *hwc, int H, int W, image_u8 *out);

#endif
