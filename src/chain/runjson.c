/* run.json: everything needed to redo a run, written after it and read by --replay. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/chain.h"
#include "common/err.h"
#include "common/outfile.h"

/* ---------------------------------------------------------------- the record's strings */

typedef struct strnode {
  struct strnode *next;
  char s[];
} strnode;

const char *chain_record_str(chain_record *rec, const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s);
  strnode *e = xmalloc(sizeof *e + n + 1, "a string of run.json");
  if (!e) return NULL;
  memcpy(e->s, s, n + 1);
  e->next = rec->strings;
  rec->strings = e;
  return e->s;
}

static char *own(chain_record *rec, const char *s) { return (char *)chain_record_str(rec, s); }

void chain_record_free(chain_record *rec) {
  for (strnode *e = rec->strings, *next; e; e = next) {
    next = e->next;
    free(e);
  }
  memset(rec, 0, sizeof *rec);
}

/* ---------------------------------------------------------------- writing */

/* Seeds are 64-bit; JSON numbers are doubles, exact only up to 2^53. */
#define EXACT_INT 9007199254740992.0

void chain_json_add_u64(void *obj, const char *key, uint64_t v) {
  cJSON *o = obj;
  if (v <= (1ull << 53)) {
    cJSON_AddNumberToObject(o, key, (double)v);
  } else {
    char b[32];
    snprintf(b, sizeof b, "%llu", (unsigned long long)v);
    cJSON_AddStringToObject(o, key, b);
  }
}

/* cJSON prints doubles with a tolerance (0.1 + 0.2 comes out as 0.3): print the shortest
 * decimal that reads back as exactly the same double. */
static void add_num(cJSON *o, const char *key, double v) {
  char b[40];
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(b, sizeof b, "%.*g", prec, v);
    if (strtod(b, NULL) == v) break;
  }
  cJSON_AddRawToObject(o, key, b);
}

static void add_str(cJSON *o, const char *key, const char *s) {
  if (s) cJSON_AddStringToObject(o, key, s);
  else cJSON_AddNullToObject(o, key);
}

a2i2a_status chain_runjson_write(const char *path, const chain_record *r, int force) {
  const a2i2a_run_params *p = &r->p;
  cJSON *root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "program", "a2i2a");
  add_str(root, "version", r->version);
  add_num(root, "threads", r->threads);
  add_str(root, "preset", p->preset);

  cJSON *in = cJSON_AddObjectToObject(root, "input");
  add_str(in, "path", r->input_path);
  add_str(in, "sha256", r->input_sha256);

  cJSON *a = cJSON_AddObjectToObject(root, "a2i");
  add_str(a, "style", p->a2i.style);
  add_num(a, "width", p->a2i.width);
  add_num(a, "height", p->a2i.height);
  cJSON_AddBoolToObject(a, "stereo", p->a2i.stereo != 0);
  add_num(a, "db_range", p->a2i.db_range);
  add_num(a, "fmin", p->a2i.fmin);
  add_num(a, "fmax", p->a2i.fmax);
  add_str(a, "colormap", p->a2i.colormap);
  add_num(a, "max_seconds", p->a2i.max_seconds);

  cJSON *m = cJSON_AddObjectToObject(root, "model");
  add_str(m, "name", r->model_name);
  add_str(m, "sha256", r->model_sha256);

  cJSON *i = cJSON_AddObjectToObject(root, "i2i");
  add_str(i, "prompt", p->i2i.prompt);
  add_str(i, "negative_prompt", p->i2i.negative_prompt);
  add_num(i, "strength", p->i2i.strength);
  add_num(i, "guidance", p->i2i.guidance);
  add_num(i, "steps", p->i2i.steps);
  add_str(i, "sampler", p->i2i.sampler);
  add_str(i, "spacing", p->i2i.spacing);
  chain_json_add_u64(i, "seed", p->i2i.seed);
  add_num(i, "clip_skip", p->i2i.clip_skip);
  add_str(i, "prediction", p->i2i.prediction);
  add_num(i, "width", p->i2i.width);
  add_num(i, "height", p->i2i.height);

  cJSON *o = cJSON_AddObjectToObject(root, "i2a");
  add_str(o, "readings", p->readings);
  chain_json_add_u64(o, "seed", p->i2a.seed);
  add_num(o, "gl_iters", p->i2a.gl_iters);
  add_num(o, "bits", p->i2a.bits);

  cJSON *c = cJSON_AddObjectToObject(root, "clips");
  add_num(c, "seconds", p->clip_seconds);
  add_num(c, "overlap_seconds", p->overlap_seconds);
  cJSON_AddBoolToObject(root, "sheet", p->sheet != 0);

  cJSON *outs = cJSON_AddObjectToObject(root, "outputs");
  for (int k = 0; k < r->noutputs; k++) add_str(outs, r->output_name[k], r->output_sha256[k]);

  char *text = cJSON_Print(root);
  cJSON_Delete(root);
  if (!text) return fail(A2I2A_ERR_NOMEM, "%s: out of memory writing JSON", path);
  outfile of;
  a2i2a_status st = outfile_open(&of, path, force);
  if (!st) {
    fputs(text, of.f);
    fputc('\n', of.f);
    st = outfile_commit(&of);
  }
  cJSON_free(text);
  return st;
}

/* ---------------------------------------------------------------- reading */

typedef struct {
  const char *path;
  chain_record *rec;
  a2i2a_status st;
} reader;

static cJSON *need(reader *rd, const cJSON *o, const char *section, const char *key) {
  cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
  if (!v && !rd->st)
    rd->st = fail(A2I2A_ERR_FORMAT, "%s: '%s%s%s' is missing", rd->path, section, *section ? "." : "", key);
  return v;
}

static void bad_type(reader *rd, const char *section, const char *key, const char *what) {
  if (!rd->st)
    rd->st = fail(A2I2A_ERR_FORMAT, "%s: '%s%s%s' must be %s", rd->path, section, *section ? "." : "", key, what);
}

/* a string, or null where nullable */
static const char *get_str(reader *rd, const cJSON *o, const char *section, const char *key, int nullable) {
  cJSON *v = need(rd, o, section, key);
  if (!v) return NULL;
  if (cJSON_IsNull(v) && nullable) return NULL;
  if (!cJSON_IsString(v)) {
    bad_type(rd, section, key, nullable ? "a string or null" : "a string");
    return NULL;
  }
  return own(rd->rec, v->valuestring);
}

static double get_num(reader *rd, const cJSON *o, const char *section, const char *key) {
  cJSON *v = need(rd, o, section, key);
  if (!v) return 0;
  if (!cJSON_IsNumber(v)) {
    bad_type(rd, section, key, "a number");
    return 0;
  }
  return v->valuedouble;
}

static int get_int(reader *rd, const cJSON *o, const char *section, const char *key) {
  double d = get_num(rd, o, section, key);
  if (d != (double)(int)d) bad_type(rd, section, key, "a whole number");
  return (int)d;
}

static int get_bool(reader *rd, const cJSON *o, const char *section, const char *key) {
  cJSON *v = need(rd, o, section, key);
  if (!v) return 0;
  if (!cJSON_IsBool(v)) {
    bad_type(rd, section, key, "true or false");
    return 0;
  }
  return cJSON_IsTrue(v);
}

static uint64_t get_u64(reader *rd, const cJSON *o, const char *section, const char *key) {
  cJSON *v = need(rd, o, section, key);
  if (!v) return 0;
  if (cJSON_IsString(v)) {
    char *end;
    errno = 0;
    unsigned long long u = strtoull(v->valuestring, &end, 10);
    if (!errno && end != v->valuestring && !*end && v->valuestring[0] != '-') return u;
  } else if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= EXACT_INT &&
             v->valuedouble == (double)(uint64_t)v->valuedouble) {
    return (uint64_t)v->valuedouble;
  }
  bad_type(rd, section, key, "a whole number >= 0");
  return 0;
}

static cJSON *get_obj(reader *rd, const cJSON *o, const char *key) {
  cJSON *v = need(rd, o, "", key);
  if (v && !cJSON_IsObject(v)) {
    bad_type(rd, "", key, "an object");
    return NULL;
  }
  return v;
}

a2i2a_status chain_runjson_read(const char *path, chain_record *rec) {
  memset(rec, 0, sizeof *rec);
  FILE *f = fopen(path, "rb");
  if (!f) return fail(A2I2A_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  enum { MAX = 1 << 20 };
  char *text = xmalloc(MAX + 1, "run.json");
  if (!text) {
    fclose(f);
    return A2I2A_ERR_NOMEM;
  }
  size_t n = fread(text, 1, MAX + 1, f);
  int err = ferror(f);
  fclose(f);
  if (err || n > MAX) {
    free(text);
    return fail(err ? A2I2A_ERR_IO : A2I2A_ERR_LIMIT, "%s: %s", path, err ? "read error" : "larger than 1 MiB, not a run.json");
  }
  text[n] = 0;
  cJSON *root = cJSON_ParseWithLength(text, n);
  free(text);
  if (!root || !cJSON_IsObject(root)) {
    cJSON_Delete(root);
    return fail(A2I2A_ERR_FORMAT, "%s: not a JSON object", path);
  }
  reader rd = {path, rec, A2I2A_OK};
  const cJSON *prog = cJSON_GetObjectItemCaseSensitive(root, "program");
  if (!cJSON_IsString(prog) || strcmp(prog->valuestring, "a2i2a")) {
    cJSON_Delete(root);
    return fail(A2I2A_ERR_FORMAT, "%s: not a run.json written by a2i2a ('program' is not \"a2i2a\")", path);
  }
  a2i2a_run_params *p = &rec->p;
  rec->version = (char *)get_str(&rd, root, "", "version", 0);
  rec->threads = get_int(&rd, root, "", "threads");
  p->preset = get_str(&rd, root, "", "preset", 1);

  cJSON *in = get_obj(&rd, root, "input");
  rec->input_path = (char *)get_str(&rd, in, "input", "path", 0);
  rec->input_sha256 = (char *)get_str(&rd, in, "input", "sha256", 0);

  cJSON *a = get_obj(&rd, root, "a2i");
  p->a2i.style = get_str(&rd, a, "a2i", "style", 1);
  p->a2i.width = get_int(&rd, a, "a2i", "width");
  p->a2i.height = get_int(&rd, a, "a2i", "height");
  p->a2i.stereo = get_bool(&rd, a, "a2i", "stereo");
  p->a2i.db_range = get_num(&rd, a, "a2i", "db_range");
  p->a2i.fmin = get_num(&rd, a, "a2i", "fmin");
  p->a2i.fmax = get_num(&rd, a, "a2i", "fmax");
  p->a2i.colormap = get_str(&rd, a, "a2i", "colormap", 1);
  p->a2i.max_seconds = get_num(&rd, a, "a2i", "max_seconds");

  cJSON *m = get_obj(&rd, root, "model");
  rec->model_name = (char *)get_str(&rd, m, "model", "name", 0);
  rec->model_sha256 = (char *)get_str(&rd, m, "model", "sha256", 0);
  p->model = rec->model_name;

  cJSON *i = get_obj(&rd, root, "i2i");
  p->i2i.prompt = get_str(&rd, i, "i2i", "prompt", 1);
  p->i2i.negative_prompt = get_str(&rd, i, "i2i", "negative_prompt", 1);
  p->i2i.strength = get_num(&rd, i, "i2i", "strength");
  p->i2i.guidance = get_num(&rd, i, "i2i", "guidance");
  p->i2i.steps = get_int(&rd, i, "i2i", "steps");
  p->i2i.sampler = get_str(&rd, i, "i2i", "sampler", 1);
  p->i2i.spacing = get_str(&rd, i, "i2i", "spacing", 1);
  p->i2i.seed = get_u64(&rd, i, "i2i", "seed");
  p->i2i.clip_skip = get_int(&rd, i, "i2i", "clip_skip");
  /* absent from run.json files written before it existed: the model's own */
  p->i2i.prediction = cJSON_GetObjectItemCaseSensitive(i, "prediction") ? get_str(&rd, i, "i2i", "prediction", 1) : NULL;
  p->i2i.width = get_int(&rd, i, "i2i", "width");
  p->i2i.height = get_int(&rd, i, "i2i", "height");

  cJSON *o = get_obj(&rd, root, "i2a");
  p->readings = get_str(&rd, o, "i2a", "readings", 0);
  p->i2a.seed = get_u64(&rd, o, "i2a", "seed");
  p->i2a.gl_iters = get_int(&rd, o, "i2a", "gl_iters");
  p->i2a.bits = get_int(&rd, o, "i2a", "bits");

  cJSON *c = get_obj(&rd, root, "clips");
  p->clip_seconds = get_num(&rd, c, "clips", "seconds");
  p->overlap_seconds = get_num(&rd, c, "clips", "overlap_seconds");
  p->sheet = get_bool(&rd, root, "", "sheet");

  cJSON *outs = get_obj(&rd, root, "outputs");
  for (cJSON *e = outs ? outs->child : NULL; e && !rd.st; e = e->next) {
    if (rec->noutputs == CHAIN_MAX_OUTPUTS) {
      rd.st = fail(A2I2A_ERR_LIMIT, "%s: more than %d outputs", path, CHAIN_MAX_OUTPUTS);
      break;
    }
    if (!cJSON_IsString(e) || strchr(e->string, '/') || e->string[0] == '.' || !*e->string) {
      rd.st = fail(A2I2A_ERR_FORMAT, "%s: 'outputs.%s' must be a file name with its SHA-256", path, e->string);
      break;
    }
    rec->output_name[rec->noutputs] = own(rec, e->string);
    rec->output_sha256[rec->noutputs++] = own(rec, e->valuestring);
  }
  cJSON_Delete(root);
  if (rd.st) chain_record_free(rec);
  return rd.st;
}
