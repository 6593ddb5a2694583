/* VAE encode and decode speed and memory on a full-size checkpoint (make_sd_checkpoint):
 *   bench_vae MODEL [threads=2] [sizes: WxH,... default 512x512,400x296] [runs=1] [options]
 * options, comma-separated: "direct" turns Winograd off (im2col + sgemm for every convolution),
 * "f2" keeps it to 2x2 output tiles (F(2x2,3x3), as before F(4x4,3x3)), for comparison;
 * "decode" or "encode" measures only that.
 * Each measurement runs in its own child process so that its peak RSS is its own (the
 * mapped weights it touches included). GFLOP/s counts the direct-convolution work of the SD
 * VAE (issue #4: decode 2515 / 1127 GFLOP at 512x512 / 400x296, encode 1117 / 496), scaled
 * with the pixel count for other sizes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "a2i2a.h"
#include "sd/kernels.h"
#include "sd/model.h"
#include "sd/vae.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static int direct; /* 1: im2col only, 2: Winograd F(2x2,3x3) only */

static int measure(const char *model, int decode, int W, int H, int runs) {
  sd_model m;
  vae *v;
  if (sd_model_open(model, &m) || vae_load(&v, &m)) {
    fprintf(stderr, "%s\n", a2i2a_last_error());
    return 1;
  }
  int h = H / 8, w = W / 8;
  float *img = malloc((size_t)3 * H * W * 4), *lat = malloc((size_t)4 * h * w * 4),
        *lv = malloc((size_t)4 * h * w * 4);
  unsigned s = 12345;
  for (size_t i = 0; i < (size_t)3 * H * W; i++) img[i] = (float)((s = s * 1103515245 + 12345) >> 16 & 0x7fff) / 16384.0f - 1.0f;
  for (size_t i = 0; i < (size_t)4 * h * w; i++) lat[i] = (float)((s = s * 1103515245 + 12345) >> 16 & 0x7fff) / 8192.0f - 2.0f;
  double gflop = (decode ? 2515.0 : 1117.0) * ((double)W * H) / (512.0 * 512.0);
  if (W == 400 && H == 296) gflop = decode ? 1127.0 : 496.0;
  for (int r = 0; r < runs; r++) {
    struct rusage r0;
    getrusage(RUSAGE_SELF, &r0);
    double t0 = now();
    a2i2a_status st = decode ? vae_decode(v, lat, h, w, img) : vae_encode(v, img, H, W, lat, lv);
    double t = now() - t0;
    if (st) {
      fprintf(stderr, "%s\n", a2i2a_last_error());
      return 1;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double c = ru.ru_utime.tv_sec - r0.ru_utime.tv_sec + (ru.ru_utime.tv_usec - r0.ru_utime.tv_usec) * 1e-6 +
               ru.ru_stime.tv_sec - r0.ru_stime.tv_sec + (ru.ru_stime.tv_usec - r0.ru_stime.tv_usec) * 1e-6;
    printf("%-7s %4dx%-4d %s threads %d  wall %7.2f s  %6.1f GFLOP/s  CPU %7.2f s (%5.1f GFLOP/CPU-s)  peak RSS %5.0f MB\n",
           decode ? "decode" : "encode", W, H, direct == 1 ? "direct  " : direct ? "wino-f2 " : "winograd", a2i2a_get_threads(), t, gflop / t, c, gflop / c, ru.ru_maxrss / 1024.0);
    fflush(stdout);
  }
  free(img), free(lat), free(lv);
  vae_free(v);
  sd_model_close(&m);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODEL [threads=2] [WxH,...] [runs=1] [direct|f2][,decode|,encode]\n", argv[0]);
    return 2;
  }
  int threads = argc > 2 ? atoi(argv[2]) : 2, runs = argc > 4 ? atoi(argv[4]) : 1;
  const char *opts = argc > 5 ? argv[5] : "";
  if (strstr(opts, "direct")) {
    kernels_tune(1 << 30, 0);
    direct = 1;
  } else if (strstr(opts, "f2")) {
    kernels_tune_winograd_f4(SIZE_MAX); /* Winograd with 2x2 output tiles only */
    direct = 2;
  }
  int first = strstr(opts, "decode") ? 1 : 0, last = strstr(opts, "encode") ? 0 : 1;
  char sizes[256];
  snprintf(sizes, sizeof sizes, "%s", argc > 3 ? argv[3] : "512x512,400x296");
  int fails = 0;
  for (char *tok = strtok(sizes, ","); tok; tok = strtok(NULL, ",")) {
    int W, H;
    if (sscanf(tok, "%dx%d", &W, &H) != 2 || W % 8 || H % 8) {
      fprintf(stderr, "bad size %s\n", tok);
      return 2;
    }
    for (int decode = first; decode <= last; decode++) {
      pid_t p = fork();
      if (p == 0) {
        a2i2a_set_threads(threads);
        _exit(measure(argv[1], decode, W, H, runs));
      }
      int status = 0;
      waitpid(p, &status, 0);
      fails += !WIFEXITED(status) || WEXITSTATUS(status);
    }
  }
  return fails ? 1 : 0;
}
