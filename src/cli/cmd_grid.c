/* a2i2a grid AUDIO -o DIR --x KEY=V1,V2 [--y KEY=...] [--z KEY=...]: A1111's X/Y/Z plot for the
 * whole chain. Every cell is one run (what `a2i2a run` with those options makes, byte for byte)
 * in its own folder; the model is loaded once and the prompts' embeddings are cached by it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "audio/audio.h"
#include "chain/chain.h"
#include "chain/params.h"
#include "cli/cli.h"
#include "common/err.h"
#include "common/job.h"
#include "common/outfile.h"

enum { O_OUTPUT = 1, O_X, O_Y, O_Z, O_SET, O_PRESET };
enum { MAX_VALUES = 64, MAX_SETS = 64, MAX_CELLS = 1024 };

static void grid_defaults(a2i2a_run_params *p) { a2i2a_run_preset(NULL, p); }

static const cli_option options[] = {
    {.name = "output", .letter = 'o', .arg = "DIR", .id = O_OUTPUT, .help = "output folder (created if missing)",
     .flags = CLI_PATH},
    {.name = "x", .arg = "KEY=V1,V2,...", .id = O_X, .help = "the columns: a run option (or run.json key) and its "
     "values, separated by commas (by | when one holds a comma) (required)"},
    {.name = "y", .arg = "KEY=V1,V2,...", .id = O_Y, .help = "the rows", .dflt = "one row"},
    {.name = "z", .arg = "KEY=V1,V2,...", .id = O_Z, .help = "one grid per value, one under the other",
     .dflt = "one grid"},
    {.name = "set", .arg = "KEY=VALUE", .id = O_SET, .help = "a run option every cell has (repeat for several)"},
    {.name = "preset", .arg = "NAME", .id = O_PRESET, .choices = &chain_preset_registry, .dflt = "seed",
     .help = "the values every cell starts from ('a2i2a presets')"},
    {.name = "model", .letter = 'm', .arg = "M", .param = "model.name", .flags = CLI_PATH,
     .dflt = "$A2I2A_MODEL, else the preset's"},
    CLI_OPTS_JOB,
    {0},
};

const cli_command cli_grid = {
    .name = "grid",
    .summary = "runs side by side: one per combination of settings, in a labelled grid",
    .usage = "usage: a2i2a grid AUDIO -o DIR --x KEY=V1,V2,... [--y KEY=...] [--z KEY=...] [options]\n\n"
             "Automatic1111's X/Y/Z plot for the whole chain: one run of AUDIO for each combination of\n"
             "the axes' values (KEY is any run option, e.g. strength, seed, readings, prompt, preset, or a\n"
             "run.json key such as i2i.guidance), the model loaded once. DIR receives one folder per cell\n"
             "(x1_y1, x2_y1, ...; with --z x1_y1_z1, ...) holding what `a2i2a run` writes with those\n"
             "settings (run.json included), grid.png (the paintings with the values as row and column\n"
             "labels) and grid.json (each cell's folder and settings). Every value is checked, and every\n"
             "cell's run, before the first one starts.\n",
    .footer = "exit status: 0 success, 1 runtime failure, 2 usage error, 130 interrupted\n",
    .options = options,
    .defaults = grid_defaults,
};

/* An axis (or a --set): a run option and its values. */
typedef struct {
  const char *flag;           /* "--x", "--set" */
  const char *key;            /* as typed */
  const param_def *d;         /* the parameter it sets; NULL: a preset or a named prompt */
  int off;                    /* the option turns its flag off (--no-sheet) */
  int preset, prompt_preset;  /* the key names a preset / a named prompt */
  int n;
  char *values[MAX_VALUES];
  char *buf;
} axis;

typedef struct {
  const char *outdir, *preset, *spec[3];
  const char *sets[MAX_SETS];
  int nsets;
} grid_ctx;

static int handle(void *ctx, int id, const char *v) {
  grid_ctx *c = ctx;
  switch (id) {
  case O_OUTPUT: c->outdir = v; break;
  case O_PRESET: c->preset = v; break;
  case O_X:
  case O_Y:
  case O_Z: c->spec[id - O_X] = v; break;
  case O_SET:
    if (c->nsets == MAX_SETS) return cli_usage_error("grid", "--set: at most %d", MAX_SETS);
    c->sets[c->nsets++] = v;
    break;
  }
  return 0;
}

/* KEY: a run option's name (or alias), a run.json key, preset or prompt-preset. */
static int resolve_key(axis *ax) {
  const char *k = ax->key;
  if (!strcmp(k, "preset")) return ax->preset = 1, 0;
  if (!strcmp(k, "prompt-preset")) return ax->prompt_preset = 1, 0;
  if (!strcmp(k, "prompt")) k = "i2i.prompt"; /* run's --prompt (one prompt per run) */
  const char *names[CLI_MAX_OPTIONS + 64];
  int n = 0;
  for (const cli_option *o = cli_run.options; o->name || o->heading; o++) {
    if (!o->name || !o->param) continue;
    if (!strcmp(o->name, k) || (o->alias && !strcmp(o->alias, k))) {
      ax->d = param_find(o->param);
      ax->off = (o->flags & CLI_OFF) != 0;
      break;
    }
    if (n < CLI_MAX_OPTIONS) names[n++] = o->name;
  }
  if (!ax->d) ax->d = param_find(k);
  if (ax->d && !strcmp(ax->d->entry.name, "model.name"))
    return cli_usage_error("grid", "%s %s: the model is loaded once for the whole grid (run a grid per model)",
                           ax->flag, ax->key);
  if (ax->d) return 0;
  names[n++] = "preset", names[n++] = "prompt-preset", names[n++] = "prompt";
  const char *near = cli_nearest(ax->key, names, n);
  if (near) return cli_usage_error("grid", "%s: unknown run option '%s' (did you mean %s?)", ax->flag, ax->key, near);
  return cli_usage_error("grid", "%s: unknown run option '%s'", ax->flag, ax->key);
}

/* Sets value v of ax in q; an exit status after one line when v is not accepted. */
static int apply_value(const axis *ax, const char *v, a2i2a_run_params *q) {
  if (ax->preset) {
    if (registry_index(&chain_preset_registry, v) < 0) {
      registry_unknown(&chain_preset_registry, v);
      return cli_usage_error("grid", "%s %s: %s", ax->flag, ax->key, a2i2a_last_error());
    }
    q->preset = registry_entry(&chain_preset_registry, registry_index(&chain_preset_registry, v))->name;
    return 0;
  }
  if (ax->prompt_preset) {
    const chain_prompt *pr = chain_prompt_find(v);
    if (!pr) {
      registry_unknown(&chain_prompt_registry, v);
      return cli_usage_error("grid", "%s %s: %s", ax->flag, ax->key, a2i2a_last_error());
    }
    q->i2i.prompt = pr->text;
    return 0;
  }
  if (param_parse(ax->d, v, q)) return cli_usage_error("grid", "%s %s: %s", ax->flag, ax->key, a2i2a_last_error());
  if (ax->off) *(int *)param_field(ax->d, q) = !*(int *)param_field(ax->d, q);
  return 0;
}

/* "KEY=V1,V2,..." (| separates the values when one holds a comma) into ax; each value is tried
 * on a copy of base, so that a bad one is refused before any work. */
static int parse_axis(axis *ax, const char *flag, const char *spec, int single, const a2i2a_run_params *base) {
  memset(ax, 0, sizeof *ax);
  ax->flag = flag;
  ax->buf = strdup(spec);
  if (!ax->buf) return cli_fail(fail(A2I2A_ERR_NOMEM, "out of memory"));
  char *eq = strchr(ax->buf, '=');
  if (!eq || eq == ax->buf) return cli_usage_error("grid", "%s '%s': expected KEY=%s", flag, spec, single ? "VALUE" : "V1,V2,...");
  *eq = 0;
  ax->key = ax->buf;
  int rc = resolve_key(ax);
  if (rc) return rc;
  char *list = eq + 1;
  if (single) {
    ax->values[ax->n++] = list;
  } else {
    const char *sep = strchr(list, '|') ? "|" : ",";
    for (char *v = list, *end; v; v = end ? end + 1 : NULL) {
      end = strstr(v, sep);
      if (end) *end = 0;
      if (ax->n == MAX_VALUES) return cli_usage_error("grid", "%s %s: at most %d values", flag, ax->key, MAX_VALUES);
      ax->values[ax->n++] = v;
    }
  }
  for (int i = 0; i < ax->n; i++) {
    a2i2a_run_params q = *base;
    if ((rc = apply_value(ax, ax->values[i], &q))) return rc;
  }
  return 0;
}

/* The key the axis sets in run.json, for grid.json. */
static const char *axis_param(const axis *ax) {
  return ax->preset ? "preset" : ax->prompt_preset ? "i2i.prompt" : ax->d->entry.name;
}

static a2i2a_status write_index_json(const char *path, const char *input, const char *model, const axis *axes,
                                     const char *const *names, int naxes, const int (*at)[3],
                                     const a2i2a_run_params *q, char (*dirs)[4200], int ncells, int force) {
  cJSON *j = cJSON_CreateObject(), *ja = cJSON_AddArrayToObject(j, "axes"), *jc = NULL;
  cJSON_AddStringToObject(j, "version", a2i2a_version());
  cJSON_AddStringToObject(j, "input", input);
  cJSON_AddStringToObject(j, "model", model);
  for (int k = 0; k < naxes; k++) {
    cJSON *o = cJSON_CreateObject(), *v = cJSON_AddArrayToObject(o, "values");
    cJSON_AddStringToObject(o, "axis", names[k]);
    cJSON_AddStringToObject(o, "key", axes[k].key);
    cJSON_AddStringToObject(o, "param", axis_param(&axes[k]));
    for (int i = 0; i < axes[k].n; i++) cJSON_AddItemToArray(v, cJSON_CreateString(axes[k].values[i]));
    cJSON_AddItemToArray(ja, o);
  }
  jc = cJSON_AddArrayToObject(j, "cells");
  for (int c = 0; c < ncells; c++) {
    cJSON *o = cJSON_CreateObject(), *s = cJSON_CreateObject();
    const char *sub = strrchr(dirs[c], '/') ? strrchr(dirs[c], '/') + 1 : dirs[c];
    cJSON_AddStringToObject(o, "dir", sub);
    for (int k = 0; k < naxes; k++) {
      cJSON_AddNumberToObject(o, names[k], at[c][k]);
      const param_def *d = param_find(axis_param(&axes[k]));
      cJSON_AddItemToObject(s, d->entry.name, param_to_json(d, &q[c]));
    }
    cJSON_AddItemToObject(o, "settings", s);
    cJSON_AddItemToArray(jc, o);
  }
  char *text = cJSON_Print(j);
  cJSON_Delete(j);
  if (!text) return fail(A2I2A_ERR_NOMEM, "out of memory");
  outfile of;
  a2i2a_status st = outfile_open(&of, path, force);
  if (!st && (fputs(text, of.f) == EOF || fputc('\n', of.f) == EOF)) {
    outfile_abort(&of);
    st = fail(A2I2A_ERR_IO, "%s: cannot write", path);
  }
  if (!st) st = outfile_commit(&of);
  free(text);
  return st;
}

int cmd_grid(int argc, char **argv) {
  const char *C = "grid";
  a2i2a_run_params p, dflt;
  a2i2a_run_preset(NULL, &p);
  dflt = p;
  grid_ctx g = {0};
  cli_args a;
  int rc = cli_parse(&cli_grid, argc, argv, &p, &dflt, &a, handle, &g);
  if (rc != CLI_CONTINUE) return rc;
  rc = 0;
  if (!g.outdir) return cli_usage_error(C, "no output folder (-o DIR)");
  if (cli_dash(g.outdir)) return cli_usage_error(C, "-o -: grid writes a folder of files (give DIR)");
  if (a.operand >= argc) return cli_usage_error(C, "no AUDIO input");
  if (argc - a.operand > 1) return cli_usage_error(C, "one AUDIO input (the axes vary the settings)");
  const char *input = argv[a.operand];
  if (cli_dash(input)) return cli_usage_error(C, "AUDIO is read once per cell: give a file, not stdin");
  if (!g.spec[0]) return cli_usage_error(C, "no --x axis (--x KEY=V1,V2,...)");
  if (g.spec[2] && !g.spec[1]) return cli_usage_error(C, "--z needs --y");
  a2i2a_set_threads(a.threads);
  cli_verbose(a.verbose);

  /* the base of every cell: the preset, the model, the --set values (all checked now) */
  const char *model = cli_given(&cli_grid, &a, "model") ? p.model : NULL;
  const char *env_model = getenv("A2I2A_MODEL");
  if (!model && env_model && *env_model) model = env_model;
  a2i2a_run_params base;
  a2i2a_run_preset(g.preset, &base);
  if (!model) model = base.model;
  base.model = model;
  axis sets[MAX_SETS], axes[3];
  static const char *const flags[3] = {"--x", "--y", "--z"}, *const names[3] = {"x", "y", "z"};
  int nsets = 0, naxes = 0, ties_seeds = 1;
  memset(axes, 0, sizeof axes);
  for (; nsets < g.nsets && !rc; nsets++) rc = parse_axis(&sets[nsets], "--set", g.sets[nsets], 1, &base);
  for (int s = 0; s < nsets && !rc; s++) {
    rc = apply_value(&sets[s], sets[s].values[0], &base);
    if (sets[s].d && !strcmp(sets[s].d->entry.name, "i2a.seed")) ties_seeds = 0;
  }
  for (; naxes < 3 && g.spec[naxes] && !rc; naxes++) rc = parse_axis(&axes[naxes], flags[naxes], g.spec[naxes], 0, &base);
  for (int k = 0; k < naxes && !rc; k++) {
    if (axes[k].d && !strcmp(axes[k].d->entry.name, "i2a.seed")) ties_seeds = 0;
    for (int l = 0; l < k && !rc; l++)
      if (!strcmp(axis_param(&axes[k]), axis_param(&axes[l])))
        rc = cli_usage_error(C, "%s and %s both set %s", flags[l], flags[k], axis_param(&axes[k]));
  }
  int nx = naxes > 0 ? axes[0].n : 1, ny = naxes > 1 ? axes[1].n : 1, nz = naxes > 2 ? axes[2].n : 1;
  int ncells = nx * ny * nz;
  if (!rc && ncells > MAX_CELLS) rc = cli_usage_error(C, "%d cells: at most %d", ncells, MAX_CELLS);

  a2i2a_run_params *q = NULL;
  int(*at)[3] = NULL;
  char(*dirs)[4200] = NULL, (*arts)[4300] = NULL;
  if (!rc) {
    q = calloc((size_t)ncells, sizeof *q), at = calloc((size_t)ncells, sizeof *at);
    dirs = calloc((size_t)ncells, sizeof *dirs), arts = calloc((size_t)ncells, sizeof *arts);
    if (!q || !at || !dirs || !arts) rc = cli_fail(fail(A2I2A_ERR_NOMEM, "out of memory"));
  }
  /* each cell: its preset (the axis's, else --preset), the --set values, the axes' values; the
   * readings' seed follows the painting's, as run's --seed sets both */
  for (int c = 0; c < ncells && !rc; c++) {
    at[c][0] = c % nx, at[c][1] = c / nx % ny, at[c][2] = c / (nx * ny);
    const char *preset = g.preset;
    for (int k = 0; k < naxes; k++)
      if (axes[k].preset) preset = axes[k].values[at[c][k]];
    if (preset != g.preset) {
      a2i2a_run_preset(preset, &q[c]);
      q[c].model = model;
      for (int s = 0; s < nsets && !rc; s++) rc = apply_value(&sets[s], sets[s].values[0], &q[c]);
    } else {
      q[c] = base;
    }
    for (int k = 0; k < naxes && !rc; k++) rc = apply_value(&axes[k], axes[k].values[at[c][k]], &q[c]);
    if (ties_seeds) q[c].i2a.seed = q[c].i2i.seed;
    if (!rc) rc = cli_check_params(&cli_run, &q[c]);
    int n = snprintf(dirs[c], sizeof dirs[c], "%s/x%d", g.outdir, at[c][0] + 1);
    if (naxes > 1) n += snprintf(dirs[c] + n, sizeof dirs[c] - n, "_y%d", at[c][1] + 1);
    if (naxes > 2) snprintf(dirs[c] + n, sizeof dirs[c] - n, "_z%d", at[c][2] + 1);
    snprintf(arts[c], sizeof arts[c], "%s/art.png", dirs[c]);
  }
  if (rc) goto out;

  int64_t frames;
  double rate;
  int channels;
  a2i2a_status st = audio_probe(input, &frames, &rate, &channels);
  char grid_png[4200], grid_json[4200];
  snprintf(grid_png, sizeof grid_png, "%s/grid.png", g.outdir);
  snprintf(grid_json, sizeof grid_json, "%s/grid.json", g.outdir);
  struct stat sb;
  int made_outdir = stat(g.outdir, &sb) != 0;
  if (!st && !made_outdir && !(st = outfile_check(grid_png, a.force))) st = outfile_check(grid_json, a.force);
  if (st) {
    rc = cli_fail(st);
    goto out;
  }
  if ((st = make_output_dir(g.outdir))) {
    rc = cli_fail(st);
    goto out;
  }
  a2i2a_model *mdl = NULL;
  a2i2a_job *job = cli_job_new(a.progress);
  if (!job) st = fail(A2I2A_ERR_NOMEM, "out of memory");
  double t0 = now_seconds();
  if (!st) st = a2i2a_model_open(model, &mdl);
  if (!st) cli_describe_model(mdl);
  double load = now_seconds() - t0;
  /* every cell's checks before the first one's work */
  for (int c = 0; c < ncells && !st; c++) st = chain_preflight(mdl, input, dirs[c], &q[c], a.force);
  for (int c = 0; c < ncells && !st; c++) {
    if (a.progress != CLI_QUIET) fprintf(stderr, "a2i2a grid: %d/%d -> %s\n", c + 1, ncells, dirs[c]);
    st = chain_run_named(mdl, input, NULL, dirs[c], &q[c], a.force, job);
  }
  if (!st) {
    /* labels "KEY=VALUE" */
    char(*labels)[3][MAX_VALUES][128] = calloc(1, sizeof *labels);
    const char *lx[MAX_VALUES], *ly[MAX_VALUES], *lz[MAX_VALUES], *art_list[MAX_CELLS];
    const char **lp[3] = {lx, ly, lz};
    if (!labels) st = fail(A2I2A_ERR_NOMEM, "out of memory");
    for (int k = 0; k < 3 && !st; k++) {
      int nv = k < naxes ? axes[k].n : 1;
      for (int i = 0; i < nv; i++) {
        if (k < naxes) snprintf((*labels)[k][i], sizeof (*labels)[k][i], "%s=%s", axes[k].key, axes[k].values[i]);
        lp[k][i] = (*labels)[k][i];
      }
    }
    for (int c = 0; c < ncells; c++) art_list[c] = arts[c];
    char title[1024];
    snprintf(title, sizeof title, "%s  %d cells  preset %s  %s", strrchr(input, '/') ? strrchr(input, '/') + 1 : input,
             ncells, g.preset ? g.preset : "seed", a2i2a_model_name(mdl));
    image_u8 sheet = {0};
    if (!st) st = chain_grid(title, lx, nx, ly, ny, lz, nz, art_list, &sheet);
    if (!st) st = png_write(grid_png, &sheet, NULL, a.force);
    image_free(&sheet);
    free(labels);
    if (!st)
      st = write_index_json(grid_json, input, a2i2a_model_name(mdl), axes, names, naxes, (const int(*)[3])at, q, dirs,
                            ncells, a.force);
  }
  a2i2a_model_close(mdl);
  if (job) {
    if (cli_is_verbose() && !st) fprintf(stderr, "a2i2a grid: model loaded once in %.2f s\n", load);
    cli_job_done(job);
  }
  rc = st ? cli_fail(st) : EXIT_OK;
  if (st && made_outdir) rmdir(g.outdir);
  if (!st && a.progress != CLI_QUIET)
    fprintf(stderr, "a2i2a grid: wrote %d cells in %s (see grid.png, grid.json)\n", ncells, g.outdir);
out:
  for (int s = 0; s < nsets; s++) free(sets[s].buf);
  for (int k = 0; k < 3; k++) free(axes[k].buf);
  free(q), free(at), free(dirs), free(arts);
  return rc;
}
