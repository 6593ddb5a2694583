/* a2i: sound (a file, an encoded file in memory, or PCM) → spectrogram PNG (a file or bytes),
 * dispatching to one style per sound. */
#include "a2i/a2i_internal.h"
#include "a2i/styles.h"
#include "chain/params.h"
#include "common/err.h"
#include "common/job.h"
#include "common/outfile.h"
#include "common/registry.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

a2i2a_a2i_params a2i2a_a2i_default_params(void) {
  a2i2a_a2i_params p;
  memset(&p, 0, sizeof p);
  p.style = "seed";
  return p;
}

a2i2a_status a2i_meta_put(png_meta *meta, const a2i_style_params *p) {
  char *json = a2i_style_params_to_json(p);
  if (!json) return fail(A2I2A_ERR_NOMEM, "out of memory writing the image parameters");
  a2i2a_status st = png_meta_set(meta, A2I_JSON_KEY, json);
  free(json);
  return st;
}

a2i2a_status a2i_at_rate(const audio_buf *a, double rate, audio_buf *out) {
  return audio_resample(a, rate, out);
}

float *a2i_padded(const float *x, int64_t n, int64_t min_n, int64_t *out_n) {
  int64_t m = n > min_n ? n : min_n;
  float *y = xcalloc((size_t)m, sizeof(float), "samples");
  if (!y) return NULL;
  memcpy(y, x, sizeof(float) * (size_t)n);
  *out_n = m;
  return y;
}

a2i2a_status a2i_melbank_new(a2i_melbank *sb, int n_freqs, double fmin, double fmax, int n_mels, double sr,
                             mel_scale scale, int norm) {
  memset(sb, 0, sizeof *sb);
  float *fb = xmalloc(sizeof(float) * n_freqs * n_mels, "mel filter bank");
  sb->k0 = xcalloc(n_mels, sizeof(int), "mel filter bank");
  sb->k1 = xcalloc(n_mels, sizeof(int), "mel filter bank");
  sb->w = xcalloc(n_mels, sizeof(float *), "mel filter bank");
  sb->n_mels = n_mels;
  if (!fb || !sb->k0 || !sb->k1 || !sb->w) {
    free(fb);
    a2i_melbank_free(sb);
    return A2I2A_ERR_NOMEM;
  }
  a2i2a_status st = mel_filterbank(fb, n_freqs, fmin, fmax, n_mels, sr, scale, norm);
  if (st) {
    free(fb);
    a2i_melbank_free(sb);
    return st;
  }
  size_t total = 0;
  for (int m = 0; m < n_mels; m++) {
    int k0 = n_freqs, k1 = 0;
    for (int k = 0; k < n_freqs; k++)
      if (fb[(size_t)k * n_mels + m] != 0.0f) {
        if (k < k0) k0 = k;
        k1 = k + 1;
      }
    if (k1 <= k0) k0 = k1 = 0;
    sb->k0[m] = k0, sb->k1[m] = k1;
    total += k1 - k0;
  }
  sb->store = xmalloc(sizeof(float) * (total ? total : 1), "mel filter bank");
  if (!sb->store) {
    free(fb);
    a2i_melbank_free(sb);
    return A2I2A_ERR_NOMEM;
  }
  float *q = sb->store;
  for (int m = 0; m < n_mels; m++) {
    sb->w[m] = q;
    for (int k = sb->k0[m]; k < sb->k1[m]; k++) *q++ = fb[(size_t)k * n_mels + m];
  }
  free(fb);
  return A2I2A_OK;
}

void a2i_melbank_free(a2i_melbank *sb) {
  free(sb->k0), free(sb->k1), free(sb->w), free(sb->store);
  memset(sb, 0, sizeof *sb);
}

void a2i_melbank_apply(const a2i_melbank *sb, const float *spec, int nt, float *out, int64_t out_stride) {
#pragma omp parallel for schedule(static)
  for (int m = 0; m < sb->n_mels; m++) {
    float acc[256] = {0};
    for (int k = sb->k0[m]; k < sb->k1[m]; k++) {
      const float w = sb->w[m][k - sb->k0[m]];
      const float *row = spec + (size_t)k * nt;
      for (int t = 0; t < nt; t++) acc[t] += w * row[t];
    }
    memcpy(out + (size_t)m * out_stride, acc, sizeof(float) * nt);
  }
}

/* The styles, with their defaults and limits. Adding a style: its file (style_NAME.c), its
 * declaration in styles.h, a row here. */
typedef struct {
  a2i2a_entry entry;
  a2i2a_status (*run)(const audio_buf *, const a2i2a_a2i_params *, image_u8 *, png_meta *);
  void (*plan)(const a2i2a_a2i_params *, int64_t, double, a2i_plan *);
  int width, height;    /* default size; width 0: one column per 10 ms of sound */
  int fixed_size;       /* the size cannot be chosen */
  double max_seconds;   /* default limit */
  int stereo;           /* takes stereo */
  double db_range, fmin, fmax; /* defaults of the styles that take them (0: not taken) */
  const char *colormap;
} style_def;

/* A style's size, limit and stereo (and levels); the JSON of its registry entry is made from the
 * same tokens. */
#define SHAPE_JSON(w, h, fixed, max_s, st) \
  "{\"width\": " w ", \"height\": " h ", \"fixed_size\": " fixed ", \"max_seconds\": " max_s ", \"stereo\": " st
#define SHAPE(w, h, fixed, max_s, st)                                                \
  .width = w, .height = h, .fixed_size = fixed, .max_seconds = max_s, .stereo = st, \
  .entry.json = SHAPE_JSON(#w, #h, #fixed, #max_s, #st) "}"
#define SHAPE_LEVELS(w, h, fixed, max_s, st, dbr, lo, hi, cmap)                                               \
  .width = w, .height = h, .fixed_size = fixed, .max_seconds = max_s, .stereo = st, .db_range = dbr,          \
  .fmin = lo, .fmax = hi, .colormap = cmap,                                                                  \
  .entry.json = SHAPE_JSON(#w, #h, #fixed, #max_s, #st) ", \"db_range\": " #dbr ", \"fmin\": " #lo ", \"fmax\": " #hi \
                ", \"colormap\": " #cmap "}"

static const style_def STYLES[] = {
    {.entry.name = "seed",
     .entry.description = "the notebook's image: STFT 512, power dB, min-max, 0 Hz at the top, 400x300 grey",
     .run = a2i_style_seed, .plan = a2i_plan_seed, SHAPE(400, 300, false, 3600, false)},
    {.entry.name = "riffusion",
     .entry.description = "Riffusion's image: 512 HTK mel bands 0-10 kHz, 100 columns/s, loud = black, its EXIF",
     .run = a2i_style_riffusion, .plan = a2i_plan_riffusion, SHAPE(0, 512, true, 600, true)},
    {.entry.name = "fullband",
     .entry.description = "ours: 20 Hz-20 kHz mel axis, chosen dB range and colour map, stereo, restorable level",
     .run = a2i_style_fullband, .plan = a2i_plan_fullband, SHAPE_LEVELS(0, 512, false, 600, true, 80, 20, 20000, "ember")},
};

const registry_table a2i_style_registry = REGISTRY_TABLE("styles", "style", STYLES, NULL);

/* Where a2i's sound comes from. */
typedef struct {
  enum { A2I_FILE, A2I_ENCODED, A2I_PCM } kind;
  const char *name;              /* the file's path, or what names the input in errors */
  const void *data;              /* A2I_ENCODED: the file's bytes */
  size_t size;
  const float *pcm;              /* A2I_PCM: interleaved */
  int64_t frames;
  int channels;
  double rate;
} a2i_input;

static a2i2a_status a2i_input_read(const a2i_input *in, audio_buf *a) {
  switch (in->kind) {
    case A2I_FILE: return audio_read(in->name, a);
    case A2I_ENCODED: return audio_read_memory(in->data, in->size, in->name, a);
    default: return audio_from_interleaved(in->pcm, in->frames, in->channels, in->rate, in->name, a);
  }
}

/* p with its style's defaults where the caller left 0, checked; its style's row. */
static a2i2a_status with_defaults(const a2i2a_a2i_params *params, a2i2a_a2i_params *p, const style_def **style) {
  *p = params ? *params : a2i2a_a2i_default_params();
  if (!p->style) p->style = "seed";
  a2i2a_status st = params_check_a2i(p);
  if (st) return st;
  const style_def *s = *style = &STYLES[registry_index(&a2i_style_registry, p->style)];
  if (!s->fixed_size && !p->width) p->width = s->width;
  if (!s->fixed_size && !p->height) p->height = s->height;
  if (!p->db_range) p->db_range = s->db_range;
  if (!p->fmin) p->fmin = s->fmin;
  if (!p->fmax) p->fmax = s->fmax;
  if (!p->colormap) p->colormap = s->colormap;
  if (p->max_seconds == 0) p->max_seconds = s->max_seconds;
  return A2I2A_OK;
}

int a2i_style_stereo(const char *style) {
  int i = registry_index(&a2i_style_registry, style ? style : "seed");
  return i >= 0 && STYLES[i].stereo;
}

static a2i2a_status check_length(const char *name, int64_t frames, double rate, const a2i2a_a2i_params *p) {
  if ((double)frames / rate > p->max_seconds)
    return fail(A2I2A_ERR_LIMIT, "%s: %.1f s is longer than the %s style's limit of %g s (see --max-seconds)", name,
                (double)frames / rate, p->style, p->max_seconds);
  return A2I2A_OK;
}

a2i2a_status a2i_plan_sound(const a2i2a_a2i_params *params, int64_t frames, double rate, int channels,
                            const char *name, a2i_plan *plan) {
  (void)channels;
  memset(plan, 0, sizeof *plan);
  a2i2a_a2i_params p;
  const style_def *s;
  a2i2a_status st = with_defaults(params, &p, &s);
  if (!st && s->fixed_size && (p.width || p.height))
    st = fail(A2I2A_ERR_PARAM, "the %s style's picture size is fixed (a2i.width, a2i.height)", s->entry.name);
  if (!st) st = check_length(name, frames, rate, &p);
  if (!st) s->plan(&p, frames, rate, plan);
  return st;
}

/* The one a2i: a sound from any input into a PNG file (png_path) or into memory (*png). */
static a2i2a_status a2i_run(const a2i_input *in, const a2i2a_a2i_params *params, const char *png_path, int force,
                            void **png, size_t *png_size, a2i2a_job *job) {
  a2i2a_a2i_params p;
  const style_def *s;
  a2i2a_status st = with_defaults(params, &p, &s);
  if (st) return st;
  /* fail early, before decoding, if the output cannot be written */
  st = png_path ? png_name_check(png_path) : A2I2A_OK;
  if (!st && png_path) st = outfile_check(png_path, force);
  if (st) return st;
  if ((st = job_check(job))) return st;
  job_stage(job, "spectrogram", s->entry.name, 2);
  audio_buf a;
  st = a2i_input_read(in, &a);
  if (st) return st;
  job_step(job, 1);
  if ((st = check_length(in->name, a.frames, a.rate, &p))) {
    audio_free(&a);
    return st;
  }
  if ((st = job_check(job))) return audio_free(&a), st;
  image_u8 img;
  memset(&img, 0, sizeof img);
  png_meta meta;
  png_meta_init(&meta);
  st = s->run(&a, &p, &img, &meta);
  audio_free(&a);
  if (st) fail_prefix(in->name);
  /* the last moment a cancel can keep the file from being written */
  if (!st) st = job_check(job);
  if (!st) st = png_path ? png_write(png_path, &img, &meta, force) : png_write_memory(&img, &meta, png, png_size);
  if (!st) job_step(job, 2);
  image_free(&img);
  png_meta_free(&meta);
  return st;
}

static a2i2a_status a2i_job(const a2i_input *in, const a2i2a_a2i_params *params, const char *png_path, int force,
                            void **png, size_t *png_size, a2i2a_job *job) {
  job_begin(job);
  double t0 = now_seconds();
  a2i2a_status st = a2i_run(in, params, png_path, force, png, png_size, job);
  job_time(job, a2i, t0);
  return job_end(job, st);
}

a2i2a_status a2i2a_a2i_file(const char *audio_path, const char *png_path, const a2i2a_a2i_params *params, int force,
                            a2i2a_job *job) {
  if (!audio_path) return fail(A2I2A_ERR_PARAM, "no input file given");
  a2i_input in = {.kind = A2I_FILE, .name = audio_path};
  return a2i_job(&in, params, png_path, force, NULL, NULL, job);
}

/* The memory outputs start empty, so that a failure leaves nothing to free. */
static a2i2a_status png_out_init(void **png, size_t *png_size) {
  if (!png || !png_size) return fail(A2I2A_ERR_PARAM, "nowhere to put the PNG (png or png_size is NULL)");
  *png = NULL;
  *png_size = 0;
  return A2I2A_OK;
}

a2i2a_status a2i2a_a2i_memory(const void *data, size_t size, const char *name, const a2i2a_a2i_params *params,
                              void **png, size_t *png_size, a2i2a_job *job) {
  a2i2a_status st = png_out_init(png, png_size);
  if (st) return st;
  a2i_input in = {.kind = A2I_ENCODED, .name = name ? name : "audio in memory", .data = data, .size = size};
  return a2i_job(&in, params, NULL, 0, png, png_size, job);
}

a2i2a_status a2i2a_a2i_pcm(const float *pcm, int64_t frames, int channels, double rate,
                           const a2i2a_a2i_params *params, void **png, size_t *png_size, a2i2a_job *job) {
  a2i2a_status st = png_out_init(png, png_size);
  if (st) return st;
  a2i_input in = {.kind = A2I_PCM, .name = "PCM audio", .pcm = pcm, .frames = frames, .channels = channels, .rate = rate};
  return a2i_job(&in, params, NULL, 0, png, png_size, job);
}
