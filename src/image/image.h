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
/* A2I2A_ERR_PARAM with one line when path's extension says another format than PNG ("y.jpg"):
 * the outputs that carry their parameters in PNG chunks (a2i, i2i) are PNG only. A name
 * without an extension is written as PNG. */
a2i2a_status png_name_check(const char *path);
/* The same from and into memory: image_read on a PNG or JPEG file's bytes (name, NULL =
 * "image in memory", names it in errors; data NULL: A2I2A_ERR_PARAM), and png_write's bytes
 * into *png (malloc'ed, *size bytes; NULL and 0 on failure). Each shares its file
 * counterpart's code: the same pixels, chunks, checks and bytes. */
a2i2a_status image_read_memory(const void *data, size_t size, const char *name, image_u8 *img, png_meta *meta);
a2i2a_status png_write_memory(const image_u8 *img, const png_meta *meta, void **png, size_t *size);

a2i2a_status image_alloc(image_u8 *img, int w, int h, int c);
/* image_alloc without the limit on each side (the pixel count still holds): a working picture
 * that is resized, never written (a long spectrogram's STFT frames, one column each). The
 * resizes make their outputs with it. */
a2i2a_status image_alloc_wide(image_u8 *img, int w, int h, int c);
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

/* ------------------------------------------------------------------ extensions (image module)
 *
 * Size limits of image_read: each side at most IMAGE_MAX_SIDE pixels and at most
 * IMAGE_MAX_PIXELS pixels in all (192 MiB as RGB); beyond that A2I2A_ERR_LIMIT, before any
 * pixel memory is allocated. 16-bit PNG samples keep their high byte (libpng png_set_strip_16,
 * which is also what Pillow does for 16-bit RGB), not png_set_scale_16's rounding.
 * tEXt/zTXt text (Latin-1) is converted to UTF-8; iTXt is UTF-8 already. Text and eXIf chunks
 * after the image data are read too. png_write writes ASCII values as tEXt and everything else
 * as uncompressed iTXt (UTF-8), and the eXIf chunk right after IHDR's ancillary chunks, before
 * the first IDAT (as Pillow/Riffusion do). Keys: 1-79 printable Latin-1 characters. */
#define IMAGE_MAX_SIDE 65536
#define IMAGE_MAX_PIXELS ((size_t)1 << 26)

/* image_read, then converted to c = 1 by taking the red channel (R = G = B in spectrogram
 * images; use it only where that holds or where red is what is wanted). */
a2i2a_status image_read_grey(const char *path, image_u8 *img, png_meta *meta);
/* A copy of src's pixels as c = 1 (BT.601 luma like Pillow's convert("L"):
 * (R*19595 + G*38470 + B*7471 + 0x8000) >> 16) or c = 3 (grey replicated). */
a2i2a_status image_convert(const image_u8 *src, int c, image_u8 *out);
/* Pillow's resize with any filter of the two: filter "bicubic" or "lanczos". */
a2i2a_status image_resize(const image_u8 *in, int w, int h, const char *filter, image_u8 *out);
/* The memory (bytes) a resize of in to w × h takes at its peak, its result included: the
 * result, the intermediate of the horizontal pass and the filter taps. */
double image_resize_memory(const image_u8 *in, int w, int h);

/* Text in an embedded 5×7 pixel font (font.c; 9 rows with the descenders) on an RGB image:
 * drawn at (x, y) top-left, each font pixel a scale × scale square of colour rgb, clipped to
 * the image. Characters outside ASCII 32–126 are drawn as '?'. Returns the advance (6·scale a
 * character); image_text_width is the inked width (the last character's gap left out). */
enum { IMAGE_GLYPH_W = 5, IMAGE_GLYPH_H = 9, IMAGE_TEXT_ADVANCE = 6 };
int image_text(image_u8 *img, int x, int y, int scale, const uint8_t rgb[3], const char *s);
int image_text_width(const char *s, int scale);
/* Fills the part of the rectangle at (x0, y0), w × h, that lies in the RGB image. */
void image_fill_rect(image_u8 *img, int x0, int y0, int w, int h, const uint8_t rgb[3]);

/* Colour maps for our own spectrogram styles: v01[i] in [0, 1] (clamped; NaN → 0) becomes
 * rgb[3i..3i+2]. Maps are 256-entry tables looked up like matplotlib's ListedColormap
 * (index = floor(v·256), 1.0 → 255, no interpolation). Names (docs/image.md):
 * "grey" (alias "gray": entry i = (i, i, i)), and our own perceptual maps whose CIE L*
 * rises steadily with v, so brightness reads as level: "ember" (black → violet → red →
 * orange → pale yellow, like matplotlib's inferno/magma) and "aurora" (dark blue → teal →
 * green → yellow, like viridis). Unknown name → A2I2A_ERR_PARAM. */
a2i2a_status colormap_apply(const char *name, const float *v01, size_t n, uint8_t *rgb);
/* The inverse: each RGB triple → the centre (idx + 0.5)/256 of the nearest table entry
 * (squared RGB distance; ties → lowest index), so colormap_apply(colormap_invert(x)) == x for
 * every colour of the map. For "grey" only the mean of R, G, B is used. */
a2i2a_status colormap_invert(const char *name, const uint8_t *rgb, size_t n, float *v01);
/* 1 if name is a known colour map. */
int colormap_exists(const char *name);
/* The colour maps' registry (A2I2A_LIST_COLORMAPS; common/registry.h). */
extern const struct registry_table colormap_registry;

#endif
