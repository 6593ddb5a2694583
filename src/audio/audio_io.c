/* Decoding (libsndfile), resampling (soxr) and writing (libsndfile, atomically). */
#include "audio/audio.h"
#include "common/err.h"
#include "common/outfile.h"
#include "common/rng.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>
#include <sndfile.h>
#include <soxr.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longest input accepted at all: 2^31 frames per channel (13.5 hours at 44.1 kHz). Styles set
 * their own, much lower limits. */
#define AUDIO_MAX_FRAMES ((int64_t)1 << 31)
#define AUDIO_MAX_CHANNELS 64

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

/* libsndfile's float reading already scales PCM exactly as torchaudio does: s / 2^(bits-1)
 * (24-bit is read as s·256 / 2^31, the same number), and float files are passed through. */
/* mpg123 (inside libsndfile) prints warnings about damaged MP3 files straight to stderr; our
 * errors are one line, so stderr is pointed at /dev/null while an MP3 is opened and decoded. */
static int looks_like_mp3(const char *path) {
  unsigned char b[3] = {0};
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  size_t n = fread(b, 1, 3, f);
  fclose(f);
  return n == 3 && ((b[0] == 'I' && b[1] == 'D' && b[2] == '3') || (b[0] == 0xFF && (b[1] & 0xE0) == 0xE0));
}

static int quiet_stderr(void) {
  fflush(stderr);
  int saved = dup(2), null = open("/dev/null", O_WRONLY);
  if (saved < 0 || null < 0) {
    if (saved >= 0) close(saved);
    if (null >= 0) close(null);
    return -1;
  }
  dup2(null, 2);
  close(null);
  return saved;
}

static void restore_stderr(int saved) {
  if (saved < 0) return;
  dup2(saved, 2);
  close(saved);
}

static a2i2a_status audio_read_sf(const char *path, audio_buf *out);

a2i2a_status audio_read(const char *path, audio_buf *out) {
  int saved = looks_like_mp3(path) ? quiet_stderr() : -1;
  a2i2a_status st = audio_read_sf(path, out);
  restore_stderr(saved);
  return st;
}

static a2i2a_status audio_read_sf(const char *path, audio_buf *out) {
  memset(out, 0, sizeof *out);
  SF_INFO info;
  memset(&info, 0, sizeof info);
  SNDFILE *sf = sf_open(path, SFM_READ, &info);
  if (!sf) {
    FILE *probe = fopen(path, "rb");
    if (!probe) return fail(A2I2A_ERR_IO, "%s: cannot open: %s", path, sf_strerror(NULL));
    fseek(probe, 0, SEEK_END);
    long size = ftell(probe);
    fclose(probe);
    if (size == 0) return fail(A2I2A_ERR_FORMAT, "%s: empty file", path);
    return fail(A2I2A_ERR_FORMAT, "%s: not a readable audio file (%s)", path, sf_strerror(NULL));
  }
  a2i2a_status st = A2I2A_OK;
  float *inter = NULL;
  if (info.channels < 1 || info.channels > AUDIO_MAX_CHANNELS) {
    st = fail(A2I2A_ERR_UNSUPPORTED, "%s: %d channels (at most %d supported)", path, info.channels, AUDIO_MAX_CHANNELS);
    goto done;
  }
  if (!(info.samplerate > 0)) {
    st = fail(A2I2A_ERR_FORMAT, "%s: invalid sample rate %d", path, info.samplerate);
    goto done;
  }
  sf_command(sf, SFC_SET_NORM_FLOAT, NULL, SF_TRUE);
  if (header_truncated(sf)) {
    st = fail(A2I2A_ERR_FORMAT, "%s: truncated: the file is shorter than its header says", path);
    goto done;
  }
  /* Frame counts in headers can lie (truncated files, streams): read until the decoder stops.
   * Chunks are de-interleaved straight into planar storage (channel c at c·cap), whose planes
   * move apart when it grows. */
  enum { CHUNK = 16384 };
  int64_t cap = info.frames > 0 && info.frames < AUDIO_MAX_FRAMES ? info.frames + 1 : 1 << 20;
  int64_t n = 0;
  const int C = info.channels;
  float *planar = malloc((size_t)cap * C * sizeof(float));
  inter = malloc((size_t)CHUNK * C * sizeof(float));
  if (!planar || !inter) {
    free(planar);
    st = fail(A2I2A_ERR_NOMEM, "%s: out of memory for %lld frames", path, (long long)cap);
    goto done;
  }
  for (;;) {
    sf_count_t got = sf_readf_float(sf, inter, CHUNK);
    if (got <= 0) break;
    if (n + got > cap) {
      if (cap >= AUDIO_MAX_FRAMES) {
        free(planar);
        st = fail(A2I2A_ERR_LIMIT, "%s: longer than %lld frames", path, (long long)AUDIO_MAX_FRAMES);
        goto done;
      }
      int64_t ncap = cap * 2 > AUDIO_MAX_FRAMES ? AUDIO_MAX_FRAMES : cap * 2;
      float *p = realloc(planar, (size_t)ncap * C * sizeof(float));
      if (!p) {
        free(planar);
        st = fail(A2I2A_ERR_NOMEM, "%s: out of memory for %lld frames", path, (long long)ncap);
        goto done;
      }
      planar = p;
      for (int c = C - 1; c > 0; c--) memmove(planar + (size_t)c * ncap, planar + (size_t)c * cap, sizeof(float) * n);
      cap = ncap;
    }
    for (int c = 0; c < C; c++) {
      float *dst = planar + (size_t)c * cap + n;
      for (sf_count_t i = 0; i < got; i++) dst[i] = inter[(size_t)i * C + c];
    }
    n += got;
    if (got < CHUNK) break;
  }
  if (sf_error(sf) != SF_ERR_NO_ERROR) {
    free(planar);
    st = fail(A2I2A_ERR_FORMAT, "%s: corrupt audio data: %s", path, sf_strerror(sf));
    goto done;
  }
  /* A header that promises more frames than the file holds: a truncated file. */
  if (info.frames > 0 && info.frames < AUDIO_MAX_FRAMES && n < info.frames) {
    free(planar);
    st = fail(A2I2A_ERR_FORMAT, "%s: truncated: %lld of %lld frames present", path, (long long)n,
              (long long)info.frames);
    goto done;
  }
  if (n == 0) {
    free(planar);
    st = fail(A2I2A_ERR_FORMAT, "%s: contains no audio samples", path);
    goto done;
  }
  /* close the gaps between planes and give the rest back */
  for (int c = 1; c < C; c++) memmove(planar + (size_t)c * n, planar + (size_t)c * cap, sizeof(float) * n);
  float *shrunk = realloc(planar, (size_t)n * C * sizeof(float));
  out->x = shrunk ? shrunk : planar;
  out->channels = C;
  out->frames = n;
  out->rate = (double)info.samplerate;
done:
  free(inter);
  sf_close(sf);
  return st;
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

static int ends_with_ci(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcasecmp(s + n - m, suffix) == 0;
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
  if (bits == 0) bits = 32;
  int flac = ends_with_ci(path, ".flac");
  if (bits != 16 && bits != 24 && bits != 32) return fail(A2I2A_ERR_PARAM, "%s: unsupported bit depth %d (16, 24 or 32)", path, bits);
  if (flac && bits == 32) bits = 24; /* FLAC has no float samples: 24-bit is its finest */
  if (a->channels < 1 || a->frames < 0 || !(a->rate >= 1) || a->rate > 1e6)
    return fail(A2I2A_ERR_PARAM, "%s: invalid audio (%d channels, %g Hz)", path, a->channels, a->rate);
  outfile of;
  a2i2a_status st = outfile_reserve(&of, path, force);
  if (st) return st;
  SF_INFO info;
  memset(&info, 0, sizeof info);
  info.channels = a->channels;
  info.samplerate = (int)lrint(a->rate);
  info.format = (flac ? SF_FORMAT_FLAC : SF_FORMAT_WAV) |
                (bits == 16 ? SF_FORMAT_PCM_16 : bits == 24 ? SF_FORMAT_PCM_24 : SF_FORMAT_FLOAT);
  SNDFILE *sf = sf_open(of.tmp, SFM_WRITE, &info);
  if (!sf) {
    outfile_abort(&of);
    return fail(A2I2A_ERR_IO, "%s: cannot write: %s", path, sf_strerror(NULL));
  }
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
  for (int64_t i0 = 0; i0 < a->frames && !st; i0 += per) {
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
    if (wrote != m) st = fail(A2I2A_ERR_IO, "%s: write failed: %s", path, sf_strerror(sf));
  }
  if (sf_close(sf) != 0 && !st) st = fail(A2I2A_ERR_IO, "%s: write failed while closing", path);
  if (st) {
    outfile_abort(&of);
    return st;
  }
  *pending = of;
  return A2I2A_OK;
}
