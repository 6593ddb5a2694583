/* Jobs inside the library: how long calls report progress, previews and notes, notice a
 * cancel, and time their stages. Every function accepts a NULL job (then it does nothing, and
 * job_check never cancels).
 *
 * Progress is a fraction of the outermost call, built from nested spans: a call that does
 * several things gives each a share of its own span (job_enter/job_leave), and a stage with
 * steps maps step k of n linearly into the current span. The fraction reported never
 * decreases. */
#ifndef A2I2A_JOB_H
#define A2I2A_JOB_H

#include <stdatomic.h>

#include "a2i2a.h"

struct a2i2a_job {
  a2i2a_callbacks cb;
  atomic_int cancelled;
  a2i2a_timings times;
  int depth;             /* nesting of public calls: the outermost one resets the clock */
  double t0;             /* when the outermost call began */
  double lo, hi;         /* the current span of the outermost call's progress */
  double reported;       /* the largest fraction reported so far */
  const char *stage;     /* the stage being reported */
  char detail[128];
  int total;             /* its steps */
};

/* A public call begins (resets the clock and the fraction when it is the outermost) and ends
 * (the outermost reports fraction 1 on success). job_end returns st. */
void job_begin(a2i2a_job *j);
a2i2a_status job_end(a2i2a_job *j, a2i2a_status st);

/* A2I2A_ERR_CANCELLED (recorded as the last error) when the job was cancelled, by
 * a2i2a_job_cancel or its cancel callback; A2I2A_OK otherwise. Cheap: call it between steps. */
a2i2a_status job_check(a2i2a_job *j);

/* Spans: job_enter narrows the current span to [a, b] of itself and returns the old one,
 * job_leave restores it (and counts the narrowed span as done). */
typedef struct {
  double lo, hi;
} job_span;
job_span job_enter(a2i2a_job *j, double a, double b);
void job_leave(a2i2a_job *j, job_span saved);

/* A stage begins (reported as step 0 of total), and reaches step k. detail may be NULL. */
void job_stage(a2i2a_job *j, const char *stage, const char *detail, int total);
void job_step(a2i2a_job *j, int step);

/* A note or warning through the log callback. */
void job_log(a2i2a_job *j, a2i2a_log_level level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Whether a preview is wanted, and hands one to the callback. */
int job_wants_preview(const a2i2a_job *j);
void job_preview(a2i2a_job *j, const a2i2a_preview *p);

/* Adds seconds to one of the job's stage timings: job_time(j, a2i, t0) with t0 = now_seconds()
 * taken before the stage. */
#define job_time(j, field, t0)                                  \
  do {                                                          \
    if (j) (j)->times.field += now_seconds() - (t0);            \
  } while (0)

double now_seconds(void);

#endif
