/* Test helper: writes 8-bit pixels as a baseline JPEG with libjpeg (the library only reads
 * JPEG; tests make their own). */
#ifndef A2I2A_TEST_JPEG_WRITE_H
#define A2I2A_TEST_JPEG_WRITE_H

#include <stdint.h>
#include <stdio.h>
#include <jpeglib.h>

/* px: [h][w][comps], comps 3 (RGB) or 1 (grey). Returns 1 if written. */
static inline int write_jpeg(const char *path, const uint8_t *px, int w, int h, int comps, int quality) {
  FILE *f = fopen(path, "wb");
  if (!f) return 0;
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr err;
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  jpeg_stdio_dest(&c, f);
  c.image_width = (JDIMENSION)w;
  c.image_height = (JDIMENSION)h;
  c.input_components = comps;
  c.in_color_space = comps == 3 ? JCS_RGB : JCS_GRAYSCALE;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, quality, TRUE);
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = (JSAMPROW)(px + (size_t)c.next_scanline * w * comps);
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  fclose(f);
  return 1;
}

#endif
