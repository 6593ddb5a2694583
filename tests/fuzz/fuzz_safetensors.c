/* libFuzzer entry for the safetensors parser (st_parse is a pure function of its bytes).
 * Built only when the compiler is clang (tests/CMakeLists.txt); not run by CTest:
 *   CC=clang cmake -S . -B build-fuzz && cmake --build build-fuzz --target fuzz_safetensors
 *   ./build-fuzz/tests/fuzz_safetensors -max_len=4096 corpus/ */
#include <stddef.h>
#include <stdint.h>

#include "sd/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  st_file f;
  if (st_parse(data, size, "fuzz", &f) == A2I2A_OK) {
    /* every tensor the parser accepts must lie inside the buffer */
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
