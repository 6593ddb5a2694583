/* The low-memory mode's tiled VAE against the untiled one on a full-size checkpoint
 * (make_sd_checkpoint): bench_vae_tiles MODEL [WxH, default 512x512] [threads=2]
 * A smooth synthetic picture is encoded untiled and tiled (VAE_TILE latents, VAE_TILE_OVERLAP
 * overlap); the untiled latent mean is then decoded untiled and tiled. Prints the PSNR of each
 * tiled result against the untiled one (peak: the untiled values' max − min) and the wall times. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "a2i2a.h"
#include "sd/model.h"
#include "sd/vae.h"
#include "support/measure.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}


int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench_vae_tiles MODEL [WxH] [threads]\n");
    return 2;
  }
  int W = 512, H = 512;
  if (argc > 2 && sscanf(argv[2], "%dx%d", &W, &H) != 2) return 2;
  a2i2a_set_threads(argc > 3 ? atoi(argv[3]) : 2);
  sd_model m;
  vae *v;
  if (sd_model_open(argv[1], &m) || vae_load(&v, &m)) {
    fprintf(stderr, "%s\n", a2i2a_last_error());
    return 1;
  }
  int h = H / 8, w = W / 8;
  size_t npx = (size_t)3 * H * W, nl = (size_t)4 * h * w;
  float *img = malloc(npx * 4), *mean = malloc(nl * 4), *lv = malloc(nl * 4), *tmean = malloc(nl * 4),
        *tlv = malloc(nl * 4), *dec = malloc(npx * 4), *tdec = malloc(npx * 4);
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++)
        img[((size_t)c * H + y) * W + x] = 0.8f * sinf(0.013f * (c + 1) * x + 0.021f * y) * cosf(0.007f * y * (c + 2));
  int tiles = vae_tile_plan(h, VAE_TILE, VAE_TILE_OVERLAP, NULL, NULL) * vae_tile_plan(w, VAE_TILE, VAE_TILE_OVERLAP, NULL, NULL);
  double t0 = now();
  if (vae_encode(v, img, H, W, mean, lv)) return fprintf(stderr, "%s\n", a2i2a_last_error()), 1;
  double t1 = now();
  if (vae_encode_tiled(v, img, H, W, tmean, tlv, VAE_TILE, VAE_TILE_OVERLAP))
    return fprintf(stderr, "%s\n", a2i2a_last_error()), 1;
  double t2 = now();
  if (vae_decode(v, mean, h, w, dec)) return fprintf(stderr, "%s\n", a2i2a_last_error()), 1;
  double t3 = now();
  if (vae_decode_tiled(v, mean, h, w, tdec, VAE_TILE, VAE_TILE_OVERLAP))
    return fprintf(stderr, "%s\n", a2i2a_last_error()), 1;
  double t4 = now();
  printf("%dx%d, %d tiles of at most %d latents overlapping by %d or more\n", W, H, tiles, VAE_TILE,
         VAE_TILE_OVERLAP);
  printf("encode: untiled %.2f s, tiled %.2f s, PSNR of the tiled latent mean %.1f dB\n", t1 - t0, t2 - t1,
         measure_psnr(tmean, mean, nl));
  printf("decode: untiled %.2f s, tiled %.2f s, PSNR of the tiled picture %.1f dB\n", t3 - t2, t4 - t3,
         measure_psnr(tdec, dec, npx));
  free(img), free(mean), free(lv), free(tmean), free(tlv), free(dec), free(tdec);
  vae_free(v);
  sd_model_close(&m);
  return 0;
}
