/* The chain's parameters: one row per field of a2i2a_run_params (params.h). Adding a field to
 * a2i2a_run_params: a row here; run.json, the checks, the presets' JSON and the CLI follow. */
#include "chain/params.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "a2i/styles.h"
#include "chain/chain.h"
#include "common/err.h"
#include "image/image.h"
#include "readings/readings.h"
#include "sd/pipeline.h"

enum { PARAM_JSON_SIZE = 1024 };

/* A row's key, help line and field; its JSON is made once, by params_init. */
#define FIELD(key, member, help)                                                                              \
  .entry = {key, help, REGISTRY_JSON_SLOT(PARAM_JSON_SIZE)}, .offset = offsetof(a2i2a_run_params, member), \
  .size = sizeof(((a2i2a_run_params *)0)->member)

static const struct {
  a2i2a_entry entry;
} travels[] = {
    {{"path", "from the first endpoint to the second: alpha k/(n - 1)", "{}"}},
    {{"loop", "there and back: alpha 1 - |1 - 2k/n|, the last clip crossfading into the first", "{}"}},
};
static const registry_table travel_registry = REGISTRY_TABLE(NULL, "travel", travels, NULL);

/* In run.json's order. The ranges are those the CLI has always enforced. */
static const param_def params[] = {
    {FIELD("preset", preset, "the preset the values started from"), .stage = "run", .type = PARAM_CHOICE,
     .choices = &chain_preset_registry, .flags = PARAM_PRESET | PARAM_NULLABLE, .unset = "none"},

    {FIELD("a2i.style", a2i.style, "spectrogram style"), .stage = "a2i", .type = PARAM_CHOICE,
     .choices = &a2i_style_registry, .flags = PARAM_PRESET | PARAM_NULLABLE, .unset = "seed"},
    {FIELD("a2i.width", a2i.width, "spectrogram width in pixels"), .stage = "a2i", .type = PARAM_INT, .min = 1,
     .max = IMAGE_MAX_SIDE, .flags = PARAM_ZERO, .unset = "the style's: seed 400, the others 100 per second"},
    {FIELD("a2i.height", a2i.height, "spectrogram height in pixels"), .stage = "a2i", .type = PARAM_INT, .min = 1,
     .max = IMAGE_MAX_SIDE, .flags = PARAM_ZERO, .unset = "the style's: seed 300, the others 512"},
    {FIELD("a2i.stereo", a2i.stereo, "keep left and right apart (riffusion, fullband)"), .stage = "a2i",
     .type = PARAM_FLAG},
    {FIELD("a2i.db_range", a2i.db_range, "fullband: dynamic range shown, in dB"), .stage = "a2i",
     .type = PARAM_NUMBER, .min = A2I_DB_RANGE_MIN, .max = A2I_DB_RANGE_MAX, .flags = PARAM_ZERO,
     .unset = "the style's"},
    {FIELD("a2i.fmin", a2i.fmin, "fullband: lowest frequency of the axis, in Hz"), .stage = "a2i",
     .type = PARAM_NUMBER, .min = 0, .max = 1e6, .flags = PARAM_ZERO, .unset = "the style's"},
    {FIELD("a2i.fmax", a2i.fmax, "fullband: highest frequency of the axis, in Hz"), .stage = "a2i",
     .type = PARAM_NUMBER, .min = 0, .max = 1e6, .flags = PARAM_ZERO, .unset = "the style's"},
    {FIELD("a2i.colormap", a2i.colormap, "fullband: colour map"), .stage = "a2i", .type = PARAM_CHOICE,
     .choices = &colormap_registry, .flags = PARAM_NULLABLE, .unset = "the style's"},
    {FIELD("a2i.max_seconds", a2i.max_seconds, "refuse longer inputs, in seconds"), .stage = "a2i",
     .type = PARAM_NUMBER, .min = 0.001, .max = 1e7, .flags = PARAM_ZERO, .unset = "the style's"},

    {FIELD("model.name", model, "a diffusers folder, a .safetensors file, or ORG/NAME in the Hugging Face cache"),
     .stage = "i2i", .type = PARAM_TEXT, .flags = PARAM_PRESET},

    {FIELD("i2i.prompt", i2i.prompt, "prompt"), .stage = "i2i", .type = PARAM_TEXT,
     .flags = PARAM_PRESET | PARAM_NULLABLE, .unset = "empty"},
    {FIELD("i2i.negative_prompt", i2i.negative_prompt, "negative prompt"), .stage = "i2i", .type = PARAM_TEXT,
     .flags = PARAM_PRESET | PARAM_NULLABLE, .unset = "empty"},
    {FIELD("i2i.strength", i2i.strength, "img2img strength: how much the painting may change"), .stage = "i2i",
     .type = PARAM_NUMBER, .min = 0, .max = 1, .flags = PARAM_PRESET},
    {FIELD("i2i.guidance", i2i.guidance, "classifier-free guidance scale; <= 1 skips the unconditional pass"),
     .stage = "i2i", .type = PARAM_NUMBER, .min = 0, .max = 100, .flags = PARAM_PRESET},
    {FIELD("i2i.steps", i2i.steps, "sampler steps before strength (steps x strength >= 1)"), .stage = "i2i",
     .type = PARAM_INT, .min = 1, .max = 1000, .flags = PARAM_PRESET},
    {FIELD("i2i.sampler", i2i.sampler, "sampler, built from the model's scheduler config as diffusers builds it"),
     .stage = "i2i", .type = PARAM_CHOICE, .choices = &sched_sampler_registry,
     .flags = PARAM_PRESET | PARAM_NULLABLE, .unset = "pndm"},
    {FIELD("i2i.spacing", i2i.spacing, "timestep spacing"), .stage = "i2i", .type = PARAM_CHOICE,
     .choices = &sched_spacing_registry, .flags = PARAM_NULLABLE, .unset = "the sampler's diffusers default"},
    {FIELD("i2i.seed", i2i.seed, "seed of the painting's noise"), .stage = "i2i", .type = PARAM_SEED,
     .flags = PARAM_PRESET},
    {FIELD("i2i.clip_skip", i2i.clip_skip, "use the text encoder's N-th layer from the end"), .stage = "i2i",
     .type = PARAM_INT, .min = 0, .max = 12, .unset = "the last"},
    {FIELD("i2i.prediction", i2i.prediction, "what the model predicts"), .stage = "i2i", .type = PARAM_CHOICE,
     .choices = &sched_prediction_registry, .flags = PARAM_NULLABLE | PARAM_NEWER,
     .unset = "the model's scheduler config; a single SD 2.x file: v"},
    {FIELD("i2i.width", i2i.width, "working width, rounded down to a multiple of 8"), .stage = "i2i",
     .type = PARAM_INT, .min = 8, .max = I2I_MAX_SIDE, .flags = PARAM_ZERO,
     .unset = "the image's; one side alone keeps the aspect ratio"},
    {FIELD("i2i.height", i2i.height, "working height, rounded down to a multiple of 8"), .stage = "i2i",
     .type = PARAM_INT, .min = 8, .max = I2I_MAX_SIDE, .flags = PARAM_ZERO,
     .unset = "the image's; one side alone keeps the aspect ratio"},
    {FIELD("i2i.tile", i2i.tile, "circular padding: the painting wraps around along x, y or xy"), .stage = "i2i",
     .type = PARAM_CHOICE, .choices = &sd_tile_registry, .flags = PARAM_NULLABLE | PARAM_NEWER, .unset = "none"},
    {FIELD("i2i.alpha", i2i.alpha, "travel: how far from this run toward the --to- settings (0..1)"),
     .stage = "i2i", .type = PARAM_NUMBER, .min = 0, .max = 1, .flags = PARAM_NEWER},
    {FIELD("i2i.to_seed", i2i.to_seed, "travel: the other endpoint's seed"), .stage = "i2i", .type = PARAM_SEED,
     .flags = PARAM_NEWER},
    {FIELD("i2i.to_prompt", i2i.to_prompt, "travel: the other endpoint's prompt"), .stage = "i2i",
     .type = PARAM_TEXT, .flags = PARAM_NULLABLE | PARAM_NEWER, .unset = "the prompt"},
    {FIELD("i2i.to_negative_prompt", i2i.to_negative_prompt, "travel: the other endpoint's negative prompt"),
     .stage = "i2i", .type = PARAM_TEXT, .flags = PARAM_NULLABLE | PARAM_NEWER, .unset = "the negative prompt"},
    {FIELD("i2i.to_strength", i2i.to_strength, "travel: the other endpoint's strength"), .stage = "i2i",
     .type = PARAM_NUMBER, .min = 0, .max = 1, .flags = PARAM_ZERO | PARAM_NEWER, .unset = "the strength"},
    {FIELD("i2i.to_guidance", i2i.to_guidance, "travel: the other endpoint's guidance"), .stage = "i2i",
     .type = PARAM_NUMBER, .min = 0, .max = 100, .flags = PARAM_ZERO | PARAM_NEWER, .unset = "the guidance"},
    {FIELD("i2i.taesd", i2i.taesd,
           "TAESD in place of the VAE (folder, .safetensors or ORG/NAME): fast drafts, per-step previews"),
     .stage = "i2i", .type = PARAM_TEXT, .flags = PARAM_PRESET | PARAM_NULLABLE | PARAM_NEWER,
     .unset = "the model's VAE"},
    {FIELD("i2i.low_memory", i2i.low_memory,
           "a smaller memory peak, a little slower: UNet weights read block by block, the VAE in blended tiles "
           "(which change a picture larger than 320 pixels slightly)"),
     .stage = "i2i", .type = PARAM_FLAG, .flags = PARAM_NEWER},

    {FIELD("i2a.readings", readings, "comma-separated readings"), .stage = "i2a", .type = PARAM_CHOICE,
     .choices = &reading_registry, .flags = PARAM_PRESET | PARAM_LIST},
    {FIELD("i2a.seed", i2a.seed, "seed of every random choice of the readings"), .stage = "i2a",
     .type = PARAM_SEED, .flags = PARAM_PRESET},
    {FIELD("i2a.gl_iters", i2a.gl_iters, "Griffin-Lim iterations"), .stage = "i2a", .type = PARAM_INT, .min = 1,
     .max = 10000, .flags = PARAM_ZERO, .unset = "the reading's, 32"},
    {FIELD("i2a.bits", i2a.bits, "sample format: 32 = float, 16 or 24 = TPDF-dithered PCM"), .stage = "i2a",
     .type = PARAM_INT, .min = 16, .max = 32, .step = 8, .flags = PARAM_ZERO, .unset = "32"},
    {FIELD("i2a.seconds", i2a.seconds, "duration of the readings that choose it, in seconds"), .stage = "i2a",
     .type = PARAM_NUMBER, .min = 0.001, .max = 3600, .flags = PARAM_ZERO | PARAM_NEWER, .unset = "the reading's"},
    {FIELD("i2a.sample_rate", i2a.sample_rate, "sample rate of the readings that choose it, in Hz"),
     .stage = "i2a", .type = PARAM_NUMBER, .min = 1000, .max = 384000, .flags = PARAM_ZERO | PARAM_NEWER,
     .unset = "the reading's"},
    {FIELD("i2a.fmin", i2a.fmin, "lowest frequency of the readings that choose it, in Hz"), .stage = "i2a",
     .type = PARAM_NUMBER, .min = 1, .max = 192000, .flags = PARAM_ZERO | PARAM_NEWER, .unset = "the reading's"},
    {FIELD("i2a.fmax", i2a.fmax, "highest frequency of the readings that choose it, in Hz"), .stage = "i2a",
     .type = PARAM_NUMBER, .min = 1, .max = 192000, .flags = PARAM_ZERO | PARAM_NEWER, .unset = "the reading's"},
    {FIELD("i2a.vocoder", i2a.vocoder, "the vocoder reading's vocoder: a Vocos or HiFi-GAN folder, or ORG/NAME"),
     .stage = "i2a", .type = PARAM_TEXT, .flags = PARAM_NULLABLE | PARAM_NEWER,
     .unset = "none: 'all' leaves the vocoder reading out"},
    {FIELD("i2a.output_rate", i2a.output_rate, "resample every reading to this rate, in Hz (soxr)"),
     .stage = "i2a", .type = PARAM_NUMBER, .min = 1000, .max = 384000, .flags = PARAM_ZERO | PARAM_NEWER,
     .unset = "each reading's own"},
    {FIELD("i2a.loudness", i2a.loudness, "bring every reading to this EBU R128 integrated loudness, in LUFS"),
     .stage = "i2a", .type = PARAM_NUMBER, .min = -70, .max = -1, .flags = PARAM_ZERO | PARAM_NEWER,
     .unset = "off: each reading's own level"},
    {FIELD("i2a.true_peak", i2a.true_peak, "with --loudness: the true-peak ceiling no reading exceeds, in dBTP"),
     .stage = "i2a", .type = PARAM_NUMBER, .min = -20, .max = -0.1, .flags = PARAM_ZERO | PARAM_NEWER,
     .unset = "-1"},

    /* at least 10 columns of the riffusion and fullband styles (100 per second) */
    {FIELD("clips.seconds", clip_seconds, "split the input into clips this long, crossfade-stitch the sounds"),
     .stage = "run", .type = PARAM_NUMBER, .min = CHAIN_MIN_CLIP_SECONDS, .max = 3600,
     .flags = PARAM_PRESET | PARAM_ZERO, .unset = "the whole input in one image"},
    {FIELD("clips.overlap_seconds", overlap_seconds, "overlap (and crossfade) between consecutive clips"),
     .stage = "run", .type = PARAM_NUMBER, .min = 0, .max = 1800, .flags = PARAM_PRESET},
    {FIELD("sheet", sheet, "write sheet.png, a contact sheet of the run"), .stage = "run", .type = PARAM_FLAG},
    {FIELD("travel.mode", travel, "travel between the endpoints over the clips or frames: path or loop"),
     .stage = "run", .type = PARAM_CHOICE, .choices = &travel_registry, .flags = PARAM_NULLABLE | PARAM_NEWER,
     .unset = "none"},
    {FIELD("travel.frames", frames, "travel without clips: paint the whole input this many times"), .stage = "run",
     .type = PARAM_INT, .min = 2, .max = CHAIN_MAX_FRAMES, .flags = PARAM_ZERO | PARAM_NEWER, .unset = "over the clips"},
};

static void params_init(void);
const registry_table param_registry = REGISTRY_TABLE("params", "parameter", params, params_init);

int param_count(void) { return param_registry.count; }

const param_def *param_at(int i) { return i >= 0 && i < param_count() ? &params[i] : NULL; }

const param_def *param_find(const char *key) { return param_at(registry_index(&param_registry, key)); }

void *param_field(const param_def *d, a2i2a_run_params *p) { return (char *)p + d->offset; }

const void *param_cfield(const param_def *d, const a2i2a_run_params *p) { return (const char *)p + d->offset; }

/* ---------------------------------------------------------------- values and ranges */

static int in_range(const param_def *d, double v) {
  if ((d->flags & PARAM_ZERO) && v == 0) return 1;
  if (!(v >= d->min && v <= d->max)) return 0;
  return !d->step || fmod(v - d->min, d->step) == 0;
}

void param_expect(const param_def *d, char *buf, size_t size) {
  size_t n = 0;
  switch (d->type) {
  case PARAM_INT:
    if (d->step) {
      for (double v = d->min; v <= d->max && n < size; v += d->step)
        n += (size_t)snprintf(buf + n, size - n, "%s%g", v == d->min ? "" : v + d->step > d->max ? " or " : ", ", v);
    } else {
      n = (size_t)snprintf(buf, size, "a whole number in [%.10g, %.10g]", d->min, d->max);
    }
    break;
  case PARAM_NUMBER: n = (size_t)snprintf(buf, size, "a number in [%.10g, %.10g]", d->min, d->max); break;
  case PARAM_SEED: n = (size_t)snprintf(buf, size, "a whole number >= 0"); break;
  case PARAM_FLAG: n = (size_t)snprintf(buf, size, "true or false"); break;
  default: n = (size_t)snprintf(buf, size, "a text"); break;
  }
  if ((d->flags & PARAM_ZERO) && n < size) snprintf(buf + n, size - n, " (or 0)");
}

void param_format(const param_def *d, const a2i2a_run_params *p, char *buf, size_t size) {
  const void *f = param_cfield(d, p);
  switch (d->type) {
  case PARAM_INT: snprintf(buf, size, "%d", *(const int *)f); break;
  case PARAM_NUMBER: snprintf(buf, size, "%g", *(const double *)f); break;
  case PARAM_SEED: snprintf(buf, size, "%llu", (unsigned long long)*(const uint64_t *)f); break;
  case PARAM_FLAG: snprintf(buf, size, "%s", *(const int *)f ? "on" : "off"); break;
  default: snprintf(buf, size, "%s", *(const char *const *)f ? *(const char *const *)f : ""); break;
  }
}

static a2i2a_status check_choice(const param_def *d, const char *s) {
  if (d->flags & PARAM_LIST) {
    int idx[64], n;
    return registry_parse_list(d->choices, s, idx, 64, &n);
  }
  return registry_index(d->choices, s) < 0 ? registry_unknown(d->choices, s) : A2I2A_OK;
}

a2i2a_status param_parse(const param_def *d, const char *text, a2i2a_run_params *p) {
  void *f = param_field(d, p);
  char expect[128], *end;
  errno = 0;
  switch (d->type) {
  case PARAM_INT: {
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || !in_range(d, (double)v)) break;
    *(int *)f = (int)v;
    return A2I2A_OK;
  }
  case PARAM_NUMBER: {
    double v = strtod(text, &end);
    if (errno || end == text || *end || !isfinite(v) || !in_range(d, v)) break;
    *(double *)f = v;
    return A2I2A_OK;
  }
  case PARAM_SEED: {
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *end || !isdigit((unsigned char)text[0])) break;
    *(uint64_t *)f = v;
    return A2I2A_OK;
  }
  case PARAM_FLAG:
    if (strcmp(text, "true") && strcmp(text, "false") && strcmp(text, "1") && strcmp(text, "0")) break;
    *(int *)f = !strcmp(text, "true") || !strcmp(text, "1");
    return A2I2A_OK;
  case PARAM_CHOICE: {
    a2i2a_status st = check_choice(d, text);
    if (st) return st;
    /* a single choice points to the table's own name, which lives as long as the program */
    *(const char **)f = d->flags & PARAM_LIST ? text : registry_entry(d->choices, registry_index(d->choices, text))->name;
    return A2I2A_OK;
  }
  case PARAM_TEXT: *(const char **)f = text; return A2I2A_OK;
  }
  param_expect(d, expect, sizeof expect);
  return fail(A2I2A_ERR_PARAM, "'%s' is not %s", text, expect);
}

a2i2a_status param_check(const param_def *d, const a2i2a_run_params *p) {
  const void *f = param_cfield(d, p);
  char value[64], expect[128];
  if (d->type == PARAM_TEXT || d->type == PARAM_CHOICE) {
    const char *s = *(const char *const *)f;
    if (!s) return d->flags & PARAM_NULLABLE ? A2I2A_OK : fail(A2I2A_ERR_PARAM, "%s: missing", d->entry.name);
    a2i2a_status st = d->type == PARAM_CHOICE ? check_choice(d, s) : A2I2A_OK;
    if (st) fail_prefix(d->entry.name);
    return st;
  }
  double v = d->type == PARAM_INT ? *(const int *)f : d->type == PARAM_NUMBER ? *(const double *)f : 0;
  if ((d->type == PARAM_INT || d->type == PARAM_NUMBER) && !(isfinite(v) && in_range(d, v))) {
    param_format(d, p, value, sizeof value);
    param_expect(d, expect, sizeof expect);
    return fail(A2I2A_ERR_PARAM, "%s: %s is not %s", d->entry.name, value, expect);
  }
  return A2I2A_OK;
}

/* The rows whose fields lie in [from, from + size) of a2i2a_run_params. */
static a2i2a_status check_fields(const a2i2a_run_params *p, size_t from, size_t size) {
  for (int i = 0; i < param_count(); i++) {
    if (params[i].offset < from || params[i].offset >= from + size) continue;
    a2i2a_status st = param_check(&params[i], p);
    if (st) return st;
  }
  return A2I2A_OK;
}

/* What ties the a2i fields together: only the stereo styles take stereo. */
static a2i2a_status check_a2i_together(const a2i2a_a2i_params *a) {
  if (a->stereo && !a2i_style_stereo(a->style))
    return fail(A2I2A_ERR_PARAM, "a2i.stereo: the %s style is mono (its picture has one channel)",
                a->style ? a->style : "seed");
  return A2I2A_OK;
}

/* The true-peak ceiling is part of loudness normalisation. */
static a2i2a_status check_i2a_together(const a2i2a_i2a_params *i) {
  if (i->true_peak && !i->loudness)
    return fail(A2I2A_ERR_PARAM, "i2a.true_peak: a ceiling for i2a.loudness, which is not set");
  return A2I2A_OK;
}

a2i2a_status params_check(const a2i2a_run_params *p) {
  a2i2a_status st = check_fields(p, 0, sizeof *p);
  if (!st) st = check_a2i_together(&p->a2i);
  if (!st) st = check_i2a_together(&p->i2a);
  if (st) return st;
  if (p->frames && !p->travel) return fail(A2I2A_ERR_PARAM, "travel.frames: frames travel (set travel.mode)");
  if (p->frames && p->clip_seconds > 0)
    return fail(A2I2A_ERR_PARAM, "travel.frames: travel goes over the clips or over frames, not both");
  if (p->travel && !p->frames && !(p->clip_seconds > 0))
    return fail(A2I2A_ERR_PARAM, "travel.mode: travel goes over clips (clips.seconds) or frames (travel.frames)");
  if (p->clip_seconds > 0 && p->overlap_seconds * 2 > p->clip_seconds)
    return fail(A2I2A_ERR_PARAM, "clips.overlap_seconds: %g s is more than half of clips.seconds (%g s)",
                p->overlap_seconds, p->clip_seconds);
  return A2I2A_OK;
}

a2i2a_status params_check_a2i(const a2i2a_a2i_params *a) {
  a2i2a_run_params p = {.a2i = *a};
  a2i2a_status st = check_fields(&p, offsetof(a2i2a_run_params, a2i), sizeof *a);
  return st ? st : check_a2i_together(a);
}

a2i2a_status params_check_i2i(const a2i2a_i2i_params *i) {
  a2i2a_run_params p = {.i2i = *i};
  return check_fields(&p, offsetof(a2i2a_run_params, i2i), sizeof *i);
}

a2i2a_status params_check_i2a(const a2i2a_i2a_params *i) {
  a2i2a_run_params p = {.i2a = *i};
  a2i2a_status st = check_fields(&p, offsetof(a2i2a_run_params, i2a), sizeof *i);
  return st ? st : check_i2a_together(i);
}

/* ---------------------------------------------------------------- JSON */

/* Seeds are 64-bit; JSON numbers are doubles, exact only up to 2^53. */
#define EXACT_INT 9007199254740992.0

cJSON *param_to_json(const param_def *d, const a2i2a_run_params *p) {
  const void *f = param_cfield(d, p);
  char b[40];
  switch (d->type) {
  case PARAM_INT: return cJSON_CreateNumber(*(const int *)f);
  case PARAM_NUMBER: {
    /* cJSON prints doubles with a tolerance (0.1 + 0.2 comes out as 0.3): print the shortest
     * decimal that reads back as exactly the same double */
    double v = *(const double *)f;
    for (int prec = 15; prec <= 17; prec++) {
      snprintf(b, sizeof b, "%.*g", prec, v);
      if (strtod(b, NULL) == v) break;
    }
    return cJSON_CreateRaw(b);
  }
  case PARAM_SEED: {
    uint64_t v = *(const uint64_t *)f;
    if (v <= (1ull << 53)) return cJSON_CreateNumber((double)v);
    snprintf(b, sizeof b, "%llu", (unsigned long long)v);
    return cJSON_CreateString(b);
  }
  case PARAM_FLAG: return cJSON_CreateBool(*(const int *)f != 0);
  default: {
    const char *s = *(const char *const *)f;
    return s ? cJSON_CreateString(s) : cJSON_CreateNull();
  }
  }
}

a2i2a_status param_from_json(const param_def *d, const cJSON *v, a2i2a_run_params *p) {
  void *f = param_field(d, p);
  const char *what = "a number";
  switch (d->type) {
  case PARAM_INT:
    what = "a whole number";
    if (cJSON_IsNumber(v) && fabs(v->valuedouble) < 2147483648.0 && v->valuedouble == (double)(int)v->valuedouble) {
      *(int *)f = (int)v->valuedouble;
      return A2I2A_OK;
    }
    break;
  case PARAM_NUMBER:
    if (cJSON_IsNumber(v)) {
      *(double *)f = v->valuedouble;
      return A2I2A_OK;
    }
    break;
  case PARAM_SEED:
    what = "a whole number >= 0";
    if (cJSON_IsString(v)) {
      char *end;
      errno = 0;
      unsigned long long u = strtoull(v->valuestring, &end, 10);
      if (!errno && end != v->valuestring && !*end && v->valuestring[0] != '-') {
        *(uint64_t *)f = u;
        return A2I2A_OK;
      }
    } else if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= EXACT_INT &&
               v->valuedouble == (double)(uint64_t)v->valuedouble) {
      *(uint64_t *)f = (uint64_t)v->valuedouble;
      return A2I2A_OK;
    }
    break;
  case PARAM_FLAG:
    what = "true or false";
    if (cJSON_IsBool(v)) {
      *(int *)f = cJSON_IsTrue(v);
      return A2I2A_OK;
    }
    break;
  default:
    what = d->flags & PARAM_NULLABLE ? "a string or null" : "a string";
    if (cJSON_IsString(v) || ((d->flags & PARAM_NULLABLE) && cJSON_IsNull(v))) {
      *(const char **)f = cJSON_IsString(v) ? v->valuestring : NULL;
      return A2I2A_OK;
    }
    break;
  }
  return fail(A2I2A_ERR_FORMAT, "'%s' must be %s", d->entry.name, what);
}

/* ---------------------------------------------------------------- the rows' JSON */

static const char *const type_names[] = {"int", "number", "text", "choice", "flag", "seed"};

/* {"stage", "type", "default" (the default preset's value), "preset" (whether presets set it),
 * and by type: "min", "max", "step", "zero" (0 allowed: the stage's default); "choices" (the
 * list's name, null for a list that is not public), "values", "multiple"; "nullable"; "unset"
 * (what 0 or null means)} */
static void make_json(void) {
  a2i2a_run_params dflt;
  a2i2a_run_preset(NULL, &dflt);
  for (int i = 0; i < param_count(); i++) {
    const param_def *d = &params[i];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "stage", d->stage);
    cJSON_AddStringToObject(o, "type", type_names[d->type]);
    cJSON_AddItemToObject(o, "default", param_to_json(d, &dflt));
    cJSON_AddBoolToObject(o, "preset", (d->flags & PARAM_PRESET) != 0);
    if (d->type == PARAM_INT || d->type == PARAM_NUMBER) {
      cJSON_AddNumberToObject(o, "min", d->min);
      cJSON_AddNumberToObject(o, "max", d->max);
      if (d->step) cJSON_AddNumberToObject(o, "step", d->step);
      cJSON_AddBoolToObject(o, "zero", (d->flags & PARAM_ZERO) != 0);
    }
    if (d->type == PARAM_CHOICE) {
      if (d->choices->name) cJSON_AddStringToObject(o, "choices", d->choices->name);
      else cJSON_AddNullToObject(o, "choices");
      cJSON *values = cJSON_AddArrayToObject(o, "values");
      for (int k = 0; k < d->choices->count; k++)
        cJSON_AddItemToArray(values, cJSON_CreateString(registry_entry(d->choices, k)->name));
      cJSON_AddBoolToObject(o, "multiple", (d->flags & PARAM_LIST) != 0);
    }
    if (d->type == PARAM_TEXT || d->type == PARAM_CHOICE)
      cJSON_AddBoolToObject(o, "nullable", (d->flags & PARAM_NULLABLE) != 0);
    if (d->unset) cJSON_AddStringToObject(o, "unset", d->unset);
    char *text = cJSON_PrintUnformatted(o);
    /* a row that does not fit leaves a truncated text: the registry's test parses every row */
    snprintf((char *)d->entry.json, PARAM_JSON_SIZE, "%s", text ? text : "{}");
    cJSON_free(text);
    cJSON_Delete(o);
  }
}

static void params_init(void) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, make_json);
}
