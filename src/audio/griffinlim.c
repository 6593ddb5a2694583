#include "audio/griffinlim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio.h"
#include "common/err.h"

griffinlim_params griffinlim_default_params(int n_fft, int hop) {
  griffinlim_params p = {n_fft, hop, n_fft, 32, 0.99, 1};
  return p;
}

static a2i2a_status check_params(const griffinlim_params *p, int frames) {
  if (!p || p->n_fft < 4 || p->n_fft % 2 || p->hop < 1 || p->hop > p->n_fft || p->iters < 0 || frames < 2 ||
      p->win_length < 0 || p->win_length > p->n_fft || p->momentum < 0 || p->momentum >= 1e6)
    return fail(A2I2A_ERR_PARAM, "griffinlim: bad parameters (n_fft %d, hop %d, %d frames)", p ? p->n_fft : 0,
                p ? p->hop : 0, frames);
  if ((int64_t)p->hop * (frames - 1) <= p->n_fft / 2)
    return fail(A2I2A_ERR_PARAM, "griffinlim: %d frames of hop %d are too short for n_fft %d", frames, p->hop,
                p->n_fft);
  return A2I2A_OK;
}

a2i2a_status griffinlim_sc(const float *mag, int frames, const griffinlim_params *p, const float *y, double *sc) {
  a2i2a_status st = check_params(p, frames);
  if (st) return st;
  stft_ctx *ctx;
  if ((st = stft_new(&ctx, p->n_fft, p->hop, p->win_length ? p->win_length : p->n_fft))) return st;
  int bins = p->n_fft / 2 + 1;
  int64_t n = (int64_t)p->hop * (frames - 1);
  float *m = xmalloc(sizeof(float) * (size_t)bins * frames, "griffinlim: magnitudes");
  if (!m) return stft_free(ctx), A2I2A_ERR_NOMEM;
  stft_magnitude(ctx, y, n, m);
  double num = 0, den = 0;
  for (size_t i = 0; i < (size_t)bins * frames; i++) {
    double d = (double)mag[i] - m[i];
    num += d * d;
    den += (double)mag[i] * mag[i];
  }
  *sc = den > 0 ? sqrt(num / den) : 0;
  free(m);
  stft_free(ctx);
  return A2I2A_OK;
}

a2i2a_status griffinlim(const float *mag, int frames, const griffinlim_params *p, torch_rng *rng, float *y,
                        double *sc) {
  a2i2a_status st = check_params(p, frames);
  if (st) return st;
  if (p->rand_init && !rng) return fail(A2I2A_ERR_PARAM, "griffinlim: rand_init needs a generator");
  stft_ctx *ctx;
  if ((st = stft_new(&ctx, p->n_fft, p->hop, p->win_length ? p->win_length : p->n_fft))) return st;
  const int bins = p->n_fft / 2 + 1;
  const size_t nc = (size_t)bins * frames; /* complex values */
  const int64_t n = (int64_t)p->hop * (frames - 1);
  /* A: the angles (and, in place, M ⊙ A); R: the latest re-analysis; P: the previous one */
  float *A = malloc(sizeof(float) * 2 * nc), *R = malloc(sizeof(float) * 2 * nc),
        *P = calloc(2 * nc, sizeof(float));
  if (!A || !R || !P) {
    free(A), free(R), free(P), stft_free(ctx);
    return fail(A2I2A_ERR_NOMEM, "griffinlim: %d bins x %d frames do not fit in memory", bins, frames);
  }
  if (p->rand_init)
    rng_rand(rng, A, 2 * nc);
  else
    for (size_t i = 0; i < nc; i++) A[2 * i] = 1.0f, A[2 * i + 1] = 0.0f;
  const float alpha = (float)(p->momentum / (1.0 + p->momentum));

  for (int it = 0; it <= p->iters; it++) {
    /* y = istft(M ⊙ A) */
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < nc; i++) A[2 * i] *= mag[i], A[2 * i + 1] *= mag[i];
    stft_inverse(ctx, A, frames, y);
    if (it == p->iters) break;
    /* R = stft(y); A = (R − α·P) / (|R − α·P| + 1e-16); P = R */
    stft_forward(ctx, y, n, R);
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < nc; i++) {
      float re = R[2 * i] - alpha * P[2 * i], im = R[2 * i + 1] - alpha * P[2 * i + 1];
      float d = hypotf(re, im) + 1e-16f;
      A[2 * i] = re / d;
      A[2 * i + 1] = im / d;
    }
    float *t = P;
    P = R;
    R = t;
  }
  free(A), free(R), free(P), stft_free(ctx);
  if (sc) return griffinlim_sc(mag, frames, p, y, sc);
  return A2I2A_OK;
}
