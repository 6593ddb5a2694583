/* "sines": an additive sine bank, the painting-synth classic (ARSS, Coagula, MetaSynth).
 * Each row is an oscillator on a log-frequency axis (top row = fmax, bottom = fmin), each
 * column a moment in time; a pixel's brightness is the oscillator's amplitude then (60 dB
 * scale), its colour the stereo position: red left, green right, yellow centre. */
#include <math.h>
#include <stdlib.h>

#include "common/err.h"
#include "readings/readings.h"

enum { BLOCK = 4096 };

a2i2a_status reading_sines(const reading_input *in, audio_buf *out) {
  const image_u8 *img = in->img;
  const int w = img->w, h = img->h;
  const a2i2a_i2a_params set = reading_settings(in, reading_sines);
  const double sr = set.sample_rate, seconds = set.seconds, fmin = set.fmin, fmax = set.fmax;
  a2i2a_status st = reading_band(in, "sines", &set);
  if (st) return st;
  const int64_t n = llround(seconds * sr);
  if (n < 1 || n > (int64_t)sr * 3600) return fail(A2I2A_ERR_PARAM, "sines: %g s is not a usable duration", seconds);

  /* per row: angular step and a random start phase (no click of all rows in phase) */
  double *omega = xmalloc(sizeof(double) * 2 * h, "sines: oscillators");
  float *gain = xmalloc(sizeof(float) * 2 * (size_t)w * h, "sines: gains");
  if (!omega || !gain) return free(omega), free(gain), A2I2A_ERR_NOMEM;
  double *phase0 = omega + h;
  torch_rng g;
  rng_seed(&g, in->p.seed);
  for (int r = 0; r < h; r++) {
    double f = row_frequency(r, h, fmin, fmax);
    omega[r] = f < sr / 2 ? 2 * M_PI * f / sr : 0; /* 0: above Nyquist, left out */
    phase0[r] = 2 * M_PI * rng_uniform(&g);
  }
  for (size_t i = 0; i < (size_t)w * h; i++) {
    float lv = pixel_level(img->px + 3 * i), gl, gr;
    pixel_pan(img->px + 3 * i, &gl, &gr);
    gain[2 * i] = lv * gl, gain[2 * i + 1] = lv * gr;
  }
  st = audio_alloc(out, 2, n, sr);
  if (st) return free(omega), free(gain), st;
  float *L = out->x, *R = out->x + n;
  const int64_t nblocks = (n + BLOCK - 1) / BLOCK;

  /* Time blocks in parallel, rows in order inside each: the same bytes for any thread count. */
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t b = 0; b < nblocks; b++) {
    int64_t b0 = b * BLOCK, b1 = b0 + BLOCK < n ? b0 + BLOCK : n;
    int j0[BLOCK];
    j0[0] = 0;
    float fr[BLOCK];
    double accl[BLOCK] = {0}, accr[BLOCK] = {0};
    /* column centres at (j + 0.5)·n/w: linear interpolation between them, held at the ends */
    for (int64_t i = b0; i < b1; i++) {
      double u = (i + 0.5) / n * w - 0.5;
      if (u < 0) u = 0;
      if (u > w - 1) u = w - 1;
      int j = (int)u;
      if (j > w - 2) j = w > 1 ? w - 2 : 0;
      j0[i - b0] = j;
      fr[i - b0] = w > 1 ? (float)(u - j) : 0.0f;
    }
    int jlo = j0[0], jhi = w > 1 ? j0[b1 - b0 - 1] + 1 : 0;
    for (int r = 0; r < h; r++) {
      if (omega[r] == 0) continue;
      const float *gr = gain + 2 * (size_t)r * w;
      int any = 0;
      for (int j = jlo; j <= jhi && !any; j++) any = gr[2 * j] != 0 || gr[2 * j + 1] != 0;
      if (!any) continue;
      double ph = fmod(phase0[r] + omega[r] * (double)b0, 2 * M_PI);
      double zr = cos(ph), zi = sin(ph), cr = cos(omega[r]), ci = sin(omega[r]);
      for (int64_t i = 0; i < b1 - b0; i++) {
        int j = j0[i];
        int j1 = w > 1 ? j + 1 : j;
        float a_l = gr[2 * j] + fr[i] * (gr[2 * j1] - gr[2 * j]);
        float a_r = gr[2 * j + 1] + fr[i] * (gr[2 * j1 + 1] - gr[2 * j + 1]);
        accl[i] += a_l * zi;
        accr[i] += a_r * zi;
        double t = zr * cr - zi * ci;
        zi = zr * ci + zi * cr;
        zr = t;
      }
    }
    for (int64_t i = 0; i < b1 - b0; i++) L[b0 + i] = (float)accl[i], R[b0 + i] = (float)accr[i];
  }
  free(omega), free(gain);
  normalise_to(out->x, 2 * n, 0.891251f); /* −1 dBFS */
  fade_edges(out->x, 2, n, (int64_t)(0.01 * sr));
  return A2I2A_OK;
}

reading_memory reading_sines_memory(const reading_input *in) {
  const a2i2a_i2a_params set = reading_settings(in, reading_sines);
  const double n = set.seconds * set.sample_rate, h = in->img->h, w = in->img->w;
  return (reading_memory){2 * 4 * n, 16 * h + 8 * w * h};
}
