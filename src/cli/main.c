/* a2i2a: the command-line program, a thin layer over liba2i2a. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct {
  const cli_command *table;
  int (*fn)(int, char **);
} commands[] = {
    {&cli_a2i, cmd_a2i},         {&cli_i2i, cmd_i2i},       {&cli_i2a, cmd_i2a},
    {&cli_run, cmd_run},         {&cli_batch, cmd_batch},   {&cli_grid, cmd_grid},
    {&cli_presets, cmd_presets}, {&cli_models, cmd_models},
    {&cli_serve, cmd_serve},
    {&cli_tokenize, cmd_tokenize}, {&cli_verify, cmd_verify},
};
enum { NCOMMANDS = sizeof commands / sizeof *commands };

static void usage(FILE *f) {
  fprintf(f,
          "a2i2a %s - sampling across media: sound -> spectrogram -> Stable Diffusion -> sound\n\n"
          "usage: a2i2a <command> [options]\n"
          "       a2i2a <command> --help, a2i2a help <command>\n"
          "       a2i2a completion bash|zsh   (a completion script: source <(a2i2a completion bash))\n"
          "       a2i2a manpage               (a2i2a(1) in roff: a2i2a manpage | man -l -)\n"
          "       a2i2a --version [-v]        (-v: also the BLAS kernels and threads)\n\ncommands:\n",
          a2i2a_version());
  for (int i = 0; i < NCOMMANDS; i++) fprintf(f, "  %-9s %s\n", commands[i].table->name, commands[i].table->summary);
  fprintf(f, "\nexit status: 0 success, 1 runtime failure (bad input, I/O), 2 usage error, 130/143 interrupted\n"
             "(SIGINT/SIGTERM)\n");
}

static int find_command(const char *name) {
  for (int i = 0; i < NCOMMANDS; i++)
    if (!strcmp(name, commands[i].table->name)) return i;
  return -1;
}

static int unknown_command(const char *name) {
  const char *names[NCOMMANDS + 3];
  for (int i = 0; i < NCOMMANDS; i++) names[i] = commands[i].table->name;
  names[NCOMMANDS] = "help", names[NCOMMANDS + 1] = "completion", names[NCOMMANDS + 2] = "manpage";
  const char *near = cli_nearest(name, names, NCOMMANDS + 3);
  if (near) {
    fprintf(stderr, "a2i2a: unknown command '%s' (did you mean %s?)\n", name, near);
    return EXIT_USAGE;
  }
  return cli_usage_error(NULL, "unknown command '%s'", name);
}

int main(int argc, char **argv) {
  /* past a file size limit (ulimit -f), writes fail with EFBIG and the command reports it and
   * removes its temporary files, instead of being killed half-way */
  signal(SIGXFSZ, SIG_IGN);
  if (argc < 2) {
    usage(stderr);
    return EXIT_USAGE;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || (!strcmp(argv[1], "help") && argc == 2)) {
    usage(stdout);
    return EXIT_OK;
  }
  int version = 0, verbose = 0;
  for (int i = 1; i < argc && i < 3; i++) {
    version |= !strcmp(argv[i], "--version") || !strcmp(argv[i], "-V");
    verbose |= !strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v");
  }
  if (version && argc <= 2 + verbose) {
    printf("a2i2a %s\n", a2i2a_version());
    if (verbose) printf("%s, %d threads\n", a2i2a_blas_kernels(), a2i2a_get_threads());
    return EXIT_OK;
  }
  if (!strcmp(argv[1], "help")) {
    int k = find_command(argv[2]);
    if (k < 0) return unknown_command(argv[2]);
    char *help_argv[] = {argv[2], "--help", NULL};
    return commands[k].fn(2, help_argv);
  }
  const cli_command *tables[NCOMMANDS];
  for (int i = 0; i < NCOMMANDS; i++) tables[i] = commands[i].table;
  if (!strcmp(argv[1], "completion")) {
    if (argc == 3 && !strcmp(argv[2], "bash")) cli_completion_bash(stdout, tables, NCOMMANDS);
    else if (argc == 3 && !strcmp(argv[2], "zsh")) cli_completion_zsh(stdout, tables, NCOMMANDS);
    else return cli_usage_error(NULL, "completion: expected 'completion bash' or 'completion zsh'");
    return EXIT_OK;
  }
  if (!strcmp(argv[1], "manpage")) {
    if (argc != 2) return cli_usage_error(NULL, "manpage takes no arguments");
    cli_manpage(stdout, tables, NCOMMANDS);
    return EXIT_OK;
  }
  int k = find_command(argv[1]);
  if (k < 0) return unknown_command(argv[1]);
  return commands[k].fn(argc - 1, argv + 1);
}
