/* Griffin-Lim as torchaudio 0.13.1's F.griffinlim, computed in double precision.
 *
 * The iteration is chaotic enough that two float32 implementations with different FFTs
 * (FFTW here, pocketfft in torch) drift apart by up to ~63 dB SNR after 32 iterations; in
 * double our result stays within the fixtures' float64 tolerance of torch's own output
 * (README §8: SNR ≥ 60 dB, max abs ≤ 2e-3 of the peak). The STFT conventions are those of
 * stft_forward / stft_inverse (torch.stft / torch.istft, centred, reflect padding), with the
 * same float32 window; only the arithmetic is wider. */
#include "audio/griffinlim.h"
#include "common/job.h"

#include <fftw3.h>
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio.h"
#include "common/err.h"

griffinlim_params griffinlim_default_params(int n_fft, int hop) {
  griffinlim_params p = {n_fft, hop, n_fft, 32, 0.99, 1, NULL};
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

/* ---- a double-precision STFT pair with torch's conventions */

static pthread_mutex_t planner_lock = PTHREAD_MUTEX_INITIALIZER;

/* Frames transformed together: their spectra are written to (read from) the [bins][frames]
 * layout as runs of GL_BLOCK neighbours, a few cache lines per bin instead of one per value. */
#define GL_BLOCK 8

typedef struct {
  int n_fft, hop, bins, frames, nthreads;
  int fstride;        /* complex values between two frames' spectra in freq[t] (64-byte steps) */
  int64_t n;          /* signal length hop·(frames − 1) */
  double *window;     /* n_fft */
  double *env;        /* Σ w² over the padded signal, n + n_fft */
  double **buf;       /* per thread: n_fft reals */
  fftw_complex **freq;/* per thread: GL_BLOCK spectra of bins, fstride apart */
  double *frames_td;  /* frames × n_fft: inverse frames before overlap-add */
  double *yfull;      /* n + n_fft */
  fftw_plan fwd, inv;
} dstft;

static void dstft_free(dstft *s) {
  pthread_mutex_lock(&planner_lock);
  if (s->fwd) fftw_destroy_plan(s->fwd);
  if (s->inv) fftw_destroy_plan(s->inv);
  pthread_mutex_unlock(&planner_lock);
  for (int t = 0; t < s->nthreads; t++) {
    if (s->buf) fftw_free(s->buf[t]);
    if (s->freq) fftw_free(s->freq[t]);
  }
  free(s->buf), free(s->freq), free(s->window), free(s->env), free(s->frames_td), free(s->yfull);
  memset(s, 0, sizeof *s);
}

static a2i2a_status dstft_init(dstft *s, const griffinlim_params *p, int frames) {
  memset(s, 0, sizeof *s);
  s->n_fft = p->n_fft, s->hop = p->hop, s->bins = p->n_fft / 2 + 1, s->frames = frames;
  s->fstride = (s->bins + 3) & ~3; /* every spectrum keeps the planned array's alignment */
  s->n = (int64_t)p->hop * (frames - 1);
  s->nthreads = omp_get_max_threads();
  stft_ctx *ctx;
  a2i2a_status st = stft_new(&ctx, p->n_fft, p->hop, p->win_length ? p->win_length : p->n_fft);
  if (st) return st;
  const int64_t full = s->n + s->n_fft;
  s->window = malloc(sizeof(double) * s->n_fft);
  s->env = calloc(full, sizeof(double));
  s->yfull = malloc(sizeof(double) * full);
  s->frames_td = malloc(sizeof(double) * (size_t)frames * s->n_fft);
  s->buf = calloc(s->nthreads, sizeof *s->buf);
  s->freq = calloc(s->nthreads, sizeof *s->freq);
  int ok = s->window && s->env && s->yfull && s->frames_td && s->buf && s->freq;
  for (int t = 0; ok && t < s->nthreads; t++) {
    s->buf[t] = fftw_malloc(sizeof(double) * s->n_fft);
    s->freq[t] = fftw_malloc(sizeof(fftw_complex) * (size_t)s->fstride * GL_BLOCK);
    ok = s->buf[t] && s->freq[t];
  }
  if (!ok) {
    stft_free(ctx);
    dstft_free(s);
    return fail(A2I2A_ERR_NOMEM, "griffinlim: n_fft %d x %d frames do not fit in memory", p->n_fft, frames);
  }
  const float *w = stft_window(ctx);
  for (int i = 0; i < s->n_fft; i++) s->window[i] = w[i];
  stft_free(ctx);
  for (int t = 0; t < frames; t++)
    for (int i = 0; i < s->n_fft; i++) s->env[(int64_t)t * s->hop + i] += s->window[i] * s->window[i];
  pthread_mutex_lock(&planner_lock);
  s->fwd = fftw_plan_dft_r2c_1d(s->n_fft, s->buf[0], s->freq[0], FFTW_ESTIMATE);
  s->inv = fftw_plan_dft_c2r_1d(s->n_fft, s->freq[0], s->buf[0], FFTW_ESTIMATE);
  pthread_mutex_unlock(&planner_lock);
  if (!s->fwd || !s->inv) {
    dstft_free(s);
    return fail(A2I2A_ERR_INTERNAL, "griffinlim: FFTW could not plan size %d", p->n_fft);
  }
  return A2I2A_OK;
}

/* torch.stft(center=True, reflect): X [bins][frames] complex (re, im interleaved) */
/* below this many samples of work per transform pass, threads cost more than they give */
#define GL_PARALLEL_MIN 65536

static void dstft_forward(dstft *s, const double *x, double *X) {
  const int big = (int64_t)s->frames * s->n_fft >= GL_PARALLEL_MIN;
  const int64_t n = s->n;
  const int half = s->n_fft / 2, blocks = (s->frames + GL_BLOCK - 1) / GL_BLOCK;
#pragma omp parallel for schedule(static) num_threads(s->nthreads) if (big)
  for (int bl = 0; bl < blocks; bl++) {
    int th = omp_get_thread_num(), t0 = bl * GL_BLOCK, nt = s->frames - t0 < GL_BLOCK ? s->frames - t0 : GL_BLOCK;
    double *b = s->buf[th];
    fftw_complex *F = s->freq[th];
    for (int j = 0; j < nt; j++) {
      for (int i = 0; i < s->n_fft; i++) {
        int64_t q = (int64_t)(t0 + j) * s->hop + i - half;
        if (q < 0) q = -q;
        if (q >= n) q = 2 * (n - 1) - q;
        b[i] = x[q] * s->window[i];
      }
      fftw_execute_dft_r2c(s->fwd, b, F + (size_t)j * s->fstride);
    }
    for (int k = 0; k < s->bins; k++) {
      double *row = X + 2 * ((size_t)k * s->frames + t0);
      for (int j = 0; j < nt; j++) {
        row[2 * j] = F[(size_t)j * s->fstride + k][0];
        row[2 * j + 1] = F[(size_t)j * s->fstride + k][1];
      }
    }
  }
}

/* torch.istft: y gets hop·(frames − 1) samples */
static void dstft_inverse(dstft *s, const double *X, double *y) {
  const int big = (int64_t)s->frames * s->n_fft >= GL_PARALLEL_MIN;
  const int nb = s->bins, blocks = (s->frames + GL_BLOCK - 1) / GL_BLOCK;
#pragma omp parallel for schedule(static) num_threads(s->nthreads) if (big)
  for (int bl = 0; bl < blocks; bl++) {
    int th = omp_get_thread_num(), t0 = bl * GL_BLOCK, nt = s->frames - t0 < GL_BLOCK ? s->frames - t0 : GL_BLOCK;
    fftw_complex *F = s->freq[th];
    for (int k = 0; k < nb; k++) {
      const double *row = X + 2 * ((size_t)k * s->frames + t0);
      for (int j = 0; j < nt; j++) {
        F[(size_t)j * s->fstride + k][0] = row[2 * j];
        F[(size_t)j * s->fstride + k][1] = row[2 * j + 1];
      }
    }
    for (int j = 0; j < nt; j++) {
      fftw_complex *Fj = F + (size_t)j * s->fstride;
      Fj[0][1] = 0; /* the imaginary parts of DC and Nyquist are ignored */
      Fj[nb - 1][1] = 0;
      double *out = s->frames_td + (size_t)(t0 + j) * s->n_fft;
      fftw_execute_dft_c2r(s->inv, Fj, out);
      for (int i = 0; i < s->n_fft; i++) out[i] *= s->window[i] / s->n_fft;
    }
  }
  const int64_t full = s->n + s->n_fft;
  memset(s->yfull, 0, sizeof(double) * full);
  for (int t = 0; t < s->frames; t++) {
    const double *f = s->frames_td + (size_t)t * s->n_fft;
    double *d = s->yfull + (int64_t)t * s->hop;
    for (int i = 0; i < s->n_fft; i++) d[i] += f[i];
  }
  const int half = s->n_fft / 2;
  for (int64_t i = 0; i < s->n; i++) {
    double e = s->env[i + half];
    y[i] = e > 1e-11 ? s->yfull[i + half] / e : 0;
  }
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

double griffinlim_memory(int n_fft, int hop, int frames) {
  const double bins = n_fft / 2 + 1, n = (double)hop * (frames - 1);
  /* A, R, P; dstft's frames_td, env and yfull; yd */
  return 3 * 16 * bins * frames + 8.0 * frames * n_fft + 16 * (n + n_fft) + 8 * n;
}

a2i2a_status griffinlim(const float *mag, int frames, const griffinlim_params *p, torch_rng *rng, float *y,
                        double *sc) {
  a2i2a_status st = check_params(p, frames);
  if (st) return st;
  if (p->rand_init && !rng) return fail(A2I2A_ERR_PARAM, "griffinlim: rand_init needs a generator");
  dstft s;
  if ((st = dstft_init(&s, p, frames))) return st;
  const size_t nc = (size_t)s.bins * frames; /* complex values */
  /* A: the angles (and, in place, M ⊙ A); R: the latest re-analysis; P: the previous one */
  double *A = malloc(sizeof(double) * 2 * nc), *R = malloc(sizeof(double) * 2 * nc),
         *P = calloc(2 * nc, sizeof(double)), *yd = malloc(sizeof(double) * s.n);
  if (!A || !R || !P || !yd) {
    free(A), free(R), free(P), free(yd), dstft_free(&s);
    return fail(A2I2A_ERR_NOMEM, "griffinlim: %d bins x %d frames do not fit in memory", s.bins, frames);
  }
  if (p->rand_init) { /* torch.rand(complex64): re, im uniform floats in memory order */
    for (size_t i = 0; i < 2 * nc; i++) A[i] = rng_uniform(rng);
  } else {
    for (size_t i = 0; i < nc; i++) A[2 * i] = 1.0, A[2 * i + 1] = 0.0;
  }
  const double alpha = p->momentum / (1.0 + p->momentum);

  for (int it = 0; it <= p->iters; it++) {
    if ((st = job_check(p->job))) {
      free(A), free(R), free(P), free(yd), dstft_free(&s);
      return st;
    }
    /* y = istft(M ⊙ A) */
#pragma omp parallel for schedule(static) if (nc >= GL_PARALLEL_MIN)
    for (size_t i = 0; i < nc; i++) A[2 * i] *= mag[i], A[2 * i + 1] *= mag[i];
    dstft_inverse(&s, A, yd);
    if (it == p->iters) break;
    /* R = stft(y); A = (R − α·P) / (|R − α·P| + 1e-16); P = R */
    dstft_forward(&s, yd, R);
#pragma omp parallel for schedule(static) if (nc >= GL_PARALLEL_MIN)
    for (size_t i = 0; i < nc; i++) {
      double re = R[2 * i] - alpha * P[2 * i], im = R[2 * i + 1] - alpha * P[2 * i + 1];
      double d = sqrt(re * re + im * im) + 1e-16;
      A[2 * i] = re / d;
      A[2 * i + 1] = im / d;
    }
    double *t = P;
    P = R;
    R = t;
  }
  for (int64_t i = 0; i < s.n; i++) y[i] = (float)yd[i];
  free(A), free(R), free(P), free(yd), dstft_free(&s);
  if (sc) return griffinlim_sc(mag, frames, p, y, sc);
  return A2I2A_OK;
}
