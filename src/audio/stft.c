/* STFT / inverse STFT as torch.stft / torch.istft (center, reflect, onesided, unnormalised),
 * on FFTW3 single precision. The plans are made once per context (FFTW_ESTIMATE: the same
 * algorithm on every run, so results are reproducible) and executed with the new-array
 * interface from several OpenMP threads, each on its own buffers. */
#include "audio/audio.h"
#include "common/err.h"

#include <fftw3.h>
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Frames inverse-transformed in parallel before their serial overlap-add. */
#define ISTFT_BLOCK 64

struct stft_ctx {
  int n_fft, hop, win_length, bins;
  int w0, w1;         /* the window is non-zero only in [w0, w1) */
  float *window;      /* n_fft values: periodic Hann of win_length, centred */
  int nthreads;
  float **frame;      /* per thread: n_fft reals */
  fftwf_complex **freq; /* per thread: bins complex */
  float *block;       /* ISTFT_BLOCK × n_fft: inverse frames awaiting overlap-add */
  fftwf_plan fwd, inv;
};

/* The FFTW planner is not thread-safe; execution is. */
static pthread_mutex_t planner_lock = PTHREAD_MUTEX_INITIALIZER;

/* torch.hann_window(L, periodic=True) in float32: 0.5 − 0.5·cos(n·(float)(2π/L)), each
 * operation rounded to float as torch's kernels do. */
static void hann_periodic(float *w, int L) {
  const float step = (float)(2.0 * M_PI / (double)L);
  for (int n = 0; n < L; n++) {
    float a = (float)n * step;
    w[n] = cosf(a) * -0.5f + 0.5f;
  }
}

a2i2a_status stft_new(stft_ctx **out, int n_fft, int hop, int win_length) {
  *out = NULL;
  if (n_fft < 2 || hop < 1 || win_length < 1 || win_length > n_fft || n_fft > (1 << 24))
    return fail(A2I2A_ERR_PARAM, "stft: invalid n_fft %d, hop %d, win_length %d", n_fft, hop, win_length);
  stft_ctx *c = calloc(1, sizeof *c);
  if (!c) return fail(A2I2A_ERR_NOMEM, "stft: out of memory");
  c->n_fft = n_fft;
  c->hop = hop;
  c->win_length = win_length;
  c->bins = n_fft / 2 + 1;
  c->nthreads = omp_get_max_threads();
  if (c->nthreads < 1) c->nthreads = 1;
  c->window = fftwf_malloc(sizeof(float) * n_fft);
  c->frame = calloc(c->nthreads, sizeof *c->frame);
  c->freq = calloc(c->nthreads, sizeof *c->freq);
  c->block = fftwf_malloc(sizeof(float) * (size_t)n_fft * ISTFT_BLOCK);
  int ok = c->window && c->frame && c->freq && c->block;
  for (int t = 0; ok && t < c->nthreads; t++) {
    c->frame[t] = fftwf_malloc(sizeof(float) * n_fft);
    c->freq[t] = fftwf_malloc(sizeof(fftwf_complex) * c->bins);
    ok = c->frame[t] && c->freq[t];
  }
  if (!ok) {
    stft_free(c);
    return fail(A2I2A_ERR_NOMEM, "stft: out of memory for n_fft %d", n_fft);
  }
  /* torch pads the window with zeros to n_fft, (n_fft − win_length)/2 on the left */
  memset(c->window, 0, sizeof(float) * n_fft);
  c->w0 = (n_fft - win_length) / 2;
  c->w1 = c->w0 + win_length;
  hann_periodic(c->window + c->w0, win_length);
  pthread_mutex_lock(&planner_lock);
  c->fwd = fftwf_plan_dft_r2c_1d(n_fft, c->frame[0], c->freq[0], FFTW_ESTIMATE);
  c->inv = fftwf_plan_dft_c2r_1d(n_fft, c->freq[0], c->frame[0], FFTW_ESTIMATE);
  pthread_mutex_unlock(&planner_lock);
  if (!c->fwd || !c->inv) {
    stft_free(c);
    return fail(A2I2A_ERR_INTERNAL, "stft: FFTW could not plan size %d", n_fft);
  }
  *out = c;
  return A2I2A_OK;
}

void stft_free(stft_ctx *c) {
  if (!c) return;
  pthread_mutex_lock(&planner_lock);
  if (c->fwd) fftwf_destroy_plan(c->fwd);
  if (c->inv) fftwf_destroy_plan(c->inv);
  pthread_mutex_unlock(&planner_lock);
  for (int t = 0; t < c->nthreads; t++) {
    if (c->frame) fftwf_free(c->frame[t]);
    if (c->freq) fftwf_free(c->freq[t]);
  }
  free(c->frame);
  free(c->freq);
  fftwf_free(c->window);
  fftwf_free(c->block);
  free(c);
}

int stft_bins(const stft_ctx *c) { return c->bins; }
int64_t stft_frames(const stft_ctx *c, int64_t n) { return 1 + n / c->hop; }
const float *stft_window(const stft_ctx *c) { return c->window; }

/* Reflect index into x[0..n) for a position p of the padded signal: no edge repetition. */
static inline int64_t reflect(int64_t i, int64_t n) {
  if (i < 0) i = -i;
  if (i >= n) i = 2 * (n - 1) - i;
  return i;
}

/* Windowed frame t of the reflect-padded signal into buf, then its forward FFT. */
static void frame_fft(stft_ctx *c, const float *x, int64_t n, int64_t t, float *buf, fftwf_complex *freq) {
  const int64_t pad = c->n_fft / 2, start = t * c->hop - pad;
  memset(buf, 0, sizeof(float) * c->w0);
  memset(buf + c->w1, 0, sizeof(float) * (c->n_fft - c->w1));
  if (start + c->w0 >= 0 && start + c->w1 <= n) {
    const float *xs = x + start;
    for (int k = c->w0; k < c->w1; k++) buf[k] = c->window[k] * xs[k];
  } else {
    for (int k = c->w0; k < c->w1; k++) {
      int64_t i = reflect(start + k, n);
      /* signals shorter than the padding: positions that reflect twice read as zero */
      buf[k] = (i >= 0 && i < n) ? c->window[k] * x[i] : 0.0f;
    }
  }
  fftwf_execute_dft_r2c(c->fwd, buf, freq);
}

enum { OUT_COMPLEX, OUT_POWER, OUT_MAGNITUDE };

static void stft_run(stft_ctx *c, const float *x, int64_t n, int64_t t0, int64_t T, float *out, int mode) {
  const int B = c->bins;
#pragma omp parallel for num_threads(c->nthreads) schedule(static)
  for (int64_t t = 0; t < T; t++) {
    int th = omp_get_thread_num();
    float *buf = c->frame[th];
    fftwf_complex *f = c->freq[th];
    frame_fft(c, x, n, t0 + t, buf, f);
    if (mode == OUT_COMPLEX) {
      for (int k = 0; k < B; k++) {
        out[2 * ((size_t)k * T + t)] = f[k][0];
        out[2 * ((size_t)k * T + t) + 1] = f[k][1];
      }
    } else if (mode == OUT_POWER) {
      for (int k = 0; k < B; k++) out[(size_t)k * T + t] = f[k][0] * f[k][0] + f[k][1] * f[k][1];
    } else {
      for (int k = 0; k < B; k++) out[(size_t)k * T + t] = sqrtf(f[k][0] * f[k][0] + f[k][1] * f[k][1]);
    }
  }
}

void stft_forward(stft_ctx *c, const float *x, int64_t n, float *spec) {
  stft_run(c, x, n, 0, stft_frames(c, n), spec, OUT_COMPLEX);
}
void stft_power(stft_ctx *c, const float *x, int64_t n, float *power) {
  stft_run(c, x, n, 0, stft_frames(c, n), power, OUT_POWER);
}
void stft_magnitude(stft_ctx *c, const float *x, int64_t n, float *mag) {
  stft_run(c, x, n, 0, stft_frames(c, n), mag, OUT_MAGNITUDE);
}
void stft_power_frames(stft_ctx *c, const float *x, int64_t n, int64_t t0, int64_t nt, float *out) {
  stft_run(c, x, n, t0, nt, out, OUT_POWER);
}
void stft_magnitude_frames(stft_ctx *c, const float *x, int64_t n, int64_t t0, int64_t nt, float *out) {
  stft_run(c, x, n, t0, nt, out, OUT_MAGNITUDE);
}

void stft_inverse(stft_ctx *c, const float *spec, int64_t T, float *y) {
  const int N = c->n_fft, B = c->bins, hop = c->hop, pad = N / 2;
  const int64_t L = (int64_t)hop * (T - 1);
  if (L <= 0) return;
  const float scale = 1.0f / (float)N;
  /* y is accumulated over the trimmed range [pad, pad + L) of the full overlap-add only */
  memset(y, 0, sizeof(float) * (size_t)L);
  for (int64_t t0 = 0; t0 < T; t0 += ISTFT_BLOCK) {
    int nb = T - t0 < ISTFT_BLOCK ? (int)(T - t0) : ISTFT_BLOCK;
#pragma omp parallel for num_threads(c->nthreads) schedule(static)
    for (int j = 0; j < nb; j++) {
      int th = omp_get_thread_num();
      fftwf_complex *f = c->freq[th];
      const int64_t t = t0 + j;
      for (int k = 0; k < B; k++) {
        f[k][0] = spec[2 * ((size_t)k * T + t)];
        f[k][1] = spec[2 * ((size_t)k * T + t) + 1];
      }
      f[0][1] = 0.0f; /* torch ignores the imaginary parts of DC and Nyquist */
      if (N % 2 == 0) f[B - 1][1] = 0.0f;
      float *z = c->block + (size_t)j * N;
      fftwf_execute_dft_c2r(c->inv, f, z);
      for (int k = 0; k < N; k++) z[k] = z[k] * scale * c->window[k];
    }
    for (int j = 0; j < nb; j++) {
      const float *z = c->block + (size_t)j * N;
      const int64_t base = (t0 + j) * hop - pad; /* index into y of frame sample 0 */
      int64_t k0 = c->w0, k1 = c->w1;
      if (base + k0 < 0) k0 = -base;
      if (base + k1 > L) k1 = L - base;
      for (int64_t k = k0; k < k1; k++) y[base + k] += z[k];
    }
  }
  /* divide by the summed squared window (the envelope), computed per sample from the frames
   * that cover it, in frame order */
#pragma omp parallel for num_threads(c->nthreads) schedule(static)
  for (int64_t i = 0; i < L; i++) {
    const int64_t p = i + pad;
    int64_t ta = p - N + 1 > 0 ? (p - N + 1 + hop - 1) / hop : 0, tb = p / hop;
    if (tb > T - 1) tb = T - 1;
    float env = 0.0f;
    for (int64_t t = ta; t <= tb; t++) {
      float w = c->window[p - t * hop];
      env += w * w;
    }
    y[i] = env > 1e-11f ? y[i] / env : 0.0f;
  }
}
