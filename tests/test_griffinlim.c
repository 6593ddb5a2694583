/* Griffin-Lim against the seed fixtures (README §5.2, §8): the seeded gl_r/g/b within SNR ≥ 60
 * dB and max abs ≤ 2e-3·max|ref|; rand_init=False only through its spectral convergence.
 * (test_readings_fixtures covers the other images through red.wav and rgb_mean.wav; here the
 * first image's red channel, for istft/RNG order, and the synthetic image, the most sensitive.) */
#include <math.h>
#include <png.h>
#include <stdlib.h>

#include "audio/griffinlim.h"
#include "check.h"
#include "readings/readings.h"
#include "sd/safetensors.h"

static const char *images[] = {"i01_spectrogram_a02", "i02_gnome_blobs_400x296", "i03_synthetic_400x296"};
static const char *image_files[] = {"i01_spectrogram_a02.png", "i02_gnome_blobs_400x296.png",
                                    "i03_synthetic_400x296.png"};

/* libpng's simplified API, so that this test does not depend on the image module */
static int load_rgb(const char *path, image_u8 *img) {
  png_image pi = {0};
  pi.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&pi, path)) return -1;
  pi.format = PNG_FORMAT_RGB;
  img->w = pi.width, img->h = pi.height, img->c = 3;
  img->px = malloc(PNG_IMAGE_SIZE(pi));
  if (!png_image_finish_read(&pi, NULL, img->px, 0, NULL)) return -1;
  return 0;
}

static void compare(const char *what, const float *y, const float *ref, int64_t n) {
  double num = 0, den = 0, worst = 0, peak = 0;
  for (int64_t i = 0; i < n; i++) {
    double d = (double)y[i] - ref[i];
    num += d * d, den += (double)ref[i] * ref[i];
    worst = fmax(worst, fabs(d)), peak = fmax(peak, fabs(ref[i]));
  }
  double snr = 10 * log10(den / fmax(num, 1e-300));
  CHECK(snr >= 60, "%s: SNR %.1f dB < 60", what, snr);
  CHECK(worst <= 2e-3 * peak, "%s: max abs %.3g > 2e-3·%.3g", what, worst, peak);
  printf("%s: SNR %.1f dB, max abs %.3g (peak %.3g)\n", what, snr, worst, peak);
}

int main(void) {
  fixtures_need_full(); /* gl.safetensors of i01 and i03 */
  for (int i = 0; i < 3; i += 2) {
    char p[512];
    snprintf(p, sizeof p, "seed/images/%s", image_files[i]);
    image_u8 img;
    if (load_rgb(fixture(p), &img)) {
      CHECK(0, "cannot read %s", p);
      continue;
    }
    snprintf(p, sizeof p, "seed/i2a/%s/gl.safetensors", images[i]);
    st_file f;
    if (st_open(fixture(p), &f)) {
      CHECK(0, "cannot open %s", p);
      continue;
    }
    const int64_t n = (int64_t)(img.h - 1) * (img.w - 1);
    float *y = malloc(sizeof(float) * n), *mag = malloc(sizeof(float) * img.w * img.h);
    torch_rng g;
    rng_seed(&g, 0);
    const char *names[3] = {"gl_r", "gl_g", "gl_b"}, *names0[3] = {"gl0_r", "gl0_g", "gl0_b"};
    double sc0_ref[3];
    const char *m = st_meta(&f, "spectral_convergence_gl0_rgb");
    CHECK(m && sscanf(m, "[%lf, %lf, %lf]", &sc0_ref[0], &sc0_ref[1], &sc0_ref[2]) == 3, "metadata");
    for (int c = 0; c < 3; c++) {
      CHECK(seed_griffinlim(&img, c, 0, &g, NULL, y) == A2I2A_OK, "griffinlim failed");
      float *ref = st_load_f32(&f, names[c], n);
      char what[128];
      snprintf(what, sizeof what, "%s %s", images[i], names[c]);
      compare(what, y, ref, n);
      free(ref);
      /* rand_init = False: chaotic, only the spectral convergence is comparable */
      if (c == 0) {
        seed_magnitude(&img, c, mag);
        griffinlim_params gp = griffinlim_default_params(2 * (img.h - 1), img.h - 1);
        gp.rand_init = 0;
        double sc;
        CHECK(griffinlim(mag, img.w, &gp, NULL, y, &sc) == A2I2A_OK, "griffinlim rand_init=0 failed");
        CHECK(fabs(sc - sc0_ref[c]) <= 0.005, "%s %s: SC %.4f vs %.4f", images[i], names0[c], sc, sc0_ref[c]);
        printf("%s %s: SC %.4f (fixture %.4f)\n", images[i], names0[c], sc, sc0_ref[c]);
      }
    }
    free(y), free(mag), free(img.px);
    st_close(&f);
  }
  return check_done();
}
