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
#include "cli/cli_chain.h"
#include "common/err.h"
#include "common/outfile.h"
#include "common/job.h"
#include "audio/audio.h"

enum { O_OUTPUT = 1, O_PRESET, O_TIMINGS, O_REPLAY, O_LORA, O_LORA_DIR, O_PREVIEW, O_PREVIEW_TAESD };


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
    CLI_OPTS_CHAIN,
    CLI_OPTS_PREVIEW(O_PREVIEW, O_PREVIEW_TAESD),
    {.heading = "LoRA (painting):"},
    CLI_OPTS_LORA(O_LORA, O_LORA_DIR),
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
    .footer = "exit status: 0 success, 1 runtime failure, 2 usage error, 130 or 143\n"
              "interrupted by SIGINT (Ctrl-C) or SIGTERM (nothing left behind)\n",
    .options = options,
    .defaults = run_defaults,
};

typedef struct {
  a2i2a_run_params *p;
  const char *outdir, *replay, *preview, *preview_taesd;
  int timings;
  cli_cross cross;
  cli_loras *loras;
} run_ctx;

static int handle(void *ctx, int id, const char *v) {
  run_ctx *c = ctx;
  switch (id) {
  case O_OUTPUT: c->outdir = v; break;
  case O_PRESET: a2i2a_run_preset(v, c->p); break; /* applied first: the other options override it */
  case O_TIMINGS: c->timings = 1; break;
  case O_REPLAY: c->replay = v; break;
  case O_PREVIEW: c->preview = v; break;
  case O_PREVIEW_TAESD: c->preview_taesd = v; break;
  case O_LORA:
  case O_LORA_DIR: return cli_lora_option("run", c->loras, id == O_LORA_DIR, v);
  default: return cli_cross_option("run", &c->cross, c->p, id, v);
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
  a2i2a_lora loras[CLI_MAX_LORAS]; /* --lora's and the prompt's tags */
  int nloras;
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

static int run_cmd(int argc, char **argv, cli_loras *loras);

int cmd_run(int argc, char **argv) {
  cli_loras loras = {0};
  int rc = run_cmd(argc, argv, &loras);
  cli_lora_free(&loras);
  return rc;
}

static int run_cmd(int argc, char **argv, cli_loras *loras) {
  const char *C = "run";
  a2i2a_run_params p, dflt;
  a2i2a_run_preset(NULL, &p);
  dflt = p;
  run_ctx c = {.p = &p, .loras = loras};
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
  if ((rc = cli_preview_check(C, c.preview, c.preview_taesd, a.force))) return rc;
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
  if ((rc = cli_cross_finish(C, &cli_run, &a, &p, &c.cross))) return rc;
  if ((rc = cli_lora_no_travel(C, &p.i2i))) return rc;
  const char **prompts = c.cross.prompts;
  uint64_t *seeds = c.cross.seeds;
  int nprompts = c.cross.nprompts, nseeds = c.cross.nseeds;
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
        if (!rc) rc = cli_lora_list(C, c.loras, p.model, &runs[n].q.i2i.prompt, runs[n].loras, &runs[n].nloras);
        runs[n].q.i2i.seed = runs[n].q.i2a.seed = seeds[s];
        if (nruns > 1) batch_dir(runs[n].dir, sizeof runs[n].dir, c.outdir, inputs, ninputs, i, nprompts, k, nseeds, seeds[s]);
        else snprintf(runs[n].dir, sizeof runs[n].dir, "%s", c.outdir);
      }
  if (rc) st = A2I2A_ERR_PARAM; /* a LoRA tag's line is out */
  /* every run's checks before the first one's work */
  for (int r = 0; r < nruns && !st; r++) {
    const char *in = runs[r].input == stdin_input ? spool.path : inputs[runs[r].input];
    st = chain_preflight(model, in, runs[r].dir, &runs[r].q, a.force);
    /* a LoRA that does not fit is refused now (the same list again merges nothing) */
    if (!st) st = a2i2a_model_set_loras(model, runs[r].loras, runs[r].nloras, job);
  }
  int done = 0;
  for (; done < nruns && !st; done++) {
    int std_in = runs[done].input == stdin_input;
    if (nruns > 1) fprintf(stderr, "a2i2a run: %d/%d -> %s\n", done + 1, nruns, runs[done].dir);
    st = a2i2a_model_set_loras(model, runs[done].loras, runs[done].nloras, job);
    if (!st)
      st = chain_run_named(model, std_in ? spool.path : inputs[runs[done].input], std_in ? "-" : NULL, runs[done].dir,
                           &runs[done].q, a.force, job);
  }
  if (!st && nruns > 1) {
    st = write_index(c.outdir, runs, nruns, inputs, a2i2a_model_name(model), a.force);
  }
  a2i2a_model_close(model);
  if (c.timings && job) print_timings(job, load_seconds, now_seconds() - t_start);
  if (job) cli_job_done(job);
  if (!rc) rc = st ? cli_fail_as(st, &spool, "stdin") : EXIT_OK;
  cli_temp_remove(&spool);
  if (st && made_outdir) rmdir(c.outdir); /* only if nothing is in it */
  free(runs);
  if (!st && nruns > 1 && a.progress != CLI_QUIET)
    fprintf(stderr, "a2i2a run: wrote %d runs in %s (see index.png)\n", nruns, c.outdir);
  if (!st && nruns == 1 && a.progress != CLI_QUIET) fprintf(stderr, "a2i2a run: wrote %s (see sheet.png, run.json)\n", c.outdir);
  return rc;
}
