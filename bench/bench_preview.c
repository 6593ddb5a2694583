/* What a job's callbacks cost per denoising step at a given painting size: the x0 estimate,
 * the latent → RGB projection handed to a preview callback, and a progress report formatted
 * as the CLI's live line, against the time of one step measured by bench_unet.
 *
 *   bench_preview [WIDTH HEIGHT] [ROUNDS]      (default 400 296 20000) */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "common/job.h"
#include "common/rng.h"
#include "sd/pipeline.h"
#include "sd/scheduler.h"

static unsigned long sink;

static void on_progress(void *user, const a2i2a_progress *p) {
  char line[160];
  int n = snprintf(line, sizeof line, "\r[%3.0f%%] %s %d/%d ETA %.0f s", 100 * p->fraction, p->stage, p->step, p->total,
                   p->eta);
  sink += (unsigned long)n + (unsigned long)(uintptr_t)user;
}

static void on_preview(void *user, const a2i2a_preview *p) {
  (void)user;
  sink += p->rgb[0] + p->rgb[(size_t)p->width * p->height * 3 - 1];
}

int main(int argc, char **argv) {
  int W = argc > 2 ? atoi(argv[1]) : 400, H = argc > 2 ? atoi(argv[2]) : 296;
  int rounds = argc > 3 ? atoi(argv[3]) : argc == 2 ? atoi(argv[1]) : 20000;
  int h = H / 8, w = W / 8;
  size_t n = (size_t)4 * h * w;
  float *xt = malloc(n * sizeof *xt), *eps = malloc(n * sizeof *eps), *x0 = malloc(n * sizeof *x0);
  uint8_t *rgb = malloc((size_t)3 * h * w);
  torch_rng g;
  rng_seed(&g, 1);
  for (size_t i = 0; i < n; i++) xt[i] = 2 * rng_uniform(&g) - 1, eps[i] = 2 * rng_uniform(&g) - 1;
  sched_config cfg;
  sched *s = NULL;
  if (sched_config_for_sampler(NULL, "pndm", NULL, &cfg) || sched_new(&cfg, &s) || sched_set_timesteps(s, 50)) {
    fprintf(stderr, "bench_preview: %s\n", a2i2a_last_error());
    return 1;
  }
  a2i2a_callbacks cb = {.progress = on_progress, .preview = on_preview};
  a2i2a_job *job;
  a2i2a_job_new(&cb, &job);
  job_begin(job);
  job_stage(job, "painting", NULL, rounds);
  double t0 = now_seconds();
  for (int k = 0; k < rounds; k++) {
    if (job_check(job)) break;
    sd_estimate_x0(s, 500.0 + (k % 7), xt, eps, x0, n);
    sd_latent_preview(x0, h, w, rgb);
    a2i2a_preview pv = {k + 1, rounds, w, h, rgb, 0};
    job_preview(job, &pv);
    job_step(job, k + 1);
  }
  double per = (now_seconds() - t0) / rounds;
  printf("callbacks per step at %dx%d (latents %dx%d): %.1f us (progress + x0 estimate + projection + preview)\n", W,
         H, w, h, per * 1e6);
  job_end(job, A2I2A_OK);
  a2i2a_job_free(job);
  sched_free(s);
  free(xt), free(eps), free(x0), free(rgb);
  return sink == 42; /* keeps the callbacks' work */
}
