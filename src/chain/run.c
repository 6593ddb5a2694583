/* a2i2a run: sound → spectrogram (a2i) → painting (i2i) → sounds (i2a), a contact sheet and
 * run.json, all written into a private temporary folder inside OUTDIR and moved into place
 * at the end, so that a failure leaves nothing behind and nothing is replaced without force. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "a2i/styles.h"
#include "audio/audio.h"
#include "audio/loudness.h"
#include "chain/chain.h"
#include "image/apng.h"
#include "chain/params.h"
#include "common/err.h"
#include "common/job.h"
#include "common/memory.h"
#include "common/outfile.h"
#include "common/sha256.h"
#include "sd/model.h"
#include "readings/readings.h"
#include "sd/pipeline.h"
#include "vocoder/vocoder.h"

/* dir + "/" + name into dst[PATH_LEN]; chain_run refuses an OUTDIR long enough to overflow. */
enum { PATH_LEN = 4400 };
static void join(char *dst, const char *dir, const char *name) {
  size_t a = strnlen(dir, PATH_LEN - 1), b = strnlen(name, PATH_LEN - 2 - a);
  memcpy(dst, dir, a);
  dst[a] = '/';
  memcpy(dst + a + 1, name, b);
  dst[a + 1 + b] = 0;
}

/* The input's absolute path for run.json, so that --replay works from any folder: its folder
 * resolved, its own name kept even where it is a link, since the sheet's title shows that name. */
static const char *input_absolute(const char *input, char abs[PATH_LEN]) {
  char dir[PATH_LEN], real[PATH_MAX];
  const char *slash = strrchr(input, '/'), *name = slash ? slash + 1 : input;
  snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - input) : 1, slash ? input : ".");
  if (!realpath(dir[0] ? dir : "/", real)) return input;
  join(abs, strcmp(real, "/") ? real : "", name);
  return abs;
}

/* ---------------------------------------------------------------- fingerprints */

static int model_is_tiny(const sd_model *m) {
  double bytes = 0;
  for (int p = 0; p < SD_NPARTS; p++)
    if (p == 0 || m->file[p].map != m->file[0].map) bytes += (double)m->file[p].map_size;
  return bytes < 100e6; /* SD 1.x in fp16 alone is 2 GB */
}

int chain_model_is_tiny(const char *path_or_repo) {
  sd_model m;
  memset(&m, 0, sizeof m);
  if (sd_model_open(path_or_repo, &m)) return 0;
  int tiny = model_is_tiny(&m);
  sd_model_close(&m);
  return tiny;
}

/* ---------------------------------------------------------------- readings */

enum { MAX_READINGS = 64 };

/* The reading names of p->readings ("all" or a comma-separated list) into names[]. */
static a2i2a_status reading_names(const a2i2a_run_params *p, char names[][64], int *n) {
  const reading_def *defs[MAX_READINGS];
  a2i2a_status st = reading_list_parse(p->readings, &p->i2a, defs, MAX_READINGS, n);
  for (int i = 0; !st && i < *n; i++) snprintf(names[i], 64, "%s", defs[i]->name);
  return st;
}

/* The readings of one painting: NAME.wav for each in dir (a folder that exists). */
static a2i2a_status read_painting(const char *art, char names[][64], int n, const a2i2a_run_params *p,
                                  const char *dir, a2i2a_job *job) {
  char out[PATH_LEN], wav[80];
  snprintf(wav, sizeof wav, "%.59s.wav", names[0]);
  join(out, dir, wav);
  return a2i2a_i2a_file(art, p->readings, n == 1 ? out : dir, &p->i2a, 1, job);
}

/* The three stages on one sound, each with its share of the current progress span: the
 * painting dominates on a real model. */
static a2i2a_status run_stages(a2i2a_model *model, const char *wav, const char *spec, const char *art,
                               const char *dir, char names[][64], int nread, const a2i2a_run_params *p,
                               a2i2a_job *job) {
  job_span sp = job_enter(job, 0.0, 0.03);
  a2i2a_status st = a2i2a_a2i_file(wav, spec, &p->a2i, 1, job);
  job_leave(job, sp);
  if (!st) {
    sp = job_enter(job, 0.03, 0.9);
    st = a2i2a_i2i_file(model, spec, art, &p->i2i, 1, job);
    job_leave(job, sp);
  }
  if (!st) {
    sp = job_enter(job, 0.9, 1.0);
    st = read_painting(art, names, nread, p, dir, job);
    job_leave(job, sp);
  }
  return st;
}

/* ---------------------------------------------------------------- long inputs: clips */

/* How long preview.png shows each frame of a travel. */
enum { FRAME_MS = 250 };

/* Side by side, same height (the clips' images all have the same size). */
static a2i2a_status concat_png(char paths[][PATH_LEN], int n, const char *out) {
  if (n < 1) return fail(A2I2A_ERR_INTERNAL, "%s: no clip images to put side by side", out);
  image_u8 *im = calloc((size_t)n, sizeof *im), all = {0};
  if (!im) return fail(A2I2A_ERR_NOMEM, "out of memory");
  a2i2a_status st = A2I2A_OK;
  int w = 0;
  for (int k = 0; k < n && !st; k++) {
    st = image_read(paths[k], &im[k], NULL);
    if (!st && (im[k].h != im[0].h)) st = fail(A2I2A_ERR_INTERNAL, "%s: clip images differ in height", paths[k]);
    w += im[k].w;
  }
  if (!st) st = image_alloc(&all, w, im[0].h, 3);
  for (int k = 0, x = 0; k < n && !st; x += im[k++].w)
    for (int y = 0; y < all.h; y++)
      memcpy(all.px + ((size_t)y * all.w + x) * 3, im[k].px + (size_t)y * im[k].w * 3, (size_t)im[k].w * 3);
  if (!st) st = png_write(out, &all, NULL, 1);
  for (int k = 0; k < n; k++) image_free(&im[k]);
  image_free(&all);
  free(im);
  return st;
}

/* Splits the input into clips, runs each clip through the chain, and stitches each reading's
 * sounds with a crossfade. The time scale of the readings' sounds is measured on the first
 * clip (output samples per input sample), so a reading that changes the sample rate or the
 * duration is placed consistently. */
static a2i2a_status run_clips(a2i2a_model *model, const char *input, const char *tmp, const a2i2a_run_params *p,
                              char names[][64], int nread, double **alphas, int *nalphas, a2i2a_job *job) {
  audio_buf in = {0};
  a2i2a_status st = audio_read(input, &in);
  if (st) return st;
  /* travel over frames: every "clip" is the whole input */
  int frames = p->clip_seconds > 0 ? 0 : p->frames, loop = p->travel && !strcmp(p->travel, "loop");
  int64_t len = frames ? in.frames : (int64_t)llround(p->clip_seconds * in.rate);
  int64_t ov = (int64_t)llround(p->overlap_seconds * in.rate);
  if (frames && ov * 2 > len) {
    audio_free(&in);
    return fail(A2I2A_ERR_PARAM, "clips.overlap_seconds: %g s is more than half of the input, which each frame repeats",
                p->overlap_seconds);
  }
  int64_t hop = len - ov;
  /* clips.seconds has its minimum, but a sound at a few hertz still makes clips of no samples */
  if (len < 2 || hop < 1) {
    st = fail(A2I2A_ERR_PARAM, "%s: clips of %g s overlapping by %g s are %lld samples at %g Hz: too short",
              input, frames ? (double)len / in.rate : p->clip_seconds, p->overlap_seconds, (long long)len, in.rate);
    audio_free(&in);
    return st;
  }
  int n = frames ? frames : (int)chain_clip_count(in.frames, len, ov);
  *nalphas = 0;
  /* travel: every clip's alpha, for run.json */
  if (p->travel && !(*alphas = calloc((size_t)n, sizeof **alphas))) st = fail(A2I2A_ERR_NOMEM, "out of memory");
  char(*spec)[PATH_LEN] = calloc((size_t)n, sizeof *spec), (*art)[PATH_LEN] = calloc((size_t)n, sizeof *art);
  char(*dir)[PATH_LEN] = calloc((size_t)n, sizeof *dir);
  audio_buf clip = {0};
  /* each clip's readings at their own level: the loudness asked for is the whole sound's */
  a2i2a_run_params per_clip = *p;
  per_clip.i2a.loudness = per_clip.i2a.true_peak = 0;
  if (!spec || !art || !dir) st = fail(A2I2A_ERR_NOMEM, "out of memory");
  if (!st) st = audio_alloc(&clip, in.channels, len, in.rate);
  for (int k = 0; k < n && !st; k++) {
    char label[64], wav[PATH_LEN], name[64];
    snprintf(label, sizeof label, "clip %d of %d", k + 1, n);
    job_stage(job, "clips", label, n);
    job_step(job, k);
    for (int c = 0; c < in.channels; c++)
      for (int64_t i = 0; i < len; i++) {
        int64_t j = frames ? i : (int64_t)k * hop + i;
        clip.x[(size_t)c * len + i] = j < in.frames ? in.x[(size_t)c * in.frames + j] : 0.0f;
      }
    snprintf(name, sizeof name, "clip%03d.wav", k), join(wav, tmp, name);
    snprintf(name, sizeof name, "clip%03d_spectrogram.png", k), join(spec[k], tmp, name);
    snprintf(name, sizeof name, "clip%03d_art.png", k), join(art[k], tmp, name);
    snprintf(name, sizeof name, "clip%03d", k), join(dir[k], tmp, name);
    st = audio_write(wav, &clip, 32, 0, 1); /* float: the clip's samples exactly */
    if (!st) st = make_output_dir(dir[k]);
    if (p->travel) {
      per_clip.i2i.alpha = chain_travel_alpha(k, n, loop);
      if (*alphas) (*alphas)[(*nalphas)++] = per_clip.i2i.alpha;
    }
    if (!st) {
      job_span sp = job_enter(job, 0.97 * k / n, 0.97 * (k + 1) / n);
      st = run_stages(model, wav, spec[k], art[k], dir[k], names, nread, &per_clip, job);
      job_leave(job, sp);
    }
    if (st && st != A2I2A_ERR_CANCELLED) fail_prefix(label);
  }
  double t_stitch = now_seconds();
  if (!st) job_stage(job, "stitching", NULL, nread);
  char path[PATH_LEN], wname[80];
  /* frames: one spectrogram (every frame paints the same) */
  if (!st) join(path, tmp, "spectrogram.png"), st = concat_png(spec, frames ? 1 : n, path);
  if (!st) join(path, tmp, "art.png"), st = concat_png(art, n, path);
  if (!st && frames) { /* an animated preview, and the frames themselves: frames/0001.png ... */
    image_u8 *im = calloc((size_t)n, sizeof *im);
    if (!im) st = fail(A2I2A_ERR_NOMEM, "out of memory");
    for (int k = 0; k < n && !st; k++) st = image_read(art[k], &im[k], NULL);
    if (!st) join(path, tmp, "preview.png"), st = apng_write(path, im, n, FRAME_MS, 1);
    for (int k = 0; im && k < n; k++) image_free(&im[k]);
    free(im);
    join(path, tmp, "frames");
    if (!st) st = make_output_dir(path);
    for (int k = 0; k < n && !st; k++) {
      char name[64];
      snprintf(name, sizeof name, "frames/%04d.png", k + 1), join(path, tmp, name);
      if (rename(art[k], path)) st = fail(A2I2A_ERR_IO, "%s: cannot move a frame into place", path);
    }
  }

  /* stitch each reading */
  audio_buf *parts = calloc((size_t)n, sizeof *parts);
  if (!parts && !st) st = fail(A2I2A_ERR_NOMEM, "out of memory");
  for (int r = 0; r < nread && !st; r++) {
    for (int k = 0; k < n && !st; k++) {
      snprintf(wname, sizeof wname, "%.59s.wav", names[r]);
      join(path, dir[k], wname);
      st = audio_read(path, &parts[k]);
      if (!st && (parts[k].channels != parts[0].channels || parts[k].rate != parts[0].rate))
        st = fail(A2I2A_ERR_INTERNAL, "%s: clips of one reading differ in format", path);
    }
    if (st) break;
    double ratio = (double)parts[0].frames / (double)len; /* output samples per input sample */
    int64_t hop_out = (int64_t)llround(hop * ratio), ov_out = (int64_t)llround(ov * ratio);
    int64_t total = frames ? (int64_t)(n - 1) * hop_out + parts[0].frames : (int64_t)llround(in.frames * ratio);
    /* a loop: the first clip once more after the last, and the sound cut from the end of the
     * first crossfade to the end of that last one, so that its end runs into its start */
    int64_t skip = 0, span = total;
    if (loop) total = (int64_t)n * hop_out, skip = ov_out, span = total + ov_out;
    audio_buf whole = {0};
    float *stitched = malloc((size_t)span * sizeof *stitched);
    st = stitched ? audio_alloc(&whole, parts[0].channels, total, parts[0].rate) : fail(A2I2A_ERR_NOMEM, "out of memory");
    const float **chan = calloc((size_t)n + 1, sizeof *chan);
    int64_t *lens = calloc((size_t)n + 1, sizeof *lens);
    if (!chan || !lens) st = fail(A2I2A_ERR_NOMEM, "out of memory");
    for (int c = 0; c < whole.channels && !st; c++) {
      for (int k = 0; k <= n; k++) {
        int q = k < n ? k : 0;
        chan[k] = parts[q].x + (size_t)c * parts[q].frames, lens[k] = parts[q].frames;
      }
      chain_stitch(chan, lens, n + loop, hop_out, ov_out, span, stitched);
      memcpy(whole.x + (size_t)c * total, stitched + skip, (size_t)total * sizeof *stitched);
    }
    free(stitched);
    if (!st) st = reading_loudness(&whole, &p->i2a, names[r], job);
    if (!st) {
      join(path, tmp, wname);
      st = audio_write(path, &whole, p->i2a.bits, p->i2a.seed, 1);
    }
    free(chan);
    free(lens);
    audio_free(&whole);
    for (int k = 0; k < n; k++) audio_free(&parts[k]);
    if (!st) job_step(job, r + 1), st = job_check(job);
  }
  job_time(job, sheet, t_stitch);
  free(parts);
  audio_free(&clip);
  audio_free(&in);
  free(spec);
  free(art);
  free(dir);
  return st;
}

/* ---------------------------------------------------------------- the outputs */

enum { MAXOUT = MAX_READINGS + 6 + CHAIN_MAX_FRAMES };

/* The files a run writes besides run.json, into out[]; their count. */
static int output_names(const a2i2a_run_params *p, char names[][64], int nread, char out[][64]) {
  int nout = 0;
  snprintf(out[nout++], 64, "spectrogram.png");
  snprintf(out[nout++], 64, "art.png");
  for (int r = 0; r < nread; r++) snprintf(out[nout++], 64, "%.59s.wav", names[r]);
  if (p->sheet) snprintf(out[nout++], 64, "sheet.png");
  if (!(p->clip_seconds > 0) && p->frames) snprintf(out[nout++], 64, "preview.png");
  for (int k = 0; k < (p->clip_seconds > 0 ? 0 : p->frames); k++) snprintf(out[nout++], 64, "frames/%04d.png", k + 1);
  return nout;
}

/* None of them, nor run.json, exists in outdir unless force. */
static a2i2a_status check_outputs(const char *outdir, char out[][64], int nout, int force) {
  char path[PATH_LEN];
  a2i2a_status st = A2I2A_OK;
  for (int k = 0; k < nout && !st; k++) {
    join(path, outdir, out[k]);
    struct stat sb;
    if (!strncmp(out[k], "frames/", 7) && stat(path, &sb) != 0) continue; /* frames/ made at the end */
    st = outfile_check(path, force);
  }
  join(path, outdir, "run.json");
  return st ? st : outfile_check(path, force);
}

/* ---------------------------------------------------------------- before the work */

/* Whether a sound (the input, or one clip) can go through the chain. */
typedef enum { FIT_OK, FIT_SHORT, FIT_WIDE, FIT_MEMORY, FIT_INVERSE } fit;

typedef struct {
  const a2i2a_model *model;
  const a2i2a_run_params *p;
  const char *input;
  double rate;
  int channels;
  int inverse;   /* the readings include inverse */
  double have;   /* bytes of memory available (0: unknown) */
  a2i_plan plan; /* what the last sound_fits found */
  int W, H;      /* the painting's size */
  double need;   /* its memory */
} preflight;

static a2i2a_status sound_fits(preflight *f, int64_t frames, fit *how) {
  const a2i2a_run_params *p = f->p;
  *how = FIT_OK;
  a2i2a_status st = a2i_plan_sound(&p->a2i, frames, f->rate, f->channels, f->input, &f->plan);
  if (st) return st;
  if (frames < f->plan.min_frames) return *how = FIT_SHORT, A2I2A_OK;
  if (!p->i2i.width && !p->i2i.height && (f->plan.width > I2I_MAX_SIDE || f->plan.height > I2I_MAX_SIDE))
    return *how = FIT_WIDE, A2I2A_OK;
  if ((st = sd_i2i_check(f->model, &p->i2i, f->plan.width, f->plan.height, &f->W, &f->H))) return st;
  f->need = sd_i2i_memory_estimate(f->model, f->H, f->W, p->i2i.low_memory);
  if (f->have > 0 && f->need > f->have) return *how = FIT_MEMORY, A2I2A_OK;
  /* the inverse reading rebuilds the seed style's STFT of the whole sound, the others' from the
   * painting's columns */
  int seed = !p->a2i.style || !strcmp(p->a2i.style, "seed");
  if (f->inverse && (int64_t)f->plan.bins * (seed ? f->plan.columns : f->W) > READING_INVERSE_MAX_CELLS)
    *how = FIT_INVERSE;
  return A2I2A_OK;
}

/* The longest sound, in seconds, no longer than frames that fits; 0 if none does. */
static double longest_fitting(preflight *f, int64_t frames) {
  preflight g = *f;
  fit how;
  int64_t lo = 1, hi = frames;
  if (sound_fits(&g, lo, &how) || how == FIT_SHORT) lo = g.plan.min_frames;
  if (lo > hi || sound_fits(&g, lo, &how) || how != FIT_OK) return 0;
  while (lo < hi) { /* lo fits, the answer is in [lo, hi] */
    int64_t mid = lo + (hi - lo + 1) / 2;
    if (!sound_fits(&g, mid, &how) && how == FIT_OK) lo = mid;
    else hi = mid - 1;
  }
  double s = floor(100 * lo / f->rate) / 100; /* a round number that still fits */
  return s > 0 ? s : lo / f->rate;
}

a2i2a_status chain_preflight(const a2i2a_model *model, const char *input, const char *outdir,
                             const a2i2a_run_params *p, int force) {
  a2i2a_status st = params_check(p);
  if (st) return st;
  char names[MAX_READINGS][64], out[MAXOUT][64];
  int nread;
  if ((st = reading_names(p, names, &nread))) return st;
  if (strlen(outdir) > 3000) return fail(A2I2A_ERR_PARAM, "%.60s...: output folder path too long", outdir);
  struct stat sb;
  if (stat(outdir, &sb) == 0 && (st = check_outputs(outdir, out, output_names(p, names, nread, out), force))) return st;

  preflight f = {.model = model, .p = p, .input = input, .have = memory_available()};
  for (int r = 0; r < nread; r++) {
    f.inverse |= !strcmp(names[r], "inverse");
    if (!strcmp(names[r], "vocoder")) { /* a wrong folder would otherwise end a whole painting's work */
      vocoder *v;
      if ((st = vocoder_open(p->i2a.vocoder, &v))) return fail_prefix("reading vocoder"), st;
      vocoder_close(v);
    }
  }
  int64_t frames;
  if ((st = audio_probe(input, &frames, &f.rate, &f.channels))) return st;
  int clips = p->clip_seconds > 0;
  int64_t len = clips ? (int64_t)llround(p->clip_seconds * f.rate) : frames;
  fit how;
  if ((st = sound_fits(&f, len, &how)) || how == FIT_OK) return st;

  /* in the user's terms: the sound, the limit, and a clip length that would do */
  const char *style = p->a2i.style ? p->a2i.style : "seed";
  double seconds = len / f.rate, fits = how == FIT_SHORT ? 0 : longest_fitting(&f, len);
  char what[160], advice[160];
  if (clips) snprintf(what, sizeof what, "%s: clips of %g s", input, p->clip_seconds);
  else snprintf(what, sizeof what, "%s: %.3g s", input, seconds);
  if (fits > 0) snprintf(advice, sizeof advice, ": %s (--clip %g)", clips ? "use shorter clips" : "split it into clips", fits);
  else snprintf(advice, sizeof advice, ": make the picture smaller (--spec-width, --spec-height)");
  switch (how) {
  case FIT_SHORT:
    return fail(A2I2A_ERR_LIMIT, "%s %s too short for the %s style (at least %.3g s)", what, clips ? "are" : "is",
                style, f.plan.min_frames / f.rate);
  case FIT_WIDE:
    return fail(A2I2A_ERR_LIMIT, "%s make%s a picture %d pixels wide, more than the %d a painting may be%s", what,
                clips ? "" : "s", f.plan.width, I2I_MAX_SIDE, advice);
  case FIT_MEMORY:
    return fail(A2I2A_ERR_NOMEM, "%s: painting %s as one %dx%d picture needs about %.1f GB, %.1f GB are available%s",
                what, clips ? "each" : "it", f.W, f.H, f.need / 1e9, f.have / 1e9, advice);
  default:
    return fail(A2I2A_ERR_LIMIT, "%s %s too long for the inverse reading of a %s picture%s, or leave inverse out",
                what, clips ? "are" : "is", style, advice);
  }
}

/* ---------------------------------------------------------------- one run */

/* The contact sheet of a finished run in tmp, in the layout asked for (chain.h). */
static a2i2a_status write_sheet(const char *tmp, const char *input, const char *model, const char *spec, const char *art,
                                char names[][64], int nread, const a2i2a_run_params *p, int layout,
                                const double *lufs) {
  image_u8 si = {0}, ai = {0}, sheet = {0};
  chain_sheet_sound snd[MAX_READINGS];
  char(*wav)[PATH_LEN] = calloc(MAX_READINGS, sizeof *wav);
  if (!wav) return fail(A2I2A_ERR_NOMEM, "out of memory");
  char head[2][1024], path[PATH_LEN];
  for (int r = 0; r < nread; r++) {
    char wname[80];
    snprintf(wname, sizeof wname, "%.59s.wav", names[r]);
    join(wav[r], tmp, wname);
    snd[r] = (chain_sheet_sound){.name = names[r], .wav = wav[r], .has_lufs = layout >= 2, .lufs = lufs[r]};
  }
  const char *base = strrchr(input, '/') ? strrchr(input, '/') + 1 : input;
  if (layout < 2) {
    snprintf(head[0], sizeof head[0], "%s  %s  seed %llu", base, p->preset ? p->preset : "",
             (unsigned long long)p->i2i.seed);
  } else {
    snprintf(head[0], sizeof head[0], "%s  preset %s  seed %llu  %d steps  %s", base, p->preset ? p->preset : "none",
             (unsigned long long)p->i2i.seed, p->i2i.steps, model);
    snprintf(head[1], sizeof head[1], "\"%s\"", p->i2i.prompt ? p->i2i.prompt : "");
  }
  const char *header[2] = {head[0], head[1]};
  a2i2a_status st = image_read(spec, &si, NULL);
  if (!st) st = image_read(art, &ai, NULL);
  if (!st) st = chain_sheet(&si, &ai, header, layout < 2 ? 1 : 2, snd, nread, &sheet);
  if (!st) join(path, tmp, "sheet.png"), st = png_write(path, &sheet, NULL, 1);
  image_free(&si);
  image_free(&ai);
  image_free(&sheet);
  free(wav);
  return st;
}

/* Each reading's loudness and true peak as written in tmp. */
static a2i2a_status measure_readings(const char *tmp, char names[][64], int nread, double *lufs, double *dbtp) {
  a2i2a_status st = A2I2A_OK;
  for (int r = 0; r < nread && !st; r++) {
    char wname[80], path[PATH_LEN];
    snprintf(wname, sizeof wname, "%.59s.wav", names[r]);
    join(path, tmp, wname);
    audio_buf a;
    if (!(st = audio_read(path, &a))) st = loudness_measure(&a, &lufs[r], &dbtp[r]);
    audio_free(&a);
  }
  return st;
}

a2i2a_status chain_run(a2i2a_model *model, const char *model_name, const char *model_sha256, const char *input,
                       const char *input_name, const char *input_sha256, const char *outdir, const a2i2a_run_params *p, int force,
                       int sheet_layout, chain_record *rec_out, a2i2a_job *job) {
  a2i2a_run_params named = *p;
  named.model = model_name; /* what run.json records */
  p = &named;
  a2i2a_status st = params_check(p);
  if (st) return st;
  if (model->loras.n > CHAIN_MAX_LORAS)
    return fail(A2I2A_ERR_LIMIT, "%d LoRAs: run.json records at most %d", model->loras.n, CHAIN_MAX_LORAS);
  char names[MAX_READINGS][64];
  int nread;
  if ((st = reading_names(p, names, &nread))) return st;
  if (strlen(outdir) > 3000) return fail(A2I2A_ERR_PARAM, "%.60s...: output folder path too long", outdir);
  if ((st = job_check(job))) return st;
  struct stat sb;
  int made_dir = stat(outdir, &sb) != 0;
  if ((st = make_output_dir(outdir))) return st;
  /* one run at a time in a folder: a second fails here, before any work, and leaves the
   * folder alone (the first may be about to fill it) */
  int outdir_lock;
  if ((st = output_dir_lock(outdir, &outdir_lock))) return st;

  /* every output, checked before any work */
  char out[MAXOUT][64], path[PATH_LEN];
  int nout = output_names(p, names, nread, out);
  if ((st = check_outputs(outdir, out, nout, force))) {
    if (made_dir) rmdir(outdir);
    output_dir_unlock(outdir_lock);
    return st;
  }

  /* what runs killed before their end left here goes first */
  run_folder_sweep(outdir);
  run_folder td;
  if ((st = run_folder_create(&td, outdir))) {
    if (made_dir) rmdir(outdir);
    output_dir_unlock(outdir_lock);
    return st;
  }
  const char *tmp = td.path;

  char spec[PATH_LEN], art[PATH_LEN];
  join(spec, tmp, "spectrogram.png");
  join(art, tmp, "art.png");
  double *alphas = NULL;
  int nalphas = 0;
  if (p->clip_seconds > 0 || p->frames) {
    job_span sp = job_enter(job, 0.0, 0.98);
    st = run_clips(model, input, tmp, p, names, nread, &alphas, &nalphas, job);
    job_leave(job, sp);
  } else {
    job_span sp = job_enter(job, 0.0, 0.98);
    st = run_stages(model, input, spec, art, tmp, names, nread, p, job);
    job_leave(job, sp);
  }

  double t_sheet = now_seconds(), lufs[MAX_READINGS], dbtp[MAX_READINGS];
  if (!st) st = measure_readings(tmp, names, nread, lufs, dbtp);
  if (!st && p->sheet) {
    job_stage(job, "sheet", NULL, 0);
    st = write_sheet(tmp, input_name ? (strcmp(input_name, "-") ? input_name : "stdin") : input,
                     a2i2a_model_name(model), spec, art, names, nread, p, sheet_layout, lufs);
  }
  job_time(job, sheet, t_sheet);

  /* run.json: the parameters and the fingerprints of everything */
  chain_record rec;
  memset(&rec, 0, sizeof rec);
  rec.p = *p;
  /* absolute paths, so that --replay works from any folder */
  char in_abs[PATH_LEN], model_abs[4096];
  rec.input_path = input_name ? (char *)input_name : (char *)input_absolute(input, in_abs);
  rec.p.model = stat(model_name, &sb) == 0 && realpath(model_name, model_abs) ? model_abs : model_name;
  rec.input_sha256 = (char *)input_sha256;
  rec.model_sha256 = (char *)model_sha256;
  char taesd_abs[4096], taesd_hex[65];
  if (p->i2i.taesd) {
    const char *t = p->i2i.taesd;
    rec.p.i2i.taesd = stat(t, &sb) == 0 && realpath(t, taesd_abs) ? taesd_abs : t;
    if (!st) st = sd_taesd_sha256(model, t, taesd_hex);
    rec.taesd_sha256 = taesd_hex;
  }
  rec.version = (char *)a2i2a_version();
  rec.threads = a2i2a_get_threads();
  rec.sheet_layout = sheet_layout;
  rec.nalphas = nalphas, rec.alphas = alphas;
  /* the model's LoRAs by absolute path (for --replay from anywhere), scale and hash */
  char lora_abs[CHAIN_MAX_LORAS][4096];
  rec.nloras = model->loras.n;
  for (int k = 0; k < rec.nloras; k++) {
    const sd_lora_info *li = &model->loras.info[k];
    rec.lora[k].path = li->data ? NULL : realpath(li->path, lora_abs[k]) ? lora_abs[k] : li->path;
    rec.lora[k].scale = li->scale;
    rec.lora_sha256[k] = (char *)li->sha256;
  }
  for (int r = 0; r < nread; r++) /* the readings follow the spectrogram and the painting */
    rec.measured[2 + r] = 1, rec.lufs[2 + r] = lufs[r], rec.dbtp[2 + r] = dbtp[r];
  char hex[MAXOUT][65];
  for (int k = 0; k < nout && !st; k++) {
    join(path, tmp, out[k]);
    st = sha256_file(path, hex[k]);
    rec.output_name[k] = out[k];
    rec.output_sha256[k] = hex[k];
  }
  rec.noutputs = nout < CHAIN_MAX_OUTPUTS ? nout : CHAIN_MAX_OUTPUTS;
  if (!st) join(path, tmp, "run.json"), st = chain_runjson_write(path, &rec, 1);
  /* the last moment a cancel keeps the outputs out */
  if (!st) st = job_check(job);

  /* into place as one: a failure half-way puts back every file it replaced; run.json last,
   * so that it is only there when all is */
  if (!st) {
    outfile *of = calloc(nout + 1, sizeof *of);
    if (!of) st = fail(A2I2A_ERR_NOMEM, "out of memory");
    if (p->frames && !(p->clip_seconds > 0)) {
      join(path, outdir, "frames");
      st = make_output_dir(path);
    }
    for (int k = 0; k <= nout && !st; k++) {
      const char *name = k < nout ? out[k] : "run.json";
      join(of[k].path, outdir, name);
      join(of[k].tmp, tmp, name);
      st = outfile_check(of[k].path, force); /* nothing appeared meanwhile */
    }
    if (!st) st = outfile_commit_all(of, nout + 1);
    free(of);
  }
  run_folder_remove(&td);
  free(alphas);
  if (st && made_dir) rmdir(outdir);
  output_dir_unlock(outdir_lock);
  if (!st && rec_out) {
    /* a copy that owns its strings */
    memset(rec_out, 0, sizeof *rec_out);
    rec_out->p = *p;
    rec_out->noutputs = rec.noutputs;
    for (int k = 0; k < rec.noutputs; k++) {
      rec_out->output_name[k] = (char *)chain_record_str(rec_out, out[k]);
      rec_out->output_sha256[k] = (char *)chain_record_str(rec_out, hex[k]);
    }
  }
  return st;
}

a2i2a_status a2i2a_run(a2i2a_model *model, const char *input, const char *outdir, const a2i2a_run_params *p,
                       int force, a2i2a_job *job) {
  return chain_run_named(model, input, NULL, outdir, p, force, job);
}

a2i2a_status chain_run_named(a2i2a_model *model, const char *input, const char *input_name, const char *outdir,
                             const a2i2a_run_params *p, int force, a2i2a_job *job) {
  char in_hex[65], model_hex[65];
  job_begin(job);
  if (!model || !input || !outdir || !p) return job_end(job, fail(A2I2A_ERR_PARAM, "a2i2a_run: a NULL argument"));
  /* run.json names the model opened when the parameters do not */
  a2i2a_run_params named = *p;
  if (!named.model) named.model = model->m.path;
  a2i2a_status st = chain_preflight(model, input, outdir, &named, force);
  if (!st) st = sd_preview_check(model, job);
  double t0 = now_seconds();
  if (!st) job_stage(job, "fingerprint", input, 0);
  if (!st) st = sha256_file(input, in_hex);
  if (!st) st = a2i2a_model_sha256(model, model_hex);
  job_time(job, hash, t0);
  if (!st) st = chain_run(model, named.model, model_hex, input, input_name, in_hex, outdir, &named, force, CHAIN_SHEET_LAYOUT,
                           NULL, job);
  if (!st && model_is_tiny(&model->m)) {
    /* the model the preset paints with is the one worth fetching */
    const chain_preset *ps = chain_preset_find(p->preset ? p->preset : chain_presets[0].name);
    job_log(job, A2I2A_LOG_NOTE,
            "%s is a tiny model with random weights: this run proves the chain, not the art; for real paintings "
            "(the %s preset's model): a2i2a models pull %s",
            a2i2a_model_name(model), ps ? ps->name : chain_presets[0].name, ps ? ps->model : chain_presets[0].model);
  }
  return job_end(job, st);
}

a2i2a_status a2i2a_run_replay(const char *run_json, const char *input, const char *model_path, const char *outdir,
                              int force, a2i2a_job *job) {
  return chain_replay_named(run_json, input, NULL, model_path, outdir, force, job);
}

a2i2a_status chain_replay_named(const char *run_json, const char *input, const char *input_name, const char *model_path,
                                const char *outdir, int force, a2i2a_job *job) {
  job_begin(job);
  chain_record rec;
  a2i2a_status st = chain_runjson_read(run_json, &rec);
  if (st) return job_end(job, st);
  if (!input && !strcmp(rec.input_path, "-")) {
    st = fail(A2I2A_ERR_PARAM, "%s: the input was read from stdin: give it again (INPUT, or - for stdin)", run_json);
    chain_record_free(&rec);
    return job_end(job, st);
  }
  if (!input) input = rec.input_path;
  if (!model_path) model_path = rec.p.model;
  a2i2a_model *model = NULL;
  double t0 = now_seconds();
  job_stage(job, "loading", model_path, 0);
  st = a2i2a_model_open(model_path, &model);
  job_time(job, load, t0);
  rec.p.model = model_path;
  if (!st) st = chain_preflight(model, input, outdir, &rec.p, force);
  if (!st) st = sd_preview_check(model, job);
  char hex[65];
  t0 = now_seconds();
  if (!st) job_stage(job, "fingerprint", input, 0);
  if (!st) st = sha256_file(input, hex);
  job_time(job, hash, t0);
  if (!st && strcmp(hex, rec.input_sha256))
    st = fail(A2I2A_ERR_PARAM, "%s: not the input %s records (SHA-256 %s, recorded %s)", input, run_json, hex,
              rec.input_sha256);
  char mhex[65];
  if (!st) {
    t0 = now_seconds();
    job_stage(job, "fingerprint", model_path, 0);
    st = a2i2a_model_sha256(model, mhex);
    job_time(job, hash, t0);
  }
  if (!st && strcmp(mhex, rec.model_sha256))
    st = fail(A2I2A_ERR_MODEL, "%s: not the model %s records (SHA-256 %s, recorded %s)", model_path, run_json, mhex,
              rec.model_sha256);
  /* each LoRA must be the file the run merged */
  for (int k = 0; k < rec.nloras && !st; k++) {
    const char *lp = rec.lora[k].path;
    if (!lp) {
      st = fail(A2I2A_ERR_PARAM, "%s: LoRA %d was given as bytes, not a file: it cannot be replayed", run_json, k + 1);
      break;
    }
    char lhex[65];
    job_stage(job, "fingerprint", lp, 0);
    if (!(st = sha256_file(lp, lhex)) && strcmp(lhex, rec.lora_sha256[k]))
      st = fail(A2I2A_ERR_MODEL, "%s: not the LoRA %s records (SHA-256 %s, recorded %s): the file changed since the run",
                lp, run_json, lhex, rec.lora_sha256[k]);
  }
  if (!st) st = sd_lora_apply(model, rec.lora, rec.nloras, job);
  char thex[65];
  if (!st && rec.p.i2i.taesd && !(st = sd_taesd_sha256(model, rec.p.i2i.taesd, thex)) && strcmp(thex, rec.taesd_sha256))
    st = fail(A2I2A_ERR_MODEL, "%s: not the TAESD %s records (SHA-256 %s, recorded %s)", rec.p.i2i.taesd, run_json,
              thex, rec.taesd_sha256);
  chain_record done;
  memset(&done, 0, sizeof done);
  if (!st) {
    /* the same thread count: sums split across threads may round differently */
    int threads = a2i2a_get_threads();
    a2i2a_set_threads(rec.threads);
    st = chain_run(model, model_path, mhex, input, input_name, hex, outdir, &rec.p, force, rec.sheet_layout, &done, job);
    a2i2a_set_threads(threads);
  }
  if (model) a2i2a_model_close(model);
  /* the replay's promise: the same bytes */
  for (int k = 0; k < rec.noutputs && !st; k++) {
    int found = 0;
    for (int j = 0; j < done.noutputs; j++) {
      if (strcmp(done.output_name[j], rec.output_name[k])) continue;
      found = 1;
      if (strcmp(done.output_sha256[j], rec.output_sha256[k])) {
        /* another version may write other bytes on purpose (docs/chain.md lists what changed) */
        if (strcmp(rec.version, a2i2a_version()))
          st = fail(A2I2A_ERR_UNSUPPORTED,
                    "%s/%s: differs from the run %s records, made by a2i2a %s (this is %s; see docs/chain.md, "
                    "'Replaying runs of other versions')",
                    outdir, rec.output_name[k], run_json, rec.version, a2i2a_version());
        else
          st = fail(A2I2A_ERR_INTERNAL, "%s/%s: differs from the recorded run (SHA-256 %s, %s says %s)", outdir,
                    rec.output_name[k], done.output_sha256[j], run_json, rec.output_sha256[k]);
      }
    }
    if (!found) st = fail(A2I2A_ERR_INTERNAL, "%s/%s: recorded in %s but not made again", outdir, rec.output_name[k], run_json);
  }
  chain_record_free(&done);
  chain_record_free(&rec);
  return job_end(job, st);
}
