/* The parameters of a run in the API: run.json's keys with their sections joined by dots
 * ("i2i.strength"), over a preset's values. The table binds each key to its field of
 * a2i2a_run_params; what a field may hold (its choices, default and range, its description)
 * comes from the library's registries, so the page's forms hold no copy of them. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/chain.h"
#include "studio/studio.h"

typedef enum { T_TEXT, T_INT, T_NUMBER, T_FLAG, T_SEED, T_CHOICE, T_LIST } field_type;

static const char *const type_names[] = {"text", "int", "number", "flag", "seed", "choice", "list"};

typedef struct {
  const char *key; /* run.json's key, sections joined with '.' */
  const char *cli; /* the option of `a2i2a run` that sets it, to find it in the registry */
  field_type type;
  int list;        /* the registry of its choices (a2i2a_list), -1 for none */
  size_t offset;   /* in a2i2a_run_params */
  int nullable;    /* a text that may be null: the stage chooses */
} field;

#define F(key, cli, type, list, member, nullable) {key, cli, type, list, offsetof(a2i2a_run_params, member), nullable}
static const field fields[] = {
    F("model", "model", T_TEXT, -1, model, 0),
    F("a2i.style", "style", T_CHOICE, A2I2A_LIST_STYLES, a2i.style, 0),
    F("a2i.width", "spec-width", T_INT, -1, a2i.width, 0),
    F("a2i.height", "spec-height", T_INT, -1, a2i.height, 0),
    F("a2i.stereo", "stereo", T_FLAG, -1, a2i.stereo, 0),
    F("a2i.db_range", "db-range", T_NUMBER, -1, a2i.db_range, 0),
    F("a2i.fmin", "fmin", T_NUMBER, -1, a2i.fmin, 0),
    F("a2i.fmax", "fmax", T_NUMBER, -1, a2i.fmax, 0),
    F("a2i.colormap", "colormap", T_CHOICE, A2I2A_LIST_COLORMAPS, a2i.colormap, 1),
    F("a2i.max_seconds", "max-seconds", T_NUMBER, -1, a2i.max_seconds, 0),
    F("i2i.prompt", "prompt", T_TEXT, -1, i2i.prompt, 0),
    F("i2i.negative_prompt", "negative", T_TEXT, -1, i2i.negative_prompt, 1),
    F("i2i.strength", "strength", T_NUMBER, -1, i2i.strength, 0),
    F("i2i.guidance", "guidance", T_NUMBER, -1, i2i.guidance, 0),
    F("i2i.steps", "steps", T_INT, -1, i2i.steps, 0),
    F("i2i.sampler", "sampler", T_CHOICE, A2I2A_LIST_SAMPLERS, i2i.sampler, 0),
    F("i2i.spacing", "spacing", T_CHOICE, A2I2A_LIST_SPACINGS, i2i.spacing, 1),
    F("i2i.seed", "seed", T_SEED, -1, i2i.seed, 0),
    F("i2i.clip_skip", "clip-skip", T_INT, -1, i2i.clip_skip, 0),
    F("i2i.prediction", "prediction", T_TEXT, -1, i2i.prediction, 1),
    F("i2i.width", "width", T_INT, -1, i2i.width, 0),
    F("i2i.height", "height", T_INT, -1, i2i.height, 0),
    F("i2a.readings", "readings", T_LIST, A2I2A_LIST_READINGS, readings, 0),
    F("i2a.seed", NULL, T_SEED, -1, i2a.seed, 0),
    F("i2a.gl_iters", "gl-iters", T_INT, -1, i2a.gl_iters, 0),
    F("i2a.bits", "bits", T_INT, -1, i2a.bits, 0),
    F("i2a.seconds", "seconds", T_NUMBER, -1, i2a.seconds, 0),
    F("i2a.sample_rate", "sample-rate", T_NUMBER, -1, i2a.sample_rate, 0),
    F("i2a.fmin", NULL, T_NUMBER, -1, i2a.fmin, 0),
    F("i2a.fmax", NULL, T_NUMBER, -1, i2a.fmax, 0),
    F("clips.seconds", "clip", T_NUMBER, -1, clip_seconds, 0),
    F("clips.overlap_seconds", "overlap", T_NUMBER, -1, overlap_seconds, 0),
    F("sheet", "sheet", T_FLAG, -1, sheet, 0),
};
#undef F
enum { NFIELDS = sizeof fields / sizeof *fields };

static const char *const list_names[] = {"styles",   "colormaps", "samplers", "spacings",
                                         "readings", "presets",   "prompts",  "params"};
enum { NLISTS = sizeof list_names / sizeof *list_names };

static void *at(const a2i2a_run_params *p, const field *f) { return (char *)p + f->offset; }

static const field *field_find(const char *key) {
  for (int i = 0; i < NFIELDS; i++)
    if (!strcmp(fields[i].key, key)) return &fields[i];
  return NULL;
}

/* ---------------------------------------------------------------- the registry's word on a field */

/* "db-range", "db_range" and "DB_RANGE" name the same thing */
static int same_name(const char *a, const char *b) {
  for (; *a && *b; a++, b++) {
    char x = *a == '-' ? '_' : (char)(*a | 0x20), y = *b == '-' ? '_' : (char)(*b | 0x20);
    if (x != y) return 0;
  }
  return !*a && !*b;
}

/* The stage names the registry may use for each section of run.json. */
static int same_stage(const char *section, size_t n, const char *stage) {
  static const char *const synonyms[][4] = {{"a2i", "spectrogram", "a2i", NULL},
                                            {"i2i", "painting", "i2i", NULL},
                                            {"i2a", "readings", "sounds", "i2a"},
                                            {"clips", "clips", "run", "chain"}};
  for (size_t i = 0; i < sizeof synonyms / sizeof *synonyms; i++) {
    if (strlen(synonyms[i][0]) != n || strncmp(synonyms[i][0], section, n)) continue;
    for (int k = 1; k < 4 && synonyms[i][k]; k++)
      if (same_name(synonyms[i][k], stage)) return 1;
  }
  return 0;
}

/* The A2I2A_LIST_PARAMS entry of a field (with its details parsed into *details), or NULL. */
static const a2i2a_entry *param_entry(const field *f, cJSON **details) {
  *details = NULL;
  const char *dot = strchr(f->key, '.');
  const a2i2a_entry *best = NULL;
  int best_score = 0;
  for (int i = 0; a2i2a_list_entry(A2I2A_LIST_PARAMS, i); i++) {
    const a2i2a_entry *e = a2i2a_list_entry(A2I2A_LIST_PARAMS, i);
    cJSON *j = cJSON_Parse(e->json ? e->json : "{}");
    cJSON *stage = cJSON_GetObjectItemCaseSensitive(j, "stage");
    int score = 0;
    if (same_name(e->name, f->key)) score = 3;
    else if (dot && same_name(e->name, dot + 1) && cJSON_IsString(stage) &&
             same_stage(f->key, (size_t)(dot - f->key), stage->valuestring))
      score = 2;
    else if (f->cli && same_name(e->name, f->cli)) score = 1;
    if (score > best_score) {
      cJSON_Delete(*details);
      *details = j, best = e, best_score = score;
    } else {
      cJSON_Delete(j);
    }
  }
  return best;
}

/* min and max of a field from the registry, NaN where it gives none */
static void param_range(const field *f, double *min, double *max) {
  cJSON *d;
  *min = *max = NAN;
  if (!param_entry(f, &d)) return;
  cJSON *lo = cJSON_GetObjectItemCaseSensitive(d, "min"), *hi = cJSON_GetObjectItemCaseSensitive(d, "max");
  if (cJSON_IsNumber(lo)) *min = lo->valuedouble;
  if (cJSON_IsNumber(hi)) *max = hi->valuedouble;
  cJSON_Delete(d);
}

/* ---------------------------------------------------------------- JSON -> parameters */

void studio_params_init(studio_params *sp) {
  memset(sp, 0, sizeof *sp);
  a2i2a_run_preset("seed", &sp->p);
}

void studio_params_free(studio_params *sp) {
  for (int i = 0; i < sp->nowned; i++) free(sp->owned[i]);
  sp->nowned = 0;
}

static const char *own(studio_params *sp, const char *s) {
  if ((size_t)sp->nowned >= sizeof sp->owned / sizeof *sp->owned) return NULL;
  char *c = strdup(s);
  if (c) sp->owned[sp->nowned++] = c;
  return c;
}

static int known_choice(int list, const char *name) {
  /* a registry the library does not fill (yet) leaves the check to the run */
  return a2i2a_list_count((a2i2a_list)list) == 0 || a2i2a_list_find((a2i2a_list)list, name) != NULL;
}

static int bad(char *err, size_t n, const char *fmt, const char *key, const char *what) {
  snprintf(err, n, fmt, key, what);
  return -1;
}

static int parse_seed(const cJSON *v, uint64_t *out) {
  if (cJSON_IsNumber(v)) {
    if (v->valuedouble < 0 || v->valuedouble > 9007199254740992.0 || v->valuedouble != floor(v->valuedouble)) return -1;
    *out = (uint64_t)v->valuedouble;
    return 0;
  }
  if (!cJSON_IsString(v) || !*v->valuestring || strlen(v->valuestring) > 20) return -1;
  for (const char *c = v->valuestring; *c; c++)
    if (*c < '0' || *c > '9') return -1;
  char *end;
  *out = strtoull(v->valuestring, &end, 10);
  return *end ? -1 : 0;
}

static int apply(studio_params *sp, const field *f, const cJSON *v, char *err, size_t n) {
  void *dst = at(&sp->p, f);
  double lo, hi;
  switch (f->type) {
  case T_TEXT:
  case T_CHOICE:
  case T_LIST: {
    if (cJSON_IsNull(v) && f->nullable) {
      *(const char **)dst = NULL;
      return 0;
    }
    if (!cJSON_IsString(v)) return bad(err, n, "'%s' must be %s", f->key, f->nullable ? "text or null" : "text");
    if (strlen(v->valuestring) > 4000) return bad(err, n, "'%s' is %s", f->key, "longer than 4000 characters");
    if (f->type == T_CHOICE && !known_choice(f->list, v->valuestring))
      return bad(err, n, "'%s': unknown choice '%s'", f->key, v->valuestring);
    if (f->type == T_LIST && strcmp(v->valuestring, "all")) {
      char buf[4096];
      snprintf(buf, sizeof buf, "%s", v->valuestring);
      for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (!known_choice(f->list, t)) return bad(err, n, "'%s': unknown choice '%s'", f->key, t);
    }
    const char *c = own(sp, v->valuestring);
    if (!c) return bad(err, n, "'%s': %s", f->key, "out of memory");
    *(const char **)dst = c;
    return 0;
  }
  case T_FLAG:
    if (!cJSON_IsBool(v)) return bad(err, n, "'%s' must be %s", f->key, "true or false");
    *(int *)dst = cJSON_IsTrue(v);
    return 0;
  case T_SEED:
    if (parse_seed(v, (uint64_t *)dst)) return bad(err, n, "'%s' must be %s", f->key, "a whole number from 0 to 2^64-1");
    return 0;
  case T_INT:
  case T_NUMBER:
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) return bad(err, n, "'%s' must be %s", f->key, "a number");
    param_range(f, &lo, &hi);
    if (v->valuedouble < lo || v->valuedouble > hi) {
      snprintf(err, n, "'%s' must be between %g and %g", f->key, lo, hi);
      return -1;
    }
    if (f->type == T_NUMBER) {
      *(double *)dst = v->valuedouble;
      return 0;
    }
    if (v->valuedouble != floor(v->valuedouble) || fabs(v->valuedouble) > 1e9)
      return bad(err, n, "'%s' must be %s", f->key, "a whole number");
    *(int *)dst = (int)v->valuedouble;
    return 0;
  }
  return -1;
}

int studio_params_from_json(const void *obj, studio_params *sp, char *err, size_t n) {
  const cJSON *o = obj;
  studio_params_free(sp);
  memset(sp, 0, sizeof *sp);
  if (o && !cJSON_IsObject(o)) return bad(err, n, "'%s' must be %s", "params", "an object");
  const cJSON *preset = cJSON_GetObjectItemCaseSensitive(o, "preset");
  if (preset && !cJSON_IsString(preset)) return bad(err, n, "'%s' must be %s", "preset", "text");
  if (a2i2a_run_preset(preset ? preset->valuestring : "seed", &sp->p))
    return bad(err, n, "'%s': unknown preset '%s'", "preset", preset->valuestring);
  int seed_given = 0, readings_seed_given = 0;
  for (const cJSON *v = o ? o->child : NULL; v; v = v->next) {
    if (!strcmp(v->string, "preset")) continue;
    const field *f = field_find(v->string);
    if (!f) return bad(err, n, "unknown setting '%s'%s", v->string, "");
    if (apply(sp, f, v, err, n)) return -1;
    seed_given |= !strcmp(f->key, "i2i.seed");
    readings_seed_given |= !strcmp(f->key, "i2a.seed");
  }
  /* one seed for the painting and the readings, as `a2i2a run --seed` */
  if (seed_given && !readings_seed_given) sp->p.i2a.seed = sp->p.i2i.seed;
  return 0;
}

/* ---------------------------------------------------------------- parameters -> JSON */

static void add_value(cJSON *o, const char *key, const a2i2a_run_params *p, const field *f) {
  const void *v = at(p, f);
  switch (f->type) {
  case T_TEXT:
  case T_CHOICE:
  case T_LIST:
    if (*(const char *const *)v) cJSON_AddStringToObject(o, key, *(const char *const *)v);
    else cJSON_AddNullToObject(o, key);
    break;
  case T_FLAG: cJSON_AddBoolToObject(o, key, *(const int *)v != 0); break;
  case T_INT: cJSON_AddNumberToObject(o, key, *(const int *)v); break;
  case T_NUMBER: cJSON_AddNumberToObject(o, key, *(const double *)v); break;
  case T_SEED: {
    /* exact beyond 2^53 as a string, as run.json writes it */
    uint64_t u = *(const uint64_t *)v;
    char b[32];
    snprintf(b, sizeof b, "%llu", (unsigned long long)u);
    if (u <= (1ull << 53)) cJSON_AddNumberToObject(o, key, (double)u);
    else cJSON_AddStringToObject(o, key, b);
    break;
  }
  }
}

void *studio_params_to_json(const a2i2a_run_params *p) {
  cJSON *o = cJSON_CreateObject();
  if (p->preset) cJSON_AddStringToObject(o, "preset", p->preset);
  for (int i = 0; i < NFIELDS; i++) add_value(o, fields[i].key, p, &fields[i]);
  return o;
}

/* run.json keeps the model's name in model.name and the readings under i2a */
static const cJSON *runjson_item(const cJSON *run, const char *key) {
  if (!strcmp(key, "model")) return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(run, "model"), "name");
  const char *dot = strchr(key, '.');
  if (!dot) return cJSON_GetObjectItemCaseSensitive(run, key);
  char section[16];
  snprintf(section, sizeof section, "%.*s", (int)(dot - key), key);
  return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(run, section), dot + 1);
}

void *studio_params_from_runjson(const void *run) {
  cJSON *o = cJSON_CreateObject();
  const cJSON *preset = cJSON_GetObjectItemCaseSensitive(run, "preset");
  if (cJSON_IsString(preset)) cJSON_AddStringToObject(o, "preset", preset->valuestring);
  for (int i = 0; i < NFIELDS; i++) {
    const cJSON *v = runjson_item(run, fields[i].key);
    if (v) cJSON_AddItemToObject(o, fields[i].key, cJSON_Duplicate(v, 1));
  }
  return o;
}

/* ---------------------------------------------------------------- the registries for the page */

static cJSON *list_json(a2i2a_list list) {
  cJSON *arr = cJSON_CreateArray();
  for (int i = 0; a2i2a_list_entry(list, i); i++) {
    const a2i2a_entry *e = a2i2a_list_entry(list, i);
    cJSON *it = cJSON_CreateObject();
    cJSON_AddStringToObject(it, "name", e->name);
    cJSON_AddStringToObject(it, "description", e->description ? e->description : "");
    cJSON *d = cJSON_Parse(e->json ? e->json : "{}");
    cJSON_AddItemToObject(it, "details", d ? d : cJSON_CreateObject());
    if (list == A2I2A_LIST_PRESETS) {
      a2i2a_run_params p;
      if (a2i2a_run_preset(e->name, &p) == A2I2A_OK) cJSON_AddItemToObject(it, "values", studio_params_to_json(&p));
    }
    cJSON_AddItemToArray(arr, it);
  }
  return arr;
}

static cJSON *params_json(void) {
  cJSON *arr = cJSON_CreateArray();
  for (int i = 0; i < NFIELDS; i++) {
    const field *f = &fields[i];
    cJSON *it = cJSON_CreateObject(), *d = NULL;
    const a2i2a_entry *e = param_entry(f, &d);
    cJSON_AddStringToObject(it, "key", f->key);
    cJSON_AddStringToObject(it, "type", type_names[f->type]);
    cJSON_AddBoolToObject(it, "nullable", f->nullable);
    cJSON_AddStringToObject(it, "description", e && e->description ? e->description : "");
    /* choices: the list of /api/registry the field is bound to, else the registry's own list */
    if (f->list >= 0) cJSON_AddStringToObject(it, "choices", list_names[f->list]);
    cJSON *choices = d ? cJSON_GetObjectItemCaseSensitive(d, "choices") : NULL;
    if (f->list < 0 && cJSON_IsArray(choices)) cJSON_AddItemToObject(it, "choices", cJSON_Duplicate(choices, 1));
    /* the registry's other details, where it has them: default, min, max, stage */
    for (cJSON *v = d ? d->child : NULL; v; v = v->next)
      if (strcmp(v->string, "type") && strcmp(v->string, "choices") && !cJSON_GetObjectItemCaseSensitive(it, v->string))
        cJSON_AddItemToObject(it, v->string, cJSON_Duplicate(v, 1));
    cJSON_Delete(d);
    cJSON_AddItemToArray(arr, it);
  }
  return arr;
}

int studio_model_allowed(const studio *s, const char *model, const char *extra) {
  if (!model) return 0;
  if (s->cfg.model && !strcmp(model, s->cfg.model)) return 1;
  if (extra && !strcmp(model, extra)) return 1;
  for (int i = 0; a2i2a_list_entry(A2I2A_LIST_PRESETS, i); i++) {
    a2i2a_run_params p;
    if (!a2i2a_run_preset(a2i2a_list_entry(A2I2A_LIST_PRESETS, i)->name, &p) && p.model && !strcmp(p.model, model))
      return 1;
  }
  return 0;
}

char *studio_registry_json(const studio *s) {
  cJSON *root = cJSON_CreateObject();
  cJSON *lists = cJSON_AddObjectToObject(root, "lists");
  for (int l = 0; l < NLISTS; l++)
    if (l != A2I2A_LIST_PARAMS) cJSON_AddItemToObject(lists, list_names[l], list_json((a2i2a_list)l));
  cJSON_AddItemToObject(root, "params", params_json());
  /* the models a job may name: the server's and the presets' */
  cJSON *models = cJSON_AddArrayToObject(root, "models");
  if (s->cfg.model) cJSON_AddItemToArray(models, cJSON_CreateString(s->cfg.model));
  for (int i = 0; a2i2a_list_entry(A2I2A_LIST_PRESETS, i); i++) {
    a2i2a_run_params p;
    if (a2i2a_run_preset(a2i2a_list_entry(A2I2A_LIST_PRESETS, i)->name, &p) || !p.model) continue;
    int seen = 0;
    for (cJSON *m = models->child; m; m = m->next) seen |= !strcmp(m->valuestring, p.model);
    if (!seen) cJSON_AddItemToArray(models, cJSON_CreateString(p.model));
  }
  if (s->cfg.model) cJSON_AddStringToObject(root, "model", s->cfg.model);
  else cJSON_AddNullToObject(root, "model");
  char *text = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  return text;
}
