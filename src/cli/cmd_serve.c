#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "studio/studio.h"
#include "vocoder/vocoder.h"

enum { O_PORT = 1, O_HOST, O_DIR, O_MODEL, O_VOCODER, O_TOKEN, O_MAXMB, O_MAXSEC, O_MAXQ, O_LOGREQ };

static const cli_option options[] = {
    {.name = "port", .arg = "N", .id = O_PORT, .dflt = "8188", .help = "port to listen on (0: any free port, printed)"},
    {.name = "host", .arg = "ADDR", .id = O_HOST, .dflt = "127.0.0.1",
     .help = "address to listen on (127.0.0.1: this machine only); any other address needs a token, generated "
             "and printed if not given"},
    {.name = "dir", .arg = "RUNS", .id = O_DIR, .dflt = "studio-runs", .flags = CLI_PATH,
     .help = "the runs folder (created if missing)"},
    {.name = "model", .letter = 'm', .arg = "M", .id = O_MODEL, .flags = CLI_PATH, .dflt = "each preset's",
     .help = "the model the page starts with"},
    {.name = "vocoder", .arg = "PATH", .id = O_VOCODER, .flags = CLI_PATH, .dflt = "none",
     .help = "the vocoder reading's Vocos or HiFi-GAN (a folder, or ORG/NAME from 'a2i2a models pull'): the one "
             "jobs may use, and theirs unless they say otherwise"},
    {.name = "token", .arg = "T", .id = O_TOKEN, .dflt = "none on 127.0.0.1",
     .help = "a secret every request must carry (8 to 64 letters, digits, '-', '_', '.' or '~')"},
    {.name = "max-upload-mb", .arg = "X", .id = O_MAXMB, .dflt = "200", .help = "largest sound file accepted, in MB"},
    {.name = "max-seconds", .arg = "S", .id = O_MAXSEC, .dflt = "600", .help = "longest sound accepted"},
    {.name = "max-queue", .arg = "N", .id = O_MAXQ, .dflt = "32", .help = "jobs waiting at most"},
    {.name = "log-requests", .id = O_LOGREQ, .help = "one line per HTTP request on stderr"},
    CLI_OPT_THREADS,
    CLI_OPT_HELP,
    {0},
};

const cli_command cli_serve = {
    .name = "serve",
    .summary = "the studio: the whole chain in a local web page",
    .usage = "usage: a2i2a serve [--port 8188] [--host 127.0.0.1] [--dir RUNS] [--model M] [--token T]\n\n"
             "The studio: the whole chain in a local web page. Give a sound (a file or the microphone),\n"
             "choose a preset and change what you like, watch the painting form, hear every reading at the\n"
             "same loudness, compare, download, run again. Runs go into RUNS as the folders 'a2i2a run'\n"
             "writes, so both see the same history. Prints the address to open; Ctrl-C stops (cancelling\n"
             "the running job, which leaves nothing behind). docs/studio.md describes the page and its API.\n",
    .footer = "exit status: 0 stopped by Ctrl-C or SIGTERM, 1 cannot start, 2 usage error\n",
    .options = options,
};

/* A number in [min, max] for option opt, strictly. */
static int number(const char *opt, const char *s, double min, double max, double *out) {
  char *end;
  double v = strtod(s, &end);
  if (end == s || *end || !(v >= min && v <= max))
    return cli_usage_error("serve", "--%s: '%s' is not a number in [%g, %g]", opt, s, min, max);
  *out = v;
  return 0;
}

static int handle(void *ctx, int id, const char *v) {
  studio_config *cfg = ctx;
  long l;
  switch (id) {
  case O_PORT: if (cli_int("serve", "--port", v, 0, 65535, &l)) return EXIT_USAGE; cfg->port = (int)l; break;
  case O_HOST: cfg->host = v; break;
  case O_DIR: cfg->dir = v; break;
  case O_MODEL: cfg->model = v; break;
  case O_VOCODER: cfg->vocoder = v; break;
  case O_TOKEN:
    if (strlen(v) < 8 || strlen(v) > 64 ||
        strspn(v, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_.~") != strlen(v))
      return cli_usage_error("serve", "--token: 8 to 64 letters, digits, '-', '_', '.' or '~'");
    cfg->token = v;
    break;
  case O_MAXMB: return number("max-upload-mb", v, 0.001, 1e6, &cfg->max_upload_mb) ? EXIT_USAGE : 0;
  case O_MAXSEC: return number("max-seconds", v, 0.1, 1e7, &cfg->max_upload_seconds) ? EXIT_USAGE : 0;
  case O_MAXQ: if (cli_int("serve", "--max-queue", v, 1, 10000, &l)) return EXIT_USAGE; cfg->max_queue = (int)l; break;
  case O_LOGREQ: cfg->log_requests = 1; break;
  }
  return 0;
}

int cmd_serve(int argc, char **argv) {
  studio_config cfg = {.host = "127.0.0.1", .port = 8188, .dir = "studio-runs", .max_upload_mb = 200,
                       .max_upload_seconds = 600, .max_queue = 32};
  cli_args a;
  int rc = cli_parse(&cli_serve, argc, argv, NULL, NULL, &a, handle, &cfg);
  if (rc != CLI_CONTINUE) return rc;
  if (a.operand < argc) return cli_usage_error("serve", "unexpected argument '%s'", argv[a.operand]);
  int threads = a.threads;
  a2i2a_set_threads(threads);
  if (cfg.vocoder) { /* a wrong one is said now, not at the first job */
    vocoder *v;
    a2i2a_status vst = vocoder_open(cfg.vocoder, &v);
    if (vst) return cli_fail(vst);
    vocoder_close(v);
  }

  /* Ctrl-C and SIGTERM are taken by this thread alone (sigwait), so that the stop can cancel
   * the job and wait for it: blocked here, before any thread starts, they stay blocked in all */
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, NULL);
  signal(SIGPIPE, SIG_IGN);

  studio *s = NULL;
  a2i2a_status st = studio_start(&cfg, &s);
  if (st) return cli_fail(st);
  printf("a2i2a studio %s: runs in %s\n", a2i2a_version(), cfg.dir);
  printf("  open %s\n", studio_url(s));
  if (studio_token(s)[0] && !cfg.token) printf("  (the token is new each start: pass --token to keep one)\n");
  printf("  Ctrl-C stops\n");
  fflush(stdout);
  int sig = 0;
  sigwait(&stop, &sig);
  /* a second Ctrl-C while the job winds down ends the process at once */
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  pthread_sigmask(SIG_UNBLOCK, &stop, NULL);
  fprintf(stderr, "a2i2a serve: stopping (%s)\n", sig == SIGINT ? "Ctrl-C" : "SIGTERM");
  studio_stop(s);
  return EXIT_OK;
}
