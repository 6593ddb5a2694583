/* libFuzzer target: run.json as --replay reads it (chain_runjson_parse): every parameter
 * through the parameters' table, the thread count, the outputs. What it accepts passes the
 * same checks as a run's parameters. */
#include <stddef.h>
#include <stdint.h>

#include "chain/chain.h"
#include "chain/params.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  chain_record rec;
  if (chain_runjson_parse((const char *)data, size, "fuzz.json", &rec) == A2I2A_OK) {
    if (params_check(&rec.p) != A2I2A_OK || rec.threads < 1 || rec.threads > 1024 || rec.noutputs > CHAIN_MAX_OUTPUTS)
      __builtin_trap();
    chain_record_free(&rec);
  }
  return 0;
}
