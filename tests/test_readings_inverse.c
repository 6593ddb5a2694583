/* The inverse reading on Riffusion's images (README §7.4, §8): the reconstruction's mel
 * spectrogram against the image's, SC_mel = ‖a/max a − b/max b‖ / ‖a/max a‖, must be at least
 * as good as Riffusion's own reconstruction (0.099 for r01, 0.306 for r02 with seed 0). */
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "readings/readings.h"

static double sc_mel(const image_u8 *img, const audio_buf *y) {
  const int H = img->h, W = img->w, n_fft = 17640, bins = n_fft / 2 + 1;
  float *fb = malloc(sizeof(float) * (size_t)bins * H), *mag = malloc(sizeof(float) * (size_t)bins * W);
  float *x = malloc(sizeof(float) * y->frames);
  mel_filterbank(fb, bins, 0, 10000, H, 44100, MEL_HTK, 0);
  /* the audio as Riffusion's pipeline sees it: int16 values (we write float ±1) */
  for (int64_t i = 0; i < y->frames; i++) x[i] = (float)lrint(fmax(-32768, fmin(32767, y->x[i] * 32768.0)));
  stft_ctx *ctx;
  stft_new(&ctx, n_fft, 441, 4410);
  CHECK(stft_frames(ctx, y->frames) == W, "reconstruction has %lld frames, image %d", (long long)stft_frames(ctx, y->frames), W);
  stft_magnitude(ctx, x, y->frames, mag);
  stft_free(ctx);
  double *a = calloc((size_t)H * W, sizeof(double)), *b = calloc((size_t)H * W, sizeof(double)), amax = 0, bmax = 0;
  for (int m = 0; m < H; m++)
    for (int t = 0; t < W; t++) {
      double v = (255 - img->px[((size_t)(H - 1 - m) * W + t) * 3]) / 255.0;
      a[(size_t)m * W + t] = v * v * v * v;
      amax = fmax(amax, a[(size_t)m * W + t]);
    }
  for (int k = 0; k < bins; k++)
    for (int m = 0; m < H; m++) {
      float w = fb[(size_t)k * H + m];
      if (w == 0) continue;
      for (int t = 0; t < W; t++) b[(size_t)m * W + t] += (double)w * mag[(size_t)k * W + t];
    }
  for (size_t i = 0; i < (size_t)H * W; i++) bmax = fmax(bmax, b[i]);
  double num = 0, den = 0;
  for (size_t i = 0; i < (size_t)H * W; i++) {
    double d = a[i] / amax - b[i] / bmax;
    num += d * d, den += (a[i] / amax) * (a[i] / amax);
  }
  free(fb), free(mag), free(x), free(a), free(b);
  return sqrt(num / den);
}

int main(void) {
  const char *clips[2] = {"r01_brahms_stereo_5120ms", "r02_humpback_mono_5110ms"};
  const double riffusion[2] = {0.099, 0.306};
  for (int i = 0; i < 2; i++) {
    char p[512];
    snprintf(p, sizeof p, "seed/riffusion/%s/image.png", clips[i]);
    if (!fixture_case(p)) continue;
    image_u8 img;
    png_meta meta;
    png_meta_init(&meta);
    if (image_read(fixture(p), &img, &meta)) {
      CHECK(0, "%s: %s", p, a2i2a_last_error());
      continue;
    }
    reading_input in = {&img, &meta, p, {0}, NULL};
    audio_buf y = {0};
    a2i2a_status st = reading_inverse(&in, &y);
    CHECK(st == A2I2A_OK, "%s: %s", clips[i], a2i2a_last_error());
    if (!st) {
      CHECK(y.channels == 1 && y.rate == 44100 && y.frames == 441LL * (img.w - 1), "%s: %d ch, %g Hz, %lld samples",
            clips[i], y.channels, y.rate, (long long)y.frames);
      float peak = 0;
      for (int64_t k = 0; k < y.frames; k++) peak = fmaxf(peak, fabsf(y.x[k]));
      CHECK(peak > 0.01f && peak <= 0.891252f, "%s: peak %g", clips[i], peak);
      double sc = sc_mel(&img, &y);
      CHECK(sc <= riffusion[i], "%s: SC_mel %.4f, worse than Riffusion's %.3f", clips[i], sc, riffusion[i]);
      printf("%s: SC_mel %.4f (Riffusion %.3f), peak %.3f\n", clips[i], sc, riffusion[i], peak);
    }
    audio_free(&y);
    image_free(&img);
    png_meta_free(&meta);
  }
  return check_done();
}
