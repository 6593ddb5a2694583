/* a2i2a batch: SOURCE expanded into items, each item's state read back from its folder, one
 * item run, batch.json, and the merge of per-shard folders. Nothing here prints. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audio/audio.h"
#include "chain/batch.h"
#include "chain/chain.h"
#include "chain/params.h"
#include "common/err.h"
#include "common/outfile.h"
#include "common/sha256.h"

enum { PATH_LEN = 4400, BATCH_MAX_ITEMS = 1000000 };

/* The hidden folder of per-item failure records and the lock of batch.json. */
#define STATE_DIR ".a2i2a-batch"

/* ---------------------------------------------------------------- the plan's strings */

typedef struct strnode {
  struct strnode *next;
  char s[];
} strnode;

static const char *keep(batch_plan *plan, const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s) + 1;
  strnode *e = malloc(sizeof *e + n);
  if (!e) return NULL;
  memcpy(e->s, s, n);
  e->next = plan->strings;
  plan->strings = e;
  return e->s;
}

void batch_plan_free(batch_plan *plan) {
  for (strnode *e = plan->strings, *next; e; e = next) next = e->next, free(e);
  free(plan->items);
  memset(plan, 0, sizeof *plan);
}

const batch_item *batch_find(const batch_plan *plan, const char *id) {
  for (int i = 0; i < plan->nitems; i++)
    if (!strcmp(plan->items[i].id, id)) return &plan->items[i];
  return NULL;
}

/* ---------------------------------------------------------------- ids */

/* The item's id: its input's bytes and every parameter run.json records but the model's path,
 * for which its last component stands (the same model elsewhere keeps the ids). */
static void item_id(batch_item *it) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "input_sha256", it->input_sha256[0] ? it->input_sha256 : it->input);
  for (int i = 0; i < param_count(); i++) {
    const param_def *d = param_at(i);
    if (strcmp(d->entry.name, "model.name")) cJSON_AddItemToObject(o, d->entry.name, param_to_json(d, &it->p));
  }
  char model[PATH_LEN];
  snprintf(model, sizeof model, "%s", it->p.model ? it->p.model : "");
  for (size_t n = strlen(model); n > 1 && model[n - 1] == '/'; n--) model[n - 1] = 0;
  cJSON_AddStringToObject(o, "model", strrchr(model, '/') ? strrchr(model, '/') + 1 : model);
  char *text = cJSON_PrintUnformatted(o);
  uint8_t digest[32];
  char hex[65];
  sha256_ctx c;
  sha256_init(&c);
  sha256_update(&c, "a2i2a batch item 1\n", 19);
  if (text) sha256_update(&c, text, strlen(text));
  sha256_final(&c, digest);
  sha256_hex(digest, hex);
  memcpy(it->id, hex, BATCH_ID_LEN);
  it->id[BATCH_ID_LEN] = 0;
  free(text);
  cJSON_Delete(o);
}

/* ---------------------------------------------------------------- SOURCE: the sounds */

typedef struct {
  char *path;   /* owned */
  int line;
  char **cells; /* CSV: one per column (owned; NULL: no CSV) */
} source_row;

typedef struct {
  source_row *rows;
  int n, cap;
  char **columns; /* CSV header */
  int ncolumns, path_column;
} source_rows;

static void rows_free(source_rows *r) {
  for (int i = 0; i < r->n; i++) {
    free(r->rows[i].path);
    if (r->rows[i].cells)
      for (int c = 0; c < r->ncolumns; c++) free(r->rows[i].cells[c]);
    free(r->rows[i].cells);
  }
  for (int c = 0; c < r->ncolumns; c++) free(r->columns[c]);
  free(r->columns);
  free(r->rows);
}

static a2i2a_status rows_add(source_rows *r, const char *path, int line, char **cells) {
  if (r->n == BATCH_MAX_ITEMS) return fail(A2I2A_ERR_LIMIT, "more than %d sounds", BATCH_MAX_ITEMS);
  if (r->n == r->cap) {
    int cap = r->cap ? 2 * r->cap : 64;
    source_row *rows = realloc(r->rows, (size_t)cap * sizeof *rows);
    if (!rows) return fail(A2I2A_ERR_NOMEM, "out of memory");
    r->rows = rows, r->cap = cap;
  }
  char *copy = strdup(path);
  if (!copy) return fail(A2I2A_ERR_NOMEM, "out of memory");
  r->rows[r->n++] = (source_row){copy, line, cells};
  return A2I2A_OK;
}

static int by_path(const void *a, const void *b) {
  return strcmp(((const source_row *)a)->path, ((const source_row *)b)->path);
}

/* Every sound below dir (formats libsndfile reads, by extension), links to folders not followed. */
static a2i2a_status scan_folder(const char *dir, source_rows *r, int depth) {
  if (depth > 64) return fail(A2I2A_ERR_LIMIT, "%s: folders nested too deep", dir);
  char path[PATH_LEN];
  snprintf(path, sizeof path, "%s/" STATE_DIR, dir);
  if (depth > 0 && access(path, F_OK) == 0) return A2I2A_OK; /* a batch's OUTDIR: its sounds are outputs */
  DIR *d = opendir(dir);
  if (!d) return fail(A2I2A_ERR_IO, "%s: cannot read the folder: %s", dir, strerror(errno));
  a2i2a_status st = A2I2A_OK;
  struct dirent *e;
  while (!st && (e = readdir(d))) {
    if (e->d_name[0] == '.') continue; /* hidden, and our own .a2i2a-* folders */
    if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path) continue;
    struct stat sb, lb;
    if (stat(path, &sb) != 0 || lstat(path, &lb) != 0) continue;
    if (S_ISDIR(sb.st_mode)) {
      if (!S_ISLNK(lb.st_mode)) st = scan_folder(path, r, depth + 1);
    } else if (S_ISREG(sb.st_mode) && audio_format_of(path) >= AUDIO_UNWRITTEN) {
      st = rows_add(r, path, 0, NULL);
    }
  }
  closedir(d);
  return st;
}

/* path resolved against base's folder (unchanged when absolute). */
static void relative_to(const char *base, const char *path, char *out, size_t size) {
  const char *slash = strrchr(base, '/');
  if (path[0] == '/' || !slash) snprintf(out, size, "%s", path);
  else snprintf(out, size, "%.*s/%s", (int)(slash - base), base, path);
}

static void trim(char *s) {
  size_t n = strlen(s);
  while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = 0;
  size_t k = strspn(s, " \t");
  memmove(s, s + k, n - k + 1);
}

/* One CSV record (RFC 4180: quoted fields, "" inside quotes) from f into cells, blank lines
 * skipped; a quoted field may span lines. *line: the next line to read, counted on; *first: the
 * record's first line. 1: a record; 0: the end of the file; -1: an unterminated quote or out of memory. */
static int csv_record(FILE *f, char ***cells, int *ncells, int *line, int *first) {
  *first = *line;
  size_t cap = 256, n = 0;
  int c, quoted = 0, was_quoted = 0, count = 0, cap_cells = 8;
  char *field = malloc(cap), **out = malloc((size_t)cap_cells * sizeof *out);
  if (!field || !out) goto bad;
  for (;;) {
    c = fgetc(f);
    if (quoted) {
      if (c == EOF) goto bad;
      if (c == '"') {
        int next = fgetc(f);
        if (next != '"') {
          ungetc(next, f);
          quoted = 0;
          continue;
        }
      } else if (c == '\n') {
        (*line)++;
      }
    } else if (c == '"' && n == 0 && !was_quoted) {
      quoted = was_quoted = 1;
      continue;
    } else if (c == '\r') {
      continue;
    } else if (c == ',' || c == '\n' || c == EOF) {
      field[n] = 0;
      if (!was_quoted) trim(field);
      int blank = count == 0 && c != ',' && !was_quoted && !field[0];
      if (blank && c == EOF) break;
      if (c == '\n') (*line)++;
      if (blank) {
        *first = *line;
        continue;
      }
      if (count == cap_cells) {
        char **more = realloc(out, (size_t)(cap_cells *= 2) * sizeof *out);
        if (!more) goto bad;
        out = more;
      }
      if (!(out[count++] = strdup(field))) goto bad;
      n = 0, was_quoted = 0;
      if (c == ',') continue;
      free(field);
      *cells = out, *ncells = count;
      return 1;
    }
    if (n + 1 == cap) {
      char *more = realloc(field, cap *= 2);
      if (!more) goto bad;
      field = more;
    }
    field[n++] = (char)c;
  }
  free(field), free(out);
  return 0;
bad:
  for (int i = 0; i < count; i++) free(out[i]);
  free(out), free(field);
  return -1;
}

/* The parameter a CSV column sets: a run.json key, or its last part where only one key ends so
 * ("seed" is i2i.seed, which the readings' seed follows as in run). */
static const param_def *column_param(const char *name, const char **other) {
  *other = NULL;
  const param_def *d = param_find(name);
  if (d) return d;
  if (!strcmp(name, "seed")) return param_find("i2i.seed");
  const param_def *found = NULL;
  for (int i = 0; i < param_count(); i++) {
    const param_def *e = param_at(i);
    const char *dot = strrchr(e->entry.name, '.'), *last = dot ? dot + 1 : e->entry.name;
    if (strcmp(last, name)) continue;
    if (found) *other = e->entry.name;
    else found = e;
  }
  return found;
}

static a2i2a_status read_csv(const char *source, FILE *f, source_rows *r) {
  int line = 1, at, ncells;
  char **cells;
  int got = csv_record(f, &cells, &ncells, &line, &at);
  if (got <= 0) return fail(A2I2A_ERR_FORMAT, "%s: no header row (a \"path\" column, then settings)", source);
  r->columns = cells, r->ncolumns = ncells, r->path_column = -1;
  for (int c = 0; c < ncells; c++) {
    if (strcmp(cells[c], "path") && strcmp(cells[c], "input")) continue;
    if (r->path_column >= 0) return fail(A2I2A_ERR_FORMAT, "%s:1: two path columns ('%s')", source, cells[c]);
    r->path_column = c;
  }
  if (r->path_column < 0) return fail(A2I2A_ERR_FORMAT, "%s:1: no \"path\" column", source);
  for (int c = 0; c < ncells; c++) {
    if (c == r->path_column) continue;
    const char *other;
    const param_def *d = column_param(cells[c], &other);
    if (!d) return fail(A2I2A_ERR_FORMAT, "%s:1: column '%s' is no setting (run.json's keys: i2i.steps or steps, ...)", source, cells[c]);
    if (other) return fail(A2I2A_ERR_FORMAT, "%s:1: column '%s' could be %s or %s: name it in full", source, cells[c], d->entry.name, other);
    if (!strcmp(d->entry.name, "model.name"))
      return fail(A2I2A_ERR_FORMAT, "%s:1: column '%s': one model per batch (give --model)", source, cells[c]);
  }
  for (;;) {
    got = csv_record(f, &cells, &ncells, &line, &at);
    if (got == 0) return A2I2A_OK;
    if (got < 0) return fail(A2I2A_ERR_FORMAT, "%s:%d: unterminated quote", source, at);
    a2i2a_status st = A2I2A_OK;
    if (ncells != r->ncolumns)
      st = fail(A2I2A_ERR_FORMAT, "%s:%d: %d fields, the header has %d", source, at, ncells, r->ncolumns);
    else if (!cells[r->path_column][0])
      st = fail(A2I2A_ERR_FORMAT, "%s:%d: no path", source, at);
    char path[PATH_LEN];
    if (!st) relative_to(source, cells[r->path_column], path, sizeof path);
    if (!st) st = rows_add(r, path, at, cells);
    if (st) {
      for (int c = 0; c < ncells; c++) free(cells[c]);
      free(cells);
      return st;
    }
  }
}

static a2i2a_status read_list(const char *source, FILE *f, source_rows *r) {
  char *buf = NULL, path[PATH_LEN];
  size_t cap = 0;
  a2i2a_status st = A2I2A_OK;
  for (int line = 1; !st && getline(&buf, &cap, f) >= 0; line++) {
    trim(buf);
    if (!buf[0] || buf[0] == '#') continue;
    relative_to(source, buf, path, sizeof path);
    st = rows_add(r, path, line, NULL);
  }
  free(buf);
  return st;
}

static int is_csv(const char *path) {
  size_t n = strlen(path);
  return n > 4 && !strcasecmp(path + n - 4, ".csv");
}

/* ---------------------------------------------------------------- SOURCE: the items */

/* The row's settings over the command line's: a preset column starts from that preset, the
 * options the command line gave still apply, then the row's other columns. */
static a2i2a_status row_params(const char *source, const source_rows *r, const source_row *row, const batch_settings *s,
                               a2i2a_run_params *q, int *set_prompt, int *set_seed) {
  *q = *s->p;
  q->i2a.seed = q->i2i.seed;
  *set_prompt = *set_seed = 0;
  if (!row->cells) return A2I2A_OK;
  const char *other;
  int readings_seed = 0;
  for (int c = 0; c < r->ncolumns; c++) {
    if (c == r->path_column || !row->cells[c][0] || strcmp(column_param(r->columns[c], &other)->entry.name, "preset"))
      continue;
    if (!chain_preset_find(row->cells[c]))
      return fail(A2I2A_ERR_PARAM, "%s:%d: column 'preset': no preset '%s' (a2i2a presets)", source, row->line, row->cells[c]);
    a2i2a_run_preset(row->cells[c], q);
    q->model = s->p->model;
    for (int g = 0; g < s->ngiven; g++) {
      const param_def *d = param_find(s->given[g]);
      if (d) memcpy(param_field(d, q), param_cfield(d, s->p), d->size);
    }
  }
  for (int c = 0; c < r->ncolumns; c++) {
    if (c == r->path_column || !row->cells[c][0]) continue;
    const param_def *d = column_param(r->columns[c], &other);
    if (!strcmp(d->entry.name, "preset")) continue;
    a2i2a_status st = param_parse(d, row->cells[c], q);
    if (st) {
      char msg[600];
      snprintf(msg, sizeof msg, "%s", a2i2a_last_error());
      return fail(A2I2A_ERR_PARAM, "%s:%d: column '%s': %s", source, row->line, r->columns[c], msg);
    }
    *set_prompt |= !strcmp(d->entry.name, "i2i.prompt");
    *set_seed |= !strcmp(d->entry.name, "i2i.seed");
    readings_seed |= !strcmp(d->entry.name, "i2a.seed");
  }
  if (!readings_seed) q->i2a.seed = q->i2i.seed; /* the readings follow the painting's seed, as in run */
  a2i2a_status st = params_check(q);
  if (st) {
    char msg[600];
    snprintf(msg, sizeof msg, "%s", a2i2a_last_error());
    return fail(A2I2A_ERR_PARAM, "%s:%d: %s", source, row->line, msg);
  }
  return A2I2A_OK;
}

static a2i2a_status add_item(batch_plan *plan, const source_row *row, const a2i2a_run_params *q, const char *hex,
                             const char *unreadable) {
  batch_item it;
  memset(&it, 0, sizeof it);
  it.p = *q;
  it.line = row->line;
  snprintf(it.input_sha256, sizeof it.input_sha256, "%s", hex);
  /* the item's strings live in the plan: the rows' cells go when expansion ends */
  it.input = keep(plan, row->path);
  it.unreadable = keep(plan, unreadable);
  for (int i = 0; i < param_count(); i++) {
    const param_def *d = param_at(i);
    if (d->type != PARAM_TEXT && d->type != PARAM_CHOICE) continue;
    const char **f = param_field(d, &it.p);
    if (*f) *f = keep(plan, *f);
  }
  if (!it.input) return fail(A2I2A_ERR_NOMEM, "out of memory");
  item_id(&it);
  if (batch_find(plan, it.id)) return A2I2A_OK; /* the same sound and settings twice: once */
  plan->items[plan->nitems++] = it;
  return A2I2A_OK;
}

a2i2a_status batch_expand(const char *source, const batch_settings *s, batch_plan *plan) {
  memset(plan, 0, sizeof *plan);
  source_rows r;
  memset(&r, 0, sizeof r);
  struct stat sb;
  if (stat(source, &sb) != 0) return fail(A2I2A_ERR_IO, "%s: %s", source, strerror(errno));
  a2i2a_status st = A2I2A_OK;
  if (S_ISDIR(sb.st_mode)) {
    char dir[PATH_LEN];
    snprintf(dir, sizeof dir, "%s", source);
    for (size_t n = strlen(dir); n > 1 && dir[n - 1] == '/'; n--) dir[n - 1] = 0;
    st = scan_folder(dir, &r, 0);
    if (!st) qsort(r.rows, (size_t)r.n, sizeof *r.rows, by_path);
    if (!st && !r.n) st = fail(A2I2A_ERR_FORMAT, "%s: no sound in the folder (.wav, .flac, .ogg, .opus, .mp3, ...)", source);
  } else {
    FILE *f = fopen(source, "r");
    if (!f) return fail(A2I2A_ERR_IO, "%s: %s", source, strerror(errno));
    st = is_csv(source) ? read_csv(source, f, &r) : read_list(source, f, &r);
    fclose(f);
    if (!st && !r.n) st = fail(A2I2A_ERR_FORMAT, "%s: no sound listed", source);
  }
  int nprompts = s->nprompts ? s->nprompts : 1, nseeds = s->nseeds ? s->nseeds : 1;
  if (!st && (double)r.n * nprompts * nseeds > BATCH_MAX_ITEMS)
    st = fail(A2I2A_ERR_LIMIT, "%s: more than %d items", source, BATCH_MAX_ITEMS);
  if (!st && !(plan->items = calloc((size_t)r.n * nprompts * nseeds, sizeof *plan->items)))
    st = fail(A2I2A_ERR_NOMEM, "out of memory");
  /* every row's settings before any hashing: a bad value stops the batch before its work */
  a2i2a_run_params *rowp = st ? NULL : calloc((size_t)r.n + 1, sizeof *rowp);
  int *flags = st ? NULL : calloc((size_t)r.n * 2 + 2, sizeof *flags);
  if (!st && (!rowp || !flags)) st = fail(A2I2A_ERR_NOMEM, "out of memory");
  for (int i = 0; i < r.n && !st; i++) st = row_params(source, &r, &r.rows[i], s, &rowp[i], &flags[2 * i], &flags[2 * i + 1]);
  for (int i = 0; i < r.n && !st; i++) {
    char hex[65] = "", why[600] = "";
    if (sha256_file(r.rows[i].path, hex)) snprintf(why, sizeof why, "%s", a2i2a_last_error()), hex[0] = 0;
    for (int k = 0; k < (flags[2 * i] ? 1 : nprompts) && !st; k++)
      for (int j = 0; j < (flags[2 * i + 1] ? 1 : nseeds) && !st; j++) {
        a2i2a_run_params q = rowp[i];
        if (!flags[2 * i] && s->nprompts) q.i2i.prompt = s->prompts[k];
        if (!flags[2 * i + 1] && s->nseeds) q.i2i.seed = q.i2a.seed = s->seeds[j];
        st = add_item(plan, &r.rows[i], &q, hex, why[0] ? why : NULL);
      }
  }
  free(rowp), free(flags);
  plan->source = st ? NULL : keep(plan, source);
  if (!st && !plan->source) st = fail(A2I2A_ERR_NOMEM, "out of memory");
  rows_free(&r);
  if (st) batch_plan_free(plan);
  return st;
}

/* ---------------------------------------------------------------- states */

static void state_path(char *out, const char *outdir, const char *id, const char *suffix) {
  snprintf(out, PATH_LEN, "%s/" STATE_DIR "/%s%s", outdir, id, suffix);
}

batch_state batch_item_state(const char *outdir, const char *id, const char *input_sha256, int verify, char *reason,
                             size_t reason_size) {
  char path[PATH_LEN + 16], dir[PATH_LEN];
  if (reason_size) reason[0] = 0;
  snprintf(dir, sizeof dir, "%s/%s", outdir, id);
  snprintf(path, sizeof path, "%s/run.json", dir);
  chain_record rec;
  int done = 0;
  if (access(path, F_OK) == 0 && chain_runjson_read(path, &rec) == A2I2A_OK) {
    done = !input_sha256 || !input_sha256[0] || !strcmp(rec.input_sha256, input_sha256);
    for (int k = 0; k < rec.noutputs && done; k++) {
      char file[PATH_LEN + 80], hex[65];
      snprintf(file, sizeof file, "%s/%s", dir, rec.output_name[k]);
      done = verify ? sha256_file(file, hex) == A2I2A_OK && !strcmp(hex, rec.output_sha256[k]) : access(file, F_OK) == 0;
    }
    chain_record_free(&rec);
  }
  if (done) return BATCH_DONE;
  state_path(path, outdir, id, ".failed");
  FILE *f = fopen(path, "r");
  if (!f) return BATCH_PENDING;
  if (reason_size && !fgets(reason, (int)reason_size, f)) reason[0] = 0;
  if (reason_size) trim(reason);
  fclose(f);
  return BATCH_FAILED;
}

/* One line into OUTDIR/.a2i2a-batch/NAME, atomically. */
static a2i2a_status write_state_file(const char *outdir, const char *name, const char *text) {
  char path[PATH_LEN];
  snprintf(path, sizeof path, "%s/" STATE_DIR, outdir);
  a2i2a_status st = make_output_dir(path);
  outfile of;
  state_path(path, outdir, name, "");
  if (!st) st = outfile_open(&of, path, 1);
  if (st) return st;
  fprintf(of.f, "%s\n", text);
  return outfile_commit(&of);
}

a2i2a_status batch_run_item(a2i2a_model *model, const char *outdir, const batch_item *it, a2i2a_job *job) {
  char dir[PATH_LEN], failed[PATH_LEN];
  a2i2a_status st = make_output_dir(outdir);
  if (st) return st;
  snprintf(dir, sizeof dir, "%s/%s", outdir, it->id);
  if (it->unreadable) st = fail(A2I2A_ERR_IO, "%s", it->unreadable);
  /* force: what an interrupted run of the item left is replaced */
  else st = chain_run_named(model, it->input, NULL, dir, &it->p, 1, job);
  if (st == A2I2A_ERR_CANCELLED) return st;
  state_path(failed, outdir, it->id, ".failed");
  if (!st) {
    unlink(failed);
    return st;
  }
  char reason[1024], name[64];
  snprintf(reason, sizeof reason, "%s", a2i2a_last_error());
  for (char *c = reason; *c; c++)
    if (*c == '\n') *c = ' ';
  snprintf(name, sizeof name, "%s.failed", it->id);
  write_state_file(outdir, name, reason);
  fail(st, "%s", reason); /* the item's reason, not the record's */
  return st;
}

/* ---------------------------------------------------------------- batch.json */

static const char *state_name(batch_state s) { return s == BATCH_DONE ? "done" : s == BATCH_FAILED ? "failed" : "pending"; }

/* batch.json from item descriptions (id, input, seed, prompt), each given its state now. */
static a2i2a_status write_json(const char *outdir, const char *source, cJSON *items) {
  char path[PATH_LEN];
  snprintf(path, sizeof path, "%s/" STATE_DIR, outdir);
  a2i2a_status st = make_output_dir(outdir);
  if (!st) st = make_output_dir(path);
  if (st) return st;
  snprintf(path, sizeof path, "%s/" STATE_DIR "/lock", outdir);
  int lock = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (lock < 0) return fail(A2I2A_ERR_IO, "%s: %s", path, strerror(errno));
  flock(lock, LOCK_EX); /* shards finishing together take turns */
  int counts[3] = {0};
  cJSON *item;
  cJSON_ArrayForEach(item, items) {
    char reason[1024];
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(item, "id"));
    batch_state s = batch_item_state(outdir, id ? id : "", NULL, 0, reason, sizeof reason);
    counts[s]++;
    cJSON_DeleteItemFromObject(item, "state");
    cJSON_DeleteItemFromObject(item, "reason");
    cJSON_AddStringToObject(item, "state", state_name(s));
    if (s == BATCH_FAILED) cJSON_AddStringToObject(item, "reason", reason);
  }
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "a2i2a_batch", "1");
  cJSON_AddStringToObject(o, "source", source);
  cJSON_AddNumberToObject(o, "done", counts[BATCH_DONE]);
  cJSON_AddNumberToObject(o, "failed", counts[BATCH_FAILED]);
  cJSON_AddNumberToObject(o, "pending", counts[BATCH_PENDING]);
  cJSON_AddItemReferenceToObject(o, "items", items);
  char *text = cJSON_Print(o);
  cJSON_Delete(o);
  outfile of;
  snprintf(path, sizeof path, "%s/batch.json", outdir);
  if (!text) st = fail(A2I2A_ERR_NOMEM, "out of memory");
  if (!st) st = outfile_open(&of, path, 1);
  if (!st) {
    fprintf(of.f, "%s\n", text);
    st = outfile_commit(&of);
  }
  free(text);
  close(lock);
  return st;
}

static cJSON *item_json(const char *id, const char *input, const a2i2a_run_params *p) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "id", id);
  cJSON_AddStringToObject(o, "input", input);
  cJSON_AddItemToObject(o, "seed", param_to_json(param_find("i2i.seed"), p));
  cJSON_AddItemToObject(o, "prompt", param_to_json(param_find("i2i.prompt"), p));
  return o;
}

a2i2a_status batch_write_json(const char *outdir, const batch_plan *plan) {
  cJSON *items = cJSON_CreateArray();
  for (int i = 0; i < plan->nitems; i++)
    cJSON_AddItemToArray(items, item_json(plan->items[i].id, plan->items[i].input, &plan->items[i].p));
  a2i2a_status st = write_json(outdir, plan->source, items);
  cJSON_Delete(items);
  return st;
}

/* OUTDIR/batch.json as JSON (its items an array). */
static a2i2a_status read_json(const char *outdir, cJSON **out) {
  char path[PATH_LEN];
  snprintf(path, sizeof path, "%s/batch.json", outdir);
  FILE *f = fopen(path, "rb");
  if (!f) return fail(A2I2A_ERR_IO, "%s: %s (not a batch folder?)", path, strerror(errno));
  char *text = NULL;
  size_t n = 0;
  FILE *m = open_memstream(&text, &n);
  char buf[65536];
  size_t got;
  while (m && (got = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, got, m);
  fclose(f);
  if (m) fclose(m);
  cJSON *o = text ? cJSON_Parse(text) : NULL;
  free(text);
  if (!o || !cJSON_IsArray(cJSON_GetObjectItem(o, "items")) || !cJSON_IsString(cJSON_GetObjectItem(o, "source"))) {
    cJSON_Delete(o);
    return fail(A2I2A_ERR_FORMAT, "%s: not a batch.json (no \"source\" and \"items\")", path);
  }
  *out = o;
  return A2I2A_OK;
}

a2i2a_status batch_status_read(const char *outdir, batch_status *s) {
  memset(s, 0, sizeof *s);
  cJSON *o;
  a2i2a_status st = read_json(outdir, &o);
  if (st) return st;
  cJSON *items = cJSON_GetObjectItem(o, "items"), *item;
  int n = cJSON_GetArraySize(items);
  s->items = calloc((size_t)n + 1, sizeof *s->items);
  if (!s->items) st = fail(A2I2A_ERR_NOMEM, "out of memory");
  cJSON_ArrayForEach(item, items) {
    if (st) break;
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(item, "id"));
    const char *input = cJSON_GetStringValue(cJSON_GetObjectItem(item, "input"));
    if (!id || !input || strlen(id) != BATCH_ID_LEN || strchr(id, '/')) {
      st = fail(A2I2A_ERR_FORMAT, "%s/batch.json: item %d has no id or input", outdir, s->nitems + 1);
      break;
    }
    batch_status_item *it = &s->items[s->nitems++];
    char reason[1024];
    snprintf(it->id, sizeof it->id, "%s", id);
    it->input = strdup(input);
    it->state = batch_item_state(outdir, id, NULL, 0, reason, sizeof reason);
    it->reason = it->state == BATCH_FAILED ? strdup(reason) : NULL;
    s->done += it->state == BATCH_DONE, s->failed += it->state == BATCH_FAILED, s->pending += it->state == BATCH_PENDING;
  }
  cJSON_Delete(o);
  if (st) batch_status_free(s);
  return st;
}

void batch_status_free(batch_status *s) {
  for (int i = 0; i < s->nitems; i++) free(s->items[i].input), free(s->items[i].reason);
  free(s->items);
  memset(s, 0, sizeof *s);
}

/* ---------------------------------------------------------------- merge */

static a2i2a_status copy_file(const char *from, const char *to) {
  FILE *in = fopen(from, "rb");
  if (!in) return fail(A2I2A_ERR_IO, "%s: %s", from, strerror(errno));
  FILE *out = fopen(to, "wb");
  a2i2a_status st = out ? A2I2A_OK : fail(A2I2A_ERR_IO, "%s: %s", to, strerror(errno));
  char buf[65536];
  size_t n;
  while (!st && (n = fread(buf, 1, sizeof buf, in)) > 0)
    if (fwrite(buf, 1, n, out) != n) st = fail(A2I2A_ERR_IO, "%s: cannot write: %s", to, strerror(errno));
  if (!st && ferror(in)) st = fail(A2I2A_ERR_IO, "%s: cannot read", from);
  fclose(in);
  if (out && fclose(out) != 0 && !st) st = fail(A2I2A_ERR_IO, "%s: cannot write: %s", to, strerror(errno));
  return st;
}

/* The item folder from/ID copied whole into outdir/ID (replacing an unfinished one there). */
static a2i2a_status copy_item(const char *from, const char *outdir, const char *id) {
  char src[PATH_LEN], dst[PATH_LEN + 300], final[PATH_LEN];
  snprintf(src, sizeof src, "%s/%s", from, id);
  run_folder td;
  a2i2a_status st = run_folder_create(&td, outdir);
  if (st) return st;
  DIR *d = opendir(src);
  if (!d) st = fail(A2I2A_ERR_IO, "%s: %s", src, strerror(errno));
  struct dirent *e;
  while (!st && (e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char file[PATH_LEN + 300];
    struct stat sb;
    snprintf(file, sizeof file, "%s/%s", src, e->d_name);
    if (stat(file, &sb) != 0 || !S_ISREG(sb.st_mode)) continue;
    snprintf(dst, sizeof dst, "%s/%s", td.path, e->d_name);
    st = copy_file(file, dst);
  }
  if (d) closedir(d);
  snprintf(final, sizeof final, "%s/%s", outdir, id);
  if (!st) remove_tree_at(AT_FDCWD, final);
  if (!st && rename(td.path, final) != 0) st = fail(A2I2A_ERR_IO, "%s: cannot move into place: %s", final, strerror(errno));
  if (!st) td.path[0] = 0; /* renamed: nothing left to remove */
  if (td.path[0]) run_folder_remove(&td);
  else close(td.lock);
  return st;
}

a2i2a_status batch_merge(const char *outdir, const char *const *dirs, int ndirs, int *copied) {
  *copied = 0;
  a2i2a_status st = make_output_dir(outdir);
  cJSON *items = cJSON_CreateArray(), *first = NULL;
  for (int k = 0; k < ndirs && !st; k++) {
    cJSON *o, *item;
    if ((st = read_json(dirs[k], &o))) break;
    cJSON_ArrayForEach(item, cJSON_GetObjectItem(o, "items")) {
      const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(item, "id"));
      if (!id || strlen(id) != BATCH_ID_LEN || strchr(id, '/')) {
        st = fail(A2I2A_ERR_FORMAT, "%s/batch.json: an item without a proper id", dirs[k]);
        break;
      }
      int known = 0;
      cJSON *have;
      cJSON_ArrayForEach(have, items) known |= !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(have, "id")), id);
      if (!known) cJSON_AddItemToArray(items, cJSON_Duplicate(item, 1));
      char reason[1024];
      if (batch_item_state(outdir, id, NULL, 1, NULL, 0) == BATCH_DONE) continue;
      batch_state s = batch_item_state(dirs[k], id, NULL, 1, reason, sizeof reason);
      if (s == BATCH_DONE) {
        if ((st = copy_item(dirs[k], outdir, id))) break;
        char failed[PATH_LEN];
        state_path(failed, outdir, id, ".failed");
        unlink(failed);
        ++*copied;
      } else if (s == BATCH_FAILED) {
        char name[64];
        snprintf(name, sizeof name, "%s.failed", id);
        if ((st = write_state_file(outdir, name, reason))) break;
      }
    }
    if (!first) first = o;
    else cJSON_Delete(o);
  }
  if (!st) st = write_json(outdir, cJSON_GetStringValue(cJSON_GetObjectItem(first, "source")), items);
  cJSON_Delete(first);
  cJSON_Delete(items);
  return st;
}
