#include "common/job.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"

double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

a2i2a_status a2i2a_job_new(const a2i2a_callbacks *cb, a2i2a_job **job) {
  *job = xcalloc(1, sizeof **job, "a job");
  if (!*job) return A2I2A_ERR_NOMEM;
  if (cb) (*job)->cb = *cb;
  atomic_init(&(*job)->cancelled, 0);
  (*job)->hi = 1.0;
  return A2I2A_OK;
}

void a2i2a_job_free(a2i2a_job *job) { free(job); }

/* atomic_int is lock-free on every target we build for: a store is async-signal-safe */
void a2i2a_job_cancel(a2i2a_job *job) {
  if (job) atomic_store(&job->cancelled, 1);
}

int a2i2a_job_cancelled(const a2i2a_job *job) {
  return job && atomic_load(&((a2i2a_job *)job)->cancelled);
}

a2i2a_timings a2i2a_job_timings(const a2i2a_job *job) {
  a2i2a_timings t = {0};
  return job ? job->times : t;
}

void job_begin(a2i2a_job *j) {
  if (!j) return;
  if (j->depth++ == 0) {
    j->t0 = now_seconds();
    j->lo = 0, j->hi = 1, j->reported = 0;
    j->stage = NULL;
    j->detail[0] = 0;
    j->total = 0;
  }
}

static void report(a2i2a_job *j, int step, double fraction) {
  if (fraction > j->reported) j->reported = fraction;
  if (j->reported > 1) j->reported = 1;
  if (!j->cb.progress) return;
  double el = now_seconds() - j->t0;
  a2i2a_progress p = {
      .stage = j->stage ? j->stage : "",
      .detail = j->detail,
      .step = step,
      .total = j->total,
      .elapsed = el,
      .fraction = j->reported,
      /* the first percent says little about the rest */
      .eta = j->reported >= 0.01 ? el * (1 - j->reported) / j->reported : -1,
  };
  j->cb.progress(j->cb.user, &p);
}

a2i2a_status job_end(a2i2a_job *j, a2i2a_status st) {
  if (!j) return st;
  if (--j->depth == 0 && st == A2I2A_OK) report(j, j->total, 1.0);
  if (j->depth < 0) j->depth = 0;
  return st;
}

a2i2a_status job_check(a2i2a_job *j) {
  if (!j) return A2I2A_OK;
  if (!atomic_load(&j->cancelled) && j->cb.cancel && j->cb.cancel(j->cb.user)) atomic_store(&j->cancelled, 1);
  if (atomic_load(&j->cancelled)) return fail(A2I2A_ERR_CANCELLED, "cancelled");
  return A2I2A_OK;
}

job_span job_enter(a2i2a_job *j, double a, double b) {
  job_span saved = {0, 1};
  if (!j) return saved;
  saved.lo = j->lo, saved.hi = j->hi;
  double w = j->hi - j->lo;
  j->lo = saved.lo + a * w;
  j->hi = saved.lo + b * w;
  return saved;
}

void job_leave(a2i2a_job *j, job_span saved) {
  if (!j) return;
  double done = j->hi;
  j->lo = saved.lo, j->hi = saved.hi;
  if (done > j->reported) j->reported = done;
}

void job_stage(a2i2a_job *j, const char *stage, const char *detail, int total) {
  if (!j) return;
  j->stage = stage;
  snprintf(j->detail, sizeof j->detail, "%s", detail ? detail : "");
  j->total = total > 0 ? total : 0;
  report(j, 0, j->lo);
}

void job_step(a2i2a_job *j, int step) {
  if (!j) return;
  double f = j->total > 0 ? (double)step / j->total : 1.0;
  if (f > 1) f = 1;
  report(j, step, j->lo + f * (j->hi - j->lo));
}

void job_log(a2i2a_job *j, a2i2a_log_level level, const char *fmt, ...) {
  if (!j || !j->cb.log) return;
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  j->cb.log(j->cb.user, level, msg);
}

int job_wants_preview(const a2i2a_job *j) { return j && j->cb.preview; }

void job_preview(a2i2a_job *j, const a2i2a_preview *p) {
  if (job_wants_preview(j)) j->cb.preview(j->cb.user, p);
}
