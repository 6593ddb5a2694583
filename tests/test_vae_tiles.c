/* The low-memory mode's tiled VAE (vae_decode_tiled, vae_encode_tiled):
 *  - the tile plan covers every axis with tiles of at most the asked size, and the blending
 *    weights add up to 1 at every position, across every seam (many sizes, both scales);
 *  - one tile that covers the latent gives exactly vae_decode's and vae_encode's values;
 *  - smaller tiles on the fixtures' 9x12 latents (tiny-sd1, tiny-sd2) stay within a PSNR bound of
 *    the untiled results and of the fixture's decoded_image.
 * The measured PSNRs are printed (bench/RESULTS.md quotes them). */
#include "check.h"
#include "common/err.h"
#include "sd/model.h"
#include "sd/safetensors.h"
#include "sd/vae.h"
#include "support/measure.h"

#include <math.h>

static void check_plans(void) {
  int bad_cover = 0, bad_sum = 0, bad_size = 0, seams = 0;
  for (int n = 1; n <= 140; n++)
    for (int tile = 2; tile <= 48; tile += 3)
      for (int overlap = 0; overlap <= 16; overlap += 4) {
        int size, k = vae_tile_plan(n, tile, overlap, NULL, NULL), start[256];
        if (k > 256) continue;
        vae_tile_plan(n, tile, overlap, start, &size);
        if (size > tile && k > 1) bad_size++;
        if (start[0] != 0 || start[k - 1] + size != n) bad_cover++;
        for (int i = 1; i < k; i++)
          if (start[i] <= start[i - 1] || start[i] > start[i - 1] + size) bad_cover++;
        seams += k - 1;
        for (int scale = 1; scale <= 8; scale += 7)
          for (int x = 0; x < n * scale; x++) {
            double sum = 0;
            for (int i = 0; i < k; i++)
              if (x >= start[i] * scale && x < (start[i] + size) * scale) {
                float w = vae_tile_weight(start, k, size, scale, i, x);
                if (!(w > 0 && w <= 1)) bad_sum++;
                sum += w;
              }
            if (fabs(sum - 1) > 1e-6) bad_sum++;
          }
      }
  CHECK(bad_cover == 0, "%d plans leave a gap or run past the end", bad_cover);
  CHECK(bad_size == 0, "%d plans have tiles larger than asked", bad_size);
  CHECK(bad_sum == 0, "%d positions whose blending weights do not add up to 1", bad_sum);
  CHECK(seams > 1000, "only %d seams tried", seams);
  int start[4], size;
  CHECK(vae_tile_plan(64, 40, 8, start, &size) == 2 && size == 36 && start[1] == 28,
        "a 512-pixel side: two tiles of 36 latents (got %d of %d)", vae_tile_plan(64, 40, 8, NULL, NULL), size);
  CHECK(vae_tile_plan(40, 40, 8, NULL, &size) == 1 && size == 40, "one tile up to the tile size");
}

static void run_case(const char *stem, const char *model_path, double decode_bound, double encode_bound) {
  char p[4096];
  snprintf(p, sizeof p, "sd/golden/%s.safetensors", stem);
  if (!fixture_case(p)) return;
  st_file g;
  if (st_open(fixture(p), &g)) {
    CHECK(0, "%s", a2i2a_last_error());
    return;
  }
  float *pre = st_load_f32(&g, "preprocessed_image", 0), *dec_in = st_load_f32(&g, "decoder_input", 0),
        *dec_ref = st_load_f32(&g, "decoded_image", 0);
  const st_tensor *pt = st_find(&g, "preprocessed_image"), *lt = st_find(&g, "vae_latent_mean");
  sd_model m;
  vae *v = NULL;
  if (!pre || !dec_in || !dec_ref || !pt || !lt || sd_model_open(model_path, &m) || vae_load(&v, &m)) {
    CHECK(0, "%s %s: %s", stem, model_path, a2i2a_last_error());
    st_close(&g);
    return;
  }
  int H = (int)pt->shape[2], W = (int)pt->shape[3], h = (int)lt->shape[2], w = (int)lt->shape[3];
  size_t n = lt->numel, npx = pt->numel;
  float *dec = malloc(npx * 4), *tiled = malloc(npx * 4), *mean = malloc(n * 4), *logvar = malloc(n * 4),
        *tmean = malloc(n * 4), *tlogvar = malloc(n * 4);

  /* one tile: the untiled values, bit for bit */
  CHECK(vae_decode(v, dec_in, h, w, dec) == A2I2A_OK, "decode");
  CHECK(vae_decode_tiled(v, dec_in, h, w, tiled, 12, 4) == A2I2A_OK, "%s", a2i2a_last_error());
  CHECK(!memcmp(dec, tiled, npx * 4), "%s: one tile decodes as the whole (max difference %g)", stem,
        check_max_abs_diff(dec, tiled, npx));
  CHECK(vae_encode(v, pre, H, W, mean, logvar) == A2I2A_OK, "encode");
  CHECK(vae_encode_tiled(v, pre, H, W, tmean, tlogvar, 12, 4) == A2I2A_OK, "%s", a2i2a_last_error());
  CHECK(!memcmp(mean, tmean, n * 4) && !memcmp(logvar, tlogvar, n * 4), "%s: one tile encodes as the whole", stem);

  /* 2x2 tiles of 6 latents (48 pixels) overlapping by 2 (16 pixels) on a 9x12 latent */
  CHECK(vae_decode_tiled(v, dec_in, h, w, tiled, 7, 2) == A2I2A_OK, "%s", a2i2a_last_error());
  double pd = measure_psnr(tiled, dec, npx), pg = measure_psnr(tiled, dec_ref, npx);
  printf("%s (%s): tiled decode PSNR %.1f dB against the untiled decode, %.1f dB against decoded_image\n", stem,
         model_path, pd, pg);
  CHECK(isfinite(pd) && pd >= decode_bound, "%s: tiled decode PSNR %.1f dB (bound %.0f)", stem, pd, decode_bound);
  CHECK(pg >= decode_bound, "%s: tiled decode PSNR %.1f dB against the fixture (bound %.0f)", stem, pg, decode_bound);
  CHECK(vae_encode_tiled(v, pre, H, W, tmean, tlogvar, 7, 2) == A2I2A_OK, "%s", a2i2a_last_error());
  double pm = measure_psnr(tmean, mean, n);
  printf("%s (%s): tiled encode PSNR %.1f dB (latent mean) against the untiled encode\n", stem, model_path, pm);
  CHECK(isfinite(pm) && pm >= encode_bound, "%s: tiled encode PSNR %.1f dB (bound %.0f)", stem, pm, encode_bound);

  CHECK(vae_decode_tiled(v, dec_in, h, w, tiled, 0, 0) == A2I2A_OK, "tile size 0 is read as 1");
  CHECK(vae_encode_tiled(v, pre, H - 4, W, tmean, tlogvar, 7, 2) == A2I2A_ERR_PARAM, "refuses a size not a multiple of 8");
  free(dec), free(tiled), free(mean), free(logvar), free(tmean), free(tlogvar);
  vae_free(v);
  sd_model_close(&m);
  free(pre), free(dec_in), free(dec_ref);
  st_close(&g);
}

int main(void) {
  check_plans();
  run_case("img2img_sd1_pndm", fixture("sd/tiny-sd1"), 28, 18);
  run_case("img2img_sd2_ddim", fixture("sd/tiny-sd2"), 28, 18);
  return check_done();
}
