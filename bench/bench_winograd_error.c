/* The float32 error of the Winograd convolutions on a full-size checkpoint: one guided UNet pass
 * (a batch of two, as the pipeline runs it) and one VAE decode, each run with every 3x3
 * convolution as im2col + sgemm (the reference), with Winograd F(2x2,3x3) only, and with
 * F(4x4,3x3) where the default thresholds take it, and with the small maps too (their filters
 * transformed in cache); the outputs are compared with the reference. These four use the
 * attention kernel built on sgemm; a fifth run, the default (the fourth with the register-blocked
 * attention kernel where it applies), is compared with the fourth: the attention kernel's own
 * error.
 *
 *   bench_winograd_error MODEL [latent HxW, default 37x50] [threads, default 2]
 *
 * Prints per network and path: max |difference|, max |reference| and their ratio, and the RMS
 * difference over the RMS of the reference. Inputs are deterministic pseudo-random values. */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "a2i2a.h"
#include "sd/kernels.h"
#include "sd/model.h"
#include "sd/unet.h"
#include "sd/vae.h"

static uint32_t rng = 2463534242u;
static float uniform(void) { /* [-1, 1) */
  rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5;
  return (float)(rng % 2000001) / 1000000.0f - 1.0f;
}

/* PATH_F2 and PATH_F4 keep the maps below the Winograd minimum on im2col and the large maps on the
 * whole-call transform; PATH_SMALL adds Winograd with the filters transformed in cache on the
 * small maps and the large maps' path (AVX-512) on the maps above 128x128; PATH_DEFAULT adds the
 * blocked attention */
enum { PATH_IM2COL, PATH_F2, PATH_F4, PATH_SMALL, PATH_DEFAULT, PATH_N };
static const char *const path_names[PATH_N] = {"im2col", "F(2x2,3x3)", "F(4x4,3x3)", "+small, large maps",
                                               "blocked attention"};

static void set_path(int p) {
  kernels_tune(p == PATH_IM2COL ? 1 << 30 : 0, 0);
  kernels_tune_winograd_f4(p == PATH_F2 ? SIZE_MAX : 0);
  kernels_tune_winograd_fused(p >= PATH_SMALL ? 0 : INT_MAX, 0);
  kernels_tune_winograd_rows(p >= PATH_SMALL ? 1 : 0);
  kernels_tune_attention(p == PATH_DEFAULT ? 0 : -1, 1);
}

static void compare(const char *what, const char *path, const float *y, const float *ref, size_t n) {
  double maxd = 0, maxr = 0, sd = 0, sr = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)y[i] - ref[i]), r = fabs((double)ref[i]);
    maxd = d > maxd ? d : maxd;
    maxr = r > maxr ? r : maxr;
    sd += d * d, sr += r * r;
  }
  printf("%-22s %-17s max |diff| %.3g  max |ref| %.3g  ratio %.3g  rms diff / rms ref %.3g\n", what, path, maxd,
         maxr, maxd / maxr, sqrt(sd / sr));
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench_winograd_error MODEL [HxW latent, default 37x50] [threads]\n");
    return 2;
  }
  int h = 37, w = 50;
  if (argc > 2 && sscanf(argv[2], "%dx%d", &h, &w) != 2) return 2;
  a2i2a_set_threads(argc > 3 ? atoi(argv[3]) : 2);
  sd_model m;
  unet *u = NULL;
  vae *v = NULL;
  if (sd_model_open(argv[1], &m) || unet_load(&u, &m) || vae_load(&v, &m)) {
    fprintf(stderr, "bench_winograd_error: %s\n", a2i2a_last_error());
    return 1;
  }
  int nb = 2, nctx = 77, dctx = unet_context_dim(u);
  size_t nl = (size_t)4 * h * w, ni = (size_t)3 * h * 8 * w * 8;
  float *ctx = malloc(sizeof(float) * nctx * dctx * nb), *x = malloc(sizeof(float) * nl * nb);
  float *ys[PATH_N], *imgs[PATH_N], t[2] = {500.0f, 500.0f};
  for (size_t i = 0; i < (size_t)nctx * dctx * nb; i++) ctx[i] = uniform();
  for (size_t i = 0; i < nl * nb; i++) x[i] = uniform();
  for (int p = 0; p < PATH_N; p++) {
    ys[p] = malloc(sizeof(float) * nl * nb);
    imgs[p] = malloc(sizeof(float) * ni);
    set_path(p);
    if (unet_forward_batch(u, nb, x, h, w, t, ctx, nctx, ys[p]) || vae_decode(v, x, h, w, imgs[p])) {
      fprintf(stderr, "bench_winograd_error: %s\n", a2i2a_last_error());
      return 1;
    }
  }
  char what[64];
  snprintf(what, sizeof what, "unet %dx%d x2", h, w);
  for (int p = PATH_F2; p < PATH_N; p++)
    compare(what, path_names[p], ys[p], ys[p == PATH_DEFAULT ? PATH_SMALL : PATH_IM2COL], nl * nb);
  snprintf(what, sizeof what, "vae decode %dx%d", w * 8, h * 8);
  for (int p = PATH_F2; p < PATH_N; p++)
    compare(what, path_names[p], imgs[p], imgs[p == PATH_DEFAULT ? PATH_SMALL : PATH_IM2COL], ni);
  for (int p = 0; p < PATH_N; p++) free(ys[p]), free(imgs[p]);
  free(ctx), free(x);
  vae_free(v);
  unet_free(u);
  sd_model_close(&m);
  return 0;
}
