/* libFuzzer target: the configs of the add-on networks — Vocos's config.yaml (libyaml),
 * HiFi-GAN's config.json and TAESD's config.json, the input's three parts (separated by NUL
 * bytes) — each beside the tiny fixture's own weights (A2I2A_FIXTURES, linked), opened by
 * vocoder_open / taesd_open. What opens must then run: the vocoder on a few frames of silence,
 * TAESD's decoder on a 2×2 latent, so that a config the loader accepts cannot size a buffer
 * the network then overruns. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "sd/taesd.h"
#include "vocoder/vocoder.h"

static char vocos_dir[512], hifigan_dir[512], taesd_dir[512];

static void link_fixture(const char *dir, const char *fixture, const char *name) {
  char p[1024], q[1024];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  snprintf(q, sizeof q, "%s/%s/%s", A2I2A_FIXTURES_DIR, fixture, name);
  if (access(q, R_OK)) {
    fprintf(stderr, "fuzz_addon_config: %s is missing (the shared fixtures are needed)\n", q);
    abort();
  }
  if (symlink(q, p)) abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  setenv("OMP_NUM_THREADS", "1", 1);
  snprintf(vocos_dir, sizeof vocos_dir, "%s/vocos", fuzz_tmpdir());
  snprintf(hifigan_dir, sizeof hifigan_dir, "%s/hifigan", fuzz_tmpdir());
  snprintf(taesd_dir, sizeof taesd_dir, "%s/taesd", fuzz_tmpdir());
  if (mkdir(vocos_dir, 0700) || mkdir(hifigan_dir, 0700) || mkdir(taesd_dir, 0700)) abort();
  link_fixture(vocos_dir, "vocoder/tiny-vocos", "model.safetensors");
  link_fixture(hifigan_dir, "vocoder/tiny-hifigan", "generator.safetensors");
  link_fixture(taesd_dir, "sd-ext/tiny-taesd", "diffusion_pytorch_model.safetensors");
  return 0;
}

static void run_vocoder(const char *dir) {
  vocoder *v;
  if (vocoder_open(dir, &v) != A2I2A_OK) return;
  const vocoder_features *f = vocoder_features_of(v);
  const int frames = 3;
  float *mel = calloc((size_t)f->n_mels * frames, sizeof *mel);
  float *audio = malloc((size_t)vocoder_samples(f, frames) * sizeof *audio);
  if (!mel || !audio) abort();
  vocoder_run(v, mel, frames, audio, NULL, NULL, NULL);
  free(mel);
  free(audio);
  vocoder_close(v);
}

static void run_taesd(const char *dir) {
  taesd *t;
  if (taesd_open(dir, &t) != A2I2A_OK) return;
  int factor, lc, ic;
  taesd_dims(t, &factor, &lc, &ic);
  float *latents = calloc((size_t)lc * 4, sizeof *latents);
  float *image = malloc((size_t)ic * 4 * factor * factor * sizeof *image);
  if (!latents || !image) abort();
  taesd_decode(t, latents, 2, 2, image);
  free(latents);
  free(image);
  taesd_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *buf;
  const char *part[3];
  size_t len[3];
  fuzz_split(data, size, &buf, part, len, 3);
  fuzz_write(vocos_dir, "config.yaml", part[0], len[0]);
  fuzz_write(hifigan_dir, "config.json", part[1], len[1]);
  fuzz_write(taesd_dir, "config.json", part[2], len[2]);
  free(buf);
  run_vocoder(vocos_dir);
  run_vocoder(hifigan_dir);
  run_taesd(taesd_dir);
  return 0;
}
