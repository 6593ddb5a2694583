/* a2i2a studio (a2i2a serve): the whole chain in a local web page.
 *
 * One HTTP server (libmicrohttpd, a thread per connection) serves the page embedded at build
 * time and a JSON API; one engine worker runs the queued jobs one at a time; any number of
 * tabs watch them through server-sent events. Runs go into --dir as the folders `a2i2a run`
 * writes; the studio keeps its own files in --dir/.studio (uploads, and tmp/ for runs, uploads
 * and zips in progress, emptied at start). docs/studio.md documents the API. */
#ifndef A2I2A_STUDIO_H
#define A2I2A_STUDIO_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "a2i2a.h"
#include "chain/chain.h"

typedef struct {
  const char *host;          /* address to listen on (default 127.0.0.1) */
  int port;                  /* 0: a free port, reported by studio_url */
  const char *dir;           /* the runs folder (created if missing) */
  const char *model;         /* the model the form starts with; NULL: each preset's */
  const char *vocoder;       /* the vocoder reading's vocoder, the one a job may name; NULL: none */
  const char *token;         /* NULL: none on a loopback address, generated on any other */
  double max_upload_mb;      /* largest upload accepted */
  double max_upload_seconds; /* longest sound accepted */
  int max_queue;             /* queued jobs at most */
  int log_requests;          /* one line per request on stderr */
} studio_config;

typedef struct studio studio;

/* Binds, starts the worker and the server. Errors through a2i2a_last_error(). */
a2i2a_status studio_start(const studio_config *cfg, studio **out);
/* The address to open (with ?token=... when a token is needed). */
const char *studio_url(const studio *s);
int studio_port(const studio *s);
const char *studio_token(const studio *s);
/* Cancels the running job (its temporary run folder goes), drops the queue, stops serving,
 * frees everything. */
void studio_stop(studio *s);

/* ------------------------------------------------------------------ internals */

enum { STUDIO_PATH = 4096, STUDIO_MAX_LOG = 8, STUDIO_MAX_STAGES = 16 };

typedef enum { JOB_QUEUED, JOB_RUNNING, JOB_DONE, JOB_FAILED, JOB_CANCELLED } studio_job_state;

/* The parameters of a run as the API carries them: the keys of the chain's parameter table
 * (run.json's, "i2i.strength"), applied over a preset (params.c). */
typedef struct {
  a2i2a_run_params p;
  void *json; /* the request's parameters (cJSON), which p's strings point into */
} studio_params;

typedef struct studio_job studio_job;
struct studio_job {
  studio_job *next;
  studio *s;
  char id[32];
  char run_id[64];          /* the folder the run becomes in --dir */
  int replay;               /* a replay of run_json rather than a run of input */
  char input[STUDIO_PATH];  /* the sound */
  char input_name[128];     /* what the page shows for it */
  char replay_json[STUDIO_PATH];
  studio_params params;
  int preview_vae_every;

  /* everything below is guarded by s->lock */
  studio_job_state state;
  int cancel_requested;
  a2i2a_job *engine;        /* while running */
  double created, started, finished; /* Unix time */
  char stage[64], detail[128];
  int step, total;
  double fraction, eta, elapsed;
  /* every stage entered, in order, with the furthest step it reached: a tab sees the latest
   * state at most five times a second, and a fast stage must not vanish from what it shows */
  struct { char name[64]; int step, total; double entered, seconds; } stages[STUDIO_MAX_STAGES];
  int nstages;
  uint8_t *preview_png;     /* the latest preview */
  size_t preview_size;
  int preview_step, preview_total, preview_w, preview_h, preview_decoded;
  uint64_t version, preview_version; /* s->version at the last change */
  char *text;               /* studio_job_text's cache, of text_version */
  uint64_t text_version;
  char error[512], error_detail[1024];
  char log[STUDIO_MAX_LOG][256];
  int nlog;
};

/* A reply of the API, turned into an HTTP response by the server. */
typedef struct {
  int status;
  char *body;              /* malloc'd (or NULL) */
  size_t size;
  const char *type;        /* Content-Type */
  int fd;                  /* >= 0: send this file's fd_size bytes instead of body */
  off_t fd_size;
  char disposition[256];   /* Content-Disposition, "" = none */
  int no_store;            /* Cache-Control: no-store */
} studio_reply;

struct studio {
  studio_config cfg;
  char dir[3072];          /* --dir, absolute (short enough for any path below it) */
  int dirfd;
  int lockfd;              /* --dir/.studio/lock, held while serving */
  char token[80];          /* "" = no token */
  char url[512];
  char host[256];          /* what Host may name besides IP literals and localhost */
  char hostname[256];
  int port;
  int listen_fd;
  struct MHD_Daemon *mhd;
  double max_upload_bytes;

  pthread_mutex_t lock;
  pthread_cond_t changed;  /* anything the events report changed */
  pthread_cond_t work;     /* the worker has something to do */
  uint64_t version;        /* increases with every change */
  uint64_t runs_version;   /* the version when the history last changed */
  studio_job *jobs;        /* oldest first: finished (the last few), running, queued */
  int stopping;
  pthread_t worker;
  int worker_started;

  /* the worker's model */
  a2i2a_model *model;
  char model_name[STUDIO_PATH];

  pthread_mutex_t cache_lock; /* the runs' summaries and loudness */
  struct studio_cache *cache;
};

/* params.c */
/* The default preset's parameters. */
void studio_params_init(studio_params *sp);
void studio_params_free(studio_params *sp);
/* Starts from the preset named in obj ("preset", default "seed") and applies every other key
 * by the parameter table; i2a.seed follows i2i.seed and model.name is model (when not NULL)
 * unless given. Unknown keys, wrong types, values out of range and unknown choices are refused
 * (A2I2A_ERR_PARAM or _FORMAT, a2i2a_last_error() naming the key). */
a2i2a_status studio_params_from_json(const void *cjson_obj, const char *model, const char *vocoder,
                                     studio_params *sp);
/* The flat object of p (the same keys, every parameter). */
void *studio_params_to_json(const a2i2a_run_params *p);
/* The library's registries (every list, each entry with its JSON) and the models a job may
 * name, as JSON text (malloc'd). */
char *studio_registry_json(const studio *s);
/* 1 if the model may be used by a job: the --model, a preset's, or extra (may be NULL). */
int studio_model_allowed(const studio *s, const char *model, const char *extra);
/* 1 if the vocoder may be used by a job: none, or the --vocoder. */
int studio_vocoder_allowed(const studio *s, const char *vocoder);

/* jobs.c */
a2i2a_status studio_jobs_start(studio *s);
void studio_jobs_stop(studio *s);
/* Queues a job (takes ownership of j) and returns its state as JSON; NULL (and j still the
 * caller's) when the queue is full or the studio stops. */
void *studio_job_submit(studio *s, studio_job *j, char *err, size_t errn);
studio_job *studio_job_find(studio *s, const char *id); /* under s->lock */
void *studio_job_json(const studio_job *j);              /* under s->lock */
/* The same as text, made once per change of the job, for every stream (under s->lock). */
const char *studio_job_text(studio_job *j);
/* Under s->lock: something changed (wakes the streams); a job changed; the queue's order changed
 * (every waiting job's position). */
void studio_changed(studio *s);
void studio_job_touch(studio_job *j);
void studio_queue_moved(studio *s);

/* runs.c: every name checked, every file opened below --dir without following links */
int studio_id_valid(const char *id);
int studio_open_run(const studio *s, const char *id); /* a folder fd, -1 if none */
void studio_runs_list(studio *s, const char *query, int limit, studio_reply *r);
void studio_run_detail(studio *s, const char *id, studio_reply *r);
void studio_run_file(studio *s, const char *id, const char *name, studio_reply *r);
void studio_run_delete(studio *s, const char *id, studio_reply *r);
void studio_run_zip(studio *s, const char *id, studio_reply *r);
/* The run.json of a run read by the chain (every field checked; chain_record_free), or -1. */
int studio_run_record(const studio *s, const char *id, chain_record *rec);
void studio_cache_free(studio *s);

/* upload.c */
typedef struct studio_upload studio_upload;
studio_upload *studio_upload_begin(studio *s, const char *content_length, const char *filename, studio_reply *r);
int studio_upload_data(studio_upload *u, const char *data, size_t n, studio_reply *r);
void studio_upload_end(studio_upload *u, studio_reply *r);
void studio_upload_abort(studio_upload *u);
void studio_upload_file(studio *s, const char *id, studio_reply *r);
/* in without control characters, quotes and backslashes (for names a client gives, which end
 * up in JSON and on the terminal), cut to fit n. */
void studio_printable(const char *in, char *out, size_t n);
/* The path of upload id, or -1 if there is none. */
int studio_upload_path(const studio *s, const char *id, char *path, size_t n);

/* loudness.c: a sound file's integrated loudness in LUFS (-HUGE_VAL for silence; a sound
 * shorter than 0.4 s looped to 0.4 s), its duration and sample peak. */
a2i2a_status studio_loudness_file(const char *path, double *lufs, double *seconds, double *peak);

/* zip.c: the files of an open run folder into a zip file at zip_path (prefix/NAME each). */
a2i2a_status studio_zip_folder(int runfd, const char *prefix, const char *zip_path);

/* api.c */
/* A growing text; failed is set (and the text dropped) when memory runs out. */
typedef struct {
  char *buf;
  size_t len, cap;
  int failed;
} studio_text;
void studio_text_add(studio_text *t, const char *s);
/* t as a JSON reply (takes its buffer). */
void studio_reply_text(studio_reply *r, int status, studio_text *t);
void studio_reply_json(studio_reply *r, int status, void *cjson);  /* takes the cJSON */
void studio_reply_error(studio_reply *r, int status, const char *code, const char *message, const char *detail);
/* One request of the JSON API (all but the uploads and the events, which stream); q and limit
 * are the query's arguments of the same names (NULL when absent). */
void studio_api(studio *s, const char *method, const char *url, const char *q, const char *limit, const char *body,
                size_t body_size, studio_reply *r);
/* The Content-Type of a file name's ending. */
const char *studio_content_type(const char *name);
/* Random hex digits from getrandom (2n digits + NUL). */
int studio_random_hex(char *out, int nbytes);

/* web assets embedded at build time (studio_web.c, generated from src/studio/web/) */
typedef struct {
  const char *path; /* "/index.html" */
  const unsigned char *data;
  size_t size;
} studio_asset;
extern const studio_asset studio_assets[];
extern const int studio_nassets;

#endif
