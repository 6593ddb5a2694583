/* a2i2a i2i IMAGE -o ART.png --model M: Stable Diffusion img2img as diffusers runs it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/err.h"
#include "common/outfile.h"
#include "image/image.h"
#include "sd/scheduler.h"

enum { O_OUTPUT = 1, O_RNG, O_LORA, O_LORA_DIR, O_PREVIEW, O_PREVIEW_TAESD };

static const struct {
  a2i2a_entry entry;
} rngs[] = {{{"torch", "PyTorch's CPU generator (torch.randn)", "{}"}}};
static const registry_table rng_registry = REGISTRY_TABLE(NULL, "generator", rngs, NULL);

static const cli_option options[] = {
    {.name = "output", .letter = 'o', .arg = "FILE", .id = O_OUTPUT, .help = "the PNG to write (PNG only: it carries the settings); - for stdout (required)",
     .flags = CLI_PATH},
    {.name = "model", .letter = 'm', .arg = "M", .param = "model.name", .flags = CLI_PATH,
     .dflt = "$A2I2A_MODEL; `a2i2a models pull` gets one"},
    {.name = "prompt", .letter = 'p', .arg = "TEXT", .param = "i2i.prompt"},
    {.name = "negative", .letter = 'n', .arg = "TEXT", .param = "i2i.negative_prompt"},
    {.name = "strength", .letter = 's', .arg = "X", .param = "i2i.strength"},
    {.name = "guidance", .letter = 'g', .arg = "X", .param = "i2i.guidance", .help = "classifier-free guidance "
     "scale; <= 1 skips the unconditional pass, as SD-Turbo wants"},
    {.name = "steps", .arg = "N", .param = "i2i.steps"},
    {.name = "sampler", .arg = "NAME", .param = "i2i.sampler"},
    {.name = "spacing", .arg = "S", .param = "i2i.spacing", .help = "timestep spacing (SD-Turbo: --sampler euler "
     "--spacing trailing)"},
    {.name = "seed", .arg = "N", .param = "i2i.seed", .dflt = "random, and printed"},
    {.name = "rng", .arg = "NAME", .id = O_RNG, .choices = &rng_registry, .dflt = "torch",
     .help = "the random generator"},
    {.name = "clip-skip", .arg = "N", .param = "i2i.clip_skip"},
    {.name = "prediction", .arg = "P", .param = "i2i.prediction", .help = "what the model predicts (SD 2.x-base "
     "and SD-Turbo files need epsilon)"},
    {.name = "width", .arg = "N", .param = "i2i.width"},
    {.name = "height", .arg = "N", .param = "i2i.height"},
    {.name = "tile", .arg = "AXES", .param = "i2i.tile"},
    {.name = "alpha", .arg = "X", .param = "i2i.alpha"},
    {.name = "to-seed", .arg = "N", .param = "i2i.to_seed"},
    {.name = "to-prompt", .arg = "TEXT", .param = "i2i.to_prompt"},
    {.name = "to-negative", .arg = "TEXT", .param = "i2i.to_negative_prompt"},
    {.name = "to-strength", .arg = "X", .param = "i2i.to_strength"},
    {.name = "to-guidance", .arg = "X", .param = "i2i.to_guidance"},
    CLI_OPTS_LORA(O_LORA, O_LORA_DIR),
    {.name = "taesd", .arg = "M", .param = "i2i.taesd", .flags = CLI_PATH,
     .help = "decode (and encode) with TAESD instead of the VAE: a diffusers folder, its .safetensors or ORG/NAME "
             "('a2i2a models pull madebyollin/taesd' gets it); quick drafts"},
    {.name = "low-memory", .param = "i2i.low_memory"},
    CLI_OPTS_PREVIEW(O_PREVIEW, O_PREVIEW_TAESD),
    CLI_OPT_LIST("samplers"),
    CLI_OPT_JSON,
    CLI_OPTS_JOB,
    {0},
};

static void defaults(a2i2a_run_params *p) {
  memset(p, 0, sizeof *p);
  p->i2i = a2i2a_i2i_default_params();
  p->model = getenv("A2I2A_MODEL");
}

const cli_command cli_i2i = {
    .name = "i2i",
    .summary = "image -> image with Stable Diffusion img2img",
    .usage = "usage: a2i2a i2i IMAGE -o ART.png --model M [options]\n"
             "       a2i2a i2i --list-samplers [--json]\n\n"
             "Repaints IMAGE (PNG or JPEG) with Stable Diffusion img2img, exactly as diffusers'\n"
             "StableDiffusionImg2ImgPipeline does on the CPU: the same seed gives the same picture.\n"
             "The PNG records every setting (Automatic1111 'parameters' text and an 'a2i2a' JSON chunk).\n"
             "IMAGE - reads stdin, -o - writes stdout (the random seed, if any, then goes to stderr).\n",
    .listing_title = "samplers (--sampler):",
    .listing = &sched_sampler_registry,
    .footer = "exit status: 0 success, 1 runtime failure, 2 usage error, 130 or 143\n"
              "interrupted by SIGINT (Ctrl-C) or SIGTERM (nothing left behind)\n",
    .options = options,
    .defaults = defaults,
};

static uint64_t random_seed(void) {
  uint32_t s = 0;
  FILE *f = fopen("/dev/urandom", "rb");
  if (!f || fread(&s, sizeof s, 1, f) != 1) s = (uint32_t)time(NULL) ^ (uint32_t)getpid();
  if (f) fclose(f);
  return s; /* torch seeds MT19937 with the low 32 bits: larger seeds would only alias these */
}

typedef struct {
  const char *out, *preview, *preview_taesd;
  cli_loras loras;
} i2i_ctx;

static int handle(void *ctx, int id, const char *value) {
  i2i_ctx *c = ctx;
  if (id == O_OUTPUT) c->out = value;
  if (id == O_LORA || id == O_LORA_DIR) return cli_lora_option("i2i", &c->loras, id == O_LORA_DIR, value);
  if (id == O_PREVIEW) c->preview = value;
  if (id == O_PREVIEW_TAESD) c->preview_taesd = value;
  return 0;
}

static int run_i2i(int argc, char **argv, a2i2a_run_params *pp, cli_args *ap, i2i_ctx *ctx);

int cmd_i2i(int argc, char **argv) {
  a2i2a_run_params p;
  defaults(&p);
  i2i_ctx ctx = {0};
  cli_args a;
  int rc = cli_parse(&cli_i2i, argc, argv, &p, NULL, &a, handle, &ctx);
  if (rc == CLI_CONTINUE) rc = cli_listing(&cli_i2i, &a, A2I2A_LIST_SAMPLERS);
  if (rc != CLI_CONTINUE) {
    cli_lora_free(&ctx.loras);
    return rc;
  }
  rc = run_i2i(argc, argv, &p, &a, &ctx);
  cli_lora_free(&ctx.loras);
  return rc;
}

static int run_i2i(int argc, char **argv, a2i2a_run_params *pp, cli_args *ap, i2i_ctx *ctx) {
  a2i2a_run_params p = *pp;
  cli_args a = *ap;
  const char *out = ctx->out;
  int rc;
  a2i2a_lora loras[CLI_MAX_LORAS];
  if (a.operand != argc - 1) return cli_usage_error("i2i", a.operand < argc ? "expected one IMAGE" : "no IMAGE given");
  if (!out) return cli_usage_error("i2i", "no output given (-o ART.png)");
  const char *image = argv[a.operand];
  int have_seed = cli_given(&cli_i2i, &a, "seed");
  a2i2a_set_threads(a.threads);
  cli_verbose(a.verbose);
  /* the cheap refusals first: an existing output, nothing to denoise */
  a2i2a_status st = cli_dash(out) ? A2I2A_OK : outfile_check(out, a.force);
  if (!st && !cli_dash(out)) st = png_name_check(out);
  if (st) return cli_fail(st);
  if ((rc = cli_preview_check("i2i", ctx->preview, ctx->preview_taesd, a.force))) return rc;
  if (!have_seed) p.i2i.seed = random_seed();
  int nloras;
  if ((rc = cli_lora_list("i2i", &ctx->loras, p.model, &p.i2i.prompt, loras, &nloras))) return rc;
  if ((rc = cli_lora_no_travel("i2i", &p.i2i))) return rc;

  cli_stdio io;
  if ((rc = cli_stdio_open("i2i", &io, image, out, "art.png"))) return rc;
  a2i2a_model *m = NULL;
  if ((st = a2i2a_model_open(p.model, &m))) {
    cli_stdio_close("i2i", &io, A2I2A_OK);
    return cli_fail(st);
  }
  cli_describe_model(m);
  a2i2a_job *job = cli_job_new(a.progress);
  st = a2i2a_model_set_loras(m, loras, nloras, job);
  if (!st) st = a2i2a_i2i_file(m, io.in, io.out, &p.i2i, a.force, job);
  cli_job_done(job);
  a2i2a_model_close(m);
  rc = cli_stdio_close("i2i", &io, st);
  /* the seed goes to stderr when stdout carries the picture */
  if (!rc && !have_seed) fprintf(cli_dash(out) ? stderr : stdout, "seed %llu\n", (unsigned long long)p.i2i.seed);
  return rc;
}
