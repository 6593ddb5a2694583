/* Writes a vocoder at its published size with random weights (tests/support/random_vocoder.h), in
 * its published layout, so that speed can be measured without the real weights:
 *   make_vocoder_checkpoint vocos DIR     Vocos mel 24 kHz: dim 512, intermediate 1536, 8 layers
 *                                         (charactr/vocos-mel-24khz's shapes; 54 MB)
 *   make_vocoder_checkpoint hifigan DIR   HiFi-GAN V1: 512 initial channels (56 MB)
 * DIR is created if missing; its config and weights are replaced. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "support/random_vocoder.h"

int main(int argc, char **argv) {
  if (argc != 3 || (strcmp(argv[1], "vocos") && strcmp(argv[1], "hifigan"))) {
    fprintf(stderr, "usage: %s vocos|hifigan DIR\n", argv[0]);
    return 2;
  }
  if (mkdir(argv[2], 0755) && errno != EEXIST) {
    perror(argv[2]);
    return 1;
  }
  a2i2a_status st = strcmp(argv[1], "vocos") ? write_random_hifigan(argv[2], 512, 1)
                                             : write_random_vocos(argv[2], 512, 1536, 8, 1);
  if (st) {
    fprintf(stderr, "%s\n", a2i2a_last_error());
    return 1;
  }
  printf("%s: a %s of the published size with random weights\n", argv[2], argv[1]);
  return 0;
}
