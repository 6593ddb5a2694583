/* a2i2a: the command-line program, a thin layer over liba2i2a. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct {
  const char *name;
  int (*fn)(int, char **);
  const char *help;
} commands[] = {
    {"a2i", cmd_a2i, "audio -> spectrogram image"},
    {"i2i", cmd_i2i, "image -> image with Stable Diffusion img2img"},
    {"i2a", cmd_i2a, "image -> audio through named readings"},
    {"run", cmd_run, "the whole chain: audio -> image -> painting -> sounds"},
    {"presets", cmd_presets, "list the presets of 'run' with their values"},
    {"models", cmd_models, "list or download Stable Diffusion models"},
    {"serve", cmd_serve, "the studio: the whole chain in a local web page"},
    {"tokenize", cmd_tokenize, "show how a prompt is tokenized"},
    {"verify", cmd_verify, "check the engine against a folder of reference fixtures"},
};

static void usage(FILE *f) {
  fprintf(f,
          "a2i2a %s - sampling across media: sound -> spectrogram -> Stable Diffusion -> sound\n\n"
          "usage: a2i2a <command> [options]\n"
          "       a2i2a <command> --help\n"
          "       a2i2a --version\n\ncommands:\n",
          a2i2a_version());
  for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
    fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
  fprintf(f, "\nexit status: 0 success, 1 runtime failure (bad input, I/O), 2 usage error\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return EXIT_USAGE;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return EXIT_OK;
  }
  if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
    printf("a2i2a %s\n%s\n", a2i2a_version(), a2i2a_blas_kernels());
    return EXIT_OK;
  }
  for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
    if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
  return cli_usage_error(NULL, "unknown command '%s'", argv[1]);
}
