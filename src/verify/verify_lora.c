/* lora*, *_lora: the LoRA cases of sd-ext are not run by this version: each is reported as
 * skipped (the LoRA work replaces this file with their runner). */
#include "verify/verify.h"

void verify_lora(verify_ctx *v, const char *json_path, const char *stem) {
  (void)json_path;
  verify_skip(v, stem, "LoRA cases: not implemented in this version");
}
