/* How close a reconstruction is to the original sound (bench/RESULTS.md, round-trip tests). */
#include "support/measure.h"

#include <math.h>
#include <stdlib.h>

#include "common/err.h"

/* Mono mix at the given rate. */
static a2i2a_status mono_at(const audio_buf *a, double rate, audio_buf *out) {
  audio_buf r = {0};
  a2i2a_status st = audio_resample(a, rate, &r);
  if (st) return st;
  if ((st = audio_alloc(out, 1, r.frames, rate))) return audio_free(&r), st;
  for (int64_t i = 0; i < r.frames; i++) {
    double s = 0;
    for (int c = 0; c < r.channels; c++) s += r.x[(size_t)c * r.frames + i];
    out->x[i] = (float)(s / r.channels);
  }
  audio_free(&r);
  return A2I2A_OK;
}

a2i2a_status measure_reconstruction(const audio_buf *orig, const audio_buf *recon, double *sc, double *lsd,
                                    double *gain_db) {
  enum { NFFT = 2048, HOP = 512 };
  audio_buf a = {0}, b = {0};
  a2i2a_status st = mono_at(orig, recon->rate, &a);
  if (st) return st;
  if ((st = mono_at(recon, recon->rate, &b))) return audio_free(&a), st;
  int64_t n = a.frames < b.frames ? a.frames : b.frames;
  stft_ctx *ctx = NULL;
  if (n <= NFFT / 2) {
    st = fail(A2I2A_ERR_PARAM, "measure: %lld samples are too few", (long long)n);
    goto done;
  }
  if ((st = stft_new(&ctx, NFFT, HOP, NFFT))) goto done;
  const int64_t T = stft_frames(ctx, n), bins = NFFT / 2 + 1;
  float *X = malloc(sizeof(float) * bins * T), *Y = malloc(sizeof(float) * bins * T);
  if (!X || !Y) {
    free(X), free(Y);
    st = fail(A2I2A_ERR_NOMEM, "measure: out of memory");
    goto done;
  }
  stft_magnitude(ctx, a.x, n, X);
  stft_magnitude(ctx, b.x, n, Y);
  /* the best single gain first: SC then measures the spectral shape, gain_db the level */
  double xy = 0, yy = 0, xx = 0, xmax = 0;
  for (int64_t i = 0; i < bins * T; i++) xy += (double)X[i] * Y[i], yy += (double)Y[i] * Y[i], xx += (double)X[i] * X[i],
                                          xmax = fmax(xmax, X[i]);
  double g = yy > 0 ? xy / yy : 1, num = 0;
  for (int64_t i = 0; i < bins * T; i++) num += (X[i] - g * Y[i]) * (X[i] - g * Y[i]);
  *sc = xx > 0 ? sqrt(num / xx) : 0;
  *gain_db = g > 0 ? -20 * log10(g) : 0; /* how much louder the reconstruction is */
  /* LSD in dB with an 80 dB floor below the original's loudest cell, per frame then averaged */
  const double floor_ = xmax * 1e-4 + 1e-30;
  double sum = 0;
  for (int64_t t = 0; t < T; t++) {
    double s = 0;
    for (int64_t k = 0; k < bins; k++) {
      double d = 20 * log10((X[k * T + t] + floor_) / (g * Y[k * T + t] + floor_));
      s += d * d;
    }
    sum += sqrt(s / bins);
  }
  *lsd = sum / T;
  free(X), free(Y);
done:
  stft_free(ctx);
  audio_free(&a), audio_free(&b);
  return st;
}

double measure_psnr(const float *x, const float *ref, size_t n) {
  double se = 0, lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    double d = (double)x[i] - ref[i];
    se += d * d;
    lo = fmin(lo, ref[i]), hi = fmax(hi, ref[i]);
  }
  return se == 0 ? INFINITY : 10 * log10((hi - lo) * (hi - lo) / (se / (double)n));
}
