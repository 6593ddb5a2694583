/* What the studio tells the page about a sound file: its EBU R128 integrated loudness (EBU Tech
 * 3341's cases 1 and 2, ±0.1 LU; one channel as dual mono), its duration and sample peak;
 * no loudness for silence; a sound shorter than one 400 ms block measured looped to one; an
 * error for a non-sound. */
#include <math.h>
#include <sndfile.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "studio/studio.h"

/* A WAV (float) of a 1 kHz sine at dbfs in every channel; its path in path (a template). */
static int write_tone(char *path, double dbfs, double seconds, int channels, int rate) {
  int fd = mkstemps(path, 4);
  if (fd < 0) return -1;
  close(fd);
  int64_t n = (int64_t)llround(seconds * rate);
  float *x = malloc(sizeof *x * (size_t)(n * channels) + 1);
  double a = dbfs > -1000 ? pow(10.0, dbfs / 20.0) : 0;
  for (int64_t i = 0; i < n; i++)
    for (int c = 0; c < channels; c++) x[i * channels + c] = (float)(a * sin(2 * M_PI * 1000.0 * (double)i / rate));
  SF_INFO info = {.samplerate = rate, .channels = channels, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT};
  SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
  int ok = sf && sf_writef_float(sf, x, n) == n;
  if (sf) sf_close(sf);
  free(x);
  return ok ? 0 : -1;
}

static void measure(double dbfs, double seconds, int channels, int rate, double *lufs, double *secs, double *peak) {
  char path[] = "/tmp/a2i2a-loudness-XXXXXX.wav";
  *lufs = *secs = *peak = NAN;
  CHECK(write_tone(path, dbfs, seconds, channels, rate) == 0, "writing a tone");
  CHECK(studio_loudness_file(path, lufs, secs, peak) == A2I2A_OK, "%s: %s", path, a2i2a_last_error());
  unlink(path);
}

int main(void) {
  double lufs, secs, peak;
  const int rates[] = {48000, 44100};
  for (int r = 0; r < 2; r++) {
    measure(-23, 20, 2, rates[r], &lufs, &secs, &peak);
    CHECK(fabs(lufs + 23.0) <= 0.1, "case 1 at %d Hz: %.3f LUFS, want -23.0", rates[r], lufs);
    CHECK(fabs(secs - 20.0) < 1e-9, "duration %.6f s, want 20", secs);
    CHECK(fabs(peak - pow(10, -23 / 20.0)) < 1e-4, "peak %.6f", peak);
    measure(-33, 20, 2, rates[r], &lufs, &secs, &peak);
    CHECK(fabs(lufs + 33.0) <= 0.1, "case 2 at %d Hz: %.3f LUFS, want -33.0", rates[r], lufs);
    /* a mono file is heard on both loudspeakers: as loud as the same signal in stereo */
    measure(-23, 20, 1, rates[r], &lufs, &secs, &peak);
    CHECK(fabs(lufs + 23.0) <= 0.1, "mono -23 dBFS at %d Hz: %.3f LUFS, want -23.0", rates[r], lufs);
  }
  measure(-2000, 5, 2, 48000, &lufs, &secs, &peak);
  CHECK(isinf(lufs) && lufs < 0 && peak == 0, "silence: no loudness (%g), peak 0", lufs);
  measure(-23, 0.2, 2, 48000, &lufs, &secs, &peak);
  CHECK(fabs(lufs + 23.0) <= 0.3 && fabs(secs - 0.2) < 1e-9, "0.2 s at -23 dBFS, looped to a block: %.3f LUFS", lufs);

  char path[] = "/tmp/a2i2a-loudness-XXXXXX.wav";
  int fd = mkstemps(path, 4);
  CHECK(fd >= 0 && write(fd, "not a sound", 11) == 11, "a text file");
  if (fd >= 0) close(fd);
  CHECK(studio_loudness_file(path, &lufs, &secs, &peak) != A2I2A_OK, "a text file is refused");
  unlink(path);
  return check_done();
}
