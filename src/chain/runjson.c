/* run.json: everything needed to redo a run, written after it and read by --replay. Its
 * parameters are written and read by the parameters' table (params.h), so that every field of
 * a2i2a_run_params is recorded and replayed. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/chain.h"
#include "chain/params.h"
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

/* ---------------------------------------------------------------- the layout */

/* A parameter's place in run.json: its key "SECTION.NAME" (or "NAME" at the top). */
static cJSON *section_of(cJSON *root, const char *key, const char **name, int create) {
  const char *dot = strchr(key, '.');
  *name = dot ? dot + 1 : key;
  if (!dot) return root;
  char section[32];
  snprintf(section, sizeof section, "%.*s", (int)(dot - key), key);
  cJSON *o = cJSON_GetObjectItemCaseSensitive(root, section);
  if (!o && create) o = cJSON_AddObjectToObject(root, section);
  return o;
}

static void add_str(cJSON *o, const char *key, const char *s) {
  if (s) cJSON_AddStringToObject(o, key, s);
  else cJSON_AddNullToObject(o, key);
}

/* ---------------------------------------------------------------- writing */

a2i2a_status chain_runjson_write(const char *path, const chain_record *r, int force) {
  cJSON *root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "program", "a2i2a");
  add_str(root, "version", r->version);
  cJSON_AddNumberToObject(root, "threads", r->threads);
  cJSON *in = cJSON_AddObjectToObject(root, "input");
  add_str(in, "path", r->input_path);
  add_str(in, "sha256", r->input_sha256);
  /* every parameter, where its key says */
  for (int i = 0; i < param_count(); i++) {
    const char *name;
    cJSON *o = section_of(root, param_at(i)->entry.name, &name, 1);
    cJSON_AddItemToObject(o, name, param_to_json(param_at(i), &r->p));
  }
  add_str(cJSON_GetObjectItemCaseSensitive(root, "model"), "sha256", r->model_sha256);
  if (r->nloras) { /* only then: runs without LoRAs keep their run.json */
    cJSON *a = cJSON_AddArrayToObject(cJSON_GetObjectItemCaseSensitive(root, "i2i"), "loras");
    for (int k = 0; k < r->nloras; k++) {
      cJSON *l = cJSON_CreateObject();
      add_str(l, "path", r->lora[k].path);
      add_str(l, "sha256", r->lora_sha256[k]);
      cJSON_AddNumberToObject(l, "scale", r->lora[k].scale);
      cJSON_AddItemToArray(a, l);
    }
  }
  if (r->p.i2i.taesd) add_str(cJSON_GetObjectItemCaseSensitive(root, "i2i"), "taesd_sha256", r->taesd_sha256);
  cJSON_AddNumberToObject(root, "sheet_layout", r->sheet_layout ? r->sheet_layout : 1);
  if (r->nalphas > 0) {
    cJSON *alphas = cJSON_AddArrayToObject(cJSON_GetObjectItemCaseSensitive(root, "travel"), "alphas");
    for (int k = 0; k < r->nalphas; k++) {
      char b[40];
      snprintf(b, sizeof b, "%.17g", r->alphas[k]);
      cJSON_AddItemToArray(alphas, cJSON_CreateRaw(b));
    }
  }
  cJSON *outs = cJSON_AddObjectToObject(root, "outputs");
  for (int k = 0; k < r->noutputs; k++) add_str(outs, r->output_name[k], r->output_sha256[k]);
  /* the readings as written: a record, not read back (the replay checks the bytes) */
  cJSON *loud = cJSON_AddObjectToObject(root, "loudness");
  for (int k = 0; k < r->noutputs; k++) {
    if (!r->measured[k]) continue;
    cJSON *o = cJSON_AddObjectToObject(loud, r->output_name[k]);
    const double v[2] = {r->lufs[k], r->dbtp[k]};
    const char *key[2] = {"integrated_lufs", "true_peak_dbtp"};
    for (int i = 0; i < 2; i++) {
      char b[32];
      snprintf(b, sizeof b, "%.2f", v[i]);
      if (isfinite(v[i])) cJSON_AddItemToObject(o, key[i], cJSON_CreateRaw(b));
      else cJSON_AddNullToObject(o, key[i]); /* silence, or too short to measure */
    }
  }

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

static const char *get_str(reader *rd, const cJSON *o, const char *section, const char *key) {
  cJSON *v = need(rd, o, section, key);
  if (v && !cJSON_IsString(v)) bad_type(rd, section, key, "a string");
  return cJSON_IsString(v) ? own(rd->rec, v->valuestring) : NULL;
}

static cJSON *get_obj(reader *rd, const cJSON *o, const char *key) {
  cJSON *v = need(rd, o, "", key);
  if (v && !cJSON_IsObject(v)) {
    bad_type(rd, "", key, "an object");
    return NULL;
  }
  return v;
}

/* One parameter: present (every key since the first run.json), or absent from a file written
 * before it existed (PARAM_NEWER: it keeps 0 or NULL); well typed; in range. */
static void get_param(reader *rd, cJSON *root, const param_def *d) {
  const char *name;
  cJSON *o = section_of(root, d->entry.name, &name, 0);
  cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, name) : NULL;
  if (rd->st || (!v && (d->flags & PARAM_NEWER))) return;
  if (!v) {
    rd->st = fail(A2I2A_ERR_FORMAT, "%s: '%s' is missing", rd->path, d->entry.name);
    return;
  }
  a2i2a_run_params *p = &rd->rec->p;
  if ((rd->st = param_from_json(d, v, p))) {
    fail_prefix(rd->path);
    return;
  }
  if (d->type == PARAM_TEXT || d->type == PARAM_CHOICE) {
    const char **s = param_field(d, p);
    *s = *s ? own(rd->rec, *s) : NULL;
  }
  /* out of range: the file is what is wrong */
  if (param_check(d, p)) fail_prefix(rd->path), rd->st = A2I2A_ERR_FORMAT;
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
  a2i2a_status st = chain_runjson_parse(text, n, path, rec);
  free(text);
  return st;
}

a2i2a_status chain_runjson_parse(const char *text, size_t n, const char *path, chain_record *rec) {
  memset(rec, 0, sizeof *rec);
  cJSON *root = cJSON_ParseWithLength(text, n);
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
  rec->version = (char *)get_str(&rd, root, "", "version");
  const cJSON *threads = need(&rd, root, "", "threads");
  /* the thread count is set for the replay: the CLI's range */
  if (threads && !(cJSON_IsNumber(threads) && threads->valueint >= 1 && threads->valueint <= 1024 &&
                   threads->valuedouble == threads->valueint))
    bad_type(&rd, "", "threads", "a whole number in [1, 1024]");
  rec->threads = threads ? threads->valueint : 0;
  cJSON *in = get_obj(&rd, root, "input");
  rec->input_path = (char *)get_str(&rd, in, "input", "path");
  rec->input_sha256 = (char *)get_str(&rd, in, "input", "sha256");
  for (int i = 0; i < param_count(); i++) get_param(&rd, root, param_at(i));
  rec->model_sha256 = (char *)get_str(&rd, get_obj(&rd, root, "model"), "model", "sha256");
  /* the LoRAs: absent when there were none */
  const cJSON *loras = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "i2i"), "loras");
  if (loras && (!cJSON_IsArray(loras) || cJSON_GetArraySize(loras) > CHAIN_MAX_LORAS))
    bad_type(&rd, "i2i", "loras", "a list of at most 16 LoRAs");
  for (const cJSON *l = cJSON_IsArray(loras) ? loras->child : NULL; l && !rd.st; l = l->next) {
    int k = rec->nloras++;
    const cJSON *scale = cJSON_GetObjectItemCaseSensitive(l, "scale");
    /* null: bytes given in memory (a replay refuses them) */
    rec->lora[k].path = cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(l, "path")) ? NULL
                                                                                 : get_str(&rd, l, "i2i.loras", "path");
    rec->lora_sha256[k] = (char *)get_str(&rd, l, "i2i.loras", "sha256");
    if (!cJSON_IsNumber(scale)) bad_type(&rd, "i2i.loras", "scale", "a number");
    else rec->lora[k].scale = scale->valuedouble;
    if (!rd.st && strlen(rec->lora_sha256[k]) != 64) bad_type(&rd, "i2i.loras", "sha256", "64 hex digits");
  }
  if (!rd.st && rec->p.i2i.taesd) rec->taesd_sha256 = (char *)get_str(&rd, get_obj(&rd, root, "i2i"), "i2i", "taesd_sha256");
  /* files written before the sheet's layout was recorded drew the first one */
  const cJSON *layout = cJSON_GetObjectItemCaseSensitive(root, "sheet_layout");
  rec->sheet_layout = 1;
  if (layout && !(cJSON_IsNumber(layout) && layout->valueint >= 1 && layout->valueint <= CHAIN_SHEET_LAYOUT &&
                  layout->valuedouble == layout->valueint))
    bad_type(&rd, "", "sheet_layout", "a layout this version draws (1 or 2)");
  else if (layout) rec->sheet_layout = layout->valueint;
  if (!rd.st && params_check(&rec->p)) fail_prefix(path), rd.st = A2I2A_ERR_FORMAT;

  cJSON *outs = get_obj(&rd, root, "outputs");
  for (cJSON *e = outs ? outs->child : NULL; e && !rd.st; e = e->next) {
    if (rec->noutputs == CHAIN_MAX_OUTPUTS) {
      rd.st = fail(A2I2A_ERR_LIMIT, "%s: more than %d outputs", path, CHAIN_MAX_OUTPUTS);
      break;
    }
    /* a file of the run's folder, or of its frames/ (a travel's frames) */
    const char *file = strncmp(e->string, "frames/", 7) ? e->string : e->string + 7;
    if (!cJSON_IsString(e) || strchr(file, '/') || file[0] == '.' || !*file) {
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
