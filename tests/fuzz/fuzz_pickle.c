/* libFuzzer entry for the PyTorch checkpoint reader: the zip container (through libzip), the
 * legacy container and the pickle machine (pt_parse and pk_run are pure functions of their
 * bytes); built and run like every target here (tests/fuzz/run.sh, docs/reliability.md).
 * Seeds: tests/fuzz/corpus/pickle/ (shared/fixtures/pickle's small files and crafted pickles). */
#include <stddef.h>
#include <stdint.h>

#include "sd/pickle.h"
#include "sd/torch_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  st_file f;
  if (pt_parse(data, size, "fuzz", &f) == A2I2A_OK) {
    /* every tensor accepted lies inside the buffer or in a copy the file owns */
    for (int i = 0; i < f.n; i++) {
      const uint8_t *p = f.tensors[i].data;
      int owned = 0;
      for (int j = 0; j < f.nowned; j++) owned |= p == f.owned[j];
      if (f.tensors[i].nbytes && !owned && (p < data || p + f.tensors[i].nbytes > data + size)) __builtin_trap();
      if (f.tensors[i].nbytes) {
        volatile uint8_t last = p[f.tensors[i].nbytes - 1];
        (void)last;
      }
    }
    st_close(&f);
  }
  /* the machine alone, on every pickle in a row, as the legacy format runs it */
  pk_machine m;
  pk_init(&m, "fuzz");
  size_t pos = 0, used;
  pk_ref root;
  while (pos < size && pk_run(&m, data + pos, size - pos, &used, &root) == A2I2A_OK) pos += used;
  pk_free(&m);
  return 0;
}
