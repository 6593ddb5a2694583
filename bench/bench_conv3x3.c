/* One 3x3 convolution (stride 1, pad 1) of the UNet's / VAE's shapes through each path: im2col +
 * sgemm, Winograd F(2x2,3x3), Winograd F(4x4,3x3), and both with the filters transformed block by block
 * in cache (the small maps' path), AVX-512 where the CPU has it and AVX2 only, and the large maps'
 * path (AVX-512 only: "rows F4"). Random F16 weights, a batch of nb images.
 * Prints the best wall and CPU time (all threads) of R runs per path, to choose the thresholds.
 *
 *   bench_conv3x3 [--threads N] [--runs R] [--path P] C OC HxW NB ...   (several shapes: groups of four)
 * --path P: only path P (0-7, in the order printed), e.g. to profile one of them. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "a2i2a.h"
#include "sd/kernels.h"

#define COPIES 8

static double clock_s(clockid_t id) {
  struct timespec t;
  clock_gettime(id, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  int threads = 2, runs = 5, only = -1, i = 1;
  for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
    if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--runs")) runs = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--path")) only = atoi(argv[i + 1]);
  }
  if ((argc - i) % 4 || argc == i) {
    fprintf(stderr, "usage: bench_conv3x3 [--threads N] [--runs R] [--path 0-7] C OC HxW NB ...\n");
    return 2;
  }
  a2i2a_set_threads(threads);
  for (; i < argc; i += 4) {
    int C = atoi(argv[i]), OC = atoi(argv[i + 1]), H, W, nb = atoi(argv[i + 3]);
    if (sscanf(argv[i + 2], "%dx%d", &H, &W) != 2 || C < 1 || OC < 1 || nb < 1) return 2;
    size_t nw = (size_t)OC * C * 9, nx = (size_t)C * nb * H * W, ny = (size_t)OC * nb * H * W;
    /* COPIES copies of the weights, used in turn: together larger than the L3 cache, so that each
     * run reads its weights from memory as a network's layer does */
    uint16_t *w16 = malloc(nw * 2 * COPIES);
    float *x = malloc(nx * 4), *y = malloc(ny * 4);
    uint32_t s = 1;
    for (size_t k = 0; k < nw; k++)
      s = s * 1664525u + 1013904223u, w16[k] = f32_to_f16(((s >> 9) / 8388608.0f - 0.5f) * 0.05f);
    for (size_t k = 0; k < nx; k++) s = s * 1664525u + 1013904223u, x[k] = (s >> 9) / 8388608.0f - 0.5f;
    for (int k = 1; k < COPIES; k++) memcpy(w16 + nw * k, w16, nw * 2);
    weight wt = {.dtype = ST_F16, .data = w16, .numel = nw, .ndim = 4, .shape = {OC, C, 3, 3}};
    double gflop = 2.0 * nw * nb * H * W / 1e9;
    static const char *names[] = {"im2col",   "F(2x2)",      "F(4x4)",      "fused F2",
                                  "fused F4", "fusedF2avx2", "fusedF4avx2", "rows F4"};
    for (int path = 0; path < 8; path++) {
      if (only >= 0 && path != only) continue;
      /* paths 5, 6: 3, 4 with the product kernel in AVX2 only (3, 4: AVX-512 where the CPU has it) */
      kernels_tune_winograd_avx512(path == 3 || path == 4 || path == 7, 0);
      /* path 7: the large maps' path (AVX-512) on any size; the others without it */
      kernels_tune_winograd_rows(path == 7 ? 2 : 0);
      kernels_tune(path == 0 ? 1 << 30 : 0, 0);
      kernels_tune_winograd_f4(path == 2 || path == 7 ? 1 : SIZE_MAX);
      /* paths 3, 4: every map "small", the filters transformed block by block in cache */
      kernels_tune_winograd_min_pixels(path >= 3 && path <= 6 ? SIZE_MAX : 1);
      kernels_tune_winograd_fused(1, path == 3 || path == 5 ? 2 : 4);
      double best = 1e9, cbest = 1e9;
      for (int r = 0; r <= runs; r++) { /* run 0 warms the scratch */
        double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        wt.data = w16 + nw * (r % COPIES);
        conv2d_batch(y, x, nb, C, H, W, &wt, NULL, OC, 3, 1, 1, 1, 0);
        double t = clock_s(CLOCK_MONOTONIC) - t0, c = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
        if (r && t < best) best = t;
        if (r && c < cbest) cbest = c;
      }
      printf("C %4d OC %4d %3dx%-3d x%d  %-10s wall %7.2f ms  CPU %7.2f ms  (%.0f GFLOP/CPU-s direct count)\n", C, OC,
             H, W, nb, names[path], best * 1e3, cbest * 1e3, gflop / cbest);
      fflush(stdout);
    }
    free(w16), free(x), free(y);
  }
  return 0;
}
