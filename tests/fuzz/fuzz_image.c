/* libFuzzer target: PNG and JPEG reading with our chunks — image_read_memory (libpng, libjpeg,
 * tEXt/zTXt/iTXt and eXIf), then every reader of what it returns: the "a2i2a" chunk
 * (a2i_style_params_from_png_meta), Riffusion's eXIf (riffusion_exif_read) and the inverse
 * reading's metadata path (its memory estimate, and the reading itself on small images with
 * one Griffin-Lim iteration). The "a2i2a-i2i" and A1111 "parameters" chunks are only written
 * by a2i2a (i2i); reading them is png_io's text-chunk reading, covered here.
 *
 * PNG chunks carry a CRC that random changes break: the input's CRCs are set right before it
 * is read, so that the fuzzer reaches what lies behind them (libpng's CRC check itself is
 * libpng's). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "a2i/styles.h"
#include "fuzz.h"
#include "readings/readings.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  setenv("OMP_NUM_THREADS", "1", 1);
  return 0;
}

static void fix_png_crcs(uint8_t *b, size_t size) {
  static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (size < 8 || memcmp(b, sig, 8)) return;
  for (size_t at = 8; at + 12 <= size;) {
    uint32_t len = (uint32_t)b[at] << 24 | (uint32_t)b[at + 1] << 16 | (uint32_t)b[at + 2] << 8 | b[at + 3];
    if (len > size - at - 12) return;
    uint32_t crc = (uint32_t)crc32(0, b + at + 4, len + 4);
    uint8_t *c = b + at + 8 + len;
    c[0] = (uint8_t)(crc >> 24), c[1] = (uint8_t)(crc >> 16), c[2] = (uint8_t)(crc >> 8), c[3] = (uint8_t)crc;
    at += 12 + (size_t)len;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *b = malloc(size ? size : 1);
  memcpy(b, data, size);
  fix_png_crcs(b, size);
  image_u8 img = {0};
  png_meta meta;
  if (image_read_memory(b, size, "fuzz.png", &img, &meta) == A2I2A_OK) {
    if (img.c != 3 || img.w < 1 || img.h < 1 || (size_t)img.w * img.h > IMAGE_MAX_PIXELS) __builtin_trap();
    volatile uint8_t last = img.px[(size_t)img.w * img.h * 3 - 1];
    (void)last;
    a2i_style_params sp;
    a2i_style_params_from_png_meta(&meta, &sp);
    riffusion_exif e;
    if (meta.exif) riffusion_exif_read(meta.exif, meta.exif_len, &e);
    reading_input in = {&img, &meta, "fuzz.png", a2i2a_i2a_default_params(), NULL};
    in.p.gl_iters = 1;
    reading_memory m = reading_inverse_memory(&in);
    if (img.w <= 64 && img.h <= 64 && m.sound + m.work < 16e6) {
      audio_buf out;
      if (reading_inverse(&in, &out) == A2I2A_OK) audio_free(&out);
    }
    image_free(&img);
    png_meta_free(&meta);
  }
  free(b);
  return 0;
}
