#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "chain/chain.h"
#include "cli/cli.h"
#include "common/err.h"
#include "common/outfile.h"
#include "common/job.h"
#include "common/sha256.h"
#include "sd/scheduler.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: a2i2a run INPUT... -o OUTDIR [--preset NAME] [options]\n"
          "       a2i2a run --replay RUN.JSON -o OUTDIR [INPUT] [--model M] [--force]\n\n"
          "The whole chain: each INPUT sound becomes a spectrogram (a2i), Stable Diffusion repaints\n"
          "it (i2i), and the painting is read back as sounds (i2a). OUTDIR receives spectrogram.png,\n"
          "art.png, READING.wav for each reading, sheet.png (a contact sheet of it all) and run.json\n"
          "(everything needed to redo the run). Several inputs, prompts or seeds: one sub-folder per\n"
          "run, the model loaded once. 'a2i2a presets' lists the presets; any option overrides them.\n\n"
          "  -o, --output DIR        output folder (created if missing)\n"
          "  --preset NAME           seed (default), riffusion, turbo\n"
          "  --force                 replace existing outputs\n"
          "  --threads N             threads for the kernels (default: physical cores)\n"
          "  --no-sheet              do not write sheet.png\n"
          "  --timings               print the wall time of each stage on stderr\n"
          "  --replay RUN.JSON       run again what RUN.JSON records and check that the outputs are\n"
          "                          byte-identical (INPUT and --model override the recorded paths;\n"
          "                          their SHA-256 must match)\n\n"
          "spectrogram (a2i):\n"
          "  --style NAME            spectrogram style (preset; seed: seed)\n"
          "  --colormap NAME         colour map of our styles (style's default)\n"
          "  --stereo                keep channels apart (styles that support it)\n"
          "  --db-range DB           dynamic range shown (style's default)\n"
          "  --fmin HZ, --fmax HZ    frequency axis (style's default)\n"
          "  --spec-width N, --spec-height N   image size (style's default)\n"
          "  --max-seconds S         longest input for styles that grow with duration\n"
          "  --clip S                split into clips of S seconds, crossfade-stitch the sounds\n"
          "                          (preset; riffusion: 5.11, seed/turbo: 0 = whole input)\n"
          "  --overlap S             overlap and crossfade between clips (preset; riffusion: 0.2)\n\n"
          "painting (i2i):\n"
          "  --model M               diffusers folder, .safetensors file, or ORG/NAME in the Hugging\n"
          "                          Face cache (preset; seed: stable-diffusion-v1-5/stable-diffusion-v1-5)\n"
          "  --prompt TEXT           a prompt of your own (repeat for several)\n"
          "  --prompt-preset NAME    a named abstract prompt (repeat for several; preset: notebook)\n"
          "  --negative TEXT         negative prompt (preset)\n"
          "  --strength X            img2img strength in [0, 1] (preset; seed: 0.9)\n"
          "  --guidance X            classifier-free guidance (preset; seed: 2.5)\n"
          "  --steps N               sampler steps (preset; seed: 50)\n"
          "  --sampler NAME          pndm, ddim, euler, euler-a, lms, dpm++2m, dpm++2m-karras, lcm (preset)\n"
          "  --spacing NAME          timestep spacing (sampler's diffusers default)\n"
          "  --clip-skip N           text encoder layers to skip (0 = none)\n"
          "  --prediction P          epsilon or v: what the model predicts (default: its config; a\n"
          "                          single SD 2.x file: v; SD 2.x-base/SD-Turbo files need epsilon)\n"
          "  --seed N                seed of the painting and the readings (preset: 1234)\n"
          "  --seeds A,B,...         several seeds, one run each\n"
          "  --variations N          N runs with seeds SEED, SEED+1, ...\n\n"
          "sounds (i2a):\n"
          "  --readings LIST         comma-separated readings, or all (preset; seed: all)\n"
          "  --gl-iters N            Griffin-Lim iterations (reading's default)\n"
          "  --bits N                32 (float, default), 24 or 16 (dithered PCM)\n"
          "  -h, --help              this help\n\n"
          "exit status: 0 success, 1 runtime failure, 2 usage error\n");
}

enum {
  O_PRESET = 256, O_FORCE, O_THREADS, O_NOSHEET, O_REPLAY, O_STYLE, O_COLORMAP, O_STEREO, O_DBRANGE, O_FMIN, O_FMAX,
  O_SPECW, O_SPECH, O_MAXSEC, O_CLIP, O_OVERLAP, O_MODEL, O_PROMPT, O_PPRESET, O_NEG, O_STRENGTH, O_GUIDANCE, O_STEPS,
  O_SAMPLER, O_SPACING, O_CLIPSKIP, O_SEED, O_SEEDS, O_VARIATIONS, O_READINGS, O_GLITERS, O_BITS, O_TIMINGS, O_PRED
};

enum { MAX_LIST = 256 };

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
  static const struct option opts[] = {
      {"output", required_argument, 0, 'o'},       {"preset", required_argument, 0, O_PRESET},
      {"force", no_argument, 0, O_FORCE},          {"threads", required_argument, 0, O_THREADS},
      {"no-sheet", no_argument, 0, O_NOSHEET},     {"timings", no_argument, 0, O_TIMINGS},     {"replay", required_argument, 0, O_REPLAY},
      {"style", required_argument, 0, O_STYLE},    {"colormap", required_argument, 0, O_COLORMAP},
      {"stereo", no_argument, 0, O_STEREO},        {"db-range", required_argument, 0, O_DBRANGE},
      {"fmin", required_argument, 0, O_FMIN},      {"fmax", required_argument, 0, O_FMAX},
      {"spec-width", required_argument, 0, O_SPECW}, {"spec-height", required_argument, 0, O_SPECH},
      {"max-seconds", required_argument, 0, O_MAXSEC}, {"clip", required_argument, 0, O_CLIP},
      {"overlap", required_argument, 0, O_OVERLAP}, {"model", required_argument, 0, O_MODEL},
      {"prompt", required_argument, 0, O_PROMPT},  {"prompt-preset", required_argument, 0, O_PPRESET},
      {"negative", required_argument, 0, O_NEG},   {"strength", required_argument, 0, O_STRENGTH},
      {"guidance", required_argument, 0, O_GUIDANCE}, {"steps", required_argument, 0, O_STEPS},
      {"sampler", required_argument, 0, O_SAMPLER}, {"spacing", required_argument, 0, O_SPACING},
      {"clip-skip", required_argument, 0, O_CLIPSKIP}, {"seed", required_argument, 0, O_SEED},
      {"prediction", required_argument, 0, O_PRED},
      {"seeds", required_argument, 0, O_SEEDS},    {"variations", required_argument, 0, O_VARIATIONS},
      {"readings", required_argument, 0, O_READINGS}, {"gl-iters", required_argument, 0, O_GLITERS},
      {"bits", required_argument, 0, O_BITS},      {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  const char *C = "run";
  /* first pass: the preset, so that every other option overrides it whatever the order */
  const char *preset = "seed";
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1)
    if (c == O_PRESET) preset = optarg;
  opterr = 1;
  a2i2a_run_params p;
  if (a2i2a_run_preset(preset, &p)) return cli_usage_error(C, "--preset: unknown preset '%s' (see 'a2i2a presets')", preset);

  const char *outdir = NULL, *replay = NULL, *prompts[MAX_LIST];
  int nprompts = 0, force = 0, seed_given = 0, timings = 0;
  long threads = 0, variations = 0, l;
  uint64_t seeds[MAX_LIST];
  int nseeds = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
    switch (c) {
    case 'h': usage(stdout); return EXIT_OK;
    case 'o': outdir = optarg; break;
    case O_PRESET: break;
    case O_FORCE: force = 1; break;
    case O_THREADS: if (cli_int(C, "--threads", optarg, 1, 1024, &threads)) return EXIT_USAGE; break;
    case O_NOSHEET: p.sheet = 0; break;
    case O_TIMINGS: timings = 1; break;
    case O_REPLAY: replay = optarg; break;
    case O_STYLE: p.a2i.style = optarg; break;
    case O_COLORMAP: p.a2i.colormap = optarg; break;
    case O_STEREO: p.a2i.stereo = 1; break;
    case O_DBRANGE: if (cli_double(C, "--db-range", optarg, 1, 300, &p.a2i.db_range)) return EXIT_USAGE; break;
    case O_FMIN: if (cli_double(C, "--fmin", optarg, 0, 1e6, &p.a2i.fmin)) return EXIT_USAGE; break;
    case O_FMAX: if (cli_double(C, "--fmax", optarg, 0, 1e6, &p.a2i.fmax)) return EXIT_USAGE; break;
    case O_SPECW: if (cli_int(C, "--spec-width", optarg, 8, 65536, &l)) return EXIT_USAGE; p.a2i.width = (int)l; break;
    case O_SPECH: if (cli_int(C, "--spec-height", optarg, 8, 65536, &l)) return EXIT_USAGE; p.a2i.height = (int)l; break;
    case O_MAXSEC: if (cli_double(C, "--max-seconds", optarg, 0, 1e7, &p.a2i.max_seconds)) return EXIT_USAGE; break;
    case O_CLIP: if (cli_double(C, "--clip", optarg, 0, 3600, &p.clip_seconds)) return EXIT_USAGE; break;
    case O_OVERLAP: if (cli_double(C, "--overlap", optarg, 0, 1800, &p.overlap_seconds)) return EXIT_USAGE; break;
    case O_MODEL: p.model = optarg; break;
    case O_PROMPT:
    case O_PPRESET:
      if (nprompts == MAX_LIST) return cli_usage_error(C, "at most %d prompts", MAX_LIST);
      if (c == O_PPRESET) {
        const chain_prompt *pp = chain_prompt_find(optarg);
        if (!pp) return cli_usage_error(C, "--prompt-preset: unknown prompt '%s' (see 'a2i2a presets')", optarg);
        prompts[nprompts++] = pp->text;
      } else {
        prompts[nprompts++] = optarg;
      }
      break;
    case O_NEG: p.i2i.negative_prompt = optarg; break;
    case O_STRENGTH: if (cli_double(C, "--strength", optarg, 0, 1, &p.i2i.strength)) return EXIT_USAGE; break;
    case O_GUIDANCE: if (cli_double(C, "--guidance", optarg, 0, 100, &p.i2i.guidance)) return EXIT_USAGE; break;
    case O_STEPS: if (cli_int(C, "--steps", optarg, 1, 1000, &l)) return EXIT_USAGE; p.i2i.steps = (int)l; break;
    case O_SAMPLER: p.i2i.sampler = optarg; break;
    case O_SPACING: p.i2i.spacing = optarg; break;
    case O_CLIPSKIP: if (cli_int(C, "--clip-skip", optarg, 0, 11, &l)) return EXIT_USAGE; p.i2i.clip_skip = (int)l; break;
    case O_PRED:
      if (sched_parse_prediction(optarg, NULL))
        return cli_usage_error(C, "--prediction: '%s' is not epsilon or v", optarg);
      p.i2i.prediction = optarg;
      break;
    case O_SEED:
      if (cli_u64(C, "--seed", optarg, &p.i2i.seed)) return EXIT_USAGE;
      seed_given = 1;
      break;
    case O_SEEDS: {
      char buf[4096];
      snprintf(buf, sizeof buf, "%s", optarg);
      for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (nseeds == MAX_LIST) return cli_usage_error(C, "--seeds: at most %d seeds", MAX_LIST);
        if (cli_u64(C, "--seeds", t, &seeds[nseeds++])) return EXIT_USAGE;
      }
      if (!nseeds) return cli_usage_error(C, "--seeds: no seed in '%s'", optarg);
      break;
    }
    case O_VARIATIONS: if (cli_int(C, "--variations", optarg, 1, MAX_LIST, &variations)) return EXIT_USAGE; break;
    case O_READINGS: p.readings = optarg; break;
    case O_GLITERS: if (cli_int(C, "--gl-iters", optarg, 1, 10000, &l)) return EXIT_USAGE; p.i2a.gl_iters = (int)l; break;
    case O_BITS:
      if (cli_int(C, "--bits", optarg, 16, 32, &l) || (l != 16 && l != 24 && l != 32))
        return cli_usage_error(C, "--bits: 16, 24 or 32");
      p.i2a.bits = (int)l;
      break;
    default: return cli_usage_error(C, "unknown option");
    }
  }
  if (!outdir) return cli_usage_error(C, "no output folder (-o OUTDIR)");
  a2i2a_set_threads((int)threads);
  double t_start = now_seconds();

  if (replay) {
    if (argc - optind > 1) return cli_usage_error(C, "--replay takes at most one INPUT (to override the recorded one)");
    int model_given = 0;
    for (int i = 1; i < argc; i++) model_given |= !strcmp(argv[i], "--model") || !strncmp(argv[i], "--model=", 8);
    a2i2a_job *job = cli_job_new(0);
    a2i2a_status st = a2i2a_run_replay(replay, optind < argc ? argv[optind] : NULL, model_given ? p.model : NULL,
                                       outdir, force, job);
    if (timings) print_timings(job, 0, now_seconds() - t_start);
    cli_job_done(job);
    if (st) return cli_fail(st);
    fprintf(stderr, "a2i2a run: %s reproduced in %s, byte for byte\n", replay, outdir);
    return EXIT_OK;
  }
  if (optind >= argc) return cli_usage_error(C, "no INPUT sound");
  int ninputs = argc - optind;
  if (!nprompts) prompts[nprompts++] = p.i2i.prompt;
  if (variations) {
    if (nseeds) return cli_usage_error(C, "--seeds and --variations cannot be combined");
    for (long i = 0; i < variations; i++) seeds[nseeds++] = p.i2i.seed + (uint64_t)i;
  } else if (!nseeds) {
    seeds[nseeds++] = p.i2i.seed;
  } else if (seed_given) {
    return cli_usage_error(C, "--seed and --seeds cannot be combined");
  }
  /* every input must be readable before the model is loaded */
  char (*in_hex)[65] = calloc((size_t)ninputs, sizeof *in_hex);
  if (!in_hex) return cli_fail(fail(A2I2A_ERR_NOMEM, "out of memory"));
  for (int i = 0; i < ninputs; i++) {
    a2i2a_status st = sha256_file(argv[optind + i], in_hex[i]);
    if (st) return free(in_hex), cli_fail(st);
  }

  a2i2a_model *model = NULL;
  double t_load = now_seconds();
  a2i2a_job *job = cli_job_new(0);
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
              same += !strcmp(stem_of(argv[optind + j], other, sizeof other), stem_of(argv[optind + i], stem, sizeof stem));
            }
            if (same > 1) snprintf(sub, sizeof sub, "%d-%s", i + 1, stem);
            else snprintf(sub, sizeof sub, "%s", stem);
          }
          size_t n = strlen(sub);
          if (nprompts > 1) n += snprintf(sub + n, sizeof sub - n, "%sp%d", n ? "_" : "", k + 1);
          if (nseeds > 1) snprintf(sub + n, sizeof sub - n, "%sseed%llu", n ? "_" : "", (unsigned long long)seeds[s]);
          snprintf(dir, sizeof dir, "%s/%s", outdir, sub);
          if (!done && (st = make_output_dir(outdir))) break;
        } else {
          snprintf(dir, sizeof dir, "%s", outdir);
        }
        if (nruns > 1) fprintf(stderr, "a2i2a run: %d/%d -> %s\n", done + 1, nruns, dir);
        st = a2i2a_run(model, argv[optind + i], dir, &q, force, job);
        done++;
      }
  a2i2a_model_close(model);
  free(in_hex);
  if (timings) print_timings(job, load_seconds, now_seconds() - t_start);
  cli_job_done(job);
  if (st) return cli_fail(st);
  if (nruns == 1) fprintf(stderr, "a2i2a run: wrote %s (see sheet.png, run.json)\n", outdir);
  return EXIT_OK;
}
