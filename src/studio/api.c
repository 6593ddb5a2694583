/* The JSON API's requests that do not stream: routing, and the jobs' submission and cancel.
 * Every error is a JSON object {"error": words for a person, "code": for programs,
 * "detail": the library's one line, when there is one}. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "studio/studio.h"

int studio_random_hex(char *out, int nbytes) {
  unsigned char b[64];
  if (nbytes > 64) nbytes = 64;
  ssize_t got = 0;
  while (got < nbytes) {
    ssize_t n = getrandom(b + got, (size_t)(nbytes - got), 0);
    if (n <= 0) return -1;
    got += n;
  }
  for (int i = 0; i < nbytes; i++) snprintf(out + 2 * i, 3, "%02x", b[i]);
  return 0;
}

const char *studio_content_type(const char *name) {
  static const char *const types[][2] = {
      {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},   {".svg", "image/svg+xml"},
      {".png", "image/png"},                 {".wav", "audio/wav"},
      {".flac", "audio/flac"},               {".json", "application/json"},
  };
  const char *dot = strrchr(name, '.');
  for (size_t i = 0; dot && i < sizeof types / sizeof *types; i++)
    if (!strcmp(dot, types[i][0])) return types[i][1];
  return "application/octet-stream";
}

void studio_reply_json(studio_reply *r, int status, void *json) {
  r->status = status;
  r->body = cJSON_PrintUnformatted(json);
  r->size = r->body ? strlen(r->body) : 0;
  r->type = "application/json";
  r->no_store = 1;
  cJSON_Delete(json);
  if (!r->body) r->status = 500;
}

void studio_reply_error(studio_reply *r, int status, const char *code, const char *message, const char *detail) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "error", message);
  cJSON_AddStringToObject(o, "code", code);
  if (detail && *detail) cJSON_AddStringToObject(o, "detail", detail);
  studio_reply_json(r, status, o);
}

void studio_text_add(studio_text *t, const char *s) {
  size_t n = strlen(s);
  if (t->failed) return;
  if (t->len + n + 1 > t->cap) {
    size_t cap = 2 * (t->len + n + 1);
    char *b = realloc(t->buf, cap);
    if (!b) {
      free(t->buf);
      memset(t, 0, sizeof *t);
      t->failed = 1;
      return;
    }
    t->buf = b, t->cap = cap;
  }
  memcpy(t->buf + t->len, s, n + 1);
  t->len += n;
}

static void reply_text(studio_reply *r, int status, char *text) {
  r->status = text ? status : 500;
  r->body = text;
  r->size = text ? strlen(text) : 0;
  r->type = "application/json";
  r->no_store = 1;
}

void studio_reply_text(studio_reply *r, int status, studio_text *t) {
  reply_text(r, status, t->failed ? NULL : t->buf);
  memset(t, 0, sizeof *t);
}

/* ---------------------------------------------------------------- jobs */

static void run_id(char *out, size_t n) {
  time_t t = time(NULL);
  struct tm tm;
  localtime_r(&t, &tm);
  char when[32], rnd[13];
  strftime(when, sizeof when, "%Y%m%d-%H%M%S", &tm);
  studio_random_hex(rnd, 6);
  snprintf(out, n, "%s-%s", when, rnd);
}

static const char *str_of(const cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* run.json's input and model of run id: where "run again" starts from */
static int run_recorded(studio *s, const char *id, char *input, size_t n, char *model, size_t mn) {
  chain_record rec;
  if (studio_run_record(s, id, &rec)) return -1;
  struct stat sb;
  int ok = stat(rec.input_path, &sb) == 0 && S_ISREG(sb.st_mode);
  if (ok) snprintf(input, n, "%s", rec.input_path), snprintf(model, mn, "%s", rec.p.model);
  chain_record_free(&rec);
  return ok ? 0 : -1;
}

static void job_submit(studio *s, const char *body, size_t size, studio_reply *r) {
  cJSON *req = cJSON_ParseWithLength(body ? body : "", size);
  if (!cJSON_IsObject(req)) {
    cJSON_Delete(req);
    return studio_reply_error(r, 400, "bad_json", "The request is not a JSON object.", NULL);
  }
  studio_job *j = calloc(1, sizeof *j);
  if (!j) {
    cJSON_Delete(req);
    return studio_reply_error(r, 500, "no_memory", "The server is out of memory.", NULL);
  }
  studio_params_init(&j->params);
  j->s = s;
  char rnd[17], err[512], recorded_model[STUDIO_PATH] = "";
  studio_random_hex(rnd, 8);
  snprintf(j->id, sizeof j->id, "j%s", rnd);
  run_id(j->run_id, sizeof j->run_id);
  const cJSON *pv = cJSON_GetObjectItemCaseSensitive(req, "preview_vae_every");
  if (cJSON_IsNumber(pv) && pv->valuedouble >= 0 && pv->valuedouble <= 1000) j->preview_vae_every = (int)pv->valuedouble;

  int status = 0;
  const char *code = NULL, *msg = NULL;
  const char *replay = str_of(req, "replay");
  const cJSON *input = cJSON_GetObjectItemCaseSensitive(req, "input");
  const char *upload = str_of(input, "upload"), *from_run = str_of(input, "run");
  if (replay) {
    chain_record rec;
    if (studio_run_record(s, replay, &rec)) status = 404, code = "not_found", msg = "There is no such run to replay.";
    else chain_record_free(&rec);
    if (!status) {
      j->replay = 1;
      char rel[300];
      snprintf(rel, sizeof rel, "%s", replay);
      for (char *c = rel; *c; c++)
        if (*c == ':') *c = '/';
      snprintf(j->replay_json, sizeof j->replay_json, "%s/%s/run.json", s->dir, rel);
      snprintf(j->input_name, sizeof j->input_name, "replay of %s", replay);
    }
  } else if (upload) {
    if (studio_upload_path(s, upload, j->input, sizeof j->input))
      status = 404, code = "no_upload", msg = "The sound to run on is not on the server (upload it again).";
  } else if (from_run) {
    if (run_recorded(s, from_run, j->input, sizeof j->input, recorded_model, sizeof recorded_model))
      status = 404, code = "no_input", msg = "The sound that run started from is no longer there.";
  } else {
    status = 400, code = "no_input", msg = "Give a sound: input.upload (an upload's id) or input.run (a run's id).";
  }
  if (!status && !replay) {
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(req, "params");
    if (studio_params_from_json(params, s->cfg.model, s->cfg.vocoder, &j->params)) {
      snprintf(err, sizeof err, "%s", a2i2a_last_error());
      status = 422, code = "bad_params", msg = err;
    } else {
      if (!studio_model_allowed(s, j->params.p.model, *recorded_model ? recorded_model : NULL))
        status = 403, code = "model_not_allowed",
        msg = "This model is not one the studio offers (its --model, the presets' models, or the model of the run "
              "being run again).";
      else if (!studio_vocoder_allowed(s, j->params.p.i2a.vocoder))
        status = 403, code = "vocoder_not_allowed",
        msg = "This vocoder is not one the studio offers (its --vocoder).";
    }
    const char *name = str_of(req, "input_name"), *base = strrchr(j->input, '/');
    if (!*j->input_name) studio_printable(name ? name : base ? base + 1 : j->input, j->input_name, sizeof j->input_name);
  }
  cJSON_Delete(req);
  cJSON *o = status ? NULL : studio_job_submit(s, j, err, sizeof err);
  if (!status && !o) status = 503, code = "queue_full", msg = err;
  if (status) {
    studio_params_free(&j->params);
    free(j);
    return studio_reply_error(r, status, code, msg, NULL);
  }
  studio_reply_json(r, 202, o);
}

static void job_cancel(studio *s, const char *id, studio_reply *r) {
  pthread_mutex_lock(&s->lock);
  studio_job *j = studio_job_find(s, id);
  if (!j) {
    pthread_mutex_unlock(&s->lock);
    return studio_reply_error(r, 404, "not_found", "There is no such job.", NULL);
  }
  if (j->state == JOB_QUEUED) {
    j->state = JOB_CANCELLED;
    snprintf(j->error, sizeof j->error, "Cancelled before it started.");
    studio_queue_moved(s);
  } else if (j->state == JOB_RUNNING) {
    j->cancel_requested = 1;
    a2i2a_job_cancel(j->engine);
  }
  studio_job_touch(j);
  cJSON *o = studio_job_json(j);
  pthread_mutex_unlock(&s->lock);
  studio_reply_json(r, 200, o);
}

static void jobs_list(studio *s, studio_reply *r) {
  studio_text t = {0};
  studio_text_add(&t, "{\"jobs\":[");
  pthread_mutex_lock(&s->lock);
  for (studio_job *j = s->jobs; j; j = j->next) {
    if (j != s->jobs) studio_text_add(&t, ",");
    studio_text_add(&t, studio_job_text(j));
  }
  pthread_mutex_unlock(&s->lock);
  studio_text_add(&t, "]}");
  studio_reply_text(r, 200, &t);
}

static void job_get(studio *s, const char *id, const char *what, studio_reply *r) {
  pthread_mutex_lock(&s->lock);
  studio_job *j = studio_job_find(s, id);
  if (j && what && j->preview_png) {
    r->body = malloc(j->preview_size);
    if (r->body) memcpy(r->body, j->preview_png, j->preview_size);
    r->size = j->preview_size;
    r->status = r->body ? 200 : 500;
    r->type = "image/png";
    r->no_store = 1;
  }
  char *text = j && !what ? strdup(studio_job_text(j)) : NULL;
  pthread_mutex_unlock(&s->lock);
  if (j && !what) return reply_text(r, 200, text);
  if (!r->status) studio_reply_error(r, 404, "not_found", j ? "This job has no preview yet." : "There is no such job.", NULL);
}

/* ---------------------------------------------------------------- info */

static void info(studio *s, studio_reply *r) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "program", "a2i2a");
  cJSON_AddStringToObject(o, "version", a2i2a_version());
  cJSON_AddStringToObject(o, "dir", s->dir);
  if (s->cfg.model) cJSON_AddStringToObject(o, "model", s->cfg.model);
  else cJSON_AddNullToObject(o, "model");
  cJSON_AddBoolToObject(o, "token_required", s->token[0] != 0);
  cJSON_AddNumberToObject(o, "threads", a2i2a_get_threads());
  cJSON *lim = cJSON_AddObjectToObject(o, "limits");
  cJSON_AddNumberToObject(lim, "max_upload_bytes", s->max_upload_bytes);
  cJSON_AddNumberToObject(lim, "max_upload_seconds", s->cfg.max_upload_seconds);
  cJSON_AddNumberToObject(lim, "max_queue", s->cfg.max_queue);
  studio_reply_json(r, 200, o);
}

/* ---------------------------------------------------------------- routing */

/* Splits "/api/a/b/c" into at most max parts after "/api"; returns how many. */
static int split(const char *url, char parts[][300], int max) {
  int n = 0;
  const char *p = url + 4;
  while (*p == '/') p++;
  while (*p && n < max) {
    const char *e = strchr(p, '/');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len >= 300) return -1;
    memcpy(parts[n], p, len);
    parts[n++][len] = 0;
    if (!e) return n;
    p = e + 1;
  }
  return *p ? -1 : n;
}

void studio_api(studio *s, const char *method, const char *url, const char *q, const char *limit, const char *body,
                size_t body_size, studio_reply *r) {
  char part[5][300];
  int n = strncmp(url, "/api/", 5) ? -1 : split(url, part, 5);
  int get = !strcmp(method, "GET") || !strcmp(method, "HEAD"), post = !strcmp(method, "POST"),
      del = !strcmp(method, "DELETE");
  if (n < 1) return studio_reply_error(r, 404, "not_found", "There is no such address.", NULL);
  const char *what = part[0];
  if (n == 1 && get && !strcmp(what, "info")) return info(s, r);
  if (n == 1 && get && !strcmp(what, "registry")) return reply_text(r, 200, studio_registry_json(s));
  if (!strcmp(what, "uploads") && n == 2 && get) return studio_upload_file(s, part[1], r);
  if (!strcmp(what, "jobs")) {
    if (n == 1 && get) return jobs_list(s, r);
    if (n == 1 && post) return job_submit(s, body, body_size, r);
    if (n == 2 && get) return job_get(s, part[1], NULL, r);
    if ((n == 2 && del) || (n == 3 && post && !strcmp(part[2], "cancel"))) return job_cancel(s, part[1], r);
    if (n == 3 && get && !strcmp(part[2], "preview.png")) return job_get(s, part[1], "preview", r);
  }
  if (!strcmp(what, "runs")) {
    if (n == 1 && get) {
      long lim = limit ? strtol(limit, NULL, 10) : 500;
      return studio_runs_list(s, q, lim > 0 && lim <= 10000 ? (int)lim : 500, r);
    }
    if (n >= 2 && !studio_id_valid(part[1])) return studio_reply_error(r, 404, "not_found", "There is no such run.", NULL);
    if (n == 2 && get) return studio_run_detail(s, part[1], r);
    if (n == 2 && del) return studio_run_delete(s, part[1], r);
    if (n == 3 && get && !strcmp(part[2], "zip")) return studio_run_zip(s, part[1], r);
    if (n == 4 && get && !strcmp(part[2], "files")) return studio_run_file(s, part[1], part[3], r);
  }
  studio_reply_error(r, 404, "not_found", "There is no such address (or not with this method).", NULL);
}
