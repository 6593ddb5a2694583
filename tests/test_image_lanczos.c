/* Pillow-exact LANCZOS against diffusers' img2img preprocessing (fixtures/sd/golden): the
 * pipeline resizes init_image_uint8 to multiples of 8 with PIL's LANCZOS, then maps u8 to
 * float32 u/255·2−1 (preprocessed_image, [1, 3, H, W]). Also checks that the stored
 * *_init.png decodes to init_image_uint8. */
#include "check.h"
#include "image/image.h"
#include "sd/safetensors.h"

#include <glob.h>
#include <math.h>

static void check_case(const char *st_path) {
  st_file f;
  CHECK(st_open(st_path, &f) == A2I2A_OK, "%s", a2i2a_last_error());
  if (!f.tensors) return;
  const st_tensor *init = st_find(&f, "init_image_uint8"), *pre = st_find(&f, "preprocessed_image");
  CHECK(init && init->dtype == ST_U8 && init->ndim == 3 && init->shape[2] == 3, "%s: init_image_uint8", st_path);
  CHECK(pre && pre->dtype == ST_F32 && pre->ndim == 4 && pre->shape[1] == 3, "%s: preprocessed_image", st_path);
  if (!init || !pre || init->ndim != 3 || pre->ndim != 4) {
    st_close(&f);
    return;
  }
  int H = (int)init->shape[0], W = (int)init->shape[1], H8 = (int)pre->shape[2], W8 = (int)pre->shape[3];
  CHECK(H8 == H / 8 * 8 && W8 == W / 8 * 8, "%s: %dx%d → %dx%d is not 'round down to 8'", st_path, W, H, W8, H8);
  image_u8 in;
  CHECK(image_alloc(&in, W, H, 3) == A2I2A_OK, "alloc");
  memcpy(in.px, init->data, (size_t)W * H * 3);

  /* the init PNG decodes to the same pixels */
  char png_path[4096];
  snprintf(png_path, sizeof png_path, "%.*s_init.png", (int)(strlen(st_path) - strlen(".safetensors")), st_path);
  image_u8 png;
  CHECK(image_read(png_path, &png, NULL) == A2I2A_OK, "%s", a2i2a_last_error());
  CHECK(png.px && png.w == W && png.h == H && !memcmp(png.px, in.px, (size_t)W * H * 3), "%s differs from init_image_uint8",
        png_path);
  image_free(&png);

  image_u8 out;
  CHECK(image_resize_lanczos(&in, W8, H8, &out) == A2I2A_OK, "%s", a2i2a_last_error());
  float *ref = malloc(sizeof *ref * pre->numel);
  st_to_f32(pre, ref);
  int ndiff = 0;
  double maxdiff = 0;
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < H8; y++)
      for (int x = 0; x < W8; x++) {
        float v = (float)out.px[((size_t)y * W8 + x) * 3 + c] / 255.0f;
        v = 2.0f * v - 1.0f;
        float r = ref[((size_t)c * H8 + y) * W8 + x];
        if (v != r) {
          ndiff++;
          double d = fabs((double)v - r) * 127.5;
          if (d > maxdiff) maxdiff = d;
        }
      }
  CHECK(ndiff == 0, "%s: LANCZOS differs in %d of %d values (max %.2f levels)", st_path, ndiff, 3 * H8 * W8, maxdiff);
  /* BICUBIC must NOT reproduce it (guards against the filters being swapped) */
  image_u8 bic;
  image_resize_bicubic(&in, W8, H8, &bic);
  CHECK(memcmp(bic.px, out.px, (size_t)W8 * H8 * 3) != 0, "bicubic and lanczos agree");
  image_free(&bic);
  free(ref);
  image_free(&out);
  image_free(&in);
  st_close(&f);
}

int main(void) {
  glob_t g;
  int n = 0;
  if (glob(fixture("sd/golden/img2img_*.safetensors"), 0, NULL, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; i++, n++) check_case(g.gl_pathv[i]);
    globfree(&g);
  }
  CHECK(n >= fixtures_expect(3, 1), "only %d img2img golden cases found", n);
  return check_done();
}
