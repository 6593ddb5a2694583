/* The contact sheet: layout, labels in the embedded font (its glyphs: test_image), images
 * placed unchanged where they fit, and one-line errors naming a bad sound file. */
#include <unistd.h>

#include "audio/audio.h"
#include "chain/chain.h"
#include "check.h"

static int count_colour(const image_u8 *img, int x0, int y0, int w, int h, const uint8_t rgb[3]) {
  int n = 0;
  for (int y = y0; y < y0 + h; y++)
    for (int x = x0; x < x0 + w; x++) n += !memcmp(img->px + ((size_t)y * img->w + x) * 3, rgb, 3);
  return n;
}

int main(void) {
  image_u8 spec = {0}, art = {0}, sheet = {0};
  CHECK(image_read(fixture("seed/a2i/a06_espeak_22k05_mono_s16/image.png"), &spec, NULL) == A2I2A_OK,
        "%s", a2i2a_last_error());
  CHECK(image_read(fixture("seed/images/i02_gnome_blobs_400x296.png"), &art, NULL) == A2I2A_OK, "%s",
        a2i2a_last_error());
  chain_sheet_sound sounds[] = {
      {"red", fixture("seed/i2a/i02_gnome_blobs_400x296/red.wav")},
      {"rgb_mean", fixture("seed/i2a/i02_gnome_blobs_400x296/rgb_mean.wav")},
      {"chirp", fixture("seed/i2a/i02_gnome_blobs_400x296/chirp.wav")},
  };
  CHECK(chain_sheet(&spec, &art, "a06_espeak.wav  seed  seed 1234", sounds, 3, &sheet) == A2I2A_OK, "%s",
        a2i2a_last_error());
  /* 16 + 24 + (24 + 300 + 16) + 3·(24 + 120 + 16) + 16 */
  CHECK(sheet.w == 848 && sheet.h == 16 + 24 + 340 + 3 * 160 + 16 && sheet.c == 3, "size %dx%d", sheet.w, sheet.h);
  /* the 400×300 spectrogram fits its box exactly: copied unchanged at (16, 64) */
  int same = 1;
  for (int y = 0; y < 300 && same; y++)
    same = !memcmp(sheet.px + ((size_t)(64 + y) * 848 + 16) * 3, spec.px + (size_t)y * 400 * 3, 400 * 3);
  CHECK(same, "spectrogram not copied unchanged");
  /* the 400×296 painting is centred vertically in its 300-high box: rows 66..361 */
  same = 1;
  for (int y = 0; y < 296 && same; y++)
    same = !memcmp(sheet.px + ((size_t)(66 + y) * 848 + 432) * 3, art.px + (size_t)y * 400 * 3, 400 * 3);
  CHECK(same, "painting not copied unchanged");
  /* every reading's label row has text; each waveform box has trace pixels */
  const uint8_t fg[3] = {232, 230, 224}, wave[3] = {120, 200, 230};
  for (int i = 0; i < 3; i++) {
    int y = 16 + 24 + 340 + i * 160;
    CHECK(count_colour(&sheet, 16, y, 200, 14, fg) > 20, "label of %s", sounds[i].name);
    CHECK(count_colour(&sheet, 16, y + 24, 400, 120, wave) > 400, "waveform of %s", sounds[i].name);
  }
  CHECK(access("/tmp", W_OK) == 0, "tmp");
  const char *keep = getenv("A2I2A_SHEET_OUT"); /* to look at it */
  if (keep) png_write(keep, &sheet, NULL, 1);
  image_free(&sheet);

  chain_sheet_sound bad[] = {{"red", "/nonexistent/red.wav"}};
  CHECK(chain_sheet(&spec, &art, "x", bad, 1, &sheet) != A2I2A_OK, "missing sound must fail");
  CHECK(strstr(a2i2a_last_error(), "/nonexistent/red.wav") != NULL, "error names the file: %s", a2i2a_last_error());
  CHECK(sheet.px == NULL, "no sheet left on failure");
  image_free(&spec);
  image_free(&art);
  return check_done();
}
