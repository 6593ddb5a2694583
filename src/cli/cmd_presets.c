#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "chain/chain.h"
#include "cli/cli.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: a2i2a presets [NAME]\n\n"
          "Lists the presets of 'a2i2a run' with every value they set (or only preset NAME), and\n"
          "the named prompts that --prompt-preset accepts. Any option of 'run' overrides a preset.\n\n"
          "  -h, --help    this help\n");
}

static void show(const chain_preset *p) {
  printf("%s%s: %s\n", p->name, p == &chain_presets[0] ? " (default)" : "", p->summary);
  printf("  %-16s %s\n", "--style", p->style);
  printf("  %-16s %s\n", "--model", p->model);
  printf("  %-16s %s\n", "--prompt-preset", p->prompt);
  printf("  %-16s \"%s\"\n", "--negative", p->negative_prompt);
  printf("  %-16s %g\n", "--strength", p->strength);
  printf("  %-16s %g\n", "--guidance", p->guidance);
  printf("  %-16s %d\n", "--steps", p->steps);
  printf("  %-16s %s\n", "--sampler", p->sampler);
  printf("  %-16s %llu\n", "--seed", (unsigned long long)p->seed);
  printf("  %-16s %s\n", "--readings", p->readings);
  if (p->clip_seconds > 0)
    printf("  %-16s %g s, overlap (crossfade) %g s\n", "--clip", p->clip_seconds, p->overlap_seconds);
  else
    printf("  %-16s none (the whole input in one image)\n", "--clip");
}

int cmd_presets(int argc, char **argv) {
  static const struct option opts[] = {{"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (c == 'h') {
      usage(stdout);
      return EXIT_OK;
    }
    return cli_usage_error("presets", "unknown option");
  }
  if (argc - optind > 1) return cli_usage_error("presets", "expected at most one preset name");
  if (optind < argc) {
    const chain_preset *p = chain_preset_find(argv[optind]);
    if (!p) return cli_usage_error("presets", "unknown preset '%s'", argv[optind]);
    show(p);
    return EXIT_OK;
  }
  for (int i = 0; i < chain_npresets; i++) {
    show(&chain_presets[i]);
    printf("\n");
  }
  printf("named prompts (--prompt-preset NAME; --prompt TEXT for your own):\n");
  for (int i = 0; i < chain_nprompts; i++) printf("  %-9s \"%s\"\n", chain_prompts[i].name, chain_prompts[i].text);
  return EXIT_OK;
}
