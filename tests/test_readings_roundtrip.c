/* Round trip a2i → inverse reading, no diffusion between (tests/support/measure.c): stated
 * bounds per style on a few fixture sounds (bench/bench_roundtrip runs all of them;
 * bench/RESULTS.md).
 *  fullband (reversible by design: level, mel bank and STFT recorded): SC ≤ 0.20, LSD ≤ 6 dB,
 *           level within ±1 dB;
 *  riffusion (0–10 kHz mel, x^0.25 in 8 bits): SC ≤ 0.45, LSD ≤ 15 dB (the sweep used here
 *           runs to 20 kHz, so its upper half is not in the image at all);
 *  seed (257 bins squeezed to 400×300, dB range not recorded): SC ≤ 0.90, LSD ≤ 32 dB. */
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "readings/readings.h"
#include "support/measure.h"

static void trip(const char *sound, const char *style, double max_sc, double max_lsd, double max_level) {
  char in[1024], png[64];
  snprintf(in, sizeof in, "seed/audio/%s", sound);
  if (!fixture_case(in)) return;
  snprintf(in, sizeof in, "%s", fixture("seed/audio/"));
  snprintf(in + strlen(in), sizeof in - strlen(in), "%s", sound);
  snprintf(png, sizeof png, "/tmp/a2i2a_rt_%d_%s.png", (int)getpid(), style);
  a2i2a_a2i_params ap = a2i2a_a2i_default_params();
  ap.style = style;
  a2i2a_status st = a2i2a_a2i_file(in, png, &ap, 1, NULL);
  CHECK(st == A2I2A_OK, "%s %s: a2i: %s", sound, style, a2i2a_last_error());
  if (st) return;
  audio_buf orig = {0}, rec = {0};
  image_u8 img;
  png_meta meta;
  png_meta_init(&meta);
  CHECK(audio_read(in, &orig) == A2I2A_OK && image_read(png, &img, &meta) == A2I2A_OK, "%s: read", sound);
  reading_input ri = {&img, &meta, png, a2i2a_i2a_default_params(), NULL};
  st = reading_inverse(&ri, &rec);
  CHECK(st == A2I2A_OK, "%s %s: inverse: %s", sound, style, a2i2a_last_error());
  double sc, lsd, gain;
  if (!st && measure_reconstruction(&orig, &rec, &sc, &lsd, &gain) == A2I2A_OK) {
    CHECK(sc <= max_sc, "%s %s: SC %.3f > %.2f", sound, style, sc, max_sc);
    CHECK(lsd <= max_lsd, "%s %s: LSD %.2f dB > %.0f", sound, style, lsd, max_lsd);
    if (max_level > 0) CHECK(fabs(gain) <= max_level, "%s %s: level off by %.2f dB", sound, style, gain);
    printf("%-36s %-9s SC %.3f  LSD %5.2f dB  level %+.2f dB\n", sound, style, sc, lsd, gain);
  }
  audio_free(&orig), audio_free(&rec), image_free(&img), png_meta_free(&meta);
  unlink(png);
}

int main(void) {
  trip("a04_trumpet_44k1_stereo.mp3", "fullband", 0.20, 6, 1);
  trip("a07_sweep_44k1_mono_f32.wav", "fullband", 0.20, 6, 1);
  trip("a07_sweep_44k1_mono_f32.wav", "riffusion", 0.45, 15, 0);
  trip("a08_clicks_16k_mono_s16.wav", "seed", 0.90, 32, 0);
  trip("a07_sweep_44k1_mono_f32.wav", "seed", 0.90, 32, 0);
  return check_done();
}
