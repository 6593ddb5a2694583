#include <stdio.h>

#include "cli/cli.h"

/* Placeholder until the 'i2i' command lands. */
int cmd_i2i(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "a2i2a i2i: not implemented yet\n");
  return EXIT_RUNTIME;
}
