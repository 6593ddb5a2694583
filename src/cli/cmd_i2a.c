/* a2i2a i2a IMAGE -o OUT [--reading NAME[,NAME...]|all]: an image read back as sound. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "chain/params.h"
#include "cli/cli.h"
#include "readings/readings.h"

enum { O_OUTPUT = 1, O_RNG };

/* The defaults of the readings that take a setting: "sines 10, noise 10, scan 0.1". */
static void reading_defaults(const cli_option *o, char *buf, size_t size) {
  static const struct {
    const char *param;
    size_t field;
  } settings[] = {{"i2a.seconds", offsetof(reading_def, seconds)},
                  {"i2a.sample_rate", offsetof(reading_def, sample_rate)},
                  {"i2a.fmin", offsetof(reading_def, fmin)},
                  {"i2a.fmax", offsetof(reading_def, fmax)}};
  size_t len = 0;
  buf[0] = 0;
  for (size_t k = 0; k < sizeof settings / sizeof *settings; k++) {
    if (strcmp(o->param, settings[k].param)) continue;
    for (int i = 0; i < reading_count() && len < size; i++) {
      double v = *(const double *)((const char *)reading_at(i) + settings[k].field);
      if (v > 0) len += (size_t)snprintf(buf + len, size - len, "%s%s %g", len ? ", " : "", reading_at(i)->name, v);
    }
  }

}

static const struct {
  a2i2a_entry entry;
} rngs[] = {{{"torch", "PyTorch's CPU generator (torch.manual_seed, torch.rand)", "{}"}}};
static const registry_table rng_registry = REGISTRY_TABLE(NULL, "generator", rngs, NULL);

static const cli_option options[] = {
    {.name = "output", .letter = 'o', .arg = "OUT", .id = O_OUTPUT,
     .help = "output file (its extension picks the format), or folder for several readings; - for stdout (required)", .flags = CLI_PATH},
    {.name = "reading", .letter = 'r', .arg = "LIST", .param = "i2a.readings", .alias = "readings"},
    CLI_OPT_LIST("readings"),
    CLI_OPT_JSON,
    {.name = "seed", .arg = "N", .param = "i2a.seed", .help = "seed of every random choice; same seed, same bytes"},
    {.name = "rng", .arg = "NAME", .id = O_RNG, .choices = &rng_registry, .dflt = "torch",
     .help = "the random generator"},
    {.name = "bits", .arg = "N", .param = "i2a.bits"},
    {.name = "gl-iters", .arg = "N", .param = "i2a.gl_iters"},
    {.name = "seconds", .arg = "S", .param = "i2a.seconds", .show_default = reading_defaults,
     .help = "duration (scan: its longest slot) of the readings that take it"},
    {.name = "reading-rate", .arg = "HZ", .param = "i2a.sample_rate", .show_default = reading_defaults},
    {.name = "fmin", .arg = "HZ", .param = "i2a.fmin", .show_default = reading_defaults},
    {.name = "fmax", .arg = "HZ", .param = "i2a.fmax", .show_default = reading_defaults},
    {.name = "vocoder", .arg = "PATH", .param = "i2a.vocoder", .flags = CLI_PATH,
     .help = "the vocoder reading's Vocos or HiFi-GAN: a folder, or ORG/NAME from 'a2i2a models pull'"},
    {.name = "rate", .arg = "HZ", .param = "i2a.output_rate"},
    {.name = "loudness", .arg = "LUFS", .param = "i2a.loudness"},
    {.name = "true-peak", .arg = "DBTP", .param = "i2a.true_peak"},
    CLI_OPTS_JOB,
    {0},
};

static void defaults(a2i2a_run_params *p) {
  memset(p, 0, sizeof *p);
  p->i2a = a2i2a_i2a_default_params();
  p->readings = "red";
}

const cli_command cli_i2a = {
    .name = "i2a",
    .summary = "image -> audio through named readings",
    .usage = "usage: a2i2a i2a IMAGE -o OUT [--reading NAME[,NAME...]|all] [options]\n"
             "       a2i2a i2a --list-readings [--json]\n\n"
             "Reads a PNG or JPEG image back as sound. With one reading OUT is the sound file, in the\n"
             "format of its extension: .wav, .flac, .ogg (Vorbis), .opus or .mp3; with several, or 'all',\n"
             "OUT is a folder (created if missing) that receives NAME.wav for each reading (a sound\n"
             "file's name is refused). Nothing is written unless every reading works. IMAGE - reads\n"
             "stdin; -o - writes one reading to stdout as WAV.\n",
    .listing_title = "readings (--reading; docs/readings.md describes what each hears in the image):",
    .listing = &reading_registry,
    .footer = "exit status: 0 success, 1 runtime failure (bad input, I/O), 2 usage error, 130 or 143\n"
              "interrupted by SIGINT (Ctrl-C) or SIGTERM (nothing left behind)\n",
    .options = options,
    .defaults = defaults,
};

typedef struct {
  const char *out;
} i2a_ctx;

static int handle(void *ctx, int id, const char *value) {
  i2a_ctx *c = ctx;
  if (id == O_OUTPUT) c->out = value;
  return 0;
}

int cmd_i2a(int argc, char **argv) {
  a2i2a_run_params p;
  defaults(&p);
  i2a_ctx c = {0};
  cli_args a;
  int rc = cli_parse(&cli_i2a, argc, argv, &p, NULL, &a, handle, &c);
  if (rc != CLI_CONTINUE || (rc = cli_listing(&cli_i2a, &a, A2I2A_LIST_READINGS)) != CLI_CONTINUE) return rc;
  if (a.operand >= argc) return cli_usage_error("i2a", "no image given");
  if (a.operand + 1 < argc) return cli_usage_error("i2a", "one image at a time ('%s' is extra)", argv[a.operand + 1]);
  if (!c.out) return cli_usage_error("i2a", "no output given (-o OUT)");
  if (cli_dash(c.out) && (strchr(p.readings, ',') || !strcmp(p.readings, "all")))
    return cli_usage_error("i2a", "-o - (stdout) takes one reading, not '%s'", p.readings);
  a2i2a_set_threads(a.threads);
  cli_verbose(a.verbose);
  cli_stdio io;
  if ((rc = cli_stdio_open("i2a", &io, argv[a.operand], c.out, "sound.wav"))) return rc;
  a2i2a_job *job = cli_job_new(a.progress);
  a2i2a_status st = a2i2a_i2a_file(io.in, p.readings, io.out, &p.i2a, a.force, job);
  cli_job_done(job);
  return cli_stdio_close("i2a", &io, st);
}
