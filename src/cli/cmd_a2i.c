#include <stdio.h>

#include "cli/cli.h"

/* Placeholder until the 'a2i' command lands. */
int cmd_a2i(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "a2i2a a2i: not implemented yet\n");
  return EXIT_RUNTIME;
}
