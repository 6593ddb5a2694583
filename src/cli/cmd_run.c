#include <stdio.h>

#include "cli/cli.h"

/* Placeholder until the 'run' command lands. */
int cmd_run(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "a2i2a run: not implemented yet\n");
  return EXIT_RUNTIME;
}
