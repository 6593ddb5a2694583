/* The notebook readings' arithmetic against the fixtures (README §5): the Griffin-Lim target
 * LUT, the phase vocoder "stretch" (exact from `mixed`), the chirp sum (from col_mean). */
#include <math.h>
#include <sndfile.h>
#include <stdlib.h>

#include "check.h"
#include "readings/readings.h"
#include "sd/safetensors.h"

static const char *images[] = {"i01_spectrogram_a02", "i02_gnome_blobs_400x296", "i03_synthetic_400x296"};

static float *read_wav(const char *path, int64_t *n) {
  SF_INFO info = {0};
  SNDFILE *f = sf_open(path, SFM_READ, &info);
  if (!f) return NULL;
  float *x = malloc(sizeof(float) * info.frames * info.channels);
  sf_readf_float(f, x, info.frames);
  sf_close(f);
  *n = info.frames;
  return x;
}

static void test_lut(void) {
  st_file f;
  if (st_open(fixture("seed/lut_u8.safetensors"), &f)) {
    CHECK(0, "cannot open lut_u8");
    return;
  }
  float *ref = st_load_f32(&f, "gl_magnitude", 256), lut[256];
  seed_magnitude_lut(lut);
  double worst = 0;
  for (int v = 0; v < 256; v++) worst = fmax(worst, fabs(lut[v] - ref[v]) / ref[v]);
  CHECK(worst <= 1e-6, "LUT relative error %g > 1e-6", worst);
  printf("lut: max relative error %.3g\n", worst);
  free(ref);
  st_close(&f);
}

static void test_pv(const char *img, int with_heads) {
  char p[512];
  snprintf(p, sizeof p, "seed/i2a/%s/pv.safetensors", img);
  if (!fixture_case(p)) return;
  st_file f;
  if (st_open(fixture(p), &f)) {
    CHECK(0, "cannot open %s", p);
    return;
  }
  const st_tensor *tm = st_find(&f, "mixed");
  int64_t n = tm->numel;
  float *m = st_load_f32(&f, "mixed", n);
  int64_t n_out = pv_stretch3_len(n);
  CHECK(n_out == 3 * n, "%s: pv length %lld, want %lld", img, (long long)n_out, (long long)(3 * n));
  float *out = malloc(sizeof(float) * n_out), *ts = malloc(sizeof(float) * n_out),
        *mag = malloc(sizeof(float) * n_out), *acc = malloc(sizeof(float) * n_out);
  pv_stretch3(m, n, out, ts, mag, acc);
  if (with_heads) {
    const char *names[3] = {"time_steps", "mag", "phase_acc"};
    float *ours[3] = {ts, mag, acc};
    for (int k = 0; k < 3; k++) {
      char hn[64], tn[64];
      snprintf(hn, 64, "%s_head", names[k]);
      snprintf(tn, 64, "%s_tail", names[k]);
      float *h = st_load_f32(&f, hn, 16384), *t = st_load_f32(&f, tn, 32);
      int bad = 0;
      for (int i = 0; i < 16384; i++) bad += ours[k][i] != h[i];
      for (int i = 0; i < 32; i++) bad += ours[k][n_out - 32 + i] != t[i];
      CHECK(bad == 0, "%s: %s differs from the fixture in %d of 16416 values", img, names[k], bad);
      free(h), free(t);
    }
  }
  snprintf(p, sizeof p, "seed/i2a/%s/rgb_mean.wav", img);
  int64_t nr;
  float *ref = read_wav(fixture(p), &nr);
  CHECK(ref && nr == n_out, "%s: rgb_mean.wav length", img);
  if (ref && nr == n_out) {
    double worst = 0;
    for (int64_t i = 0; i < n_out; i++) worst = fmax(worst, fabs(out[i] - ref[i]));
    CHECK(worst <= 1e-6, "%s: phase vocoder max abs error %g > 1e-6", img, worst);
    printf("%s: phase vocoder from mixed: max abs error %.3g\n", img, worst);
  }
  free(ref), free(out), free(ts), free(mag), free(acc), free(m);
  st_close(&f);
}

static void test_chirp(const char *img) {
  char p[512];
  snprintf(p, sizeof p, "seed/i2a/%s/chirp.safetensors", img);
  if (!fixture_case(p)) return;
  st_file f;
  if (st_open(fixture(p), &f)) {
    CHECK(0, "cannot open %s", p);
    return;
  }
  const st_tensor *t = st_find(&f, "col_mean");
  double cm[1200], r[400], g[400];
  memcpy(cm, t->data, sizeof cm);
  for (int x = 0; x < 400; x++) r[x] = cm[3 * x], g[x] = cm[3 * x + 1];
  float *out = malloc(sizeof(float) * 720000);
  chirp_sum(r, g, 400, 720000, 30.0, out);
  snprintf(p, sizeof p, "seed/i2a/%s/chirp.wav", img);
  int64_t nr;
  float *ref = read_wav(fixture(p), &nr);
  CHECK(ref && nr == 720000, "%s: chirp.wav length", img);
  if (ref && nr == 720000) {
    double worst = 0;
    for (int64_t i = 0; i < nr; i++) worst = fmax(worst, fabs(out[i] - ref[i]));
    CHECK(worst <= 1e-6, "%s: chirp max abs error %g > 1e-6", img, worst);
    printf("%s: chirp from col_mean: max abs error %.3g\n", img, worst);
  }
  free(ref), free(out);
  st_close(&f);
}

int main(void) {
  test_lut();
  for (int i = 0; i < 3; i++) test_pv(images[i], i == 0);
  test_chirp(images[2]);
  return check_done();
}
