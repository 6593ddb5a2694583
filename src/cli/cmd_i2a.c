#include <stdio.h>

#include "cli/cli.h"

/* Placeholder until the 'i2a' command lands. */
int cmd_i2a(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "a2i2a i2a: not implemented yet\n");
  return EXIT_RUNTIME;
}
