/* The vocoder reading and its vocoders (src/vocoder, src/readings/reading_vocoder.c):
 *  - the reference fixtures (shared/fixtures/vocoder): Vocos's and HiFi-GAN's features of the
 *    recording, every intermediate and the audio, from the pickled and the safetensors weights,
 *    within the manifests' tolerances (the same rule as `a2i2a verify`);
 *  - mel proximity: for an unpainted spectrogram of a real recording (a2i, no diffusion), the mel
 *    the reading derives from the image against the vocoder's own features of the recording, in dB
 *    over the bins within 60 dB of each frame's loudest: median ≤ 3 dB for the riffusion and
 *    fullband styles (all styles reported; bench/RESULTS.md);
 *  - the reading on every style's image with each vocoder: as long as `inverse` (within one hop),
 *    the image's rate and channels, no NaN, the same samples from a file and from memory;
 *  - "all" leaves it out without a vocoder; errors: no vocoder, an image without a style, a folder
 *    that is neither kind, incomplete configs (naming the key), weights that do not fit.
 * Without the full fixture set the vocoders are random ones of the tiny fixtures' shapes
 * (tests/support/random_vocoder.h) and the recordings the compact set's. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "readings/readings.h"
#include "sd/safetensors.h"
#include "support/random_vocoder.h"
#include "vocoder/vocoder.h"

static char tmp[256];

static const char *tmp_path(const char *name) {
  static char buf[4][512];
  static int k;
  char *b = buf[k++ & 3];
  snprintf(b, sizeof buf[0], "%s/%s", tmp, name);
  return b;
}

static float *load(const st_file *f, const char *name, size_t *n) {
  const st_tensor *t = st_find(f, name);
  float *x = t ? malloc(t->numel * sizeof(float)) : NULL;
  if (x) st_to_f32(t, x), *n = t->numel;
  return x;
}

/* ---------------------------------------------------------------- the reference fixtures */

static double max_abs(const float *x, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) m = fmax(m, fabs(x[i]));
  return m;
}

static double tolerance_of(const char *manifest, const char *name) {
  FILE *f = fopen(manifest, "rb");
  char *text = f ? calloc(1, 1 << 16) : NULL;
  size_t got = text ? fread(text, 1, (1 << 16) - 1, f) : 0;
  if (f) fclose(f);
  cJSON *j = got ? cJSON_Parse(text) : NULL;
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "tensors"), name);
  const cJSON *ma = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(t, "tolerance"), "max_abs");
  double tol = cJSON_IsNumber(ma) ? ma->valuedouble : -1;
  cJSON_Delete(j);
  free(text);
  return tol;
}

typedef struct {
  const st_file *golden;
  const char *manifest, *label;
  double audio_tol, audio_scale; /* the tolerance of tensors without one: audio's, scaled */
  int taps;
} golden_case;

static void compare(golden_case *c, const char *name, const float *got, size_t n) {
  size_t m;
  float *ref = load(c->golden, name, &m);
  if (!ref) return;
  double tol = tolerance_of(c->manifest, name);
  if (tol < 0) tol = c->audio_tol * max_abs(ref, m) / c->audio_scale;
  double err = 0;
  int nan = 0;
  for (size_t i = 0; i < n && i < m; i++) {
    nan |= isnan(got[i]);
    err = fmax(err, fabs((double)got[i] - ref[i]));
  }
  CHECK(n == m && !nan && err <= tol, "%s %s: %zu values (reference %zu), max error %g, tolerance %g", c->label, name,
        n, m, err, tol);
  printf("  %-40s max abs error %.3g (tolerance %.3g)\n", name, err, tol);
  c->taps++;
  free(ref);
}

static void tap(void *user, const char *name, const float *x, size_t n) { compare(user, name, x, n); }

/* One golden case (stem: vocos, hifigan) from each of the model's weights files. */
static void golden(const char *stem, const char *model, const char *const *files, int nfiles) {
  char rel[256];
  snprintf(rel, sizeof rel, "vocoder/golden/%s.safetensors", stem);
  if (!fixture_case(rel)) return;
  st_file g;
  char manifest[4200];
  snprintf(manifest, sizeof manifest, "%s", fixture(rel));
  snprintf(manifest + strlen(manifest) - strlen(".safetensors"), 6, ".json");
  if (st_open(fixture(rel), &g)) {
    CHECK(0, "%s", a2i2a_last_error());
    return;
  }
  size_t n, n_audio, n_mel;
  float *audio = load(&g, "audio_out", &n_audio), *in = load(&g, "audio_in", &n), *mel = load(&g, "mel", &n_mel);
  golden_case c = {.golden = &g, .manifest = manifest, .label = stem, .audio_tol = tolerance_of(manifest, "audio_out"),
                   .audio_scale = audio ? max_abs(audio, n_audio) : 1};
  CHECK(audio && in && mel && c.audio_tol > 0, "%s: the golden tensors", stem);
  for (int i = 0; audio && in && mel && i < nfiles; i++) {
    snprintf(rel, sizeof rel, "vocoder/%s/%s", model, files[i]);
    vocoder *v;
    a2i2a_status st = vocoder_open(fixture(rel), &v);
    CHECK(st == A2I2A_OK, "%s: %s", rel, a2i2a_last_error());
    if (st) continue;
    printf("%s from %s:\n", stem, files[i]);
    const vocoder_features *f = vocoder_features_of(v);
    if (i == 0) { /* the features need no weights: once */
      float *mine = malloc(sizeof(float) * (size_t)f->n_mels * vocoder_feature_frames(f, (int64_t)n));
      CHECK(vocoder_features_of_audio(f, in, (int64_t)n, mine) == A2I2A_OK, "%s features", stem);
      compare(&c, "mel", mine, (size_t)f->n_mels * vocoder_feature_frames(f, (int64_t)n));
      free(mine);
    }
    const int frames = (int)(n_mel / (size_t)f->n_mels);
    float *out = malloc(sizeof(float) * (size_t)vocoder_samples(f, frames));
    c.taps = 0;
    st = vocoder_run(v, mel, frames, out, tap, &c, NULL);
    CHECK(st == A2I2A_OK, "%s: %s", rel, a2i2a_last_error());
    if (!st) compare(&c, "audio_out", out, (size_t)vocoder_samples(f, frames));
    CHECK(c.taps >= 3, "%s: only %d tensors compared", rel, c.taps);
    free(out);
    vocoder_close(v);
  }
  free(audio), free(in), free(mel);
  st_close(&g);
}

/* ---------------------------------------------------------------- mel proximity */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef struct {
  double *d;
  size_t n, cap;
} samples;

static void push(samples *s, double v) {
  if (s->n == s->cap) {
    s->cap = s->cap ? 2 * s->cap : 4096;
    s->d = realloc(s->d, s->cap * sizeof *s->d);
  }
  s->d[s->n++] = v;
}

/* Sorts s; its q-quantile. */
static double quantile(samples *s, double q) {
  if (!s->n) return NAN;
  qsort(s->d, s->n, sizeof *s->d, cmp_double);
  return s->d[(size_t)(q * (s->n - 1) + 0.5)];
}

#define DB_PER_NEPER (20 / M_LN10) /* the features are log magnitudes */

/* |image's mel − recording's| in dB over the bins within 60 dB of each frame's loudest (frames of
 * digital silence, every band at the features' floor, have none), into pool; one line. */
static void compare_mels(const image_spectrogram *s, const audio_buf *mono, const vocoder_features *f,
                         const char *label, samples *pool) {
  audio_buf at_rate = {0};
  a2i2a_status st = audio_resample(mono, f->rate, &at_rate);
  const int frames = vocoder_frames_for(f, llround((double)s->samples * f->rate / s->rate)),
            ref_frames = st ? 0 : vocoder_feature_frames(f, at_rate.frames);
  float *mine = malloc(sizeof(float) * (size_t)s->channels * f->n_mels * frames),
        *ref = malloc(sizeof(float) * (size_t)f->n_mels * (ref_frames ? ref_frames : 1));
  if (!st) st = vocoder_mel_of_image(s, f, frames, mine);
  if (!st) st = vocoder_features_of_audio(f, at_rate.x, at_rate.frames, ref);
  CHECK(st == A2I2A_OK, "%s: %s", label, a2i2a_last_error());
  samples here = {0};
  const int T = frames < ref_frames ? frames : ref_frames;
  for (int t = 0; !st && t < T; t++) {
    float loudest = -INFINITY;
    for (int m = 0; m < f->n_mels; m++) loudest = fmaxf(loudest, ref[(size_t)m * ref_frames + t]);
    if (loudest <= logf(f->floor)) continue;
    for (int m = 0; m < f->n_mels; m++) {
      const float r = ref[(size_t)m * ref_frames + t];
      if ((loudest - r) * DB_PER_NEPER > 60) continue;
      const double d = fabs(mine[(size_t)m * frames + t] - r) * DB_PER_NEPER;
      push(&here, d);
      push(pool, d);
    }
  }
  if (!st) {
    printf("  %-55s frames %4d/%4d  median %5.2f dB  p90 %6.2f dB\n", label, frames, ref_frames,
           quantile(&here, 0.5), quantile(&here, 0.9));
    CHECK(abs(frames - ref_frames) <= 1, "%s: %d frames from the image, %d from the recording", label, frames,
          ref_frames);
  }
  free(here.d), free(mine), free(ref);
  audio_free(&at_rate);
}

/* The sound's image in style, its spectrogram, against each vocoder's features of the sound. */
static void proximity(const char *sound, const char *style, vocoder *const *v, const char *const *vnames, int nv,
                      samples *pools) {
  char png[600];
  snprintf(png, sizeof png, "%s", tmp_path("proximity.png"));
  a2i2a_a2i_params ap = a2i2a_a2i_default_params();
  ap.style = style;
  a2i2a_status st = a2i2a_a2i_file(sound, png, &ap, 1, NULL);
  image_u8 img = {0};
  png_meta meta;
  png_meta_init(&meta);
  audio_buf rec = {0}, mono = {0};
  image_spectrogram s = {0};
  if (!st) st = image_read(png, &img, &meta);
  reading_input in = {&img, &meta, png, a2i2a_i2a_default_params(), NULL};
  if (!st) st = image_spectrogram_estimate(&in, &s);
  if (!st) st = audio_read(sound, &rec);
  if (!st) st = audio_downmix(&rec, &mono);
  CHECK(st == A2I2A_OK, "%s %s: %s", sound, style, a2i2a_last_error());
  const char *base = strrchr(sound, '/') ? strrchr(sound, '/') + 1 : sound;
  for (int k = 0; !st && k < nv; k++) {
    char label[200];
    snprintf(label, sizeof label, "%s %s %s", base, style, vnames[k]);
    compare_mels(&s, &mono, vocoder_features_of(v[k]), label, &pools[k]);
  }
  image_spectrogram_free(&s);
  image_free(&img), png_meta_free(&meta), audio_free(&rec), audio_free(&mono);
  unlink(png);
}

static void mel_proximity(const char *const *paths, const char *const *vnames, int nv) {
  static const char *const sounds[] = {"a01_speech_libri_16k_mono_s16.flac", "a02_brahms_44k1_stereo_s16.wav",
                                       "a03_humpback_22k05_mono.ogg",        "a04_trumpet_44k1_stereo.mp3",
                                       "a05_fishin_48k_stereo_f32.wav",       "a06_espeak_22k05_mono_s16.wav",
                                       "a07_sweep_44k1_mono_f32.wav",         "a08_clicks_16k_mono_s16.wav",
                                       "a09_noiseburst_48k_stereo_s24.wav"};
  static const char *const styles[] = {"seed", "riffusion", "fullband"};
  enum { NV = 2 };
  vocoder *v[NV] = {0};
  for (int k = 0; k < nv && k < NV; k++) CHECK(vocoder_open(paths[k], &v[k]) == A2I2A_OK, "%s", a2i2a_last_error());
  printf("mel proximity (|image's mel − recording's| in dB, bins within 60 dB of each frame's loudest):\n");
  for (int s = 0; s < 3 && v[0] && v[nv - 1]; s++) {
    samples pools[NV] = {{0}};
    int used = 0;
    for (size_t i = 0; i < sizeof sounds / sizeof *sounds; i++) {
      char rel[256];
      snprintf(rel, sizeof rel, "seed/audio/%s", sounds[i]);
      for (int k = 1; k < nv; k++) fixtures_left_out -= !fixture_here(rel); /* one case a sound, not one a vocoder */
      if (!fixture_case(rel)) continue;
      proximity(fixture(rel), styles[s], v, vnames, nv, pools);
      used++;
    }
    for (int k = 0; k < nv; k++) {
      const double median = quantile(&pools[k], 0.5), p90 = quantile(&pools[k], 0.9);
      printf("%-9s %-8s %d recordings: median %.2f dB, p90 %.2f dB\n", styles[s], vnames[k], used, median, p90);
      if (strcmp(styles[s], "seed")) CHECK(median <= 3, "%s, %s: median %.2f dB > 3", styles[s], vnames[k], median);
      free(pools[k].d);
    }
  }
  for (int k = 0; k < nv && k < NV; k++) vocoder_close(v[k]);
}

/* ---------------------------------------------------------------- the reading */

/* A PNG of the style from a02-like stereo: two tones, left 440 Hz, right 660 Hz, 2 s at 44.1 kHz. */
static a2i2a_status stereo_image(const char *style, const char *png) {
  const int rate = 44100, n = 2 * rate;
  float *pcm = malloc(sizeof(float) * 2 * n);
  for (int i = 0; i < n; i++) {
    pcm[2 * i] = 0.3f * (float)sin(2 * M_PI * 440 * i / rate);
    pcm[2 * i + 1] = 0.2f * (float)sin(2 * M_PI * 660 * i / rate);
  }
  a2i2a_a2i_params ap = a2i2a_a2i_default_params();
  ap.style = style;
  ap.stereo = 1;
  void *bytes;
  size_t size;
  a2i2a_status st = a2i2a_a2i_pcm(pcm, n, 2, rate, &ap, &bytes, &size, NULL);
  FILE *f = st ? NULL : fopen(png, "wb");
  if (f) fwrite(bytes, 1, size, f), fclose(f);
  if (!st) a2i2a_free(bytes);
  free(pcm);
  return st;
}

static uint8_t *read_all(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  *n = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = malloc(*n ? *n : 1);
  if (b && fread(b, 1, *n, f) != *n) free(b), b = NULL;
  fclose(f);
  return b;
}

/* The vocoder reading of png with each vocoder: inverse's length, rate and channels, no NaN, a
 * peak at most −1 dBFS and not silent, the same samples from a file and from memory. */
static void reading_on(const char *png_path, const char *what, const char *const *vocoders, int nv) {
  char png[600];
  snprintf(png, sizeof png, "%s", png_path);
  image_u8 img = {0};
  png_meta meta;
  png_meta_init(&meta);
  audio_buf inv = {0};
  a2i2a_i2a_params p = a2i2a_i2a_default_params();
  p.gl_iters = 1; /* inverse's length is what counts here */
  a2i2a_status st = image_read(png, &img, &meta);
  reading_input in = {&img, &meta, png, p, NULL};
  if (!st) st = reading_inverse(&in, &inv);
  image_spectrogram s = {0};
  if (!st) st = image_spectrogram_estimate(&in, &s);
  CHECK(st == A2I2A_OK, "%s: inverse: %s", what, a2i2a_last_error());
  const int hop = s.hop;
  image_spectrogram_free(&s);
  size_t size;
  uint8_t *bytes = st ? NULL : read_all(png, &size);
  for (int k = 0; bytes && k < nv; k++) {
    p.vocoder = vocoders[k];
    a2i2a_sound sound;
    st = a2i2a_i2a_memory(bytes, size, png, "vocoder", &p, &sound, NULL);
    CHECK(st == A2I2A_OK, "%s, %s: %s", what, vocoders[k], a2i2a_last_error());
    if (st) continue;
    double peak = 0;
    int nan = 0;
    for (int64_t i = 0; i < sound.frames * sound.channels; i++)
      nan |= !isfinite(sound.samples[i]), peak = fmax(peak, fabs(sound.samples[i]));
    CHECK(llabs(sound.frames - inv.frames) <= hop && sound.channels == inv.channels && sound.rate == inv.rate,
          "%s, %s: %lld frames × %d at %g Hz; inverse: %lld × %d at %g", what, vocoders[k], (long long)sound.frames,
          sound.channels, sound.rate, (long long)inv.frames, inv.channels, inv.rate);
    CHECK(!nan && peak > 1e-4 && peak <= 0.8913, "%s, %s: NaN %d, peak %g", what, vocoders[k], nan, peak);
    if (k == 0) { /* the file holds the same samples (once an image) */
      audio_buf back = {0};
      st = a2i2a_i2a_file(png, "vocoder", tmp_path("vocoder.wav"), &p, 1, NULL);
      if (!st) st = audio_read(tmp_path("vocoder.wav"), &back);
      int same = !st && back.frames == sound.frames && back.channels == sound.channels;
      for (int64_t i = 0; same && i < back.frames; i++)
        for (int c = 0; c < back.channels; c++)
          same &= back.x[(size_t)c * back.frames + i] == sound.samples[i * sound.channels + c];
      CHECK(same, "%s, %s: the file's samples differ from memory's (%s)", what, vocoders[k], st ? a2i2a_last_error() : "");
      audio_free(&back);
    }
    printf("  %-22s %-60.60s %lld frames × %d at %g Hz (inverse %lld), peak %.3f\n", what, vocoders[k],
           (long long)sound.frames, sound.channels, sound.rate, (long long)inv.frames, peak);
    a2i2a_free(sound.samples);
  }
  free(bytes);
  audio_free(&inv), image_free(&img), png_meta_free(&meta);
}

/* Each style's image with each kind of vocoder (vocoders[0, 2)); the fullband one also with the
 * others (the pickled weights). */
static void reading_on_styles(const char *const *vocoders, int nv) {
  static const char *const styles[] = {"seed", "riffusion", "fullband"};
  const char *sound = fixture("seed/audio/a06_espeak_22k05_mono_s16.wav");
  printf("the vocoder reading on each style's image:\n");
  for (int i = 0; i < 3; i++) {
    a2i2a_a2i_params ap = a2i2a_a2i_default_params();
    ap.style = styles[i];
    ap.max_seconds = 2.5; /* enough to hear, little to wait for */
    a2i2a_status st = a2i2a_a2i_file(sound, tmp_path("style.png"), &ap, 1, NULL);
    if (st == A2I2A_ERR_LIMIT) { /* a06 is longer: its first 2 s */
      audio_buf a = {0};
      void *bytes;
      size_t size;
      st = audio_read(sound, &a);
      if (!st) st = a2i2a_a2i_pcm(a.x, (int64_t)(2 * a.rate), 1, a.rate, &ap, &bytes, &size, NULL);
      FILE *f = st ? NULL : fopen(tmp_path("style.png"), "wb");
      if (f) fwrite(bytes, 1, size, f), fclose(f), a2i2a_free(bytes);
      audio_free(&a);
    }
    CHECK(st == A2I2A_OK, "a2i %s: %s", styles[i], a2i2a_last_error());
    if (!st) reading_on(tmp_path("style.png"), styles[i], vocoders, strcmp(styles[i], "fullband") ? 2 : nv);
  }
  for (int i = 1; i < 3; i++) {
    char what[64];
    snprintf(what, sizeof what, "%s, stereo", styles[i]);
    a2i2a_status st = stereo_image(styles[i], tmp_path("stereo.png"));
    CHECK(st == A2I2A_OK, "a2i %s: %s", what, a2i2a_last_error());
    if (!st) reading_on(tmp_path("stereo.png"), what, vocoders, 2);
  }
}

/* ---------------------------------------------------------------- lists and errors */

static void lists(const char *vocoder_path) {
  const reading_def *defs[64];
  int n;
  a2i2a_i2a_params p = a2i2a_i2a_default_params();
  CHECK(reading_list_parse("all", &p, defs, 64, &n) == A2I2A_OK && n == reading_count() - 1 &&
            strcmp(defs[n - 1]->name, "vocoder"),
        "all without a vocoder: %d readings", n);
  CHECK(reading_list_parse("all", NULL, defs, 64, &n) == A2I2A_OK && n == reading_count() - 1, "all, no params");
  CHECK(reading_list_parse("red,vocoder", &p, defs, 64, &n) == A2I2A_ERR_PARAM &&
            strstr(a2i2a_last_error(), "needs a vocoder"),
        "vocoder named without one: %s", a2i2a_last_error());
  p.vocoder = vocoder_path;
  CHECK(reading_list_parse("all", &p, defs, 64, &n) == A2I2A_OK && n == reading_count() &&
            !strcmp(defs[n - 1]->name, "vocoder"),
        "all with a vocoder: %d readings", n);
}

/* A folder `name` holding config_name with text (NULL: none) and a link to the weights file
 * weights (NULL: none). Returns its path. */
static const char *folder(const char *name, const char *config_name, const char *text, const char *weights) {
  static char dir[4][4400];
  static int k;
  char *d = dir[k++ & 3], path[4600];
  snprintf(d, sizeof dir[0], "%s", tmp_path(name));
  mkdir(d, 0755);
  if (text) {
    snprintf(path, sizeof path, "%s/%s", d, config_name);
    FILE *f = fopen(path, "w");
    CHECK(f && fputs(text, f) >= 0 && !fclose(f), "writing %s", path);
  }
  if (weights) {
    char target[PATH_MAX];
    const char *base = strrchr(weights, '/');
    snprintf(path, sizeof path, "%s/%s", d, base ? base + 1 : weights);
    CHECK(realpath(weights, target) && symlink(target, path) == 0, "linking %s", path);
  }
  return d;
}

/* vocoder_open(path) fails with status, and its one-line message holds each of the words. */
static void refused(const char *path, a2i2a_status want, const char *what, const char *w1, const char *w2) {
  vocoder *v = NULL;
  a2i2a_status st = vocoder_open(path, &v);
  const char *e = a2i2a_last_error();
  CHECK(st == want && !v && strstr(e, w1) && (!w2 || strstr(e, w2)) && !strchr(e, '\n'),
        "%s: status %d (want %d), '%s'", what, st, want, e);
  printf("  %-34s %s\n", what, e);
  vocoder_close(v);
}

/* The text of file with each line holding `drop` left out, or with `from` replaced by `to` (NULL: none). */
static char *edited(const char *file, const char *drop, const char *from, const char *to) {
  size_t n;
  char *text = (char *)read_all(file, &n), *out = text ? calloc(1, n + 256) : NULL;
  if (!out) return free(text), NULL;
  size_t o = 0;
  for (const char *line = text; line < text + n;) {
    const char *end = memchr(line, '\n', (size_t)(text + n - line));
    size_t len = end ? (size_t)(end - line + 1) : (size_t)(text + n - line);
    char one[512];
    snprintf(one, sizeof one, "%.*s", (int)(len < 511 ? len : 511), line);
    char *at = from ? strstr(one, from) : NULL;
    if (at) o += (size_t)sprintf(out + o, "%.*s%s\n", (int)(at - one), one, to);
    else if (!drop || !strstr(one, drop)) memcpy(out + o, line, len), o += len;
    line += len;
  }
  free(text);
  return out;
}

static void errors(const char *vocos, const char *hifigan) {
  char config[4400], weights[4400], hifi_config[4400], hifi_weights[4400];
  snprintf(config, sizeof config, "%s/config.yaml", vocos);
  snprintf(weights, sizeof weights, "%s/model.safetensors", vocos);
  snprintf(hifi_config, sizeof hifi_config, "%s/config.json", hifigan);
  snprintf(hifi_weights, sizeof hifi_weights, "%s/generator.safetensors", hifigan);
  printf("errors:\n");
  refused(tmp_path("nowhere"), A2I2A_ERR_IO, "no such path", "nowhere", "no such file");
  refused(folder("empty", NULL, NULL, NULL), A2I2A_ERR_MODEL, "a folder that is neither kind", "empty",
          "not a vocoder");
  refused(folder("diffusers", "config.json", "{\"_class_name\": \"UNet2DConditionModel\", \"in_channels\": 4}\n",
                 NULL),
          A2I2A_ERR_MODEL, "another model's config.json", "not HiFi-GAN's", NULL);
  char *text = edited(config, "intermediate_dim", NULL, NULL);
  refused(folder("no-dim", "config.yaml", text, weights), A2I2A_ERR_MODEL, "Vocos config without a key",
          "backbone.init_args.intermediate_dim", "incomplete");
  free(text);
  refused(folder("no-class", "config.yaml", "backbone:\n  init_args:\n    dim: 64\n", weights), A2I2A_ERR_MODEL,
          "Vocos config without its classes", "feature_extractor.class_path", "incomplete");
  text = edited(config, NULL, "dim: 64", "dim: [1, 2]");
  refused(folder("list-dim", "config.yaml", text, weights), A2I2A_ERR_MODEL, "Vocos config, a list for a number",
          "dim", "whole number");
  free(text);
  text = edited(hifi_config, "upsample_initial_channel", NULL, NULL);
  refused(folder("no-channels", "config.json", text, hifi_weights), A2I2A_ERR_MODEL, "HiFi-GAN config without a key",
          "upsample_initial_channel", "incomplete");
  free(text);
  text = edited(config, NULL, "dim: 64", "dim: 48");
  refused(folder("misfit", "config.yaml", text, weights), A2I2A_ERR_MODEL, "weights of another size",
          "model.safetensors", "expected");
  free(text);
  refused(folder("no-weights", "config.yaml", "feature_extractor: {}\n", NULL), A2I2A_ERR_MODEL,
          "config without weights", "no weights", NULL);
  /* ORG/NAME: not in the cache, then in a cache laid out as huggingface_hub's */
  setenv("HF_HUB_CACHE", tmp_path("hub"), 1);
  refused("someone/vocos-mel-24khz", A2I2A_ERR_MODEL, "ORG/NAME not in the cache", "models pull", NULL);
  char snap[700];
  snprintf(snap, sizeof snap, "%s/models--someone--vocos/snapshots/0123abc", tmp_path("hub"));
  char cmd[12000];
  snprintf(cmd, sizeof cmd, "mkdir -p '%s' '%s/models--someone--vocos/refs' && cp '%s'/config.yaml '%s'/model.safetensors '%s'/ && "
           "printf 0123abc > '%s/models--someone--vocos/refs/main'",
           snap, tmp_path("hub"), vocos, vocos, snap, tmp_path("hub"));
  vocoder *v = NULL;
  CHECK(system(cmd) == 0 && vocoder_open("someone/vocos", &v) == A2I2A_OK && vocoder_kind_of(v) == VOCODER_VOCOS,
        "ORG/NAME in the cache: %s", a2i2a_last_error());
  vocoder_close(v);
  unsetenv("HF_HUB_CACHE");
  /* the reading's own: no vocoder, an image without a style */
  a2i2a_i2a_params p = a2i2a_i2a_default_params();
  a2i2a_sound sound;
  size_t size;
  const char *plain = fixture("seed/images/i03_synthetic_400x296.png");
  uint8_t *bytes = read_all(plain, &size);
  CHECK(bytes && a2i2a_i2a_memory(bytes, size, "i03.png", "vocoder", &p, &sound, NULL) == A2I2A_ERR_PARAM &&
            strstr(a2i2a_last_error(), "needs a vocoder"),
        "the reading without a vocoder: %s", a2i2a_last_error());
  p.vocoder = vocos;
  CHECK(bytes && a2i2a_i2a_memory(bytes, size, "i03.png", "vocoder", &p, &sound, NULL) == A2I2A_ERR_UNSUPPORTED &&
            strstr(a2i2a_last_error(), "i03.png") && strstr(a2i2a_last_error(), "no spectrogram style"),
        "an image without a style: %s", a2i2a_last_error());
  printf("  %-34s %s\n", "an image without a style", a2i2a_last_error());
  free(bytes);
}

int main(void) {
  snprintf(tmp, sizeof tmp, "/tmp/a2i2a_vocoder_%d", (int)getpid());
  mkdir(tmp, 0755);
  static const char *const vocos_files[] = {"model.safetensors", "pytorch_model.bin"},
                           *hifigan_files[] = {"generator.safetensors", "generator.pt"};
  golden("vocos", "tiny-vocos", vocos_files, 2);
  golden("hifigan", "tiny-hifigan", hifigan_files, 2);

  /* the fixtures' tiny vocoders, or random ones of their shapes */
  static char paths[2][4200];
  const char *vocoders[2] = {paths[0], paths[1]}, *names[2] = {"Vocos", "HiFi-GAN"};
  if (fixture_here("vocoder/tiny-vocos/config.yaml")) {
    snprintf(paths[0], sizeof paths[0], "%s", fixture("vocoder/tiny-vocos"));
    snprintf(paths[1], sizeof paths[1], "%s", fixture("vocoder/tiny-hifigan"));
  } else {
    snprintf(paths[0], sizeof paths[0], "%s", tmp_path("vocos"));
    snprintf(paths[1], sizeof paths[1], "%s", tmp_path("hifigan"));
    mkdir(paths[0], 0755), mkdir(paths[1], 0755);
    CHECK(write_random_vocos(paths[0], 64, 192, 2, 7) == A2I2A_OK, "%s", a2i2a_last_error());
    CHECK(write_random_hifigan(paths[1], 32, 7) == A2I2A_OK, "%s", a2i2a_last_error());
  }
  mel_proximity(vocoders, names, 2);
  /* the reading with both kinds, from every weights file where the fixtures have them */
  static char forms[4][4300];
  const char *reading_vocoders[4] = {forms[0], forms[1], forms[2], forms[3]};
  int nforms = 2;
  snprintf(forms[0], sizeof forms[0], "%s", paths[0]);
  snprintf(forms[1], sizeof forms[1], "%s", paths[1]);
  if (fixture_here("vocoder/tiny-vocos/pytorch_model.bin")) {
    snprintf(forms[2], sizeof forms[2], "%s", fixture("vocoder/tiny-vocos/pytorch_model.bin"));
    snprintf(forms[3], sizeof forms[3], "%s", fixture("vocoder/tiny-hifigan/generator.pt"));
    nforms = 4;
  }
  reading_on_styles(reading_vocoders, nforms);
  lists(paths[0]);
  errors(paths[0], paths[1]);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
  if (system(cmd)) printf("could not remove %s\n", tmp);
  return check_done();
}
