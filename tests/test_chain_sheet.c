/* The contact sheet: layout, labels in the embedded font (its glyphs: test_image), images
 * placed unchanged where they fit, the second layout's header and loudness labels, the index
 * of a batch, and one-line errors naming a bad sound file. */
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
      {.name = "red", .wav = fixture("seed/i2a/i02_gnome_blobs_400x296/red.wav")},
      {.name = "rgb_mean", .wav = fixture("seed/i2a/i02_gnome_blobs_400x296/rgb_mean.wav")},
      {.name = "chirp", .wav = fixture("seed/i2a/i02_gnome_blobs_400x296/chirp.wav")},
  };
  const char *title[] = {"a02_brahms.wav  seed  seed 1234"};
  CHECK(chain_sheet(&spec, &art, title, 1, sounds, 3, &sheet) == A2I2A_OK, "%s", a2i2a_last_error());
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
  /* the label rows of the first layout end after the peak */
  int label_ink = count_colour(&sheet, 16, 16 + 24 + 340, 848 - 32, 14, (const uint8_t[3]){150, 148, 140});
  image_free(&sheet);

  /* the second layout: two header lines (the second dimmer), each reading's loudness after its peak */
  const char *header[] = {"a02_brahms.wav  preset seed  seed 1234  50 steps  tiny-sd1",
                          "\"a very long prompt that goes on and on, far beyond the width of the sheet, and is cut\""};
  for (int i = 0; i < 3; i++) sounds[i].has_lufs = 1, sounds[i].lufs = -23.04;
  CHECK(chain_sheet(&spec, &art, header, 2, sounds, 3, &sheet) == A2I2A_OK, "%s", a2i2a_last_error());
  CHECK(sheet.w == 848 && sheet.h == 16 + 2 * 24 + 340 + 3 * 160 + 16, "two header lines: size %dx%d", sheet.w, sheet.h);
  const uint8_t dim[3] = {150, 148, 140};
  CHECK(count_colour(&sheet, 16, 40, 816, 14, dim) > 200, "the prompt's line");
  CHECK(count_colour(&sheet, 16 + 68 * 12 - 3 * 12, 40, 3 * 12, 14, dim) > 6, "the prompt cut with ...");
  CHECK(count_colour(&sheet, 16, 16 + 48 + 340, 848 - 32, 14, dim) > label_ink, "loudness in the label");
  image_free(&sheet);

  /* the index of a batch: a title, then a row per run with its painting's thumbnail (200x150) */
  chain_index_row rows[] = {
      {fixture("seed/images/i02_gnome_blobs_400x296.png"), {"seed1", "seed 1  preset seed", NULL}},
      {fixture("seed/a2i/a06_espeak_22k05_mono_s16/image.png"), {"seed2", "\"ink\"", "x", NULL}},
  };
  CHECK(chain_index("2 runs", rows, 2, &sheet) == A2I2A_OK, "index: %s", a2i2a_last_error());
  CHECK(sheet.w == 848 && sheet.h == 16 + 24 + 2 * (150 + 16) + 16, "index size %dx%d", sheet.w, sheet.h);
  const uint8_t box[3] = {40, 40, 46};
  /* 400x296 into 200x150: 200x148, a row of box colour above and below */
  CHECK(count_colour(&sheet, 16, 40, 200, 1, box) == 200 && count_colour(&sheet, 16, 41, 200, 148, box) < 200,
        "the first thumbnail");
  CHECK(count_colour(&sheet, 232, 40, 600, 14, fg) > 20 && count_colour(&sheet, 232, 64, 600, 14, dim) > 20,
        "the first row's lines");
  image_free(&sheet);
  chain_index_row missing[] = {{"/nonexistent/art.png", {"x", NULL}}};
  CHECK(chain_index("x", missing, 1, &sheet) != A2I2A_OK && strstr(a2i2a_last_error(), "/nonexistent/art.png"),
        "index: a missing painting named: %s", a2i2a_last_error());

  chain_sheet_sound bad[] = {{.name = "red", .wav = "/nonexistent/red.wav"}};
  const char *x[] = {"x"};
  CHECK(chain_sheet(&spec, &art, x, 1, bad, 1, &sheet) != A2I2A_OK, "missing sound must fail");
  CHECK(strstr(a2i2a_last_error(), "/nonexistent/red.wav") != NULL, "error names the file: %s", a2i2a_last_error());
  CHECK(sheet.px == NULL, "no sheet left on failure");
  image_free(&spec);
  image_free(&art);
  return check_done();
}
