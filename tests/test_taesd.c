/* TAESD (sd-ext fixtures, golden/taesd.*): the encoder and decoder of tiny-taesd against
 * diffusers' AutoencoderTiny on both cases (64x64 and 96x72), from the folder and from its
 * .safetensors alone, within the manifest's tolerances; and the refusals: a folder that is not a
 * TAESD, a file of another shape, a model that is not there, each with one line naming it. */
#include "check.h"
#include "common/err.h"
#include "sd/safetensors.h"
#include "sd/taesd.h"

#include <cjson/cJSON.h>
#include <math.h>

static cJSON *manifest;

static double tolerance(const char *tensor) {
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(manifest, "tensors"), tensor);
  const cJSON *ma = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(t, "tolerance"), "max_abs");
  return cJSON_IsNumber(ma) ? ma->valuedouble : -1;
}

static void run_case(taesd *t, const st_file *g, const char *c, const char *form) {
  char name[64];
  snprintf(name, sizeof name, "%s.image", c);
  const st_tensor *img = st_find(g, name);
  float *x = st_load_f32(g, name, 0);
  snprintf(name, sizeof name, "%s.latents", c);
  const st_tensor *lat = st_find(g, name);
  CHECK(img && lat && img->ndim == 4 && lat->ndim == 4, "case %s: tensors", c);
  if (!img || !lat || !x) {
    free(x);
    return;
  }
  int H = (int)img->shape[2], W = (int)img->shape[3], h = (int)lat->shape[2], w = (int)lat->shape[3];
  float *ref = st_load_f32(g, name, 0), *got = malloc(lat->numel * sizeof(float));
  CHECK(taesd_encode(t, x, H, W, got) == A2I2A_OK, "%s", a2i2a_last_error());
  double tol = tolerance(name), d = check_max_abs_diff(got, ref, lat->numel);
  CHECK(tol > 0 && d <= tol, "%s %s: encoder max abs %g > %g", form, name, d, tol);
  printf("%s %-10s max abs %.3g (tol %g)\n", form, name, d, tol);
  free(x), free(ref), free(got);

  snprintf(name, sizeof name, "%s.decoder_input", c);
  float *z = st_load_f32(g, name, 0);
  snprintf(name, sizeof name, "%s.decoded", c);
  ref = st_load_f32(g, name, (size_t)3 * H * W);
  got = malloc((size_t)3 * H * W * sizeof(float));
  CHECK(z && ref && taesd_decode(t, z, h, w, got) == A2I2A_OK, "%s: %s", name, a2i2a_last_error());
  tol = tolerance(name), d = ref ? check_max_abs_diff(got, ref, (size_t)3 * H * W) : INFINITY;
  CHECK(tol > 0 && d <= tol, "%s %s: decoder max abs %g > %g", form, name, d, tol);
  printf("%s %-10s max abs %.3g (tol %g)\n", form, name, d, tol);
  free(z), free(ref), free(got);
}

/* A refusal: a non-zero status and one line that names what. */
static void refused(const char *path, const char *what) {
  taesd *t = NULL;
  a2i2a_status st = taesd_open(path, &t);
  const char *e = a2i2a_last_error();
  CHECK(st != A2I2A_OK && !t && strstr(e, what) && !strchr(e, '\n'), "%s: status %d, '%s' (wanted '%s')", path, st,
        e, what);
  taesd_free(t);
}

int main(void) {
  if (!fixture_case("sd-ext/golden/taesd.json")) {
    fixtures_say_missing("SKIPPED: test_taesd needs");
    return 77;
  }
  FILE *f = fopen(fixture("sd-ext/golden/taesd.json"), "rb");
  static char text[1 << 16];
  size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
  if (f) fclose(f);
  text[n] = 0;
  manifest = cJSON_Parse(text);
  CHECK(manifest != NULL, "taesd.json");
  st_file g;
  if (st_open(fixture("sd-ext/golden/taesd.safetensors"), &g)) {
    CHECK(0, "%s", a2i2a_last_error());
    return 1;
  }
  const char *forms[2] = {fixture("sd-ext/tiny-taesd"), fixture("sd-ext/tiny-taesd/diffusion_pytorch_model.safetensors")};
  for (int i = 0; i < 2; i++) {
    taesd *t = NULL;
    CHECK(taesd_open(forms[i], &t) == A2I2A_OK, "%s", a2i2a_last_error());
    if (!t) continue;
    int factor, lc, ic;
    taesd_dims(t, &factor, &lc, &ic);
    CHECK(factor == 8 && lc == 4 && ic == 3, "dims %d %d %d", factor, lc, ic);
    run_case(t, &g, "a", i ? "file  " : "folder");
    run_case(t, &g, "b", i ? "file  " : "folder");
    /* the latents' shape decides: a picture that is not a multiple of 8 is refused */
    float px[3 * 12 * 12], lat[4];
    CHECK(taesd_encode(t, px, 12, 12, lat) == A2I2A_ERR_PARAM, "12x12 accepted");
    taesd_free(t);
  }

  /* refusals */
  refused(fixture("sd/tiny-sd1"), "not a TAESD folder");
  refused(fixture("sd/tiny-sd1/vae/diffusion_pytorch_model.safetensors"), "not a TAESD");
  if (fixture_case("sd-ext/lora/tiny-sd1-lora.safetensors")) refused(fixture("sd-ext/lora/tiny-sd1-lora.safetensors"), "not a TAESD");
  refused("/nonexistent/taesd", "no such TAESD");
  refused("nobody-here/no-taesd", "not in the Hugging Face cache");
  /* a TAESD of another width than its config says: the tensor and both shapes named */
  char dir[] = "/tmp/test_taesd.XXXXXX", cmd[8400];
  CHECK(mkdtemp(dir) != NULL, "mkdtemp");
  snprintf(cmd, sizeof cmd, "cp %s/diffusion_pytorch_model.safetensors %s/ && sed 's/\"encoder_block_out_channels\": \\[/&16, 16, 16, 16], \"x\": [/' %s/config.json > %s/config.json",
           forms[0], dir, forms[0], dir);
  CHECK(system(cmd) == 0, "%s", cmd);
  refused(dir, "encoder.layers.0.weight has shape [32, 3, 3, 3], TAESD's config says [16, 3, 3, 3]");
  snprintf(cmd, sizeof cmd, "rm -r %s", dir);
  CHECK(system(cmd) == 0, "%s", cmd);

  st_close(&g);
  cJSON_Delete(manifest);
  return check_done();
}
