/* The chain's options shared by run and batch: --model's default, the prompts and seeds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/chain.h"
#include "chain/params.h"
#include "cli/cli_chain.h"

void cli_model_default(const cli_option *o, char *buf, size_t size) {
  (void)o;
  const char *env = getenv("A2I2A_MODEL");
  a2i2a_run_params p;
  a2i2a_run_preset(NULL, &p);
  if (env && *env) snprintf(buf, size, "$A2I2A_MODEL (now %s), else the preset's", env);
  else snprintf(buf, size, "$A2I2A_MODEL, else the preset's: %s", p.model);
}

int cli_cross_option(const char *cmd, cli_cross *c, a2i2a_run_params *p, int id, const char *v) {
  switch (id) {
  case CLI_ID_TRAVEL:
    if (!p->travel) p->travel = "path"; /* --loop wins in either order */
    return 0;
  case CLI_ID_LOOP: p->travel = "loop"; return 0;
  case CLI_ID_PROMPT:
  case CLI_ID_PROMPT_PRESET:
    if (c->nprompts == CLI_MAX_CROSS) return cli_usage_error(cmd, "at most %d prompts", CLI_MAX_CROSS);
    c->prompts[c->nprompts++] = id == CLI_ID_PROMPT ? v : chain_prompt_find(v)->text;
    return 0;
  case CLI_ID_SEEDS: {
    /* each seed as --seed takes it */
    a2i2a_run_params one;
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", v);
    for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
      if (c->nseeds == CLI_MAX_CROSS) return cli_usage_error(cmd, "--seeds: at most %d seeds", CLI_MAX_CROSS);
      if (param_parse(param_find("i2i.seed"), t, &one)) return cli_usage_error(cmd, "--seeds: %s", a2i2a_last_error());
      c->seeds[c->nseeds++] = one.i2i.seed;
    }
    if (!c->nseeds) return cli_usage_error(cmd, "--seeds: no seed in '%s'", v);
    return 0;
  }
  case CLI_ID_VARIATIONS: return cli_int(cmd, "--variations", v, 1, CLI_MAX_CROSS, &c->variations) ? EXIT_USAGE : 0;
  }
  return CLI_CONTINUE;
}

int cli_cross_finish(const char *cmd, const cli_command *table, const cli_args *a, const a2i2a_run_params *p,
                     cli_cross *c) {
  if (!c->nprompts) c->prompts[c->nprompts++] = p->i2i.prompt;
  if (c->variations) {
    if (c->nseeds) return cli_usage_error(cmd, "--seeds and --variations cannot be combined");
    for (long i = 0; i < c->variations; i++) c->seeds[c->nseeds++] = p->i2i.seed + (uint64_t)i;
  } else if (!c->nseeds) {
    c->seeds[c->nseeds++] = p->i2i.seed;
  } else if (cli_given(table, a, "seed")) {
    return cli_usage_error(cmd, "--seed and --seeds cannot be combined");
  }
  return 0;
}
