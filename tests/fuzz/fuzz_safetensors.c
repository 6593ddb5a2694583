/* libFuzzer target: the safetensors parser (st_parse is a pure function of its bytes). Every
 * tensor it accepts must lie inside the buffer. Built by tests/CMakeLists.txt when A2I2A_FUZZ
 * is on, run by tests/fuzz/run.sh. */
#include <stddef.h>
#include <stdint.h>

#include "sd/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  st_file f;
  if (st_parse(data, size, "fuzz", &f) == A2I2A_OK) {
    for (int i = 0; i < f.n; i++) {
      const uint8_t *p = f.tensors[i].data;
      if (p < data || p + f.tensors[i].nbytes > data + size) __builtin_trap();
      if (f.tensors[i].nbytes && f.tensors[i].dtype == ST_F32) {
        volatile uint8_t last = p[f.tensors[i].nbytes - 1];
        (void)last;
      }
    }
    st_close(&f);
  }
  return 0;
}
