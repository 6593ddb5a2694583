/* The a2i stage against the seed fixtures (README §3, §4, §7, tolerances of §8), stage by
 * stage for all nine sounds, Riffusion's r01/r02, the EXIF block in both byte orders, and
 * stated properties of our fullband style. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "a2i/styles.h"
#include "audio/audio.h"
#include "check.h"
#include "image/image.h"
#include "sd/safetensors.h"

static const char *NAMES[9] = {
    "a01_speech_libri_16k_mono_s16.flac", "a02_brahms_44k1_stereo_s16.wav", "a03_humpback_22k05_mono.ogg",
    "a04_trumpet_44k1_stereo.mp3",        "a05_fishin_48k_stereo_f32.wav",  "a06_espeak_22k05_mono_s16.wav",
    "a07_sweep_44k1_mono_f32.wav",        "a08_clicks_16k_mono_s16.wav",    "a09_noiseburst_48k_stereo_s24.wav"};

static char tmpdir[] = "/tmp/a2i2a_test_a2i_XXXXXX";

/* fraction of differing values and max difference of two equal-sized byte arrays */
static void diff_u8(const uint8_t *a, const uint8_t *b, size_t n, int *maxd, double *frac) {
  size_t nd = 0;
  *maxd = 0;
  for (size_t i = 0; i < n; i++) {
    int d = abs((int)a[i] - (int)b[i]);
    if (d) nd++;
    if (d > *maxd) *maxd = d;
  }
  *frac = n ? (double)nd / n : 0;
}

static void test_seed(int f) {
  char rel[512], stem[256];
  snprintf(stem, sizeof stem, "%s", NAMES[f]);
  *strrchr(stem, '.') = 0;
  snprintf(rel, sizeof rel, "seed/a2i/%s/a2i.safetensors", stem);
  if (!fixture_case(rel)) return;
  snprintf(rel, sizeof rel, "seed/audio/%s", NAMES[f]);
  char audio_path[4096];
  snprintf(audio_path, sizeof audio_path, "%s", fixture(rel));
  audio_buf a;
  if (audio_read(audio_path, &a)) {
    CHECK(0, "%s", a2i2a_last_error());
    return;
  }
  st_file sf;
  snprintf(rel, sizeof rel, "seed/a2i/%s/a2i.safetensors", stem);
  if (st_open(fixture(rel), &sf)) {
    CHECK(0, "%s", a2i2a_last_error());
    audio_free(&a);
    return;
  }
  const st_tensor *sd = st_find(&sf, "spec_db");
  const int B = 257, T = (int)sd->shape[1];
  const size_t n = (size_t)B * T;
  float *ref_db = st_load_f32(&sf, "spec_db", n);

  /* 1. STFT power, channel mean — from the fixture's own decoded samples where it stores all
   * of them (the lossy a03/a04: decoders differ by ~1e-6), so this checks the STFT alone */
  float *p;
  int64_t frames;
  const st_tensor *wf = st_find(&sf, "waveform");
  audio_buf ref_wave = a;
  if (wf && wf->shape[0] == a.channels && wf->shape[1] > 0) {
    ref_wave.frames = wf->shape[1];
    ref_wave.x = st_load_f32(&sf, "waveform", wf->numel);
  }
  CHECK(seed_power(&ref_wave, &p, &frames) == A2I2A_OK, "%s: seed_power", stem);
  if (ref_wave.x != a.x) free(ref_wave.x);
  CHECK(frames == T, "%s: %lld frames, fixture %d", stem, (long long)frames, T);
  if (frames != T) goto out;
  double pmax = 0, dp = 0;
  for (size_t i = 0; i < n; i++) pmax = fmax(pmax, pow(10.0, ref_db[i] / 10.0) - 1e-9);
  for (size_t i = 0; i < n; i++) dp = fmax(dp, fabs(p[i] - (pow(10.0, ref_db[i] / 10.0) - 1e-9)));
  CHECK(dp <= 1e-6 * pmax, "%s: power differs by %g·max P", stem, dp / pmax);

  /* 2. dB: ≤ 0.05 dB within 60 dB of the max, ≤ 1 dB everywhere */
  /* from here on, our own decoding end to end */
  free(p);
  CHECK(seed_power(&a, &p, &frames) == A2I2A_OK && frames == T, "%s: seed_power", stem);
  float *db = malloc(sizeof(float) * n);
  power_to_db(p, n, db);
  float dbmax = -1e30f;
  for (size_t i = 0; i < n; i++) dbmax = fmaxf(dbmax, ref_db[i]);
  double dtop = 0, dall = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs(db[i] - ref_db[i]);
    dall = fmax(dall, d);
    if (ref_db[i] > dbmax - 60) dtop = fmax(dtop, d);
  }
  CHECK(dtop <= 0.05 && dall <= 1.0, "%s: dB differs by %g (top 60 dB) / %g (all)", stem, dtop, dall);

  /* 3. uint8 from the fixture's dB: exact; from ours: ≤ 2 levels on ≤ 3 % of pixels */
  image_u8 spec_png, img_png;
  snprintf(rel, sizeof rel, "seed/a2i/%s/spec_u8.png", stem);
  CHECK(image_read_grey(fixture(rel), &spec_png, NULL) == A2I2A_OK, "%s", a2i2a_last_error());
  snprintf(rel, sizeof rel, "seed/a2i/%s/image.png", stem);
  CHECK(image_read(fixture(rel), &img_png, NULL) == A2I2A_OK, "%s", a2i2a_last_error());
  CHECK(spec_png.w == T && spec_png.h == B, "%s: spec_u8.png is %d×%d", stem, spec_png.w, spec_png.h);
  uint8_t *u8 = malloc(n), *u8own = malloc(n);
  seed_db_to_u8(ref_db, n, u8);
  int md;
  double fr;
  diff_u8(u8, spec_png.px, n, &md, &fr);
  CHECK(md == 0, "%s: spec_u8 from the fixture's spec_db differs (max %d, %.3f %%)", stem, md, 100 * fr);
  seed_db_to_u8(db, n, u8own);
  int md_own;
  double fr_own;
  diff_u8(u8own, spec_png.px, n, &md_own, &fr_own);
  CHECK(md_own <= 2 && fr_own <= 0.03, "%s: spec_u8 from our STFT: max %d, %.3f %% differ", stem, md_own, 100 * fr_own);

  /* 4. image.png from spec_u8.png: exact (Pillow's BICUBIC) */
  image_u8 rgb, resized;
  image_alloc(&rgb, T, B, 3);
  for (size_t i = 0; i < n; i++) rgb.px[3 * i] = rgb.px[3 * i + 1] = rgb.px[3 * i + 2] = spec_png.px[i];
  CHECK(image_resize_bicubic(&rgb, 400, 300, &resized) == A2I2A_OK, "resize");
  diff_u8(resized.px, img_png.px, (size_t)400 * 300 * 3, &md, &fr);
  CHECK(md == 0, "%s: image.png from spec_u8.png differs (max %d)", stem, md);

  /* 5. end to end through the public API: ≤ 2 levels on ≤ 3 % of values */
  char out[4200];
  snprintf(out, sizeof out, "%s/%s.png", tmpdir, stem);
  a2i2a_a2i_params prm = a2i2a_a2i_default_params();
  CHECK(a2i2a_a2i_file(audio_path, out, &prm, 0, NULL) == A2I2A_OK, "%s: %s", stem, a2i2a_last_error());
  image_u8 mine;
  png_meta meta;
  png_meta_init(&meta);
  int e2e_md = -1;
  double e2e_fr = 0;
  if (image_read(out, &mine, &meta) == A2I2A_OK) {
    CHECK(mine.w == 400 && mine.h == 300, "%s: %d×%d", stem, mine.w, mine.h);
    diff_u8(mine.px, img_png.px, (size_t)400 * 300 * 3, &e2e_md, &e2e_fr);
    CHECK(e2e_md <= 2 && e2e_fr <= 0.03, "%s: image end to end: max %d, %.3f %% differ", stem, e2e_md, 100 * e2e_fr);
    a2i_style_params sp;
    CHECK(a2i_style_params_from_png_meta(&meta, &sp) == A2I2A_OK && !strcmp(sp.style, "seed") &&
              sp.samples == a.frames && sp.sample_rate == a.rate,
          "%s: parameters chunk: %s", stem, a2i2a_last_error());
    image_free(&mine);
    unlink(out);
  }
  png_meta_free(&meta);
  printf("%-36s power %.2g·max  dB %.3f/%.3f  u8 own max %d %.2f%%  image e2e max %d %.2f%%\n", stem, dp / pmax,
         dtop, dall, md_own, 100 * fr_own, e2e_md, 100 * e2e_fr);
  free(db), free(u8), free(u8own);
  image_free(&spec_png), image_free(&img_png), image_free(&rgb), image_free(&resized);
out:
  free(p), free(ref_db);
  st_close(&sf);
  audio_free(&a);
}

static void test_riffusion(const char *dir, int expect_w) {
  char rel[512];
  snprintf(rel, sizeof rel, "seed/riffusion/%s/riffusion.safetensors", dir);
  if (!fixture_case(rel)) return;
  st_file sf;
  if (st_open(fixture(rel), &sf)) {
    CHECK(0, "%s", a2i2a_last_error());
    return;
  }
  const st_tensor *mt = st_find(&sf, "mel");
  const int64_t W = mt->shape[2];
  CHECK(W == expect_w, "%s: fixture width %lld", dir, (long long)W);
  float *ref = st_load_f32(&sf, "mel", 512 * W);
  snprintf(rel, sizeof rel, "seed/riffusion/%s/clip.wav", dir);
  char clip[4096];
  snprintf(clip, sizeof clip, "%s", fixture(rel));
  audio_buf a;
  if (audio_read(clip, &a)) {
    CHECK(0, "%s", a2i2a_last_error());
    return;
  }
  /* the int16 samples entering the STFT (r01: the stereo downmix) */
  float *x;
  int64_t n;
  CHECK(riffusion_samples(&a, 0, &x, &n) == A2I2A_OK, "riffusion_samples");
  const st_tensor *si = st_find(&sf, "stft_input");
  if (si) {
    float *sref = st_load_f32(&sf, "stft_input", (size_t)n);
    long bad = 0;
    for (int64_t i = 0; i < n; i++) bad += sref && sref[i] != x[i];
    CHECK(sref && bad == 0, "%s: %ld int16 STFT input samples differ", dir, bad);
    free(sref);
  }
  float *mel;
  int64_t T;
  CHECK(riffusion_mel(x, n, &mel, &T) == A2I2A_OK && T == W, "%s: riffusion_mel %lld frames", dir, (long long)T);
  float mx = 0;
  for (int64_t i = 0; i < 512 * W; i++) mx = fmaxf(mx, ref[i]);
  double d = 0;
  for (int64_t i = 0; i < 512 * W; i++) d = fmax(d, fabs(mel[i] - ref[i]));
  CHECK(d <= 1e-5 * mx, "%s: mel differs by %g·max", dir, d / mx);
  CHECK(fabs(mx - atof(st_meta(&sf, "max_value"))) <= 0.5, "%s: max %g vs %s", dir, mx, st_meta(&sf, "max_value"));
  /* image from the fixture's mel: exact; the EXIF block: byte for byte */
  image_u8 fix, im;
  png_meta meta;
  png_meta_init(&meta);
  snprintf(rel, sizeof rel, "seed/riffusion/%s/image.png", dir);
  CHECK(image_read(fixture(rel), &fix, &meta) == A2I2A_OK, "%s", a2i2a_last_error());
  image_alloc(&im, (int)W, 512, 3);
  riffusion_mel_to_image(ref, 1, W, mx, &im);
  int md;
  double fr;
  diff_u8(im.px, fix.px, (size_t)W * 512 * 3, &md, &fr);
  CHECK(md == 0, "%s: image from the fixture's mel differs (max %d, %.3f %%)", dir, md, 100 * fr);
  riffusion_exif e;
  CHECK(meta.exif && riffusion_exif_read(meta.exif, meta.exif_len, &e) == A2I2A_OK, "%s: EXIF: %s", dir,
        a2i2a_last_error());
  CHECK(e.sample_rate == 44100 && e.stereo == 0 && e.step_size_ms == 10 && e.window_duration_ms == 100 &&
            e.padded_duration_ms == 400 && e.num_frequencies == 512 && e.min_frequency == 0 &&
            e.max_frequency == 10000 && e.power_for_image == 0.25 && e.has_max_value && e.max_value == (double)mx,
        "%s: EXIF values", dir);
  uint8_t mine[256];
  size_t len = riffusion_exif_write(&e, mine);
  CHECK(len == meta.exif_len && !memcmp(mine, meta.exif, len), "%s: our EXIF block differs from Riffusion's", dir);
  /* the same block little-endian ("II*\0"), as other Pillow versions may write it */
  uint8_t le[256];
  memcpy(le, mine, len);
  memcpy(le, "II*\0", 4);
  le[4] = 8, le[5] = le[6] = le[7] = 0;
  const int nent = mine[9];
  le[8] = (uint8_t)nent, le[9] = 0;
  for (int i = 0; i < nent; i++) {
    uint8_t *en = le + 10 + 12 * i, *src = mine + 10 + 12 * i;
    en[0] = src[1], en[1] = src[0]; /* tag */
    en[2] = src[3], en[3] = src[2]; /* type */
    for (int k = 0; k < 4; k++) en[4 + k] = src[7 - k]; /* count */
    if (src[3] == 3) en[8] = src[9], en[9] = src[8], en[10] = en[11] = 0;
    else
      for (int k = 0; k < 4; k++) en[8 + k] = src[11 - k];
  }
  for (size_t off = 134; off + 8 <= len; off += 8)
    for (int k = 0; k < 8; k++) le[off + k] = mine[off + 7 - k];
  riffusion_exif e2;
  CHECK(riffusion_exif_read(le, len, &e2) == A2I2A_OK && e2.sample_rate == 44100 && e2.max_frequency == 10000 &&
            e2.num_frequencies == 512 && e2.power_for_image == 0.25 && e2.max_value == e.max_value,
        "%s: little-endian EXIF: %s", dir, a2i2a_last_error());
  /* end to end through the public API: the image and the EXIF */
  char out[4200];
  snprintf(out, sizeof out, "%s/%s.png", tmpdir, dir);
  a2i2a_a2i_params prm = a2i2a_a2i_default_params();
  prm.style = "riffusion";
  CHECK(a2i2a_a2i_file(clip, out, &prm, 0, NULL) == A2I2A_OK, "%s: %s", dir, a2i2a_last_error());
  image_u8 got;
  png_meta gm;
  png_meta_init(&gm);
  int e2e = -1;
  double e2efr = 0;
  if (image_read(out, &got, &gm) == A2I2A_OK) {
    CHECK(got.w == W && got.h == 512, "%s: %d×%d", dir, got.w, got.h);
    if (got.w == W) diff_u8(got.px, fix.px, (size_t)W * 512 * 3, &e2e, &e2efr);
    CHECK(e2e >= 0 && e2e <= 1 && e2efr <= 0.01, "%s: image end to end: max %d, %.3f %% differ", dir, e2e, 100 * e2efr);
    riffusion_exif ge;
    CHECK(gm.exif && riffusion_exif_read(gm.exif, gm.exif_len, &ge) == A2I2A_OK &&
              fabs(ge.max_value - e.max_value) <= 1e-5 * e.max_value && gm.exif_len == 150 && !memcmp(gm.exif, "MM\0*", 4),
          "%s: written EXIF", dir);
    image_free(&got);
    unlink(out);
  }
  png_meta_free(&gm);
  printf("%-28s mel max |Δ| %.2g·max, image end to end max %d (%.3f %%)\n", dir, d / mx, e2e, 100 * e2efr);
  image_free(&fix), image_free(&im), png_meta_free(&meta);
  free(x), free(mel), free(ref);
  audio_free(&a);
  st_close(&sf);
}

/* Riffusion's stereo mode: R = 0, G = left, B = right; short clips are zero-padded. */
static void test_riffusion_stereo_short(void) {
  audio_buf a;
  audio_alloc(&a, 2, 44100, 44100);
  for (int64_t i = 0; i < a.frames; i++) {
    a.x[i] = 0.5f * sinf(2 * (float)M_PI * 440 * i / 44100.0f);
    a.x[a.frames + i] = 0.5f * sinf(2 * (float)M_PI * 3000 * i / 44100.0f);
  }
  char wav[4200], png[4200];
  snprintf(wav, sizeof wav, "%s/st.wav", tmpdir);
  snprintf(png, sizeof png, "%s/st.png", tmpdir);
  audio_write(wav, &a, 16, 0, 1);
  a2i2a_a2i_params prm = a2i2a_a2i_default_params();
  prm.style = "riffusion";
  prm.stereo = 1;
  CHECK(a2i2a_a2i_file(wav, png, &prm, 1, NULL) == A2I2A_OK, "stereo: %s", a2i2a_last_error());
  image_u8 im;
  png_meta m;
  png_meta_init(&m);
  if (image_read(png, &im, &m) == A2I2A_OK) {
    CHECK(im.w == 101 && im.h == 512, "stereo size %d×%d", im.w, im.h);
    long r = 0;
    int gmin = 255, bmin = 255, grow = 0, brow = 0;
    for (int y = 0; y < im.h; y++)
      for (int x = 0; x < im.w; x++) {
        const uint8_t *px = im.px + 3 * ((size_t)y * im.w + x);
        r += px[0];
        if (x == 50 && px[1] < gmin) gmin = px[1], grow = y;
        if (x == 50 && px[2] < bmin) bmin = px[2], brow = y;
      }
    /* loud = dark; 3000 Hz sits higher in the image (smaller row) than 440 Hz */
    CHECK(r == 0 && brow < grow && (gmin == 0 || bmin == 0), "stereo channels: R sum %ld, G row %d, B row %d", r, grow, brow);
    riffusion_exif e;
    CHECK(m.exif && riffusion_exif_read(m.exif, m.exif_len, &e) == A2I2A_OK && e.stereo == 1, "stereo EXIF");
    image_free(&im);
  }
  png_meta_free(&m);
  audio_free(&a);
  /* 100 samples: fewer than n_fft/2, reflect padding impossible: zero-padded to 8821 samples */
  audio_alloc(&a, 1, 100, 44100);
  for (int i = 0; i < 100; i++) a.x[i] = 0.25f * sinf(i * 0.3f);
  audio_write(wav, &a, 16, 0, 1);
  prm.stereo = 0;
  CHECK(a2i2a_a2i_file(wav, png, &prm, 1, NULL) == A2I2A_OK, "short: %s", a2i2a_last_error());
  if (image_read(png, &im, NULL) == A2I2A_OK) {
    CHECK(im.w == 1 + 8821 / 441 && im.h == 512, "short clip size %d×%d", im.w, im.h);
    image_free(&im);
  }
  audio_free(&a);
  unlink(wav), unlink(png);
}

/* fullband: a sine's band, the level in the JSON, exact widths, stereo panels, silence */
static int brightest_row(const image_u8 *im, const char *cmap, int x, int y0, int y1) {
  float *v = malloc(sizeof(float) * im->h);
  uint8_t *col = malloc(3 * im->h);
  for (int y = 0; y < im->h; y++) memcpy(col + 3 * y, im->px + 3 * ((size_t)y * im->w + x), 3);
  colormap_invert(cmap, col, im->h, v);
  int best = y0;
  for (int y = y0; y < y1; y++)
    if (v[y] > v[best]) best = y;
  free(v), free(col);
  return best;
}

static int fullband_image(const audio_buf *a, a2i2a_a2i_params prm, image_u8 *im, a2i_style_params *sp) {
  char wav[4200], png[4200];
  snprintf(wav, sizeof wav, "%s/fb.wav", tmpdir);
  snprintf(png, sizeof png, "%s/fb.png", tmpdir);
  audio_write(wav, a, 32, 0, 1);
  prm.style = "fullband";
  a2i2a_status st = a2i2a_a2i_file(wav, png, &prm, 1, NULL);
  CHECK(st == A2I2A_OK, "fullband: %s", a2i2a_last_error());
  png_meta m;
  png_meta_init(&m);
  if (!st) st = image_read(png, im, &m);
  if (!st) st = a2i_style_params_from_png_meta(&m, sp);
  CHECK(st == A2I2A_OK, "fullband read back: %s", a2i2a_last_error());
  png_meta_free(&m);
  unlink(wav), unlink(png);
  return st == A2I2A_OK;
}

static void test_fullband(void) {
  const double sr = 44100;
  audio_buf a;
  audio_alloc(&a, 1, 88200, sr);
  double amax = 0;
  for (int64_t i = 0; i < a.frames; i++) a.x[i] = 0.25f * (float)sin(2 * M_PI * 1000 * i / sr);
  for (int64_t i = 0; i < a.frames; i++) amax = fmax(amax, fabs(a.x[i]));
  a2i2a_a2i_params prm = a2i2a_a2i_default_params();
  image_u8 im1, im2;
  a2i_style_params s1, s2;
  if (fullband_image(&a, prm, &im1, &s1)) {
    CHECK(im1.w == 1 + 88200 / 441 && im1.h == 512 && s1.width == im1.w && s1.bands == 512, "size %d×%d", im1.w, im1.h);
    CHECK(s1.peak == amax && !s1.silent && s1.channels == 1, "peak %g", s1.peak);
    /* the brightest row is the band whose centre is nearest 1 kHz */
    int row = brightest_row(&im1, s1.colormap, im1.w / 2, 0, im1.h);
    int band = s1.bands - 1 - row;
    double m0 = hz_to_mel(s1.fmin, MEL_SLANEY), m1 = hz_to_mel(s1.fmax, MEL_SLANEY);
    double centre = mel_to_hz(m0 + (band + 1) * (m1 - m0) / (s1.bands + 1), MEL_SLANEY);
    CHECK(fabs(centre - 1000) < 30, "1 kHz sine at band %d (centre %.1f Hz)", band, centre);
    /* twice the amplitude: the same pixels, db_max 6.02 dB higher, peak doubled */
    for (int64_t i = 0; i < a.frames; i++) a.x[i] *= 2;
    if (fullband_image(&a, prm, &im2, &s2)) {
      int md;
      double fr;
      diff_u8(im1.px, im2.px, (size_t)im1.w * im1.h * 3, &md, &fr);
      CHECK(fr < 0.001, "level change moved %.3f %% of pixels", 100 * fr);
      CHECK(fabs(s2.db_max - s1.db_max - 20 * log10(2)) < 0.01, "db_max %g → %g", s1.db_max, s2.db_max);
      CHECK(s2.peak == 2 * amax, "peak %g", s2.peak);
      image_free(&im2);
    }
    image_free(&im1);
  }
  /* exact width and height on request */
  prm.width = 300, prm.height = 200;
  if (fullband_image(&a, prm, &im1, &s1)) {
    CHECK(im1.w == 300 && im1.h == 200 && s1.bands == 200 && s1.hop == 88200 / 299, "asked 300×200, got %d×%d", im1.w,
          im1.h);
    image_free(&im1);
  }
  audio_free(&a);
  /* stereo: left 300 Hz, right 5 kHz, in two panels */
  audio_alloc(&a, 2, 44100, sr);
  for (int64_t i = 0; i < a.frames; i++) {
    a.x[i] = 0.3f * (float)sin(2 * M_PI * 300 * i / sr);
    a.x[a.frames + i] = 0.3f * (float)sin(2 * M_PI * 5000 * i / sr);
  }
  prm = a2i2a_a2i_default_params();
  prm.stereo = 1;
  prm.colormap = "grey";
  if (fullband_image(&a, prm, &im1, &s1)) {
    CHECK(s1.channels == 2 && s1.bands == 256 && im1.h == 512, "stereo panels %d × %d", s1.channels, s1.bands);
    int top = brightest_row(&im1, "grey", 50, 0, 256) , bottom = brightest_row(&im1, "grey", 50, 256, 512) - 256;
    CHECK(bottom < top - 40, "right (5 kHz) row %d should be far above left (300 Hz) row %d", bottom, top);
    image_free(&im1);
  }
  audio_free(&a);
  /* silence: defined, all colour index 0 */
  audio_alloc(&a, 1, 10000, sr);
  prm = a2i2a_a2i_default_params();
  prm.colormap = "grey";
  if (fullband_image(&a, prm, &im1, &s1)) {
    long sum = 0;
    for (size_t i = 0; i < (size_t)im1.w * im1.h * 3; i++) sum += im1.px[i];
    CHECK(s1.silent && s1.peak == 0 && sum == 0, "silence: sum %ld", sum);
    image_free(&im1);
  }
  audio_free(&a);
}

static void test_json(void) {
  a2i_style_params p;
  CHECK(a2i_style_params_from_json("{\"format\":\"a2i2a-spectrogram\",\"version\":2}", &p) == A2I2A_ERR_UNSUPPORTED,
        "newer version accepted");
  CHECK(a2i_style_params_from_json("not json", &p) == A2I2A_ERR_FORMAT, "garbage accepted");
  CHECK(a2i_style_params_from_json("{\"format\":\"other\",\"version\":1}", &p) == A2I2A_ERR_FORMAT, "other format");
  png_meta m;
  png_meta_init(&m);
  CHECK(a2i_style_params_from_png_meta(&m, &p) == A2I2A_ERR_FORMAT, "missing chunk accepted");
  png_meta_free(&m);
}

int main(void) {
  if (!mkdtemp(tmpdir)) return 1;
  for (int f = 0; f < 9; f++) test_seed(f);
  test_riffusion("r01_brahms_stereo_5120ms", 513);
  test_riffusion("r02_humpback_mono_5110ms", 512);
  test_riffusion_stereo_short();
  test_fullband();
  test_json();
  rmdir(tmpdir);
  return check_done();
}
