/* The queue and its one engine worker: jobs run one at a time (the machine's cores go to one
 * job), each into a temporary folder under --dir/.studio/tmp that becomes --dir/RUN_ID in one
 * rename when the run succeeds, and is removed otherwise. The job's callbacks record its
 * progress, latest preview and notes for the events. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "chain/params.h"
#include "common/outfile.h"
#include "image/image.h"
#include "studio/studio.h"

enum { KEEP_FINISHED = 50 };

static double wall_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void studio_changed(studio *s) {
  s->version++;
  pthread_cond_broadcast(&s->changed);
}

void studio_job_touch(studio_job *j) {
  studio_changed(j->s);
  j->version = j->s->version;
}

void studio_queue_moved(studio *s) {
  for (studio_job *j = s->jobs; j; j = j->next)
    if (j->state == JOB_QUEUED) studio_job_touch(j);
}

const char *studio_job_text(studio_job *j) {
  if (!j->text || j->text_version != j->version) {
    free(j->text);
    cJSON *o = studio_job_json(j);
    j->text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    j->text_version = j->version;
  }
  return j->text ? j->text : "{}";
}

studio_job *studio_job_find(studio *s, const char *id) {
  for (studio_job *j = s->jobs; j; j = j->next)
    if (!strcmp(j->id, id)) return j;
  return NULL;
}

static const char *const state_names[] = {"queued", "running", "done", "failed", "cancelled"};

void *studio_job_json(const studio_job *j) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "id", j->id);
  cJSON_AddStringToObject(o, "run", j->run_id);
  cJSON_AddStringToObject(o, "state", state_names[j->state]);
  cJSON_AddStringToObject(o, "kind", j->replay ? "replay" : "run");
  int position = 0;
  if (j->state == JOB_QUEUED)
    for (const studio_job *k = j->s->jobs; k && k != j; k = k->next) position += k->state == JOB_QUEUED;
  cJSON_AddNumberToObject(o, "position", j->state == JOB_QUEUED ? position + 1 : 0);
  cJSON_AddStringToObject(o, "input", j->input_name);
  cJSON_AddNumberToObject(o, "created", j->created);
  if (j->started > 0) cJSON_AddNumberToObject(o, "started", j->started);
  if (j->finished > 0) cJSON_AddNumberToObject(o, "finished", j->finished);
  double end = j->finished > 0 ? j->finished : wall_now();
  cJSON_AddNumberToObject(o, "elapsed", j->started > 0 ? end - j->started : 0);
  cJSON_AddStringToObject(o, "stage", j->stage);
  cJSON_AddStringToObject(o, "detail", j->detail);
  cJSON_AddNumberToObject(o, "step", j->step);
  cJSON_AddNumberToObject(o, "total", j->total);
  cJSON_AddNumberToObject(o, "fraction", j->fraction);
  cJSON_AddNumberToObject(o, "eta", j->eta);
  cJSON *stages = cJSON_AddArrayToObject(o, "stages");
  for (int i = 0; i < j->nstages; i++) {
    cJSON *st = cJSON_CreateObject();
    cJSON_AddStringToObject(st, "name", j->stages[i].name);
    cJSON_AddNumberToObject(st, "step", j->stages[i].step);
    cJSON_AddNumberToObject(st, "total", j->stages[i].total);
    cJSON_AddNumberToObject(st, "seconds", j->stages[i].seconds);
    cJSON_AddItemToArray(stages, st);
  }
  cJSON_AddBoolToObject(o, "cancelling", j->cancel_requested && j->state == JOB_RUNNING);
  if (j->preview_png) {
    cJSON *p = cJSON_AddObjectToObject(o, "preview");
    cJSON_AddNumberToObject(p, "step", j->preview_step);
    cJSON_AddNumberToObject(p, "total", j->preview_total);
    cJSON_AddNumberToObject(p, "width", j->preview_w);
    cJSON_AddNumberToObject(p, "height", j->preview_h);
    cJSON_AddBoolToObject(p, "decoded", j->preview_decoded);
    char url[96];
    snprintf(url, sizeof url, "/api/jobs/%s/preview.png?v=%llu", j->id, (unsigned long long)j->preview_version);
    cJSON_AddStringToObject(p, "url", url);
  } else {
    cJSON_AddNullToObject(o, "preview");
  }
  if (j->error[0]) {
    cJSON *e = cJSON_AddObjectToObject(o, "error");
    cJSON_AddStringToObject(e, "message", j->error);
    cJSON_AddStringToObject(e, "detail", j->error_detail);
  } else {
    cJSON_AddNullToObject(o, "error");
  }
  cJSON *log = cJSON_AddArrayToObject(o, "log");
  for (int i = 0; i < j->nlog; i++) cJSON_AddItemToArray(log, cJSON_CreateString(j->log[i]));
  /* what the queue shows of the settings */
  const a2i2a_run_params *p = &j->params.p;
  cJSON *set = cJSON_AddObjectToObject(o, "settings");
  if (!j->replay) {
    cJSON_AddStringToObject(set, "preset", p->preset ? p->preset : "");
    cJSON_AddStringToObject(set, "prompt", p->i2i.prompt ? p->i2i.prompt : "");
    cJSON_AddItemToObject(set, "seed", param_to_json(param_find("i2i.seed"), p));
    cJSON_AddNumberToObject(set, "steps", p->i2i.steps);
    cJSON_AddStringToObject(set, "model", p->model ? p->model : "");
  }
  return o;
}

/* ---------------------------------------------------------------- callbacks (worker thread) */

static void on_progress(void *user, const a2i2a_progress *p) {
  studio_job *j = user;
  pthread_mutex_lock(&j->s->lock);
  snprintf(j->stage, sizeof j->stage, "%s", p->stage);
  snprintf(j->detail, sizeof j->detail, "%s", p->detail);
  j->step = p->step, j->total = p->total;
  j->fraction = p->fraction, j->eta = p->eta, j->elapsed = p->elapsed;
  int last = j->nstages - 1;
  if ((last < 0 || strcmp(j->stages[last].name, j->stage)) && j->nstages < STUDIO_MAX_STAGES) {
    last = j->nstages++;
    snprintf(j->stages[last].name, sizeof j->stages[last].name, "%s", j->stage);
    j->stages[last].step = j->stages[last].total = 0;
    j->stages[last].entered = p->elapsed, j->stages[last].seconds = 0;
  }
  if (last >= 0 && !strcmp(j->stages[last].name, j->stage)) {
    if (p->step > j->stages[last].step) j->stages[last].step = p->step;
    j->stages[last].total = p->total;
    j->stages[last].seconds = p->elapsed - j->stages[last].entered;
  }
  studio_job_touch(j);
  pthread_mutex_unlock(&j->s->lock);
}

static void on_preview(void *user, const a2i2a_preview *p) {
  studio_job *j = user;
  image_u8 img = {p->width, p->height, 3, (uint8_t *)p->rgb}; /* only read */
  void *png = NULL;
  size_t size = 0;
  if (png_write_memory(&img, NULL, &png, &size)) return;
  pthread_mutex_lock(&j->s->lock);
  free(j->preview_png);
  j->preview_png = png, j->preview_size = size;
  j->preview_step = p->step, j->preview_total = p->total;
  j->preview_w = p->width, j->preview_h = p->height, j->preview_decoded = p->decoded;
  studio_job_touch(j);
  j->preview_version = j->version;
  pthread_mutex_unlock(&j->s->lock);
}

static void add_log(studio_job *j, const char *message) {
  if (j->nlog == STUDIO_MAX_LOG) {
    memmove(j->log[0], j->log[1], sizeof j->log[0] * (STUDIO_MAX_LOG - 1));
    j->nlog--;
  }
  snprintf(j->log[j->nlog++], sizeof j->log[0], "%.255s", message);
}

static void on_log(void *user, a2i2a_log_level level, const char *message) {
  studio_job *j = user;
  char line[300];
  snprintf(line, sizeof line, "%s%s", level == A2I2A_LOG_WARNING ? "warning: " : level == A2I2A_LOG_NOTE ? "note: " : "",
           message);
  pthread_mutex_lock(&j->s->lock);
  add_log(j, line);
  studio_job_touch(j);
  pthread_mutex_unlock(&j->s->lock);
}

/* ---------------------------------------------------------------- the worker */

static int looks_like_repo(const char *m) {
  struct stat sb;
  if (stat(m, &sb) == 0 || m[0] == '/' || m[0] == '.') return 0;
  const char *s = strchr(m, '/');
  return s && s != m && s[1] && !strchr(s + 1, '/');
}

/* What a job reports when it fails: words a person understands, and the library's line. */
typedef struct {
  char error[512], detail[1024];
} outcome;

static void explain(outcome *o, a2i2a_status st, int opening_model, const char *model) {
  char *e = o->error;
  size_t n = sizeof o->error;
  if (st == A2I2A_ERR_CANCELLED) snprintf(e, n, "Cancelled.");
  else if (opening_model && model && looks_like_repo(model))
    snprintf(e, n,
             "The model %s is not downloaded. Get it with: a2i2a models pull %s (about 2 GB), or start the studio "
             "with --model and a model you have.",
             model, model);
  else if (opening_model || st == A2I2A_ERR_MODEL)
    snprintf(e, n, "The model %s cannot be used: it is missing, incomplete or not a Stable Diffusion model.",
             model ? model : "");
  else if (st == A2I2A_ERR_NOMEM)
    snprintf(e, n,
             "This job needs more memory than this machine has free. Try a smaller spectrogram (width and height), "
             "a shorter sound, or close other programs.");
  else if (st == A2I2A_ERR_LIMIT)
    snprintf(e, n, "The sound or the picture is beyond what this style handles; try a shorter sound or another style.");
  else if (st == A2I2A_ERR_PARAM) snprintf(e, n, "A setting is not valid (see the detail).");
  else if (st == A2I2A_ERR_FORMAT || st == A2I2A_ERR_IO)
    snprintf(e, n, "A file could not be read or written (see the detail).");
  else snprintf(e, n, "The run failed (see the detail).");
  snprintf(o->detail, sizeof o->detail, "%s", st == A2I2A_ERR_CANCELLED ? "" : a2i2a_last_error());
}

static void set_stage(studio_job *j, const char *stage, const char *detail) {
  pthread_mutex_lock(&j->s->lock);
  snprintf(j->stage, sizeof j->stage, "%s", stage);
  snprintf(j->detail, sizeof j->detail, "%.127s", detail);
  j->step = j->total = 0;
  studio_job_touch(j);
  pthread_mutex_unlock(&j->s->lock);
}

/* Runs j into a temporary folder and moves it into place; 0 or the failure's status (with
 * out filled). */
static a2i2a_status run_job(studio *s, studio_job *j, a2i2a_job *engine, outcome *out) {
  char rel[128], tmp[STUDIO_PATH], final[STUDIO_PATH];
  snprintf(rel, sizeof rel, ".studio/tmp/run-%s", j->run_id);
  snprintf(tmp, sizeof tmp, "%s/%s", s->dir, rel);
  snprintf(final, sizeof final, "%s/%s", s->dir, j->run_id);
  if (mkdir(tmp, 0755)) {
    snprintf(out->error, sizeof out->error, "The studio cannot write into its folder.");
    snprintf(out->detail, sizeof out->detail, "%.900s: %s", tmp, strerror(errno));
    return A2I2A_ERR_IO;
  }
  a2i2a_status st = A2I2A_OK;
  int opening = 0;
  const char *model = j->params.p.model;
  if (j->replay) {
    /* a replay opens the model its run.json names: free ours meanwhile */
    if (s->model) a2i2a_model_close(s->model), s->model = NULL;
    st = a2i2a_run_replay(j->replay_json, NULL, NULL, tmp, 0, engine);
  } else {
    if (!s->model || strcmp(s->model_name, model)) {
      if (s->model) a2i2a_model_close(s->model), s->model = NULL;
      set_stage(j, "loading", model);
      opening = 1;
      st = a2i2a_model_open(model, &s->model);
      if (!st) snprintf(s->model_name, sizeof s->model_name, "%s", model);
      else s->model = NULL;
    }
    if (!st) opening = 0, st = a2i2a_run(s->model, j->input, tmp, &j->params.p, 0, engine);
  }
  if (!st && rename(tmp, final)) {
    snprintf(out->error, sizeof out->error, "The run could not be moved into the runs folder.");
    snprintf(out->detail, sizeof out->detail, "%.900s: %s", final, strerror(errno));
    st = A2I2A_ERR_IO;
  } else if (st) {
    explain(out, st, opening, model);
  }
  if (st) remove_tree_at(s->dirfd, rel);
  return st;
}

static studio_job *next_queued(studio *s) {
  for (studio_job *j = s->jobs; j; j = j->next)
    if (j->state == JOB_QUEUED) return j;
  return NULL;
}

static void free_job(studio_job *j) {
  free(j->preview_png);
  free(j->text);
  studio_params_free(&j->params);
  free(j);
}

/* Forgets the oldest finished jobs beyond the last few. */
static void prune(studio *s) {
  int finished = 0;
  for (studio_job *j = s->jobs; j; j = j->next) finished += j->state >= JOB_DONE;
  for (studio_job **pj = &s->jobs; *pj && finished > KEEP_FINISHED;) {
    studio_job *j = *pj;
    if (j->state >= JOB_DONE) {
      *pj = j->next;
      free_job(j);
      finished--;
    } else {
      pj = &j->next;
    }
  }
}

static void *worker_main(void *arg) {
  studio *s = arg;
  pthread_mutex_lock(&s->lock);
  for (;;) {
    studio_job *j;
    while (!s->stopping && !(j = next_queued(s))) pthread_cond_wait(&s->work, &s->lock);
    if (s->stopping) break;
    a2i2a_callbacks cb = {.progress = on_progress, .preview = on_preview, .log = on_log, .user = j,
                          .preview_vae_every = j->preview_vae_every, .preview_mode = j->preview_mode};
    a2i2a_job *engine = NULL;
    a2i2a_status st = a2i2a_job_new(&cb, &engine);
    j->state = JOB_RUNNING;
    j->started = wall_now();
    j->engine = engine;
    snprintf(j->stage, sizeof j->stage, "starting");
    studio_job_touch(j);
    studio_queue_moved(s); /* every waiting job is one place nearer */
    pthread_mutex_unlock(&s->lock);
    fprintf(stderr, "a2i2a serve: %s started (%s)\n", j->run_id, j->input_name);
    outcome out = {"", ""};
    if (st) snprintf(out.error, sizeof out.error, "The server is out of memory.");
    else st = run_job(s, j, engine, &out);
    pthread_mutex_lock(&s->lock);
    snprintf(j->error, sizeof j->error, "%s", out.error);
    snprintf(j->error_detail, sizeof j->error_detail, "%s", out.detail);
    j->engine = NULL;
    a2i2a_job_free(engine);
    j->finished = wall_now();
    j->state = !st ? JOB_DONE : st == A2I2A_ERR_CANCELLED ? JOB_CANCELLED : JOB_FAILED;
    if (!st) j->fraction = 1.0, j->eta = 0;
    studio_job_touch(j);
    if (!st) s->runs_version = s->version;
    fprintf(stderr, "a2i2a serve: %s %s in %.1f s%s%s\n", j->run_id, state_names[j->state], j->finished - j->started,
            st && st != A2I2A_ERR_CANCELLED ? ": " : "", st && st != A2I2A_ERR_CANCELLED ? j->error_detail : "");
    prune(s);
  }
  pthread_mutex_unlock(&s->lock);
  /* the model and the kernels' scratch belong to this thread (and its OpenMP team) */
  if (s->model) a2i2a_model_close(s->model);
  s->model = NULL;
  a2i2a_release_scratch();
  return NULL;
}

void *studio_job_submit(studio *s, studio_job *j, char *err, size_t n) {
  pthread_mutex_lock(&s->lock);
  int queued = 0;
  studio_job **end = &s->jobs;
  for (; *end; end = &(*end)->next) queued += (*end)->state == JOB_QUEUED;
  if (s->stopping || queued >= s->cfg.max_queue) {
    pthread_mutex_unlock(&s->lock);
    snprintf(err, n, s->stopping ? "The studio is shutting down." : "The queue is full (%d jobs): wait for one to finish.",
             queued);
    return NULL;
  }
  j->s = s;
  j->state = JOB_QUEUED;
  j->created = wall_now();
  *end = j;
  studio_job_touch(j);
  cJSON *o = studio_job_json(j);
  pthread_cond_signal(&s->work);
  pthread_mutex_unlock(&s->lock);
  return o;
}

a2i2a_status studio_jobs_start(studio *s) {
  if (pthread_create(&s->worker, NULL, worker_main, s)) return A2I2A_ERR_INTERNAL;
  s->worker_started = 1;
  return A2I2A_OK;
}

void studio_jobs_stop(studio *s) {
  pthread_mutex_lock(&s->lock);
  s->stopping = 1;
  for (studio_job *j = s->jobs; j; j = j->next) {
    if (j->state == JOB_RUNNING) j->cancel_requested = 1, a2i2a_job_cancel(j->engine);
    if (j->state == JOB_QUEUED) j->state = JOB_CANCELLED;
  }
  studio_changed(s);
  pthread_cond_broadcast(&s->work);
  pthread_mutex_unlock(&s->lock);
  if (s->worker_started) pthread_join(s->worker, NULL);
  s->worker_started = 0;
  pthread_mutex_lock(&s->lock); /* a stream or a request may still be looking */
  for (studio_job *j = s->jobs, *next; j; j = next) {
    next = j->next;
    free_job(j);
  }
  s->jobs = NULL;
  pthread_mutex_unlock(&s->lock);
}
