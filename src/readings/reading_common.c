/* Helpers for our own readings: per-pixel colour → level and pan, row frequencies, envelopes. */
#include <math.h>

#include "common/err.h"
#include "readings/readings.h"

a2i2a_status reading_band(const reading_input *in, const char *name, const a2i2a_i2a_params *s) {
  if (in->img->w < 1 || in->img->h < 1) return fail(A2I2A_ERR_UNSUPPORTED, "%s: empty image", in->label);
  if (!(s->fmax > s->fmin) || s->fmin <= 0)
    return fail(A2I2A_ERR_PARAM, "%s: fmax (%g Hz) must be above fmin (%g Hz)", name, s->fmax, s->fmin);
  return A2I2A_OK;
}

float pixel_level(const uint8_t *rgb) {
  int v = rgb[0] > rgb[1] ? rgb[0] : rgb[1];
  v = v > rgb[2] ? v : rgb[2];
  if (v == 0) return 0.0f;
  return (float)pow(10.0, 3.0 * (v / 255.0 - 1.0)); /* 60 dB from level 1 to 255 */
}

void pixel_pan(const uint8_t *rgb, float *gl, float *gr) {
  int r = rgb[0], g = rgb[1];
  if (g == 0 && r == 0) { /* grey/blue: centre */
    *gl = *gr = (float)M_SQRT1_2;
  } else if (g == 0) {
    *gl = 1, *gr = 0;
  } else if (r == 0) {
    *gl = 0, *gr = 1;
  } else {
    double p = (double)g / (r + g) * M_PI / 2; /* equal power: yellow is centred */
    *gl = (float)cos(p), *gr = (float)sin(p);
  }
}

double row_frequency(int row, int h, double fmin, double fmax) {
  if (h < 2) return sqrt(fmin * fmax);
  return fmin * pow(fmax / fmin, (double)(h - 1 - row) / (h - 1)); /* top row = fmax */
}

void fade_edges(float *x, int channels, int64_t n, int64_t fade) {
  if (fade * 2 > n) fade = n / 2;
  for (int64_t i = 0; i < fade; i++) {
    float g = (float)(0.5 - 0.5 * cos(M_PI * (i + 0.5) / fade));
    for (int c = 0; c < channels; c++) x[c * n + i] *= g, x[c * n + n - 1 - i] *= g;
  }
}
