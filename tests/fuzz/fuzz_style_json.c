/* libFuzzer target: the "a2i2a" JSON text chunk (a2i_style_params_from_json). What it accepts
 * is within its bounds and writes back to JSON that reads back the same. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "a2i/styles.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = fuzz_text(data, size);
  a2i_style_params p, back;
  if (a2i_style_params_from_json(text, &p) == A2I2A_OK) {
    if (p.samples < 1 || p.samples > AUDIO_MAX_FRAMES || p.width < 1 || p.height < 1 || p.win_length > p.n_fft)
      __builtin_trap();
    if (!strcmp(p.style, "fullband") && (double)p.samples > ((double)p.hop + 1) * p.width) __builtin_trap();
    char *again = a2i_style_params_to_json(&p);
    if (!again || a2i_style_params_from_json(again, &back) != A2I2A_OK || back.samples != p.samples ||
        back.width != p.width || back.hop != p.hop)
      __builtin_trap();
    free(again);
  }
  free(text);
  return 0;
}
