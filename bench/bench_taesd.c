/* TAESD at its published width (64 channels, madebyollin/taesd's layout, random weights) against
 * the full VAE and a guided UNet step, at one painting size:
 *   bench_taesd [MODEL] [--threads N] [--size WxH] [--runs R]      (default 2 threads, 400x296, 5)
 * Times taesd_decode and taesd_encode (best and median of R, wall and CPU), then with MODEL (a
 * full-size checkpoint, e.g. from make_sd_checkpoint sd15) in the same run: one vae_decode, and one
 * guided UNet step (a batch of 2 at the latent size), against which a TAESD preview (the x0
 * estimate, the decode, the RGB conversion) is priced. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "a2i2a.h"
#include "sd/model.h"
#include "sd/safetensors.h"
#include "sd/taesd.h"
#include "sd/unet.h"
#include "sd/vae.h"
#include "support/taesd_make.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static double cpu_now(void) {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  return r.ru_utime.tv_sec + r.ru_stime.tv_sec + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) * 1e-6;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static float uniform(void) { /* [-1, 1) */
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return (float)((rng >> 40) / 8388608.0 - 1.0);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  const char *model = NULL;
  int threads = 2, W = 400, H = 296, runs = 5;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--size") && i + 1 < argc) sscanf(argv[++i], "%dx%d", &W, &H);
    else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
    else model = argv[i];
  }
  if (runs < 1 || runs > 100 || W % 8 || H % 8) return fprintf(stderr, "bench_taesd: bad arguments\n"), 2;
  a2i2a_set_threads(threads);
  char dir[] = "/tmp/bench_taesd.XXXXXX", file[64];
  if (!mkdtemp(dir)) return 1;
  snprintf(file, sizeof file, "%s/diffusion_pytorch_model.safetensors", dir);
  taesd *t = NULL;
  if (taesd_make(dir, 64, 1) || taesd_open(dir, &t)) return fprintf(stderr, "bench_taesd: %s\n", a2i2a_last_error()), 1;
  unlink(file), rmdir(dir);
  char load[64] = "?";
  FILE *la = fopen("/proc/loadavg", "r");
  if (la && !fgets(load, sizeof load, la)) load[0] = 0;
  if (la) fclose(la);
  load[strcspn(load, "\n")] = 0;
  printf("bench_taesd %dx%d, %d threads, %s; load average %s\n", W, H, a2i2a_get_threads(), a2i2a_blas_kernels(), load);

  int h = H / 8, w = W / 8;
  float *lat = malloc((size_t)4 * h * w * 4), *img = malloc((size_t)3 * H * W * 4);
  for (int i = 0; i < 4 * h * w; i++) lat[i] = 2.0f * uniform();
  double wall[2][100], cpu[2][100];
  for (int side = 0; side < 2; side++) {
    for (int r = -1; r < runs; r++) { /* one warm-up: the activation buffers */
      double t0 = now(), c0 = cpu_now();
      a2i2a_status st = side ? taesd_encode(t, img, H, W, lat) : taesd_decode(t, lat, h, w, img);
      if (st) return fprintf(stderr, "bench_taesd: %s\n", a2i2a_last_error()), 1;
      if (r >= 0) wall[side][r] = now() - t0, cpu[side][r] = cpu_now() - c0;
    }
    qsort(wall[side], runs, sizeof(double), cmp_double);
    qsort(cpu[side], runs, sizeof(double), cmp_double);
    printf("TAESD %s (64 channels): wall best %.3f s, median %.3f s; CPU best %.3f s, median %.3f s\n",
           side ? "encode" : "decode", wall[side][0], wall[side][runs / 2], cpu[side][0], cpu[side][runs / 2]);
  }
  for (size_t i = 0; i < (size_t)3 * H * W; i++)
    if (!isfinite(img[i])) return fprintf(stderr, "bench_taesd: the decode is not finite\n"), 1;
  if (!model) return 0;

  sd_model m;
  vae *v = NULL;
  unet *u = NULL;
  if (sd_model_open(model, &m) || vae_load(&v, &m) || unet_load(&u, &m))
    return fprintf(stderr, "bench_taesd: %s\n", a2i2a_last_error()), 1;
  double t0 = now(), c0 = cpu_now();
  if (vae_decode(v, lat, h, w, img)) return fprintf(stderr, "bench_taesd: %s\n", a2i2a_last_error()), 1;
  double vw = now() - t0, vc = cpu_now() - c0;
  printf("VAE decode: wall %.2f s, CPU %.2f s: TAESD decode is %.1fx faster (wall, best), %.1fx (CPU, best)\n", vw,
         vc, vw / wall[0][0], vc / cpu[0][0]);
  vae_free(v);
  int dctx = unet_context_dim(u);
  float *x2 = malloc((size_t)2 * 4 * h * w * 4), *out2 = malloc((size_t)2 * 4 * h * w * 4);
  float *ctx = malloc((size_t)2 * 77 * dctx * 4), ts[2] = {500, 500};
  for (int i = 0; i < 2 * 4 * h * w; i++) x2[i] = uniform();
  for (int i = 0; i < 2 * 77 * dctx; i++) ctx[i] = uniform();
  double uw = 1e30, uc = 1e30;
  for (int r = 0; r < 2; r++) { /* the first sizes the UNet's buffers */
    t0 = now(), c0 = cpu_now();
    if (unet_forward_batch(u, 2, x2, h, w, ts, ctx, 77, out2)) return fprintf(stderr, "bench_taesd: %s\n", a2i2a_last_error()), 1;
    if (r) uw = now() - t0, uc = cpu_now() - c0;
  }
  printf("guided UNet step (batch 2): wall %.2f s, CPU %.2f s: a TAESD preview costs %.1f %% (wall, best) / %.1f %% "
         "(CPU, best) of it\n",
         uw, uc, 100 * wall[0][0] / uw, 100 * cpu[0][0] / uc);
  unet_free(u);
  sd_model_close(&m);
  taesd_free(t);
  free(lat), free(img), free(x2), free(out2), free(ctx);
  return 0;
}
