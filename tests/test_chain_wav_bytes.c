/* run --replay promises byte-identical WAVs: the same samples must give the same bytes, so a
 * float WAV must carry nothing that depends on the time of writing (libsndfile's PEAK chunk
 * holds a timestamp). */
#include <unistd.h>

#include "audio/audio.h"
#include "check.h"

static size_t slurp(const char *path, unsigned char *buf, size_t cap) {
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  size_t n = fread(buf, 1, cap, f);
  fclose(f);
  return n;
}

int main(void) {
  char dir[] = "/tmp/a2i2a_wavbytes_XXXXXX";
  CHECK(mkdtemp(dir) != NULL, "mkdtemp");
  audio_buf a = {0};
  CHECK(audio_alloc(&a, 2, 1000, 44100) == A2I2A_OK, "alloc");
  for (int i = 0; i < 2000; i++) a.x[i] = (float)(i % 17) / 17.0f - 0.5f;
  int bits[] = {32, 24, 16};
  for (int b = 0; b < 3; b++) {
    char p1[256], p2[256];
    snprintf(p1, sizeof p1, "%s/a%d.wav", dir, bits[b]);
    snprintf(p2, sizeof p2, "%s/b%d.wav", dir, bits[b]);
    CHECK(audio_write(p1, &a, bits[b], 5, 0) == A2I2A_OK, "%s", a2i2a_last_error());
    CHECK(audio_write(p2, &a, bits[b], 5, 0) == A2I2A_OK, "%s", a2i2a_last_error());
    static unsigned char x[1 << 16], y[1 << 16];
    size_t nx = slurp(p1, x, sizeof x), ny = slurp(p2, y, sizeof y);
    CHECK(nx > 44 && nx == ny && !memcmp(x, y, nx), "%d-bit: two writes differ", bits[b]);
    int peak = 0;
    for (size_t i = 0; i + 4 <= nx; i++) peak |= !memcmp(x + i, "PEAK", 4);
    CHECK(!peak, "%d-bit WAV has a PEAK chunk (it holds a timestamp)", bits[b]);
    unlink(p1);
    unlink(p2);
  }
  audio_free(&a);
  rmdir(dir);
  return check_done();
}
