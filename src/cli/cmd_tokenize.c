#include <stdio.h>

#include "cli/cli.h"

/* Placeholder until the 'tokenize' command lands. */
int cmd_tokenize(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "a2i2a tokenize: not implemented yet\n");
  return EXIT_RUNTIME;
}
