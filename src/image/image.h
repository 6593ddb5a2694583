/* Images: 8-bit interleaved pixels, PNG/JPEG in, PNG out with text and eXIf chunks, and
 * resizes that reproduce Pillow bit for bit (BICUBIC for the notebook, LANCZOS for diffusers).
 *
 * THIS INTERFACE IS SHARED by a2i, i2a, the VAE and the chain: extend it, do not change it. */
#ifndef A2I2A_IMAGE_H
#define A2I2A_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include "a2i2a.h"

typedef struct {
  int w, h, c;  /* c = 1 (grey) or 3 (RGB) */
  uint8_t *px;  /* [h][w][c], row 0 = top */
} image_u8;

typedef struct {
  int ntext;
  char **keys, **values;  /* tEXt/iTXt chunks, UTF-8 */
  uint8_t *exif;          /* the eXIf chunk's TIFF bytes, or NULL */
  size_t exif_len;
} png_meta;

/* Reads a PNG (8/16-bit, grey, grey+alpha, palette, RGB, RGBA) or JPEG file as RGB (c = 3):
 * 16-bit is reduced to 8 as libpng's strip_16 does, alpha is dropped, grey is replicated.
 * meta may be NULL; it receives the PNG's text and eXIf chunks. Errors name the file. */
a2i2a_status image_read(const char *path, image_u8 *img, png_meta *meta);
/* Writes img (c = 1 or 3) as 8-bit PNG atomically, with meta's chunks (meta may be NULL).
 * Refuses to replace an existing file unless force. */
a2i2a_status png_write(const char *path, const image_u8 *img, const png_meta *meta, int force);

a2i2a_status image_alloc(image_u8 *img, int w, int h, int c);
void image_free(image_u8 *img);

void png_meta_init(png_meta *m);
void png_meta_free(png_meta *m);
const char *png_meta_get(const png_meta *m, const char *key);
a2i2a_status png_meta_set(png_meta *m, const char *key, const char *value);
a2i2a_status png_meta_set_exif(png_meta *m, const uint8_t *tiff, size_t len);

/* Pillow's Image.resize((w, h), BICUBIC) / LANCZOS on 8-bit images, bit-exact (separable,
 * horizontal pass first through an 8-bit intermediate, 22-bit fixed-point weights). */
a2i2a_status image_resize_bicubic(const image_u8 *in, int w, int h, image_u8 *out);
a2i2a_status image_resize_lanczos(const image_u8 *in, int w, int h, image_u8 *out);

#endif
