/* Hostile inputs (issue 15): each crafted input that once crashed, overflowed or took all the
 * memory, now a one-line error before any work.
 *  1. a Riffusion eXIf block whose IFD0 offset is 0xFFFFFFFE or 0xFFFFFFFF (the bound check
 *     wrapped in 32 bits and the reader went 4 GB past the block), and values outside their
 *     bounds (a DOUBLE 1e300 as the sample rate);
 *  2. a run.json asking for clips shorter than one sample (concat_png read an empty array);
 *  3. the fullband chunk's "samples" (1e9 made inverse allocate 4.5 GB, 9e15 failed deep inside)
 *     and its other numbers, bounded as the CLI bounds its options;
 *  4. an image whose reading does not fit in memory (A2I2A_MEMORY_MB), refused with the estimate;
 *  5. a corrupt Ogg: a clean error (the leak behind it is libsndfile's, tests/lsan.supp). */
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

#include "a2i/styles.h"
#include "a2i2a.h"
#include "audio/audio.h"
#include "check.h"
#include "image/image.h"
#include "sd/clip.h"
#include "sd/scheduler.h"

static char dir[] = "/tmp/a2i2a_test_hostile_XXXXXX";

static const char *tmp_path(const char *name) {
  static char buf[4][4096];
  static int k;
  char *b = buf[k++ & 3];
  snprintf(b, 4096, "%s/%s", dir, name);
  return b;
}

/* A w×h PNG in memory with a gradient and meta's chunks. */
static void *make_png(int w, int h, const png_meta *meta, size_t *size) {
  image_u8 img;
  void *png = NULL;
  *size = 0;
  if (image_alloc(&img, w, h, 3)) return NULL;
  for (size_t i = 0; i < (size_t)w * h * 3; i++) img.px[i] = (uint8_t)((i * 7) % 251);
  png_write_memory(&img, meta, &png, size);
  image_free(&img);
  return png;
}

/* One reading of png; the status, and the last error in err. */
static a2i2a_status read_png(const void *png, size_t size, const char *reading, char *err, size_t n) {
  a2i2a_sound s;
  a2i2a_status st = a2i2a_i2a_memory(png, size, "hostile.png", reading, NULL, &s, NULL);
  snprintf(err, n, "%s", st ? a2i2a_last_error() : "");
  if (!st) a2i2a_free(s.samples);
  return st;
}

/* ------------------------------------------------------------------ 1. eXIf */

static void put32be(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v; }

static void test_exif(void) {
  char err[1024];
  /* IFD0 offsets that wrap a 32-bit bound check, big- and little-endian */
  const uint32_t offsets[] = {0xFFFFFFFEu, 0xFFFFFFFFu, 0xFFFFFFF8u};
  for (int k = 0; k < 3; k++)
    for (int le = 0; le < 2; le++) {
      uint8_t b[32] = {0};
      memcpy(b, le ? "II*\0" : "MM\0*", 4);
      uint32_t v = offsets[k];
      if (le) b[4] = (uint8_t)v, b[5] = (uint8_t)(v >> 8), b[6] = (uint8_t)(v >> 16), b[7] = (uint8_t)(v >> 24);
      else put32be(b + 4, v);
      riffusion_exif e;
      a2i2a_status st = riffusion_exif_read(b, sizeof b, &e);
      CHECK(st == A2I2A_ERR_FORMAT && strstr(a2i2a_last_error(), "IFD0 offset"), "offset 0x%08X (%s): %d '%s'", v,
            le ? "II" : "MM", st, a2i2a_last_error());
      /* the same block in a painting: not Riffusion's, so inverse reads it by the seed convention */
      png_meta meta;
      png_meta_init(&meta);
      png_meta_set_exif(&meta, b, sizeof b);
      size_t n;
      void *png = make_png(40, 30, &meta, &n);
      CHECK(png && read_png(png, n, "inverse", err, sizeof err) == A2I2A_OK, "offset 0x%08X in a PNG: %s", v, err);
      free(png);
      png_meta_free(&meta);
    }

  /* Riffusion's block with a DOUBLE 1e300 as its sample rate: refused by its bounds, whole */
  riffusion_exif e = riffusion_exif_default();
  uint8_t b[256 + 8];
  size_t len = riffusion_exif_write(&e, b);
  uint8_t *entry = b + 10; /* tag 11000 */
  entry[2] = 0, entry[3] = 12;
  put32be(entry + 8, (uint32_t)len);
  double huge = 1e300;
  uint64_t u;
  memcpy(&u, &huge, 8);
  put32be(b + len, (uint32_t)(u >> 32)), put32be(b + len + 4, (uint32_t)u);
  a2i2a_status st = riffusion_exif_read(b, len + 8, &e);
  CHECK(st == A2I2A_ERR_FORMAT && strstr(a2i2a_last_error(), "sample_rate") &&
            strstr(a2i2a_last_error(), "not a whole number in [1000, 384000]"),
        "sample rate 1e300: %d '%s'", st, a2i2a_last_error());
  png_meta meta;
  png_meta_init(&meta);
  png_meta_set_exif(&meta, b, len + 8);
  size_t n;
  void *png = make_png(40, 30, &meta, &n);
  st = read_png(png, n, "inverse", err, sizeof err);
  CHECK(st == A2I2A_ERR_FORMAT && strstr(err, "hostile.png") && strstr(err, "sample_rate"),
        "a painting with it: %d '%s'", st, err);
  free(png);
  png_meta_free(&meta);
  /* and a value just inside the bounds is read */
  len = riffusion_exif_write(&e, b);
  CHECK(riffusion_exif_read(b, len, &e) == A2I2A_OK, "Riffusion's own block: %s", a2i2a_last_error());
}

/* ------------------------------------------------------------------ 3. the fullband chunk */

/* A fullband spectrogram of a second of tone, its "a2i2a" chunk's key set to value (JSON text;
 * NULL: unchanged), as PNG bytes. */
static void *fullband_png(const char *key, const char *value, size_t *size) {
  enum { RATE = 16000 };
  static float pcm[RATE];
  for (int i = 0; i < RATE; i++) pcm[i] = 0.5f * (float)sin(2 * M_PI * 440.0 * i / RATE);
  a2i2a_a2i_params ap = a2i2a_a2i_default_params();
  ap.style = "fullband";
  ap.height = 64;
  void *png = NULL;
  *size = 0;
  if (a2i2a_a2i_pcm(pcm, RATE, 1, RATE, &ap, &png, size, NULL)) return NULL;
  if (!key) return png;
  image_u8 img;
  png_meta meta;
  if (image_read_memory(png, *size, "fullband", &img, &meta)) return a2i2a_free(png), NULL;
  a2i2a_free(png);
  cJSON *o = cJSON_Parse(png_meta_get(&meta, A2I_JSON_KEY));
  cJSON_ReplaceItemInObjectCaseSensitive(o, key, cJSON_Parse(value));
  char *text = cJSON_PrintUnformatted(o);
  png_meta_set(&meta, A2I_JSON_KEY, text);
  png = NULL;
  png_write_memory(&img, &meta, &png, size);
  free(text);
  cJSON_Delete(o);
  image_free(&img);
  png_meta_free(&meta);
  return png;
}

static void expect_chunk_refused(const char *key, const char *value, const char *says) {
  size_t n;
  char err[1024];
  void *png = fullband_png(key, value, &n);
  a2i2a_status st = png ? read_png(png, n, "inverse", err, sizeof err) : A2I2A_ERR_INTERNAL;
  CHECK(st == A2I2A_ERR_FORMAT && strstr(err, "hostile.png") && strstr(err, says), "\"%s\": %s: %d '%s' (want '%s')",
        key, value, st, err, says);
  free(png);
}

static void test_fullband_chunk(void) {
  size_t n;
  char err[1024];
  void *png = fullband_png(NULL, NULL, &n);
  CHECK(png && read_png(png, n, "inverse", err, sizeof err) == A2I2A_OK, "the chunk as a2i wrote it: %s", err);
  free(png);
  /* more samples than its columns hold: 1e9 was 4.5 GB, 9e15 an allocation that failed */
  expect_chunk_refused("samples", "1e9", "samples do not fit");
  expect_chunk_refused("samples", "9e15", "\"samples\": 9e+15 is not a whole number in [1, 2147483648]");
  expect_chunk_refused("samples", "-1", "\"samples\": -1 is not a whole number");
  expect_chunk_refused("samples", "\"many\"", "\"samples\" is missing or not a number");
  expect_chunk_refused("hop", "1e300", "\"hop\": 1e+300 is not a whole number in [1, 16777216]");
  expect_chunk_refused("n_fft", "2.5", "\"n_fft\": 2.5 is not a whole number");
  expect_chunk_refused("width", "70000", "\"width\": 70000 is not a whole number in [1, 65536]");
  expect_chunk_refused("db_range", "1e300", "\"db_range\" 1e+300 are not numbers in");
  expect_chunk_refused("db_max", "-1e300", "\"db_max\" -1e+300");
  expect_chunk_refused("peak", "1e400", "\"peak\""); /* cJSON reads 1e400 as inf */
}

/* ------------------------------------------------------------------ 2. clips of no samples */

static void write_tone(const char *path, int rate, int frames) {
  float *x = malloc(sizeof(float) * frames);
  for (int i = 0; i < frames; i++) x[i] = 0.3f * (float)sin(0.3 * i);
  audio_buf a = {1, frames, rate, x};
  CHECK(audio_write(path, &a, 16, 0, 1) == A2I2A_OK, "%s: %s", path, a2i2a_last_error());
  free(x);
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  static char text[1 << 16];
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = 0;
  return text;
}

static void test_clips(void) {
  a2i2a_model *m = NULL;
  CHECK(a2i2a_model_open("examples/tiny-sd1", &m) == A2I2A_OK, "tiny model: %s", a2i2a_last_error());
  if (!m) return;
  char wav[4200], slow[4200];
  snprintf(wav, sizeof wav, "%s", tmp_path("tone.wav"));
  snprintf(slow, sizeof slow, "%s", tmp_path("slow.wav"));
  write_tone(wav, 16000, 4000);
  a2i2a_run_params p;
  a2i2a_run_preset("seed", &p);
  p.model = "examples/tiny-sd1";
  p.readings = "red";
  p.i2i.steps = 2, p.i2i.width = 64, p.i2i.height = 48;
  p.i2a.gl_iters = 2;
  p.sheet = 0;
  a2i2a_status st = a2i2a_run(m, wav, tmp_path("run"), &p, 1, NULL);
  CHECK(st == A2I2A_OK, "the run to replay: %s", a2i2a_last_error());

  /* its run.json asking for clips of 10 µs: 0.16 samples at 16 kHz */
  cJSON *root = cJSON_Parse(slurp(tmp_path("run/run.json")));
  cJSON *clips = cJSON_GetObjectItemCaseSensitive(root, "clips");
  cJSON_ReplaceItemInObjectCaseSensitive(clips, "seconds", cJSON_CreateNumber(1e-5));
  char *text = cJSON_Print(root), json[4200];
  snprintf(json, sizeof json, "%s", tmp_path("tiny-clips.json"));
  FILE *f = fopen(json, "w");
  if (f) fputs(text, f), fclose(f);
  free(text);
  cJSON_Delete(root);
  st = a2i2a_run_replay(json, NULL, NULL, tmp_path("replayed"), 0, NULL);
  CHECK(st == A2I2A_ERR_FORMAT && strstr(a2i2a_last_error(), json) &&
            strstr(a2i2a_last_error(), "clips.seconds: 1e-05 is not a number in [0.1, 3600] (or 0)"),
        "replay of 10 µs clips: %d '%s'", st, a2i2a_last_error());
  CHECK(access(tmp_path("replayed"), F_OK) != 0, "a refused replay left its folder");

  /* the same from the library's call, and the shortest clip accepted on a sound too slow to
   * give it a sample (8 Hz: 0.1 s is 0.8 of a sample), which the run's preflight refuses */
  p.clip_seconds = 1e-5;
  st = a2i2a_run(m, wav, tmp_path("short"), &p, 1, NULL);
  CHECK(st == A2I2A_ERR_PARAM && strstr(a2i2a_last_error(), "clips.seconds"), "10 µs clips: %d '%s'", st,
        a2i2a_last_error());
  write_tone(slow, 8, 40);
  p.clip_seconds = 0.1;
  st = a2i2a_run(m, slow, tmp_path("slow"), &p, 1, NULL);
  CHECK(st == A2I2A_ERR_LIMIT && strstr(a2i2a_last_error(), "too short"), "0.1 s clips at 8 Hz: %d '%s'", st,
        a2i2a_last_error());
  CHECK(access(tmp_path("slow"), F_OK) != 0, "a refused run left its folder");
  a2i2a_model_close(m);
}

/* ------------------------------------------------------------------ 4. memory */

static long max_rss_kb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

static void test_memory(void) {
  size_t n;
  char err[1024];
  void *big = make_png(1024, 1024, NULL, &n);
  /* the estimate is not below what the reading takes (the peak's growth in this process) */
  long before = max_rss_kb();
  a2i2a_i2a_params ip = a2i2a_i2a_default_params();
  ip.gl_iters = 1;
  a2i2a_sound s;
  CHECK(a2i2a_i2a_memory(big, n, "big.png", "red", &ip, &s, NULL) == A2I2A_OK, "red of 1024x1024: %s",
        a2i2a_last_error());
  a2i2a_free(s.samples);
  double grew_mb = (max_rss_kb() - before) / 1024.0;
#ifdef __SANITIZE_ADDRESS__
  grew_mb /= 1.125; /* AddressSanitizer's shadow: a byte more for every eight */
#endif
  setenv("A2I2A_MEMORY_MB", "1", 1);
  a2i2a_status st = read_png(big, n, "red", err, sizeof err);
  double estimate_mb = -1;
  const char *about = strstr(err, "needs about ");
  if (about) estimate_mb = atof(about + strlen("needs about "));
  CHECK(st == A2I2A_ERR_NOMEM && strstr(err, "hostile.png: reading red of a 1024x1024 image") &&
            strstr(err, "MB are available"),
        "red of 1024x1024 in 1 MB: %d '%s'", st, err);
  CHECK(estimate_mb >= grew_mb && estimate_mb < 4 * grew_mb + 16, "estimate %.0f MB, the reading grew by %.0f MB",
        estimate_mb, grew_mb);
  /* in 64 MB: the big image is refused, every reading of a small one fits */
  setenv("A2I2A_MEMORY_MB", "64", 1);
  st = read_png(big, n, "red", err, sizeof err);
  CHECK(st == A2I2A_ERR_NOMEM, "red of 1024x1024 in 64 MB: %d '%s'", st, err);
  void *small = make_png(64, 48, NULL, &n);
  for (int i = 0; i < a2i2a_list_count(A2I2A_LIST_READINGS); i++) {
    const char *name = a2i2a_list_entry(A2I2A_LIST_READINGS, i)->name;
    if (!strcmp(name, "vocoder")) continue; /* needs a vocoder's files: the "all" below leaves it out too */
    CHECK(read_png(small, n, name, err, sizeof err) == A2I2A_OK, "%s of 64x48 in 64 MB: %s", name, err);
  }
  /* several readings count together */
  a2i2a_i2a_params p = a2i2a_i2a_default_params();
  setenv("A2I2A_MEMORY_MB", "2", 1);
  st = a2i2a_i2a_file(tmp_path("small.png"), "all", tmp_path("all"), &p, 0, NULL);
  CHECK(st != A2I2A_OK, "no such file");
  FILE *f = fopen(tmp_path("small.png"), "wb");
  if (f) fwrite(small, 1, n, f), fclose(f);
  st = a2i2a_i2a_file(tmp_path("small.png"), "all", tmp_path("all"), &p, 0, NULL);
  CHECK(st == A2I2A_ERR_NOMEM && strstr(a2i2a_last_error(), "8 readings of a 64x48 image needs about"),
        "all of 64x48 in 2 MB: %d '%s'", st, a2i2a_last_error());
  CHECK(access(tmp_path("all"), F_OK) != 0, "a refused i2a left its folder");
  unsetenv("A2I2A_MEMORY_MB");
  free(big);
  free(small);
}

/* Decoding grows its buffer as samples arrive, within the memory available. */
static void test_decode_memory(void) {
  const char *wav = tmp_path("ten.wav");
  write_tone(wav, 44100, 441000); /* 10 s: 1.7 MB of float samples */
  audio_buf a;
  setenv("A2I2A_MEMORY_MB", "1", 1);
  a2i2a_status st = audio_read(wav, &a);
  CHECK(st == A2I2A_ERR_NOMEM && strstr(a2i2a_last_error(), "ten.wav: decoding 441001 frames needs 2 MB of memory and 1 MB are available"),
        "10 s in 1 MB: %d '%s'", st, a2i2a_last_error());
  setenv("A2I2A_MEMORY_MB", "4", 1);
  st = audio_read(wav, &a);
  CHECK(st == A2I2A_OK && a.frames == 441000, "10 s in 4 MB: %d '%s'", st, a2i2a_last_error());
  audio_free(&a);
  unsetenv("A2I2A_MEMORY_MB");
}

/* ------------------------------------------------------------------ 3. model configs */

/* A copy of the tiny model (weights linked) whose PART/FILE has key set to value (JSON). */
static const char *model_with(const char *part, const char *file, const char *key, const char *value) {
  static const char *parts[] = {"unet", "vae", "text_encoder", "scheduler", "tokenizer"};
  static char dir[4200];
  char cmd[16384];
  snprintf(dir, sizeof dir, "%s", tmp_path("model"));
  snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir '%s' && cp examples/tiny-sd1/model_index.json '%s'/", dir, dir, dir);
  CHECK(system(cmd) == 0, "%s", cmd);
  for (int i = 0; i < 5; i++) {
    snprintf(cmd, sizeof cmd, "mkdir '%s/%s' && for f in examples/tiny-sd1/%s/*; do ln -s \"$PWD/$f\" '%s/%s'/; done",
             dir, parts[i], parts[i], dir, parts[i]);
    CHECK(system(cmd) == 0, "%s", cmd);
  }
  char src[4200], dst[8600];
  snprintf(src, sizeof src, "examples/tiny-sd1/%s/%s", part, file);
  snprintf(dst, sizeof dst, "%s/%s/%s", dir, part, file);
  cJSON *o = cJSON_Parse(slurp(src));
  cJSON_DeleteItemFromObjectCaseSensitive(o, key);
  cJSON_AddItemToObject(o, key, cJSON_Parse(value));
  char *text = cJSON_Print(o);
  unlink(dst);
  FILE *f = fopen(dst, "w");
  if (f) fputs(text, f), fclose(f);
  free(text);
  cJSON_Delete(o);
  return dir;
}

static void expect_model_refused(const char *part, const char *file, const char *key, const char *value,
                                 const char *says) {
  a2i2a_model *m = NULL;
  a2i2a_status st = a2i2a_model_open(model_with(part, file, key, value), &m);
  CHECK(st == A2I2A_ERR_MODEL && strstr(a2i2a_last_error(), says), "%s/%s %s = %s: %d '%s' (want '%s')", part, file,
        key, value, st, a2i2a_last_error(), says);
  if (m) a2i2a_model_close(m);
}

static void test_model_configs(void) {
  a2i2a_model *m = NULL;
  CHECK(a2i2a_model_open(model_with("unet", "config.json", "norm_num_groups", "32"), &m) == A2I2A_OK,
        "the copy as it is: %s", a2i2a_last_error());
  if (m) a2i2a_model_close(m);
  /* 0 groups divided by zero; the others were taken as they came */
  expect_model_refused("unet", "config.json", "norm_num_groups", "0", "config.json: norm_num_groups: 0 is not a whole number in [1, 1024]");
  expect_model_refused("unet", "config.json", "block_out_channels", "[32, 32, 32, 1e12]", "block_out_channels[3]: 1e+12 is not a whole number in [1, 16384]");
  expect_model_refused("unet", "config.json", "attention_head_dim", "-8", "attention_head_dim: -8 is not a whole number in [1, 1024]");
  expect_model_refused("unet", "config.json", "freq_shift", "16", "freq_shift: 16 is not a whole number in [0, 1]");
  expect_model_refused("unet", "config.json", "norm_eps", "1e300", "norm_eps: 1e+300 is not a number");
  expect_model_refused("vae", "config.json", "scaling_factor", "1e300", "scaling_factor: 1e+300 is not a number in [1e-06, 1000]");
  expect_model_refused("vae", "config.json", "latent_channels", "100000", "latent_channels: 100000 is not a whole number in [1, 64]");
  expect_model_refused("text_encoder", "config.json", "num_attention_heads", "1e10", "num_attention_heads: 1e+10 is not a whole number");
  expect_model_refused("text_encoder", "config.json", "hidden_size", "\"wide\"", "hidden_size is not a number");
  /* the scheduler's numbers are read when a sampler is built from them */
  const char *cfg = "{\"_class_name\": \"LCMScheduler\", \"original_inference_steps\": 0}";
  cJSON *o = cJSON_Parse(cfg);
  sched_config sc;
  a2i2a_status st = sched_config_from_json(o, "LCMScheduler", &sc);
  CHECK(st == A2I2A_ERR_MODEL && strstr(a2i2a_last_error(), "original_inference_steps: 0 is not a whole number in [1, 1000]"),
        "LCM with 0 original steps (divided by zero): %d '%s'", st, a2i2a_last_error());
  cJSON_Delete(o);
  o = cJSON_Parse("{\"num_train_timesteps\": 1e300, \"steps_offset\": 5}");
  st = sched_config_from_json(o, "PNDMScheduler", &sc);
  CHECK(st == A2I2A_ERR_MODEL && strstr(a2i2a_last_error(), "num_train_timesteps: 1e+300 is not a whole number in [2, 100000]"),
        "1e300 training steps: %d '%s'", st, a2i2a_last_error());
  cJSON_Delete(o);
}

/* ------------------------------------------------------------------ found by fuzzing */

/* vocab.json with a repeated id or a bad one: the error names the entry (fuzz_tokenizer found
 * the message reading it after the JSON was freed). */
static void test_vocab_errors(void) {
  char *text = malloc(1 << 16);
  size_t n = 0;
  n += (size_t)sprintf(text + n, "{");
  for (int i = 0; i < 600; i++) n += (size_t)sprintf(text + n, "\"tok%d\": %d, ", i, i);
  sprintf(text + n, "\"again\": 5}");
  FILE *f = fopen(tmp_path("vocab.json"), "w");
  if (f) fputs(text, f), fclose(f);
  f = fopen(tmp_path("merges.txt"), "w");
  if (f) fputs("#version: 0.2\n", f), fclose(f);
  clip_tokenizer *t = NULL;
  a2i2a_status st = tokenizer_load_dir(&t, dir, 1);
  CHECK(st == A2I2A_ERR_FORMAT && strstr(a2i2a_last_error(), "'again' or its id 5 appears twice"), "repeated id: %d '%s'",
        st, a2i2a_last_error());
  sprintf(text + n, "\"negative\": -5}");
  f = fopen(tmp_path("vocab.json"), "w");
  if (f) fputs(text, f), fclose(f);
  st = tokenizer_load_dir(&t, dir, 1);
  CHECK(st == A2I2A_ERR_FORMAT && strstr(a2i2a_last_error(), "the id of 'negative' is not a whole number in [0, 1048575]"),
        "negative id: %d '%s'", st, a2i2a_last_error());
  free(text);
}

/* 220 bytes of PNG whose tEXt chunk declares 2 GB: libpng allocated and cleared all of it
 * before finding the data missing (fuzz_image, as a timeout). */
static void test_png_chunk_length(void) {
  static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  uint8_t png[220] = {0};
  memcpy(png, sig, 8);
  uint8_t *ihdr = png + 8;
  put32be(ihdr, 13), memcpy(ihdr + 4, "IHDR", 4);
  put32be(ihdr + 8, 4), put32be(ihdr + 12, 93), ihdr[16] = 8, ihdr[17] = 6;
  put32be(ihdr + 21, (uint32_t)crc32(0, ihdr + 4, 17));
  uint8_t *text = ihdr + 25;
  put32be(text, 2103640118u), memcpy(text + 4, "tEXtparameters", 14);
  long before = max_rss_kb();
  char err[1024];
  a2i2a_status st = read_png(png, sizeof png, "bend", err, sizeof err);
  CHECK(st == A2I2A_ERR_FORMAT && strstr(err, "a chunk runs past the end of the data"), "a 2 GB tEXt in 220 bytes: %d '%s'",
        st, err);
  CHECK(max_rss_kb() - before < 64 * 1024, "reading it grew the process by %ld MB", (max_rss_kb() - before) / 1024);
  /* the same length in a PNG long enough to hold it would be refused by size: 8 MB at most */
  put32be(text, 9000000);
  uint8_t *big = calloc(1, 9100000);
  memcpy(big, png, sizeof png);
  st = read_png(big, 9100000, "bend", err, sizeof err);
  CHECK(st == A2I2A_ERR_FORMAT && strstr(err, "a chunk larger than 8 MB"), "a 9 MB tEXt: %d '%s'", st, err);
  free(big);
}

/* 14 bytes mpg123 decodes to 2304 frames: more than one growth of the buffer sized from them
 * (fuzz_audio found the overflow in this branch's size-bounded buffer). */
static void test_mp3_growth(void) {
  static const uint8_t mp3[14] = {0xff, 0xec, 0x04, 0x65, 0x01, 0x73, 0x66, 0xff, 0xec, 0x04, 0x5c, 0x65, 0x00, 0xfb};
  audio_buf a;
  a2i2a_status st = audio_read_memory(mp3, sizeof mp3, "tiny.mp3", &a);
  CHECK(st == A2I2A_OK && a.frames > 64 * (int64_t)sizeof mp3, "14 bytes of MPEG: %d '%s'", st, st ? a2i2a_last_error() : "");
  if (!st) audio_free(&a);
}

/* Runs read on audio bytes with stderr going to a file; returns what was printed (0: nothing). */
static long stderr_bytes_of(const uint8_t *b, size_t n, const char *name, audio_buf *a, a2i2a_status *st) {
  fflush(stderr);
  int saved = dup(2), fd = open(tmp_path("stderr"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  dup2(fd, 2);
  *st = audio_read_memory(b, n, name, a);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  long printed = lseek(fd, 0, SEEK_END);
  close(fd);
  return printed;
}

/* libsndfile decodes MPEG with a mpg123 it leaves talkative; the library must not print.
 * fuzz_audio found ID3 tags behind which libsndfile guessed MPEG; MPEG inside a WAV is the
 * other way in. */
static void test_quiet_mpeg(void) {
  static const uint8_t id3[128] = {
      0x49, 0x44, 0x33, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x49, 0x44, 0x33, 0x04, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xfb, 0xb0, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x86, 0x00, 0x06,
      0x08, 0x0a, 0x0d, 0x0f, 0x11, 0x15, 0x18, 0x1a, 0x1c, 0x1e, 0x20, 0x25, 0x27, 0x29, 0x2b, 0x2d, 0x30, 0x34, 0x36,
      0x38, 0x3b, 0x3d, 0x3f, 0x43, 0x46, 0x48, 0x4a, 0x4c, 0x4e, 0x50, 0x55, 0x57, 0x59, 0x5b, 0x5e, 0x60, 0x64, 0x66,
      0x69, 0x6b, 0x6d, 0x46, 0x4f, 0x52, 0x4d, 0x00, 0x00, 0x01, 0xbe, 0x41, 0x49, 0x46, 0x46, 0x43, 0x4f, 0x4d, 0x4d,
      0x00, 0x00, 0x6d, 0x6f, 0x73, 0x76, 0x78, 0x7a, 0x7c, 0xff, 0x2c, 0xa4, 0x7e, 0x95};
  audio_buf a = {0};
  a2i2a_status st;
  long printed = stderr_bytes_of(id3, sizeof id3, "tags.wav", &a, &st);
  CHECK(printed == 0 && st == A2I2A_ERR_FORMAT, "ID3 tags before a frame header: %d, %ld bytes printed", st, printed);

  /* the fixture MP3's frames in a WAV (format 0x55): decoded by our mpg123, quietly, the same
   * samples as the MP3 itself */
  if (!fixture_case("seed/audio/a04_trumpet_44k1_stereo.mp3")) return;
  FILE *f = fopen(fixture("seed/audio/a04_trumpet_44k1_stereo.mp3"), "rb");
  static uint8_t mp3[1 << 18], wav[(1 << 18) + 64];
  size_t n = f ? fread(mp3, 1, sizeof mp3, f) : 0;
  if (f) fclose(f);
  size_t tag = n > 10 && !memcmp(mp3, "ID3", 3)
                   ? 10 + ((size_t)(mp3[6] & 0x7f) << 21 | (mp3[7] & 0x7f) << 14 | (mp3[8] & 0x7f) << 7 | (mp3[9] & 0x7f))
                   : 0;
  size_t frames = n - tag, at = 0;
  static const uint8_t fmt[30] = {0x55, 0, 2, 0, 0x44, 0xac, 0, 0, 0x80, 0x3e, 0, 0, 1, 0, 0, 0, 12, 0,
                                  1,    0, 2, 0, 0,    0,    0xa1, 1, 1, 0, 0x71, 5};
  memcpy(wav, "RIFF", 4), at = 8;
  memcpy(wav + at, "WAVEfmt ", 8), at += 8;
  wav[at] = sizeof fmt, at += 4;
  memcpy(wav + at, fmt, sizeof fmt), at += sizeof fmt;
  memcpy(wav + at, "data", 4), at += 4;
  for (int i = 0; i < 4; i++) wav[at + i] = (uint8_t)(frames >> (8 * i)), wav[4 + i] = (uint8_t)((at + 4 + frames - 8) >> (8 * i));
  at += 4;
  memcpy(wav + at, mp3 + tag, frames), at += frames;
  printed = stderr_bytes_of(wav, at, "in.wav", &a, &st);
  audio_buf m = {0};
  a2i2a_status mst = audio_read_memory(mp3, n, "trumpet.mp3", &m);
  CHECK(printed == 0 && st == A2I2A_OK && mst == A2I2A_OK && a.frames == m.frames && a.channels == m.channels &&
            !memcmp(a.x, m.x, sizeof(float) * (size_t)a.frames * a.channels),
        "MPEG in a WAV: %d, %ld bytes printed, %lld frames (the MP3: %lld)", st, printed, (long long)a.frames,
        (long long)m.frames);
  audio_free(&a), audio_free(&m);
  /* damaged frames in it: an error, still quiet */
  for (size_t i = 2000; i < 2400 && i < frames; i++) wav[at - frames + i] ^= 0x5a;
  printed = stderr_bytes_of(wav, at, "damaged.wav", &a, &st);
  CHECK(printed == 0, "damaged MPEG in a WAV: %d, %ld bytes printed", st, printed);
  audio_free(&a);
}

/* ------------------------------------------------------------------ 5. a corrupt Ogg */

static void test_corrupt_ogg(void) {
  if (!fixture_case("seed/audio/a03_humpback_22k05_mono.ogg")) return;
  FILE *f = fopen(fixture("seed/audio/a03_humpback_22k05_mono.ogg"), "rb");
  uint8_t head[100];
  size_t n = f ? fread(head, 1, sizeof head, f) : 0;
  if (f) fclose(f);
  CHECK(n == sizeof head, "the Ogg fixture");
  audio_buf a;
  a2i2a_status st = audio_read_memory(head, n, "cut.ogg", &a);
  CHECK(st == A2I2A_ERR_FORMAT && strstr(a2i2a_last_error(), "cut.ogg: not a readable audio file"),
        "100 bytes of an Ogg: %d '%s'", st, a2i2a_last_error());
  void *png = NULL;
  size_t size = 0;
  st = a2i2a_a2i_memory(head, n, "cut.ogg", NULL, &png, &size, NULL);
  CHECK(st == A2I2A_ERR_FORMAT && !png, "a2i of it: %d", st);
}

int main(void) {
  CHECK(mkdtemp(dir) != NULL, "mkdtemp");
  test_memory(); /* first: it measures this process's peak */
  test_exif();
  test_fullband_chunk();
  test_clips();
  test_decode_memory();
  test_model_configs();
  test_vocab_errors();
  test_png_chunk_length();
  test_mp3_growth();
  test_quiet_mpeg();
  test_corrupt_ogg();
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd)) fprintf(stderr, "could not remove %s\n", dir);
  return check_done();
}
