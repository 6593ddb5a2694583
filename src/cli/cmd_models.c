#include <stdio.h>

#include "cli/cli.h"

/* Placeholder until the 'models' command lands. */
int cmd_models(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "a2i2a models: not implemented yet\n");
  return EXIT_RUNTIME;
}
