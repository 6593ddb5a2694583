/* Tensor kernels: float32 activations, weights converted from F16/BF16 once per call into a
 * reusable thread-local scratch, GEMMs through OpenBLAS, element-wise loops through OpenMP.
 * OpenBLAS is the OpenMP build: called from inside our parallel regions it runs on one thread,
 * called from outside it uses the a2i2a_get_threads() pool, so the two never oversubscribe. */
#include "sd/kernels.h"
#include "common/err.h"
#include "common/memory.h"

#include <cblas.h>
#include <immintrin.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Below this many values an element-wise loop runs on one thread: a parallel region costs more
 * than it saves, and far more on a loaded machine where the other thread waits for a core. */
#define PAR_N 262144

/* ------------------------------------------------------------------ scratch */

/* Per-thread growable buffers, one per slot; they only ever grow (no allocation once warm). */
enum { SCR_WEIGHT, SCR_COL, SCR_ATT_S, SCR_ATT_ML, SCR_BIAS, SCR_GAMMA, SCR_BETA, SCR_WU, SCR_WV, SCR_WM, SCR_ROW, SCR_WRAP, SCR_AFFINE, SCR_N };
static _Thread_local float *scr_buf[SCR_N];
static _Thread_local size_t scr_cap[SCR_N];
static _Thread_local int scr_refuse; /* kernels_refuse_scratch: growing fails on this thread */
/* kernels_set_wrap: the axes this thread's convolutions wrap around (a job's setting, not the
 * process's: each job runs on its own thread) */
static _Thread_local int wrap_axes;

/* The kernels return nothing: one that cannot get its scratch skips its work and records the
 * floats it asked for here, on the job's (calling) thread, for kernels_check. Inside a parallel
 * region the worker threads record into a variable of the kernel instead (oom below), which
 * the kernel hands on after the region: no job ever sees another job's failure. */
static _Thread_local size_t scr_failed;

static void note_failure(size_t floats) {
  if (!scr_failed) scr_failed = floats;
}

/* Buffers of at least this many floats (4 MB) ask for transparent huge pages (mmap'd, so their
 * 2 MB-aligned interior takes them): the Winograd scratch of a VAE layer is tens of MB, and its
 * first touch a fault per 4 kB page (~3 % of a decode in perf on this VM) where a huge page
 * takes one per 2 MB. */
#define SCR_HUGE ((size_t)1 << 20)

/* n floats of the slot's buffer, or NULL when it cannot grow (nothing is recorded: the caller
 * does, as above). */
static float *scratch(int slot, size_t n) {
  if (n > scr_cap[slot]) {
    pages_free(scr_buf[slot], scr_cap[slot] * sizeof(float));
    scr_buf[slot] = NULL;
    scr_cap[slot] = 0;
    size_t cap = (n + 15) & ~(size_t)15;
    int huge = cap >= SCR_HUGE;
    if (huge) cap = (cap + SCR_HUGE / 2 - 1) / (SCR_HUGE / 2) * (SCR_HUGE / 2);
    /* pages: a2i2a_release_scratch after every picture's encode leaves the heap as it was */
    float *p = scr_refuse || cap > SIZE_MAX / sizeof(float) ? NULL : pages_alloc(cap * sizeof(float));
    if (!p) return NULL;
    if (huge) madvise(p, cap * sizeof(float), MADV_HUGEPAGE);
    scr_buf[slot] = p;
    scr_cap[slot] = cap;
  }
  return scr_buf[slot];
}

void kernels_reset(void) { scr_failed = 0; }

a2i2a_status kernels_check(void) {
  if (!scr_failed) return A2I2A_OK;
  size_t floats = scr_failed;
  scr_failed = 0;
  return fail(A2I2A_ERR_NOMEM, "out of memory: kernel scratch of %zu MB", (floats * sizeof(float) + (1u << 20) - 1) >> 20);
}


static void release_own_scratch(void) {
  for (int k = 0; k < SCR_N; k++) pages_free(scr_buf[k], scr_cap[k] * sizeof(float)), scr_buf[k] = NULL, scr_cap[k] = 0;
}

void a2i2a_release_scratch(void) {
  release_own_scratch();
  /* each thread of this thread's OpenMP team (the team the kernels use) frees its own */
#pragma omp parallel num_threads(a2i2a_get_threads())
  release_own_scratch();
}

/* on this thread and on each thread of its OpenMP team, like a2i2a_release_scratch: a kernel's
 * workers refuse too, whichever part of the work each one takes */
void kernels_refuse_scratch(int on) {
  scr_refuse = on;
#pragma omp parallel num_threads(a2i2a_get_threads())
  scr_refuse = on;
}

/* ------------------------------------------------------------------ weights */

a2i2a_status weight_from_tensor(weight *w, const st_tensor *t, size_t numel) {
  memset(w, 0, sizeof *w);
  if (!t) return fail(A2I2A_ERR_MODEL, "missing tensor");
  if (t->dtype != ST_F32 && t->dtype != ST_F16 && t->dtype != ST_BF16)
    return fail(A2I2A_ERR_MODEL, "tensor %s: dtype %s, expected F32, F16 or BF16", t->name,
                st_dtype_name(t->dtype));
  if (numel && t->numel != numel)
    return fail(A2I2A_ERR_MODEL, "tensor %s: %zu values, expected %zu", t->name, t->numel, numel);
  w->dtype = t->dtype;
  w->data = t->data;
  w->numel = t->numel;
  w->ndim = t->ndim > 4 ? 4 : t->ndim;
  for (int i = 0; i < w->ndim; i++) w->shape[i] = t->shape[i];
  return A2I2A_OK;
}

/* 8 values (F16, BF16 or F32, as t says) from p as float32. */
static inline __m256 load8_f32(const uint8_t *p, st_dtype t) {
  if (t == ST_F16) return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
  if (t == ST_BF16)
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)), 16));
  return _mm256_loadu_ps((const float *)p);
}

/* One value from p as float32. */
static inline float load1_f32(const uint8_t *p, st_dtype t) {
  uint16_t h;
  if (t == ST_F32) {
    float f;
    memcpy(&f, p, 4);
    return f;
  }
  memcpy(&h, p, 2);
  return t == ST_F16 ? f16_to_f32(h) : bf16_to_f32(h);
}

/* Values [begin, end) of w into dst[0 .. end-begin). */
static void convert_range(const weight *w, float *dst, size_t begin, size_t end) {
  size_t es = st_dtype_size(w->dtype), i = 0;
  const uint8_t *p = (const uint8_t *)w->data + es * begin;
  end -= begin;
  if (w->dtype == ST_F32) {
    memcpy(dst, p, end * 4);
    return;
  }
  if (w->dtype == ST_F16) /* one loop per type: the type test out of the loop */
    for (; i + 8 <= end; i += 8) _mm256_storeu_ps(dst + i, load8_f32(p + 2 * i, ST_F16));
  else
    for (; i + 8 <= end; i += 8) _mm256_storeu_ps(dst + i, load8_f32(p + 2 * i, ST_BF16));
  for (; i < end; i++) dst[i] = load1_f32(p + es * i, w->dtype);
}

void weight_to_f32(const weight *w, float *dst) {
  size_t n = w->numel;
  if (n < (1u << 16) || omp_in_parallel()) {
    convert_range(w, dst, 0, n);
    return;
  }
  int nt = a2i2a_get_threads();
#pragma omp parallel for num_threads(nt)
  for (int t = 0; t < nt; t++) {
    size_t b = n * t / nt & ~(size_t)7, e = t == nt - 1 ? n : n * (t + 1) / nt & ~(size_t)7;
    convert_range(w, dst + b, b, e);
  }
}

/* The weight as float32: the mapped data itself when it is aligned F32, else a copy in slot.
 * NULL (recorded) when the scratch cannot grow. Called outside parallel regions only. */
static const float *weight_f32(const weight *w, int slot) {
  if (w->dtype == ST_F32 && ((uintptr_t)w->data & 3) == 0) return w->data;
  float *dst = scratch(slot, w->numel);
  if (!dst) return note_failure(w->numel), NULL;
  weight_to_f32(w, dst);
  return dst;
}

static inline int present(const weight *w) { return w && w->data; }

/* A per-channel vector (norm gamma/beta) as float32; absent = all fill. */
static const float *vector_f32(const weight *w, int slot, int n, float fill) {
  if (present(w)) return weight_f32(w, slot);
  float *d = scratch(slot, (size_t)n);
  if (!d) return note_failure((size_t)n), NULL;
  for (int i = 0; i < n; i++) d[i] = fill;
  return d;
}

/* ------------------------------------------------------------------ linear, conv */

/* Products with a weight matrix W [M][K] (row-major, possibly F16/BF16). The threads split W's
 * rows into blocks; each converts its block into its own scratch (it stays in cache) and runs a
 * one-thread sgemm on it, so a half-precision checkpoint is read once per use and never expanded
 * to float32 in memory, and no thread waits on another inside the product.
 *   as_conv:   y[M][N] (ldc) = W · B,   B [K][N] (ldb)          (convolutions, 1x1 convs)
 *   otherwise: y[N][M] (ldc) = B · Wᵀ,  B [N][K] (ldb)          (linear layers)
 * beta 0 overwrites y, 1 accumulates into it. */
static void weight_gemm(int as_conv, int M, int N, int K, const weight *w, const float *B, int ldb, float beta,
                        float *y, int ldc) {
  int nt = omp_in_parallel() ? 1 : a2i2a_get_threads();
  int direct = w->dtype == ST_F32 && ((uintptr_t)w->data & 3) == 0;
  /* blocks of ~192 rows, a multiple of the thread count so that none idles at the end (one
   * block per thread, or the whole weight converted and threaded by OpenBLAS, measured slower) */
  int per = 192, nblk = nt * ((M + nt * per - 1) / (nt * per));
  if (nblk > M) nblk = M;
  if ((double)M * N * K < 4e6 || M < 32 * nt) {
    /* small products, or too few rows to share: one sgemm (OpenBLAS threads it over N) */
    const float *wf = weight_f32(w, SCR_WEIGHT);
    if (!wf) return;
    if (as_conv)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, wf, K, B, ldb, beta, y, ldc);
    else
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, M, K, 1.0f, B, ldb, wf, K, beta, y, ldc);
    return;
  }
  size_t oom = 0;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && nblk > 1)
  for (int bi = 0; bi < nblk; bi++) {
    int o0 = (int)((long)M * bi / nblk), o1 = (int)((long)M * (bi + 1) / nblk), ob = o1 - o0;
    if (ob <= 0) continue;
    const float *wb;
    if (direct) {
      wb = (const float *)w->data + (size_t)o0 * K;
    } else {
      float *d = scratch(SCR_WEIGHT, (size_t)ob * K);
      if (!d) {
#pragma omp atomic write
        oom = (size_t)ob * K;
        continue;
      }
      convert_range(w, d, (size_t)o0 * K, (size_t)o1 * K);
      wb = d;
    }
    if (as_conv)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, ob, N, K, 1.0f, wb, K, B, ldb, beta, y + (size_t)o0 * ldc,
                  ldc);
    else
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, ob, K, 1.0f, B, ldb, wb, K, beta, y + o0, ldc);
  }
  if (oom) note_failure(oom);
}

static void linear_impl(float *y, const float *x, int n, int in, int out, const weight *W, const weight *b,
                        int accumulate) {
  float beta = accumulate ? 1.0f : 0.0f;
  if (present(b)) {
    const float *bias = weight_f32(b, SCR_BIAS);
    if (!bias) return;
    for (int i = 0; i < n; i++) {
      float *yr = y + (size_t)i * out;
      if (accumulate)
        for (int o = 0; o < out; o++) yr[o] += bias[o];
      else
        memcpy(yr, bias, (size_t)out * sizeof(float));
    }
    beta = 1;
  }
  weight_gemm(0, out, n, in, W, x, in, beta, y, out);
}

void linear(float *y, const float *x, int n, int in, int out, const weight *W, const weight *b) {
  linear_impl(y, x, n, in, out, W, b, 0);
}

void linear_add(float *y, const float *x, int n, int in, int out, const weight *W, const weight *b) {
  linear_impl(y, x, n, in, out, W, b, 1);
}

/* Column budget of one im2col tile, in floats: big enough for sgemm to run near its peak,
 * small enough that a 512x512 VAE layer does not need a gigabyte of columns. */
#define COL_BUDGET (6u << 20)

/* ------------------------------------------------------------------ Winograd F(2x2, 3x3)
 *
 * 3x3 stride-1 pad-1 convolutions with enough channels: each 2x2 output tile comes from a 4x4
 * input patch d as Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A. The products over input channels become 16
 * GEMMs (one per position of the 4x4 transform domain), 2.25x fewer multiplications than the
 * direct convolution. The transforms only add, subtract and halve, so the rounding error
 * stays at the level of the direct sum. Tiles are processed in chunks to bound the scratch. */

/* Floats of V and M scratch per chunk of tiles, and the channel count below which the 16 small
 * GEMMs lose to one im2col GEMM (kernels_tune changes both, for tests and benchmarks). */
static size_t wino_budget = 8u << 20;
static int wino_min_c = 16;

/* Below this many output pixels (per image) the filter transform (16·OC·C values per call) and
 * the small per-position GEMMs cost more than the 2.25x fewer multiplications save. On the SD 1.5
 * UNet at 400x296 (latent 37x50: maps of 1850, 475, 130 and 35 pixels), with the filters
 * transformed 8 at a time and a batch's tiles sharing the GEMMs, Winograd on the 1850- and
 * 475-pixel maps took an evaluation from 2.6 to 2.3 s (2.2 s per image of a guided pair); on the
 * 130-pixel maps too it was slower again (2.7-3.2 s). At 512x512 and in the VAE it is even.
 * With F(4x4,3x3) (36·OC·C transformed values per call) the 130-pixel maps lose too: 4.25 against
 * 3.69 CPU-s per image of a guided pair (bench/RESULTS.md, issue 16). */
static size_t wino_min_pixels = 400;

void kernels_tune_winograd_min_pixels(size_t pixels) { wino_min_pixels = pixels ? pixels : 400; }

/* Smallest output (pixels per image) that takes F(4x4,3x3) instead of F(2x2,3x3): by default every
 * map large enough for Winograd (faster on the UNet and the VAE as a whole, bench/RESULTS.md).
 * Thread-local: a job (or a test) that sets it changes only its own convolutions. */
#define WINO4_MIN_PIXELS 400
static _Thread_local size_t wino4_min_pixels = WINO4_MIN_PIXELS;

void kernels_tune_winograd_f4(size_t min_pixels) { wino4_min_pixels = min_pixels ? min_pixels : WINO4_MIN_PIXELS; }

void kernels_tune(int winograd_min_channels, size_t winograd_budget) {
  wino_min_c = winograd_min_channels > 0 ? winograd_min_channels : 16;
  wino_budget = winograd_budget ? winograd_budget : 8u << 20;
}

/* G g Gᵀ of 8 filters side by side (gv: their 9 taps, row by row), F(2x2,3x3): u[16] */
static inline void wino2_filter8(const __m256 *gv, __m256 *u) {
  const __m256 half = _mm256_set1_ps(0.5f);
  __m256 t[4][3];
  for (int j = 0; j < 3; j++) {
    t[0][j] = gv[j];
    t[1][j] = _mm256_mul_ps(half, _mm256_add_ps(_mm256_add_ps(gv[j], gv[3 + j]), gv[6 + j]));
    t[2][j] = _mm256_mul_ps(half, _mm256_add_ps(_mm256_sub_ps(gv[j], gv[3 + j]), gv[6 + j]));
    t[3][j] = gv[6 + j];
  }
  for (int i = 0; i < 4; i++) {
    u[i * 4 + 0] = t[i][0];
    u[i * 4 + 1] = _mm256_mul_ps(half, _mm256_add_ps(_mm256_add_ps(t[i][0], t[i][1]), t[i][2]));
    u[i * 4 + 2] = _mm256_mul_ps(half, _mm256_add_ps(_mm256_sub_ps(t[i][0], t[i][1]), t[i][2]));
    u[i * 4 + 3] = t[i][2];
  }
}

/* The 9 taps of the 8 filters at g, g + 9, ..., g + 63 (a [OC][C][3][3] weight), one vector a tap. */
static inline void gather8_filters(const float *g, __m256 *gv) {
  const __m256i idx = _mm256_setr_epi32(0, 9, 18, 27, 36, 45, 54, 63);
  for (int j = 0; j < 9; j++) gv[j] = _mm256_i32gather_ps(g + j, idx, 4);
}

/* U[16][OC][C] = G g Gᵀ for every filter g [3][3]; 8 filters at a time (gathered: they are 9
 * floats apart), then the rest one by one. */
static void wino_weights(float *U, const float *w, int OC, int C) {
  size_t oc_c = (size_t)OC * C, f = 0;
  for (; f + 8 <= oc_c; f += 8) {
    const float *g = w + f * 9;
    __m256 gv[9], u[16];
    gather8_filters(g, gv);
    wino2_filter8(gv, u);
    for (int q = 0; q < 16; q++) _mm256_storeu_ps(U + (size_t)q * oc_c + f, u[q]);
  }
  for (; f < oc_c; f++) {
    const float *g = w + f * 9;
    float t[4][3]; /* G g */
    for (int j = 0; j < 3; j++) {
      t[0][j] = g[j];
      t[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
      t[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
      t[3][j] = g[6 + j];
    }
    for (int i = 0; i < 4; i++) { /* (G g) Gᵀ */
      float u0 = t[i][0], u1 = 0.5f * (t[i][0] + t[i][1] + t[i][2]), u2 = 0.5f * (t[i][0] - t[i][1] + t[i][2]),
            u3 = t[i][2];
      U[(size_t)(i * 4 + 0) * oc_c + f] = u0;
      U[(size_t)(i * 4 + 1) * oc_c + f] = u1;
      U[(size_t)(i * 4 + 2) * oc_c + f] = u2;
      U[(size_t)(i * 4 + 3) * oc_c + f] = u3;
    }
  }
}

/* p[0..17] -> evens p[0], p[2], ..., p[14] and odds p[1], ..., p[15] */
static inline void deinterleave(const float *p, __m256 *ev, __m256 *od) {
  __m256 a = _mm256_loadu_ps(p), b = _mm256_loadu_ps(p + 8);
  __m256 e = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)), o = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
  *ev = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0)));
  *od = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o), _MM_SHUFFLE(3, 1, 2, 0)));
}

/* ------------------------------------------------------------------ Winograd F(4x4, 3x3)
 *
 * The same scheme with 4x4 output tiles from 6x6 input patches (Lavin & Gray's matrices, points
 * 0, ±1, ±2): 36 GEMMs, 4x fewer multiplications than the direct convolution (F(2x2,3x3): 2.25x).
 * The transforms now multiply by up to 8 (input, output) and 1/24 (filter), so the float32
 * rounding error grows (measured against im2col in bench/RESULTS.md); it is taken on maps large
 * enough that the 36·OC·C transformed filter values are re-used over many tiles. */

/* U[36][OC][C] = G g Gᵀ, G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6;
 * 1/24 -1/12 1/6; 0 0 1]; 8 filters at a time, then the rest one by one. */
static inline void wino4_g(__m256 g0, __m256 g1, __m256 g2, __m256 *r) {
  const __m256 q4 = _mm256_set1_ps(0.25f), m6 = _mm256_set1_ps(-1.0f / 6), d24 = _mm256_set1_ps(1.0f / 24),
               d12 = _mm256_set1_ps(1.0f / 12), d6 = _mm256_set1_ps(1.0f / 6);
  __m256 s = _mm256_add_ps(g0, g2), p = _mm256_fmadd_ps(g0, d24, _mm256_mul_ps(g2, d6)), q = _mm256_mul_ps(g1, d12);
  r[0] = _mm256_mul_ps(g0, q4);
  r[1] = _mm256_mul_ps(_mm256_add_ps(s, g1), m6);
  r[2] = _mm256_mul_ps(_mm256_sub_ps(s, g1), m6);
  r[3] = _mm256_add_ps(p, q);
  r[4] = _mm256_sub_ps(p, q);
  r[5] = g2;
}

/* the same operations on one filter (so that a filter's transform does not depend on whether it
 * falls in a group of 8, i.e. on the thread count) */
static inline void wino4_g1(float g0, float g1, float g2, float *r) {
  float s = g0 + g2, p = fmaf(g0, 1.0f / 24, g2 * (1.0f / 6)), q = g1 * (1.0f / 12);
  r[0] = g0 * 0.25f, r[1] = (s + g1) * (-1.0f / 6), r[2] = (s - g1) * (-1.0f / 6), r[3] = p + q, r[4] = p - q;
  r[5] = g2;
}

/* G g Gᵀ of 8 filters side by side (gv: their 9 taps), F(4x4,3x3): u[36] */
static inline void wino4_filter8(const __m256 *gv, __m256 *u) {
  __m256 t[3][6];
  for (int j = 0; j < 3; j++) wino4_g(gv[j], gv[3 + j], gv[6 + j], t[j]); /* G g, column j */
  for (int i = 0; i < 6; i++) wino4_g(t[0][i], t[1][i], t[2][i], u + i * 6); /* (G g) Gᵀ, row i */
}

static void wino4_weights(float *U, const float *w, int OC, int C) {
  size_t oc_c = (size_t)OC * C, f = 0;
  for (; f + 8 <= oc_c; f += 8) {
    const float *g = w + f * 9;
    __m256 gv[9], u[36];
    gather8_filters(g, gv);
    wino4_filter8(gv, u);
    for (int q = 0; q < 36; q++) _mm256_storeu_ps(U + (size_t)q * oc_c + f, u[q]);
  }
  for (; f < oc_c; f++) {
    const float *g = w + f * 9;
    float t[6][3];
    for (int j = 0; j < 3; j++) {
      float r[6];
      wino4_g1(g[j], g[3 + j], g[6 + j], r);
      for (int i = 0; i < 6; i++) t[i][j] = r[i];
    }
    for (int i = 0; i < 6; i++) {
      float u[6];
      wino4_g1(t[i][0], t[i][1], t[i][2], u);
      for (int j = 0; j < 6; j++) U[(size_t)(i * 6 + j) * oc_c + f] = u[j];
    }
  }
}

/* 4 vectors of 4 values per 128-bit lane, transposed within each lane */
static inline void transpose4_lanes(__m256 a0, __m256 a1, __m256 a2, __m256 a3, __m256 *o) {
  __m256 t0 = _mm256_unpacklo_ps(a0, a1), t1 = _mm256_unpackhi_ps(a0, a1);
  __m256 t2 = _mm256_unpacklo_ps(a2, a3), t3 = _mm256_unpackhi_ps(a2, a3);
  o[0] = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
  o[1] = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
  o[2] = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
  o[3] = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
}

/* p[4l + j] for the 8 tiles l, j = 0..3 (the first 4 values of each 4-float group) */
static inline void stride4_gather(const float *p, __m256 *d) {
  __m256 v0 = _mm256_loadu_ps(p), v1 = _mm256_loadu_ps(p + 8), v2 = _mm256_loadu_ps(p + 16),
         v3 = _mm256_loadu_ps(p + 24);
  transpose4_lanes(_mm256_permute2f128_ps(v0, v2, 0x20), _mm256_permute2f128_ps(v0, v2, 0x31),
                   _mm256_permute2f128_ps(v1, v3, 0x20), _mm256_permute2f128_ps(v1, v3, 0x31), d);
}

/* Bᵀ x for one column or row of 6, Bᵀ = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0;
 * 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1] */
static inline void wino4_bt(const __m256 *x, __m256 *y) {
  const __m256 four = _mm256_set1_ps(4.0f), five = _mm256_set1_ps(5.0f);
  __m256 a = _mm256_fnmadd_ps(four, x[2], x[4]), b = _mm256_fnmadd_ps(four, x[1], x[3]);
  __m256 c = _mm256_sub_ps(x[4], x[2]), e = _mm256_sub_ps(x[3], x[1]);
  e = _mm256_add_ps(e, e);
  y[0] = _mm256_fmadd_ps(four, x[0], _mm256_fnmadd_ps(five, x[2], x[4]));
  y[1] = _mm256_add_ps(a, b);
  y[2] = _mm256_sub_ps(a, b);
  y[3] = _mm256_add_ps(c, e);
  y[4] = _mm256_sub_ps(c, e);
  y[5] = _mm256_fmadd_ps(four, x[1], _mm256_fnmadd_ps(five, x[3], x[5]));
}

/* Aᵀ m for one column or row of 6, Aᵀ = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1] */
static inline void wino4_at(const __m256 *m, __m256 *o) {
  __m256 s12 = _mm256_add_ps(m[1], m[2]), d12 = _mm256_sub_ps(m[1], m[2]);
  __m256 s34 = _mm256_add_ps(m[3], m[4]), d34 = _mm256_sub_ps(m[3], m[4]);
  o[0] = _mm256_add_ps(_mm256_add_ps(m[0], s12), s34);
  o[1] = _mm256_fmadd_ps(_mm256_set1_ps(2.0f), d34, d12);
  o[2] = _mm256_fmadd_ps(_mm256_set1_ps(4.0f), s34, s12);
  o[3] = _mm256_add_ps(_mm256_fmadd_ps(_mm256_set1_ps(8.0f), d34, d12), m[5]);
}

static inline void wino4_at1(const float *m, float *o) {
  float s12 = m[1] + m[2], d12 = m[1] - m[2], s34 = m[3] + m[4], d34 = m[3] - m[4];
  o[0] = m[0] + s12 + s34;
  o[1] = fmaf(2.0f, d34, d12);
  o[2] = fmaf(4.0f, s34, s12);
  o[3] = fmaf(8.0f, d34, d12) + m[5];
}

/* Bᵀ d B of 8 tiles side by side, F(2x2,3x3): rb holds the tile row's 4 input rows (rl apart),
 * tile tx's patch starting at column 2·tx */
static inline void wino2_input(const float *rb, int rl, int tx, __m256 *r) {
  __m256 d[4][4];
  for (int i = 0; i < 4; i++) {
    deinterleave(rb + i * rl + 2 * tx, &d[i][0], &d[i][1]);
    deinterleave(rb + i * rl + 2 * tx + 2, &d[i][2], &d[i][3]);
  }
  for (int j = 0; j < 4; j++) { /* Bᵀ d, in place in rows 0..3 */
    __m256 b0 = _mm256_sub_ps(d[0][j], d[2][j]), b1 = _mm256_add_ps(d[1][j], d[2][j]);
    __m256 b2 = _mm256_sub_ps(d[2][j], d[1][j]), b3 = _mm256_sub_ps(d[1][j], d[3][j]);
    d[0][j] = b0, d[1][j] = b1, d[2][j] = b2, d[3][j] = b3;
  }
  for (int i = 0; i < 4; i++) {
    r[i * 4 + 0] = _mm256_sub_ps(d[i][0], d[i][2]);
    r[i * 4 + 1] = _mm256_add_ps(d[i][1], d[i][2]);
    r[i * 4 + 2] = _mm256_sub_ps(d[i][2], d[i][1]);
    r[i * 4 + 3] = _mm256_sub_ps(d[i][1], d[i][3]);
  }
}

/* the same for F(4x4,3x3): 6 input rows, patches starting at column 4·tx */
static inline void wino4_input(const float *rb, int rl, int tx, __m256 *r) {
  __m256 d[6][6], col[6], t[6];
  for (int i = 0; i < 6; i++) {
    const float *p = rb + i * rl + 4 * tx;
    __m256 next[4];
    stride4_gather(p, d[i]);
    stride4_gather(p + 4, next); /* columns 4 and 5 of a patch are columns 0 and 1 of the next */
    d[i][4] = next[0], d[i][5] = next[1];
  }
  for (int j = 0; j < 6; j++) { /* Bᵀ d, column by column */
    for (int i = 0; i < 6; i++) col[i] = d[i][j];
    wino4_bt(col, t);
    for (int i = 0; i < 6; i++) d[i][j] = t[i];
  }
  for (int i = 0; i < 6; i++) wino4_bt(d[i], r + i * 6); /* (Bᵀ d) B, row by row */
}

/* Y = Aᵀ m A (+ bias) for output channels [o0, o1) from their block's M [16][ob][tn] (tiles t0 ..
 * t0 + tn - 1 of the batch), F(2x2,3x3); accumulate: y += Y. */
static void wino2_output(float *y, const float *M, int ob, int tn, int o0, int o1, const float *bias, int t0, int ty0,
                         int ty1, int TH, int TW, int OH, int OW, size_t ohw, size_t ycs, int accumulate) {
  /* 8 tiles at a time where they are whole */
  for (int o = o0; o < o1; o++) {
    float bo = bias ? bias[o] : 0.0f;
    size_t ks = (size_t)ob * tn;
    const __m256 vb = _mm256_set1_ps(bo);
    for (int gy = ty0; gy <= ty1; gy++) {
      int bi = gy / TH, ty = gy % TH, oy = 2 * ty;
      int txa = gy == ty0 ? t0 % TW : 0, txb = gy == ty1 ? (t0 + tn - 1) % TW + 1 : TW;
      int ti0 = gy * TW - t0, tx = txa;
      float *yo = y + (size_t)o * ycs + bi * ohw;
      for (; tx + 8 <= txb && 2 * (tx + 8) <= OW; tx += 8) {
        const float *m = M + (size_t)(o - o0) * tn + ti0 + tx;
        __m256 r[2][4];
        for (int j = 0; j < 4; j++) {
          __m256 m0 = _mm256_loadu_ps(m + (0 + j) * ks), m1 = _mm256_loadu_ps(m + (4 + j) * ks);
          __m256 m2 = _mm256_loadu_ps(m + (8 + j) * ks), m3 = _mm256_loadu_ps(m + (12 + j) * ks);
          r[0][j] = _mm256_add_ps(_mm256_add_ps(m0, m1), m2);
          r[1][j] = _mm256_sub_ps(_mm256_sub_ps(m1, m2), m3);
        }
        for (int i = 0; i < 2 && oy + i < OH; i++) {
          __m256 y0 = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(r[i][0], r[i][1]), r[i][2]), vb);
          __m256 y1 = _mm256_add_ps(_mm256_sub_ps(_mm256_sub_ps(r[i][1], r[i][2]), r[i][3]), vb);
          __m256 lo = _mm256_unpacklo_ps(y0, y1), hi = _mm256_unpackhi_ps(y0, y1);
          __m256 first = _mm256_permute2f128_ps(lo, hi, 0x20), second = _mm256_permute2f128_ps(lo, hi, 0x31);
          float *yr = yo + (size_t)(oy + i) * OW + 2 * tx;
          if (accumulate) {
            first = _mm256_add_ps(first, _mm256_loadu_ps(yr));
            second = _mm256_add_ps(second, _mm256_loadu_ps(yr + 8));
          }
          _mm256_storeu_ps(yr, first);
          _mm256_storeu_ps(yr + 8, second);
        }
      }
      for (; tx < txb; tx++) {
        const float *m = M + (size_t)(o - o0) * tn + ti0 + tx;
        int ox = 2 * tx;
        float r[2][4];
        for (int j = 0; j < 4; j++) {
          float m0 = m[(0 + j) * ks], m1 = m[(4 + j) * ks], m2 = m[(8 + j) * ks], m3 = m[(12 + j) * ks];
          r[0][j] = m0 + m1 + m2;
          r[1][j] = m1 - m2 - m3;
        }
        for (int i = 0; i < 2 && oy + i < OH; i++) {
          float y0 = r[i][0] + r[i][1] + r[i][2] + bo, y1 = r[i][1] - r[i][2] - r[i][3] + bo;
          float *yr = yo + (size_t)(oy + i) * OW + ox;
          if (accumulate) {
            yr[0] += y0;
            if (ox + 1 < OW) yr[1] += y1;
          } else {
            yr[0] = y0;
            if (ox + 1 < OW) yr[1] = y1;
          }
        }
      }
    }
  }
}

/* the same for F(4x4,3x3), M [36][ob][tn] */
static void wino4_output(float *y, const float *M, int ob, int tn, int o0, int o1, const float *bias, int t0, int ty0,
                         int ty1, int TH, int TW, int OH, int OW, size_t ohw, size_t ycs, int accumulate) {
  size_t ks = (size_t)ob * tn;
  for (int o = o0; o < o1; o++) {
    float bo = bias ? bias[o] : 0.0f;
    const __m256 vb = _mm256_set1_ps(bo);
    for (int gy = ty0; gy <= ty1; gy++) {
      int bi = gy / TH, ty = gy % TH, oy = 4 * ty, nrow = OH - oy < 4 ? OH - oy : 4;
      int txa = gy == ty0 ? t0 % TW : 0, txb = gy == ty1 ? (t0 + tn - 1) % TW + 1 : TW;
      int ti0 = gy * TW - t0, tx = txa;
      float *yo = y + (size_t)o * ycs + bi * ohw;
      for (; tx + 8 <= txb && 4 * (tx + 8) <= OW; tx += 8) {
        const float *mp = M + (size_t)(o - o0) * tn + ti0 + tx;
        __m256 mv[6], r[4][6], col[4], out[4];
        for (int j = 0; j < 6; j++) { /* Aᵀ m, column by column */
          for (int i = 0; i < 6; i++) mv[i] = _mm256_loadu_ps(mp + (i * 6 + j) * ks);
          wino4_at(mv, col);
          for (int i = 0; i < 4; i++) r[i][j] = col[i];
        }
        for (int i = 0; i < nrow; i++) { /* (Aᵀ m) A, row by row; 8 tiles' 4 values interleaved */
          __m256 v[4], t[4];
          wino4_at(r[i], v);
          for (int j = 0; j < 4; j++) v[j] = _mm256_add_ps(v[j], vb);
          transpose4_lanes(v[0], v[1], v[2], v[3], t);
          out[0] = _mm256_permute2f128_ps(t[0], t[1], 0x20), out[1] = _mm256_permute2f128_ps(t[2], t[3], 0x20);
          out[2] = _mm256_permute2f128_ps(t[0], t[1], 0x31), out[3] = _mm256_permute2f128_ps(t[2], t[3], 0x31);
          float *yr = yo + (size_t)(oy + i) * OW + 4 * tx;
          for (int q = 0; q < 4; q++) {
            if (accumulate) out[q] = _mm256_add_ps(out[q], _mm256_loadu_ps(yr + 8 * q));
            _mm256_storeu_ps(yr + 8 * q, out[q]);
          }
        }
      }
      for (; tx < txb; tx++) {
        const float *mp = M + (size_t)(o - o0) * tn + ti0 + tx;
        int ox = 4 * tx, ncol = OW - ox < 4 ? OW - ox : 4;
        float mv[6], r[4][6], col[4];
        for (int j = 0; j < 6; j++) {
          for (int i = 0; i < 6; i++) mv[i] = mp[(i * 6 + j) * ks];
          wino4_at1(mv, col);
          for (int i = 0; i < 4; i++) r[i][j] = col[i];
        }
        for (int i = 0; i < nrow; i++) {
          float v[4], *yr = yo + (size_t)(oy + i) * OW + ox;
          wino4_at1(r[i], v);
          for (int j = 0; j < ncol; j++) yr[j] = (accumulate ? yr[j] : 0.0f) + (v[j] + bo);
        }
      }
    }
  }
}

static void silu_affine_row(float *y, const float *x, int n, float a, float b);

/* The transformed filters U [(m+2)²][o1 - o0][C] of output channels [o0, o1) (converted to
 * float32 first unless they are aligned F32); 0 when the conversion scratch cannot grow. */
static int wino_block_filters(float *U, const weight *w, int o0, int o1, int C, int m) {
  const float *wb;
  if (w->dtype == ST_F32 && ((uintptr_t)w->data & 3) == 0) {
    wb = (const float *)w->data + (size_t)o0 * C * 9;
  } else {
    float *d = scratch(SCR_WEIGHT, (size_t)(o1 - o0) * C * 9);
    if (!d) return 0;
    convert_range(w, d, (size_t)o0 * C * 9, (size_t)o1 * C * 9);
    wb = d;
  }
  if (m == 2) wino_weights(U, wb, o1 - o0, C);
  else wino4_weights(U, wb, o1 - o0, C);
  return 1;
}

/* The block of transformed filters a thread's U scratch holds: with one block per thread (as
 * many blocks as threads) the chunks of tiles after a call's first find their filters there
 * instead of converting and transforming them again (the VAE's 512-channel layers at 148x200 take
 * 5 chunks, its 256-channel upsampling convolution 9; the transform was 5 % of a decode). The
 * call is named by the calling thread (the address of its counter) and the counter, so that a
 * block is never taken from another call, whose weights may have changed since. */
typedef struct {
  const float *U;
  const void *caller;
  size_t call;
  int o0, o1;
} wu_block;
static _Thread_local wu_block wu_held;
static _Thread_local size_t wino_calls;
/* ------------------------------------------------------------------ Winograd on small maps
 *
 * Below wino_min_pixels a call's transformed filters (P·OC·C values: 236 MB for a 1280-channel
 * F(4x4) layer) would be written out and read back for only 8-70 tiles. Here each block of
 * FUSED_OB output channels converts and transforms its filters FUSED_CC input channels at a time
 * into a piece that stays in L2 (36·32·64 floats: 295 KB), multiplies it at once into the block's
 * M with a register-tiled kernel (16 channels x up to 6 tiles), and transforms its outputs back:
 * the transformed filters never reach memory and each piece is read once by the product. */
/* Kernels compiled for AVX-512 beside the build's AVX2 floor, chosen at run time where the CPU
 * has it: on a core with full-width 512-bit FMA units (AMD Zen 5, recent Xeons) that is twice the
 * multiply-adds per cycle. */
#define AVX512 __attribute__((target("avx512f")))

#define FUSED_OB 64 /* output channels per block (a multiple of 16) */
#define FUSED_CC 32 /* input channels per transformed piece */

/* Thread-local like wino4_min_pixels: the smallest input channel count that takes this path on
 * maps below wino_min_pixels, and the output tile side used there (0: 4x4 tiles from
 * WINO_FUSED_F4_MIN_PIXELS output pixels, 2x2 below). On the SD 1.5 UNet's 1280-channel layers (a
 * guided pair) it took 40-57 % less CPU than im2col on the 130- and 256-pixel maps (F(4x4)), 0-18 %
 * on the 35-pixel ones (F(2x2): F(4x4)'s 2x2 tiles of 5x7 waste most of their points). On the
 * 640-channel maps of 475 and 1024 pixels it was no faster than the whole-call transform above
 * with the weights read from memory (bench_conv3x3, bench/RESULTS.md). */
#define WINO_FUSED_MIN_C 256
#define WINO_FUSED_F4_MIN_PIXELS 100
static _Thread_local int wino_fused_min_c = WINO_FUSED_MIN_C, wino_fused_tile;
/* AVX-512 product kernel where the CPU has it (0: AVX2 only), and its tiles per group (<= 12) */
static _Thread_local int wino_avx512 = 1, wino_avx512_tiles = 12;

void kernels_tune_winograd_avx512(int on, int tiles) {
  wino_avx512 = on;
  wino_avx512_tiles = tiles >= 1 && tiles <= 12 ? tiles : 12;
}

/* With the AVX-512 product kernel the in-cache path also beats the whole-call transform and
 * OpenBLAS's GEMMs (its AVX2 kernels on this workplace's machines) on the larger maps of >= 256
 * channels: per convolution of the SD 1.5 UNet's 475- and 1850-pixel levels (a guided pair)
 * 7-67 % less CPU, at 512x512 17-37 %; the VAE's 512 channels at 64x64 11 %, at 128x128 20 % with
 * the tiles in chunks of WINO_FUSED_CHUNK (bench_conv3x3, bench/RESULTS.md). Above 128x128 (the
 * VAE's 256x256 and 512x512 maps) a whole decode was no faster within this machine's noise:
 * left to the whole-call path. */
#ifndef WINO_FUSED512_MAX_PIXELS
#define WINO_FUSED512_MAX_PIXELS 16384
#endif
#define WINO_FUSED_CHUNK 160
#define WINO_FUSED_CHUNK_FROM 1024

static int wino_takes_fused(int C, int OC, size_t ohw) {
  if (C < wino_fused_min_c || OC % 16) return 0;
  if (ohw < wino_min_pixels) return 1;
  return wino_avx512 && ohw <= WINO_FUSED512_MAX_PIXELS && __builtin_cpu_supports("avx512f");
}

void kernels_tune_winograd_fused(int min_channels, int tile) {
  wino_fused_min_c = min_channels ? min_channels : WINO_FUSED_MIN_C;
  wino_fused_tile = tile == 2 || tile == 4 ? tile : 0;
}

/* mo[t][0..15] (+)= Σ_c u[c][0..15] · v[c][t] for nr ≤ 6 tiles (u 32-byte aligned): 12
 * accumulators stay in registers over the cc input channels. */
static inline __attribute__((always_inline)) void fused_kernel(float *mo, int ms, const float *u, int us,
                                                               const float *v, int vs, int cc, int nr, int add) {
  __m256 acc[6][2];
#pragma GCC unroll 6
  for (int t = 0; t < 6; t++) acc[t][0] = acc[t][1] = _mm256_setzero_ps();
  for (int c = 0; c < cc; c++) {
    __m256 u0 = _mm256_load_ps(u + (size_t)c * us), u1 = _mm256_load_ps(u + (size_t)c * us + 8);
    const float *vc = v + (size_t)c * vs;
#pragma GCC unroll 6
    for (int t = 0; t < nr; t++) {
      __m256 b = _mm256_broadcast_ss(vc + t);
      acc[t][0] = _mm256_fmadd_ps(u0, b, acc[t][0]);
      acc[t][1] = _mm256_fmadd_ps(u1, b, acc[t][1]);
    }
  }
#pragma GCC unroll 6
  for (int t = 0; t < nr; t++) {
    float *m = mo + (size_t)t * ms;
    if (add) {
      acc[t][0] = _mm256_add_ps(acc[t][0], _mm256_loadu_ps(m));
      acc[t][1] = _mm256_add_ps(acc[t][1], _mm256_loadu_ps(m + 8));
    }
    _mm256_storeu_ps(m, acc[t][0]);
    _mm256_storeu_ps(m + 8, acc[t][1]);
  }
}

/* The same for 32 channels (two 16-float registers) x up to 12 tiles: 24 accumulators. Each
 * output value is the same chain of multiply-adds over c as in fused_kernel: the same bits. */
static inline AVX512 __attribute__((always_inline)) void fused_kernel512(float *mo, int ms, const float *u, int us,
                                                                         const float *v, int vs, int cc, int nr,
                                                                         int add) {
  __m512 acc[12][2];
#pragma GCC unroll 12
  for (int t = 0; t < 12; t++) acc[t][0] = acc[t][1] = _mm512_setzero_ps();
  for (int c = 0; c < cc; c++) {
    __m512 u0 = _mm512_loadu_ps(u + (size_t)c * us), u1 = _mm512_loadu_ps(u + (size_t)c * us + 16);
    const float *vc = v + (size_t)c * vs;
#pragma GCC unroll 12
    for (int t = 0; t < nr; t++) {
      __m512 b = _mm512_set1_ps(vc[t]);
      acc[t][0] = _mm512_fmadd_ps(u0, b, acc[t][0]);
      acc[t][1] = _mm512_fmadd_ps(u1, b, acc[t][1]);
    }
  }
#pragma GCC unroll 12
  for (int t = 0; t < nr; t++) {
    float *m = mo + (size_t)t * ms;
    if (add) {
      acc[t][0] = _mm512_add_ps(acc[t][0], _mm512_loadu_ps(m));
      acc[t][1] = _mm512_add_ps(acc[t][1], _mm512_loadu_ps(m + 16));
    }
    _mm512_storeu_ps(m, acc[t][0]);
    _mm512_storeu_ps(m + 16, acc[t][1]);
  }
}

static AVX512 void fused_kernel512_n(float *mo, int ms, const float *u, int us, const float *v, int vs, int cc,
                                     int nr, int add) {
  switch (nr) {
  case 1: fused_kernel512(mo, ms, u, us, v, vs, cc, 1, add); break;
  case 2: fused_kernel512(mo, ms, u, us, v, vs, cc, 2, add); break;
  case 3: fused_kernel512(mo, ms, u, us, v, vs, cc, 3, add); break;
  case 4: fused_kernel512(mo, ms, u, us, v, vs, cc, 4, add); break;
  case 5: fused_kernel512(mo, ms, u, us, v, vs, cc, 5, add); break;
  case 6: fused_kernel512(mo, ms, u, us, v, vs, cc, 6, add); break;
  case 7: fused_kernel512(mo, ms, u, us, v, vs, cc, 7, add); break;
  case 8: fused_kernel512(mo, ms, u, us, v, vs, cc, 8, add); break;
  case 9: fused_kernel512(mo, ms, u, us, v, vs, cc, 9, add); break;
  case 10: fused_kernel512(mo, ms, u, us, v, vs, cc, 10, add); break;
  case 11: fused_kernel512(mo, ms, u, us, v, vs, cc, 11, add); break;
  default: fused_kernel512(mo, ms, u, us, v, vs, cc, 12, add); break;
  }
}

static void fused_kernel_n(float *mo, int ms, const float *u, int us, const float *v, int vs, int cc, int nr,
                           int add) {
  switch (nr) { /* the tile count as a constant: the accumulators unrolled into registers */
  case 1: fused_kernel(mo, ms, u, us, v, vs, cc, 1, add); break;
  case 2: fused_kernel(mo, ms, u, us, v, vs, cc, 2, add); break;
  case 3: fused_kernel(mo, ms, u, us, v, vs, cc, 3, add); break;
  case 4: fused_kernel(mo, ms, u, us, v, vs, cc, 4, add); break;
  case 5: fused_kernel(mo, ms, u, us, v, vs, cc, 5, add); break;
  default: fused_kernel(mo, ms, u, us, v, vs, cc, 6, add); break;
  }
}

/* U[q][c][ob] (q uq floats apart) = G g Gᵀ of the filters Wc[ob / 8][cc][9][8] */
static void fused_filters2(float *U, size_t uq, const float *Wc, int ob, int cc) {
  for (int g = 0; g < ob; g += 8)
    for (int c = 0; c < cc; c++) {
      const float *gp = Wc + (size_t)g * cc * 9 + c * 72;
      __m256 gv[9], u[16];
      for (int j = 0; j < 9; j++) gv[j] = _mm256_load_ps(gp + j * 8);
      wino2_filter8(gv, u);
      for (int q = 0; q < 16; q++) _mm256_store_ps(U + q * uq + (size_t)c * ob + g, u[q]);
    }
}

static void fused_filters4(float *U, size_t uq, const float *Wc, int ob, int cc) {
  for (int g = 0; g < ob; g += 8)
    for (int c = 0; c < cc; c++) {
      const float *gp = Wc + (size_t)g * cc * 9 + c * 72;
      __m256 gv[9], u[36];
      for (int j = 0; j < 9; j++) gv[j] = _mm256_load_ps(gp + j * 8);
      wino4_filter8(gv, u);
      for (int q = 0; q < 36; q++) _mm256_store_ps(U + q * uq + (size_t)c * ob + g, u[q]);
    }
}

/* Y = Aᵀ m A (+ bias) of output channels [o0, o0 + ob) from M [tn][P][ms] (a tile's P points of
 * ms channels side by side; the block's channels from its start) for tiles t0 .. t0 + tn - 1;
 * accumulate: y += Y. */
static void wino_fused_output(float *y, const float *M, int ms, int o0, int ob, const float *bias, int tn, int t0,
                              int TH, int TW, int OH, int OW, size_t ohw, size_t ycs, int accumulate, int m) {
  const int P = (m + 2) * (m + 2);
  /* Y = Aᵀ m A, tile by tile, 8 output channels a vector; a whole 4x4 tile's rows are turned
   * into one 4-pixel vector per channel (4 stores a row instead of 32) */
  for (int ti = 0; ti < tn; ti++) {
    int gy = (t0 + ti) / TW, tx = (t0 + ti) % TW, bi = gy / TH, oy = m * (gy % TH), ox = m * tx;
    int nrow = OH - oy < m ? OH - oy : m, ncol = OW - ox < m ? OW - ox : m;
    const float *mt = M + (size_t)ti * P * ms;
    for (int g = 0; g < ob; g += 8) {
      const __m256 vb = bias ? _mm256_loadu_ps(bias + o0 + g) : _mm256_setzero_ps();
      __m256 mv[36], out[16];
      for (int q = 0; q < P; q++) mv[q] = _mm256_loadu_ps(mt + (size_t)q * ms + g);
      if (m == 4) {
        __m256 r[4][6], col[6], c4[4];
        for (int j = 0; j < 6; j++) {
          for (int i = 0; i < 6; i++) col[i] = mv[i * 6 + j];
          wino4_at(col, c4);
          for (int i = 0; i < 4; i++) r[i][j] = c4[i];
        }
        for (int i = 0; i < 4; i++) wino4_at(r[i], out + i * 4);
      } else {
        __m256 r[2][4];
        for (int j = 0; j < 4; j++) {
          r[0][j] = _mm256_add_ps(_mm256_add_ps(mv[j], mv[4 + j]), mv[8 + j]);
          r[1][j] = _mm256_sub_ps(_mm256_sub_ps(mv[4 + j], mv[8 + j]), mv[12 + j]);
        }
        for (int i = 0; i < 2; i++) {
          out[i * 2 + 0] = _mm256_add_ps(_mm256_add_ps(r[i][0], r[i][1]), r[i][2]);
          out[i * 2 + 1] = _mm256_sub_ps(_mm256_sub_ps(r[i][1], r[i][2]), r[i][3]);
        }
      }
      float *yt = y + (size_t)(o0 + g) * ycs + bi * ohw + (size_t)oy * OW + ox;
      if (m == 4 && ncol == 4) {
        for (int i = 0; i < nrow; i++) {
          /* the row's 4 pixels x 8 channels -> per channel l a vector of its 4 pixels (lane l & 3
           * of u[l & 3], in its low half for l < 4) */
          __m256 o0v = _mm256_add_ps(out[i * 4], vb), o1v = _mm256_add_ps(out[i * 4 + 1], vb),
                 o2v = _mm256_add_ps(out[i * 4 + 2], vb), o3v = _mm256_add_ps(out[i * 4 + 3], vb);
          __m256 lo01 = _mm256_unpacklo_ps(o0v, o1v), hi01 = _mm256_unpackhi_ps(o0v, o1v);
          __m256 lo23 = _mm256_unpacklo_ps(o2v, o3v), hi23 = _mm256_unpackhi_ps(o2v, o3v);
          __m256 u[4] = {_mm256_shuffle_ps(lo01, lo23, 0x44), _mm256_shuffle_ps(lo01, lo23, 0xEE),
                         _mm256_shuffle_ps(hi01, hi23, 0x44), _mm256_shuffle_ps(hi01, hi23, 0xEE)};
          float *yr = yt + (size_t)i * OW;
          for (int l = 0; l < 8; l++) {
            __m128 v = l < 4 ? _mm256_castps256_ps128(u[l]) : _mm256_extractf128_ps(u[l - 4], 1);
            float *yp = yr + (size_t)l * ycs;
            if (accumulate) v = _mm_add_ps(_mm_loadu_ps(yp), v);
            _mm_storeu_ps(yp, v);
          }
        }
        continue;
      }
      for (int i = 0; i < nrow; i++)
        for (int j = 0; j < ncol; j++) {
          float v8[8], *yp = yt + (size_t)i * OW + j;
          _mm256_storeu_ps(v8, _mm256_add_ps(out[i * m + j], vb));
          for (int l = 0; l < 8; l++) yp[l * ycs] = accumulate ? yp[l * ycs] + v8[l] : v8[l];
        }
    }
  }
}

/* One block of output channels [o0, o0 + ob) of a chunk of tn tiles (from t0), the input tiles
 * V [P][C][tn] transformed: y (+)= Aᵀ[(G g Gᵀ) ⊙ V]A + bias. avx512: 0, or the AVX-512 kernel's
 * tiles per group. Wc, U, M: the block's scratch. */
static void wino_fused_block(float *y, const float *V, const weight *w, const float *bias, int C, int o0, int ob,
                             int tn, int t0, int TH, int TW, int OH, int OW, size_t ohw, size_t ycs, int accumulate,
                             int m, int avx512, float *Wc, float *U, float *M) {
  const int P = (m + 2) * (m + 2);
  /* tiles in groups of at most 6, as even as possible (8 tiles: 4 + 4, not 6 + 2) */
  int ngroups = (tn + 5) / 6, ngroups512 = avx512 ? (tn + avx512 - 1) / avx512 : 0;
  for (int c0 = 0; c0 < C; c0 += FUSED_CC) {
    int cc = C - c0 < FUSED_CC ? C - c0 : FUSED_CC;
    /* Wc[ob / 8][cc·9][8]: the filters of 8 output channels side by side, converted and
     * transposed 8x8 values at a time */
    int n9 = cc * 9, n8 = n9 & ~7;
    st_dtype dt = w->dtype;
    size_t es = st_dtype_size(dt), rs = es * C * 9;
    for (int g = 0; g < ob; g += 8) {
      float *wg = Wc + (size_t)g * n9;
      const uint8_t *row = (const uint8_t *)w->data + es * ((size_t)(o0 + g) * C + c0) * 9;
      for (int i = 0; i < n8; i += 8) {
        __m256 r[8], t[8];
        for (int l = 0; l < 8; l++) r[l] = load8_f32(row + l * rs + es * i, dt);
        transpose4_lanes(r[0], r[1], r[2], r[3], t);
        transpose4_lanes(r[4], r[5], r[6], r[7], t + 4);
        for (int l = 0; l < 4; l++) {
          _mm256_store_ps(wg + (size_t)(i + l) * 8, _mm256_permute2f128_ps(t[l], t[4 + l], 0x20));
          _mm256_store_ps(wg + (size_t)(i + 4 + l) * 8, _mm256_permute2f128_ps(t[l], t[4 + l], 0x31));
        }
      }
      for (int i = n8; i < n9; i++)
        for (int l = 0; l < 8; l++) wg[(size_t)i * 8 + l] = load1_f32(row + l * rs + es * i, dt);
    }
    /* U[P][cc][ob], the points a cache line more than cc·ob floats apart (a multiple of 4 KB
     * would put the 36 stores of a filter group in one L1 set) */
    size_t uq = (size_t)cc * ob + 16;
    if (m == 2) fused_filters2(U, uq, Wc, ob, cc);
    else fused_filters4(U, uq, Wc, ob, cc);
    /* M[tn][P][ob] (+)= U[q]ᵀ-shaped product with V[q]'s rows c0 .. c0 + cc - 1: a tile's P·ob
     * values side by side, so that the output transform below reads them in one stream */
    for (int q = 0; q < P; q++)
      for (int s = 0; s < ob;) {
        /* 32 channels at a time with AVX-512, the rest (or everything) 16 at a time in AVX2 */
        int wide = avx512 && s + 32 <= ob, ng = wide ? ngroups512 : ngroups;
        for (int gi = 0, t = 0; gi < ng; gi++) {
          int nr = tn * (gi + 1) / ng - t;
          (wide ? fused_kernel512_n : fused_kernel_n)(M + ((size_t)t * P + q) * ob + s, P * ob, U + q * uq + s, ob,
                                                      V + ((size_t)q * C + c0) * tn + t, tn, cc, nr, c0 > 0);
          t += nr;
        }
        s += wide ? 32 : 16;
      }
  }
  wino_fused_output(y, M, ob, o0, ob, bias, tn, t0, TH, TW, OH, OW, ohw, ycs, accumulate, m);
}

/* Row r[0, rl) of a Winograd input buffer: column j is column ix0 + j of the input row `row`
 * upsampled by up (VW columns wide), zero outside it; affine: silu(a·x + b) as it is read (the
 * GroupNorm + SiLU, up = 1). Only the padding is zeroed: the row itself is overwritten (a
 * whole-row memset cost about a tenth of a 64-channel convolution). */
static void wino_fill_row(float *r, int rl, const float *row, int ix0, int VW, int up, int affine, float a,
                          float b) {
  int j0 = ix0 < 0 ? -ix0 : 0, j1 = ix0 + rl > VW ? VW - ix0 : rl; /* the columns inside the row */
  memset(r, 0, (size_t)j0 * sizeof(float));
  if (affine) silu_affine_row(r + j0, row + ix0 + j0, j1 - j0, a, b);
  else if (up == 1) memcpy(r + j0, row + ix0 + j0, (size_t)(j1 - j0) * sizeof(float));
  else
    for (int j = j0; j < j1; j++) r[j] = row[(ix0 + j) / up];
  memset(r + j1, 0, (size_t)(rl - j1) * sizeof(float));
}

/* ------------------------------------------------------------------ Winograd on large maps
 *
 * The VAE's 256x256 and 512x512 levels (128 and 256 channels, 4096-16384 tiles an image), with
 * the AVX-512 product: the filters are transformed once per call into U [36][C][OC] (2.4-9.4 MB,
 * read from L3), then each thread takes pieces of at most ROWS_TB tiles of one tile row, as many
 * as it gets, and for each piece transforms the input of every channel into its own V [36][C][tb],
 * multiplies it with U 32 output channels x 12 tiles at a time, summing over all C in registers,
 * into its own M [tb][36][OC], and transforms the outputs back. V and M stay near the core and
 * the threads never wait on each other, where the whole-call transform writes and reads V and M
 * through memory between GEMMs and the in-cache path re-transforms the filters every chunk. */
#define ROWS_TB 48
#define ROWS_MAX_C 256 /* at 512 channels (37.7 MB of filters) no faster than the other paths */
/* input channels summed in registers before they are added to M: one chain over all 256 channels
 * tripled the error against a double-precision reference (4.5e-4 against 1.2-1.6e-4 for the
 * other paths, test_kernels); pieces of 64 keep it with theirs for ~5 % more time */
#define ROWS_CC 64

/* 0: off, 1: on the maps above WINO_FUSED512_MAX_PIXELS (the default), 2: on every map it can take
 * (bench_conv3x3) */
static _Thread_local int wino_rows_mode = 1;

void kernels_tune_winograd_rows(int mode) { wino_rows_mode = mode >= 0 && mode <= 2 ? mode : 1; }

static int wino_takes_rows(int C, int OC, size_t ohw) {
  if (!wino_rows_mode || !wino_avx512 || C > ROWS_MAX_C || OC > ROWS_MAX_C || OC % 32) return 0;
  if (wino_rows_mode == 1 && ohw <= WINO_FUSED512_MAX_PIXELS) return 0;
  return __builtin_cpu_supports("avx512f");
}

/* U[q][c][o] = G g Gᵀ of filter (o, c), 8 output channels a vector (wino4_filter8) */
static void rows_filters(float *U, const weight *w, int C, int OC, int nt) {
  st_dtype dt = w->dtype;
  size_t es = st_dtype_size(dt);
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int g = 0; g < OC; g += 8)
    for (int c = 0; c < C; c++) {
      float taps[9][8];
      for (int l = 0; l < 8; l++) {
        const uint8_t *p = (const uint8_t *)w->data + es * (((size_t)(g + l) * C + c) * 9);
        for (int j = 0; j < 9; j++) taps[j][l] = load1_f32(p + es * j, dt);
      }
      __m256 gv[9], u[36];
      for (int j = 0; j < 9; j++) gv[j] = _mm256_loadu_ps(taps[j]);
      wino4_filter8(gv, u);
      for (int q = 0; q < 36; q++) _mm256_storeu_ps(U + ((size_t)q * C + c) * OC + g, u[q]);
    }
}

/* conv3x3_winograd's arguments with m = 4; U from rows_filters */
static AVX512 void wino_rows(float *y, const float *x, int nb, int C, int H, int W, const float *U,
                             const float *bias, int OC, int up, int accumulate, const float *norm, int nt) {
  const int P = 36;
  int VH = H * up, VW = W * up, OH = VH, OW = VW;
  int TH = (OH + 3) / 4, TW = (OW + 3) / 4;
  size_t hw = (size_t)H * W, ohw = (size_t)OH * OW, xcs = hw * nb, ycs = ohw * nb;
  /* each tile row in nseg pieces of at most tbs tiles; V's rows padded to whole groups of 8 */
  int nseg = (TW + ROWS_TB - 1) / ROWS_TB, tbs = (TW + nseg - 1) / nseg, tbp = (tbs + 7) & ~7;
  int rl = 4 * tbp + 8; /* a piece's input columns, and the reads past its last group */
  int npieces = nb * TH * nseg;
  size_t oom = 0;
#pragma omp parallel num_threads(nt)
  {
    float *V = scratch(SCR_WV, (size_t)P * C * tbp), *M = scratch(SCR_WM, (size_t)tbs * P * OC),
          *rb = scratch(SCR_ROW, (size_t)6 * rl);
    if (!V || !M || !rb) {
#pragma omp atomic write
      oom = (size_t)P * OC * (C > tbs ? C : tbs);
    }
#pragma omp for schedule(dynamic)
    for (int pi = 0; pi < npieces; pi++) {
      if (!V || !M || !rb) continue;
      int gy = pi / nseg, seg = pi % nseg, bi = gy / TH, oy = 4 * (gy % TH);
      int tx0 = seg * tbs, tn = TW - tx0 < tbs ? TW - tx0 : tbs;
      int ix0 = 4 * tx0 - 1; /* rb column j is input column ix0 + j */
      /* V[q][c][t] = Bᵀ d B */
      for (int c = 0; c < C; c++) {
        const float *xc = x + (size_t)c * xcs + bi * hw;
        for (int i = 0; i < 6; i++) {
          float *r = rb + i * rl;
          int iy = oy - 1 + i;
          if (iy < 0 || iy >= VH) {
            memset(r, 0, (size_t)rl * sizeof(float));
            continue;
          }
          wino_fill_row(r, rl, xc + (size_t)(iy / up) * W, ix0, VW, up, norm != NULL, norm ? norm[c] : 0,
                        norm ? norm[C + c] : 0);
        }
        for (int t = 0; t < tn; t += 8) {
          __m256 v[36];
          wino4_input(rb, rl, t, v);
          for (int q = 0; q < P; q++) _mm256_storeu_ps(V + ((size_t)q * C + c) * tbp + t, v[q]);
        }
      }
      /* M[t][q][o] = Σ_c U[q][c][o] · V[q][c][t], tiles in groups of at most 12, as even as
       * possible; the sum in pieces of ROWS_CC input channels added together */
      int ng = (tn + 11) / 12;
      for (int c0 = 0; c0 < C; c0 += ROWS_CC) {
        int cc = C - c0 < ROWS_CC ? C - c0 : ROWS_CC;
        for (int q = 0; q < P; q++)
          for (int o = 0; o < OC; o += 32)
            for (int gi = 0, t = 0; gi < ng; gi++) {
              int nr = tn * (gi + 1) / ng - t;
              fused_kernel512_n(M + ((size_t)t * P + q) * OC + o, P * OC, U + ((size_t)q * C + c0) * OC + o, OC,
                                V + ((size_t)q * C + c0) * tbp + t, tbp, cc, nr, c0 > 0);
              t += nr;
            }
      }
      wino_fused_output(y, M, OC, 0, OC, bias, tn, gy * TW + tx0, TH, TW, OH, OW, ohw, ycs, accumulate, 4);
    }
  }
  if (oom) note_failure(oom);
}

/* A batch of nb images, x [C][nb][H][W] -> y [OC][nb][OH][OW], with output tiles of m x m
 * (m = 2: F(2x2,3x3), 4: F(4x4,3x3)): the tiles of all the images are the columns of the same
 * GEMMs (tile rows numbered image after image), so the filters are converted and transformed
 * once for the batch. fused: the filters transformed block by block in cache (wino_fused_block,
 * OC a multiple of 16) instead of a block's whole transformed filters per chunk of tiles. norm
 * (NULL or [2][C], up = 1 and nb = 1 only): the input is silu(norm[c]·x + norm[C + c]), applied
 * as the rows are read (a GroupNorm + SiLU without its own pass over the activation). */
static void conv3x3_winograd(float *y, const float *x, int nb, int C, int H, int W, const weight *w,
                             const float *bias, int OC, int up, int accumulate, int m, int fused,
                             const float *norm) {
  const int a = m + 2, P = a * a; /* input patch side, points of the transform domain */
  int VH = H * up, VW = W * up, OH = VH, OW = VW; /* stride 1, pad 1 */
  if (m == 4 && wino_takes_rows(C, OC, (size_t)OH * OW)) {
    size_t nu = (size_t)P * C * OC;
    float *U = scratch(SCR_WU, nu);
    if (!U) {
      note_failure(nu);
      return;
    }
    int nt = omp_in_parallel() ? 1 : a2i2a_get_threads();
    rows_filters(U, w, C, OC, nt);
    wino_rows(y, x, nb, C, H, W, U, bias, OC, up, accumulate, norm, nt);
    return;
  }
  int TH = (OH + m - 1) / m, TW = (OW + m - 1) / m, T = nb * TH * TW;
  size_t hw = (size_t)H * W, ohw = (size_t)OH * OW, xcs = hw * nb, ycs = ohw * nb;
  int Tn = (int)(wino_budget / ((size_t)P * C));
  if (Tn < 16) Tn = 16;
  /* the in-cache path on many tiles (the VAE's 128x128 maps): chunks of at most
   * WINO_FUSED_CHUNK tiles. The filters are transformed again per chunk, but each chunk's V and
   * M stay nearer the cache: on the VAE's 512 channels at 128x128 20 % less CPU than chunks of
   * 455 tiles; on the UNet's 260-512 tiles one chunk stays faster */
  if (fused && T >= WINO_FUSED_CHUNK_FROM && Tn > WINO_FUSED_CHUNK) Tn = WINO_FUSED_CHUNK;
  if (Tn > T) Tn = T;
  /* chunks of even size: 463 tiles in chunks of 455 made a second chunk of 8, which paid for
   * a whole filter transform */
  int nchunk = (T + Tn - 1) / Tn;
  Tn = (T + nchunk - 1) / nchunk;
  float *V = scratch(SCR_WV, (size_t)P * C * Tn);
  if (!V) {
    note_failure((size_t)P * C * Tn);
    return;
  }
  /* Output channels in blocks of at most 256, a multiple of the thread count: each thread
   * converts and transforms its block's filters (the weights are never expanded as a whole),
   * multiplies, and transforms its block's outputs back, without waiting on the others. Each
   * block's GEMMs pack the whole V again: blocks of 128 packed it 4 times per chunk in the VAE's
   * 512-channel layers (sgemm_itcopy, ~8 % of a decode); 256 took 5 % off a decode's CPU time. */
  int nt = omp_in_parallel() ? 1 : a2i2a_get_threads();
  int avx512 = wino_avx512 && __builtin_cpu_supports("avx512f") ? wino_avx512_tiles : 0;
  const void *caller = &wino_calls;
  size_t call = ++wino_calls;
  int nblk = nt * ((OC + nt * 256 - 1) / (nt * 256));
  if (nblk > OC) nblk = OC;
  size_t oom = 0;
  for (int t0 = 0; t0 < T && !oom; t0 += Tn) {
    int tn = T - t0 < Tn ? T - t0 : Tn;
    /* V[P][C][tn] = Bᵀ d B, tile row by tile row: the input rows of a tile row are copied once
     * into a zero-padded buffer (upsampling applied), then 8 tiles at a time in AVX2 */
    int ty0 = t0 / TW, ty1 = (t0 + tn - 1) / TW;
#pragma omp parallel for num_threads(nt)
    for (int c = 0; c < C; c++) {
      int rl = m * TW + 8 * m + 8; /* the last group of 8 tiles reads up to 8·m + 4 past its start */
      float *rb = scratch(SCR_ROW, (size_t)a * rl);
      if (!rb) {
#pragma omp atomic write
        oom = (size_t)a * rl;
        continue;
      }
      size_t ks = (size_t)C * tn;
      for (int gy = ty0; gy <= ty1; gy++) { /* gy: tile row ty of image bi */
        int bi = gy / TH, ty = gy % TH, oy = m * ty;
        const float *xc = x + (size_t)c * xcs + bi * hw;
        /* the last 2 rows of the tile row before (same image) are this one's first 2: moved,
         * not read and normalised again */
        int kept = gy > ty0 && ty > 0 ? a - m : 0;
        if (kept) memcpy(rb, rb + (size_t)m * rl, (size_t)kept * rl * sizeof(float));
        for (int i = kept; i < a; i++) {
          float *r = rb + i * rl;
          int iy = oy - 1 + i;
          if (iy < 0 || iy >= VH) {
            memset(r, 0, (size_t)rl * sizeof(float));
            continue;
          }
          wino_fill_row(r, rl, xc + (size_t)(iy / up) * W, -1, VW, up, norm != NULL, norm ? norm[c] : 0,
                        norm ? norm[C + c] : 0);
        }
        int txa = gy == ty0 ? t0 % TW : 0, txb = gy == ty1 ? (t0 + tn - 1) % TW + 1 : TW;
        int ti0 = gy * TW - t0;
        /* 8 tiles at a time; a last partial group reads the zero padding of rb and stores only
         * its own lanes */
        for (int tx = txa; tx < txb; tx += 8) {
          int nl = txb - tx < 8 ? txb - tx : 8;
          const __m256i lanes = _mm256_cmpgt_epi32(_mm256_set1_epi32(nl), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
          __m256 r[36];
          if (m == 2) wino2_input(rb, rl, tx, r);
          else wino4_input(rb, rl, tx, r);
          float *v = V + (size_t)c * tn + ti0 + tx;
          if (nl == 8)
            for (int q = 0; q < P; q++) _mm256_storeu_ps(v + q * ks, r[q]);
          else
            for (int q = 0; q < P; q++) _mm256_maskstore_ps(v + q * ks, lanes, r[q]);
        }
      }
    }
    if (oom) break;
    if (fused) {
      int nfb = (OC + FUSED_OB - 1) / FUSED_OB;
#pragma omp parallel for num_threads(nt) schedule(dynamic)
      for (int bi = 0; bi < nfb; bi++) {
        int o0 = bi * FUSED_OB, ob = OC - o0 < FUSED_OB ? OC - o0 : FUSED_OB, cc = C < FUSED_CC ? C : FUSED_CC;
        float *Wc = scratch(SCR_WEIGHT, (size_t)ob * cc * 9), *U = scratch(SCR_WU, (size_t)P * (cc * ob + 16)),
              *M = scratch(SCR_WM, (size_t)P * tn * ob);
        if (!Wc || !U || !M) {
#pragma omp atomic write
          oom = (size_t)P * ob * (cc > tn ? cc : tn);
          continue;
        }
        wino_fused_block(y, V, w, bias, C, o0, ob, tn, t0, TH, TW, OH, OW, ohw, ycs, accumulate, m, avx512, Wc, U,
                         M);
      }
      continue;
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int bi = 0; bi < nblk; bi++) {
      int o0 = (int)((long)OC * bi / nblk), o1 = (int)((long)OC * (bi + 1) / nblk), ob = o1 - o0;
      if (ob <= 0) continue;
      float *U = scratch(SCR_WU, (size_t)P * ob * C), *M = scratch(SCR_WM, (size_t)P * ob * tn);
      int held = t0 > 0 && wu_held.U == U && wu_held.call == call && wu_held.caller == caller && wu_held.o0 == o0 &&
                 wu_held.o1 == o1;
      if (!U || !M || (!held && !wino_block_filters(U, w, o0, o1, C, m))) {
#pragma omp atomic write
        oom = (size_t)P * ob * (C > tn ? C : tn);
        continue;
      }
      if (!held) wu_held = (wu_block){U, caller, call, o0, o1};
      /* M[k] = U[k] · V[k], one GEMM per point of the transform domain */
      for (int k = 0; k < P; k++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, ob, tn, C, 1.0f, U + (size_t)k * ob * C, C,
                    V + (size_t)k * C * tn, tn, 0.0f, M + (size_t)k * ob * tn, tn);
      if (m == 2) wino2_output(y, M, ob, tn, o0, o1, bias, t0, ty0, ty1, TH, TW, OH, OW, ohw, ycs, accumulate);
      else wino4_output(y, M, ob, tn, o0, o1, bias, t0, ty0, ty1, TH, TW, OH, OW, ohw, ycs, accumulate);
    }
  }
  if (oom) note_failure(oom);
}

void kernels_set_wrap(int axes) { wrap_axes = axes & (KERNELS_WRAP_X | KERNELS_WRAP_Y); }

int kernels_wrap(void) { return wrap_axes; }

/* Floats of im2col columns for one GEMM when a batch's images go through it together (their
 * columns side by side, so the weights are read once for all of them). */
#define COL_BUDGET_BATCH (12u << 20)

static void conv2d_impl(float *y, const float *x, int nb, int C, int H, int W, const weight *w, const weight *b,
                        int OC, int k, int s, int pt, int pl, int pb, int pr, int up, int accumulate);

/* The convolution with the wrapped axes' padding made explicit: the (upsampled) images are
 * copied once with wx·pl columns and wy·pt rows of the opposite edge on each side, then
 * convolved with zero padding on the other axis only (no Winograd: its tiles assume pad 1). */
static void conv2d_wrapped(float *y, const float *x, int nb, int C, int H, int W, const weight *w, const weight *b,
                           int OC, int k, int s, int pt, int pl, int pb, int pr, int up, int accumulate, int wx,
                           int wy) {
  int VH = H * up, VW = W * up, px = wx ? pl : 0, py = wy ? pt : 0;
  int PH = VH + 2 * py, PW = VW + 2 * px;
  size_t n = (size_t)C * nb * PH * PW, hw = (size_t)H * W;
  float *xp = scratch(SCR_WRAP, n);
  if (!xp) {
    note_failure(n);
    return;
  }
#pragma omp parallel for num_threads(a2i2a_get_threads()) if (n > PAR_N)
  for (long ci = 0; ci < (long)C * nb; ci++) {
    const float *src = x + (size_t)ci * hw;
    float *dst = xp + (size_t)ci * PH * PW;
    for (int r = 0; r < PH; r++) {
      int vy = ((r - py) % VH + VH) % VH; /* rows outside [0, VH) only when wy */
      const float *srow = src + (size_t)(vy / up) * W;
      float *d = dst + (size_t)r * PW;
      for (int c = 0; c < PW; c++) {
        int vx = ((c - px) % VW + VW) % VW;
        d[c] = srow[vx / up];
      }
    }
  }
  conv2d_impl(y, xp, nb, C, PH, PW, w, b, OC, k, s, wy ? 0 : pt, wx ? 0 : pl, wy ? 0 : pb, wx ? 0 : pr, 1,
              accumulate);
}

static int takes_winograd(int C, int OC, size_t ohw) {
  return C >= wino_min_c && OC >= wino_min_c && ohw >= wino_min_pixels;
}

/* The convolution of the virtual images xv = upsample(x, up) (up 1 or 2, nearest) of a batch of
 * nb images laid out [C][nb][H][W]; y is [OC][nb][OH][OW]. im2col, then one sgemm per tile: all
 * the images at once where their columns fit COL_BUDGET_BATCH, else one image at a time in
 * tiles of output rows. accumulate: y += conv instead of y = conv. */
static void conv2d_impl(float *y, const float *x, int nb, int C, int H, int W, const weight *w, const weight *b,
                        int OC, int k, int s, int pt, int pl, int pb, int pr, int up, int accumulate) {
  int VH = H * up, VW = W * up; /* the (virtual) input the convolution sees */
  /* circular padding, as torch's padding_mode="circular" (A1111's tiling, stable-diffusion.cpp's
   * --circular): only the convolution's own symmetric padding wraps; asymmetric pads (the VAE
   * encoder's downsampling) stay zero, as they are an explicit F.pad in diffusers */
  int wx = (wrap_axes & KERNELS_WRAP_X) && pl == pr && pl > 0, wy = (wrap_axes & KERNELS_WRAP_Y) && pt == pb && pt > 0;
  if (wx || wy) {
    conv2d_wrapped(y, x, nb, C, H, W, w, b, OC, k, s, pt, pl, pb, pr, up, accumulate, wx, wy);
    return;
  }
  int OH = (VH + pt + pb - k) / s + 1, OW = (VW + pl + pr - k) / s + 1;
  size_t ohw = (size_t)OH * OW, hw = (size_t)H * W, ldy = ohw * nb;
  int K = C * k * k;
  /* the maps below the Winograd minimum: Winograd with the filters transformed in cache
   * (wino_fused_block) on enough channels, else im2col */
  int small = ohw < wino_min_pixels;
  int fused = wino_takes_fused(C, OC, ohw);
  if (k == 3 && s == 1 && pt == 1 && pl == 1 && pb == 1 && pr == 1 && C >= wino_min_c && OC >= wino_min_c &&
      (!small || fused)) {
    const float *bias = present(b) ? weight_f32(b, SCR_BIAS) : NULL;
    if (present(b) && !bias) return;
    conv3x3_winograd(y, x, nb, C, H, W, w, bias, OC, up, accumulate,
                     !fused                    ? (ohw >= wino4_min_pixels ? 4 : 2)
                     : wino_fused_tile             ? wino_fused_tile
                     : ohw >= WINO_FUSED_F4_MIN_PIXELS ? 4
                                                       : 2,
                     fused, NULL);
    return;
  }
  float beta = accumulate ? 1.0f : 0.0f;
  if (present(b)) {
    const float *bias = weight_f32(b, SCR_BIAS);
    if (!bias) return;
#pragma omp parallel for num_threads(a2i2a_get_threads()) if (ldy * OC > PAR_N)
    for (int o = 0; o < OC; o++) {
      float *yo = y + o * ldy;
      if (accumulate)
        for (size_t i = 0; i < ldy; i++) yo[i] += bias[o];
      else
        for (size_t i = 0; i < ldy; i++) yo[i] = bias[o];
    }
    beta = 1;
  }
  if (k == 1 && s == 1 && up == 1 && pt == 0 && pl == 0 && pb == 0 && pr == 0) {
    weight_gemm(1, OC, (int)ldy, C, w, x, (int)ldy, beta, y, (int)ldy);
    return;
  }
  /* images per GEMM (whole images), or 1 image in tiles of rows */
  int per = (size_t)K * ohw * 2 <= COL_BUDGET_BATCH ? (int)(COL_BUDGET_BATCH / ((size_t)K * ohw)) : 1;
  if (per > nb) per = nb;
  int rows = per > 1 ? OH : (int)(COL_BUDGET / ((size_t)K * OW));
  if (rows < 1) rows = 1;
  if (rows > OH) rows = OH;
  float *col = scratch(SCR_COL, (size_t)K * rows * OW * per);
  if (!col) {
    note_failure((size_t)K * rows * OW * per);
    return;
  }
  for (int b0 = 0; b0 < nb; b0 += per) {
    int nbt = nb - b0 < per ? nb - b0 : per;
    for (int r0 = 0; r0 < OH; r0 += rows) {
      int nr = OH - r0 < rows ? OH - r0 : rows;
      int ncol = nr * OW, ntot = ncol * nbt;
#pragma omp parallel for num_threads(a2i2a_get_threads()) if ((size_t)K * ntot > PAR_N)
      for (int kk = 0; kk < K; kk++) {
        int c = kk / (k * k), ky = kk / k % k, kx = kk % k;
        for (int bi = 0; bi < nbt; bi++) {
          float *dst = col + (size_t)kk * ntot + (size_t)bi * ncol;
          const float *src = x + ((size_t)c * nb + b0 + bi) * hw;
          for (int r = 0; r < nr; r++) {
            int iy = (r0 + r) * s + ky - pt;
            float *d = dst + (size_t)r * OW;
            if (iy < 0 || iy >= VH) {
              memset(d, 0, (size_t)OW * sizeof(float));
              continue;
            }
            const float *srow = src + (size_t)(iy / up) * W;
            if (s == 1 && up == 1) {
              int lo = pl - kx, hi = W + pl - kx; /* ox range with 0 <= ox + kx - pl < W */
              if (lo < 0) lo = 0;
              if (hi > OW) hi = OW;
              if (hi < lo) hi = lo;
              for (int ox = 0; ox < lo; ox++) d[ox] = 0;
              if (hi > lo) memcpy(d + lo, srow + lo + kx - pl, (size_t)(hi - lo) * sizeof(float));
              for (int ox = hi; ox < OW; ox++) d[ox] = 0;
            } else {
              for (int ox = 0; ox < OW; ox++) {
                int ix = ox * s + kx - pl;
                d[ox] = ix >= 0 && ix < VW ? srow[ix / up] : 0.0f;
              }
            }
          }
        }
      }
      /* whole images sit side by side in y as in col; a row tile is one image's */
      weight_gemm(1, OC, ntot, K, w, col, ntot, beta, y + b0 * ohw + (size_t)r0 * OW, (int)ldy);
    }
  }
}

void conv2d(float *y, const float *x, int C, int H, int W, const weight *w, const weight *b, int OC, int k, int s,
            int pt, int pl, int pb, int pr) {
  conv2d_impl(y, x, 1, C, H, W, w, b, OC, k, s, pt, pl, pb, pr, 1, 0);
}

void conv2d_add(float *y, const float *x, int C, int H, int W, const weight *w, const weight *b, int OC, int k,
                int s, int pt, int pl, int pb, int pr) {
  conv2d_impl(y, x, 1, C, H, W, w, b, OC, k, s, pt, pl, pb, pr, 1, 1);
}

void conv2d_up2(float *y, const float *x, int C, int H, int W, const weight *w, const weight *b, int OC, int k,
                int pad) {
  conv2d_impl(y, x, 1, C, H, W, w, b, OC, k, 1, pad, pad, pad, pad, 2, 0);
}

void conv2d_batch(float *y, const float *x, int nb, int C, int H, int W, const weight *w, const weight *b, int OC,
                  int k, int s, int pad, int up, int accumulate) {
  conv2d_impl(y, x, nb, C, H, W, w, b, OC, k, s, pad, pad, pad, pad, up, accumulate);
}

static void group_affine(float *ab, const float *x, int C, int HW, int groups, const float *g, const float *bt,
                         float eps);

int conv3x3_takes_norm(int C, int H, int W, int OC) {
  return !wrap_axes && takes_winograd(C, OC, (size_t)H * W);
}

void conv3x3_norm_silu(float *y, const float *x, int C, int H, int W, int groups, const weight *gamma,
                       const weight *beta, float eps, const weight *w, const weight *b, int OC, int accumulate) {
  if (!conv3x3_takes_norm(C, H, W, OC)) {
    note_failure(1); /* the caller asks conv3x3_takes_norm first */
    return;
  }
  const float *g = vector_f32(gamma, SCR_GAMMA, C, 1), *bt = vector_f32(beta, SCR_BETA, C, 0);
  const float *bias = present(b) ? weight_f32(b, SCR_BIAS) : NULL;
  float *ab = scratch(SCR_AFFINE, 2 * (size_t)C);
  if (!g || !bt || (present(b) && !bias)) return;
  if (!ab) {
    note_failure(2 * (size_t)C);
    return;
  }
  group_affine(ab, x, C, H * W, groups, g, bt, eps);
  size_t hw = (size_t)H * W;
  int fused = wino_takes_fused(C, OC, hw);
  conv3x3_winograd(y, x, 1, C, H, W, w, bias, OC, 1, accumulate,
                   fused ? (wino_fused_tile ? wino_fused_tile : 4) : hw >= wino4_min_pixels ? 4 : 2, fused, ab);
}

/* ------------------------------------------------------------------ 1-D convolutions (the vocoders) */

/* y[:, t] = b (or y + b when accumulating) for every t of T; the beta the GEMM that follows uses. */
static float init_bias_rows(float *y, const weight *b, int OC, size_t T, int accumulate, int *ok) {
  *ok = 1;
  if (!present(b)) return accumulate ? 1.0f : 0.0f;
  const float *bias = weight_f32(b, SCR_BIAS);
  if (!bias) return *ok = 0, 0.0f;
#pragma omp parallel for num_threads(a2i2a_get_threads()) if (T * OC > PAR_N)
  for (int o = 0; o < OC; o++) {
    float *yo = y + (size_t)o * T;
    if (accumulate)
      for (size_t i = 0; i < T; i++) yo[i] += bias[o];
    else
      for (size_t i = 0; i < T; i++) yo[i] = bias[o];
  }
  return 1.0f;
}

/* im2col over time in tiles of COL_BUDGET floats: col[(c, j)][t] = x[c][t + j·d − pad]. */
void conv1d(float *y, const float *x, int C, int T, const weight *w, const weight *b, int OC, int k, int dilation,
            int pad, int accumulate) {
  const int OT = T + 2 * pad - dilation * (k - 1), K = C * k;
  if (OT <= 0) return;
  int ok;
  float beta = init_bias_rows(y, b, OC, (size_t)OT, accumulate, &ok);
  if (!ok) return;
  if (k == 1 && pad == 0) {
    weight_gemm(1, OC, OT, C, w, x, T, beta, y, OT);
    return;
  }
  int tile = (int)(COL_BUDGET / (size_t)K);
  if (tile < 1) tile = 1;
  if (tile > OT) tile = OT;
  float *col = scratch(SCR_COL, (size_t)K * tile);
  if (!col) {
    note_failure((size_t)K * tile);
    return;
  }
  for (int t0 = 0; t0 < OT; t0 += tile) {
    const int nt = OT - t0 < tile ? OT - t0 : tile;
#pragma omp parallel for num_threads(a2i2a_get_threads()) if ((size_t)K * nt > PAR_N)
    for (int kk = 0; kk < K; kk++) {
      const int c = kk / k, off = kk % k * dilation - pad + t0; /* input index of output t0 + i: i + off */
      const float *src = x + (size_t)c * T;
      float *d = col + (size_t)kk * nt;
      int lo = -off, hi = T - off; /* i range with 0 <= i + off < T */
      if (lo < 0) lo = 0;
      if (hi > nt) hi = nt;
      if (hi < lo) hi = lo;
      for (int i = 0; i < lo; i++) d[i] = 0;
      if (hi > lo) memcpy(d + lo, src + lo + off, (size_t)(hi - lo) * sizeof(float));
      for (int i = hi; i < nt; i++) d[i] = 0;
    }
    weight_gemm(1, OC, nt, K, w, col, nt, beta, y + t0, OT);
  }
}

/* col[(o, j)][t] = Σ_c w[c][o][j]·x[c][t] (one GEMM with the weight transposed), then each column
 * is added where its taps land: y[o][t·s + j − pad]. Tiles of input frames bound the columns. */
void conv_transpose1d(float *y, const float *x, int C, int T, const weight *w, const weight *b, int OC, int k,
                      int stride, int pad) {
  const int OT = (T - 1) * stride - 2 * pad + k, M = OC * k;
  if (OT <= 0) return;
  int ok;
  if (!present(b)) memset(y, 0, (size_t)OC * OT * sizeof(float)); /* the taps are added in */
  init_bias_rows(y, b, OC, (size_t)OT, 0, &ok);
  const float *wf = ok ? weight_f32(w, SCR_WEIGHT) : NULL;
  if (!wf) return;
  int tile = (int)(COL_BUDGET / (size_t)M);
  if (tile < 1) tile = 1;
  if (tile > T) tile = T;
  float *col = scratch(SCR_COL, (size_t)M * tile);
  if (!col) {
    note_failure((size_t)M * tile);
    return;
  }
  for (int t0 = 0; t0 < T; t0 += tile) {
    const int nt = T - t0 < tile ? T - t0 : tile;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, M, nt, C, 1.0f, wf, M, x + t0, T, 0.0f, col, nt);
    /* a thread per output channel: no two write the same sample */
#pragma omp parallel for num_threads(a2i2a_get_threads()) if ((size_t)M * nt > PAR_N)
    for (int o = 0; o < OC; o++) {
      float *yo = y + (size_t)o * OT;
      for (int j = 0; j < k; j++) {
        const float *c = col + ((size_t)o * k + j) * nt;
        for (int i = 0; i < nt; i++) {
          const long at = (long)(t0 + i) * stride + j - pad;
          if (at >= 0 && at < OT) yo[at] += c[i];
        }
      }
    }
  }
}

void depthwise_conv1d_rows(float *y, const float *x, int T, int C, const weight *w, const weight *b, int k, int pad) {
  const int OT = T + 2 * pad - k + 1;
  const float *wf = weight_f32(w, SCR_WEIGHT), *bias = vector_f32(b, SCR_BIAS, C, 0);
  float *taps = scratch(SCR_WM, (size_t)k * C); /* [k][C]: a tap's weights side by side */
  if (!taps) note_failure((size_t)k * C);
  if (!wf || !bias || !taps) return;
  for (int c = 0; c < C; c++)
    for (int j = 0; j < k; j++) taps[(size_t)j * C + c] = wf[(size_t)c * k + j];
#pragma omp parallel for num_threads(a2i2a_get_threads()) if ((size_t)OT * C * k > PAR_N)
  for (int t = 0; t < OT; t++) {
    float *yr = y + (size_t)t * C;
    memcpy(yr, bias, (size_t)C * sizeof(float));
    for (int j = 0; j < k; j++) {
      const int at = t + j - pad;
      if (at < 0 || at >= T) continue;
      const float *xr = x + (size_t)at * C, *tj = taps + (size_t)j * C;
      for (int c = 0; c < C; c++) yr[c] += tj[c] * xr[c];
    }
  }
}

void leaky_relu(float *y, const float *x, size_t n, float slope) {
#pragma omp parallel for num_threads(a2i2a_get_threads()) if (n > PAR_N)
  for (size_t i = 0; i < n; i++) y[i] = x[i] >= 0 ? x[i] : slope * x[i];
}

/* exp for AVX2: Cody-Waite range reduction and a degree-6 polynomial, ~1 ulp over the float
 * range; inputs below -88 flush to 0, above 88 saturate. */
static inline __m256 exp256(__m256 x) {
  const __m256 hi = _mm256_set1_ps(88.0f), lo = _mm256_set1_ps(-87.3f);
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-104.0f)), hi);
  __m256 under = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
  __m256 fx = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                              _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500E-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507E-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073E-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894E-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459E-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201E-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(fx), _mm256_set1_epi32(127)), 23);
  __m256 res = _mm256_mul_ps(p, _mm256_castsi256_ps(e));
  return _mm256_andnot_ps(under, res);
}

/* ------------------------------------------------------------------ norms */

/* silu(a·x + b) of one vector (the GroupNorm + SiLU of a channel) */
static inline __m256 silu_affine(__m256 x, __m256 a, __m256 b) {
  __m256 v = _mm256_fmadd_ps(x, a, b);
  __m256 e = exp256(_mm256_sub_ps(_mm256_setzero_ps(), v));
  return _mm256_div_ps(v, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

/* y[i] = silu(a·x[i] + b), i < n (y may alias x); the last partial vector masked, so that every
 * value goes through the same arithmetic wherever it sits (a GroupNorm fused into a
 * convolution's rows gives the same values as the whole-channel pass) */
static void silu_affine_row(float *y, const float *x, int n, float a, float b) {
  const __m256 va = _mm256_set1_ps(a), vb = _mm256_set1_ps(b);
  int i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, silu_affine(_mm256_loadu_ps(x + i), va, vb));
  if (i < n) {
    const __m256i lanes = _mm256_cmpgt_epi32(_mm256_set1_epi32(n - i), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    _mm256_maskstore_ps(y + i, lanes, silu_affine(_mm256_maskload_ps(x + i, lanes), va, vb));
  }
}

/* The sum of x[0..n) in double, in 4 independent accumulators: a single running double sum
 * waits on each add's latency, and these sums were most of a GroupNorm's time (the VAE's norms
 * go over 15 M values at 400x296). */
static double sum_f64(const float *x, int n) {
  __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256 u = _mm256_loadu_ps(x + i), v = _mm256_loadu_ps(x + i + 8);
    a0 = _mm256_add_pd(a0, _mm256_cvtps_pd(_mm256_castps256_ps128(u)));
    a1 = _mm256_add_pd(a1, _mm256_cvtps_pd(_mm256_extractf128_ps(u, 1)));
    a2 = _mm256_add_pd(a2, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    a3 = _mm256_add_pd(a3, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
  }
  double t[4], s = 0;
  _mm256_storeu_pd(t, _mm256_add_pd(_mm256_add_pd(a0, a1), _mm256_add_pd(a2, a3)));
  for (; i < n; i++) s += x[i];
  return s + ((t[0] + t[1]) + (t[2] + t[3]));
}

/* The sum of (x[i] - mean)² over x[0..n) in double, the same way. */
static double sq_dev_f64(const float *x, int n, double mean) {
  const __m256d m = _mm256_set1_pd(mean);
  __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256 u = _mm256_loadu_ps(x + i), v = _mm256_loadu_ps(x + i + 8);
    __m256d d0 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(u)), m);
    __m256d d1 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(u, 1)), m);
    __m256d d2 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), m);
    __m256d d3 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)), m);
    a0 = _mm256_fmadd_pd(d0, d0, a0), a1 = _mm256_fmadd_pd(d1, d1, a1);
    a2 = _mm256_fmadd_pd(d2, d2, a2), a3 = _mm256_fmadd_pd(d3, d3, a3);
  }
  double t[4], s = 0;
  _mm256_storeu_pd(t, _mm256_add_pd(_mm256_add_pd(a0, a1), _mm256_add_pd(a2, a3)));
  for (; i < n; i++) s += (x[i] - mean) * (x[i] - mean);
  return s + ((t[0] + t[1]) + (t[2] + t[3]));
}

/* st = {rstd, mean} of the channels [c0, c1) of x (cs floats apart, n values each), as float. */
static void group_stats(float *st, const float *x, size_t cs, int c0, int c1, int n, float eps) {
  double sum = 0, sq = 0, count = (double)(c1 - c0) * n;
  for (int c = c0; c < c1; c++) sum += sum_f64(x + c * cs, n);
  double mean = sum / count;
  for (int c = c0; c < c1; c++) sq += sq_dev_f64(x + c * cs, n, mean);
  st[0] = (float)(1.0 / sqrt(sq / count + eps)), st[1] = (float)mean;
}

void group_norm_batch(float *y, const float *x, int C, int nb, int HW, int groups, const weight *gamma,
                      const weight *beta, float eps, int with_silu) {
  const float *g = vector_f32(gamma, SCR_GAMMA, C, 1), *bt = vector_f32(beta, SCR_BETA, C, 0);
  if (!g || !bt) return;
  int cpg = C / groups, jobs = groups * nb;
  size_t cs = (size_t)nb * HW; /* channel stride */
#pragma omp parallel for num_threads(a2i2a_get_threads()) if ((size_t)C * HW * nb > PAR_N)
  for (int job = 0; job < jobs; job++) {
    int gi = job / nb, bi = job % nb;
    const float *xb = x + (size_t)bi * HW;
    float ab[2];
    group_stats(ab, xb, cs, gi * cpg, (gi + 1) * cpg, HW, eps);
    float rstd = ab[0], m = ab[1];
    for (int c = gi * cpg; c < (gi + 1) * cpg; c++) {
      float a = rstd * g[c], bb = bt[c] - m * a;
      const float *xc = xb + c * cs;
      float *yc = y + c * cs + (size_t)bi * HW;
      if (with_silu) silu_affine_row(yc, xc, HW, a, bb);
      else
        for (int i = 0; i < HW; i++) yc[i] = xc[i] * a + bb;
    }
  }
}

/* ab [2][C]: per channel the a, b of one image's GroupNorm as a·x + b (x [C][HW]). */
static void group_affine(float *ab, const float *x, int C, int HW, int groups, const float *g, const float *bt,
                         float eps) {
  int cpg = C / groups;
#pragma omp parallel for num_threads(a2i2a_get_threads()) if ((size_t)C * HW > PAR_N)
  for (int gi = 0; gi < groups; gi++) {
    float st[2];
    group_stats(st, x, (size_t)HW, gi * cpg, (gi + 1) * cpg, HW, eps);
    for (int c = gi * cpg; c < (gi + 1) * cpg; c++) {
      float a = st[0] * g[c];
      ab[c] = a, ab[C + c] = bt[c] - st[1] * a;
    }
  }
}

void group_norm(float *y, const float *x, int C, int HW, int groups, const weight *gamma, const weight *beta,
                float eps) {
  group_norm_batch(y, x, C, 1, HW, groups, gamma, beta, eps, 0);
}

void group_norm_silu(float *y, const float *x, int C, int HW, int groups, const weight *gamma, const weight *beta,
                     float eps) {
  group_norm_batch(y, x, C, 1, HW, groups, gamma, beta, eps, 1);
}

void layer_norm(float *y, const float *x, int n, int dim, const weight *gamma, const weight *beta, float eps) {
  const float *g = vector_f32(gamma, SCR_GAMMA, dim, 1), *bt = vector_f32(beta, SCR_BETA, dim, 0);
  if (!g || !bt) return;
#pragma omp parallel for num_threads(a2i2a_get_threads()) if ((size_t)n * dim > PAR_N)
  for (int r = 0; r < n; r++) {
    const float *xr = x + (size_t)r * dim;
    float *yr = y + (size_t)r * dim;
    double sum = 0, sq = 0;
    for (int i = 0; i < dim; i++) sum += xr[i];
    double mean = sum / dim;
    for (int i = 0; i < dim; i++) {
      double d = xr[i] - mean;
      sq += d * d;
    }
    float rstd = (float)(1.0 / sqrt(sq / dim + eps)), m = (float)mean;
    for (int i = 0; i < dim; i++) yr[i] = (xr[i] - m) * rstd * g[i] + bt[i];
  }
}

/* ------------------------------------------------------------------ activations */

void silu(float *x, size_t n) {
  const __m256 one = _mm256_set1_ps(1.0f);
  size_t nv = n / 8 * 8;
#pragma omp parallel for num_threads(a2i2a_get_threads()) if (n > PAR_N)
  for (size_t i = 0; i < nv; i += 8) {
    __m256 v = _mm256_loadu_ps(x + i);
    __m256 e = exp256(_mm256_sub_ps(_mm256_setzero_ps(), v));
    _mm256_storeu_ps(x + i, _mm256_div_ps(v, _mm256_add_ps(one, e)));
  }
  for (size_t i = nv; i < n; i++) x[i] = x[i] / (1.0f + expf(-x[i]));
}

void quick_gelu(float *x, size_t n) {
  const __m256 one = _mm256_set1_ps(1.0f), c = _mm256_set1_ps(-1.702f);
  size_t nv = n / 8 * 8;
#pragma omp parallel for num_threads(a2i2a_get_threads()) if (n > PAR_N)
  for (size_t i = 0; i < nv; i += 8) {
    __m256 v = _mm256_loadu_ps(x + i);
    __m256 e = exp256(_mm256_mul_ps(c, v));
    _mm256_storeu_ps(x + i, _mm256_div_ps(v, _mm256_add_ps(one, e)));
  }
  for (size_t i = nv; i < n; i++) x[i] = x[i] / (1.0f + expf(-1.702f * x[i]));
}

static inline float gelu1(float v) { return 0.5f * v * (1.0f + erff(v * (float)M_SQRT1_2)); }

void gelu(float *x, size_t n) {
#pragma omp parallel for num_threads(a2i2a_get_threads()) if (n > PAR_N)
  for (size_t i = 0; i < n; i++) x[i] = gelu1(x[i]);
}

/* erf for AVX2: a rational minimax approximation on [-4, 4] (Eigen's), within 4e-7 absolute;
 * erf is ±1 in float32 beyond. */
static inline __m256 erf256(__m256 a) {
  __m256 x = _mm256_max_ps(_mm256_min_ps(a, _mm256_set1_ps(4.0f)), _mm256_set1_ps(-4.0f));
  __m256 x2 = _mm256_mul_ps(x, x);
  __m256 p = _mm256_fmadd_ps(x2, _mm256_set1_ps(-2.72614225801306e-10f), _mm256_set1_ps(2.77068142495902e-08f));
  p = _mm256_fmadd_ps(x2, p, _mm256_set1_ps(-2.10102402082508e-06f));
  p = _mm256_fmadd_ps(x2, p, _mm256_set1_ps(-5.69250639462346e-05f));
  p = _mm256_fmadd_ps(x2, p, _mm256_set1_ps(-7.34990630326855e-04f));
  p = _mm256_fmadd_ps(x2, p, _mm256_set1_ps(-2.95459980854025e-03f));
  p = _mm256_fmadd_ps(x2, p, _mm256_set1_ps(-1.60960333262415e-02f));
  p = _mm256_mul_ps(x, p);
  __m256 q = _mm256_fmadd_ps(x2, _mm256_set1_ps(-1.45660718464996e-05f), _mm256_set1_ps(-2.13374055278905e-04f));
  q = _mm256_fmadd_ps(x2, q, _mm256_set1_ps(-1.68282697438203e-03f));
  q = _mm256_fmadd_ps(x2, q, _mm256_set1_ps(-7.37332916720468e-03f));
  q = _mm256_fmadd_ps(x2, q, _mm256_set1_ps(-1.42647390514189e-02f));
  return _mm256_div_ps(p, q);
}

void geglu(float *y, const float *x, int n, int dim) {
  const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f), r2 = _mm256_set1_ps((float)M_SQRT1_2);
#pragma omp parallel for num_threads(a2i2a_get_threads()) if ((size_t)n * dim > PAR_N)
  for (int r = 0; r < n; r++) {
    const float *a = x + (size_t)r * 2 * dim, *g = a + dim;
    float *yr = y + (size_t)r * dim;
    int i = 0;
    for (; i + 8 <= dim; i += 8) {
      __m256 gv = _mm256_loadu_ps(g + i);
      __m256 ge = _mm256_mul_ps(_mm256_mul_ps(half, gv), _mm256_add_ps(one, erf256(_mm256_mul_ps(gv, r2))));
      _mm256_storeu_ps(yr + i, _mm256_mul_ps(_mm256_loadu_ps(a + i), ge));
    }
    for (; i < dim; i++) yr[i] = a[i] * gelu1(g[i]);
  }
}

void relu(float *x, size_t n) {
#pragma omp parallel for num_threads(a2i2a_get_threads()) if (n > PAR_N)
  for (size_t i = 0; i < n; i++) x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void add(float *y, const float *x, size_t n) {
#pragma omp parallel for num_threads(a2i2a_get_threads()) if (n > PAR_N)
  for (size_t i = 0; i < n; i++) y[i] += x[i];
}

void softmax_rows(float *x, int rows, int cols) {
#pragma omp parallel for num_threads(a2i2a_get_threads()) if ((size_t)rows * cols > PAR_N)
  for (int r = 0; r < rows; r++) {
    float *xr = x + (size_t)r * cols, m = -INFINITY, sum = 0;
    for (int i = 0; i < cols; i++) m = xr[i] > m ? xr[i] : m;
    for (int i = 0; i < cols; i++) sum += xr[i] = expf(xr[i] - m);
    float inv = 1.0f / sum;
    for (int i = 0; i < cols; i++) xr[i] *= inv;
  }
}

/* ------------------------------------------------------------------ attention */

#define ATT_QT 128
#define ATT_KT 512

static inline float hsum256(__m256 v) {
  __m128 a = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  a = _mm_add_ps(a, _mm_movehl_ps(a, a));
  a = _mm_add_ss(a, _mm_movehdup_ps(a));
  return _mm_cvtss_f32(a);
}

static inline float hmax256(__m256 v) {
  __m128 a = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  a = _mm_max_ps(a, _mm_movehl_ps(a, a));
  a = _mm_max_ss(a, _mm_movehdup_ps(a));
  return _mm_cvtss_f32(a);
}

/* One head, queries [i0, i0+nqt): out rows accumulate Σ softmax·v over key tiles with the
 * running max m and running sum l of each row (flash-attention's online softmax). */
static int attention_tile(float *out, int out_stride, const float *q, int q_stride, const float *k,
                          const float *v, int kv_stride, int i0, int nqt, int nk, int head_dim, float scale,
                          int causal) {
  float *S = scratch(SCR_ATT_S, (size_t)ATT_QT * ATT_KT);
  float *ml = scratch(SCR_ATT_ML, 2 * ATT_QT);
  if (!S || !ml) return 0;
  float *m = ml, *l = ml + ATT_QT;
  for (int i = 0; i < nqt; i++) {
    m[i] = -INFINITY;
    l[i] = 0;
    memset(out + (size_t)i * out_stride, 0, (size_t)head_dim * sizeof(float));
  }
  int kend = causal ? (i0 + nqt < nk ? i0 + nqt : nk) : nk;
  for (int j0 = 0; j0 < kend; j0 += ATT_KT) {
    int nkt = kend - j0 < ATT_KT ? kend - j0 : ATT_KT;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nqt, nkt, head_dim, scale, q, q_stride,
                k + (size_t)j0 * kv_stride, kv_stride, 0.0f, S, nkt);
    for (int i = 0; i < nqt; i++) {
      float *s = S + (size_t)i * nkt;
      int lim = nkt;
      if (causal) {
        lim = i0 + i - j0 + 1;
        if (lim > nkt) lim = nkt;
        if (lim < 0) lim = 0;
      }
      float mx = m[i];
      int j = 0;
      __m256 vm = _mm256_set1_ps(mx);
      for (; j + 8 <= lim; j += 8) vm = _mm256_max_ps(vm, _mm256_loadu_ps(s + j));
      mx = hmax256(vm);
      for (; j < lim; j++) mx = s[j] > mx ? s[j] : mx;
      float corr = mx == -INFINITY ? 1.0f : expf(m[i] - mx), sum = 0;
      __m256 vs = _mm256_setzero_ps(), vmx = _mm256_set1_ps(mx);
      for (j = 0; j + 8 <= lim; j += 8) {
        __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(s + j), vmx));
        _mm256_storeu_ps(s + j, e);
        vs = _mm256_add_ps(vs, e);
      }
      sum = hsum256(vs);
      for (; j < lim; j++) sum += s[j] = expf(s[j] - mx);
      for (j = lim; j < nkt; j++) s[j] = 0;
      l[i] = l[i] * corr + sum;
      m[i] = mx;
      if (corr != 1.0f) {
        float *o = out + (size_t)i * out_stride;
        for (int d = 0; d < head_dim; d++) o[d] *= corr;
      }
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nqt, head_dim, nkt, 1.0f, S, nkt,
                v + (size_t)j0 * kv_stride, kv_stride, 1.0f, out, out_stride);
  }
  for (int i = 0; i < nqt; i++) {
    float inv = l[i] > 0 ? 1.0f / l[i] : 0.0f, *o = out + (size_t)i * out_stride;
    for (int d = 0; d < head_dim; d++) o[d] *= inv;
  }
  return 1;
}

/* The register-blocked kernel: everything is vectorized across 16 queries at a time (one
 * "query block", QB), so Q·Kᵀ, the online softmax and P·V need no horizontal sums and K and V
 * are read in place (a key row's head_dim values are contiguous): per job only the queries are
 * packed, transposed, Qp[block][d][16], and the output accumulates transposed in Op the same way.
 * For each tile of ATT_BKT keys and each query block, S[key][16] = Q·Kᵀ (6 keys × 16 queries in
 * 12 registers, head_dim in the inner loop), its softmax, then Op += Pᵀ·V (6 dims × 16 queries,
 * keys in the inner loop): S (ATT_BKT × 16) and the block's Qp and Op stay in L1, the key tile
 * in L2. Against attention_tile's sgemms (~65 GFLOP per CPU-second on SD 1.5's 40-wide heads)
 * this runs ~1.2x as fast with AVX2 and ~2x with AVX-512 (bench/bench_attention.c,
 * bench/RESULTS.md). */
#define ATT_QB 16
#define ATT_BKT 128
/* With AVX2 only the widest heads (the VAE's 512) are faster through sgemm, whose k = 512 is no
 * longer skinny; with AVX-512 the blocked kernel wins at every width (bench_attention). */
#define ATT_BLOCKED_MAX_HD_AVX2 160
static _Thread_local int att_blocked_max_hd, att_avx512 = 1; /* 0: the defaults above */

void kernels_tune_attention(int blocked_max_head_dim, int avx512) {
  att_blocked_max_hd = blocked_max_head_dim;
  att_avx512 = avx512;
}

/* 2^x for x ≤ 0 (-inf included): the scores are in log2 units (log2 e is folded into the
 * queries' scale), so exp256's range reduction, overflow and underflow tests are not needed:
 * x < -126 gives 0 (exponent field 0 times a value < 2). Taylor to degree 6 on |r| ≤ ½:
 * relative error < 2e-7. */
static inline __m256 exp2_nonpos256(__m256 x) {
  x = _mm256_max_ps(x, _mm256_set1_ps(-127.0f));
  __m256 fx = _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), r = _mm256_sub_ps(x, fx);
  __m256 p = _mm256_set1_ps(1.5403530393e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3333558146e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(9.6181291076e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.5504108665e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(2.4022650696e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(6.9314718056e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(fx), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

/* S[b][0..16) = Σ_d k_b[d] · Qp[d][0..16) for nb (≤ 6) keys k_b (rows kv_stride apart); mx
 * takes the maximum of each query's scores. */
static inline __attribute__((always_inline)) void att_scores(float *S, __m256 mx[2], const float *Qp, const float *k,
                                                             int kv_stride, int head_dim, int nb) {
  __m256 acc[6][2];
#pragma GCC unroll 6
  for (int b = 0; b < nb; b++) acc[b][0] = acc[b][1] = _mm256_setzero_ps();
  for (int d = 0; d < head_dim; d++) {
    __m256 q0 = _mm256_load_ps(Qp + d * ATT_QB), q1 = _mm256_load_ps(Qp + d * ATT_QB + 8);
#pragma GCC unroll 6
    for (int b = 0; b < nb; b++) {
      __m256 kb = _mm256_broadcast_ss(k + (size_t)b * kv_stride + d);
      acc[b][0] = _mm256_fmadd_ps(kb, q0, acc[b][0]);
      acc[b][1] = _mm256_fmadd_ps(kb, q1, acc[b][1]);
    }
  }
#pragma GCC unroll 6
  for (int b = 0; b < nb; b++) {
    _mm256_store_ps(S + b * ATT_QB, acc[b][0]);
    _mm256_store_ps(S + b * ATT_QB + 8, acc[b][1]);
    mx[0] = _mm256_max_ps(mx[0], acc[b][0]);
    mx[1] = _mm256_max_ps(mx[1], acc[b][1]);
  }
}

/* Op[b][0..16) = Op[b][0..16) · corr + Σ_j v_j[b] · P[j][0..16) for nb (≤ 6) dims of the nkt
 * value rows v_j (kv_stride apart). */
static inline __attribute__((always_inline)) void att_values(float *Op, const float *P, const float *v, int kv_stride,
                                                             int nkt, __m256 corr0, __m256 corr1, int nb) {
  __m256 acc[6][2];
#pragma GCC unroll 6
  for (int b = 0; b < nb; b++) {
    acc[b][0] = _mm256_mul_ps(_mm256_load_ps(Op + b * ATT_QB), corr0);
    acc[b][1] = _mm256_mul_ps(_mm256_load_ps(Op + b * ATT_QB + 8), corr1);
  }
  for (int j = 0; j < nkt; j++) {
    __m256 p0 = _mm256_load_ps(P + j * ATT_QB), p1 = _mm256_load_ps(P + j * ATT_QB + 8);
    const float *vj = v + (size_t)j * kv_stride;
#pragma GCC unroll 6
    for (int b = 0; b < nb; b++) {
      __m256 vb = _mm256_broadcast_ss(vj + b);
      acc[b][0] = _mm256_fmadd_ps(vb, p0, acc[b][0]);
      acc[b][1] = _mm256_fmadd_ps(vb, p1, acc[b][1]);
    }
  }
#pragma GCC unroll 6
  for (int b = 0; b < nb; b++) {
    _mm256_store_ps(Op + b * ATT_QB, acc[b][0]);
    _mm256_store_ps(Op + b * ATT_QB + 8, acc[b][1]);
  }
}

/* The micro-kernels with a constant count, so that their accumulators stay in registers. */
static void att_scores_n(float *S, __m256 mx[2], const float *Qp, const float *k, int kv_stride, int head_dim,
                         int nb) {
  switch (nb) {
  case 6: att_scores(S, mx, Qp, k, kv_stride, head_dim, 6); break;
  case 5: att_scores(S, mx, Qp, k, kv_stride, head_dim, 5); break;
  case 4: att_scores(S, mx, Qp, k, kv_stride, head_dim, 4); break;
  case 3: att_scores(S, mx, Qp, k, kv_stride, head_dim, 3); break;
  case 2: att_scores(S, mx, Qp, k, kv_stride, head_dim, 2); break;
  default: att_scores(S, mx, Qp, k, kv_stride, head_dim, 1); break;
  }
}

static void att_values_n(float *Op, const float *P, const float *v, int kv_stride, int nkt, __m256 corr0,
                         __m256 corr1, int nb) {
  switch (nb) {
  case 6: att_values(Op, P, v, kv_stride, nkt, corr0, corr1, 6); break;
  case 5: att_values(Op, P, v, kv_stride, nkt, corr0, corr1, 5); break;
  case 4: att_values(Op, P, v, kv_stride, nkt, corr0, corr1, 4); break;
  case 3: att_values(Op, P, v, kv_stride, nkt, corr0, corr1, 3); break;
  case 2: att_values(Op, P, v, kv_stride, nkt, corr0, corr1, 2); break;
  default: att_values(Op, P, v, kv_stride, nkt, corr0, corr1, 1); break;
  }
}

/* The steps of one query block over nkt keys: S and its max (att_scores), the softmax's
 * update, Op (att_values). */
typedef void att_scores_fn(float *S, __m256 mx[2], const float *Qp, const float *k, int kv_stride, int head_dim,
                           int nkt);
typedef void att_softmax_fn(float *S, int nkt, const __m256 mx[2], float *m, float *l, __m256 corr[2]);
typedef void att_values_fn(float *Op, const float *P, const float *v, int kv_stride, int head_dim, int nkt,
                           __m256 corr0, __m256 corr1);

/* S = 2^(S − mx) in place (mx: the running max m updated with this tile's scores); l = l · corr
 * + Σ S, with corr = 2^(m − mx) the factor for what earlier tiles summed (on the first tile
 * 2^-inf = 0 scales the zeros of Op and l); m = mx. */
static void att_tile_softmax_avx2(float *S, int nkt, const __m256 mx[2], float *m, float *l, __m256 corr[2]) {
  __m256 sum0 = _mm256_setzero_ps(), sum1 = _mm256_setzero_ps();
  for (int j = 0; j < nkt; j++) {
    __m256 p0 = exp2_nonpos256(_mm256_sub_ps(_mm256_load_ps(S + j * ATT_QB), mx[0]));
    __m256 p1 = exp2_nonpos256(_mm256_sub_ps(_mm256_load_ps(S + j * ATT_QB + 8), mx[1]));
    _mm256_store_ps(S + j * ATT_QB, p0);
    _mm256_store_ps(S + j * ATT_QB + 8, p1);
    sum0 = _mm256_add_ps(sum0, p0);
    sum1 = _mm256_add_ps(sum1, p1);
  }
  corr[0] = exp2_nonpos256(_mm256_sub_ps(_mm256_load_ps(m), mx[0]));
  corr[1] = exp2_nonpos256(_mm256_sub_ps(_mm256_load_ps(m + 8), mx[1]));
  _mm256_store_ps(l, _mm256_fmadd_ps(_mm256_load_ps(l), corr[0], sum0));
  _mm256_store_ps(l + 8, _mm256_fmadd_ps(_mm256_load_ps(l + 8), corr[1], sum1));
  _mm256_store_ps(m, mx[0]);
  _mm256_store_ps(m + 8, mx[1]);
}

static void att_tile_scores_avx2(float *S, __m256 mx[2], const float *Qp, const float *k, int kv_stride, int head_dim,
                                 int nkt) {
  for (int j = 0; j < nkt; j += 6)
    att_scores_n(S + j * ATT_QB, mx, Qp, k + (size_t)j * kv_stride, kv_stride, head_dim, nkt - j < 6 ? nkt - j : 6);
}

static void att_tile_values_avx2(float *Op, const float *P, const float *v, int kv_stride, int head_dim, int nkt,
                                 __m256 corr0, __m256 corr1) {
  for (int d = 0; d < head_dim; d += 6)
    att_values_n(Op + d * ATT_QB, P, v + d, kv_stride, nkt, corr0, corr1, head_dim - d < 6 ? head_dim - d : 6);
}

/* The same with AVX-512 where the CPU has it (chosen at run time; the build's floor is AVX2): a
 * query block is one 16-float register, 12 keys or dims at a time. On a core with full-width
 * 512-bit FMA units (AMD Zen 5, recent Xeons) that is twice the multiply-adds per cycle. */

static inline AVX512 __attribute__((always_inline)) void att_scores512(float *S, __m512 *mx, const float *Qp,
                                                                       const float *k, int kv_stride, int head_dim,
                                                                       int nb) {
  __m512 acc[12];
#pragma GCC unroll 12
  for (int b = 0; b < nb; b++) acc[b] = _mm512_setzero_ps();
  for (int d = 0; d < head_dim; d++) {
    __m512 qd = _mm512_load_ps(Qp + d * ATT_QB);
#pragma GCC unroll 12
    for (int b = 0; b < nb; b++) acc[b] = _mm512_fmadd_ps(_mm512_set1_ps(k[(size_t)b * kv_stride + d]), qd, acc[b]);
  }
#pragma GCC unroll 12
  for (int b = 0; b < nb; b++) {
    _mm512_store_ps(S + b * ATT_QB, acc[b]);
    *mx = _mm512_max_ps(*mx, acc[b]);
  }
}

static inline AVX512 __attribute__((always_inline)) void att_values512(float *Op, const float *P, const float *v,
                                                                       int kv_stride, int nkt, __m512 corr, int nb) {
  __m512 acc[12];
#pragma GCC unroll 12
  for (int b = 0; b < nb; b++) acc[b] = _mm512_mul_ps(_mm512_load_ps(Op + b * ATT_QB), corr);
  for (int j = 0; j < nkt; j++) {
    __m512 pj = _mm512_load_ps(P + j * ATT_QB);
    const float *vj = v + (size_t)j * kv_stride;
#pragma GCC unroll 12
    for (int b = 0; b < nb; b++) acc[b] = _mm512_fmadd_ps(_mm512_set1_ps(vj[b]), pj, acc[b]);
  }
#pragma GCC unroll 12
  for (int b = 0; b < nb; b++) _mm512_store_ps(Op + b * ATT_QB, acc[b]);
}

static inline AVX512 __m512 join512(__m256 lo, __m256 hi) {
  return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(lo)), _mm256_castps_pd(hi), 1));
}

static inline AVX512 void split512(__m256 half[2], __m512 x) {
  half[0] = _mm512_castps512_ps256(x);
  half[1] = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1));
}

/* exp2_nonpos256's arithmetic, 16 lanes: the same values */
static inline AVX512 __m512 exp2_nonpos512(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-127.0f));
  __m512 fx = _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), r = _mm512_sub_ps(x, fx);
  __m512 p = _mm512_set1_ps(1.5403530393e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3333558146e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(9.6181291076e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.5504108665e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(2.4022650696e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(6.9314718056e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(fx), _mm512_set1_epi32(127)), 23);
  return _mm512_mul_ps(p, _mm512_castsi512_ps(e));
}

static AVX512 void att_tile_softmax_avx512(float *S, int nkt, const __m256 mx[2], float *m, float *l,
                                           __m256 corr[2]) {
  __m512 mxz = join512(mx[0], mx[1]), sum = _mm512_setzero_ps();
  for (int j = 0; j < nkt; j++) {
    __m512 p = exp2_nonpos512(_mm512_sub_ps(_mm512_load_ps(S + j * ATT_QB), mxz));
    _mm512_store_ps(S + j * ATT_QB, p);
    sum = _mm512_add_ps(sum, p);
  }
  __m512 c = exp2_nonpos512(_mm512_sub_ps(_mm512_load_ps(m), mxz));
  _mm512_store_ps(l, _mm512_fmadd_ps(_mm512_load_ps(l), c, sum));
  _mm512_store_ps(m, mxz);
  split512(corr, c);
}

/* 12 at a time, the rest as 8 + 4 + 2 + 1: five register-resident variants instead of twelve */
static AVX512 void att_tile_scores_avx512(float *S, __m256 mx[2], const float *Qp, const float *k, int kv_stride,
                                          int head_dim, int nkt) {
  __m512 m = join512(mx[0], mx[1]);
  for (int j = 0; j < nkt;) {
    float *Sj = S + j * ATT_QB;
    const float *kj = k + (size_t)j * kv_stride;
    int left = nkt - j;
    if (left >= 12) att_scores512(Sj, &m, Qp, kj, kv_stride, head_dim, 12), j += 12;
    else if (left >= 8) att_scores512(Sj, &m, Qp, kj, kv_stride, head_dim, 8), j += 8;
    else if (left >= 4) att_scores512(Sj, &m, Qp, kj, kv_stride, head_dim, 4), j += 4;
    else if (left >= 2) att_scores512(Sj, &m, Qp, kj, kv_stride, head_dim, 2), j += 2;
    else att_scores512(Sj, &m, Qp, kj, kv_stride, head_dim, 1), j += 1;
  }
  split512(mx, m);
}

static AVX512 void att_tile_values_avx512(float *Op, const float *P, const float *v, int kv_stride, int head_dim,
                                          int nkt, __m256 corr0, __m256 corr1) {
  __m512 corr = join512(corr0, corr1);
  for (int d = 0; d < head_dim;) {
    float *Od = Op + d * ATT_QB;
    const float *vd = v + d;
    int left = head_dim - d;
    if (left >= 12) att_values512(Od, P, vd, kv_stride, nkt, corr, 12), d += 12;
    else if (left >= 8) att_values512(Od, P, vd, kv_stride, nkt, corr, 8), d += 8;
    else if (left >= 4) att_values512(Od, P, vd, kv_stride, nkt, corr, 4), d += 4;
    else if (left >= 2) att_values512(Od, P, vd, kv_stride, nkt, corr, 2), d += 2;
    else att_values512(Od, P, vd, kv_stride, nkt, corr, 1), d += 1;
  }
}

/* attention_tile's job (one head, queries [i0, i0+nqt), nqt ≤ ATT_QT) with the blocked kernel. */
static int attention_tile_blocked(float *out, int out_stride, const float *q, int q_stride, const float *k,
                                  const float *v, int kv_stride, int i0, int nqt, int nk, int head_dim, float scale,
                                  int causal, int avx512) {
  att_scores_fn *tile_scores = avx512 ? att_tile_scores_avx512 : att_tile_scores_avx2;
  att_values_fn *tile_values = avx512 ? att_tile_values_avx512 : att_tile_values_avx2;
  att_softmax_fn *tile_softmax = avx512 ? att_tile_softmax_avx512 : att_tile_softmax_avx2;
  int nblocks = (nqt + ATT_QB - 1) / ATT_QB, block_size = head_dim * ATT_QB;
  float *S = scratch(SCR_ATT_S, (size_t)ATT_BKT * ATT_QB);
  float *buf = scratch(SCR_ATT_ML, 2 * (size_t)ATT_QT + 2 * (size_t)ATT_QT * head_dim);
  if (!S || !buf) return 0;
  float *m = buf, *l = buf + ATT_QT, *Qp = buf + 2 * ATT_QT, *Op = Qp + (size_t)ATT_QT * head_dim;
  scale *= 1.44269504088896341f; /* log2 e: scores in log2 units, for exp2_nonpos256 */
  /* queries past nqt are zeros: finite scores, never written out */
  for (int b = 0; b < nblocks; b++)
    for (int d = 0; d < head_dim; d++)
      for (int r = 0; r < ATT_QB; r++) {
        int i = b * ATT_QB + r;
        Qp[(size_t)b * block_size + d * ATT_QB + r] = i < nqt ? q[(size_t)i * q_stride + d] * scale : 0.0f;
      }
  for (int i = 0; i < nblocks * ATT_QB; i++) m[i] = -INFINITY, l[i] = 0;
  memset(Op, 0, (size_t)nblocks * block_size * sizeof(float));
  int kend = causal ? (i0 + nqt < nk ? i0 + nqt : nk) : nk;
  for (int j0 = 0; j0 < kend; j0 += ATT_BKT) {
    for (int b = 0; b < nblocks; b++) {
      /* causal: the block's last query sees keys up to its own index; key 0 is in the first
       * tile, so every row's max is finite from then on */
      int qlast = i0 + b * ATT_QB + ATT_QB - 1, bend = causal && qlast + 1 < kend ? qlast + 1 : kend;
      if (bend <= j0) continue;
      int nkt = bend - j0 < ATT_BKT ? bend - j0 : ATT_BKT;
      const float *Qb = Qp + (size_t)b * block_size;
      float *Ob = Op + (size_t)b * block_size, *mb = m + b * ATT_QB, *lb = l + b * ATT_QB;
      __m256 m0 = _mm256_load_ps(mb), m1 = _mm256_load_ps(mb + 8), mx[2] = {m0, m1};
      tile_scores(S, mx, Qb, k + (size_t)j0 * kv_stride, kv_stride, head_dim, nkt);
      if (causal && j0 + nkt - 1 > i0 + b * ATT_QB) { /* the diagonal: mask, and the max again */
        __m256 qi0 = _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7), qi1 = _mm256_setr_ps(8, 9, 10, 11, 12, 13, 14, 15);
        qi0 = _mm256_add_ps(qi0, _mm256_set1_ps((float)(i0 + b * ATT_QB)));
        qi1 = _mm256_add_ps(qi1, _mm256_set1_ps((float)(i0 + b * ATT_QB)));
        __m256 ninf = _mm256_set1_ps(-INFINITY);
        mx[0] = m0, mx[1] = m1;
        for (int j = 0; j < nkt; j++) {
          __m256 key = _mm256_set1_ps((float)(j0 + j));
          float *s = S + j * ATT_QB;
          __m256 s0 = _mm256_blendv_ps(_mm256_load_ps(s), ninf, _mm256_cmp_ps(key, qi0, _CMP_GT_OQ));
          __m256 s1 = _mm256_blendv_ps(_mm256_load_ps(s + 8), ninf, _mm256_cmp_ps(key, qi1, _CMP_GT_OQ));
          _mm256_store_ps(s, s0);
          _mm256_store_ps(s + 8, s1);
          mx[0] = _mm256_max_ps(mx[0], s0);
          mx[1] = _mm256_max_ps(mx[1], s1);
        }
      }
      __m256 corr[2];
      tile_softmax(S, nkt, mx, mb, lb, corr);
      tile_values(Ob, S, v + (size_t)j0 * kv_stride, kv_stride, head_dim, nkt, corr[0], corr[1]);
    }
  }
  for (int i = 0; i < nqt; i++) {
    const float *o = Op + (size_t)(i / ATT_QB) * block_size + i % ATT_QB;
    float inv = l[i] > 0 ? 1.0f / l[i] : 0.0f, *dst = out + (size_t)i * out_stride;
    for (int d = 0; d < head_dim; d++) dst[d] = o[d * ATT_QB] * inv;
  }
  return 1;
}

void attention(float *out, const float *q, int q_stride, const float *k, const float *v, int kv_stride, int nq,
               int nk, int heads, int head_dim, float scale, int causal) {
  int qtiles = (nq + ATT_QT - 1) / ATT_QT, out_stride = heads * head_dim;
  int avx512 = att_avx512 && __builtin_cpu_supports("avx512f");
  int blocked_max_hd = att_blocked_max_hd ? att_blocked_max_hd : avx512 ? INT_MAX : ATT_BLOCKED_MAX_HD_AVX2;
  int jobs = heads * qtiles, oom = 0, blocked = head_dim <= blocked_max_hd;
#pragma omp parallel for num_threads(a2i2a_get_threads()) schedule(dynamic) if (jobs > 1)
  for (int job = 0; job < jobs; job++) {
    int h = job / qtiles, i0 = job % qtiles * ATT_QT;
    int nqt = nq - i0 < ATT_QT ? nq - i0 : ATT_QT;
    size_t ho = (size_t)h * head_dim;
    float *o = out + (size_t)i0 * out_stride + ho;
    const float *qi = q + (size_t)i0 * q_stride + ho;
    if (!(blocked ? attention_tile_blocked(o, out_stride, qi, q_stride, k + ho, v + ho, kv_stride, i0, nqt, nk, head_dim,
                                           scale, causal, avx512)
                  : attention_tile(o, out_stride, qi, q_stride, k + ho, v + ho, kv_stride, i0, nqt, nk, head_dim, scale,
                                   causal))) {
#pragma omp atomic write
      oom = 1;
    }
  }
  if (oom)
    note_failure(blocked ? (size_t)ATT_BKT * ATT_QB + 2 * (size_t)ATT_QT * (1 + head_dim)
                         : (size_t)ATT_QT * ATT_KT + 2 * ATT_QT);
}

/* ------------------------------------------------------------------ layout */

void upsample_nearest(float *y, const float *x, int C, int H, int W, int OH, int OW) {
  /* torch's nearest index: floor(dst * (float)in/out), clamped to in-1 */
  float sy = (float)H / OH, sx = (float)W / OW;
#pragma omp parallel for num_threads(a2i2a_get_threads()) if ((size_t)C * OH * OW > PAR_N)
  for (int c = 0; c < C; c++) {
    const float *xc = x + (size_t)c * H * W;
    float *yc = y + (size_t)c * OH * OW;
    for (int oy = 0; oy < OH; oy++) {
      int iy = OH == 2 * H ? oy >> 1 : (int)floorf(oy * sy);
      if (iy > H - 1) iy = H - 1;
      const float *xr = xc + (size_t)iy * W;
      float *yr = yc + (size_t)oy * OW;
      if (OW == 2 * W)
        for (int ox = 0; ox < OW; ox++) yr[ox] = xr[ox >> 1];
      else
        for (int ox = 0; ox < OW; ox++) {
          int ix = (int)floorf(ox * sx);
          yr[ox] = xr[ix > W - 1 ? W - 1 : ix];
        }
    }
  }
}

#define TB 32

void transpose_chw_hwc(float *y, const float *x, int C, int HW) {
#pragma omp parallel for num_threads(a2i2a_get_threads()) if ((size_t)C * HW > PAR_N)
  for (int p0 = 0; p0 < HW; p0 += TB)
    for (int c0 = 0; c0 < C; c0 += TB)
      for (int p = p0; p < p0 + TB && p < HW; p++)
        for (int c = c0; c < c0 + TB && c < C; c++) y[(size_t)p * C + c] = x[(size_t)c * HW + p];
}

void transpose_hwc_chw(float *y, const float *x, int C, int HW) {
#pragma omp parallel for num_threads(a2i2a_get_threads()) if ((size_t)C * HW > PAR_N)
  for (int c0 = 0; c0 < C; c0 += TB)
    for (int p0 = 0; p0 < HW; p0 += TB)
      for (int c = c0; c < c0 + TB && c < C; c++)
        for (int p = p0; p < p0 + TB && p < HW; p++) y[(size_t)c * HW + p] = x[(size_t)p * C + c];
}
