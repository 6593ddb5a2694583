/* The pure arithmetic of the notebook's readings (README §5): no I/O, no FFT, so that it can
 * be tested on its own against the fixtures' intermediates. */
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>

#include "readings/readings.h"

void seed_magnitude_lut(float lut[256]) {
  /* torch: c = u8/255; S = 10^((c·80 − 80)/20) (a "power" spectrogram); GriffinLim's
   * power = 2 takes its square root. Float32 step by step, as torch computes it. */
  for (int v = 0; v < 256; v++) {
    float c = (float)v / 255.0f;
    float e = (c * 80.0f - 80.0f) / 20.0f;
    lut[v] = sqrtf(powf(10.0f, e));
  }
}

void seed_magnitude(const image_u8 *img, int channel, float *mag) {
  float lut[256];
  seed_magnitude_lut(lut);
  const int w = img->w, h = img->h;
  for (int k = 0; k < h; k++)
    for (int t = 0; t < w; t++) mag[(size_t)k * w + t] = lut[img->px[((size_t)k * w + t) * 3 + channel]];
}

void rng_skip(torch_rng *g, uint64_t n) {
  for (uint64_t i = 0; i < n; i++) (void)rng_u32(g);
}

void normalise_peak(float *x, int64_t n) {
  float m = 0;
  for (int64_t i = 0; i < n; i++) m = fmaxf(m, fabsf(x[i]));
  if (m > 0)
    for (int64_t i = 0; i < n; i++) x[i] /= m;
}

void normalise_to(float *x, int64_t n, float peak) {
  double m = 0;
  for (int64_t i = 0; i < n; i++) m = fmax(m, fabs((double)x[i]));
  if (m > 0) {
    double g = peak / m;
    for (int64_t i = 0; i < n; i++) x[i] = (float)(x[i] * g);
  }
}

void settle_level(audio_buf *a, int level_known) {
  const int64_t n = (int64_t)a->channels * a->frames;
  double peak = 0;
  for (int64_t i = 0; i < n; i++) peak = fmax(peak, fabs(a->x[i]));
  if (!level_known || peak > 0.891251) normalise_to(a->x, n, 0.891251f);
}

void torch_arange_f32(int64_t n_out, double step, float *ts) {
  /* torch's AVX2 kernel: 8-wide vectors from a float base (i₀·step rounded), the last
   * n_out mod 16 elements by the scalar path. */
  int64_t vec_end = n_out - n_out % 16;
  for (int64_t i = 0; i < vec_end; i++) {
    int64_t i0 = i & ~(int64_t)7;
    double base = (double)(float)((double)i0 * step);
    ts[i] = (float)(base + (double)(i - i0) * step);
  }
  for (int64_t i = vec_end; i < n_out; i++) ts[i] = (float)((double)i * step);
}

static inline float real_angle(float x) { return x < 0 ? 3.14159274f : 0.0f; }

int64_t pv_stretch3_len(int64_t n) { return (int64_t)ceil((double)n / (1.0 / 3.0)); }

void pv_stretch3(const float *m, int64_t n, float *out, float *time_steps, float *mag, float *phase_acc) {
  const double rate = 1.0 / 3.0;
  const int64_t n_out = pv_stretch3_len(n);
  const float pa = (float)(3 * n); /* phase_advance: the integer 3L */
  const float two_pi = 6.2831855f;
  float *ts = time_steps ? time_steps : malloc(sizeof(float) * n_out);
  torch_arange_f32(n_out, rate, ts);
  /* mp = m followed by two zeros */
#define MP(j) ((j) < n ? m[j] : 0.0f)
  double sum = real_angle(m[0]);
  float prev_phi = 0;
  for (int64_t i = 0; i < n_out; i++) {
    float t = ts[i];
    float alpha = t - floorf(t);
    int64_t i0 = (int64_t)t, i1 = (int64_t)(t + 1.0f);
    float a0 = MP(i0), a1 = MP(i1);
    /* phase[0] = angle(m[0]); phase[i] = φ(i−1); acc = cumsum in double, rounded per step */
    if (i > 0) sum += (double)prev_phi;
    float acc = (float)sum;
    float phi = (real_angle(a1) - real_angle(a0)) - pa;
    float k = rintf(phi / two_pi);
    float wrap = two_pi * k;
    phi = phi - wrap;
    prev_phi = phi + pa;
    float one_minus = 1.0f - alpha;
    float w1 = alpha * fabsf(a1), w0 = one_minus * fabsf(a0);
    float mg = w1 + w0;
    out[i] = mg * cosf(acc);
    if (mag) mag[i] = mg;
    if (phase_acc) phase_acc[i] = acc;
  }
#undef MP
  if (!time_steps) free(ts);
}

/* One column's phasor at sample b0 (p[0], p[1]), its rotation per sample there (p[2], p[3]) and
 * the rotation of that rotation (p[4], p[5]): cos and sin of φ(b0), Δφ(b0) and Δ²φ. */
static void chirp_block_start(double p[6], double f, double beta, double step, int64_t b0) {
  const double t0 = (double)b0 * step;
  const double ph0 = 2 * M_PI * (f * t0 + 0.5 * beta * t0 * t0);
  /* Δφ(n) = φ(n+1) − φ(n) = 2π(f·h + β·h²·(n + ½)), h = step */
  const double d0 = 2 * M_PI * (f * step + beta * step * step * ((double)b0 + 0.5));
  const double dd = 2 * M_PI * beta * step * step;
  p[0] = cos(ph0), p[1] = sin(ph0), p[2] = cos(d0), p[3] = sin(d0), p[4] = cos(dd), p[5] = sin(dd);
}

void chirp_sum(const double *col_r, const double *col_g, int ncols, int64_t n, double seconds, float *out) {
  /* scipy.signal.chirp (linear): cos(2π(f·t + ½β·t²)), β = (1.5f − f)/seconds, on numpy's
   * linspace(0, seconds, n) (step seconds/(n − 1), last sample exactly `seconds`). The phase
   * is quadratic in the sample index, so within a block each column's phasor advances by a
   * rotation that itself rotates at a constant rate: two complex products per sample instead
   * of a cosine, restarted exactly (cos/sin) at every block so that rounding cannot build up
   * (≤ 1e-12 here against the direct formula; the fixture tolerance is 1e-6). */
  enum { BLOCK = 2048 };
  const double step = seconds / (double)(n - 1);
  double *f = malloc(sizeof(double) * ncols * 3);
  double *amp = f + ncols, *beta = f + 2 * ncols;
  for (int x = 0; x < ncols; x++) {
    f[x] = 800.0 * col_r[x];
    amp[x] = 0.2 + 0.8 * col_g[x];
    beta[x] = (1.5 * f[x] - f[x]) / seconds;
  }
  const int64_t nblocks = (n + BLOCK - 1) / BLOCK;
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < nblocks; b++) {
    const int64_t b0 = b * BLOCK, b1 = b0 + BLOCK < n ? b0 + BLOCK : n;
    double acc[BLOCK];
    for (int64_t i = 0; i < b1 - b0; i++) acc[i] = 0;
    int x = 0;
    /* four columns' phasors side by side (each lane the same operations as the scalar loop
     * below; ISO C, so no fused multiply-adds in either), added to acc in column order: the
     * same bits, without a serial chain of dependent products per column */
    for (; x + 4 <= ncols; x += 4) {
      double z[6][4], a4[4];
      for (int l = 0; l < 4; l++) {
        double p[6];
        chirp_block_start(p, f[x + l], beta[x + l], step, b0);
        for (int k = 0; k < 6; k++) z[k][l] = p[k];
        a4[l] = amp[x + l];
      }
      __m256d zr = _mm256_loadu_pd(z[0]), zi = _mm256_loadu_pd(z[1]), rr = _mm256_loadu_pd(z[2]),
              ri = _mm256_loadu_pd(z[3]), qr = _mm256_loadu_pd(z[4]), qi = _mm256_loadu_pd(z[5]);
      const __m256d a = _mm256_loadu_pd(a4), nc = _mm256_set1_pd((double)ncols);
      for (int64_t i = 0; i < b1 - b0; i++) {
        double v[4];
        _mm256_storeu_pd(v, _mm256_div_pd(_mm256_mul_pd(a, zr), nc));
        acc[i] += v[0];
        acc[i] += v[1];
        acc[i] += v[2];
        acc[i] += v[3];
        __m256d t = _mm256_sub_pd(_mm256_mul_pd(zr, rr), _mm256_mul_pd(zi, ri));
        zi = _mm256_add_pd(_mm256_mul_pd(zr, ri), _mm256_mul_pd(zi, rr));
        zr = t;
        t = _mm256_sub_pd(_mm256_mul_pd(rr, qr), _mm256_mul_pd(ri, qi));
        ri = _mm256_add_pd(_mm256_mul_pd(rr, qi), _mm256_mul_pd(ri, qr));
        rr = t;
      }
    }
    for (; x < ncols; x++) {
      double p[6];
      chirp_block_start(p, f[x], beta[x], step, b0);
      double zr = p[0], zi = p[1], rr = p[2], ri = p[3], qr = p[4], qi = p[5];
      const double a = amp[x];
      for (int64_t i = 0; i < b1 - b0; i++) {
        acc[i] += a * zr / ncols;
        double t = zr * rr - zi * ri;
        zi = zr * ri + zi * rr;
        zr = t;
        t = rr * qr - ri * qi;
        ri = rr * qi + ri * qr;
        rr = t;
      }
    }
    for (int64_t i = 0; i < b1 - b0; i++) out[b0 + i] = (float)acc[i];
  }
  /* the last sample sits exactly at `seconds` */
  double last = 0;
  for (int x = 0; x < ncols; x++)
    last += amp[x] * cos(2 * M_PI * (f[x] * seconds + 0.5 * beta[x] * seconds * seconds)) / ncols;
  out[n - 1] = (float)last;
  free(f);
}
