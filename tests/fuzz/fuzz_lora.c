/* libFuzzer target: LoRA files (src/sd/lora.c) — the input's first part (up to a NUL byte) is a
 * prompt whose <lora:NAME:SCALE> tags are parsed (sd_lora_prompt_tags), the rest the bytes of a
 * LoRA merged into the tiny SD 1.x model (examples/tiny-sd1, opened once) by
 * a2i2a_model_set_loras, then unmerged. An accepted LoRA's patches must fit the model's tensors
 * (ASan watches the merge), and after unmerging the weights are the checkpoint's again. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sd/lora.h"
#include "sd/pipeline.h"

static a2i2a_model *model;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  setenv("OMP_NUM_THREADS", "1", 1);
  if (a2i2a_model_open(A2I2A_SOURCE_DIR "/examples/tiny-sd1", &model) != A2I2A_OK) abort();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *buf;
  const char *part[2];
  size_t len[2];
  fuzz_split(data, size, &buf, part, len, 2);
  char *stripped, **names;
  double *scales;
  int n;
  if (sd_lora_prompt_tags(part[0], &stripped, &names, &scales, &n) == A2I2A_OK) {
    if (strlen(stripped) > len[0]) abort(); /* stripping only removes */
    for (int i = 0; i < n; i++) free(names[i]);
    free(stripped), free(names), free(scales);
  }
  a2i2a_lora lora = {.path = "fuzz.safetensors", .data = part[1], .size = len[1], .scale = 0.5};
  if (a2i2a_model_set_loras(model, &lora, 1, NULL) == A2I2A_OK &&
      (model->loras.n != 1 || model->loras.npatches < 1))
    abort(); /* accepted means merged */
  if (a2i2a_model_set_loras(model, NULL, 0, NULL) != A2I2A_OK || model->loras.n || model->loras.npatches) abort();
  free(buf);
  return 0;
}
