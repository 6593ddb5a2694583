/* "noise": noise bands, like ARSS's noise mode. Each row is a band of noise on a
 * log-frequency axis (top row = fmax, bottom = fmin) whose loudness over time follows the
 * row's brightness (60 dB scale). Made in the STFT domain: every bin of every frame gets the
 * brightness interpolated at its frequency and time, a "pink" weight (each row, an equal
 * slice of octave, gets the same power whatever its frequency) and a random phase; an
 * inverse STFT overlap-adds the frames. Mono. */
#include <math.h>
#include <stdlib.h>

#include "common/err.h"
#include "readings/readings.h"

enum { NOISE_NFFT = 2048, NOISE_HOP = 512 };

a2i2a_status reading_noise(const reading_input *in, audio_buf *out) {
  const image_u8 *img = in->img;
  const int w = img->w, h = img->h;
  const a2i2a_i2a_params set = reading_settings(in, reading_noise);
  const double sr = set.sample_rate, seconds = set.seconds, fmin = set.fmin, fmax = set.fmax;
  a2i2a_status st = reading_band(in, "noise", &set);
  if (st) return st;
  int64_t frames = llround(seconds * sr / NOISE_HOP) + 1;
  if (frames < 4 || frames > (int64_t)(sr * 3600 / NOISE_HOP))
    return fail(A2I2A_ERR_PARAM, "noise: %g s is not a usable duration", seconds);
  const int bins = NOISE_NFFT / 2 + 1;
  const int64_t n = (int64_t)NOISE_HOP * (frames - 1);

  float *level = xmalloc(sizeof(float) * (size_t)w * h, "noise: levels");
  float *spec = xmalloc(sizeof(float) * 2 * (size_t)bins * frames, "noise: spectrum");
  int *row0 = xmalloc(sizeof(int) * bins, "noise: rows");
  float *rowf = xmalloc(sizeof(float) * bins, "noise: rows"), *weight = xmalloc(sizeof(float) * bins, "noise: rows");
  st = A2I2A_ERR_NOMEM;
  stft_ctx *ctx = NULL;
  if (!level || !spec || !row0 || !rowf || !weight) goto done;
  for (size_t i = 0; i < (size_t)w * h; i++) level[i] = pixel_level(img->px + 3 * i);
  /* each bin's place on the rows' log axis (row0 = −1: outside [fmin, fmax]) */
  for (int k = 0; k < bins; k++) {
    double f = k * sr / NOISE_NFFT;
    row0[k] = -1;
    if (f < fmin || f > fmax || f >= sr / 2) continue;
    double pos = h > 1 ? (h - 1) * (1 - log(f / fmin) / log(fmax / fmin)) : 0; /* 0 = top */
    int r = (int)pos;
    if (r > h - 2) r = h > 1 ? h - 2 : 0;
    row0[k] = r;
    rowf[k] = h > 1 ? (float)(pos - r) : 0;
    weight[k] = (float)sqrt(1000.0 / f);
  }
  torch_rng g;
  rng_seed(&g, in->p.seed);
  for (int64_t t = 0; t < frames; t++) {
    double u = (t * (double)NOISE_HOP + 0.5) / (n + 1) * w - 0.5;
    if (u < 0) u = 0;
    if (u > w - 1) u = w - 1;
    int j = (int)u;
    if (j > w - 2) j = w > 1 ? w - 2 : 0;
    int j1 = w > 1 ? j + 1 : j;
    float cf = w > 1 ? (float)(u - j) : 0;
    for (int k = 0; k < bins; k++) {
      float *z = spec + 2 * ((size_t)k * frames + t);
      float phase = (float)(2 * M_PI) * rng_uniform(&g);
      if (row0[k] < 0) {
        z[0] = z[1] = 0;
        continue;
      }
      int r = row0[k], r1 = h > 1 ? r + 1 : r;
      float a = level[(size_t)r * w + j] + cf * (level[(size_t)r * w + j1] - level[(size_t)r * w + j]);
      float b = level[(size_t)r1 * w + j] + cf * (level[(size_t)r1 * w + j1] - level[(size_t)r1 * w + j]);
      float m = (a + rowf[k] * (b - a)) * weight[k];
      z[0] = m * cosf(phase), z[1] = m * sinf(phase);
    }
  }
  if ((st = stft_new(&ctx, NOISE_NFFT, NOISE_HOP, NOISE_NFFT))) goto done;
  if ((st = audio_alloc(out, 1, n, sr))) goto done;
  stft_inverse(ctx, spec, frames, out->x);
  normalise_to(out->x, n, 0.891251f);
  fade_edges(out->x, 1, n, (int64_t)(0.01 * sr));
done:
  stft_free(ctx);
  free(level), free(spec), free(row0), free(rowf), free(weight);
  return st;
}

reading_memory reading_noise_memory(const reading_input *in) {
  const a2i2a_i2a_params set = reading_settings(in, reading_noise);
  const double n = set.seconds * set.sample_rate, frames = n / NOISE_HOP + 1, bins = NOISE_NFFT / 2 + 1;
  return (reading_memory){4 * n, 4.0 * in->img->w * in->img->h + 8 * bins * frames + 12 * bins};
}
