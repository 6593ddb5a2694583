#include "sd/sd_image.h"
#include "common/err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

a2i2a_status sd_image_size(int w, int h, int *W, int *H) {
  *W = w - w % 8, *H = h - h % 8;
  if (*W < 8 || *H < 8)
    return fail(A2I2A_ERR_PARAM, "picture of %dx%d pixels: Stable Diffusion needs at least 8x8", w, h);
  return A2I2A_OK;
}

a2i2a_status sd_image_preprocess(const image_u8 *in, float **chw, int *H, int *W) {
  *chw = NULL;
  if (in->c != 3 && in->c != 1) return fail(A2I2A_ERR_PARAM, "picture with %d channels: expected RGB", in->c);
  a2i2a_status st = sd_image_size(in->w, in->h, W, H);
  if (st) return st;
  image_u8 rs = {0, 0, 0, NULL};
  const image_u8 *src = in;
  if (*W != in->w || *H != in->h) {
    if ((st = image_resize_lanczos(in, *W, *H, &rs))) return st;
    src = &rs;
  }
  size_t hw = (size_t)*H * *W;
  float *x = xmalloc(3 * hw * sizeof(float), "preprocessed picture");
  if (!x) {
    image_free(&rs);
    return A2I2A_ERR_NOMEM;
  }
  int c = src->c;
  for (size_t p = 0; p < hw; p++)
    for (int ch = 0; ch < 3; ch++) {
      float v = (float)src->px[p * c + (c == 3 ? ch : 0)] / 255.0f; /* numpy: float32 / 255 */
      x[ch * hw + p] = 2.0f * v - 1.0f;                              /* torch: 2 * x - 1 */
    }
  image_free(&rs);
  *chw = x;
  return A2I2A_OK;
}

void sd_image_to_unit(const float *chw, int H, int W, float *hwc) {
  size_t hw = (size_t)H * W;
  for (size_t p = 0; p < hw; p++)
    for (int ch = 0; ch < 3; ch++) {
      float v = chw[ch * hw + p] / 2.0f + 0.5f;
      hwc[p * 3 + ch] = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
    }
}

a2i2a_status sd_image_to_u8(const float *hwc, int H, int W, image_u8 *out) {
  a2i2a_status st = image_alloc(out, W, H, 3);
  if (st) return st;
  size_t n = (size_t)H * W * 3;
  for (size_t i = 0; i < n; i++) {
    float v = rintf(hwc[i] * 255.0f); /* half to even in the default rounding mode, as numpy */
    out->px[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
  }
  return A2I2A_OK;
}
