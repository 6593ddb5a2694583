#include <stdio.h>

#include "cli/cli.h"

/* Placeholder until the 'presets' command lands. */
int cmd_presets(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "a2i2a presets: not implemented yet\n");
  return EXIT_RUNTIME;
}
