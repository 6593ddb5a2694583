/* The history: the run folders in --dir (the studio's and `a2i2a run`'s), their files, their
 * readings' loudness, deleting, zipping. Every name that comes in a request is checked
 * (letters, digits, '.', '_', '-', not starting with '.') and opened relative to --dir with
 * openat(O_NOFOLLOW): no path the client writes can reach outside --dir. A run is a folder
 * with a run.json, at the top of --dir or one level down (what `a2i2a run` writes for several
 * seeds or prompts); its ID is "NAME" or "NAME:SUB". */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "chain/params.h"
#include "common/outfile.h"
#include "studio/studio.h"

enum { MAX_RUNJSON = 1 << 20, MAX_RUNS = 10000 };

/* ---------------------------------------------------------------- names */

static int name_valid(const char *s, size_t n) {
  if (n == 0 || n > 128 || s[0] == '.') return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
          c == '-'))
      return 0;
  }
  return 1;
}

int studio_id_valid(const char *id) {
  const char *colon = strchr(id, ':');
  if (!colon) return name_valid(id, strlen(id));
  return name_valid(id, (size_t)(colon - id)) && name_valid(colon + 1, strlen(colon + 1));
}

static int open_dir_at(int at, const char *name) {
  return openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

int studio_open_run(const studio *s, const char *id) {
  if (!studio_id_valid(id)) return -1;
  char top[130];
  const char *colon = strchr(id, ':');
  snprintf(top, sizeof top, "%.*s", colon ? (int)(colon - id) : (int)strlen(id), id);
  int fd = open_dir_at(s->dirfd, top);
  if (fd < 0 || !colon) return fd;
  int sub = open_dir_at(fd, colon + 1);
  close(fd);
  return sub;
}

/* A regular file of a run folder, opened without following links; -1 if none. */
static int open_file_at(int dirfd, const char *name, struct stat *sb) {
  if (!name_valid(name, strlen(name))) return -1;
  int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return -1;
  if (fstat(fd, sb) || !S_ISREG(sb->st_mode)) {
    close(fd);
    return -1;
  }
  return fd;
}

static char *read_small(int fd, size_t max) {
  struct stat sb;
  if (fstat(fd, &sb) || sb.st_size < 0 || (size_t)sb.st_size > max) return NULL;
  char *b = malloc((size_t)sb.st_size + 1);
  if (!b) return NULL;
  size_t got = 0;
  while (got < (size_t)sb.st_size) {
    ssize_t n = pread(fd, b + got, (size_t)sb.st_size - got, (off_t)got);
    if (n <= 0) break;
    got += (size_t)n;
  }
  b[got] = 0;
  return b;
}

static cJSON *runjson_at(int runfd, struct stat *sb) {
  int fd = open_file_at(runfd, "run.json", sb);
  if (fd < 0) return NULL;
  char *text = read_small(fd, MAX_RUNJSON);
  close(fd);
  cJSON *j = text ? cJSON_Parse(text) : NULL;
  free(text);
  if (j && !cJSON_IsObject(j)) cJSON_Delete(j), j = NULL;
  return j;
}

/* ---------------------------------------------------------------- the cache */

/* Summaries of run.json and loudness of sounds, keyed by what they were computed from, so that
 * many tabs polling the history do not parse every run.json each time. */
typedef struct cache_entry {
  struct cache_entry *next;
  char key[300];
  struct timespec mtime;
  off_t size;
  char *value; /* JSON text */
} cache_entry;

struct studio_cache {
  cache_entry *head;
  int n;
};

enum { CACHE_MAX = 4096 };

static void cache_clear(struct studio_cache *c) {
  for (cache_entry *e = c->head, *next; e; e = next) {
    next = e->next;
    free(e->value);
    free(e);
  }
  memset(c, 0, sizeof *c);
}

void studio_cache_free(studio *s) {
  if (!s->cache) return;
  cache_clear(s->cache);
  free(s->cache);
  s->cache = NULL;
}

/* A copy of the cached text for key if the file is unchanged, else NULL. */
static char *cache_get(studio *s, const char *key, const struct stat *sb) {
  char *v = NULL;
  pthread_mutex_lock(&s->cache_lock);
  for (cache_entry *e = s->cache ? s->cache->head : NULL; e; e = e->next)
    if (!strcmp(e->key, key)) {
      if (e->size == sb->st_size && e->mtime.tv_sec == sb->st_mtim.tv_sec && e->mtime.tv_nsec == sb->st_mtim.tv_nsec)
        v = strdup(e->value);
      break;
    }
  pthread_mutex_unlock(&s->cache_lock);
  return v;
}

static void cache_put(studio *s, const char *key, const struct stat *sb, const char *value) {
  pthread_mutex_lock(&s->cache_lock);
  if (!s->cache) s->cache = calloc(1, sizeof *s->cache);
  if (s->cache && s->cache->n >= CACHE_MAX) cache_clear(s->cache); /* simple, and rare */
  cache_entry *e = NULL;
  for (e = s->cache ? s->cache->head : NULL; e && strcmp(e->key, key); e = e->next) {
  }
  if (!e && s->cache && (e = calloc(1, sizeof *e))) {
    snprintf(e->key, sizeof e->key, "%s", key);
    e->next = s->cache->head;
    s->cache->head = e;
    s->cache->n++;
  }
  if (e) {
    free(e->value);
    e->value = strdup(value);
    e->mtime = sb->st_mtim;
    e->size = sb->st_size;
  }
  pthread_mutex_unlock(&s->cache_lock);
}

/* ---------------------------------------------------------------- summaries */

static const char *base_name(const char *path) {
  const char *b = path ? strrchr(path, '/') : NULL;
  return b ? b + 1 : path ? path : "";
}

static void iso_time(char *b, size_t n, time_t t) {
  struct tm tm;
  localtime_r(&t, &tm);
  strftime(b, n, "%Y-%m-%dT%H:%M:%S%z", &tm);
}

/* The name the library can open for an open file: that file, not its path looked up again. */
static const char *fd_path(int fd, char path[32]) {
  snprintf(path, 32, "/proc/self/fd/%d", fd);
  return path;
}

/* The run.json at fd read by the chain; 0 or -1. */
static int record_of(int fd, chain_record *rec) {
  char path[32];
  return chain_runjson_read(fd_path(fd, path), rec) ? -1 : 0;
}

int studio_run_record(const studio *s, const char *id, chain_record *rec) {
  int runfd = studio_open_run(s, id);
  struct stat sb;
  int fd = runfd >= 0 ? open_file_at(runfd, "run.json", &sb) : -1;
  int rc = fd >= 0 ? record_of(fd, rec) : -1;
  if (fd >= 0) close(fd);
  if (runfd >= 0) close(runfd);
  return rc;
}

/* What the gallery shows of a run, by its name there and its parameter. */
static const char *const summary_params[][2] = {
    {"preset", "preset"},     {"prompt", "i2i.prompt"}, {"seed", "i2i.seed"},   {"steps", "i2i.steps"},
    {"strength", "i2i.strength"}, {"sampler", "i2i.sampler"}, {"style", "a2i.style"}, {"readings", "i2a.readings"},
};

/* What the gallery shows of a run, as JSON text (malloc'd, cached by run.json's size and time);
 * NULL if the folder holds no run.json the chain can read. */
static char *summary(studio *s, int runfd, const char *id, struct stat *sb) {
  int fd = open_file_at(runfd, "run.json", sb);
  if (fd < 0) return NULL;
  char key[300];
  snprintf(key, sizeof key, "summary:%s", id);
  char *cached = cache_get(s, key, sb);
  chain_record rec;
  if (cached || record_of(fd, &rec)) {
    close(fd);
    return cached;
  }
  close(fd);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "id", id);
  char when[40];
  iso_time(when, sizeof when, sb->st_mtim.tv_sec);
  cJSON_AddStringToObject(o, "created", when);
  cJSON_AddNumberToObject(o, "time", (double)sb->st_mtim.tv_sec + 1e-9 * (double)sb->st_mtim.tv_nsec);
  for (size_t i = 0; i < sizeof summary_params / sizeof *summary_params; i++)
    cJSON_AddItemToObject(o, summary_params[i][0], param_to_json(param_find(summary_params[i][1]), &rec.p));
  cJSON_AddStringToObject(o, "model", base_name(rec.p.model));
  cJSON_AddStringToObject(o, "input", base_name(rec.input_path));
  cJSON *files = cJSON_AddArrayToObject(o, "files");
  for (int k = 0; k < rec.noutputs; k++) cJSON_AddItemToArray(files, cJSON_CreateString(rec.output_name[k]));
  chain_record_free(&rec);
  char *text = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  if (text) cache_put(s, key, sb, text);
  return text;
}

static int contains_ci(const char *hay, const char *needle) { return hay && strcasestr(hay, needle) != NULL; }

static int matches(const char *summary_text, const char *q) {
  if (!q || !*q) return 1;
  cJSON *o = cJSON_Parse(summary_text);
  const cJSON *seed = cJSON_GetObjectItemCaseSensitive(o, "seed");
  char sb[32] = "";
  if (cJSON_IsNumber(seed)) snprintf(sb, sizeof sb, "%.0f", seed->valuedouble);
  else if (cJSON_IsString(seed)) snprintf(sb, sizeof sb, "%s", seed->valuestring);
  int found = !strcmp(sb, q) || (q[0] == '#' && !strcmp(sb, q + 1));
  static const char *const keys[] = {"prompt", "id", "preset", "input", "model", "style"};
  for (size_t i = 0; i < sizeof keys / sizeof *keys && !found; i++) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, keys[i]);
    found = cJSON_IsString(v) && contains_ci(v->valuestring, q);
  }
  cJSON_Delete(o);
  return found;
}

typedef struct {
  char *text; /* the summary */
  char id[300];
  double time;
} run_item;

static int newest_first(const void *a, const void *b) {
  const run_item *x = a, *y = b;
  if (x->time != y->time) return x->time < y->time ? 1 : -1;
  return strcmp(x->id, y->id);
}

static void collect(studio *s, int dirfd, const char *parent, run_item **items, int *n, int *cap, int depth) {
  /* a description of its own: readdir moves the offset, which dup would share between threads */
  int dfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
  if (!d) {
    if (dfd >= 0) close(dfd);
    return;
  }
  struct dirent *e;
  while ((e = readdir(d)) && *n < MAX_RUNS) {
    if (!name_valid(e->d_name, strlen(e->d_name))) continue;
    int fd = open_dir_at(dirfd, e->d_name);
    if (fd < 0) continue;
    char id[300];
    if (parent) snprintf(id, sizeof id, "%s:%s", parent, e->d_name);
    else snprintf(id, sizeof id, "%s", e->d_name);
    struct stat sb;
    char *text = summary(s, fd, id, &sb);
    if (text) {
      if (*n == *cap) {
        int c = *cap ? 2 * *cap : 64;
        run_item *m = realloc(*items, (size_t)c * sizeof *m);
        if (!m) {
          free(text);
          close(fd);
          break;
        }
        *items = m, *cap = c;
      }
      run_item *it = &(*items)[(*n)++];
      it->text = text;
      it->time = (double)sb.st_mtim.tv_sec + 1e-9 * (double)sb.st_mtim.tv_nsec;
      memcpy(it->id, id, sizeof it->id);
    } else if (depth == 0) {
      collect(s, fd, e->d_name, items, n, cap, 1); /* several runs of one `a2i2a run` */
    }
    close(fd);
  }
  closedir(d);
}

void studio_runs_list(studio *s, const char *query, int limit, studio_reply *r) {
  run_item *items = NULL;
  int n = 0, cap = 0;
  collect(s, s->dirfd, NULL, &items, &n, &cap, 0);
  if (n > 1) qsort(items, (size_t)n, sizeof *items, newest_first);
  /* the cached texts side by side: many tabs polling cost no JSON building */
  studio_text t = {0};
  studio_text_add(&t, "{\"runs\":[");
  int shown = 0, total = 0;
  for (int i = 0; i < n; i++) {
    if (matches(items[i].text, query)) {
      total++;
      if (shown++ < limit) studio_text_add(&t, shown > 1 ? "," : ""), studio_text_add(&t, items[i].text);
    }
    free(items[i].text);
  }
  free(items);
  char tail[48];
  snprintf(tail, sizeof tail, "],\"total\":%d}", total);
  studio_text_add(&t, tail);
  studio_reply_text(r, 200, &t);
}

/* ---------------------------------------------------------------- one run */

static void not_found(studio_reply *r, const char *what) {
  studio_reply_error(r, 404, "not_found", what, NULL);
}

/* The loudness of one sound of a run, through the cache: {lufs, seconds, peak}. */
static cJSON *sound_info(studio *s, int runfd, const char *id, const char *name) {
  struct stat sb;
  int fd = open_file_at(runfd, name, &sb);
  if (fd < 0) return NULL;
  char key[300];
  snprintf(key, sizeof key, "loudness:%s/%s", id, name);
  char *cached = cache_get(s, key, &sb);
  cJSON *o = cached ? cJSON_Parse(cached) : NULL;
  free(cached);
  if (!o) {
    char path[32];
    double lufs, seconds = 0, peak = 0;
    o = cJSON_CreateObject();
    if (studio_loudness_file(fd_path(fd, path), &lufs, &seconds, &peak) == A2I2A_OK) {
      if (isfinite(lufs)) cJSON_AddNumberToObject(o, "lufs", round(lufs * 100) / 100);
      else cJSON_AddNullToObject(o, "lufs");
      cJSON_AddNumberToObject(o, "seconds", seconds);
      cJSON_AddNumberToObject(o, "peak", peak);
    } else {
      cJSON_AddNullToObject(o, "lufs");
      cJSON_AddStringToObject(o, "error", a2i2a_last_error());
    }
    char *t = cJSON_PrintUnformatted(o);
    if (t) cache_put(s, key, &sb, t);
    free(t);
  }
  close(fd);
  return o;
}

void studio_run_detail(studio *s, const char *id, studio_reply *r) {
  int runfd = studio_open_run(s, id);
  if (runfd < 0) return not_found(r, "There is no such run.");
  struct stat sb;
  char *text = summary(s, runfd, id, &sb);
  cJSON *o = text ? cJSON_Parse(text) : NULL;
  free(text);
  cJSON *run = o ? runjson_at(runfd, &sb) : NULL;
  chain_record rec;
  if (!o || !run || studio_run_record(s, id, &rec)) {
    cJSON_Delete(o);
    cJSON_Delete(run);
    close(runfd);
    return not_found(r, "There is no such run (or its run.json cannot be read).");
  }
  cJSON_AddItemToObject(o, "settings", run);
  cJSON_AddItemToObject(o, "params", studio_params_to_json(&rec.p));
  /* the sound it started from, when it is one of the studio's uploads */
  char up[STUDIO_PATH];
  const char *in = rec.input_path;
  if (studio_upload_path(s, base_name(in), up, sizeof up) == 0 && !strcmp(up, in))
    cJSON_AddStringToObject(o, "upload", base_name(in));
  else cJSON_AddNullToObject(o, "upload");
  /* one entry per reading, in the order of run.json, with what the players need */
  cJSON *readings = cJSON_AddArrayToObject(o, "sounds");
  for (int k = 0; k < rec.noutputs; k++) {
    const char *file = rec.output_name[k];
    if (strncmp(studio_content_type(file), "audio/", 6)) continue;
    cJSON *it = sound_info(s, runfd, id, file);
    if (!it) continue;
    char reading[128];
    snprintf(reading, sizeof reading, "%.*s", (int)(strrchr(file, '.') - file), file);
    cJSON_AddStringToObject(it, "reading", reading);
    cJSON_AddStringToObject(it, "file", file);
    const a2i2a_entry *e = a2i2a_list_find(A2I2A_LIST_READINGS, reading);
    cJSON_AddStringToObject(it, "description", e && e->description ? e->description : "");
    cJSON_AddItemToArray(readings, it);
  }
  chain_record_free(&rec);
  close(runfd);
  studio_reply_json(r, 200, o);
}

void studio_run_file(studio *s, const char *id, const char *name, studio_reply *r) {
  int runfd = studio_open_run(s, id);
  if (runfd < 0) return not_found(r, "There is no such run.");
  struct stat sb;
  int fd = open_file_at(runfd, name, &sb);
  close(runfd);
  if (fd < 0) return not_found(r, "This run has no such file.");
  r->status = 200;
  r->fd = fd;
  r->fd_size = sb.st_size;
  r->type = studio_content_type(name);
}

/* ---------------------------------------------------------------- removing */

void studio_run_delete(studio *s, const char *id, studio_reply *r) {
  int runfd = studio_open_run(s, id);
  if (runfd < 0) return not_found(r, "There is no such run.");
  struct stat sb;
  int fd = open_file_at(runfd, "run.json", &sb);
  if (fd < 0) {
    close(runfd);
    return not_found(r, "There is no such run.");
  }
  close(fd);
  /* out of sight at once (one rename), then removed */
  char parent[130], name[130], trash[64], rnd[17];
  const char *colon = strchr(id, ':');
  snprintf(parent, sizeof parent, "%.*s", colon ? (int)(colon - id) : 0, id);
  snprintf(name, sizeof name, "%s", colon ? colon + 1 : id);
  studio_random_hex(rnd, 8);
  snprintf(trash, sizeof trash, ".studio/tmp/deleted-%s", rnd);
  int pfd = colon ? open_dir_at(s->dirfd, parent) : dup(s->dirfd);
  int ok = pfd >= 0 && renameat(pfd, name, s->dirfd, trash) == 0;
  int err = errno;
  if (pfd >= 0) close(pfd);
  close(runfd);
  if (!ok) {
    char detail[256];
    snprintf(detail, sizeof detail, "%s: %s", id, strerror(err));
    return studio_reply_error(r, 500, "delete_failed", "The run could not be deleted.", detail);
  }
  remove_tree_at(s->dirfd, trash);
  pthread_mutex_lock(&s->lock);
  studio_changed(s);
  s->runs_version = s->version;
  pthread_mutex_unlock(&s->lock);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "deleted", id);
  studio_reply_json(r, 200, o);
}

void studio_run_zip(studio *s, const char *id, studio_reply *r) {
  int runfd = studio_open_run(s, id);
  if (runfd < 0) return not_found(r, "There is no such run.");
  char path[STUDIO_PATH], rnd[17];
  studio_random_hex(rnd, 8);
  snprintf(path, sizeof path, "%s/.studio/tmp/zip-%s.zip", s->dir, rnd);
  char prefix[300];
  snprintf(prefix, sizeof prefix, "%s", id);
  for (char *c = prefix; *c; c++)
    if (*c == ':') *c = '_';
  a2i2a_status st = studio_zip_folder(runfd, prefix, path);
  close(runfd);
  int fd = st ? -1 : open(path, O_RDONLY | O_CLOEXEC);
  unlink(path); /* the open file lives until it is sent */
  struct stat sb;
  if (fd < 0 || fstat(fd, &sb)) {
    if (fd >= 0) close(fd);
    return studio_reply_error(r, 500, "zip_failed", "The zip could not be made.", a2i2a_last_error());
  }
  r->status = 200;
  r->fd = fd;
  r->fd_size = sb.st_size;
  r->type = "application/zip";
  snprintf(r->disposition, sizeof r->disposition, "attachment; filename=\"%.200s.zip\"", prefix);
}
