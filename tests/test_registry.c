/* The registries (a2i2a_list_*): every list is non-empty with unique names, find and entry
 * agree, every entry's JSON parses and has the keys the header and the tables document, and
 * A2I2A_LIST_PARAMS covers every field of a2i2a_run_params. */
#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>

#include "chain/chain.h"
#include "chain/params.h"
#include "check.h"
#include "readings/readings.h"

static const char *const list_names[] = {"styles", "colormaps", "samplers", "spacings",
                                         "readings", "presets", "prompts", "params"};

/* The keys every entry of a list has (NULL-terminated). */
static const char *const *keys_of(a2i2a_list l) {
  static const char *const style[] = {"width", "height", "fixed_size", "max_seconds", "stereo", NULL};
  static const char *const colormap[] = {"perceptual", NULL};
  static const char *const sampler[] = {"class", "a1111", "karras_sigmas", NULL};
  static const char *const preset[] = {"prompt", NULL};
  static const char *const param[] = {"stage", "type", "default", "preset", NULL};
  static const char *const none[] = {NULL};
  switch (l) {
  case A2I2A_LIST_STYLES: return style;
  case A2I2A_LIST_COLORMAPS: return colormap;
  case A2I2A_LIST_SAMPLERS: return sampler;
  case A2I2A_LIST_PRESETS: return preset;
  case A2I2A_LIST_PARAMS: return param;
  default: return none;
  }
}

static void check_lists(void) {
  for (int l = A2I2A_LIST_STYLES; l <= A2I2A_LIST_PARAMS; l++) {
    int n = a2i2a_list_count(l);
    CHECK(n > 0, "list %s is empty", list_names[l]);
    CHECK(a2i2a_list_entry(l, n) == NULL && a2i2a_list_entry(l, -1) == NULL, "%s: entries past the end",
          list_names[l]);
    CHECK(a2i2a_list_find(l, "no such thing") == NULL && a2i2a_list_find(l, NULL) == NULL, "%s: find of nothing",
          list_names[l]);
    for (int i = 0; i < n; i++) {
      const a2i2a_entry *e = a2i2a_list_entry(l, i);
      CHECK(e && e->name && *e->name && e->description && *e->description && e->json, "%s[%d] incomplete",
            list_names[l], i);
      if (!e) continue;
      CHECK(a2i2a_list_find(l, e->name) == e, "%s: find(%s) is not entry %d", list_names[l], e->name, i);
      for (int k = 0; k < i; k++) CHECK(strcmp(a2i2a_list_entry(l, k)->name, e->name), "%s: %s twice", list_names[l], e->name);
      cJSON *j = cJSON_Parse(e->json);
      CHECK(cJSON_IsObject(j), "%s %s: json does not parse: %s", list_names[l], e->name, e->json);
      for (const char *const *key = keys_of(l); *key; key++)
        CHECK(cJSON_GetObjectItemCaseSensitive(j, *key), "%s %s: json lacks \"%s\": %s", list_names[l], e->name, *key,
              e->json);
      cJSON_Delete(j);
    }
  }
}

/* The readings' JSON names exactly the settings each takes, with the defaults it uses. */
static void check_readings(void) {
  static const char *const keys[] = {"seconds", "sample_rate", "fmin", "fmax"};
  for (int i = 0; i < reading_count(); i++) {
    const reading_def *d = reading_at(i);
    const double v[] = {d->seconds, d->sample_rate, d->fmin, d->fmax};
    cJSON *j = cJSON_Parse(d->entry.json);
    for (int k = 0; k < 4; k++) {
      const cJSON *item = cJSON_GetObjectItemCaseSensitive(j, keys[k]);
      CHECK(v[k] > 0 ? cJSON_IsNumber(item) && item->valuedouble == v[k] : item == NULL, "reading %s: %s", d->entry.name,
            keys[k]);
    }
    cJSON_Delete(j);
  }
  const reading_def *sines = reading_find("sines");
  CHECK(sines && sines->seconds == 10 && sines->fmin == 55 && sines->fmax == 14080, "sines defaults");
  CHECK(reading_find("red")->seconds == 0 && reading_find("bend")->sample_rate == 44100, "red takes nothing, bend a rate");
}

/* Every field of a2i2a_run_params, by hand: the table must have each, in order, and nothing else. */
#define F(m) {#m, offsetof(a2i2a_run_params, m), sizeof(((a2i2a_run_params *)0)->m)}
static const struct {
  const char *member;
  size_t offset, size;
} fields[] = {
    F(preset),       F(a2i.style),       F(a2i.width),      F(a2i.height),      F(a2i.stereo),   F(a2i.db_range),
    F(a2i.fmin),     F(a2i.fmax),        F(a2i.colormap),   F(a2i.max_seconds), F(model),        F(i2i.prompt),
    F(i2i.negative_prompt), F(i2i.strength), F(i2i.guidance), F(i2i.steps),     F(i2i.sampler),  F(i2i.spacing),
    F(i2i.seed),     F(i2i.clip_skip),   F(i2i.prediction), F(i2i.width),       F(i2i.height),   F(i2i.tile),
    F(i2i.alpha),    F(i2i.to_seed),     F(i2i.to_prompt),  F(i2i.to_negative_prompt), F(i2i.to_strength),
    F(i2i.to_guidance), F(i2i.taesd),    F(i2i.low_memory), F(readings),
    F(i2a.seed),     F(i2a.gl_iters),    F(i2a.bits),       F(i2a.seconds),     F(i2a.sample_rate), F(i2a.fmin),
    F(i2a.fmax),     F(i2a.vocoder),     F(i2a.output_rate), F(i2a.loudness),   F(i2a.true_peak), F(clip_seconds),
    F(overlap_seconds), F(sheet),        F(travel),          F(frames),
};

static void check_params_cover_struct(void) {
  int n = (int)(sizeof fields / sizeof *fields);
  CHECK(param_count() == n, "%d parameters for %d fields", param_count(), n);
  for (int i = 0; i < n && i < param_count(); i++)
    CHECK(param_at(i)->offset == fields[i].offset && param_at(i)->size == fields[i].size, "row %d (%s) is not field %s",
          i, param_at(i)->entry.name, fields[i].member);
  /* the rows tile the struct: each field starts where the last ended, rounded up to its own
   * (natural) alignment, and the struct ends after the last */
  size_t end = 0;
  for (int i = 0; i < param_count(); i++) {
    const param_def *d = param_at(i);
    size_t at = (end + d->size - 1) / d->size * d->size;
    CHECK(d->offset == at, "%s at byte %zu, expected %zu: a field without a row?", d->entry.name, d->offset, at);
    end = d->offset + d->size;
    /* the C type matches the row's type */
    size_t want = d->type == PARAM_INT || d->type == PARAM_FLAG ? sizeof(int)
                  : d->type == PARAM_NUMBER                     ? sizeof(double)
                  : d->type == PARAM_SEED                       ? sizeof(uint64_t)
                                                                : sizeof(const char *);
    CHECK(d->size == want, "%s: a field of %zu bytes for its type", d->entry.name, d->size);
    CHECK(!strncmp(d->entry.name, d->stage, strlen(d->stage)) || !strcmp(d->stage, "run") ||
              !strcmp(d->entry.name, "model.name"),
          "%s: stage %s", d->entry.name, d->stage);
  }
  CHECK((end + 7) / 8 * 8 == sizeof(a2i2a_run_params), "the struct goes on after the last row (%zu of %zu bytes)", end,
        sizeof(a2i2a_run_params));
}

/* The PARAMS JSON: its default is the default preset's value, choices name their list. */
static void check_param_json(void) {
  a2i2a_run_params dflt;
  CHECK(a2i2a_run_preset(NULL, &dflt) == A2I2A_OK, "default preset");
  for (int i = 0; i < param_count(); i++) {
    const param_def *d = param_at(i);
    cJSON *j = cJSON_Parse(a2i2a_list_entry(A2I2A_LIST_PARAMS, i)->json);
    const cJSON *def = cJSON_GetObjectItemCaseSensitive(j, "default");
    a2i2a_run_params back = dflt;
    memset(param_field(d, &back), 0x5a, d->size);
    CHECK(def && param_from_json(d, def, &back) == A2I2A_OK, "%s: default does not read back", d->entry.name);
    CHECK(!memcmp(param_cfield(d, &back), param_cfield(d, &dflt), d->size) ||
              (d->type >= PARAM_TEXT && d->type <= PARAM_CHOICE && !strcmp(*(const char **)param_cfield(d, &back),
                                                                          *(const char **)param_cfield(d, &dflt))),
          "%s: default differs from the default preset's", d->entry.name);
    if (d->type == PARAM_CHOICE) {
      const cJSON *values = cJSON_GetObjectItemCaseSensitive(j, "values");
      CHECK(cJSON_GetArraySize(values) == d->choices->count, "%s: values", d->entry.name);
    }
    if (d->type == PARAM_INT || d->type == PARAM_NUMBER)
      CHECK(cJSON_GetObjectItemCaseSensitive(j, "min")->valuedouble == d->min &&
                cJSON_GetObjectItemCaseSensitive(j, "max")->valuedouble == d->max &&
                cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(j, "zero")),
            "%s: range", d->entry.name);
    if (d->type == PARAM_CHOICE)
      CHECK(cJSON_GetObjectItemCaseSensitive(j, "choices") &&
                cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(j, "multiple")),
            "%s: choices", d->entry.name);
    if (d->type == PARAM_CHOICE || d->type == PARAM_TEXT)
      CHECK(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(j, "nullable")), "%s: nullable", d->entry.name);
    /* every preset names its value of each parameter presets set */
    for (int k = 0; k < a2i2a_list_count(A2I2A_LIST_PRESETS); k++) {
      cJSON *pj = cJSON_Parse(a2i2a_list_entry(A2I2A_LIST_PRESETS, k)->json);
      CHECK(!cJSON_GetObjectItemCaseSensitive(pj, d->entry.name) == !(d->flags & PARAM_PRESET), "preset %s: %s",
            a2i2a_list_entry(A2I2A_LIST_PRESETS, k)->name, d->entry.name);
      cJSON_Delete(pj);
    }
    cJSON_Delete(j);
  }
  const a2i2a_entry *s = a2i2a_list_find(A2I2A_LIST_PARAMS, "i2i.sampler");
  CHECK(s && strstr(s->json, "\"choices\":\"samplers\"") && strstr(s->json, "\"default\":\"pndm\""), "sampler: %s",
        s ? s->json : "");
  const a2i2a_entry *seed = a2i2a_list_find(A2I2A_LIST_PRESETS, "seed");
  CHECK(seed && strstr(seed->json, "\"i2i.strength\":0.9") && strstr(seed->json, "\"prompt\":\"notebook\""),
        "seed preset: %s", seed ? seed->json : "");
  for (int i = 0; i < a2i2a_list_count(A2I2A_LIST_STYLES); i++) {
    cJSON *j = cJSON_Parse(a2i2a_list_entry(A2I2A_LIST_STYLES, i)->json);
    CHECK(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(j, "stereo")) &&
              cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(j, "fixed_size")),
          "style %s: flags are true/false", a2i2a_list_entry(A2I2A_LIST_STYLES, i)->name);
    cJSON_Delete(j);
  }
  const a2i2a_entry *fb = a2i2a_list_find(A2I2A_LIST_STYLES, "fullband");
  CHECK(fb && strstr(fb->json, "\"colormap\": \"ember\"") && strstr(fb->json, "\"db_range\": 80"), "fullband: %s",
        fb ? fb->json : "");
}

/* Checks and parsing by the table: one line naming the key or the value. */
static void check_validation(void) {
  a2i2a_run_params p;
  a2i2a_run_preset("seed", &p);
  CHECK(params_check(&p) == A2I2A_OK, "the seed preset passes: %s", a2i2a_last_error());
  a2i2a_run_params q = p;
  q.i2a.gl_iters = 1000000000;
  CHECK(params_check(&q) == A2I2A_ERR_PARAM && strstr(a2i2a_last_error(), "i2a.gl_iters") &&
            strstr(a2i2a_last_error(), "10000"),
        "gl_iters: %s", a2i2a_last_error());
  q = p, q.i2a.bits = 20;
  CHECK(params_check(&q) == A2I2A_ERR_PARAM && strstr(a2i2a_last_error(), "16, 24 or 32"), "bits: %s",
        a2i2a_last_error());
  q = p, q.i2i.sampler = "heun";
  CHECK(params_check(&q) == A2I2A_ERR_PARAM && strstr(a2i2a_last_error(), "i2i.sampler: unknown sampler 'heun'"),
        "sampler: %s", a2i2a_last_error());
  q = p, q.readings = "red,nosuch";
  CHECK(params_check(&q) == A2I2A_ERR_PARAM && strstr(a2i2a_last_error(), "nosuch"), "readings: %s",
        a2i2a_last_error());
  q = p, q.i2i.strength = NAN;
  CHECK(params_check(&q) == A2I2A_ERR_PARAM && strstr(a2i2a_last_error(), "i2i.strength"), "NaN strength");
  q = p, q.clip_seconds = 2, q.overlap_seconds = 1.5;
  CHECK(params_check(&q) == A2I2A_ERR_PARAM && strstr(a2i2a_last_error(), "overlap"), "overlap: %s",
        a2i2a_last_error());
  q = p, q.a2i.width = 0, q.i2a.bits = 0, q.i2a.seconds = 0;
  CHECK(params_check(&q) == A2I2A_OK, "0 = the stage's default");
  q = p, q.model = NULL;
  CHECK(params_check(&q) == A2I2A_ERR_PARAM && strstr(a2i2a_last_error(), "model.name"), "no model");

  const param_def *d = param_find("i2i.steps");
  CHECK(d && param_parse(d, "12abc", &q) == A2I2A_ERR_PARAM && strstr(a2i2a_last_error(), "'12abc'") &&
            strstr(a2i2a_last_error(), "[1, 1000]"),
        "steps parse: %s", a2i2a_last_error());
  CHECK(param_parse(d, "7", &q) == A2I2A_OK && q.i2i.steps == 7, "steps 7");
  d = param_find("i2i.seed");
  CHECK(param_parse(d, "18446744073709551615", &q) == A2I2A_OK && q.i2i.seed == UINT64_MAX, "the largest seed");
  CHECK(param_parse(d, "-1", &q) == A2I2A_ERR_PARAM, "a negative seed");
  d = param_find("i2i.sampler");
  char text[] = "euler-a";
  CHECK(param_parse(d, text, &q) == A2I2A_OK && q.i2i.sampler != text && !strcmp(q.i2i.sampler, "euler-a"),
        "a choice points to the table's name");
  CHECK(param_parse(param_find("i2a.readings"), "sines,noise", &q) == A2I2A_OK, "a list of readings");
  CHECK(param_parse(param_find("i2a.readings"), "sines,,noise", &q) == A2I2A_ERR_PARAM, "an empty name");
}

static void *list_in_thread(void *arg) {
  const a2i2a_entry **out = arg;
  for (int i = 0; i < param_count(); i++) out[i] = a2i2a_list_entry(A2I2A_LIST_PARAMS, i);
  out[param_count()] = a2i2a_list_find(A2I2A_LIST_PRESETS, "turbo");
  return NULL;
}

int main(void) {
  /* two threads asking first: both see the same, complete entries */
  const a2i2a_entry *a[64] = {0}, *b[64] = {0};
  pthread_t ta, tb;
  pthread_create(&ta, NULL, list_in_thread, a);
  pthread_create(&tb, NULL, list_in_thread, b);
  pthread_join(ta, NULL);
  pthread_join(tb, NULL);
  CHECK(!memcmp(a, b, sizeof a) && a[param_count()] && strstr(a[param_count()]->json, "sd-turbo"), "two threads");

  check_lists();
  check_readings();
  check_params_cover_struct();
  check_param_json();
  check_validation();
  return check_done();
}
