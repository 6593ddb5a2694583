/* a2i2a run: the whole chain, several inputs, prompts or seeds in one call, or a replay. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chain/chain.h"
#include "chain/params.h"
#include "cli/cli.h"
#include "common/err.h"
#include "common/outfile.h"
#include "common/job.h"
#include "audio/audio.h"

enum { O_OUTPUT = 1, O_PRESET, O_TIMINGS, O_REPLAY, O_PROMPT, O_PROMPT_PRESET, O_SEEDS, O_VARIATIONS, O_TRAVEL, O_LOOP };

/* --model's default: $A2I2A_MODEL when set (as for i2i), else the preset's. */
static void model_default(const cli_option *o, char *buf, size_t size) {
  (void)o;
  const char *env = getenv("A2I2A_MODEL");
  a2i2a_run_params p;
  a2i2a_run_preset(NULL, &p);
  if (env && *env) snprintf(buf, size, "$A2I2A_MODEL (now %s), else the preset's", env);
  else snprintf(buf, size, "$A2I2A_MODEL, else the preset's: %s", p.model);
}

static void run_defaults(a2i2a_run_params *p) { a2i2a_run_preset(NULL, p); }

static const cli_option options[] = {
    {.name = "output", .letter = 'o', .arg = "DIR", .id = O_OUTPUT, .help = "output folder (created if missing)",
     .flags = CLI_PATH | CLI_REPLAY},
    {.name = "preset", .arg = "NAME", .id = O_PRESET, .choices = &chain_preset_registry, .dflt = "seed",
     .help = "the values every other option starts from ('a2i2a presets')", .flags = CLI_FIRST},
    CLI_OPTS_JOB,
    {.name = "no-sheet", .param = "sheet", .help = "do not write sheet.png", .flags = CLI_OFF},
    {.name = "timings", .id = O_TIMINGS, .help = "print the wall time of each stage on stderr", .flags = CLI_REPLAY},
    {.name = "replay", .arg = "RUN.JSON", .id = O_REPLAY, .flags = CLI_PATH | CLI_REPLAY,
     .help = "run again what RUN.JSON records and check that the outputs are byte-identical (INPUT and --model "
             "override the recorded paths; their SHA-256 must match)"},
    {.heading = "spectrogram (a2i):"},
    {.name = "style", .arg = "NAME", .param = "a2i.style"},
    {.name = "colormap", .arg = "NAME", .param = "a2i.colormap", .show_default = cli_style_defaults},
    {.name = "stereo", .param = "a2i.stereo"},
    {.name = "db-range", .arg = "DB", .param = "a2i.db_range", .show_default = cli_style_defaults},
    {.name = "fmin", .arg = "HZ", .param = "a2i.fmin", .show_default = cli_style_defaults},
    {.name = "fmax", .arg = "HZ", .param = "a2i.fmax", .show_default = cli_style_defaults},
    {.name = "spec-width", .arg = "N", .param = "a2i.width"},
    {.name = "spec-height", .arg = "N", .param = "a2i.height"},
    {.name = "max-seconds", .arg = "S", .param = "a2i.max_seconds", .show_default = cli_style_defaults},
    {.name = "clip", .arg = "S", .param = "clips.seconds"},
    {.name = "overlap", .arg = "S", .param = "clips.overlap_seconds"},
    {.heading = "painting (i2i):"},
    {.name = "model", .letter = 'm', .arg = "M", .param = "model.name", .flags = CLI_PATH | CLI_REPLAY,
     .show_default = model_default},
    {.name = "prompt", .arg = "TEXT", .id = O_PROMPT, .help = "a prompt of your own (repeat for several)",
     .dflt = "the preset's"},
    {.name = "prompt-preset", .arg = "NAME", .id = O_PROMPT_PRESET, .choices = &chain_prompt_registry,
     .help = "a named abstract prompt (repeat for several; 'a2i2a presets' shows them)", .dflt = "the preset's"},
    {.name = "negative", .arg = "TEXT", .param = "i2i.negative_prompt"},
    {.name = "strength", .arg = "X", .param = "i2i.strength"},
    {.name = "guidance", .arg = "X", .param = "i2i.guidance"},
    {.name = "steps", .arg = "N", .param = "i2i.steps"},
    {.name = "sampler", .arg = "NAME", .param = "i2i.sampler"},
    {.name = "spacing", .arg = "NAME", .param = "i2i.spacing"},
    {.name = "clip-skip", .arg = "N", .param = "i2i.clip_skip"},
    {.name = "prediction", .arg = "P", .param = "i2i.prediction"},
    {.name = "tile", .arg = "AXES", .param = "i2i.tile"},
    {.name = "alpha", .arg = "X", .param = "i2i.alpha"},
    {.name = "to-seed", .arg = "N", .param = "i2i.to_seed"},
    {.name = "to-prompt", .arg = "TEXT", .param = "i2i.to_prompt"},
    {.name = "to-negative", .arg = "TEXT", .param = "i2i.to_negative_prompt"},
    {.name = "to-strength", .arg = "X", .param = "i2i.to_strength"},
    {.name = "to-guidance", .arg = "X", .param = "i2i.to_guidance"},
    {.name = "travel", .id = O_TRAVEL, .help = "travel from the painting's endpoint to the --to- one over the clips "
     "(--clip) or --frames (docs/travel.md)"},
    {.name = "loop", .id = O_LOOP, .help = "travel there and back, the last clip crossfading into the first: every "
     "reading loops"},
    {.name = "frames", .arg = "N", .param = "travel.frames"},
    {.name = "seed", .arg = "N", .param = "i2i.seed", .help = "seed of the painting and the readings"},
    {.name = "seeds", .arg = "A,B,...", .id = O_SEEDS, .help = "several seeds, one run each"},
    {.name = "variations", .arg = "N", .id = O_VARIATIONS, .help = "N runs with seeds SEED, SEED+1, ..."},
    {.heading = "sounds (i2a):"},
    {.name = "readings", .arg = "LIST", .param = "i2a.readings"},
    {.name = "gl-iters", .arg = "N", .param = "i2a.gl_iters"},
    {.name = "bits", .arg = "N", .param = "i2a.bits"},
    {.name = "rate", .arg = "HZ", .param = "i2a.output_rate"},
    {.name = "loudness", .arg = "LUFS", .param = "i2a.loudness"},
    {.name = "true-peak", .arg = "DBTP", .param = "i2a.true_peak"},
    {0},
};

const cli_command cli_run = {
    .name = "run",
    .summary = "the whole chain: audio -> image -> painting -> sounds",
    .usage = "usage: a2i2a run INPUT... -o OUTDIR [--preset NAME] [options]\n"
             "       a2i2a run --replay RUN.JSON -o OUTDIR [INPUT] [--model M] [--force]\n\n"
             "The whole chain: each INPUT sound becomes a spectrogram (a2i), Stable Diffusion repaints\n"
             "it (i2i), and the painting is read back as sounds (i2a). OUTDIR receives spectrogram.png,\n"
             "art.png, READING.wav for each reading, sheet.png (a contact sheet of it all) and run.json\n"
             "(everything needed to redo the run; it also records each reading's loudness). Several\n"
             "inputs, prompts or seeds: one sub-folder per run, the model loaded once, and index.png, a\n"
             "row per run. What can be known before the work (an input too short or too long for the\n"
             "style, a painting too large for the memory, existing outputs) is refused before it starts.\n"
             "The defaults are the seed preset's; 'a2i2a presets' lists the\n"
             "presets; any option overrides them. INPUT - reads stdin (kept in OUTDIR while the run\n"
             "reads it; run.json records it as -, and --replay takes it again as INPUT or -).\n",
    .listing_title = "presets (--preset):",
    .listing = &chain_preset_registry,
    .footer = "exit status: 0 success, 1 runtime failure, 2 usage error, 130 interrupted (nothing\n"
              "left behind)\n",
    .options = options,
    .defaults = run_defaults,
};

enum { MAX_LIST = 256 };

typedef struct {
  a2i2a_run_params *p;
  const char *outdir, *replay, *prompts[MAX_LIST];
  int nprompts, timings, nseeds;
  uint64_t seeds[MAX_LIST];
  long variations;
} run_ctx;

static int handle(void *ctx, int id, const char *v) {
  run_ctx *c = ctx;
  switch (id) {
  case O_OUTPUT: c->outdir = v; break;
  case O_PRESET: a2i2a_run_preset(v, c->p); break; /* applied first: the other options override it */
  case O_TIMINGS: c->timings = 1; break;
  case O_REPLAY: c->replay = v; break;
  case O_PROMPT:
  case O_PROMPT_PRESET:
    if (c->nprompts == MAX_LIST) return cli_usage_error("run", "at most %d prompts", MAX_LIST);
    c->prompts[c->nprompts++] = id == O_PROMPT ? v : chain_prompt_find(v)->text;
    break;
  case O_SEEDS: {
    /* each seed as --seed takes it */
    a2i2a_run_params one;
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", v);
    for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
      if (c->nseeds == MAX_LIST) return cli_usage_error("run", "--seeds: at most %d seeds", MAX_LIST);
      if (param_parse(param_find("i2i.seed"), t, &one)) return cli_usage_error("run", "--seeds: %s", a2i2a_last_error());
      c->seeds[c->nseeds++] = one.i2i.seed;
    }
    if (!c->nseeds) return cli_usage_error("run", "--seeds: no seed in '%s'", v);
    break;
  }
  case O_TRAVEL:
    if (!c->p->travel) c->p->travel = "path";
    break;
  case O_LOOP: c->p->travel = "loop"; break;
  case O_VARIATIONS:
    if (cli_int("run", "--variations", v, 1, MAX_LIST, &c->variations)) return EXIT_USAGE;
    break;
  }
  return 0;
}
static void print_timings(const a2i2a_job *job, double load, double total) {
  a2i2a_timings tm = a2i2a_job_timings(job), *t = &tm;
  t->load += load;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double sum = t->load + t->hash + t->a2i + t->i2i + t->i2a + t->sheet;
  fprintf(stderr,
          "a2i2a run: timings: total %.2f s = load %.2f + hash %.2f + a2i %.2f + i2i %.2f + i2a %.2f + sheet %.2f"
          " + other %.2f; peak RSS %.0f MB\n",
          total, t->load, t->hash, t->a2i, t->i2i, t->i2a, t->sheet, total - sum, ru.ru_maxrss / 1024.0);
}

static const char *stem_of(const char *path, char *buf, size_t n) {
  const char *b = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
  snprintf(buf, n, "%s", b);
  char *dot = strrchr(buf, '.');
  if (dot && dot != buf) *dot = 0;
  return buf;
}

/* One run of a batch: its input, folder and settings. */
typedef struct {
  int input;        /* argv index */
  char dir[4096];
  a2i2a_run_params q;
} run_one;

/* The sub-folder of run (i, k, s) of a batch: what varies, joined by "_". */
static void batch_dir(char *dir, size_t size, const char *outdir, char **inputs, int ninputs, int i, int nprompts,
                      int k, int nseeds, uint64_t seed) {
  char sub[1024] = "", stem[256];
  if (ninputs > 1) {
    /* two inputs with the same name get their position too */
    int same = 0;
    stem_of(cli_dash(inputs[i]) ? "stdin" : inputs[i], stem, sizeof stem);
    for (int j = 0; j < ninputs; j++) {
      char other[256];
      same += !strcmp(stem_of(cli_dash(inputs[j]) ? "stdin" : inputs[j], other, sizeof other), stem);
    }
    if (same > 1) snprintf(sub, sizeof sub, "%d-%s", i + 1, stem);
    else snprintf(sub, sizeof sub, "%s", stem);
  }
  size_t n = strlen(sub);
  if (nprompts > 1) n += snprintf(sub + n, sizeof sub - n, "%sp%d", n ? "_" : "", k + 1);
  if (nseeds > 1) snprintf(sub + n, sizeof sub - n, "%sseed%llu", n ? "_" : "", (unsigned long long)seed);
  snprintf(dir, size, "%s/%s", outdir, sub);
}

/* OUTDIR/index.png of a batch: a row per run with its painting and what made it. */
static a2i2a_status write_index(const char *outdir, const run_one *runs, int nruns, char **inputs, const char *model,
                                int force) {
  chain_index_row *rows = calloc((size_t)nruns, sizeof *rows);
  char(*text)[4][600] = calloc((size_t)nruns, sizeof *text);
  char(*art)[4200] = calloc((size_t)nruns, sizeof *art);
  a2i2a_status st = rows && text && art ? A2I2A_OK : fail(A2I2A_ERR_NOMEM, "out of memory");
  for (int r = 0; r < nruns && !st; r++) {
    const a2i2a_run_params *q = &runs[r].q;
    const char *sub = strrchr(runs[r].dir, '/') ? strrchr(runs[r].dir, '/') + 1 : runs[r].dir;
    const char *in = cli_dash(inputs[runs[r].input]) ? "stdin" : inputs[runs[r].input];
    snprintf(art[r], sizeof art[r], "%s/art.png", runs[r].dir);
    snprintf(text[r][0], sizeof text[r][0], "%s", sub);
    snprintf(text[r][1], sizeof text[r][1], "seed %llu  %d steps  strength %g", (unsigned long long)q->i2i.seed,
             q->i2i.steps, q->i2i.strength);
    snprintf(text[r][2], sizeof text[r][2], "\"%s\"", q->i2i.prompt ? q->i2i.prompt : "");
    snprintf(text[r][3], sizeof text[r][3], "%s", strrchr(in, '/') ? strrchr(in, '/') + 1 : in);
    rows[r].art = art[r];
    for (int k = 0; k < 4; k++) rows[r].lines[k] = text[r][k];
  }
  char title[1024], path[4200];
  image_u8 sheet = {0};
  snprintf(title, sizeof title, "%d runs  preset %s  %s", nruns, runs[0].q.preset ? runs[0].q.preset : "none", model);
  snprintf(path, sizeof path, "%s/index.png", outdir);
  if (!st) st = chain_index(title, rows, nruns, &sheet);
  if (!st) st = png_write(path, &sheet, NULL, force);
  image_free(&sheet);
  free(rows), free(text), free(art);
  return st;
}

static int replay(const run_ctx *c, const cli_args *a, int argc, char **argv, const a2i2a_run_params *p,
                  double t_start) {
  const char *C = "run";
  /* the run is redone as RUN.JSON records it: an option that would change it cannot apply */
  const cli_option *o = cli_given_without(&cli_run, a, CLI_REPLAY);
  if (o) return cli_usage_error(C, "--%s cannot be used with --replay (RUN.JSON's values are used)", o->name);
  if (argc - a->operand > 1) return cli_usage_error(C, "--replay takes at most one INPUT (to override the recorded one)");
  const char *input = a->operand < argc ? argv[a->operand] : NULL;
  cli_temp spool = {0};
  struct stat sb;
  int made = stat(c->outdir, &sb) != 0, rc;
  if (cli_dash(input)) {
    if (made && make_output_dir(c->outdir)) return cli_fail(A2I2A_ERR_IO);
    if ((rc = cli_stdin_to_file(C, &spool, c->outdir))) return made ? rmdir(c->outdir), rc : rc;
  }
  a2i2a_job *job = cli_job_new(a->progress);
  a2i2a_status st = chain_replay_named(c->replay, spool.path[0] ? spool.path : input, spool.path[0] ? "-" : NULL,
                                       cli_given(&cli_run, a, "model") ? p->model : NULL, c->outdir, a->force, job);
  if (c->timings) print_timings(job, 0, now_seconds() - t_start);
  cli_job_done(job);
  rc = st ? cli_fail_as(st, &spool, "stdin") : EXIT_OK;
  cli_temp_remove(&spool);
  if (st && made) rmdir(c->outdir);
  if (!st && a->progress != CLI_QUIET) fprintf(stderr, "a2i2a run: %s reproduced in %s, byte for byte\n", c->replay, c->outdir);
  return rc;
}

int cmd_run(int argc, char **argv) {
  const char *C = "run";
  a2i2a_run_params p, dflt;
  a2i2a_run_preset(NULL, &p);
  dflt = p;
  run_ctx c = {.p = &p};
  cli_args a;
  int rc = cli_parse(&cli_run, argc, argv, &p, &dflt, &a, handle, &c);
  if (rc != CLI_CONTINUE) return rc;
  if (!c.outdir) return cli_usage_error(C, "no output folder (-o OUTDIR)");
  if (cli_dash(c.outdir)) return cli_usage_error(C, "-o -: run writes a folder of files, not one stream (give OUTDIR)");
  a2i2a_set_threads(a.threads);
  cli_verbose(a.verbose);
  double t_start = now_seconds();
  /* the model: --model, else $A2I2A_MODEL (as i2i), else the preset's */
  const char *env_model = getenv("A2I2A_MODEL");
  if (!cli_given(&cli_run, &a, "model") && env_model && *env_model) p.model = env_model;
  if (c.replay) return replay(&c, &a, argc, argv, &p, t_start);

  if (a.operand >= argc) return cli_usage_error(C, "no INPUT sound");
  if ((rc = cli_check_params(&cli_run, &p))) return rc;
  char **inputs = argv + a.operand;
  int ninputs = argc - a.operand, stdin_input = -1;
  for (int i = 0; i < ninputs; i++) {
    if (!cli_dash(inputs[i])) continue;
    if (stdin_input >= 0) return cli_usage_error(C, "stdin (-) can be read once, not twice");
    stdin_input = i;
  }
  const char **prompts = c.prompts;
  uint64_t *seeds = c.seeds;
  int nprompts = c.nprompts, nseeds = c.nseeds;
  if (!nprompts) prompts[nprompts++] = p.i2i.prompt;
  if (c.variations) {
    if (nseeds) return cli_usage_error(C, "--seeds and --variations cannot be combined");
    for (long i = 0; i < c.variations; i++) seeds[nseeds++] = p.i2i.seed + (uint64_t)i;
  } else if (!nseeds) {
    seeds[nseeds++] = p.i2i.seed;
  } else if (cli_given(&cli_run, &a, "seed")) {
    return cli_usage_error(C, "--seed and --seeds cannot be combined");
  }
  /* every input must be a readable sound before the model is loaded */
  for (int i = 0; i < ninputs; i++) {
    int64_t frames;
    double rate;
    int channels;
    a2i2a_status st = i == stdin_input ? A2I2A_OK : audio_probe(inputs[i], &frames, &rate, &channels);
    if (st) return cli_fail(st);
  }

  /* stdin: kept in a private file in OUTDIR while the runs read it */
  struct stat sb;
  int made_outdir = stat(c.outdir, &sb) != 0, nruns = ninputs * nprompts * nseeds;
  cli_temp spool = {0};
  a2i2a_status st = A2I2A_OK;
  /* a batch's index: not over an earlier one without --force */
  char index[4200];
  snprintf(index, sizeof index, "%s/index.png", c.outdir);
  if (nruns > 1 && !made_outdir && (st = outfile_check(index, a.force))) return cli_fail(st);
  if ((stdin_input >= 0 || nruns > 1) && (st = make_output_dir(c.outdir))) return cli_fail(st);
  if (stdin_input >= 0 && (rc = cli_stdin_to_file(C, &spool, c.outdir))) {
    if (made_outdir) rmdir(c.outdir);
    return rc;
  }
  a2i2a_model *model = NULL;
  double t_load = now_seconds();
  a2i2a_job *job = cli_job_new(a.progress);
  run_one *runs = calloc((size_t)nruns, sizeof *runs);
  if (!job || !runs) st = fail(A2I2A_ERR_NOMEM, "out of memory");
  if (!st) st = a2i2a_model_open(p.model, &model);
  if (!st) cli_describe_model(model);
  double load_seconds = now_seconds() - t_load;
  int n = 0;
  for (int i = 0; i < ninputs && !st; i++)
    for (int k = 0; k < nprompts; k++)
      for (int s = 0; s < nseeds; s++, n++) {
        runs[n].input = i;
        runs[n].q = p;
        runs[n].q.i2i.prompt = prompts[k];
        runs[n].q.i2i.seed = runs[n].q.i2a.seed = seeds[s];
        if (nruns > 1) batch_dir(runs[n].dir, sizeof runs[n].dir, c.outdir, inputs, ninputs, i, nprompts, k, nseeds, seeds[s]);
        else snprintf(runs[n].dir, sizeof runs[n].dir, "%s", c.outdir);
      }
  /* every run's checks before the first one's work */
  for (int r = 0; r < nruns && !st; r++) {
    const char *in = runs[r].input == stdin_input ? spool.path : inputs[runs[r].input];
    st = chain_preflight(model, in, runs[r].dir, &runs[r].q, a.force);
  }
  int done = 0;
  for (; done < nruns && !st; done++) {
    int std_in = runs[done].input == stdin_input;
    if (nruns > 1) fprintf(stderr, "a2i2a run: %d/%d -> %s\n", done + 1, nruns, runs[done].dir);
    st = chain_run_named(model, std_in ? spool.path : inputs[runs[done].input], std_in ? "-" : NULL, runs[done].dir,
                         &runs[done].q, a.force, job);
  }
  if (!st && nruns > 1) {
    st = write_index(c.outdir, runs, nruns, inputs, a2i2a_model_name(model), a.force);
  }
  a2i2a_model_close(model);
  if (c.timings && job) print_timings(job, load_seconds, now_seconds() - t_start);
  if (job) cli_job_done(job);
  rc = st ? cli_fail_as(st, &spool, "stdin") : EXIT_OK;
  cli_temp_remove(&spool);
  if (st && made_outdir) rmdir(c.outdir); /* only if nothing is in it */
  free(runs);
  if (!st && nruns > 1 && a.progress != CLI_QUIET)
    fprintf(stderr, "a2i2a run: wrote %d runs in %s (see index.png)\n", nruns, c.outdir);
  if (!st && nruns == 1 && a.progress != CLI_QUIET) fprintf(stderr, "a2i2a run: wrote %s (see sheet.png, run.json)\n", c.outdir);
  return rc;
}
