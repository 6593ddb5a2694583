#include <stdio.h>

#include "cli/cli.h"

/* Placeholder until the 'verify' command lands. */
int cmd_verify(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "a2i2a verify: not implemented yet\n");
  return EXIT_RUNTIME;
}
