/* a2i2a a2i INPUT -o OUTPUT.png [--style NAME] [options] */
#include <stdio.h>
#include <string.h>

#include "a2i/styles.h"
#include "cli/cli.h"

enum { O_OUTPUT = 1 };

static const cli_option options[] = {
    {.name = "output", .letter = 'o', .arg = "FILE", .id = O_OUTPUT, .help = "the PNG to write (PNG only: it carries the parameters); - for stdout (required)",
     .flags = CLI_PATH},
    {.name = "style", .arg = "NAME", .param = "a2i.style"},
    {.name = "width", .arg = "N", .param = "a2i.width"},
    {.name = "height", .arg = "N", .param = "a2i.height"},
    {.name = "stereo", .param = "a2i.stereo"},
    {.name = "db-range", .arg = "DB", .param = "a2i.db_range", .show_default = cli_style_defaults},
    {.name = "fmin", .arg = "HZ", .param = "a2i.fmin", .show_default = cli_style_defaults},
    {.name = "fmax", .arg = "HZ", .param = "a2i.fmax", .show_default = cli_style_defaults},
    {.name = "colormap", .arg = "NAME", .param = "a2i.colormap", .show_default = cli_style_defaults},
    {.name = "max-seconds", .arg = "S", .param = "a2i.max_seconds", .show_default = cli_style_defaults},
    CLI_OPT_LIST("styles"),
    CLI_OPT_JSON,
    CLI_OPTS_JOB,
    {0},
};

static void defaults(a2i2a_run_params *p) {
  memset(p, 0, sizeof *p);
  p->a2i = a2i2a_a2i_default_params();
}

const cli_command cli_a2i = {
    .name = "a2i",
    .summary = "audio -> spectrogram image",
    .usage = "usage: a2i2a a2i INPUT -o OUTPUT.png [--style NAME] [options]\n"
             "       a2i2a a2i --list-styles [--json]\n\n"
             "Turns a sound (WAV, AIFF, FLAC, Ogg Vorbis/Opus, MP3, ...; any rate; more than two\n"
             "channels are mixed down) into a spectrogram image that carries its parameters.\n"
             "INPUT - reads stdin.\n",
    .listing_title = "styles (--style; docs/styles.md):",
    .listing = &a2i_style_registry,
    .footer = "exit status: 0 success, 1 runtime failure (bad input, I/O), 2 usage error, 130 or 143\n"
              "interrupted by SIGINT (Ctrl-C) or SIGTERM (nothing left behind)\n",
    .options = options,
    .defaults = defaults,
};

static int handle(void *ctx, int id, const char *value) {
  if (id == O_OUTPUT) *(const char **)ctx = value;
  return 0;
}

int cmd_a2i(int argc, char **argv) {
  a2i2a_run_params p;
  defaults(&p);
  const char *out = NULL;
  cli_args a;
  int rc = cli_parse(&cli_a2i, argc, argv, &p, NULL, &a, handle, &out);
  if (rc != CLI_CONTINUE || (rc = cli_listing(&cli_a2i, &a, A2I2A_LIST_STYLES)) != CLI_CONTINUE) return rc;
  if (a.operand == argc) return cli_usage_error("a2i", "no input sound given");
  if (a.operand < argc - 1) return cli_usage_error("a2i", "one input sound expected, got %d", argc - a.operand);
  if (!out) return cli_usage_error("a2i", "no output given (-o OUTPUT.png)");
  a2i2a_set_threads(a.threads);
  cli_verbose(a.verbose);
  cli_stdio io;
  if ((rc = cli_stdio_open("a2i", &io, argv[a.operand], out, "spectrogram.png"))) return rc;
  a2i2a_job *job = cli_job_new(a.progress);
  a2i2a_status st = a2i2a_a2i_file(io.in, io.out, &p.a2i, a.force, job);
  cli_job_done(job);
  return cli_stdio_close("a2i", &io, st);
}
