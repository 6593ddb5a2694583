/* --lora PATH[:SCALE], --lora-dir and the prompt's <lora:NAME:SCALE> tags (cli.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "common/err.h"
#include "sd/lora.h"

static const char *keep(cli_loras *o, char *s) {
  char **v = s ? realloc(o->owned, (size_t)(o->nowned + 1) * sizeof *v) : NULL;
  if (!v) {
    free(s);
    return NULL;
  }
  o->owned = v;
  return o->owned[o->nowned++] = s;
}

int cli_lora_option(const char *cmd, cli_loras *o, int dir, const char *value) {
  if (dir) {
    o->dir = value;
    return 0;
  }
  if (o->n == CLI_MAX_LORAS) return cli_usage_error(cmd, "--lora: at most %d LoRAs", CLI_MAX_LORAS);
  /* PATH:SCALE when what follows the last ':' is a number, else all of it is the path */
  const char *colon = strrchr(value, ':');
  double scale = 1.0;
  size_t len = strlen(value);
  if (colon && colon != value) {
    char *end;
    errno = 0;
    double s = strtod(colon + 1, &end);
    if (colon[1] && !*end && !errno) scale = s, len = (size_t)(colon - value);
  }
  const char *path = keep(o, strndup(value, len));
  if (!path) return cli_fail(fail(A2I2A_ERR_NOMEM, "out of memory"));
  o->path[o->n] = path;
  o->scale[o->n++] = scale;
  return 0;
}

/* --lora-dir, $A2I2A_LORA_DIR, or loras/ in the model's folder (the one holding the model
 * folder or file; the current folder for ORG/NAME). */
static void lora_dir(const cli_loras *o, const char *model, char *buf, size_t n) {
  const char *env = getenv("A2I2A_LORA_DIR");
  struct stat sb;
  if (o->dir) snprintf(buf, n, "%s", o->dir);
  else if (env && *env) snprintf(buf, n, "%s", env);
  else if (model && stat(model, &sb) == 0) {
    size_t len = strlen(model);
    while (len > 1 && model[len - 1] == '/') len--;
    while (len > 0 && model[len - 1] != '/') len--;
    snprintf(buf, n, "%.*sloras", (int)len, model);
  } else
    snprintf(buf, n, "loras");
}

int cli_lora_list(const char *cmd, cli_loras *o, const char *model, const char **prompt, a2i2a_lora *list, int *n) {
  (void)cmd;
  *n = 0;
  for (int i = 0; i < o->n; i++) list[(*n)++] = (a2i2a_lora){.path = o->path[i], .scale = o->scale[i]};
  char *stripped, **names;
  double *scales;
  int ntags;
  a2i2a_status st = sd_lora_prompt_tags(*prompt, &stripped, &names, &scales, &ntags);
  if (st) return cli_fail(st);
  char dir[4096], path[4400];
  lora_dir(o, model, dir, sizeof dir);
  for (int i = 0; i < ntags && !st; i++) {
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s.safetensors", dir, names[i]);
    if (*n == CLI_MAX_LORAS) st = fail(A2I2A_ERR_LIMIT, "more than %d LoRAs", CLI_MAX_LORAS);
    else if (stat(path, &sb) != 0)
      st = fail(A2I2A_ERR_IO, "<lora:%s:%g>: no %s.safetensors in %s (--lora-dir, $A2I2A_LORA_DIR)", names[i], scales[i],
                names[i], dir);
    else if (!keep(o, strdup(path))) st = fail(A2I2A_ERR_NOMEM, "out of memory");
    else list[(*n)++] = (a2i2a_lora){.path = o->owned[o->nowned - 1], .scale = scales[i]};
  }
  for (int i = 0; i < ntags; i++) free(names[i]);
  free(names), free(scales);
  if (!st && ntags) {
    if (keep(o, stripped)) *prompt = stripped;
    else st = fail(A2I2A_ERR_NOMEM, "out of memory");
  } else {
    free(stripped);
  }
  return st ? cli_fail(st) : 0;
}

int cli_lora_no_travel(const char *cmd, const a2i2a_i2i_params *p) {
  if (!p->to_prompt) return 0;
  char *stripped, **names;
  double *scales;
  int ntags;
  a2i2a_status st = sd_lora_prompt_tags(p->to_prompt, &stripped, &names, &scales, &ntags);
  if (st) return cli_fail(st);
  int rc = ntags ? cli_usage_error(cmd, "--to-prompt: <lora:%s:%g>: a LoRA cannot travel (it is merged into the "
                                        "model for the whole run); give it with --lora or in --prompt",
                                   names[0], scales[0])
                 : 0;
  for (int i = 0; i < ntags; i++) free(names[i]);
  free(names), free(scales), free(stripped);
  return rc;
}

void cli_lora_free(cli_loras *o) {
  for (int i = 0; i < o->nowned; i++) free(o->owned[i]);
  free(o->owned);
  o->owned = NULL;
  o->nowned = 0;
}
