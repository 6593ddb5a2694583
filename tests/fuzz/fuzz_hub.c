/* libFuzzer target: a model in the Hugging Face cache — refs/main (the input up to its first
 * NUL byte, absent when empty) and the snapshot's links, one byte each after it choosing what
 * the link leads to: the right blob (relative or absolute), a missing one, a folder, a FIFO, a
 * loop, another file's blob, an empty file, /dev/null or no link at all; a last byte adds
 * snapshots. Resolved by hub_snapshot and opened by sd_model_open (configs, weights) and, when
 * a tokenizer link is odd, tokenizer_load. Blobs are links to examples/tiny-sd1's files. */
#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "hub/hub.h"
#include "sd/clip.h"
#include "sd/model.h"

#define COMMIT "0123456789abcdef0123456789abcdef01234567"

static const char *files[] = {"model_index.json",
                              "unet/config.json",
                              "unet/diffusion_pytorch_model.safetensors",
                              "vae/config.json",
                              "vae/diffusion_pytorch_model.safetensors",
                              "text_encoder/config.json",
                              "text_encoder/model.safetensors",
                              "scheduler/scheduler_config.json",
                              "tokenizer/vocab.json",
                              "tokenizer/merges.txt",
                              "tokenizer/tokenizer_config.json"};
enum { NFILES = sizeof files / sizeof *files, VOCAB = 8 };
static char hub[512], base[600];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  snprintf(hub, sizeof hub, "%s/hub", fuzz_tmpdir());
  setenv("HF_HUB_CACHE", hub, 1);
  setenv("OMP_NUM_THREADS", "1", 1);
  snprintf(base, sizeof base, "%s/models--org--name", hub);
  return mkdir(hub, 0700);
}

static void path(char *out, size_t n, const char *rel) { snprintf(out, n, "%s/%s", base, rel); }

static int remove_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(p);
}

/* The snapshot's link for file k, by choice c. */
static void make_link(int k, int c, int nfiles_blob) {
  char link[1024], target[1024], up[64] = "../../";
  snprintf(link, sizeof link, "%s/snapshots/" COMMIT "/%s", base, files[k]);
  char *slash = strrchr(link, '/');
  *slash = 0;
  mkdir(link, 0700); /* the part's folder (model_index.json: the snapshot itself) */
  *slash = '/';
  if (strchr(files[k], '/')) strcat(up, "../");
  switch (c % 10) {
  case 0: snprintf(target, sizeof target, "%sblobs/b%d", up, k); break;
  case 1: snprintf(target, sizeof target, "%s/blobs/b%d", base, k); break;
  case 2: snprintf(target, sizeof target, "%sblobs/missing", up); break;
  case 3: snprintf(target, sizeof target, "%sblobs", up); break;
  case 4: snprintf(target, sizeof target, "%sblobs/fifo", up); break;
  case 5: snprintf(target, sizeof target, "%s", strrchr(files[k], '/') ? strrchr(files[k], '/') + 1 : files[k]); break;
  case 6: snprintf(target, sizeof target, "%sblobs/b%d", up, (k + 1) % nfiles_blob); break;
  case 7: snprintf(target, sizeof target, "%sblobs/empty", up); break;
  case 8: snprintf(target, sizeof target, "/dev/null"); break;
  default: return; /* no link */
  }
  if (symlink(target, link)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char p[1024], q[1024];
  nftw(base, remove_one, 16, FTW_DEPTH | FTW_PHYS);
  mkdir(base, 0700);
  path(p, sizeof p, "blobs"), mkdir(p, 0700);
  path(p, sizeof p, "refs"), mkdir(p, 0700);
  path(p, sizeof p, "snapshots"), mkdir(p, 0700);
  path(p, sizeof p, "snapshots/" COMMIT), mkdir(p, 0700);
  for (int k = 0; k < NFILES; k++) {
    snprintf(p, sizeof p, "%s/blobs/b%d", base, k);
    snprintf(q, sizeof q, "%s/examples/tiny-sd1/%s", A2I2A_SOURCE_DIR, files[k]);
    if (symlink(q, p)) abort();
  }
  fuzz_write(base, "blobs/empty", "", 0);
  path(p, sizeof p, "blobs/fifo"), mkfifo(p, 0600);
  const uint8_t *nul = memchr(data, 0, size);
  size_t reflen = nul ? (size_t)(nul - data) : size;
  if (reflen) fuzz_write(base, "refs/main", data, reflen);
  const uint8_t *choice = nul ? nul + 1 : data + size;
  size_t nchoice = (size_t)(data + size - choice);
  for (int k = 0; k < NFILES; k++) make_link(k, k < (int)nchoice ? choice[k] : 0, NFILES);
  for (int extra = nchoice > NFILES ? choice[NFILES] % 3 : 0; extra > 0; extra--) {
    snprintf(p, sizeof p, "%s/snapshots/other%d", base, extra);
    mkdir(p, 0700);
  }

  char snap[4096];
  hub_snapshot(NULL, "org/name", snap, sizeof snap);
  sd_model m;
  if (sd_model_open("org/name", &m) == A2I2A_OK) {
    int odd = (VOCAB < (int)nchoice && choice[VOCAB] % 10) || (VOCAB + 1 < (int)nchoice && choice[VOCAB + 1] % 10) ||
              (VOCAB + 2 < (int)nchoice && choice[VOCAB + 2] % 10);
    clip_tokenizer *t;
    if (odd && tokenizer_load(&t, &m) == A2I2A_OK) tokenizer_free(t);
    sd_model_close(&m);
  }
  return 0;
}
