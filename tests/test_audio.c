/* Audio building blocks against the seed fixtures: decoding of all nine inputs, the STFT of
 * a01, the Riffusion mel filter bank, plus stated properties (istft∘stft = id, Slaney areas,
 * WAV/FLAC round trips, resampling). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audio/audio.h"
#include "check.h"
#include "common/rng.h"
#include "sd/safetensors.h"

static const char *NAMES[9] = {
    "a01_speech_libri_16k_mono_s16.flac", "a02_brahms_44k1_stereo_s16.wav", "a03_humpback_22k05_mono.ogg",
    "a04_trumpet_44k1_stereo.mp3",        "a05_fishin_48k_stereo_f32.wav",  "a06_espeak_22k05_mono_s16.wav",
    "a07_sweep_44k1_mono_f32.wav",        "a08_clicks_16k_mono_s16.wav",    "a09_noiseburst_48k_stereo_s24.wav"};

static void test_decode(void) {
  for (int f = 0; f < 9; f++) {
    char rel[512], stem[256];
    snprintf(stem, sizeof stem, "%s", NAMES[f]);
    *strrchr(stem, '.') = 0;
    snprintf(rel, sizeof rel, "seed/a2i/%s/a2i.safetensors", stem);
    if (!fixture_case(rel)) continue;
    snprintf(rel, sizeof rel, "seed/audio/%s", NAMES[f]);
    audio_buf a;
    a2i2a_status st = audio_read(fixture(rel), &a);
    CHECK(st == A2I2A_OK, "%s: %s", NAMES[f], a2i2a_last_error());
    if (st) continue;
    snprintf(rel, sizeof rel, "seed/a2i/%s/a2i.safetensors", stem);
    st_file sf;
    if (st_open(fixture(rel), &sf)) {
      CHECK(0, "%s", a2i2a_last_error());
      audio_free(&a);
      continue;
    }
    long ns = atol(st_meta(&sf, "num_samples")), ch = atol(st_meta(&sf, "channels"));
    double sr = atof(st_meta(&sf, "sample_rate"));
    CHECK(a.frames == ns && a.channels == ch && a.rate == sr, "%s: %lld×%d at %g, expected %ld×%ld at %g", stem,
          (long long)a.frames, a.channels, a.rate, ns, ch, sr);
    const st_tensor *w = st_find(&sf, "waveform");
    if (!w) w = st_find(&sf, "waveform_head");
    int lossy = strstr(NAMES[f], ".ogg") || strstr(NAMES[f], ".mp3");
    if (w && a.channels == ch) {
      int64_t len = w->shape[1];
      float *ref = malloc(sizeof(float) * w->numel);
      st_to_f32(w, ref);
      double maxd = 0;
      for (int c = 0; c < ch; c++)
        for (int64_t i = 0; i < len && i < a.frames; i++) {
          double d = fabs((double)a.x[c * a.frames + i] - ref[c * len + i]);
          if (d > maxd) maxd = d;
        }
      if (lossy) {
        CHECK(len == a.frames, "%s: waveform length %lld vs %lld", stem, (long long)len, (long long)a.frames);
        CHECK(maxd <= 1e-5, "%s: decoded samples differ by %g (> 1e-5)", stem, maxd);
      } else {
        CHECK(maxd == 0, "%s: PCM samples differ by %g (must be equal)", stem, maxd);
      }
      printf("%-40s %lld frames, max |Δ| %.3g over %lld samples/channel\n", stem, (long long)a.frames, maxd,
             (long long)len);
      free(ref);
    } else {
      CHECK(0, "%s: no reference waveform", stem);
    }
    st_close(&sf);
    audio_free(&a);
  }
}

static double max_abs(const float *x, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) m = fmax(m, fabs(x[i]));
  return m;
}

static void test_stft_a01(void) {
  if (!fixture_case("seed/stft_check_a01.safetensors")) return;
  st_file sf;
  if (st_open(fixture("seed/stft_check_a01.safetensors"), &sf)) {
    CHECK(0, "%s", a2i2a_last_error());
    return;
  }
  const int N = 96000, B = 257, T = 376;
  float *x = st_load_f32(&sf, "waveform", N), *win = st_load_f32(&sf, "window", 512);
  float *re = st_load_f32(&sf, "stft_re", B * T), *im = st_load_f32(&sf, "stft_im", B * T);
  float *pw = st_load_f32(&sf, "power", B * T);
  stft_ctx *c;
  CHECK(stft_new(&c, 512, 256, 512) == A2I2A_OK, "stft_new");
  CHECK(stft_bins(c) == B && stft_frames(c, N) == T, "shape %d×%lld", stft_bins(c), (long long)stft_frames(c, N));
  double wd = 0;
  for (int i = 0; i < 512; i++) wd = fmax(wd, fabs(stft_window(c)[i] - win[i]));
  CHECK(wd <= 1.2e-7, "window differs from torch's by %g", wd);
  float *spec = malloc(sizeof(float) * 2 * B * T), *p = malloc(sizeof(float) * B * T);
  stft_forward(c, x, N, spec);
  stft_power(c, x, N, p);
  double xmax = 0, xd = 0, pmax = max_abs(pw, B * T), pd = 0;
  for (int i = 0; i < B * T; i++) {
    xmax = fmax(xmax, hypot(re[i], im[i]));
    xd = fmax(xd, hypot(spec[2 * i] - re[i], spec[2 * i + 1] - im[i]));
    pd = fmax(pd, fabs(p[i] - pw[i]));
  }
  printf("a01 STFT: window max |Δ| %.3g, complex max |Δ|/max|X| %.3g, power max |Δ|/max P %.3g\n", wd, xd / xmax,
         pd / pmax);
  CHECK(xd <= 1e-6 * xmax, "complex STFT differs by %g·max|X|", xd / xmax);
  CHECK(pd <= 1e-6 * pmax, "power differs by %g·max P (> 1e-6)", pd / pmax);
  stft_free(c);
  free(x), free(win), free(re), free(im), free(pw), free(spec), free(p);
  st_close(&sf);
}

/* istft(stft(x)) = x wherever the envelope is non-zero: torch's round trip property. */
static void test_roundtrip(int n_fft, int hop, int win, int64_t n) {
  stft_ctx *c;
  if (stft_new(&c, n_fft, hop, win)) {
    CHECK(0, "%s", a2i2a_last_error());
    return;
  }
  float *x = malloc(sizeof(float) * n);
  torch_rng g;
  rng_seed(&g, 7);
  rng_rand(&g, x, n);
  for (int64_t i = 0; i < n; i++) x[i] = 2 * x[i] - 1;
  int64_t T = stft_frames(c, n);
  float *spec = malloc(sizeof(float) * 2 * stft_bins(c) * T), *y = malloc(sizeof(float) * hop * (T - 1));
  stft_forward(c, x, n, spec);
  stft_inverse(c, spec, T, y);
  double d = 0;
  for (int64_t i = 0; i < hop * (T - 1) && i < n; i++) d = fmax(d, fabs(y[i] - x[i]));
  printf("istft(stft(x)) n_fft %d hop %d win %d: max |Δ| %.3g\n", n_fft, hop, win, d);
  CHECK(d <= 2e-5, "istft(stft(x)) n_fft %d hop %d win %d: max |Δ| %g", n_fft, hop, win, d);
  stft_free(c);
  free(x), free(spec), free(y);
}

static void test_mel_riffusion(void) {
  st_file sf;
  if (st_open(fixture("seed/riffusion/mel_fb.safetensors"), &sf)) {
    CHECK(0, "%s", a2i2a_last_error());
    return;
  }
  const st_tensor *fk = st_find(&sf, "freq_bin"), *mk = st_find(&sf, "mel_bin"), *wk = st_find(&sf, "weight");
  const int F = 8821, M = 512;
  float *fb = malloc(sizeof(float) * F * M);
  CHECK(mel_filterbank(fb, F, 0, 10000, M, 44100, MEL_HTK, 0) == A2I2A_OK, "mel_filterbank");
  float *ref = calloc((size_t)F * M, sizeof(float));
  for (size_t i = 0; i < fk->numel; i++) {
    int32_t k, m;
    float w;
    memcpy(&k, (const char *)fk->data + 4 * i, 4);
    memcpy(&m, (const char *)mk->data + 4 * i, 4);
    memcpy(&w, (const char *)wk->data + 4 * i, 4);
    ref[(size_t)k * M + m] = w;
  }
  double d = 0;
  long nz = 0, nzref = 0;
  for (size_t i = 0; i < (size_t)F * M; i++) {
    d = fmax(d, fabs(fb[i] - ref[i]));
    nz += fb[i] != 0;
    nzref += ref[i] != 0;
  }
  printf("riffusion mel bank: max |Δ| %.3g, non-zeros %ld (fixture %ld)\n", d, nz, nzref);
  /* bit-identical: torch's linspace and Sleef pow reproduced (src/audio/mel.c) */
  CHECK(d == 0, "HTK mel bank differs by %g", d);
  CHECK(labs(nz - nzref) <= 2, "non-zero count %ld vs %ld", nz, nzref);
  free(fb), free(ref);
  st_close(&sf);
}

static void test_mel_slaney(void) {
  CHECK(fabs(hz_to_mel(1000, MEL_SLANEY) - 15.0) < 1e-12, "slaney mel(1000) = %g", hz_to_mel(1000, MEL_SLANEY));
  CHECK(fabs(hz_to_mel(6400, MEL_SLANEY) - 42.0) < 1e-9, "slaney mel(6400) = %g", hz_to_mel(6400, MEL_SLANEY));
  CHECK(fabs(hz_to_mel(700, MEL_HTK) - 2595 * log10(2)) < 1e-9, "htk mel(700)");
  for (double hz = 10; hz < 20000; hz *= 1.7) {
    CHECK(fabs(mel_to_hz(hz_to_mel(hz, MEL_SLANEY), MEL_SLANEY) - hz) < 1e-6 * hz, "slaney round trip %g", hz);
    CHECK(fabs(mel_to_hz(hz_to_mel(hz, MEL_HTK), MEL_HTK) - hz) < 1e-6 * hz, "htk round trip %g", hz);
  }
  /* Slaney area normalisation: each triangle has unit area in Hz (Σ fb·Δf = 1) when it
   * spans many bins; without it, the peak of each triangle is ≤ 1. */
  const int F = 8193, M = 64;
  const double sr = 44100, df = 22050.0 / (F - 1);
  float *fb = malloc(sizeof(float) * F * M), *fbn = malloc(sizeof(float) * F * M);
  mel_filterbank(fb, F, 0, 22050, M, sr, MEL_SLANEY, 0);
  mel_filterbank(fbn, F, 0, 22050, M, sr, MEL_SLANEY, 1);
  double worst = 0, maxpeak = 0;
  for (int m = 0; m < M; m++) {
    double area = 0, peak = 0;
    for (int k = 0; k < F; k++) {
      area += fbn[k * M + m] * df;
      peak = fmax(peak, fb[k * M + m]);
      if (fb[k * M + m] > 0) {
        double r = fbn[k * M + m] / fb[k * M + m];
        (void)r;
      }
    }
    if (m > 4) worst = fmax(worst, fabs(area - 1));
    maxpeak = fmax(maxpeak, peak);
  }
  printf("slaney-normalised areas: max |area − 1| %.3g (mels 5..63); un-normalised peak %.4f\n", worst, maxpeak);
  CHECK(worst < 0.01, "slaney areas off by %g", worst);
  CHECK(maxpeak <= 1.0 && maxpeak > 0.9, "peak %g", maxpeak);
  free(fb), free(fbn);
}

static void test_write_read(void) {
  char dir[] = "/tmp/a2i2a_audio_XXXXXX";
  if (!mkdtemp(dir)) return;
  audio_buf a;
  audio_alloc(&a, 2, 10000, 44100);
  for (int64_t i = 0; i < a.frames; i++) {
    a.x[i] = 0.7f * sinf(0.01f * i);
    a.x[a.frames + i] = (i % 100) / 100.0f - 0.5f;
  }
  a.x[5] = 1.5f; /* float keeps values beyond ±1 */
  char p[512];
  const char *names[4] = {"f.wav", "s16.wav", "s24.wav", "s24.flac"};
  const int bits[4] = {32, 16, 24, 24};
  for (int k = 0; k < 4; k++) {
    snprintf(p, sizeof p, "%s/%s", dir, names[k]);
    CHECK(audio_write(p, &a, bits[k], 1, 0) == A2I2A_OK, "%s: %s", names[k], a2i2a_last_error());
    CHECK(audio_write(p, &a, bits[k], 1, 0) == A2I2A_ERR_EXISTS, "%s: overwritten without force", names[k]);
    audio_buf b;
    if (audio_read(p, &b)) {
      CHECK(0, "%s", a2i2a_last_error());
      continue;
    }
    CHECK(b.channels == 2 && b.frames == a.frames && b.rate == 44100, "%s shape", names[k]);
    double d = 0, lsb = bits[k] == 32 ? 0 : pow(2, 1 - bits[k]);
    for (int64_t i = 0; i < a.frames * 2; i++)
      if (fabsf(a.x[i]) < 0.99f) d = fmax(d, fabs(b.x[i] - a.x[i]));
    /* TPDF dither: |error| < 1.5 LSB */
    CHECK(bits[k] == 32 ? d == 0 : d < 1.5 * lsb, "%s: round trip error %g (LSB %g)", names[k], d, lsb);
    if (bits[k] == 32) CHECK(b.x[5] == 1.5f, "float WAV clipped %g", b.x[5]);
    audio_free(&b);
    unlink(p);
  }
  /* same seed, same dither; different seed, different file */
  audio_buf b1, b2, b3;
  snprintf(p, sizeof p, "%s/d.wav", dir);
  audio_write(p, &a, 16, 3, 0), audio_read(p, &b1), unlink(p);
  audio_write(p, &a, 16, 3, 0), audio_read(p, &b2), unlink(p);
  audio_write(p, &a, 16, 4, 0), audio_read(p, &b3), unlink(p);
  CHECK(!memcmp(b1.x, b2.x, sizeof(float) * 2 * a.frames), "dither not reproducible");
  CHECK(memcmp(b1.x, b3.x, sizeof(float) * 2 * a.frames), "dither ignores the seed");
  audio_free(&b1), audio_free(&b2), audio_free(&b3);
  snprintf(p, sizeof p, "%s/missing/x.wav", dir);
  CHECK(audio_write(p, &a, 32, 0, 0) == A2I2A_ERR_IO, "missing folder accepted");
  audio_free(&a);
  rmdir(dir);
}

static void test_resample(void) {
  audio_buf a, b;
  audio_alloc(&a, 2, 44100, 44100);
  for (int64_t i = 0; i < a.frames; i++) {
    a.x[i] = 0.5f * (float)sin(2 * M_PI * 1000 * i / 44100.0);
    a.x[a.frames + i] = 0.25f * (float)sin(2 * M_PI * 3000 * i / 44100.0);
  }
  CHECK(audio_resample(&a, 48000, &b) == A2I2A_OK, "%s", a2i2a_last_error());
  CHECK(b.frames == 48000 && b.channels == 2 && b.rate == 48000, "resampled shape %lld", (long long)b.frames);
  /* away from the edges, the sines are the same functions of time */
  double d = 0;
  for (int64_t i = 2000; i < 46000; i++) {
    d = fmax(d, fabs(b.x[i] - 0.5 * sin(2 * M_PI * 1000 * i / 48000.0)));
    d = fmax(d, fabs(b.x[b.frames + i] - 0.25 * sin(2 * M_PI * 3000 * i / 48000.0)));
  }
  printf("soxr 44100 → 48000: max |Δ| vs the ideal sines %.3g\n", d);
  CHECK(d < 1e-4, "resampled sine off by %g", d);
  audio_free(&a), audio_free(&b);
}

static void test_bad_inputs(void) {
  char dir[] = "/tmp/a2i2a_audio_XXXXXX";
  if (!mkdtemp(dir)) return;
  char p[512];
  audio_buf a;
  snprintf(p, sizeof p, "%s/empty.wav", dir);
  fclose(fopen(p, "w"));
  CHECK(audio_read(p, &a) == A2I2A_ERR_FORMAT, "empty file: %s", a2i2a_last_error());
  unlink(p);
  snprintf(p, sizeof p, "%s/text.wav", dir);
  FILE *f = fopen(p, "w");
  fputs("this is not audio at all, just some text\n", f);
  fclose(f);
  CHECK(audio_read(p, &a) == A2I2A_ERR_FORMAT, "text file: %s", a2i2a_last_error());
  unlink(p);
  /* the first 300000 bytes of a02: a WAV header promising more than there is */
  if (fixture_case("seed/audio/a02_brahms_44k1_stereo_s16.wav")) {
    snprintf(p, sizeof p, "%s/trunc.wav", dir);
    FILE *src = fopen(fixture("seed/audio/a02_brahms_44k1_stereo_s16.wav"), "rb");
    f = fopen(p, "wb");
    if (src && f) {
      static char buf[300000];
      size_t got = fread(buf, 1, sizeof buf, src);
      fwrite(buf, 1, got, f);
    }
    if (src) fclose(src);
    if (f) fclose(f);
    CHECK(audio_read(p, &a) == A2I2A_ERR_FORMAT && strstr(a2i2a_last_error(), "truncated"), "truncated WAV: %s",
          a2i2a_last_error());
    unlink(p);
  }
  snprintf(p, sizeof p, "%s/none.wav", dir);
  CHECK(audio_read(p, &a) == A2I2A_ERR_IO, "missing file: %s", a2i2a_last_error());
  CHECK(strstr(a2i2a_last_error(), p) != NULL, "error does not name the file: %s", a2i2a_last_error());
  rmdir(dir);
}

int main(void) {
  test_decode();
  test_stft_a01();
  test_roundtrip(512, 256, 512, 96000);
  test_roundtrip(590, 295, 590, 117705);
  test_roundtrip(17640, 441, 4410, 225792);
  test_roundtrip(1025, 128, 800, 5000);
  test_mel_riffusion();
  test_mel_slaney();
  test_write_read();
  test_resample();
  test_bad_inputs();
  return check_done();
}
