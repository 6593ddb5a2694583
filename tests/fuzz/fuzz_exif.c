/* libFuzzer target: Riffusion's eXIf block (riffusion_exif_read), any bytes as the TIFF block
 * of a PNG's eXIf chunk. What it accepts is within the bounds docs/reliability.md lists. */
#include <stddef.h>
#include <stdint.h>

#include "a2i/styles.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  riffusion_exif e;
  if (riffusion_exif_read(data, size, &e) == A2I2A_OK) {
    if (e.sample_rate < 1000 || e.sample_rate > 384000 || e.step_size_ms < 1 || e.num_frequencies < 1 ||
        !(e.power_for_image > 0) || e.tags < 9)
      __builtin_trap();
  }
  return 0;
}
