/* a2i2a_models_pull through a job, against tests/hubserver (a Hub stand-in on 127.0.0.1) serving
 * the tiny SD 1 fixture: the progress is monotone and every file reaches its size in KiB, the
 * library prints nothing, a cancel during a slowed transfer returns A2I2A_ERR_CANCELLED without
 * a snapshot and the next pull completes, a job cancelled before the call touches nothing. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "a2i2a.h"
#include "check.h"
#include "common/job.h"

#define COMMIT "0123456789abcdef0123456789abcdef01234567"

static char tmp[256];

typedef struct {
  pid_t pid;
  char endpoint[64];
} server;

/* hubserver ROOT COMMIT PORTFILE LOGFILE [--delay MS] in the background; 0 when it listens */
static int start_server(server *s, const char *name, const char *delay_ms) {
  const char *exe = getenv("A2I2A_HUBSERVER");
  if (!exe || !*exe) return -1;
  char portfile[300], logfile[300];
  snprintf(portfile, sizeof portfile, "%s/%s.port", tmp, name);
  snprintf(logfile, sizeof logfile, "%s/%s.log", tmp, name);
  s->pid = fork();
  if (s->pid == 0) {
    const char *root = fixture("sd/tiny-sd1");
    if (delay_ms) execl(exe, exe, root, COMMIT, portfile, logfile, "--delay", delay_ms, (char *)NULL);
    else execl(exe, exe, root, COMMIT, portfile, logfile, (char *)NULL);
    _exit(127);
  }
  for (int i = 0; i < 200; i++) {
    FILE *f = fopen(portfile, "r");
    int port = 0;
    if (f) {
      if (fscanf(f, "%d", &port) != 1) port = 0;
      fclose(f);
    }
    if (port > 0) {
      snprintf(s->endpoint, sizeof s->endpoint, "http://127.0.0.1:%d", port);
      return 0;
    }
    struct timespec ts = {0, 50000000L};
    nanosleep(&ts, NULL);
  }
  return -1;
}

static void stop_server(server *s) {
  if (s->pid > 0) {
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
  }
  s->pid = 0;
}

static int exists(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0;
}

static long long size_of(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* What the progress callback saw. */
#define MAX_FILES 32
typedef struct {
  int calls, bad_fraction, bad_step, bad_total;
  double fraction, first_fraction;
  char file[MAX_FILES][128];
  int step[MAX_FILES], total[MAX_FILES], nfiles;
  int logs;
  const char *cancel_at; /* a2i2a_job_cancel when this file's download begins */
  a2i2a_job *job;
  double cancelled_at;
} seen;

static void on_progress(void *user, const a2i2a_progress *p) {
  seen *s = user;
  if (s->calls++ == 0) s->first_fraction = p->fraction;
  if (p->fraction < s->fraction || p->fraction > 1) s->bad_fraction++;
  s->fraction = p->fraction;
  if (strcmp(p->stage, "download") != 0) return;
  int k = s->nfiles - 1;
  if (k < 0 || strcmp(s->file[k], p->detail) != 0) { /* a new file */
    if (s->nfiles == MAX_FILES) return;
    k = s->nfiles++;
    snprintf(s->file[k], sizeof s->file[k], "%s", p->detail);
    s->step[k] = p->step;
    s->total[k] = p->total;
    if (s->cancel_at && !strcmp(s->cancel_at, p->detail)) {
      a2i2a_job_cancel(s->job);
      s->cancelled_at = now_seconds();
    }
  }
  if (p->step < s->step[k] || p->step > p->total) s->bad_step++;
  if (p->total != s->total[k]) s->bad_total++;
  s->step[k] = p->step;
}

static void on_log(void *user, a2i2a_log_level level, const char *msg) {
  (void)level;
  (void)msg;
  ((seen *)user)->logs++;
}

/* The pull with stderr pointed at a file: *printed receives how many bytes the library wrote. */
static a2i2a_status pull(const char *endpoint, const char *cache, a2i2a_job *job, char *snap, long long *printed) {
  char errfile[300];
  snprintf(errfile, sizeof errfile, "%s/stderr", tmp);
  fflush(stderr);
  int saved = dup(2), fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  dup2(fd, 2);
  close(fd);
  a2i2a_pull_params p = a2i2a_pull_default_params();
  p.endpoint = endpoint;
  p.cache_dir = cache;
  a2i2a_status st = a2i2a_models_pull("org/tiny", &p, snap, 4096, job);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  *printed = size_of(errfile);
  return st;
}

static void test_progress(const char *endpoint) {
  char cache[300], snap[4096] = "", path[4400];
  snprintf(cache, sizeof cache, "%s/cache1", tmp);
  seen s = {0};
  a2i2a_callbacks cb = {.progress = on_progress, .log = on_log, .user = &s};
  a2i2a_job *job;
  CHECK(a2i2a_job_new(&cb, &job) == A2I2A_OK, "job");
  long long printed;
  a2i2a_status st = pull(endpoint, cache, job, snap, &printed);
  CHECK(st == A2I2A_OK, "pull: %s", a2i2a_last_error());
  CHECK(printed == 0, "the library printed %lld bytes on stderr", printed);
  CHECK(s.logs > 0, "no notes through the log callback");
  CHECK(strstr(snap, "/models--org--tiny/snapshots/" COMMIT) != NULL, "snapshot: %s", snap);
  CHECK(s.first_fraction < 0.05 && s.fraction == 1.0, "fraction from %g to %g", s.first_fraction, s.fraction);
  CHECK(s.bad_fraction == 0, "the fraction went back %d times", s.bad_fraction);
  CHECK(s.bad_step == 0 && s.bad_total == 0, "steps went back %d times, totals changed %d times", s.bad_step,
        s.bad_total);
  CHECK(s.nfiles == 12, "%d files downloaded (model_index, scheduler, 4 tokenizer, 3 configs, 3 weights)", s.nfiles);
  for (int i = 0; i < s.nfiles; i++) {
    /* each file's steps end at its total, its size in KiB (rounded up) */
    snprintf(path, sizeof path, "%s/%s", snap, s.file[i]);
    long long bytes = size_of(path);
    CHECK(bytes > 0 && s.total[i] == (int)((bytes + 1023) / 1024), "%s: total %d KiB for %lld bytes", s.file[i],
          s.total[i], bytes);
    CHECK(s.step[i] == s.total[i], "%s: ended at step %d of %d", s.file[i], s.step[i], s.total[i]);
  }
  snprintf(path, sizeof path, "%s/unet/diffusion_pytorch_model.safetensors", snap);
  CHECK(size_of(path) == size_of(fixture("sd/tiny-sd1/unet/diffusion_pytorch_model.safetensors")),
        "the UNet weights arrived incomplete");
  a2i2a_job_free(job);
}

static void test_cancel(const char *slow_endpoint, const char *endpoint) {
  char cache[300], snap[4096] = "", path[4400];
  snprintf(cache, sizeof cache, "%s/cache2", tmp);
  /* the first download waits 2 s on the server: the cancel is seen during its transfer */
  seen s = {.cancel_at = "model_index.json"};
  a2i2a_callbacks cb = {.progress = on_progress, .user = &s};
  a2i2a_job *job;
  CHECK(a2i2a_job_new(&cb, &job) == A2I2A_OK, "job");
  s.job = job;
  long long printed;
  a2i2a_status st = pull(slow_endpoint, cache, job, snap, &printed);
  double latency = now_seconds() - s.cancelled_at;
  CHECK(st == A2I2A_ERR_CANCELLED, "cancelled pull: status %d (%s)", st, a2i2a_last_error());
  CHECK(strstr(a2i2a_last_error(), "cancel") != NULL, "cancel message: %s", a2i2a_last_error());
  CHECK(s.cancelled_at > 0 && latency < 1.9, "the cancel took %.2f s: it waited for the transfer", latency);
  CHECK(printed == 0, "the library printed %lld bytes on stderr", printed);
  snprintf(path, sizeof path, "%s/models--org--tiny/snapshots", cache);
  CHECK(!exists(path), "a cancelled pull made %s", path);
  snprintf(path, sizeof path, "%s/models--org--tiny/refs", cache);
  CHECK(!exists(path), "a cancelled pull made %s", path);
  CHECK(s.nfiles == 1, "the cancelled pull went on to %d files", s.nfiles);
  a2i2a_job_free(job);

  /* the next pull into the same cache completes (without a job) */
  st = pull(endpoint, cache, NULL, snap, &printed);
  CHECK(st == A2I2A_OK, "pull after the cancel: %s", a2i2a_last_error());
  snprintf(path, sizeof path, "%s/model_index.json", snap);
  CHECK(size_of(path) == size_of(fixture("sd/tiny-sd1/model_index.json")), "%s after the cancel", path);

  /* a job cancelled before the call: nothing is created */
  snprintf(cache, sizeof cache, "%s/cache3", tmp);
  CHECK(a2i2a_job_new(NULL, &job) == A2I2A_OK, "job");
  a2i2a_job_cancel(job);
  st = pull(endpoint, cache, job, snap, &printed);
  CHECK(st == A2I2A_ERR_CANCELLED && !exists(cache), "pull with a cancelled job: status %d, %s", st,
        exists(cache) ? "made the cache" : "no cache");
  a2i2a_job_free(job);
}

static void remove_tree(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d))) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      char sub[4400];
      snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
      remove_tree(sub);
    }
    if (d) closedir(d);
    rmdir(path);
  } else {
    unlink(path);
  }
}

int main(void) {
  snprintf(tmp, sizeof tmp, "/tmp/a2i2a_test_hub_XXXXXX");
  if (!mkdtemp(tmp)) return perror("mkdtemp"), 1;
  unsetenv("HF_HUB_OFFLINE");
  unsetenv("HF_TOKEN");
  server fast = {0}, slow = {0};
  int ok = start_server(&fast, "fast", NULL) == 0 && start_server(&slow, "slow", "2000") == 0;
  CHECK(ok, "hubserver did not start (A2I2A_HUBSERVER=%s)", getenv("A2I2A_HUBSERVER"));
  if (ok) {
    test_progress(fast.endpoint);
    test_cancel(slow.endpoint, fast.endpoint);
  }
  stop_server(&fast);
  stop_server(&slow);
  remove_tree(tmp);
  return check_done();
}
