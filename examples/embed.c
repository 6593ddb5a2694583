/* Embedding liba2i2a: the whole chain on the bundled sound with the bundled tiny model, a
 * progress bar on stderr, and Ctrl-C as a cancel. Uses only the public header.
 *
 *   cc embed.c $(pkg-config --cflags --libs a2i2a) -o embed
 *   ./embed OUTDIR [READINGS]      (from the repository root; READINGS e.g. "red,chirp")
 *
 * Exit status: 0 done, 1 failed (one line on stderr), 130 cancelled (nothing written). */
#include <a2i2a.h>
#include <signal.h>
#include <stdio.h>

static a2i2a_job *job;

static void on_sigint(int sig) {
  (void)sig;
  a2i2a_job_cancel(job); /* async-signal-safe: the run stops within one UNet evaluation */
}

static void on_progress(void *user, const a2i2a_progress *p) {
  (void)user;
  int filled = (int)(p->fraction * 30);
  fprintf(stderr, "\r[%-30.*s] %3.0f%% %-11s %-16.16s", filled, "##############################",
          100 * p->fraction, p->stage, p->detail);
}

static void on_log(void *user, a2i2a_log_level level, const char *message) {
  (void)user;
  const char *kind = level == A2I2A_LOG_WARNING ? "warning" : level == A2I2A_LOG_NOTE ? "note" : "info";
  fprintf(stderr, "\n%s: %s\n", kind, message);
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: embed OUTDIR [READINGS]\n");
    return 2;
  }
  a2i2a_run_params params;
  a2i2a_run_preset("seed", &params); /* the notebook's chain ... */
  params.model = "examples/tiny-sd1"; /* ... with the tiny model (recorded in run.json) ... */
  params.i2i.steps = 4;               /* ... in 4 steps: it paints noise anyway */
  if (argc == 3) params.readings = argv[2];

  a2i2a_callbacks callbacks = {.progress = on_progress, .log = on_log};
  a2i2a_model *model = NULL;
  a2i2a_status status = a2i2a_job_new(&callbacks, &job);
  if (status == A2I2A_OK) status = a2i2a_model_open(params.model, &model);
  if (status == A2I2A_OK) {
    signal(SIGINT, on_sigint);
    status = a2i2a_run(model, "examples/sampling.wav", argv[1], &params, 0, job);
    signal(SIGINT, SIG_DFL);
    fprintf(stderr, "\n");
  }
  if (status == A2I2A_OK)
    printf("%s: done in %.1f s of painting (liba2i2a %s)\n", argv[1], a2i2a_job_timings(job).i2i, a2i2a_version());
  else if (status == A2I2A_ERR_CANCELLED)
    fprintf(stderr, "embed: cancelled; nothing was written\n");
  else
    fprintf(stderr, "embed: %s\n", a2i2a_last_error());
  a2i2a_model_close(model);
  a2i2a_job_free(job);
  return status == A2I2A_OK ? 0 : status == A2I2A_ERR_CANCELLED ? 130 : 1;
}
