/* libFuzzer target: a model's tokenizer folder — vocab.json, merges.txt and
 * tokenizer_config.json, the input's three parts (separated by NUL bytes) — loaded by
 * tokenizer_load_dir (SD 1.x or 2.x conventions, by the input's length) and used to encode a
 * prompt with accents, specials and spaces. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz.h"
#include "sd/clip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *dir = fuzz_tmpdir();
  char *buf;
  const char *part[3];
  size_t len[3];
  fuzz_split(data, size, &buf, part, len, 3);
  fuzz_write(dir, "vocab.json", part[0], len[0]);
  fuzz_write(dir, "merges.txt", part[1], len[1]);
  fuzz_write(dir, "tokenizer_config.json", part[2], len[2]);
  free(buf);
  clip_tokenizer *t;
  if (tokenizer_load_dir(&t, dir, 1 + (int)(size & 1)) == A2I2A_OK) {
    int ids[CLIP_CTX], dropped;
    static const char *prompts[] = {"the abstract slate, wet  ÜNÏCÖDÉ!! <|endoftext|>a", "", "   \t\n", "!!!!"};
    for (int i = 0; i < 4; i++)
      if (tokenizer_encode(t, prompts[i], ids, &dropped) == A2I2A_OK)
        for (int k = 0; k < CLIP_CTX; k++) {
          char text[256];
          tokenizer_token_text(t, ids[k], text, sizeof text);
        }
    tokenizer_free(t);
  }
  return 0;
}
