/* The CLI's job: progress on stderr (a live line on a terminal; plain lines on request),
 * notes and warnings as "a2i2a: note: ..." lines, and Ctrl-C as a cancel (a second Ctrl-C
 * stops at once). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/job.h"
#include "image/image.h"
#include "sd/model.h"
#include "sd/pipeline.h"

typedef struct {
  int mode;            /* CLI_QUIET, CLI_PROGRESS_AUTO, _PLAIN or _NONE (cli.h) */
  int tty;
  int live;            /* a live line is on screen */
  char stage[64];      /* the stage of the last line */
  double last_plain;   /* elapsed at the last plain line */
  char last_log[1024];
  char file[128];      /* download: the file being fetched, and when and where it began */
  double file_t0;
  int file_step0;
} cli_progress;

static cli_progress state;
static a2i2a_job *current;
static const char *preview_path; /* --preview FILE */
static const char *preview_taesd; /* --preview-taesd M */
static int preview_failed;
static int verbose;
static double job_t0;

static volatile sig_atomic_t caught_signal;

static void on_sigint(int sig) {
  caught_signal = sig;
  a2i2a_job_cancel(current);
  signal(SIGINT, SIG_DFL); /* the second one ends the process */
  signal(SIGTERM, SIG_DFL);
}

/* Between jobs and after the last: the outputs are in place, so a signal changes nothing now;
 * it is kept, and cancels the next job as soon as that starts (batch, grid). */
static void on_late_signal(int sig) { caught_signal = sig; }

static void fmt_time(char *b, size_t n, double s) {
  if (s < 0) snprintf(b, n, "?");
  else if (s < 60) snprintf(b, n, "%.0f s", s);
  else if (s < 3600) snprintf(b, n, "%d min %02d s", (int)s / 60, (int)s % 60);
  else snprintf(b, n, "%d h %02d min", (int)s / 3600, (int)s % 3600 / 60);
}

static void clear_live(void) {
  if (state.live) fprintf(stderr, "\r%*s\r", 100, ""), state.live = 0;
}

/* A download's steps are KiB: "12.5/1640.0 MB 8.1 MB/s NAME", the name shortened from the left
 * so that the numbers stay on a live line. */
static void download_line(char *what, size_t n, const a2i2a_progress *p) {
  if (strcmp(state.file, p->detail) != 0) {
    snprintf(state.file, sizeof state.file, "%s", p->detail);
    state.file_t0 = p->elapsed;
    state.file_step0 = p->step;
  }
  double dt = p->elapsed - state.file_t0, rate = dt > 0.2 ? (p->step - state.file_step0) / 1024.0 / dt : 0;
  int used = p->total < 1024 ? snprintf(what, n, "download %d/%d kB", p->step, p->total)
                             : snprintf(what, n, "download %.1f/%.1f MB", p->step / 1024.0, p->total / 1024.0);
  if (rate > 0 && p->total >= 1024) used += snprintf(what + used, n - (size_t)used, " %.1f MB/s", rate);
  const char *name = p->detail;
  size_t room = used < 57 ? (size_t)(57 - used) : 0, len = strlen(name);
  if (len > room && room > 3) snprintf(what + used, n - (size_t)used, " ...%s", name + len - (room - 4));
  else snprintf(what + used, n - (size_t)used, " %s", name);
}

static void on_progress(void *user, const a2i2a_progress *p) {
  (void)user;
  if (state.mode == CLI_QUIET || state.mode == CLI_PROGRESS_NONE || (state.mode == CLI_PROGRESS_AUTO && !state.tty))
    return;
  char eta[32], what[160];
  fmt_time(eta, sizeof eta, p->eta);
  if (p->total > 0 && !strcmp(p->stage, "download"))
    download_line(what, sizeof what, p);
  else if (p->total > 0)
    snprintf(what, sizeof what, "%s%s%s %d/%d", p->stage, *p->detail ? " " : "", p->detail, p->step, p->total);
  else
    snprintf(what, sizeof what, "%s%s%s", p->stage, *p->detail ? " " : "", p->detail);
  if (state.mode == CLI_PROGRESS_AUTO) {
    fprintf(stderr, "\r[%3.0f%%] %-58.58s ETA %-12s", 100.0 * p->fraction, what, eta);
    state.live = 1;
  } else {
    /* plain: every change of stage, and at most one line a second within one */
    int new_stage = strcmp(state.stage, p->stage) != 0;
    if (!new_stage && p->elapsed - state.last_plain < 1.0 && p->step != p->total) return;
    fprintf(stderr, "a2i2a: [%3.0f%%] %s  ETA %s\n", 100.0 * p->fraction, what, eta);
    state.last_plain = p->elapsed;
  }
  snprintf(state.stage, sizeof state.stage, "%s", p->stage);
  fflush(stderr);
}

static void on_log(void *user, a2i2a_log_level level, const char *msg) {
  (void)user;
  if (state.mode == CLI_QUIET && level != A2I2A_LOG_WARNING) return;
  /* several runs of one command say the same thing once */
  if (!strcmp(msg, state.last_log)) return;
  snprintf(state.last_log, sizeof state.last_log, "%s", msg);
  clear_live();
  fprintf(stderr, "a2i2a: %s%s\n", level == A2I2A_LOG_WARNING ? "warning: " : level == A2I2A_LOG_NOTE ? "note: " : "",
          msg);
}

void cli_verbose(int on) {
  verbose = on;
  if (on) fprintf(stderr, "a2i2a %s, %s, %d threads\n", a2i2a_version(), a2i2a_blas_kernels(), a2i2a_get_threads());
}

int cli_is_verbose(void) { return verbose; }

void cli_describe_model(const a2i2a_model *model) {
  if (!verbose || !model) return;
  char desc[512];
  sd_model_describe(&model->m, desc, sizeof desc);
  fprintf(stderr, "a2i2a: model: %s\n", desc);
}

/* -v: where the job's time went, and the memory it took at its peak. */
static void print_timings(const a2i2a_job *job) {
  a2i2a_timings t = a2i2a_job_timings(job);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  fprintf(stderr,
          "a2i2a: timings: %.2f s: a2i %.2f, i2i %.2f, i2a %.2f, sheet %.2f, fingerprints %.2f, loading %.2f; peak "
          "RSS %.0f MB\n",
          now_seconds() - job_t0, t.a2i, t.i2i, t.i2a, t.sheet, t.hash, t.load, ru.ru_maxrss / 1024.0);
}

int cli_cancelled_exit(void) { return caught_signal ? 128 + caught_signal : EXIT_CANCELLED; }
/* --preview: each step's picture replaces the last, atomically (a viewer never sees half a file). */
static void on_preview(void *user, const a2i2a_preview *p) {
  (void)user;
  image_u8 img = {p->width, p->height, 3, (uint8_t *)p->rgb};
  if (png_write(preview_path, &img, NULL, 1) && !preview_failed) {
    preview_failed = 1;
    clear_live();
    fprintf(stderr, "a2i2a: warning: --preview: %s\n", a2i2a_last_error());
  }
}

void cli_job_preview(const char *path, const char *taesd) { preview_path = path, preview_taesd = taesd; }

a2i2a_job *cli_job_new(int mode) {
  memset(&state, 0, sizeof state);
  job_t0 = now_seconds();
  state.mode = mode;
  state.tty = isatty(2);
  a2i2a_callbacks cb = {.progress = on_progress, .log = on_log, .preview = preview_path ? on_preview : NULL,
                        .preview_mode = A2I2A_PREVIEW_AUTO};
  if (preview_taesd && !strcmp(preview_taesd, "none")) cb.preview_mode = A2I2A_PREVIEW_LINEAR;
  else if (preview_taesd && strcmp(preview_taesd, "auto")) cb.preview_taesd = preview_taesd;
  preview_failed = 0;
  a2i2a_job *job = NULL;
  if (a2i2a_job_new(&cb, &job)) return NULL;
  current = job;
  signal(SIGINT, on_sigint);
  signal(SIGTERM, on_sigint);
  if (caught_signal) on_sigint(caught_signal); /* one came between two jobs */
  return job;
}

void cli_job_done(a2i2a_job *job) {
  clear_live();
  if (verbose && job) print_timings(job);
  signal(SIGINT, on_late_signal);
  signal(SIGTERM, on_late_signal);
  current = NULL;
  a2i2a_job_free(job);
}

int cli_preview_check(const char *cmd, const char *path, const char *taesd, int force) {
  if (!path) return taesd ? cli_usage_error(cmd, "--preview-taesd needs --preview FILE") : 0;
  a2i2a_status st = png_name_check(path);
  if (!st) st = outfile_check(path, force);
  if (st) {
    fprintf(stderr, "a2i2a: --preview: %s\n", a2i2a_last_error());
    return st == A2I2A_ERR_PARAM ? EXIT_USAGE : EXIT_RUNTIME;
  }
  cli_job_preview(path, taesd);
  return 0;
}
