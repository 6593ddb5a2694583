/* The VAE and the picture pre/post-processing on the img2img fixtures (non-square, 99x75
 * pictures resized to 96x72, 9x12 latents), from both layouts of tiny-sd1 and from tiny-sd2:
 *  - init PNG -> sd_image_preprocess == preprocessed_image;
 *  - vae_encode(preprocessed_image) mean/std == vae_latent_mean / vae_latent_std;
 *  - vae_decode(decoder_input) == decoded_image (manifest tolerance);
 *  - sd_image_to_unit(decoded_image) == output_float, sd_image_to_u8(output_float) == output_uint8.
 * Plus the error paths of vae_encode and sd_image_size. */
#include "check.h"
#include "common/err.h"
#include "sd/model.h"
#include "sd/safetensors.h"
#include "sd/sd_image.h"
#include "sd/vae.h"

#include <math.h>

static void run_case(const char *stem, const char *model_path) {
  char p[4096];
  snprintf(p, sizeof p, "sd/golden/%s.safetensors", stem);
  if (!fixture_case(p)) return;
  st_file g;
  if (st_open(fixture(p), &g)) {
    CHECK(0, "%s", a2i2a_last_error());
    return;
  }
  float *pre = st_load_f32(&g, "preprocessed_image", 0), *mean_ref = st_load_f32(&g, "vae_latent_mean", 0),
        *std_ref = st_load_f32(&g, "vae_latent_std", 0), *dec_in = st_load_f32(&g, "decoder_input", 0),
        *dec_ref = st_load_f32(&g, "decoded_image", 0), *out_ref = st_load_f32(&g, "output_float", 0);
  const st_tensor *pt = st_find(&g, "preprocessed_image"), *lt = st_find(&g, "vae_latent_mean"),
                  *u8 = st_find(&g, "output_uint8");
  CHECK(pre && mean_ref && std_ref && dec_in && dec_ref && out_ref && pt && lt && u8, "%s: tensors", stem);
  if (!(pre && mean_ref && std_ref && dec_in && dec_ref && out_ref && pt && lt && u8)) return;
  int H = (int)pt->shape[2], W = (int)pt->shape[3], h = (int)lt->shape[2], w = (int)lt->shape[3];
  size_t n = lt->numel, npx = pt->numel;

  /* pre-processing from the PNG */
  snprintf(p, sizeof p, "sd/golden/%s_init.png", stem);
  image_u8 img;
  CHECK(image_read(fixture(p), &img, NULL) == A2I2A_OK, "%s", a2i2a_last_error());
  float *x = NULL;
  int PH = 0, PW = 0;
  CHECK(sd_image_preprocess(&img, &x, &PH, &PW) == A2I2A_OK && PH == H && PW == W, "%s: preprocess %dx%d", stem,
        PW, PH);
  if (x) CHECK(check_max_abs_diff(x, pre, npx) == 0, "%s: preprocessed_image differs by %g", stem, check_max_abs_diff(x, pre, npx));
  free(x);
  image_free(&img);

  /* post-processing */
  float *unit = malloc(npx * 4);
  sd_image_to_unit(dec_ref, H, W, unit);
  CHECK(check_max_abs_diff(unit, out_ref, npx) <= 1e-7, "%s: output_float from decoded_image: %g", stem,
        check_max_abs_diff(unit, out_ref, npx));
  image_u8 o;
  CHECK(sd_image_to_u8(out_ref, H, W, &o) == A2I2A_OK, "to_u8");
  CHECK(o.px && !memcmp(o.px, u8->data, npx), "%s: output_uint8 (round half to even)", stem);
  image_free(&o);
  free(unit);

  /* the VAE, non-square */
  sd_model m;
  vae *v = NULL;
  if (sd_model_open(model_path, &m) || vae_load(&v, &m)) {
    CHECK(0, "%s: %s", model_path, a2i2a_last_error());
    return;
  }
  float *mean = malloc(n * 4), *logvar = malloc(n * 4), *std = malloc(n * 4), *zero = calloc(n, 4),
        *one = malloc(n * 4), *dec = malloc(npx * 4);
  for (size_t i = 0; i < n; i++) one[i] = 1;
  CHECK(vae_encode(v, pre, H, W, mean, logvar) == A2I2A_OK, "encode");
  vae_sample(std, zero, logvar, one, n);
  CHECK(check_max_abs_diff(mean, mean_ref, n) <= 5e-5, "%s %s: latent mean %g", stem, model_path, check_max_abs_diff(mean, mean_ref, n));
  CHECK(check_max_abs_diff(std, std_ref, n) <= 5e-5, "%s %s: latent std %g", stem, model_path, check_max_abs_diff(std, std_ref, n));
  CHECK(vae_decode(v, dec_in, h, w, dec) == A2I2A_OK, "decode");
  CHECK(check_max_abs_diff(dec, dec_ref, npx) <= 5e-5, "%s %s: decoded_image %g", stem, model_path, check_max_abs_diff(dec, dec_ref, npx));
  CHECK(fabsf(vae_scaling_factor(v) - 0.18215f) < 1e-7, "scaling factor");
  CHECK(vae_encode(v, pre, H - 4, W, mean, logvar) == A2I2A_ERR_PARAM, "encode refuses a size not a multiple of 8");
  free(mean), free(logvar), free(std), free(zero), free(one), free(dec);
  vae_free(v);
  sd_model_close(&m);
  free(pre), free(mean_ref), free(std_ref), free(dec_in), free(dec_ref), free(out_ref);
  st_close(&g);
}

int main(void) {
  run_case("img2img_sd1_pndm", fixture("sd/tiny-sd1"));
  run_case("img2img_sd1_euler_ancestral", fixture("sd/tiny-sd1.safetensors"));
  run_case("img2img_sd2_ddim", fixture("sd/tiny-sd2"));
  int W, H;
  CHECK(sd_image_size(99, 75, &W, &H) == A2I2A_OK && W == 96 && H == 72, "size 99x75");
  CHECK(sd_image_size(7, 100, &W, &H) == A2I2A_ERR_PARAM, "size 7x100 refused");
  return check_done();
}
