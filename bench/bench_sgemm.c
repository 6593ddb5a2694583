/* The ceiling: cblas_sgemm GFLOP/s on this machine at 1 and 2 threads, on the shapes the
 * VAE's im2col convolutions produce (M = output channels, N = output pixels of a tile,
 * K = input channels x 9) and on a square product.
 * usage: bench_sgemm [seconds per measurement, default 2] */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "a2i2a.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}
/* CPU seconds of the whole process: on a shared machine, GFLOP per CPU-second is the number
 * that does not depend on how many other jobs were running. */
static double cpu(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  double secs = argc > 1 ? atof(argv[1]) : 2.0;
  static const int shapes[][3] = {{128, 4096, 1152}, {256, 4096, 2304}, {512, 4096, 4608}, {2048, 2048, 2048}};
  size_t maxa = 0, maxb = 0, maxc = 0;
  for (int s = 0; s < 4; s++) {
    size_t a = (size_t)shapes[s][0] * shapes[s][2], b = (size_t)shapes[s][2] * shapes[s][1],
           c = (size_t)shapes[s][0] * shapes[s][1];
    maxa = a > maxa ? a : maxa, maxb = b > maxb ? b : maxb, maxc = c > maxc ? c : maxc;
  }
  float *A = malloc(maxa * 4), *B = malloc(maxb * 4), *C = malloc(maxc * 4);
  for (size_t i = 0; i < maxa; i++) A[i] = (float)(i % 7) * 0.1f;
  for (size_t i = 0; i < maxb; i++) B[i] = (float)(i % 5) * 0.1f;
  printf("%-22s %8s %10s %18s\n", "M x N x K", "threads", "GFLOP/s", "GFLOP/CPU-second");
  for (int threads = 1; threads <= 2; threads++) {
    a2i2a_set_threads(threads);
    for (int s = 0; s < 4; s++) {
      int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1, A, K, B, N, 0, C, N); /* warm */
      int reps = 0;
      double t0 = now(), c0 = cpu(), t;
      do {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1, A, K, B, N, 0, C, N);
        reps++;
      } while ((t = now() - t0) < secs);
      char shape[64];
      snprintf(shape, sizeof shape, "%d x %d x %d", M, N, K);
      double fl = 2.0 * M * N * K * reps / 1e9;
      printf("%-22s %8d %10.1f %18.1f\n", shape, threads, fl / t, fl / (cpu() - c0));
      fflush(stdout);
    }
  }
  free(A), free(B), free(C);
  return 0;
}
