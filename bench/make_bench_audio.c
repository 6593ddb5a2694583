/* Writes the a2i benchmark input: SECONDS (default 180) of 44.1 kHz stereo 16-bit WAV with
 * music-like content (a chord of harmonics with vibrato, moving between channels, plus
 * decaying noise bursts), seeded, so every run times the same file.
 * usage: make_bench_audio OUT.wav [SECONDS] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "audio/audio.h"
#include "common/rng.h"

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: make_bench_audio OUT.wav [SECONDS]\n");
    return 2;
  }
  const double sr = 44100, secs = argc > 2 ? atof(argv[2]) : 180;
  audio_buf a;
  if (audio_alloc(&a, 2, (int64_t)(secs * sr), sr)) return 1;
  torch_rng g;
  rng_seed(&g, 2024);
  const double f0[4] = {110, 138.59, 164.81, 220};
  double burst = 0;
  for (int64_t i = 0; i < a.frames; i++) {
    const double t = i / sr;
    double s = 0;
    for (int k = 0; k < 4; k++)
      for (int h = 1; h <= 8; h++)
        s += sin(2 * M_PI * f0[k] * h * t + 0.02 * h * sin(2 * M_PI * 5 * t)) / (h * 12.0);
    if (i % 22050 == 0) burst = 0.3;
    burst *= 0.9997;
    const double n = burst * (2 * rng_uniform(&g) - 1);
    const double pan = 0.5 + 0.4 * sin(2 * M_PI * t / 7);
    a.x[i] = (float)(0.8 * (s * pan + n));
    a.x[a.frames + i] = (float)(0.8 * (s * (1 - pan) + n));
  }
  a2i2a_status st = audio_write(argv[1], &a, 16, 1, 1);
  if (st) fprintf(stderr, "%s\n", a2i2a_last_error());
  audio_free(&a);
  return st ? 1 : 0;
}
