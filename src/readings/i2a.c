/* i2a: an image (a file or bytes in memory) read through readings, into files written
 * atomically (a2i2a_i2a_file) or into memory (a2i2a_i2a_memory). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audio/loudness.h"
#include "common/err.h"
#include "common/job.h"
#include "common/memory.h"
#include "chain/params.h"
#include "common/outfile.h"
#include "readings/readings.h"

a2i2a_i2a_params a2i2a_i2a_default_params(void) {
  a2i2a_i2a_params p;
  memset(&p, 0, sizeof p);
  return p;
}

enum { MAX_READINGS = 64 };

/* "a,b,c" or "all" into table entries (no duplicates); none given: red. */
static a2i2a_status parse_readings(const char *list, const a2i2a_i2a_params *p, const reading_def **out, int *n) {
  return reading_list_parse(list && *list ? list : "red", p, out, MAX_READINGS, n);
}

/* Whether the readings fit in the memory available, from the image's size, before any of them
 * runs: the image, every sound (all are kept until the files are written) and the largest
 * working memory of one reading. */
static a2i2a_status check_memory(const reading_input *in, const reading_def **defs, int n) {
  double sounds = 0, work = 0;
  for (int i = 0; i < n; i++) {
    reading_memory m = defs[i]->memory(in);
    sounds += m.sound;
    work = m.work > work ? m.work : work;
  }
  const double need = 3.0 * in->img->w * in->img->h + sounds + work, have = memory_available();
  if (have > 0 && need > have) {
    char what[96];
    if (n == 1) snprintf(what, sizeof what, "reading %s", defs[0]->name);
    else snprintf(what, sizeof what, "%d readings", n);
    return fail(A2I2A_ERR_NOMEM, "%s: %s of a %dx%d image needs about %.0f MB of memory and %.0f MB are available",
                in->label, what, in->img->w, in->img->h, need / 1048576.0, have / 1048576.0);
  }
  return A2I2A_OK;
}

a2i2a_status reading_loudness(audio_buf *sound, const a2i2a_i2a_params *p, const char *name, a2i2a_job *job) {
  if (!p->loudness) return A2I2A_OK;
  double ceiling = p->true_peak ? p->true_peak : -1;
  loudness_result r;
  a2i2a_status st = loudness_normalise(sound, p->loudness, ceiling, &r);
  if (st) return st;
  if (r.lufs == LOUDNESS_NONE)
    job_log(job, A2I2A_LOG_NOTE, "%s: no loudness to measure (silent, or shorter than 0.4 s): its level is kept", name);
  else if (r.limited)
    job_log(job, A2I2A_LOG_NOTE, "%s: %.1f LUFS, true peak %.1f dBTP: the ceiling of %g dBTP holds it below %g LUFS",
            name, r.lufs, r.dbtp, ceiling, p->loudness);
  else
    job_log(job, A2I2A_LOG_INFO, "%s: %.1f LUFS, true peak %.1f dBTP", name, r.lufs, r.dbtp);
  return A2I2A_OK;
}

/* Every reading at the rate asked for (soxr), then at the loudness asked for. */
static a2i2a_status finish_sound(audio_buf *sound, const a2i2a_i2a_params *p, const char *name, a2i2a_job *job) {
  if (p->output_rate > 0 && sound->rate != p->output_rate) {
    audio_buf resampled;
    a2i2a_status st = audio_resample(sound, p->output_rate, &resampled);
    if (st) return st;
    audio_free(sound);
    *sound = resampled;
  }
  return reading_loudness(sound, p, name, job);
}

/* The one i2a: the image (a file at path, or size bytes at data) read through defs[0..n) into
 * sounds[0..n), with the stages, progress, cancel and errors of every i2a call. On failure the
 * sounds are empty. */
static a2i2a_status i2a_sounds(const char *path, const void *data, size_t size, const char *name,
                               const reading_def **defs, int n, const a2i2a_i2a_params *p, a2i2a_job *job,
                               audio_buf *sounds) {
  image_u8 img = {0};
  png_meta meta;
  a2i2a_status st = params_check_i2a(p);
  if (st) return st;
  st = path ? image_read(path, &img, &meta) : image_read_memory(data, size, name, &img, &meta);
  if (st) return st;
  if (img.c != 3) st = fail(A2I2A_ERR_INTERNAL, "%s: the image reader returned %d channels", name, img.c);
  reading_input in = {&img, &meta, name, *p, job};
  if (!st) st = check_memory(&in, defs, n);
  for (int i = 0; i < n && !st; i++) {
    job_stage(job, "readings", defs[i]->name, n);
    job_step(job, i);
    if (!(st = job_check(job))) st = defs[i]->run(&in, &sounds[i]);
    if (!st) st = finish_sound(&sounds[i], p, defs[i]->name, job);
    if (st && st != A2I2A_ERR_CANCELLED) {
      char pre[96];
      snprintf(pre, sizeof pre, "reading %s", defs[i]->name);
      fail_prefix(pre);
    }
  }
  image_free(&img);
  png_meta_free(&meta);
  for (int i = 0; st && i < n; i++) audio_free(&sounds[i]);
  return st;
}

static a2i2a_status i2a_file(const char *image_path, const char *readings, const char *out,
                             const a2i2a_i2a_params *params, int force, a2i2a_job *job) {
  const reading_def *defs[MAX_READINGS];
  int n;
  a2i2a_i2a_params p = params ? *params : a2i2a_i2a_default_params();
  a2i2a_status st = parse_readings(readings, &p, defs, &n);
  if (st) return st;
  if (!out || !*out) return fail(A2I2A_ERR_PARAM, "no output given (-o)");
  if ((st = params_check_i2a(&p))) return st; /* before any output is checked */
  int multi = n > 1 || (readings && strcmp(readings, "all") == 0);

  /* the output names, checked before any work */
  char (*paths)[4096] = calloc(n, sizeof *paths);
  if (!paths) return fail(A2I2A_ERR_NOMEM, "out of memory");
  int made_dir = 0;
  struct stat sb;
  if (multi) {
    int exists = stat(out, &sb) == 0;
    if (!exists && audio_format_of(out) >= AUDIO_UNWRITTEN) {
      free(paths);
      return fail(A2I2A_ERR_PARAM, "%s: several readings go into a folder, one NAME.wav each: name a folder, not a sound "
                  "file", out);
    }
    if (exists && !S_ISDIR(sb.st_mode)) {
      free(paths);
      return fail(A2I2A_ERR_IO, "%s: exists and is not a folder (several readings write NAME.wav into a folder)", out);
    }
    for (int i = 0; i < n; i++) {
      if (snprintf(paths[i], sizeof paths[i], "%s/%s.wav", out, defs[i]->name) >= (int)sizeof paths[i]) {
        free(paths);
        return fail(A2I2A_ERR_PARAM, "%.60s...: output path too long", out);
      }
      if (!force && stat(paths[i], &sb) == 0) {
        st = fail(A2I2A_ERR_EXISTS, "%s: already exists (use --force to overwrite)", paths[i]);
        free(paths);
        return st;
      }
    }
  } else {
    snprintf(paths[0], sizeof paths[0], "%s", out);
    if ((st = audio_format_check(out, p.bits)) || (st = outfile_check(paths[0], force))) return free(paths), st;
  }

  audio_buf *sounds = calloc(n, sizeof *sounds);
  if (!sounds) st = fail(A2I2A_ERR_NOMEM, "out of memory");
  else st = i2a_sounds(image_path, NULL, 0, image_path, defs, n, &p, job, sounds);

  /* everything computed: every file is written beside its final name, then all are renamed
   * in together; a failure anywhere leaves the folder as it was (replaced files restored) */
  outfile *pending = st ? NULL : calloc(n, sizeof *pending);
  if (!st && !pending) st = fail(A2I2A_ERR_NOMEM, "out of memory");
  if (!st && multi) {
    if (stat(out, &sb) != 0) {
      if ((st = make_output_dir(out)) == A2I2A_OK) made_dir = 1;
    }
  }
  int ready = 0;
  /* the last moment a cancel keeps the files from being written */
  if (!st) st = job_check(job);
  for (int i = 0; i < n && !st; i++)
    if ((st = audio_write_pending(&pending[i], paths[i], &sounds[i], p.bits, p.seed, force)) == A2I2A_OK) ready++;
  if (!st) st = outfile_commit_all(pending, n);
  else
    for (int i = 0; i < ready; i++) outfile_abort(&pending[i]);
  free(pending);
  if (st && made_dir) rmdir(out);
  for (int i = 0; sounds && i < n; i++) audio_free(&sounds[i]);
  free(sounds);
  free(paths);
  return st;
}

a2i2a_status a2i2a_i2a_file(const char *image_path, const char *readings, const char *out,
                            const a2i2a_i2a_params *params, int force, a2i2a_job *job) {
  job_begin(job);
  double t0 = now_seconds();
  a2i2a_status st = i2a_file(image_path, readings, out, params, force, job);
  if (!st) job_step(job, job ? job->total : 0);
  job_time(job, i2a, t0);
  return job_end(job, st);
}

a2i2a_status a2i2a_i2a_memory(const void *image, size_t size, const char *name, const char *reading,
                              const a2i2a_i2a_params *params, a2i2a_sound *out, a2i2a_job *job) {
  if (!out) return fail(A2I2A_ERR_PARAM, "nowhere to put the sound (out is NULL)");
  memset(out, 0, sizeof *out);
  if (!name) name = "image in memory";
  const reading_def *defs[MAX_READINGS];
  int n;
  a2i2a_i2a_params p = params ? *params : a2i2a_i2a_default_params();
  a2i2a_status st = parse_readings(reading, &p, defs, &n);
  if (st) return st;
  if (n != 1) return fail(A2I2A_ERR_PARAM, "%s: one reading into memory, not %d ('%s')", name, n, reading);
  job_begin(job);
  double t0 = now_seconds();
  audio_buf sound = {0};
  st = i2a_sounds(NULL, image, size, name, defs, 1, &p, job, &sound);
  /* the file's float samples: frame by frame, channels interleaved */
  size_t count = (size_t)sound.frames * (size_t)sound.channels;
  if (!st && !(out->samples = xmalloc((count ? count : 1) * sizeof(float), "the sound"))) st = A2I2A_ERR_NOMEM;
  if (!st) {
    for (int64_t i = 0; i < sound.frames; i++)
      for (int c = 0; c < sound.channels; c++)
        out->samples[(size_t)i * sound.channels + c] = sound.x[(size_t)c * sound.frames + i];
    out->frames = sound.frames;
    out->channels = sound.channels;
    out->rate = sound.rate;
    job_step(job, job ? job->total : 0);
  }
  audio_free(&sound);
  job_time(job, i2a, t0);
  return job_end(job, st);
}
