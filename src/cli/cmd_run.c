/* a2i2a run: the whole chain, several inputs, prompts or seeds in one call, or a replay. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "chain/chain.h"
#include "chain/params.h"
#include "cli/cli.h"
#include "common/err.h"
#include "common/outfile.h"
#include "common/job.h"
#include "common/sha256.h"

enum { O_OUTPUT = 1, O_PRESET, O_TIMINGS, O_REPLAY, O_PROMPT, O_PROMPT_PRESET, O_SEEDS, O_VARIATIONS };

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
    {.name = "model", .letter = 'm', .arg = "M", .param = "model.name", .flags = CLI_PATH | CLI_REPLAY},
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
    {.name = "seed", .arg = "N", .param = "i2i.seed", .help = "seed of the painting and the readings"},
    {.name = "seeds", .arg = "A,B,...", .id = O_SEEDS, .help = "several seeds, one run each"},
    {.name = "variations", .arg = "N", .id = O_VARIATIONS, .help = "N runs with seeds SEED, SEED+1, ..."},
    {.heading = "sounds (i2a):"},
    {.name = "readings", .arg = "LIST", .param = "i2a.readings"},
    {.name = "gl-iters", .arg = "N", .param = "i2a.gl_iters"},
    {.name = "bits", .arg = "N", .param = "i2a.bits"},
    {.name = "vocoder", .arg = "PATH", .param = "i2a.vocoder", .flags = CLI_PATH,
     .help = "the vocoder reading's Vocos or HiFi-GAN: a folder, or ORG/NAME from 'a2i2a models pull'"},
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
             "(everything needed to redo the run). Several inputs, prompts or seeds: one sub-folder per\n"
             "run, the model loaded once. The defaults are the seed preset's; 'a2i2a presets' lists the\n"
             "presets; any option overrides them.\n",
    .listing_title = "presets (--preset):",
    .listing = &chain_preset_registry,
    .footer = "exit status: 0 success, 1 runtime failure, 2 usage error\n",
    .options = options,
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
  case O_VARIATIONS:
    if (cli_int("run", "--variations", v, 1, MAX_LIST, &c->variations)) return EXIT_USAGE;
    break;
  }
  return 0;
}
/* ORG/NAME rather than a path: what `a2i2a models pull` downloads. */
static int looks_like_repo(const char *m) {
  struct stat sb;
  if (stat(m, &sb) == 0 || m[0] == '/' || m[0] == '.') return 0;
  const char *s = strchr(m, '/');
  return s && s != m && s[1] && !strchr(s + 1, '/');
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
  a2i2a_set_threads(a.threads);
  double t_start = now_seconds();

  if (c.replay) {
    /* the run is redone as RUN.JSON records it: an option that would change it cannot apply */
    const cli_option *o = cli_given_without(&cli_run, &a, CLI_REPLAY);
    if (o) return cli_usage_error(C, "--%s cannot be used with --replay (RUN.JSON's values are used)", o->name);
    if (argc - a.operand > 1) return cli_usage_error(C, "--replay takes at most one INPUT (to override the recorded one)");
    a2i2a_job *job = cli_job_new(a.progress);
    a2i2a_status st = a2i2a_run_replay(c.replay, a.operand < argc ? argv[a.operand] : NULL,
                                       cli_given(&cli_run, &a, "model") ? p.model : NULL, c.outdir, a.force, job);
    if (c.timings) print_timings(job, 0, now_seconds() - t_start);
    cli_job_done(job);
    if (st) return cli_fail(st);
    fprintf(stderr, "a2i2a run: %s reproduced in %s, byte for byte\n", c.replay, c.outdir);
    return EXIT_OK;
  }
  if (a.operand >= argc) return cli_usage_error(C, "no INPUT sound");
  if ((rc = cli_check_params(&cli_run, &p))) return rc;
  int ninputs = argc - a.operand;
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
  /* every input must be readable before the model is loaded */
  char (*in_hex)[65] = calloc((size_t)ninputs, sizeof *in_hex);
  if (!in_hex) return cli_fail(fail(A2I2A_ERR_NOMEM, "out of memory"));
  for (int i = 0; i < ninputs; i++) {
    a2i2a_status st = sha256_file(argv[a.operand + i], in_hex[i]);
    if (st) return free(in_hex), cli_fail(st);
  }

  a2i2a_model *model = NULL;
  double t_load = now_seconds();
  a2i2a_job *job = cli_job_new(a.progress);
  if (!job) return free(in_hex), cli_fail(A2I2A_ERR_NOMEM);
  a2i2a_status st = a2i2a_model_open(p.model, &model);
  double load_seconds = now_seconds() - t_load;
  if (st) {
    cli_job_done(job);
    free(in_hex);
    if (looks_like_repo(p.model)) {
      fprintf(stderr,
              "a2i2a: model %s is not available locally (%s); get it with 'a2i2a models pull %s', or pass "
              "--model PATH to a diffusers folder or a .safetensors file\n",
              p.model, a2i2a_last_error(), p.model);
      return EXIT_RUNTIME;
    }
    return cli_fail(st);
  }
  int nruns = ninputs * nprompts * nseeds, done = 0;
  for (int i = 0; i < ninputs && !st; i++)
    for (int k = 0; k < nprompts && !st; k++)
      for (int s = 0; s < nseeds && !st; s++) {
        a2i2a_run_params q = p;
        q.i2i.prompt = prompts[k];
        q.i2i.seed = q.i2a.seed = seeds[s];
        char dir[4096], sub[1024] = "", stem[256];
        if (nruns > 1) {
          if (ninputs > 1) {
            /* two inputs with the same name get their position too */
            int same = 0;
            for (int j = 0; j < ninputs; j++) {
              char other[256];
              same += !strcmp(stem_of(argv[a.operand + j], other, sizeof other), stem_of(argv[a.operand + i], stem, sizeof stem));
            }
            if (same > 1) snprintf(sub, sizeof sub, "%d-%s", i + 1, stem);
            else snprintf(sub, sizeof sub, "%s", stem);
          }
          size_t n = strlen(sub);
          if (nprompts > 1) n += snprintf(sub + n, sizeof sub - n, "%sp%d", n ? "_" : "", k + 1);
          if (nseeds > 1) snprintf(sub + n, sizeof sub - n, "%sseed%llu", n ? "_" : "", (unsigned long long)seeds[s]);
          snprintf(dir, sizeof dir, "%s/%s", c.outdir, sub);
          if (!done && (st = make_output_dir(c.outdir))) break;
        } else {
          snprintf(dir, sizeof dir, "%s", c.outdir);
        }
        if (nruns > 1) fprintf(stderr, "a2i2a run: %d/%d -> %s\n", done + 1, nruns, dir);
        st = a2i2a_run(model, argv[a.operand + i], dir, &q, a.force, job);
        done++;
      }
  a2i2a_model_close(model);
  free(in_hex);
  if (c.timings) print_timings(job, load_seconds, now_seconds() - t_start);
  cli_job_done(job);
  if (st) return cli_fail(st);
  if (nruns == 1) fprintf(stderr, "a2i2a run: wrote %s (see sheet.png, run.json)\n", c.outdir);
  return EXIT_OK;
}
