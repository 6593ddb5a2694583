/* attention() on the shapes Stable Diffusion's models use, through the kernel built on sgemm
 * (kernels_tune_attention(-1, ·)) and the register-blocked one with AVX2 only and with AVX-512
 * (where the CPU has it), interleaved run by run so that all see the same load. Prints the best
 * CPU time (all threads) of R runs of each, the rate in GFLOP per CPU-second
 * (4·nq·nk·head_dim·heads, half of it when causal) and the CPU-time ratios to the sgemm kernel.
 *
 *   bench_attention [--threads N] [--runs R] [NQ NK HEADS HEAD_DIM CAUSAL ...]
 * Without shapes: SD 1.5 at 400x296 and 512x512 (self- and cross-attention), SD 2.x, CLIP, VAE. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "a2i2a.h"
#include "sd/kernels.h"

static double clock_s(clockid_t id) {
  struct timespec t;
  clock_gettime(id, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static const char *const default_shapes[] = {
    /* SD 1.5 at 400x296 (latent 37x50): self-attention at 1850, 475, 130 tokens, cross with 77 */
    "1850", "1850", "8", "40",  "0", "475", "475", "8", "80", "0", "130", "130", "8", "160", "0",
    "1850", "77",   "8", "40",  "0", "475", "77",  "8", "80", "0", "130", "77",  "8", "160", "0",
    /* SD 1.5 at 512x512 (latent 64x64) */
    "4096", "4096", "8", "40",  "0", "1024", "1024", "8", "80", "0", "256", "256", "8", "160", "0",
    /* SD 2.x: 64-wide heads; CLIP: 77 tokens, causal, 64-wide heads (12 and 16 heads) */
    "1850", "1850", "5", "64",  "0", "475", "475", "10", "64", "0", "1850", "77", "5", "64", "0",
    "77",   "77",   "12", "64", "1", "77",  "77",  "16", "64", "1",
    /* the VAE's mid-block: one 512-wide head over every latent pixel */
    "1850", "1850", "1", "512", "0"};

int main(int argc, char **argv) {
  int threads = 2, runs = 5, i = 1;
  for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
    if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--runs")) runs = atoi(argv[i + 1]);
  }
  const char *const *shapes = (const char *const *)argv + i;
  int nshapes = argc - i;
  if (!nshapes) shapes = default_shapes, nshapes = sizeof default_shapes / sizeof *default_shapes;
  if (nshapes % 5) {
    fprintf(stderr, "usage: bench_attention [--threads N] [--runs R] [NQ NK HEADS HEAD_DIM CAUSAL ...]\n");
    return 2;
  }
  a2i2a_set_threads(threads);
  printf("%5s %5s %5s %4s %6s | %-22s | %-22s | %-22s | %s\n", "nq", "nk", "heads", "hd", "causal",
         "sgemm: CPU ms, GFLOP/s", "AVX2: CPU ms, GFLOP/s", "AVX-512: CPU ms, GFLOP/s", "speed-up AVX2, AVX-512");
  for (int s = 0; s < nshapes; s += 5) {
    int nq = atoi(shapes[s]), nk = atoi(shapes[s + 1]), heads = atoi(shapes[s + 2]), hd = atoi(shapes[s + 3]);
    int causal = atoi(shapes[s + 4]);
    if (nq < 1 || nk < 1 || heads < 1 || hd < 1) return 2;
    int width = heads * hd;
    float *q = malloc((size_t)nq * width * 4), *kv = malloc((size_t)nk * 2 * width * 4);
    float *out = malloc((size_t)nq * width * 4);
    uint32_t r = 1;
    for (size_t j = 0; j < (size_t)nq * width; j++) r = r * 1664525u + 1013904223u, q[j] = (r >> 9) / 8388608.0f - 0.5f;
    for (size_t j = 0; j < (size_t)nk * 2 * width; j++)
      r = r * 1664525u + 1013904223u, kv[j] = (r >> 9) / 8388608.0f - 0.5f;
    double gflop = 4.0 * nq * nk * hd * heads / 1e9 * (causal ? 0.5 : 1);
    double cbest[3] = {1e9, 1e9, 1e9};
    int reps = 1 + (int)(0.05 / gflop); /* tiny shapes: several calls per timed run */
    for (int run = 0; run <= runs; run++) /* run 0 warms the scratch */
      for (int path = 0; path < 3; path++) {
        kernels_tune_attention(path ? 1 << 20 : -1, path == 2);
        double c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        /* k and v interleaved in one buffer: rows 2·width apart, like the UNet's strided views */
        for (int rep = 0; rep < reps; rep++)
          attention(out, q, width, kv, kv + width, 2 * width, nq, nk, heads, hd, 1.0f / sqrtf((float)hd), causal);
        double c = (clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0) / reps;
        if (run && c < cbest[path]) cbest[path] = c;
      }
    printf("%5d %5d %5d %4d %6d | %10.2f %11.1f | %10.2f %11.1f | %10.2f %11.1f | %.2fx %.2fx\n", nq, nk, heads, hd,
           causal, cbest[0] * 1e3, gflop / cbest[0], cbest[1] * 1e3, gflop / cbest[1], cbest[2] * 1e3,
           gflop / cbest[2], cbest[0] / cbest[1], cbest[0] / cbest[2]);
    fflush(stdout);
    free(q), free(kv), free(out);
  }
  return 0;
}
