/* a2i2a presets [NAME]: the presets of run, with the values they set, and the named prompts. */
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "chain/chain.h"
#include "chain/params.h"
#include "cli/cli.h"

static const cli_option options[] = {
    {.name = "json", .id = CLI_ID_JSON, .help = "the presets and the named prompts as JSON (for scripts)"},
    {.name = "quiet", .letter = 'q', .id = CLI_ID_QUIET, .help = "only the presets' names, one a line"},
    {.name = "verbose", .letter = 'v', .id = CLI_ID_VERBOSE, .help = "each value with what it means"},
    CLI_OPT_HELP,
    {0},
};

const cli_command cli_presets = {
    .name = "presets",
    .summary = "list the presets of 'run' with their values",
    .usage = "usage: a2i2a presets [NAME] [--json]\n\n"
             "Lists the presets of 'a2i2a run' with every value they set (or only preset NAME), and\n"
             "the named prompts that --prompt-preset accepts. Any option of 'run' overrides a preset.\n",
    .options = options,
    .operand_list = &chain_preset_registry,
};

/* The values a preset sets, by the options of 'run' that set them (verbose: with their meaning). */
static void show(const chain_preset *ps, int verbose) {
  a2i2a_run_params p;
  a2i2a_run_preset(ps->name, &p);
  printf("%s%s: %s\n", ps->name, ps == &chain_presets[0] ? " (default)" : "", ps->summary);
  for (const cli_option *o = cli_run.options; o->name || o->heading; o++) {
    const param_def *d = o->param ? param_find(o->param) : NULL;
    char value[1024];
    if (o->choices == &chain_prompt_registry) printf("  --%-14s %s\n", o->name, ps->prompt);
    if (!d || !(d->flags & PARAM_PRESET) || d->offset == offsetof(a2i2a_run_params, overlap_seconds)) continue;
    param_format(d, &p, value, sizeof value);
    if (d->offset == offsetof(a2i2a_run_params, clip_seconds) && p.clip_seconds > 0)
      printf("  --%-14s %g s, overlap (crossfade) %g s", o->name, p.clip_seconds, p.overlap_seconds);
    else if (d->offset == offsetof(a2i2a_run_params, clip_seconds))
      printf("  --%-14s none (the whole input in one image)", o->name);
    else if (d->type == PARAM_TEXT && !*(const char *const *)param_cfield(d, &p))
      printf("  --%-14s none (%s)", o->name, d->unset);
    else
      printf(d->type == PARAM_TEXT ? "  --%-14s \"%s\"" : "  --%-14s %s", o->name, value);
    if (verbose) printf("\n  %16s # %s", "", o->help ? o->help : d->entry.description);
    printf("\n");
  }
}

int cmd_presets(int argc, char **argv) {
  cli_args a;
  int rc = cli_parse(&cli_presets, argc, argv, NULL, NULL, &a, NULL, NULL);
  if (rc != CLI_CONTINUE) return rc;
  if (argc - a.operand > 1) return cli_usage_error("presets", "expected at most one preset name");
  cli_verbose(a.verbose);
  if (a.operand < argc) {
    const chain_preset *p = chain_preset_find(argv[a.operand]);
    if (!p) return cli_usage_error("presets", "unknown preset '%s'", argv[a.operand]);
    if (a.json) return cli_print_json(cli_entry_json(a2i2a_list_find(A2I2A_LIST_PRESETS, p->name)));
    if (a.quiet) return puts(p->name), EXIT_OK;
    show(p, a.verbose);
    return EXIT_OK;
  }
  if (a.json) {
    cJSON *all = cJSON_CreateObject();
    cJSON_AddItemToObject(all, "presets", cli_list_json(A2I2A_LIST_PRESETS));
    cJSON_AddItemToObject(all, "prompts", cli_list_json(A2I2A_LIST_PROMPTS));
    return cli_print_json(all);
  }
  for (int i = 0; i < chain_npresets; i++) {
    if (a.quiet) {
      puts(chain_presets[i].name);
      continue;
    }
    show(&chain_presets[i], a.verbose);
    printf("\n");
  }
  if (a.quiet) return EXIT_OK;
  printf("named prompts (--prompt-preset NAME; --prompt TEXT for your own):\n");
  for (int i = 0; i < chain_nprompts; i++) printf("  %-9s \"%s\"\n", chain_prompts[i].name, chain_prompts[i].text);
  return EXIT_OK;
}
