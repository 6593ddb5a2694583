/* "chirp": cell 21 of the notebook — the image resized to 400×300; each column becomes a
 * linear chirp from 800·R̄ Hz to 1.5× that over the whole 30 s, amplitude 0.2 + 0.8·Ḡ, all
 * 400 summed (README §5.6). Double precision, like numpy/scipy. */
#include <math.h>
#include <stdlib.h>

#include "common/err.h"
#include "readings/readings.h"

a2i2a_status reading_chirp(const reading_input *in, audio_buf *out) {
  enum { W = 400, H = 300 };
  const int64_t n = 720000; /* 30 s at 24 kHz */
  if (in->img->w < 1 || in->img->h < 1) return fail(A2I2A_ERR_UNSUPPORTED, "%s: empty image", in->label);
  image_u8 small = {0};
  a2i2a_status st = image_resize_bicubic(in->img, W, H, &small);
  if (st) return st;
  double col_r[W], col_g[W];
  for (int x = 0; x < W; x++) {
    double r = 0, g = 0;
    for (int y = 0; y < H; y++) {
      r += small.px[((size_t)y * W + x) * 3 + 0] / 255.0;
      g += small.px[((size_t)y * W + x) * 3 + 1] / 255.0;
    }
    col_r[x] = r / H;
    col_g[x] = g / H;
  }
  image_free(&small);
  if ((st = audio_alloc(out, 1, n, 24000.0))) return st;
  chirp_sum(col_r, col_g, W, n, 30.0, out->x);
  return A2I2A_OK;
}

reading_memory reading_chirp_memory(const reading_input *in) {
  return (reading_memory){4.0 * 720000, image_resize_memory(in->img, 400, 300)};
}
