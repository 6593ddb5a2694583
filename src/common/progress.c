#include "common/progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void progress_begin(progress *p, const char *label, int total, int mode) {
  p->label = label;
  p->total = total;
  p->t0 = now_seconds();
  p->tty = isatty(2);
  p->quiet = mode < 0;
  p->plain = mode == 1;
}

void progress_update(progress *p, int done) {
  if (p->quiet || (!p->tty && !p->plain)) return;
  double el = now_seconds() - p->t0;
  double per = done > 0 ? el / done : 0.0;
  double eta = per * (p->total - done);
  if (p->tty && !p->plain)
    fprintf(stderr, "\r%s %d/%d  %.2f s/step  ETA %.0f s   ", p->label, done, p->total, per, eta);
  else
    fprintf(stderr, "%s %d/%d  %.2f s/step  ETA %.0f s\n", p->label, done, p->total, per, eta);
  fflush(stderr);
}

void progress_end(progress *p) {
  if (p->quiet || (!p->tty && !p->plain)) return;
  if (p->tty && !p->plain) fprintf(stderr, "\r%s done in %.1f s%30s\n", p->label, now_seconds() - p->t0, "");
}
