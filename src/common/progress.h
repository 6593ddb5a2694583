/* Progress on stderr: a live line when stderr is a terminal, nothing otherwise (or plain
 * lines when the caller asks for them), never on stdout. */
#ifndef A2I2A_PROGRESS_H
#define A2I2A_PROGRESS_H

typedef struct {
  const char *label;
  int total;
  double t0;
  int tty, plain, quiet;
} progress;

/* mode: 0 = automatic (live line on a terminal, silent otherwise), 1 = plain lines, -1 = quiet */
void progress_begin(progress *p, const char *label, int total, int mode);
void progress_update(progress *p, int done);
void progress_end(progress *p);
double now_seconds(void);

#endif
