/* The in-memory variants against the file ones (issue 11, "in memory, not only files"):
 * a2i2a_a2i_memory and a2i2a_a2i_pcm give the PNG bytes a2i2a_a2i_file writes, for every style;
 * a2i2a_i2a_memory gives the samples a2i2a_i2a_file writes as float WAV, for every reading;
 * MP3 decodes as libsndfile decodes it (the same samples and gapless length) without printing;
 * bad inputs give the file path's status and one line naming the buffer. */
#include <fcntl.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "a2i2a.h"
#include "audio/audio.h"
#include "check.h"
#include "image/image.h"
#include "jpeg_write.h"
#include "sd/safetensors.h"

#define AUD "seed/audio/"
static char tmpdir[] = "/tmp/a2i2a_test_memory_XXXXXX";

static const char *tmp_path(const char *name) {
  static char buf[4][4096];
  static int k;
  char *b = buf[k++ & 3];
  snprintf(b, 4096, "%s/%s", tmpdir, name);
  return b;
}

static uint8_t *read_bytes(const char *path, size_t *n) {
  *n = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  rewind(f);
  uint8_t *b = malloc(len > 0 ? (size_t)len : 1);
  if (b && fread(b, 1, (size_t)len, f) == (size_t)len) *n = (size_t)len;
  fclose(f);
  return b;
}

static void write_bytes(const char *path, const void *b, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) return;
  fwrite(b, 1, n, f);
  fclose(f);
}

/* A sound file as libsndfile itself decodes it: interleaved float. */
static float *sf_read_all(const char *path, int64_t *frames, int *channels, int *rate) {
  SF_INFO info = {0};
  SNDFILE *sf = sf_open(path, SFM_READ, &info);
  *frames = 0;
  if (!sf) return NULL;
  size_t cap = 1 << 16, n = 0;
  float *x = malloc(cap * info.channels * sizeof(float));
  for (sf_count_t got; x && (got = sf_readf_float(sf, x + n * info.channels, (sf_count_t)(cap - n))) > 0;) {
    n += (size_t)got;
    if (n == cap) x = realloc(x, (cap *= 2) * info.channels * sizeof(float));
  }
  sf_close(sf);
  *frames = (int64_t)n;
  *channels = info.channels;
  *rate = info.samplerate;
  return x;
}

/* A failure as the brief wants it: status st and one line that names `name`. */
static void expect_error(a2i2a_status got, a2i2a_status want, const char *name, const char *what) {
  const char *e = a2i2a_last_error();
  CHECK(got == want, "%s: status %d, expected %d (%s)", what, got, want, e);
  CHECK(strstr(e, name) && !strchr(e, '\n'), "%s: the error should be one line naming %s: \"%s\"", what, name, e);
}

/* ------------------------------------------------------------------ a2i */

/* The PNG of a2i2a_a2i_file for a sound and parameters, as bytes. */
static uint8_t *a2i_file_bytes(const char *audio, const a2i2a_a2i_params *p, size_t *n) {
  *n = 0;
  a2i2a_status st = a2i2a_a2i_file(audio, tmp_path("file.png"), p, 1, NULL);
  CHECK(st == A2I2A_OK, "a2i2a_a2i_file %s: %s", audio, a2i2a_last_error());
  return st ? NULL : read_bytes(tmp_path("file.png"), n);
}

static void check_same_bytes(const void *a, size_t na, const void *b, size_t nb, const char *what) {
  CHECK(a && b && na == nb && na > 8 && memcmp(a, b, na) == 0, "%s: %zu bytes vs %zu, not the same", what, na, nb);
}

/* For one style: the file, the encoded bytes in memory and the decoded PCM give one PNG. */
static void a2i_identity(const char *sound, const char *style, int stereo) {
  if (!fixture_case(sound)) return;
  char what[256];
  snprintf(what, sizeof what, "%s, %s%s", sound, style, stereo ? " stereo" : "");
  char path[4096];
  snprintf(path, sizeof path, "%s", fixture(sound));
  a2i2a_a2i_params p = a2i2a_a2i_default_params();
  p.style = style;
  p.stereo = stereo;
  size_t nf = 0, nenc = 0, nm = 0, np = 0, nwav = 0;
  uint8_t *file_png = a2i_file_bytes(path, &p, &nf);
  uint8_t *enc = read_bytes(path, &nenc);
  void *mem_png = NULL, *pcm_png = NULL;
  a2i2a_status st = a2i2a_a2i_memory(enc, nenc, "input.sound", &p, &mem_png, &nm, NULL);
  CHECK(st == A2I2A_OK, "%s: a2i2a_a2i_memory: %s", what, a2i2a_last_error());
  check_same_bytes(file_png, nf, mem_png, nm, what);
  /* a PNG at all: the signature and the style's image */
  image_u8 img = {0};
  png_meta meta;
  CHECK(image_read_memory(mem_png, nm, "png", &img, &meta) == A2I2A_OK && png_meta_get(&meta, "a2i2a"),
        "%s: the memory PNG does not read back with its a2i2a chunk", what);
  image_free(&img);
  png_meta_free(&meta);

  /* PCM: the same as the file path on a float WAV of the samples */
  int64_t frames;
  int channels, rate;
  float *pcm = sf_read_all(path, &frames, &channels, &rate);
  SF_INFO info = {.samplerate = rate, .channels = channels, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT};
  SNDFILE *w = sf_open(tmp_path("pcm.wav"), SFM_WRITE, &info);
  CHECK(pcm && w && sf_writef_float(w, pcm, frames) == frames, "%s: writing the float WAV", what);
  if (w) sf_close(w);
  uint8_t *wav_png = a2i_file_bytes(tmp_path("pcm.wav"), &p, &nwav);
  st = a2i2a_a2i_pcm(pcm, frames, channels, rate, &p, &pcm_png, &np, NULL);
  CHECK(st == A2I2A_OK, "%s: a2i2a_a2i_pcm: %s", what, a2i2a_last_error());
  check_same_bytes(wav_png, nwav, pcm_png, np, what);
  printf("%-45s file = memory = PCM: %zu bytes\n", what, nm);
  free(pcm), free(enc), free(file_png), free(wav_png);
  a2i2a_free(mem_png), a2i2a_free(pcm_png);
}

static void test_a2i_identity(void) {
  a2i_identity(AUD "a02_brahms_44k1_stereo_s16.wav", "seed", 0);
  a2i_identity(AUD "a01_speech_libri_16k_mono_s16.flac", "riffusion", 0);
  a2i_identity(AUD "a02_brahms_44k1_stereo_s16.wav", "riffusion", 1);
  a2i_identity(AUD "a04_trumpet_44k1_stereo.mp3", "fullband", 1);
  a2i_identity(AUD "a03_humpback_22k05_mono.ogg", "fullband", 0);
}

/* ------------------------------------------------------------------ decoding */

static int same_audio(const audio_buf *a, const audio_buf *b) {
  return a->channels == b->channels && a->frames == b->frames && a->rate == b->rate &&
         memcmp(a->x, b->x, sizeof(float) * (size_t)a->channels * (size_t)a->frames) == 0;
}

/* Every fixture sound decodes the same from memory as from its file; the MP3 also exactly as
 * libsndfile decodes it, at the fixture's gapless length. */
static void test_decode_memory(void) {
  static const char *names[] = {"a01_speech_libri_16k_mono_s16.flac", "a02_brahms_44k1_stereo_s16.wav",
                                "a03_humpback_22k05_mono.ogg",        "a04_trumpet_44k1_stereo.mp3",
                                "a05_fishin_48k_stereo_f32.wav",      "a09_noiseburst_48k_stereo_s24.wav"};
  for (size_t k = 0; k < sizeof names / sizeof *names; k++) {
    char rel[512];
    snprintf(rel, sizeof rel, AUD "%s", names[k]);
    if (!fixture_case(rel)) continue;
    size_t n;
    uint8_t *bytes = read_bytes(fixture(rel), &n);
    audio_buf f = {0}, m = {0}, anon = {0};
    CHECK(audio_read(fixture(rel), &f) == A2I2A_OK, "%s: %s", names[k], a2i2a_last_error());
    CHECK(audio_read_memory(bytes, n, names[k], &m) == A2I2A_OK, "%s: %s", names[k], a2i2a_last_error());
    CHECK(audio_read_memory(bytes, n, NULL, &anon) == A2I2A_OK, "%s (no name): %s", names[k], a2i2a_last_error());
    CHECK(same_audio(&f, &m) && same_audio(&f, &anon), "%s: memory and file decode differently", names[k]);
    audio_free(&f), audio_free(&m), audio_free(&anon);
    free(bytes);
  }

  if (fixture_case(AUD "a04_trumpet_44k1_stereo.mp3")) {
    const char *mp3 = fixture(AUD "a04_trumpet_44k1_stereo.mp3");
    audio_buf a = {0};
    CHECK(audio_read(mp3, &a) == A2I2A_OK, "%s", a2i2a_last_error());
    int64_t frames;
    int channels, rate;
    float *ref = sf_read_all(mp3, &frames, &channels, &rate);
    st_file sf;
    long fixture_frames = -1;
    if (st_open(fixture("seed/a2i/a04_trumpet_44k1_stereo/a2i.safetensors"), &sf) == A2I2A_OK) {
      fixture_frames = atol(st_meta(&sf, "num_samples"));
      st_close(&sf);
    }
    CHECK(a.frames == fixture_frames && a.frames == frames && a.channels == channels && a.rate == rate,
          "MP3: %lld frames × %d at %g; libsndfile %lld × %d at %d; the fixture %ld frames", (long long)a.frames,
          a.channels, a.rate, (long long)frames, channels, rate, fixture_frames);
    int64_t differ = 0;
    for (int64_t i = 0; ref && a.frames == frames && i < frames; i++)
      for (int c = 0; c < channels; c++) differ += a.x[(size_t)c * frames + i] != ref[(size_t)i * channels + c];
    CHECK(ref && differ == 0, "MP3: %lld samples differ from libsndfile's decoding", (long long)differ);
    printf("MP3: %lld frames, every sample as libsndfile decodes it\n", (long long)a.frames);
    free(ref);
    audio_free(&a);
  }
}

/* fd 2 into a file while fn runs; returns how many bytes were printed. The library itself must
 * never do this: the test does, to see that nothing is printed. */
static long stderr_bytes_of(void (*fn)(void)) {
  fflush(stderr);
  int saved = dup(2), fd = open(tmp_path("stderr.txt"), O_CREAT | O_TRUNC | O_WRONLY, 0600);
  dup2(fd, 2);
  close(fd);
  fn();
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  struct stat sb;
  return stat(tmp_path("stderr.txt"), &sb) == 0 ? (long)sb.st_size : -1;
}

static uint8_t *damaged_mp3;
static size_t damaged_mp3_size;
static a2i2a_status damaged_status[5];
static char cut_error[512];

/* a run of noise in the middle of the stream: mpg123 resyncs and says so, unless quiet */
static void make_damaged_mp3(void) {
  damaged_mp3 = read_bytes(fixture(AUD "a04_trumpet_44k1_stereo.mp3"), &damaged_mp3_size);
  uint32_t r = 12345;
  for (size_t i = 20000; damaged_mp3 && i < 20400 && i < damaged_mp3_size; i++) damaged_mp3[i] = (uint8_t)((r = r * 1103515245u + 12345u) >> 24);
  write_bytes(tmp_path("damaged.mp3"), damaged_mp3, damaged_mp3_size);
}

static void decode_damaged_ours(void) {
  audio_buf a;
  damaged_status[0] = audio_read(tmp_path("damaged.mp3"), &a);
  audio_free(&a);
  damaged_status[1] = audio_read_memory(damaged_mp3, damaged_mp3_size, "damaged.mp3", &a);
  audio_free(&a);
  damaged_status[2] = audio_read_memory(damaged_mp3, 40000, "cut.mp3", &a);
  snprintf(cut_error, sizeof cut_error, "%s", a2i2a_last_error());
  audio_free(&a);
  /* data no format recognises, named .mp3: mpg123 gets its try, as for a file */
  damaged_status[3] = audio_read_memory("just text, not a sound", 22, "text.mp3", &a);
  audio_free(&a);
  static const char id3_then_junk[] = "ID3\3\0\0\0\0\0\20AAAAAAAAAAAAAAAAjunk after the tag";
  damaged_status[4] = audio_read_memory(id3_then_junk, sizeof id3_then_junk - 1, "tag.mp3", &a);
  audio_free(&a);
}

static void decode_damaged_libsndfile(void) {
  int64_t frames;
  int channels, rate;
  free(sf_read_all(tmp_path("damaged.mp3"), &frames, &channels, &rate));
}

static void test_mp3_quiet(void) {
  make_damaged_mp3();
  long printed_by_libsndfile = stderr_bytes_of(decode_damaged_libsndfile);
  long printed = stderr_bytes_of(decode_damaged_ours);
  CHECK(printed == 0, "decoding a damaged MP3 printed %ld bytes on stderr", printed);
  CHECK(damaged_status[0] == A2I2A_ERR_FORMAT && damaged_status[1] == A2I2A_ERR_FORMAT,
        "damaged MP3: status %d (file), %d (memory)", damaged_status[0], damaged_status[1]);
  CHECK(damaged_status[2] == A2I2A_ERR_FORMAT && strstr(cut_error, "cut.mp3: truncated"), "cut MP3 in memory: %d %s",
        damaged_status[2], cut_error);
  CHECK(damaged_status[3] == A2I2A_ERR_FORMAT && damaged_status[4] == A2I2A_ERR_FORMAT,
        "text or a lone ID3 tag as MP3: status %d, %d", damaged_status[3], damaged_status[4]);
  printf("damaged MP3: %ld bytes printed by libsndfile's mpg123, %ld by ours\n", printed_by_libsndfile, printed);
  free(damaged_mp3);
}

/* Bad sounds in memory: the status of the same bytes as a file, one line naming the buffer. */
static void bad_sound(const void *b, size_t n, a2i2a_status want, const char *what) {
  write_bytes(tmp_path("bad.sound"), b, n);
  audio_buf a;
  a2i2a_status file_st = audio_read(tmp_path("bad.sound"), &a);
  CHECK(file_st == want, "%s as a file: status %d, expected %d (%s)", what, file_st, want, a2i2a_last_error());
  void *png = (void *)1;
  size_t size = 1;
  a2i2a_status st = a2i2a_a2i_memory(b, n, "bad-sound-buffer", NULL, &png, &size, NULL);
  expect_error(st, want, "bad-sound-buffer", what);
  CHECK(png == NULL && size == 0, "%s: the PNG output is not empty after a failure", what);
}

static void test_bad_sounds(void) {
  bad_sound("", 0, A2I2A_ERR_FORMAT, "empty");
  bad_sound("this is just text, not a sound", 30, A2I2A_ERR_FORMAT, "text");
  if (fixture_case(AUD "a02_brahms_44k1_stereo_s16.wav")) {
    size_t n;
    uint8_t *wav = read_bytes(fixture(AUD "a02_brahms_44k1_stereo_s16.wav"), &n);
    uint8_t *flac = read_bytes(fixture(AUD "a01_speech_libri_16k_mono_s16.flac"), &n);
    uint8_t *mp3 = read_bytes(fixture(AUD "a04_trumpet_44k1_stereo.mp3"), &n);
    uint8_t *png = read_bytes(fixture("seed/images/i02_gnome_blobs_400x296.png"), &n);
    bad_sound(wav, 100000, A2I2A_ERR_FORMAT, "truncated WAV");
    CHECK(strstr(a2i2a_last_error(), "truncated"), "truncated WAV: %s", a2i2a_last_error());
    bad_sound(flac, 30000, A2I2A_ERR_FORMAT, "truncated FLAC");
    bad_sound(mp3, 40000, A2I2A_ERR_FORMAT, "truncated MP3");
    bad_sound(wav, 40, A2I2A_ERR_FORMAT, "a WAV header alone");
    bad_sound(png, n, A2I2A_ERR_FORMAT, "a PNG given as sound");
    memset(wav + 20, 0xFF, 24);
    bad_sound(wav, 44 + 1000, A2I2A_ERR_FORMAT, "corrupt header");
    free(wav), free(flac), free(mp3), free(png);
  }

  void *out = NULL;
  size_t size = 0;
  expect_error(a2i2a_a2i_memory(NULL, 10, "null-buffer", NULL, &out, &size, NULL), A2I2A_ERR_PARAM, "null-buffer",
               "NULL data");
  expect_error(a2i2a_a2i_memory(NULL, 0, "null-empty", NULL, &out, &size, NULL), A2I2A_ERR_FORMAT, "null-empty",
               "NULL data, size 0");
  expect_error(a2i2a_a2i_memory("", 0, NULL, NULL, &out, &size, NULL), A2I2A_ERR_FORMAT, "audio in memory",
               "no name");
  CHECK(a2i2a_a2i_memory("x", 1, "n", NULL, NULL, &size, NULL) == A2I2A_ERR_PARAM, "png NULL accepted");

  /* PCM: the limits of files, errors naming "PCM audio" */
  float pcm[64] = {0.5f};
  expect_error(a2i2a_a2i_pcm(pcm, 0, 1, 44100, NULL, &out, &size, NULL), A2I2A_ERR_FORMAT, "PCM", "0 frames");
  expect_error(a2i2a_a2i_pcm(pcm, -1, 1, 44100, NULL, &out, &size, NULL), A2I2A_ERR_PARAM, "PCM", "-1 frames");
  expect_error(a2i2a_a2i_pcm(pcm, 1, 0, 44100, NULL, &out, &size, NULL), A2I2A_ERR_PARAM, "PCM", "0 channels");
  expect_error(a2i2a_a2i_pcm(pcm, 1, 65, 44100, NULL, &out, &size, NULL), A2I2A_ERR_UNSUPPORTED, "PCM", "65 channels");
  expect_error(a2i2a_a2i_pcm(pcm, 8, 1, 0, NULL, &out, &size, NULL), A2I2A_ERR_PARAM, "PCM", "rate 0");
  expect_error(a2i2a_a2i_pcm(pcm, 8, 1, NAN, NULL, &out, &size, NULL), A2I2A_ERR_PARAM, "PCM", "rate NaN");
  expect_error(a2i2a_a2i_pcm(NULL, 8, 1, 44100, NULL, &out, &size, NULL), A2I2A_ERR_PARAM, "PCM", "NULL samples");
  a2i2a_a2i_params p = a2i2a_a2i_default_params();
  p.max_seconds = 0.001;
  expect_error(a2i2a_a2i_pcm(pcm, 64, 1, 8000, &p, &out, &size, NULL), A2I2A_ERR_LIMIT, "PCM", "beyond max_seconds");
  CHECK(out == NULL && size == 0, "PCM failures left a PNG");
  /* a single sample is a sound (seed: zero-padded, docs/styles.md) */
  CHECK(a2i2a_a2i_pcm(pcm, 1, 1, 8000, NULL, &out, &size, NULL) == A2I2A_OK && size > 8 &&
            !memcmp(out, "\x89PNG\r\n\x1a\n", 8),
        "one sample: %s", a2i2a_last_error());
  a2i2a_free(out);
}

/* ------------------------------------------------------------------ i2a */

/* One reading of one image: a2i2a_i2a_memory's samples are the float WAV a2i2a_i2a_file writes. */
static void i2a_identity(const char *image_path, const char *reading) {
  a2i2a_i2a_params p = a2i2a_i2a_default_params();
  p.seed = 7;
  p.gl_iters = 4; /* Griffin-Lim's cost, not its result, is what this saves */
  const char *short_name = strrchr(image_path, '/') ? strrchr(image_path, '/') + 1 : image_path;
  a2i2a_status st = a2i2a_i2a_file(image_path, reading, tmp_path("file.wav"), &p, 1, NULL);
  CHECK(st == A2I2A_OK, "%s, %s: a2i2a_i2a_file: %s", short_name, reading, a2i2a_last_error());
  int64_t frames = 0;
  int channels = 0, rate = 0;
  float *ref = st ? NULL : sf_read_all(tmp_path("file.wav"), &frames, &channels, &rate);
  size_t n;
  uint8_t *bytes = read_bytes(image_path, &n);
  a2i2a_sound s;
  st = a2i2a_i2a_memory(bytes, n, short_name, reading, &p, &s, NULL);
  CHECK(st == A2I2A_OK, "%s, %s: a2i2a_i2a_memory: %s", short_name, reading, a2i2a_last_error());
  CHECK(ref && s.samples && s.frames == frames && s.channels == channels && s.rate == rate && frames > 0 &&
            memcmp(s.samples, ref, sizeof(float) * (size_t)frames * channels) == 0,
        "%s, %s: memory %lld × %d at %g, file %lld × %d at %d, or samples differ", short_name, reading,
        (long long)s.frames, s.channels, s.rate, (long long)frames, channels, rate);
  printf("%-34s %-9s file = memory: %lld frames × %d at %g Hz\n", short_name, reading, (long long)s.frames,
         s.channels, s.rate);
  a2i2a_free(s.samples);
  free(ref);
  free(bytes);
}

static void test_i2a_identity(void) {
  const char *gnome = fixture("seed/images/i02_gnome_blobs_400x296.png");
  for (int i = 0; i < a2i2a_list_count(A2I2A_LIST_READINGS); i++) /* vocoder: test_readings_vocoder.c */
    if (strcmp(a2i2a_list_entry(A2I2A_LIST_READINGS, i)->name, "vocoder"))
      i2a_identity(gnome, a2i2a_list_entry(A2I2A_LIST_READINGS, i)->name);
  /* the inverse reading from each kind of metadata: Riffusion's eXIf, our own text chunk */
  if (fixture_case("seed/riffusion/r01_brahms_stereo_5120ms/image.png"))
    i2a_identity(fixture("seed/riffusion/r01_brahms_stereo_5120ms/image.png"), "inverse");
  if (fixture_case(AUD "a02_brahms_44k1_stereo_s16.wav")) {
    a2i2a_a2i_params ap = a2i2a_a2i_default_params();
    ap.style = "fullband";
    ap.stereo = 1;
    CHECK(a2i2a_a2i_file(fixture(AUD "a02_brahms_44k1_stereo_s16.wav"), tmp_path("fullband.png"), &ap, 1, NULL) == 0,
          "%s", a2i2a_last_error());
    i2a_identity(tmp_path("fullband.png"), "inverse");
  }
  /* JPEG */
  image_u8 img;
  if (image_read(gnome, &img, NULL) == A2I2A_OK) {
    CHECK(write_jpeg(tmp_path("gnome.jpg"), img.px, img.w, img.h, 3, 90), "writing the JPEG");
    image_free(&img);
    i2a_identity(tmp_path("gnome.jpg"), "sines");
    i2a_identity(tmp_path("gnome.jpg"), "red");
  }
}

static void bad_image(const void *b, size_t n, const char *reading, a2i2a_status want, const char *what) {
  a2i2a_sound s = {(float *)1, 1, 1, 1};
  a2i2a_status st = a2i2a_i2a_memory(b, n, "bad-image-buffer", reading, NULL, &s, NULL);
  expect_error(st, want, reading && strchr(reading, '?') ? "reading" : "bad-image-buffer", what);
  CHECK(s.samples == NULL && s.frames == 0, "%s: the sound is not empty after a failure", what);
  if (reading && strchr(reading, '?')) return;
  write_bytes(tmp_path("bad.png"), b, n);
  st = a2i2a_i2a_file(tmp_path("bad.png"), reading, tmp_path("bad.wav"), NULL, 1, NULL);
  CHECK(st == want, "%s as a file: status %d, expected %d (%s)", what, st, want, a2i2a_last_error());
}

static void test_bad_images(void) {
  size_t npng, njpg, nwav;
  uint8_t *png = read_bytes(fixture("seed/images/i02_gnome_blobs_400x296.png"), &npng);
  uint8_t *jpg = read_bytes(tmp_path("gnome.jpg"), &njpg);
  uint8_t *wav = read_bytes(fixture(AUD "a08_clicks_16k_mono_s16.wav"), &nwav);
  bad_image("", 0, "red", A2I2A_ERR_FORMAT, "empty");
  bad_image(png, npng / 2, "red", A2I2A_ERR_FORMAT, "truncated PNG");
  bad_image(jpg, njpg / 2, "red", A2I2A_ERR_FORMAT, "truncated JPEG");
  bad_image(wav, nwav, "red", A2I2A_ERR_FORMAT, "a WAV given as image");
  CHECK(strstr(a2i2a_last_error(), "WAV"), "a WAV given as image: %s", a2i2a_last_error());
  bad_image("not an image at all", 19, "red", A2I2A_ERR_FORMAT, "text");
  png[20] ^= 0x55; /* inside IHDR: its CRC no longer matches */
  bad_image(png, npng, "red", A2I2A_ERR_FORMAT, "corrupt PNG");
  png[20] ^= 0x55;
  /* the reading: one known name */
  a2i2a_sound s;
  expect_error(a2i2a_i2a_memory(png, npng, "img", "nosuch", NULL, &s, NULL), A2I2A_ERR_PARAM, "nosuch", "unknown reading");
  expect_error(a2i2a_i2a_memory(png, npng, "img", "red,sines", NULL, &s, NULL), A2I2A_ERR_PARAM, "img", "two readings");
  expect_error(a2i2a_i2a_memory(png, npng, "img", "all", NULL, &s, NULL), A2I2A_ERR_PARAM, "img", "all");
  expect_error(a2i2a_i2a_memory(NULL, 5, "null-image", "red", NULL, &s, NULL), A2I2A_ERR_PARAM, "null-image", "NULL");
  expect_error(a2i2a_i2a_memory(NULL, 0, NULL, "red", NULL, &s, NULL), A2I2A_ERR_FORMAT, "image in memory", "no name");
  CHECK(a2i2a_i2a_memory(png, npng, "img", "red", NULL, NULL, NULL) == A2I2A_ERR_PARAM, "out NULL accepted");
  /* parameters out of the table's ranges are refused before any work, by memory and file alike */
  a2i2a_i2a_params hostile = a2i2a_i2a_default_params();
  hostile.gl_iters = 1000000000;
  expect_error(a2i2a_i2a_memory(png, npng, "img", "red", &hostile, &s, NULL), A2I2A_ERR_PARAM, "gl_iters",
               "a billion Griffin-Lim iterations");
  expect_error(a2i2a_i2a_file(fixture("seed/images/i02_gnome_blobs_400x296.png"), "red",
                              tmp_path("hostile.wav"), &hostile, 1, NULL),
               A2I2A_ERR_PARAM, "gl_iters", "a billion Griffin-Lim iterations (file)");
  hostile = a2i2a_i2a_default_params();
  hostile.bits = 8;
  expect_error(a2i2a_i2a_file(fixture("seed/images/i02_gnome_blobs_400x296.png"), "red",
                              tmp_path("hostile.wav"), &hostile, 1, NULL),
               A2I2A_ERR_PARAM, "bits", "8-bit output");
  free(png), free(jpg), free(wav);
}

/* ------------------------------------------------------------------ jobs */

typedef struct {
  double last;
  int backwards, calls;
} progress_seen;

static void on_progress(void *user, const a2i2a_progress *p) {
  progress_seen *s = user;
  if (p->fraction < s->last) s->backwards++;
  s->last = p->fraction;
  s->calls++;
}

static void test_jobs(void) {
  size_t n, npng;
  uint8_t *wav = read_bytes(fixture(AUD "a08_clicks_16k_mono_s16.wav"), &n);
  uint8_t *png = read_bytes(fixture("seed/images/i02_gnome_blobs_400x296.png"), &npng);
  progress_seen seen = {0};
  a2i2a_callbacks cb = {.progress = on_progress, .user = &seen};
  a2i2a_job *job;
  CHECK(a2i2a_job_new(&cb, &job) == A2I2A_OK, "job");
  void *out = NULL;
  size_t size = 0;
  CHECK(a2i2a_a2i_memory(wav, n, "clicks", NULL, &out, &size, job) == A2I2A_OK, "%s", a2i2a_last_error());
  CHECK(seen.calls > 1 && seen.backwards == 0 && seen.last == 1, "a2i progress: %d calls, %d backwards, last %g",
        seen.calls, seen.backwards, seen.last);
  a2i2a_free(out);
  seen = (progress_seen){0};
  a2i2a_sound s;
  a2i2a_i2a_params p = a2i2a_i2a_default_params();
  p.gl_iters = 2;
  CHECK(a2i2a_i2a_memory(png, npng, "gnome", "rgb-mean", &p, &s, job) == A2I2A_OK, "%s", a2i2a_last_error());
  CHECK(seen.calls > 1 && seen.backwards == 0 && seen.last == 1, "i2a progress: %d calls, %d backwards, last %g",
        seen.calls, seen.backwards, seen.last);
  a2i2a_free(s.samples);
  a2i2a_timings t = a2i2a_job_timings(job);
  CHECK(t.a2i > 0 && t.i2a > 0, "timings: a2i %g, i2a %g", t.a2i, t.i2a);
  a2i2a_job_cancel(job);
  out = (void *)1;
  CHECK(a2i2a_a2i_memory(wav, n, "clicks", NULL, &out, &size, job) == A2I2A_ERR_CANCELLED && out == NULL,
        "a cancelled a2i: %s", a2i2a_last_error());
  s.samples = (float *)1;
  CHECK(a2i2a_i2a_memory(png, npng, "gnome", "red", NULL, &s, job) == A2I2A_ERR_CANCELLED && s.samples == NULL,
        "a cancelled i2a: %s", a2i2a_last_error());
  a2i2a_job_free(job);
  free(wav), free(png);
}

static void remove_tmpdir(void) {
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
}

int main(void) {
  if (!mkdtemp(tmpdir)) {
    perror("mkdtemp");
    return 1;
  }
  atexit(remove_tmpdir);
  test_a2i_identity();
  test_decode_memory();
  if (fixture_case(AUD "a04_trumpet_44k1_stereo.mp3")) test_mp3_quiet();
  test_bad_sounds();
  test_i2a_identity();
  test_bad_images();
  test_jobs();
  return check_done();
}
