/* Property tests of our own readings (docs/readings.md): each states what the reading hears
 * in an image and checks it on a synthetic image built for the purpose. */
#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "readings/readings.h"

static image_u8 blank(int w, int h) {
  image_u8 img = {w, h, 3, calloc((size_t)w * h * 3, 1)};
  return img;
}
static void set_px(image_u8 *img, int x, int y, int r, int g, int b) {
  uint8_t *p = img->px + ((size_t)y * img->w + x) * 3;
  p[0] = (uint8_t)r, p[1] = (uint8_t)g, p[2] = (uint8_t)b;
}
static reading_input input(const image_u8 *img) {
  reading_input in = {img, NULL, "synthetic", {0}, NULL};
  return in;
}
static double rms(const float *x, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; i++) s += (double)x[i] * x[i];
  return sqrt(s / n);
}

/* Least-squares fit of a sinusoid at f over x[a, b): returns residual RMS / signal RMS. */
static double sine_residual(const float *x, int64_t a, int64_t b, double f, double sr) {
  double cc = 0, ss = 0, cs = 0, xc = 0, xs = 0;
  for (int64_t i = a; i < b; i++) {
    double c = cos(2 * M_PI * f * i / sr), s = sin(2 * M_PI * f * i / sr);
    cc += c * c, ss += s * s, cs += c * s, xc += x[i] * c, xs += x[i] * s;
  }
  double det = cc * ss - cs * cs, A = (xc * ss - xs * cs) / det, B = (xs * cc - xc * cs) / det;
  double res = 0, sig = 0;
  for (int64_t i = a; i < b; i++) {
    double fit = A * cos(2 * M_PI * f * i / sr) + B * sin(2 * M_PI * f * i / sr);
    res += (x[i] - fit) * (x[i] - fit), sig += (double)x[i] * x[i];
  }
  return sqrt(res / sig);
}

static void test_sines(void) {
  /* one bright white row among black: a single sine at that row's frequency, centred, and
   * nothing else above −60 dB */
  image_u8 img = blank(40, 64);
  const int row = 20;
  for (int x = 0; x < img.w; x++) set_px(&img, x, row, 255, 255, 255);
  reading_input in = input(&img);
  in.p.seconds = 2;
  audio_buf a = {0};
  CHECK(reading_sines(&in, &a) == A2I2A_OK, "sines failed");
  double f = row_frequency(row, img.h, 55, 14080);
  int64_t n = a.frames;
  CHECK(a.channels == 2 && a.rate == 44100 && n == 88200, "sines: %d channels, %g Hz, %lld frames", a.channels, a.rate,
        (long long)n);
  for (int c = 0; c < 2; c++) {
    double r = sine_residual(a.x + c * n, n / 10, n - n / 10, f, a.rate);
    CHECK(r < 1e-3, "sines: channel %d is not a pure %.2f Hz sine (residual %.2g, want < -60 dB)", c, f, r);
    /* 1 Hz off must be detectably worse: the test can tell frequencies apart */
    double r1 = sine_residual(a.x + c * n, n / 10, n - n / 10, f + 1, a.rate);
    CHECK(r1 > 0.1, "sines: the fit cannot tell %.2f from %.2f Hz", f, f + 1);
    if (c == 0) printf("sines: row %d = %.2f Hz, residual %.1f dB\n", row, f, 20 * log10(r));
  }
  double l = rms(a.x, n), r = rms(a.x + n, n);
  CHECK(fabs(l - r) < 1e-6 * l, "sines: white is not centred (L %g, R %g)", l, r);
  audio_free(&a);
  /* red only: silence on the right; green only: silence on the left; yellow: centred */
  for (int x = 0; x < img.w; x++) set_px(&img, x, row, 255, 0, 0), set_px(&img, x, 5, 200, 0, 0);
  CHECK(reading_sines(&in, &a) == A2I2A_OK, "sines failed");
  n = a.frames;
  int nz = 0;
  for (int64_t i = 0; i < n; i++) nz += a.x[n + i] != 0;
  CHECK(nz == 0 && rms(a.x, n) > 0.1, "sines: red-only image: %d non-zero samples on the right", nz);
  audio_free(&a);
  for (int x = 0; x < img.w; x++) set_px(&img, x, row, 0, 255, 0), set_px(&img, x, 5, 0, 0, 0);
  CHECK(reading_sines(&in, &a) == A2I2A_OK, "sines failed");
  nz = 0;
  for (int64_t i = 0; i < n; i++) nz += a.x[i] != 0;
  CHECK(nz == 0 && rms(a.x + n, n) > 0.1, "sines: green-only image: %d non-zero samples on the left", nz);
  audio_free(&a);
  for (int x = 0; x < img.w; x++) set_px(&img, x, row, 255, 255, 0);
  CHECK(reading_sines(&in, &a) == A2I2A_OK, "sines failed");
  l = rms(a.x, n), r = rms(a.x + n, n);
  CHECK(fabs(l - r) < 1e-3 * l, "sines: yellow is not centred (L %g, R %g)", l, r);
  audio_free(&a);
  /* brightness is loudness: half the columns at level 255, half at 155 (−23.5 dB on the 60 dB scale) */
  for (int x = 0; x < img.w; x++) set_px(&img, x, row, x < img.w / 2 ? 255 : 155, x < img.w / 2 ? 255 : 155, 0);
  CHECK(reading_sines(&in, &a) == A2I2A_OK, "sines failed");
  double early = rms(a.x + n / 10, n / 5), late = rms(a.x + n - n / 10 - n / 5, n / 5);
  double want = 20 * log10(pixel_level((uint8_t[]){155, 155, 0}) / pixel_level((uint8_t[]){255, 255, 0}));
  CHECK(fabs(20 * log10(late / early) - want) < 0.1, "sines: level step %.2f dB, want %.2f", 20 * log10(late / early),
        want);
  audio_free(&a);
  free(img.px);
}

static void test_noise(void) {
  /* one bright row: ≥ 95 % of the power within ±10 % of the row's frequency; a black image
   * is silent; the seed decides the noise */
  image_u8 img = blank(30, 128);
  const int row = 40;
  for (int x = 0; x < img.w; x++) set_px(&img, x, row, 255, 255, 255);
  reading_input in = input(&img);
  in.p.seconds = 2;
  audio_buf a = {0}, b = {0};
  CHECK(reading_noise(&in, &a) == A2I2A_OK, "noise failed");
  double f = row_frequency(row, img.h, 55, 14080);
  int64_t n = a.frames;
  double *sp = fftw_malloc(sizeof(double) * n);
  fftw_complex *X = fftw_malloc(sizeof(fftw_complex) * (n / 2 + 1));
  for (int64_t i = 0; i < n; i++) sp[i] = a.x[i];
  fftw_plan pl = fftw_plan_dft_r2c_1d((int)n, sp, X, FFTW_ESTIMATE);
  fftw_execute(pl);
  double in_band = 0, total = 0;
  for (int64_t k = 0; k <= n / 2; k++) {
    double fk = k * a.rate / n, p = X[k][0] * X[k][0] + X[k][1] * X[k][1];
    total += p;
    if (fk > f / 1.1 && fk < f * 1.1) in_band += p;
  }
  CHECK(in_band / total >= 0.95, "noise: only %.1f %% of the power within 10 %% of %.1f Hz", 100 * in_band / total, f);
  printf("noise: %.2f %% of the power within 10 %% of %.1f Hz\n", 100 * in_band / total, f);
  fftw_destroy_plan(pl), fftw_free(sp), fftw_free(X);
  in.p.seed = 1;
  CHECK(reading_noise(&in, &b) == A2I2A_OK, "noise failed");
  CHECK(b.frames == n && memcmp(a.x, b.x, sizeof(float) * n) != 0, "noise: seeds 0 and 1 gave the same noise");
  audio_free(&b);
  in.p.seed = 0;
  CHECK(reading_noise(&in, &b) == A2I2A_OK, "noise failed");
  CHECK(b.frames == n && memcmp(a.x, b.x, sizeof(float) * n) == 0, "noise: seed 0 twice gave different noise");
  audio_free(&a), audio_free(&b);
  memset(img.px, 0, (size_t)img.w * img.h * 3);
  CHECK(reading_noise(&in, &a) == A2I2A_OK, "noise failed");
  CHECK(rms(a.x, a.frames) == 0, "noise: a black image is not silent");
  audio_free(&a);
  free(img.px);
}

static void test_scan(void) {
  /* a uniform colour: W slots of the length blue asks for, each a chirp f → 1.5 f with f set
   * by red (mean frequency 1.25 f by zero crossings), peak set by green */
  const int w = 10, h = 4;
  image_u8 img = blank(w, h);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) set_px(&img, x, y, 128, 64, x < w / 2 ? 0 : 255);
  reading_input in = input(&img);
  audio_buf a = {0};
  CHECK(reading_scan(&in, &a) == A2I2A_OK, "scan failed");
  int64_t short_len = llround(0.01 * 44100), long_len = llround(0.1 * 44100);
  CHECK(a.frames == (w / 2) * (short_len + long_len), "scan: %lld samples, want %lld", (long long)a.frames,
        (long long)((w / 2) * (short_len + long_len)));
  double f = 110 * pow(1760.0 / 110, 128 / 255.0);
  /* the last (long) slot: zero crossings over its middle give the mean frequency there */
  const float *s = a.x + a.frames - long_len;
  int64_t a0 = long_len / 4, a1 = long_len - long_len / 4;
  int zc = 0;
  for (int64_t i = a0 + 1; i < a1; i++) zc += (s[i - 1] < 0) != (s[i] < 0);
  double fm = zc / 2.0 / ((a1 - a0) / 44100.0);
  double want = f * (1 + 0.5 * 0.5); /* the chirp's frequency at the slot's middle */
  CHECK(fabs(fm - want) < 0.03 * want, "scan: %.1f Hz in the slot's middle, want %.1f", fm, want);
  float peak = 0;
  for (int64_t i = 0; i < a.frames; i++) peak = fmaxf(peak, fabsf(a.x[i]));
  double want_peak = 0.891251 * (0.2 + 0.8 * 64 / 255.0);
  CHECK(fabs(peak - want_peak) < 0.01 * want_peak, "scan: peak %.4f, want %.4f (green)", peak, want_peak);
  printf("scan: slot frequency %.1f Hz (want %.1f), peak %.4f (want %.4f)\n", fm, want, peak, want_peak);
  audio_free(&a);
  free(img.px);
}

static void test_bend(void) {
  /* bytes as samples: a uniform image is silent; columns alternating black and white give a
   * square wave of period 6 samples (3 bytes per pixel) */
  image_u8 img = blank(64, 8);
  memset(img.px, 77, (size_t)64 * 8 * 3);
  reading_input in = input(&img);
  audio_buf a = {0};
  CHECK(reading_bend(&in, &a) == A2I2A_OK, "bend failed");
  CHECK(a.frames == 64 * 8 * 3 && rms(a.x, a.frames) == 0, "bend: a uniform image is not silent");
  audio_free(&a);
  for (int y = 0; y < 8; y++)
    for (int x = 0; x < 64; x++) set_px(&img, x, y, x % 2 ? 255 : 0, x % 2 ? 255 : 0, x % 2 ? 255 : 0);
  CHECK(reading_bend(&in, &a) == A2I2A_OK, "bend failed");
  int bad = 0;
  for (int64_t i = 0; i < a.frames; i++) {
    float want = (i / 3) % 2 ? 0.891251f : -0.891251f;
    bad += fabsf(a.x[i] - want) > 1e-6f;
  }
  CHECK(bad == 0, "bend: %d samples are not the square wave the bytes spell", bad);
  audio_free(&a);
  free(img.px);
}

int main(void) {
  test_sines();
  test_noise();
  test_scan();
  test_bend();
  return check_done();
}
