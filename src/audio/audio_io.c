/* Decoding (libsndfile; MPEG through mpg123), resampling (soxr) and writing (libsndfile, atomically). */
#include "audio/audio.h"
#include "common/err.h"
#include "common/memory.h"
#include "common/outfile.h"
#include "common/rng.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <mpg123.h>
#include <sndfile.h>
#include <soxr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>


a2i2a_status audio_alloc(audio_buf *a, int channels, int64_t frames, double rate) {
  memset(a, 0, sizeof *a);
  if (channels < 1 || frames < 0) return fail(A2I2A_ERR_PARAM, "audio buffer: bad shape %d × %lld", channels, (long long)frames);
  a->x = xcalloc((size_t)channels * (size_t)(frames ? frames : 1), sizeof(float), "audio samples");
  if (!a->x) return A2I2A_ERR_NOMEM;
  a->channels = channels;
  a->frames = frames;
  a->rate = rate;
  return A2I2A_OK;
}

void audio_free(audio_buf *a) {
  if (!a) return;
  free(a->x);
  memset(a, 0, sizeof *a);
}

/* libsndfile quietly shortens a WAV/AIFF data chunk that runs past the end of the file and
 * only says so in its log ("data : 705600 (should be 299956)"). Sizes 0 and 0xFFFFFFFF are
 * streaming placeholders, not truncation. */
static int header_truncated(SNDFILE *sf) {
  static _Thread_local char log[16384];
  log[0] = 0;
  sf_command(sf, SFC_GET_LOG_INFO, log, sizeof log);
  for (const char *p = log; (p = strstr(p, "(should be ")) != NULL; p++) {
    const char *line = p;
    while (line > log && line[-1] != '\n') line--;
    long long declared, actual;
    if ((sscanf(line, "data : %lld (should be %lld)", &declared, &actual) == 2 ||
         sscanf(line, "SSND : %lld (should be %lld)", &declared, &actual) == 2) &&
        declared > actual && declared != 0xFFFFFFFFLL && declared != 0)
      return 1;
  }
  return 0;
}

/* ------------------------------------------------------------------ sources */

/* Where encoded audio is read from: an open file or bytes in memory, seen from start on for
 * size bytes (a view: the data after leading ID3 tags, or a WAV's data chunk). libsndfile
 * (virtual I/O) and mpg123 (its reader) both read through it, so files and buffers share one
 * decoder. */
typedef struct {
  FILE *f;             /* a file, or NULL for: */
  const uint8_t *data; /* bytes in memory */
  sf_count_t start, size, pos;
} audio_source;

static sf_count_t source_length(void *user) { return ((audio_source *)user)->size; }

static sf_count_t source_seek(sf_count_t offset, int whence, void *user) {
  audio_source *s = user;
  sf_count_t to = whence == SEEK_SET ? offset : whence == SEEK_CUR ? s->pos + offset : s->size + offset;
  if (to < 0 || (s->f && fseeko(s->f, (off_t)(s->start + to), SEEK_SET) != 0)) return -1;
  s->pos = to;
  return to;
}

static sf_count_t source_read(void *ptr, sf_count_t count, void *user) {
  audio_source *s = user;
  if (count <= 0 || s->pos >= s->size) return 0;
  if (count > s->size - s->pos) count = s->size - s->pos;
  if (s->f)
    count = (sf_count_t)fread(ptr, 1, (size_t)count, s->f);
  else
    memcpy(ptr, s->data + s->start + s->pos, (size_t)count);
  s->pos += count;
  return count;
}

static sf_count_t source_tell(void *user) { return ((audio_source *)user)->pos; }

/* The part of s from `from` on, `n` bytes (clipped to s). */
static audio_source source_view(const audio_source *s, sf_count_t from, sf_count_t n) {
  audio_source v = *s;
  v.start = s->start + from;
  v.size = n < s->size - from ? n : s->size - from;
  v.pos = 0;
  return v;
}

static ssize_t mpg123_source_read(void *user, void *buf, size_t n) {
  return (ssize_t)source_read(buf, (sf_count_t)n, user);
}

static off_t mpg123_source_seek(void *user, off_t offset, int whence) {
  return (off_t)source_seek((sf_count_t)offset, whence, user);
}

/* libsndfile's test for an MPEG audio frame header (sndfile.c, identify_mpeg): frame sync and a
 * valid version, layer, bitrate and sample rate. */
static int mpeg_frame_header(const uint8_t *b) {
  return b[0] == 0xFF && (b[1] & 0xE0) == 0xE0 && (b[1] & 0x18) != 0x08 && (b[1] & 0x06) != 0 &&
         (b[2] & 0xF0) != 0xF0 && (b[2] & 0x0C) != 0x0C;
}

/* The leading ID3v2 tags' length (id3.c, id3_skip: the size counts the bytes after the tag's
 * 10-byte header, a footer adds 10), and whether an MPEG frame header follows them: what
 * libsndfile would hand to mpg123 (guess_file_type). */
static int is_mpeg(audio_source *s, sf_count_t *tags) {
  sf_count_t at = 0;
  *tags = 0;
  for (;;) {
    uint8_t b[12];
    if (source_seek(at, SEEK_SET, s) < 0 || source_read(b, sizeof b, s) != (sf_count_t)sizeof b) return 0;
    if (!(b[0] == 'I' && b[1] == 'D' && b[2] == '3' && b[3] >= 2 && b[3] <= 4)) return mpeg_frame_header(b);
    at += 10 + (b[5] & 0x10 ? 10 : 0) +
          ((sf_count_t)(b[6] & 0x7f) << 21 | (b[7] & 0x7f) << 14 | (b[8] & 0x7f) << 7 | (b[9] & 0x7f));
    if (at >= s->size) return 0;
    *tags = at;
  }
}

/* A WAV (RIFF, RIFX or RF64) whose audio is MPEG layer 3 (format tag 0x55): libsndfile would
 * decode its data chunk with mpg123; *data receives that chunk. */
static int is_mpeg_in_wav(audio_source *s, audio_source *data) {
  uint8_t h[12], c[8];
  if (source_seek(0, SEEK_SET, s) < 0 || source_read(h, 12, s) != 12 || memcmp(h + 8, "WAVE", 4)) return 0;
  const int be = !memcmp(h, "RIFX", 4);
  if (!be && memcmp(h, "RIFF", 4) && memcmp(h, "RF64", 4)) return 0;
  int mpeg = 0;
  for (sf_count_t at = 12; at + 8 <= s->size;) {
    if (source_seek(at, SEEK_SET, s) < 0 || source_read(c, 8, s) != 8) return 0;
    sf_count_t n = be ? (sf_count_t)c[4] << 24 | c[5] << 16 | c[6] << 8 | c[7]
                      : (sf_count_t)c[7] << 24 | c[6] << 16 | c[5] << 8 | c[4];
    if (!memcmp(c, "fmt ", 4)) {
      uint8_t tag[2];
      if (source_read(tag, 2, s) != 2) return 0;
      mpeg = (be ? tag[0] << 8 | tag[1] : tag[1] << 8 | tag[0]) == 0x55;
    } else if (!memcmp(c, "data", 4)) {
      *data = source_view(s, at + 8, n ? n : s->size); /* RF64 keeps its size elsewhere */
      return mpeg;
    }
    at += 8 + n + (n & 1);
  }
  return 0;
}

/* ------------------------------------------------------------------ decoders */

/* What the reading loop reads from: libsndfile, or mpg123 itself for MPEG audio. libsndfile
 * would run the same mpg123 but cannot make it quiet, and mpg123 prints its warnings about
 * damaged streams to stderr; a library must not print (nor redirect the process's stderr). */
typedef struct {
  SNDFILE *sf;
  mpg123_handle *mp3;
  int channels;
  int samplerate;
  sf_count_t frames; /* what the header promises (SF_COUNT_MAX: it does not say) */
  sf_count_t delivered;
  int mp3_error;     /* the mpg123 error that ended decoding, MPG123_OK if none */
  audio_source view; /* the part of the source it reads, when not all of it */
} decoder;

static a2i2a_status open_libsndfile(decoder *d, audio_source *src, const char *name) {
  SF_VIRTUAL_IO io = {source_length, source_seek, source_read, NULL, source_tell};
  SF_INFO info;
  memset(&info, 0, sizeof info);
  source_seek(0, SEEK_SET, src);
  d->sf = sf_open_virtual(&io, SFM_READ, &info, src);
  if (!d->sf) return fail(A2I2A_ERR_FORMAT, "%s: not a readable audio file (%s)", name, sf_strerror(NULL));
  d->channels = info.channels;
  d->samplerate = info.samplerate;
  d->frames = info.frames;
  sf_command(d->sf, SFC_SET_NORM_FLOAT, NULL, SF_TRUE);
  if (header_truncated(d->sf)) return fail(A2I2A_ERR_FORMAT, "%s: truncated: the file is shorter than its header says", name);
  return A2I2A_OK;
}

/* mpg123 set up as libsndfile 1.2 sets it up (mpeg_decode.c), plus MPG123_QUIET: the same
 * samples, gapless length included. */
static a2i2a_status open_mpg123(decoder *d, audio_source *src, const char *name) {
  int err = MPG123_OK;
  d->mp3 = mpg123_new(NULL, &err);
  if (!d->mp3) return fail(A2I2A_ERR_NOMEM, "%s: cannot start the MP3 decoder: %s", name, mpg123_plain_strerror(err));
  mpg123_param(d->mp3, MPG123_REMOVE_FLAGS, MPG123_AUTO_RESAMPLE, 1.0);
  mpg123_param(d->mp3, MPG123_ADD_FLAGS, MPG123_FORCE_FLOAT | MPG123_GAPLESS | MPG123_NO_FRANKENSTEIN | MPG123_QUIET, 1.0);
  mpg123_replace_reader_handle(d->mp3, mpg123_source_read, mpg123_source_seek, NULL);
  source_seek(0, SEEK_SET, src);
  long rate = 0;
  int channels = 0, encoding = 0;
  if ((err = mpg123_open_handle(d->mp3, src)) != MPG123_OK ||
      (err = mpg123_getformat(d->mp3, &rate, &channels, &encoding)) != MPG123_OK)
    return fail(A2I2A_ERR_FORMAT, "%s: not a readable audio file (MPEG: %s)", name,
                err == MPG123_DONE ? "no audio frame found" : mpg123_plain_strerror(err));
  off_t length = mpg123_length(d->mp3);
  if (encoding != MPG123_ENC_FLOAT_32 && (err = mpg123_format(d->mp3, rate, channels, MPG123_ENC_FLOAT_32)) != MPG123_OK)
    return fail(A2I2A_ERR_FORMAT, "%s: MPEG decoder: %s", name, mpg123_plain_strerror(err));
  d->channels = channels;
  d->samplerate = rate > 0 && rate <= INT32_MAX ? (int)rate : 0;
  d->frames = length >= 0 ? (sf_count_t)length : SF_COUNT_MAX;
  return A2I2A_OK;
}

/* Up to n frames, interleaved; 0 at the end or on an error (decoder_error says which). */
static sf_count_t decoder_read(decoder *d, float *inter, sf_count_t n) {
  if (d->sf) return sf_readf_float(d->sf, inter, n);
  /* libsndfile's sf_readf_float stops at the length mpg123 announced; so does this */
  if (d->delivered >= d->frames) return 0;
  size_t done = 0;
  int err = mpg123_read(d->mp3, (unsigned char *)inter, (size_t)n * (size_t)d->channels * sizeof(float), &done);
  if (err != MPG123_OK && err != MPG123_DONE) {
    d->mp3_error = err;
    return 0;
  }
  sf_count_t got = (sf_count_t)(done / sizeof(float)) / d->channels;
  if (got > d->frames - d->delivered) got = d->frames - d->delivered;
  d->delivered += got;
  return got;
}

static const char *decoder_error(decoder *d) {
  if (d->sf) return sf_error(d->sf) != SF_ERR_NO_ERROR ? sf_strerror(d->sf) : NULL;
  return d->mp3_error != MPG123_OK ? mpg123_plain_strerror(d->mp3_error) : NULL;
}

static void decoder_close(decoder *d) {
  if (d->sf) sf_close(d->sf);
  if (d->mp3) mpg123_delete(d->mp3); /* closes the stream too */
  memset(d, 0, sizeof *d);
}

/* Interleaved frames in[0, n) of C channels into planar storage (channel c at c·stride), from
 * frame `at` on. */
static void deinterleave(const float *in, int64_t n, int C, float *planar, int64_t stride, int64_t at) {
  for (int c = 0; c < C; c++) {
    float *dst = planar + (size_t)c * (size_t)stride + at;
    for (int64_t i = 0; i < n; i++) dst[i] = in[(size_t)i * C + c];
  }
}

/* Whether frames × channels float samples fit in the memory available (common/memory.h). */
static a2i2a_status fits(const char *name, int64_t frames, int channels) {
  const double need = (double)frames * channels * sizeof(float), have = memory_available();
  if (have > 0 && need > have)
    return fail(A2I2A_ERR_NOMEM, "%s: decoding %lld frames needs %.0f MB of memory and %.0f MB are available", name,
                (long long)frames, need / 1048576.0, have / 1048576.0);
  return A2I2A_OK;
}

/* libsndfile's float reading already scales PCM exactly as torchaudio does: s / 2^(bits-1)
 * (24-bit is read as s·256 / 2^31, the same number), and float files are passed through. */
static a2i2a_status decode_samples(decoder *d, int64_t encoded_bytes, const char *name, audio_buf *out) {
  if (d->channels < 1 || d->channels > AUDIO_MAX_CHANNELS)
    return fail(A2I2A_ERR_UNSUPPORTED, "%s: %d channels (at most %d supported)", name, d->channels, AUDIO_MAX_CHANNELS);
  if (!(d->samplerate > 0)) return fail(A2I2A_ERR_FORMAT, "%s: invalid sample rate %d", name, d->samplerate);
  /* Frame counts in headers can lie (truncated files, streams): read until the decoder stops.
   * Chunks are de-interleaved straight into planar storage (channel c at c·cap), whose planes
   * move apart when it grows. */
  enum { CHUNK = 16384 };
  const int C = d->channels;
  const int declared = d->frames > 0 && d->frames < AUDIO_MAX_FRAMES;
  /* the header's count sizes the buffer only as far as the data could hold it (64 frames a
   * byte is beyond any codec's usual ratio): a few bytes claiming hours get the buffer grown
   * as samples really arrive, up to the memory available */
  const int64_t plausible = encoded_bytes > 0 && encoded_bytes < AUDIO_MAX_FRAMES / 64 ? 64 * encoded_bytes : AUDIO_MAX_FRAMES;
  int64_t cap = declared && d->frames < plausible ? d->frames + 1 : plausible < 1 << 20 ? plausible : 1 << 20;
  int64_t n = 0;
  float *planar = NULL;
  float *inter = malloc((size_t)CHUNK * C * sizeof(float));
  a2i2a_status st = fits(name, cap, C);
  if (st) goto done;
  planar = malloc((size_t)cap * C * sizeof(float));
  if (!planar || !inter) {
    st = fail(A2I2A_ERR_NOMEM, "%s: out of memory for %lld frames", name, (long long)cap);
    goto done;
  }
  for (;;) {
    sf_count_t got = decoder_read(d, inter, CHUNK);
    if (got <= 0) break;
    if (n + got > cap) {
      int64_t ncap = cap;
      while (ncap < n + got) ncap *= 2; /* a chunk may be larger than the whole buffer */
      if (ncap > AUDIO_MAX_FRAMES) ncap = AUDIO_MAX_FRAMES;
      if (ncap < n + got) {
        st = fail(A2I2A_ERR_LIMIT, "%s: longer than %lld frames", name, (long long)AUDIO_MAX_FRAMES);
        goto done;
      }
      if ((st = fits(name, ncap, C))) goto done;
      float *p = realloc(planar, (size_t)ncap * C * sizeof(float));
      if (!p) {
        st = fail(A2I2A_ERR_NOMEM, "%s: out of memory for %lld frames", name, (long long)ncap);
        goto done;
      }
      planar = p;
      for (int c = C - 1; c > 0; c--) memmove(planar + (size_t)c * ncap, planar + (size_t)c * cap, sizeof(float) * n);
      cap = ncap;
    }
    deinterleave(inter, got, C, planar, cap, n);
    n += got;
    if (got < CHUNK) break;
  }
  const char *why = decoder_error(d);
  if (why) {
    st = fail(A2I2A_ERR_FORMAT, "%s: corrupt audio data: %s", name, why);
  } else if (declared && n < d->frames) {
    /* a header that promises more frames than the file holds: a truncated file */
    st = fail(A2I2A_ERR_FORMAT, "%s: truncated: %lld of %lld frames present", name, (long long)n, (long long)d->frames);
  } else if (n == 0) {
    st = fail(A2I2A_ERR_FORMAT, "%s: contains no audio samples", name);
  }
  if (st) goto done;
  /* close the gaps between planes and give the rest back */
  for (int c = 1; c < C; c++) memmove(planar + (size_t)c * n, planar + (size_t)c * cap, sizeof(float) * n);
  float *shrunk = realloc(planar, (size_t)n * C * sizeof(float));
  out->x = shrunk ? shrunk : planar;
  planar = NULL;
  out->channels = C;
  out->frames = n;
  out->rate = (double)d->samplerate;
done:
  free(planar);
  free(inter);
  return st;
}

static int ends_with_ci(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* Opens the decoder that fits src's bytes. libsndfile must never meet MPEG audio, which it
 * would decode with a mpg123 it cannot make quiet: MPEG streams (after their ID3 tags) and MPEG
 * in WAV go to our own mpg123, and libsndfile sees the data after any ID3 tags (it would guess
 * MPEG behind some of them). */
static a2i2a_status open_decoder(decoder *d, audio_source *src, const char *name) {
  memset(d, 0, sizeof *d);
  if (src->size == 0) return fail(A2I2A_ERR_FORMAT, "%s: empty file", name);
  sf_count_t tags;
  if (is_mpeg(src, &tags)) return open_mpg123(d, src, name);
  if (is_mpeg_in_wav(src, &d->view)) return open_mpg123(d, &d->view, name);
  d->view = source_view(src, tags, src->size);
  a2i2a_status st = open_libsndfile(d, &d->view, name);
  /* what libsndfile does with a file it cannot identify by its contents: MPEG streams are
   * lenient, so a name ending in .mp3 gets mpg123's try */
  if (st && !d->sf && ends_with_ci(name, ".mp3")) st = open_mpg123(d, src, name);
  return st;
}

/* The one decoder of files and buffers. */
static a2i2a_status decode(audio_source *src, const char *name, audio_buf *out) {
  memset(out, 0, sizeof *out);
  decoder d;
  a2i2a_status st = open_decoder(&d, src, name);
  if (!st) st = decode_samples(&d, src->size, name, out);
  decoder_close(&d);
  return st;
}

/* Opens path for the decoder: src->f and src->size. */
static a2i2a_status open_source(const char *path, audio_source *src) {
  memset(src, 0, sizeof *src);
  struct stat sb;
  if (stat(path, &sb) != 0) return fail(A2I2A_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  if (S_ISDIR(sb.st_mode)) return fail(A2I2A_ERR_IO, "%s: is a folder, not a sound", path);
  if (!(src->f = fopen(path, "rb"))) return fail(A2I2A_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  src->size = fseeko(src->f, 0, SEEK_END) == 0 ? (sf_count_t)ftello(src->f) : -1;
  if (src->size < 0) {
    fclose(src->f);
    return fail(A2I2A_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
  }
  return A2I2A_OK;
}

a2i2a_status audio_read(const char *path, audio_buf *out) {
  memset(out, 0, sizeof *out);
  audio_source src;
  a2i2a_status st = open_source(path, &src);
  if (st) return st;
  st = decode(&src, path, out);
  if (ferror(src.f)) {
    audio_free(out);
    st = fail(A2I2A_ERR_IO, "%s: cannot read (an I/O error)", path);
  }
  fclose(src.f);
  return st;
}

a2i2a_status audio_probe(const char *path, int64_t *frames, double *rate, int *channels) {
  *frames = 0, *rate = 0, *channels = 0;
  audio_source src;
  a2i2a_status st = open_source(path, &src);
  if (st) return st;
  decoder d;
  st = open_decoder(&d, &src, path);
  int known = !st && d.frames > 0 && d.frames < AUDIO_MAX_FRAMES;
  if (!st && !(d.samplerate > 0)) st = fail(A2I2A_ERR_FORMAT, "%s: invalid sample rate %d", path, d.samplerate);
  if (!st && (d.channels < 1 || d.channels > AUDIO_MAX_CHANNELS))
    st = fail(A2I2A_ERR_UNSUPPORTED, "%s: %d channels (at most %d supported)", path, d.channels, AUDIO_MAX_CHANNELS);
  if (!st && known) {
    *frames = d.frames, *rate = d.samplerate, *channels = d.channels;
  }
  decoder_close(&d);
  fclose(src.f);
  if (st || known) return st;
  /* the header does not say: count by decoding */
  audio_buf a;
  if ((st = audio_read(path, &a))) return st;
  *frames = a.frames, *rate = a.rate, *channels = a.channels;
  audio_free(&a);
  return A2I2A_OK;
}

a2i2a_status audio_read_memory(const void *data, size_t size, const char *name, audio_buf *out) {
  memset(out, 0, sizeof *out);
  if (!name) name = "audio in memory";
  if (!data && size) return fail(A2I2A_ERR_PARAM, "%s: no data (NULL) for %zu bytes", name, size);
  if (size > (size_t)INT64_MAX) return fail(A2I2A_ERR_LIMIT, "%s: %zu bytes is too large", name, size);
  audio_source src = {.data = data, .size = (sf_count_t)size};
  return decode(&src, name, out);
}

a2i2a_status audio_from_interleaved(const float *pcm, int64_t frames, int channels, double rate, const char *name,
                                    audio_buf *out) {
  memset(out, 0, sizeof *out);
  if (channels < 1) return fail(A2I2A_ERR_PARAM, "%s: %d channels", name, channels);
  if (channels > AUDIO_MAX_CHANNELS)
    return fail(A2I2A_ERR_UNSUPPORTED, "%s: %d channels (at most %d supported)", name, channels, AUDIO_MAX_CHANNELS);
  if (!(rate >= 1) || !isfinite(rate)) return fail(A2I2A_ERR_PARAM, "%s: invalid sample rate %g", name, rate);
  if (frames < 0) return fail(A2I2A_ERR_PARAM, "%s: %lld frames", name, (long long)frames);
  if (frames == 0) return fail(A2I2A_ERR_FORMAT, "%s: contains no audio samples", name);
  if (frames > AUDIO_MAX_FRAMES) return fail(A2I2A_ERR_LIMIT, "%s: longer than %lld frames", name, (long long)AUDIO_MAX_FRAMES);
  if (!pcm) return fail(A2I2A_ERR_PARAM, "%s: no samples (NULL)", name);
  a2i2a_status st = audio_alloc(out, channels, frames, rate);
  if (st) return st;
  deinterleave(pcm, frames, channels, out->x, frames, 0);
  return A2I2A_OK;
}

a2i2a_status audio_resample(const audio_buf *in, double rate, audio_buf *out) {
  memset(out, 0, sizeof *out);
  if (!(rate > 0) || !(in->rate > 0)) return fail(A2I2A_ERR_PARAM, "resample: invalid rate %g → %g", in->rate, rate);
  if (rate == in->rate) {
    a2i2a_status st = audio_alloc(out, in->channels, in->frames, rate);
    if (st) return st;
    memcpy(out->x, in->x, (size_t)in->channels * in->frames * sizeof(float));
    return A2I2A_OK;
  }
  /* soxr_oneshot's own rounding of the output length */
  int64_t olen = (int64_t)((double)in->frames * rate / in->rate + 0.5);
  a2i2a_status st = audio_alloc(out, in->channels, olen, rate);
  if (st) return st;
  const int C = in->channels;
  const float **ip = malloc(C * sizeof *ip);
  float **op = malloc(C * sizeof *op);
  if (!ip || !op) {
    free(ip), free(op), audio_free(out);
    return fail(A2I2A_ERR_NOMEM, "resample: out of memory");
  }
  for (int c = 0; c < C; c++) {
    ip[c] = in->x + (size_t)c * in->frames;
    op[c] = out->x + (size_t)c * olen;
  }
  soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_S, SOXR_FLOAT32_S);
  soxr_quality_spec_t q = soxr_quality_spec(SOXR_VHQ, 0);
  size_t odone = 0;
  soxr_error_t e = soxr_oneshot(in->rate, rate, C, (const void *)ip, (size_t)in->frames, NULL, (void *)op, (size_t)olen,
                                &odone, &io, &q, NULL);
  free(ip);
  free(op);
  if (e) {
    audio_free(out);
    return fail(A2I2A_ERR_INTERNAL, "resample %g → %g Hz: soxr: %s", in->rate, rate, e);
  }
  out->frames = (int64_t)odone; /* planar offsets above assume olen; odone == olen for oneshot */
  if ((int64_t)odone != olen) {
    /* compact the planes to the shorter length */
    for (int c = 1; c < C; c++) memmove(out->x + (size_t)c * odone, out->x + (size_t)c * olen, odone * sizeof(float));
  }
  return A2I2A_OK;
}

a2i2a_status audio_downmix(const audio_buf *in, audio_buf *out) {
  a2i2a_status st = audio_alloc(out, 1, in->frames, in->rate);
  if (st) return st;
  const float inv = 1.0f / (float)in->channels;
  for (int64_t i = 0; i < in->frames; i++) {
    float s = 0.0f;
    for (int c = 0; c < in->channels; c++) s += in->x[(size_t)c * in->frames + i];
    out->x[i] = in->channels == 1 ? s : s * inv;
  }
  return A2I2A_OK;
}

/* ------------------------------------------------------------------ writing */

/* The formats a name asks for, by extension, as sox and ffmpeg choose them. */
static const struct {
  const char *ext;
  audio_format format;
  int major; /* libsndfile's container | codec; 0: a sound format we do not write */
} EXTENSIONS[] = {
    {"wav", AUDIO_WAV, SF_FORMAT_WAV},
    {"flac", AUDIO_FLAC, SF_FORMAT_FLAC},
    {"ogg", AUDIO_OGG, SF_FORMAT_OGG | SF_FORMAT_VORBIS},
    {"oga", AUDIO_OGG, SF_FORMAT_OGG | SF_FORMAT_VORBIS},
    {"opus", AUDIO_OPUS, SF_FORMAT_OGG | SF_FORMAT_OPUS},
    {"mp3", AUDIO_MP3, SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III},
    {"aif", AUDIO_UNWRITTEN, 0}, {"aiff", AUDIO_UNWRITTEN, 0}, {"aifc", AUDIO_UNWRITTEN, 0},
    {"au", AUDIO_UNWRITTEN, 0}, {"caf", AUDIO_UNWRITTEN, 0}, {"w64", AUDIO_UNWRITTEN, 0},
    {"m4a", AUDIO_UNWRITTEN, 0}, {"aac", AUDIO_UNWRITTEN, 0}, {"mp4", AUDIO_UNWRITTEN, 0},
    {"wma", AUDIO_UNWRITTEN, 0}, {"wv", AUDIO_UNWRITTEN, 0}, {"ape", AUDIO_UNWRITTEN, 0},
    {"mp2", AUDIO_UNWRITTEN, 0}, {"webm", AUDIO_UNWRITTEN, 0}, {"mka", AUDIO_UNWRITTEN, 0},
};
enum { NEXTENSIONS = sizeof EXTENSIONS / sizeof *EXTENSIONS };

/* The extension of path's last component ("" if none). */
static const char *extension_of(const char *path) {
  const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path, *dot = strrchr(base, '.');
  return dot && dot != base ? dot + 1 : "";
}

audio_format audio_format_of(const char *path) {
  const char *ext = extension_of(path);
  if (!*ext) return AUDIO_NO_EXTENSION;
  for (int i = 0; i < NEXTENSIONS; i++)
    if (!strcasecmp(ext, EXTENSIONS[i].ext)) return EXTENSIONS[i].format;
  return AUDIO_UNKNOWN;
}

static int major_of(audio_format f) {
  for (int i = 0; i < NEXTENSIONS; i++)
    if (EXTENSIONS[i].format == f) return EXTENSIONS[i].major;
  return 0;
}

a2i2a_status audio_format_check(const char *path, int bits) {
  audio_format f = audio_format_of(path);
  const char *ext = extension_of(path), *which = "write .wav, .flac, .ogg (Vorbis), .opus or .mp3";
  if (f == AUDIO_NO_EXTENSION) return fail(A2I2A_ERR_PARAM, "%s: no extension to tell the sound format (%s)", path, which);
  if (f == AUDIO_UNKNOWN) return fail(A2I2A_ERR_PARAM, "%s: '.%s' is not a sound format (%s)", path, ext, which);
  if (f == AUDIO_UNWRITTEN) return fail(A2I2A_ERR_PARAM, "%s: a2i2a does not write .%s (%s)", path, ext, which);
  if (bits && bits != 32 && f != AUDIO_WAV && f != AUDIO_FLAC)
    return fail(A2I2A_ERR_PARAM, "%s: %d bits: a bit depth (--bits) is for WAV and FLAC, not .%s", path, bits, ext);
  return A2I2A_OK;
}

/* The rate a format is written at: Opus takes 8, 12, 16, 24 or 48 kHz, MP3 (LAME) the MPEG
 * rates up to 48 kHz; other rates are resampled to 48 kHz. */
static double written_rate(audio_format f, double rate) {
  static const double opus[] = {8000, 12000, 16000, 24000, 48000},
                      mp3[] = {8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000};
  const double *ok = f == AUDIO_OPUS ? opus : mp3;
  int n = f == AUDIO_OPUS ? 5 : f == AUDIO_MP3 ? 9 : 0;
  if (!n) return rate;
  for (int i = 0; i < n; i++)
    if (rate == ok[i]) return rate;
  return 48000;
}

/* Where libsndfile writes: a file descriptor whose first failed write is kept, since some of
 * libsndfile's encoders (MP3) go on as if it had worked. */
typedef struct {
  int fd;
  int error; /* errno of the first failure, 0 if none */
} audio_sink;

static sf_count_t sink_write(const void *p, sf_count_t n, void *user) {
  audio_sink *s = user;
  sf_count_t done = 0;
  while (done < n && !s->error) {
    ssize_t w = write(s->fd, (const char *)p + done, (size_t)(n - done));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) s->error = w < 0 ? errno : EIO;
    else done += w;
  }
  return done;
}
static sf_count_t sink_read(void *p, sf_count_t n, void *user) {
  ssize_t r = read(((audio_sink *)user)->fd, p, (size_t)n);
  return r < 0 ? 0 : r;
}
static sf_count_t sink_seek(sf_count_t offset, int whence, void *user) {
  return lseek(((audio_sink *)user)->fd, offset, whence);
}
static sf_count_t sink_tell(void *user) { return lseek(((audio_sink *)user)->fd, 0, SEEK_CUR); }
static sf_count_t sink_length(void *user) {
  struct stat sb;
  return fstat(((audio_sink *)user)->fd, &sb) == 0 ? sb.st_size : -1;
}

/* Opens a libsndfile writer of the file tmp, through sink, for a's samples as format f. */
static SNDFILE *open_writer(const char *tmp, audio_format f, int bits, const audio_buf *a, audio_sink *sink) {
  SF_INFO info;
  memset(&info, 0, sizeof info);
  info.channels = a->channels;
  info.samplerate = (int)lrint(a->rate);
  info.format = major_of(f);
  if (f == AUDIO_WAV || f == AUDIO_FLAC)
    info.format |= bits == 16 ? SF_FORMAT_PCM_16 : bits == 24 ? SF_FORMAT_PCM_24 : SF_FORMAT_FLOAT;
  sink->error = 0;
  if ((sink->fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)) < 0) return NULL;
  SF_VIRTUAL_IO io = {sink_length, sink_seek, sink_read, sink_write, sink_tell};
  SNDFILE *sf = sf_open_virtual(&io, SFM_WRITE, &info, sink);
  if (!sf) close(sink->fd);
  return sf;
}

/* Writes a's samples through sf: float, or TPDF-dithered PCM of bits bits. */
static a2i2a_status write_samples(SNDFILE *sf, const char *name, const audio_buf *a, int bits, uint64_t dither_seed) {
  /* no PEAK chunk in float WAVs: it holds the time of writing, and `run --replay` promises
   * the same bytes for the same samples */
  sf_command(sf, SFC_SET_ADD_PEAK_CHUNK, NULL, SF_FALSE);
  const int C = a->channels;
  enum { CHUNK = 4096 };
  torch_rng g;
  rng_seed(&g, dither_seed);
  float fbuf[CHUNK];
  int ibuf[CHUNK];
  int64_t per = CHUNK / C;
  const double scale = bits == 16 ? 32768.0 : 8388608.0, qmax = scale - 1, qmin = -scale;
  for (int64_t i0 = 0; i0 < a->frames; i0 += per) {
    int64_t m = a->frames - i0 < per ? a->frames - i0 : per;
    sf_count_t wrote;
    if (bits == 32) {
      for (int64_t i = 0; i < m; i++)
        for (int c = 0; c < C; c++) fbuf[i * C + c] = a->x[(size_t)c * a->frames + i0 + i];
      wrote = sf_writef_float(sf, fbuf, m);
    } else {
      for (int64_t i = 0; i < m; i++)
        for (int c = 0; c < C; c++) {
          double d = (double)rng_uniform(&g) - (double)rng_uniform(&g);
          double q = floor((double)a->x[(size_t)c * a->frames + i0 + i] * scale + d + 0.5);
          if (q > qmax) q = qmax;
          if (q < qmin) q = qmin;
          /* libsndfile's int interface is left-justified 32-bit */
          ibuf[i * C + c] = (int)q * (bits == 16 ? 65536 : 256);
        }
      wrote = sf_writef_int(sf, ibuf, m);
    }
    if (wrote != m) return fail(A2I2A_ERR_IO, "%s: write failed: %s", name, sf_strerror(sf));
  }
  return A2I2A_OK;
}

/* The checks before writing f; bits 0 → 32, FLAC's 32 → 24, the compressed formats float. */
static a2i2a_status writer_setup(const char *name, const audio_buf *a, int *bits, audio_format f) {
  if (*bits == 0) *bits = 32;
  if (*bits != 16 && *bits != 24 && *bits != 32)
    return fail(A2I2A_ERR_PARAM, "%s: unsupported bit depth %d (16, 24 or 32)", name, *bits);
  if (f == AUDIO_FLAC && *bits == 32) *bits = 24; /* FLAC has no float samples: 24-bit is its finest */
  if (f != AUDIO_WAV && f != AUDIO_FLAC) *bits = 32; /* the compressed formats take floats */
  if (a->channels < 1 || a->frames < 0 || !(a->rate >= 1) || a->rate > 1e6)
    return fail(A2I2A_ERR_PARAM, "%s: invalid audio (%d channels, %g Hz)", name, a->channels, a->rate);
  return A2I2A_OK;
}

/* a at the rate format f is written at (a itself, or a resampled copy in *tmp). */
static a2i2a_status at_written_rate(const audio_buf *a, audio_format f, audio_buf *tmp, const audio_buf **out) {
  *out = a;
  memset(tmp, 0, sizeof *tmp);
  double rate = written_rate(f, a->rate);
  if (rate == a->rate) return A2I2A_OK;
  a2i2a_status st = audio_resample(a, rate, tmp);
  if (!st) *out = tmp;
  return st;
}

/* TPDF dither: the sum of two independent uniform draws of ±½ LSB each, drawn from the torch
 * generator in frame order, channel order, two draws per sample. */
a2i2a_status audio_write(const char *path, const audio_buf *a, int bits, uint64_t dither_seed, int force) {
  outfile of;
  a2i2a_status st = audio_write_pending(&of, path, a, bits, dither_seed, force);
  return st ? st : outfile_commit(&of);
}

a2i2a_status audio_write_pending(outfile *pending, const char *path, const audio_buf *a, int bits,
                                 uint64_t dither_seed, int force) {
  memset(pending, 0, sizeof *pending);
  audio_format f = audio_format_of(path);
  a2i2a_status st = audio_format_check(path, bits);
  if (!st) st = writer_setup(path, a, &bits, f);
  if (st) return st;
  outfile of;
  if ((st = outfile_reserve(&of, path, force))) return st;
  audio_buf resampled;
  const audio_buf *w;
  if ((st = at_written_rate(a, f, &resampled, &w))) {
    outfile_abort(&of);
    return st;
  }
  audio_sink sink;
  SNDFILE *sf = open_writer(of.tmp, f, bits, w, &sink);
  if (!sf) {
    st = fail(A2I2A_ERR_IO, "%s: cannot write: %s", path, sink.fd < 0 ? strerror(errno) : sf_strerror(NULL));
  } else {
    st = write_samples(sf, path, w, bits, dither_seed);
    int closed = sf_close(sf) == 0;
    if (close(sink.fd) != 0 && !sink.error) sink.error = errno;
    /* the system's reason first: libsndfile's words for it vary by format */
    if (sink.error) st = fail(A2I2A_ERR_IO, "%s: write failed: %s", path, strerror(sink.error));
    else if (!closed && !st) st = fail(A2I2A_ERR_IO, "%s: write failed while closing", path);
  }
  audio_free(&resampled);
  if (st) {
    outfile_abort(&of);
    return st;
  }
  *pending = of;
  return A2I2A_OK;
}
