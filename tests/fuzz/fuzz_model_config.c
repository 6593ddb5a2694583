/* libFuzzer target: a diffusers model's configs — unet/config.json, vae/config.json,
 * text_encoder/config.json and scheduler/scheduler_config.json, the input's four parts
 * (separated by NUL bytes) — read by sd_model_open and every network's loader (unet_load,
 * vae_load, clip_load_config) on the tiny model's weights (examples/tiny-sd1, linked), and
 * the scheduler built from it for every sampler (sched_config_for_sampler, sched_new,
 * set_timesteps). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/registry.h"
#include "fuzz.h"
#include "sd/clip.h"
#include "sd/model.h"
#include "sd/scheduler.h"
#include "sd/unet.h"
#include "sd/vae.h"

static char model[512];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  setenv("OMP_NUM_THREADS", "1", 1);
  snprintf(model, sizeof model, "%s/model", fuzz_tmpdir());
  static const char *parts[][2] = {{"unet", "diffusion_pytorch_model.safetensors"},
                                   {"vae", "diffusion_pytorch_model.safetensors"},
                                   {"text_encoder", "model.safetensors"},
                                   {"scheduler", NULL}};
  char p[1024], q[1024];
  mkdir(model, 0700);
  for (int i = 0; i < 4; i++) {
    snprintf(p, sizeof p, "%s/%s", model, parts[i][0]);
    mkdir(p, 0700);
    if (!parts[i][1]) continue;
    snprintf(p, sizeof p, "%s/%s/%s", model, parts[i][0], parts[i][1]);
    snprintf(q, sizeof q, "%s/examples/tiny-sd1/%s/%s", A2I2A_SOURCE_DIR, parts[i][0], parts[i][1]);
    if (symlink(q, p)) abort();
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *buf;
  const char *part[4];
  size_t len[4];
  fuzz_split(data, size, &buf, part, len, 4);
  fuzz_write(model, "unet/config.json", part[0], len[0]);
  fuzz_write(model, "vae/config.json", part[1], len[1]);
  fuzz_write(model, "text_encoder/config.json", part[2], len[2]);
  fuzz_write(model, "scheduler/scheduler_config.json", part[3], len[3]);
  free(buf);
  sd_model m;
  if (sd_model_open(model, &m) != A2I2A_OK) return 0;
  unet *u;
  if (unet_load(&u, &m) == A2I2A_OK) unet_free(u);
  vae *v;
  if (vae_load(&v, &m) == A2I2A_OK) vae_free(v);
  clip_text *c;
  if (clip_load_config(&c, &m, NULL) == A2I2A_OK) clip_free(c);
  for (int i = 0; i < sched_sampler_registry.count; i++) {
    sched_config sc;
    sched *s;
    if (sched_config_for_sampler(m.scheduler_config, registry_entry(&sched_sampler_registry, i)->name, NULL, &sc) ||
        sched_new(&sc, &s))
      continue;
    const int steps[] = {1, 2, 25, 1000};
    for (int k = 0; k < 4; k++)
      if (sched_set_timesteps(s, steps[k]) == A2I2A_OK) {
        const double *t = sched_timesteps(s);
        volatile double last = t[sched_count(s) - 1];
        (void)last;
      }
    sched_free(s);
  }
  sd_model_close(&m);
  return 0;
}
