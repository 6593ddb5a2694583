/* Round trip a2i → i2a --reading inverse, no diffusion between, on every fixture sound and
 * every style: spectral convergence, log-spectral distance and level error
 * (tests/support/measure.c).
 * usage: bench_roundtrip [SHARED_DIR] [styles,comma,separated] */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "readings/readings.h"
#include "support/measure.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  const char *shared = argc > 1 ? argv[1] : "../shared";
  const char *styles_arg = argc > 2 ? argv[2] : "seed,riffusion,fullband";
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/fixtures/seed/audio", shared);
  struct dirent **names;
  int n = scandir(dir, &names, NULL, alphasort);
  if (n < 0) return perror(dir), 1;
  char tmp[] = "/tmp/a2i2a_rt_XXXXXX";
  if (!mkdtemp(tmp)) return 1;
  printf("| sound | style | SC | LSD (dB) | level error (dB) | inverse time (s) |\n|---|---|---|---|---|---|\n");
  char styles[256];
  for (int i = 0; i < n; i++) {
    if (names[i]->d_name[0] == '.') continue;
    char in[2048], png[2048];
    snprintf(in, sizeof in, "%s/%s", dir, names[i]->d_name);
    audio_buf orig = {0};
    if (audio_read(in, &orig)) continue;
    snprintf(styles, sizeof styles, "%s", styles_arg);
    for (char *style = strtok(styles, ","); style; style = strtok(NULL, ",")) {
      snprintf(png, sizeof png, "%s/%s.png", tmp, style);
      a2i2a_a2i_params ap = a2i2a_a2i_default_params();
      ap.style = style;
      if (a2i2a_a2i_file(in, png, &ap, 1, NULL)) {
        printf("| %s | %s | a2i failed: %s |\n", names[i]->d_name, style, a2i2a_last_error());
        continue;
      }
      image_u8 img;
      png_meta meta;
      png_meta_init(&meta);
      image_read(png, &img, &meta);
      reading_input ri = {&img, &meta, png, a2i2a_i2a_default_params(), NULL};
      audio_buf rec = {0};
      double t0 = now();
      a2i2a_status st = reading_inverse(&ri, &rec);
      double dt = now() - t0, sc, lsd, gain;
      if (!st) st = measure_reconstruction(&orig, &rec, &sc, &lsd, &gain);
      if (st)
        printf("| %s | %s | failed: %s |\n", names[i]->d_name, style, a2i2a_last_error());
      else
        printf("| %s | %s | %.3f | %.2f | %+.1f | %.2f |\n", names[i]->d_name, style, sc, lsd, gain, dt);
      fflush(stdout);
      audio_free(&rec), image_free(&img), png_meta_free(&meta);
      unlink(png);
    }
    audio_free(&orig);
  }
  rmdir(tmp);
  return 0;
}
