/* a2i2a i2i IMAGE -o ART.png --model M: Stable Diffusion img2img as diffusers runs it. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/registry.h"
#include "common/err.h"
#include "common/outfile.h"
#include "sd/scheduler.h"

static void usage(FILE *f) {
  a2i2a_i2i_params d = a2i2a_i2i_default_params();
  fprintf(f,
          "usage: a2i2a i2i IMAGE -o ART.png --model M [options]\n\n"
          "Repaints IMAGE (PNG or JPEG) with Stable Diffusion img2img, exactly as diffusers'\n"
          "StableDiffusionImg2ImgPipeline does on the CPU: the same seed gives the same picture.\n"
          "The PNG records every setting (Automatic1111 'parameters' text and an 'a2i2a' JSON chunk).\n\n"
          "  -o, --output FILE     the PNG to write (required)\n"
          "  -m, --model M         a diffusers folder, a single .safetensors checkpoint, or ORG/NAME in the\n"
          "                        Hugging Face cache (default: $A2I2A_MODEL; `a2i2a models pull` gets one)\n"
          "  -p, --prompt TEXT     (default: the notebook's prompt, \"%s\")\n"
          "  -n, --negative TEXT   negative prompt (default: \"%s\")\n"
          "  -s, --strength X      how much to change, 0..1 (default: %g)\n"
          "  -g, --guidance X      classifier-free guidance scale; <= 1 skips the unconditional pass,\n"
          "                        as SD-Turbo wants (default: %g)\n"
          "      --steps N         sampler steps before strength (default: %d); steps x strength >= 1\n"
          "      --sampler NAME    %s\n"
          "                        (default: %s; each built from the model's scheduler config as diffusers'\n"
          "                        from_config builds it)\n"
          "      --spacing S       timestep spacing: leading, linspace or trailing (default: the sampler's\n"
          "                        diffusers default; SD-Turbo: --sampler euler --spacing trailing)\n"
          "      --seed N          random seed, 0..2^64-1 (default: random, and printed)\n"
          "      --rng torch       the generator: PyTorch's CPU torch.randn (the only one, the default)\n"
          "      --clip-skip N     use the text encoder's N-th layer from the end (default: 1, the last)\n"
          "      --prediction P    what the model predicts, epsilon or v (default: its scheduler config;\n"
          "                        a single SD 2.x file: v, as diffusers assumes — SD 2.x-base and\n"
          "                        SD-Turbo files need epsilon)\n"
          "      --width N, --height N\n"
          "                        working size, rounded down to multiples of 8; one alone keeps the\n"
          "                        aspect ratio (default: the image's size rounded down to multiples of 8)\n"
          "      --threads N       threads (default: physical cores)\n"
          "  -f, --force           replace an existing output\n"
          "  -q, --quiet           no progress and no notes (default: a live line on a terminal)\n"
          "  -h, --help            this help\n\n"
          "exit status: 0 success, 1 runtime failure, 2 usage error\n",
          d.prompt, d.negative_prompt, d.strength, d.guidance, d.steps, registry_names(&sched_sampler_registry, (char[256]){0}, 256), d.sampler);
}

static uint64_t random_seed(void) {
  uint32_t s = 0;
  FILE *f = fopen("/dev/urandom", "rb");
  if (!f || fread(&s, sizeof s, 1, f) != 1) s = (uint32_t)time(NULL) ^ (uint32_t)getpid();
  if (f) fclose(f);
  return s; /* torch seeds MT19937 with the low 32 bits: larger seeds would only alias these */
}

int cmd_i2i(int argc, char **argv) {
  enum { O_STEPS = 256, O_SAMPLER, O_SPACING, O_SEED, O_RNG, O_CLIP, O_W, O_H, O_THREADS, O_PRED };
  static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                       {"model", required_argument, 0, 'm'},
                                       {"prompt", required_argument, 0, 'p'},
                                       {"negative", required_argument, 0, 'n'},
                                       {"strength", required_argument, 0, 's'},
                                       {"guidance", required_argument, 0, 'g'},
                                       {"steps", required_argument, 0, O_STEPS},
                                       {"sampler", required_argument, 0, O_SAMPLER},
                                       {"spacing", required_argument, 0, O_SPACING},
                                       {"seed", required_argument, 0, O_SEED},
                                       {"rng", required_argument, 0, O_RNG},
                                       {"clip-skip", required_argument, 0, O_CLIP},
                                       {"prediction", required_argument, 0, O_PRED},
                                       {"width", required_argument, 0, O_W},
                                       {"height", required_argument, 0, O_H},
                                       {"threads", required_argument, 0, O_THREADS},
                                       {"force", no_argument, 0, 'f'},
                                       {"quiet", no_argument, 0, 'q'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  a2i2a_i2i_params p = a2i2a_i2i_default_params();
  const char *out = NULL, *model = getenv("A2I2A_MODEL");
  int force = 0, quiet = 0, have_seed = 0, c;
  long v;
  optind = 1;
  while ((c = getopt_long(argc, argv, "o:m:p:n:s:g:fqh", opts, NULL)) != -1) {
    switch (c) {
    case 'h': usage(stdout); return EXIT_OK;
    case 'o': out = optarg; break;
    case 'm': model = optarg; break;
    case 'p': p.prompt = optarg; break;
    case 'n': p.negative_prompt = optarg; break;
    case 's':
      if (cli_double("i2i", "--strength", optarg, 0, 1, &p.strength)) return EXIT_USAGE;
      break;
    case 'g':
      if (cli_double("i2i", "--guidance", optarg, 0, 100, &p.guidance)) return EXIT_USAGE;
      break;
    case O_STEPS:
      if (cli_int("i2i", "--steps", optarg, 1, 1000, &v)) return EXIT_USAGE;
      p.steps = (int)v;
      break;
    case O_SAMPLER:
      if (!sched_class_of_sampler(optarg))
        return cli_usage_error("i2i", "--sampler: unknown sampler '%s' (one of: %s)", optarg, registry_names(&sched_sampler_registry, (char[256]){0}, 256));
      p.sampler = optarg;
      break;
    case O_SPACING: {
      sched_spacing sp;
      if (sched_parse_spacing(optarg, &sp) || sp == SPACING_DEFAULT)
        return cli_usage_error("i2i", "--spacing: '%s' is not leading, linspace or trailing", optarg);
      p.spacing = optarg;
      break;
    }
    case O_SEED:
      if (cli_u64("i2i", "--seed", optarg, &p.seed)) return EXIT_USAGE;
      have_seed = 1;
      break;
    case O_RNG:
      if (strcmp(optarg, "torch"))
        return cli_usage_error("i2i", "--rng: '%s' is not a generator here (torch is the only one)", optarg);
      break;
    case O_PRED:
      if (sched_parse_prediction(optarg, NULL))
        return cli_usage_error("i2i", "--prediction: '%s' is not epsilon or v", optarg);
      p.prediction = optarg;
      break;
    case O_CLIP:
      if (cli_int("i2i", "--clip-skip", optarg, 1, 12, &v)) return EXIT_USAGE;
      p.clip_skip = (int)v;
      break;
    case O_W:
      if (cli_int("i2i", "--width", optarg, 8, 8192, &v)) return EXIT_USAGE;
      p.width = (int)v;
      break;
    case O_H:
      if (cli_int("i2i", "--height", optarg, 8, 8192, &v)) return EXIT_USAGE;
      p.height = (int)v;
      break;
    case O_THREADS:
      if (cli_int("i2i", "--threads", optarg, 1, 1024, &v)) return EXIT_USAGE;
      a2i2a_set_threads((int)v);
      break;
    case 'f': force = 1; break;
    case 'q': quiet = 1; break;
    default: return cli_usage_error("i2i", "unknown option");
    }
  }
  if (optind != argc - 1) return cli_usage_error("i2i", optind < argc ? "expected one IMAGE" : "no IMAGE given");
  if (!out) return cli_usage_error("i2i", "no output given (-o ART.png)");
  const char *image = argv[optind];
  /* the cheap refusals first: an existing output, nothing to denoise */
  a2i2a_status st = outfile_check(out, force);
  if (st) return cli_fail(st);
  if (!have_seed) p.seed = random_seed();

  a2i2a_model *m = NULL;
  if ((st = a2i2a_model_open(model, &m))) return cli_fail(st);
  a2i2a_job *job = cli_job_new(quiet ? -1 : 0);
  st = a2i2a_i2i_file(m, image, out, &p, force, job);
  cli_job_done(job);
  a2i2a_model_close(m);
  if (st) return cli_fail(st);
  if (!have_seed) printf("seed %llu\n", (unsigned long long)p.seed);
  return EXIT_OK;
}
