/* The studio's loudness meter against EBU Tech 3341's minimum requirements for integrated
 * loudness (test cases 1-5, ±0.1 LU) and BS.1770's channel sum, at 48 kHz and 44.1 kHz. */
#include <math.h>
#include <sndfile.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "studio/studio.h"

typedef struct {
  double dbfs, seconds;
} segment;

/* A 1 kHz sine in each of the channels (the same level in all), segment after segment. */
static float *tone(const segment *seg, int nseg, int channels, double rate, int64_t *frames) {
  int64_t n = 0;
  for (int k = 0; k < nseg; k++) n += (int64_t)llround(seg[k].seconds * rate);
  float *x = malloc(sizeof *x * (size_t)(n * channels));
  int64_t i = 0;
  for (int k = 0; k < nseg; k++) {
    double a = pow(10.0, seg[k].dbfs / 20.0);
    for (int64_t j = 0; j < (int64_t)llround(seg[k].seconds * rate); j++, i++)
      for (int c = 0; c < channels; c++) x[i * channels + c] = (float)(a * sin(2 * M_PI * 1000.0 * (double)i / rate));
  }
  *frames = n;
  return x;
}

static double measure(const segment *seg, int nseg, int channels, double rate) {
  int64_t n;
  float *x = tone(seg, nseg, channels, rate, &n);
  double l = studio_loudness(x, n, channels, rate);
  free(x);
  return l;
}

int main(void) {
  const double rates[] = {48000, 44100};
  for (int r = 0; r < 2; r++) {
    double fs = rates[r];
    /* Tech 3341 case 1 and 2: stereo 1 kHz at -23 and -33 dBFS for 20 s */
    segment c1[] = {{-23, 20}}, c2[] = {{-33, 20}};
    double l = measure(c1, 1, 2, fs);
    CHECK(fabs(l + 23.0) <= 0.1, "case 1 at %.0f Hz: %.3f LUFS, want -23.0", fs, l);
    l = measure(c2, 1, 2, fs);
    CHECK(fabs(l + 33.0) <= 0.1, "case 2 at %.0f Hz: %.3f LUFS, want -33.0", fs, l);
    /* case 3: -36, -23, -36 dBFS for 10, 60, 10 s: the relative gate drops the quiet parts */
    segment c3[] = {{-36, 10}, {-23, 60}, {-36, 10}};
    l = measure(c3, 3, 2, fs);
    CHECK(fabs(l + 23.0) <= 0.1, "case 3 at %.0f Hz: %.3f LUFS, want -23.0", fs, l);
    /* case 4: -72, -36, -23, -36, -72 dBFS for 10, 10, 60, 10, 10 s: and the absolute gate */
    segment c4[] = {{-72, 10}, {-36, 10}, {-23, 60}, {-36, 10}, {-72, 10}};
    l = measure(c4, 5, 2, fs);
    CHECK(fabs(l + 23.0) <= 0.1, "case 4 at %.0f Hz: %.3f LUFS, want -23.0", fs, l);
    /* case 5: -26, -20, -26 dBFS for 20, 20.1, 20 s */
    segment c5[] = {{-26, 20}, {-20, 20.1}, {-26, 20}};
    l = measure(c5, 3, 2, fs);
    CHECK(fabs(l + 23.0) <= 0.1, "case 5 at %.0f Hz: %.3f LUFS, want -23.0", fs, l);
    /* one channel carries half the power of two: 3.01 LU less */
    l = measure(c1, 1, 1, fs);
    CHECK(fabs(l + 26.01) <= 0.1, "mono -23 dBFS at %.0f Hz: %.3f LUFS, want -26.0", fs, l);
  }
  /* silence and sounds below the absolute gate have no loudness */
  segment quiet[] = {{-90, 5}};
  CHECK(isinf(measure(quiet, 1, 2, 48000)), "-90 dBFS: no block passes the absolute gate");
  float zeros[4800] = {0};
  CHECK(isinf(studio_loudness(zeros, 2400, 2, 48000)), "silence");
  /* a sound shorter than one block is measured as one block */
  segment blip[] = {{-23, 0.2}};
  double l = measure(blip, 1, 2, 48000);
  CHECK(fabs(l + 23.0) <= 0.3, "0.2 s at -23 dBFS: %.3f LUFS", l);

  /* the file version reads a WAV and gives the same number, the duration and the peak */
  char path[] = "/tmp/a2i2a-loudness-XXXXXX.wav";
  int fd = mkstemps(path, 4);
  CHECK(fd >= 0, "temporary file");
  if (fd >= 0) {
    close(fd);
    segment c1[] = {{-23, 20}};
    int64_t n;
    float *x = tone(c1, 1, 2, 44100, &n);
    SF_INFO info = {.samplerate = 44100, .channels = 2, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT};
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    CHECK(sf && sf_writef_float(sf, x, n) == n, "writing %s", path);
    if (sf) sf_close(sf);
    double lufs = 0, seconds = 0, peak = 0;
    CHECK(studio_loudness_file(path, &lufs, &seconds, &peak) == A2I2A_OK, "reading %s", path);
    CHECK(fabs(lufs - studio_loudness(x, n, 2, 44100)) < 1e-9, "file %.4f vs memory", lufs);
    CHECK(fabs(seconds - 20.0) < 1e-9, "duration %.6f", seconds);
    CHECK(fabs(peak - pow(10, -23 / 20.0)) < 1e-4, "peak %.6f", peak);
    free(x);
    /* not a sound: an error, not a number */
    FILE *f = fopen(path, "wb");
    fputs("not a sound", f);
    fclose(f);
    CHECK(studio_loudness_file(path, &lufs, &seconds, &peak) != A2I2A_OK, "a text file is refused");
    unlink(path);
  }
  return check_done();
}
