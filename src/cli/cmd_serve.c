#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "studio/studio.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: a2i2a serve [--port 8188] [--host 127.0.0.1] [--dir RUNS] [--model M] [--token T]\n\n"
          "The studio: the whole chain in a local web page. Give a sound (a file or the microphone),\n"
          "choose a preset and change what you like, watch the painting form, hear every reading at the\n"
          "same loudness, compare, download, run again. Runs go into RUNS as the folders 'a2i2a run'\n"
          "writes, so both see the same history. Prints the address to open; Ctrl-C stops (cancelling\n"
          "the running job, which leaves nothing behind). docs/studio.md describes the page and its API.\n\n"
          "  --port N                port to listen on (default 8188; 0: any free port, printed)\n"
          "  --host ADDR             address to listen on (default 127.0.0.1, this machine only); any\n"
          "                          other address needs a token, generated and printed if not given\n"
          "  --dir RUNS              the runs folder (default studio-runs; created if missing)\n"
          "  --model M               the model the page starts with (default: each preset's)\n"
          "  --token T               a secret every request must carry (default: none on 127.0.0.1)\n"
          "  --max-upload-mb X       largest sound file accepted (default 200)\n"
          "  --max-seconds S         longest sound accepted (default 600)\n"
          "  --max-queue N           jobs waiting at most (default 32)\n"
          "  --threads N             threads for the kernels (default: physical cores)\n"
          "  --log-requests          one line per HTTP request on stderr\n"
          "  -h, --help              this help\n\n"
          "exit status: 0 stopped by Ctrl-C or SIGTERM, 1 cannot start, 2 usage error\n");
}

enum { O_PORT = 256, O_HOST, O_DIR, O_MODEL, O_TOKEN, O_MAXMB, O_MAXSEC, O_MAXQ, O_THREADS, O_LOGREQ };

int cmd_serve(int argc, char **argv) {
  static const struct option opts[] = {
      {"port", required_argument, 0, O_PORT},         {"host", required_argument, 0, O_HOST},
      {"dir", required_argument, 0, O_DIR},           {"model", required_argument, 0, O_MODEL},
      {"token", required_argument, 0, O_TOKEN},       {"max-upload-mb", required_argument, 0, O_MAXMB},
      {"max-seconds", required_argument, 0, O_MAXSEC}, {"max-queue", required_argument, 0, O_MAXQ},
      {"threads", required_argument, 0, O_THREADS},   {"log-requests", no_argument, 0, O_LOGREQ},
      {"help", no_argument, 0, 'h'},                  {0, 0, 0, 0}};
  const char *C = "serve";
  studio_config cfg = {.host = "127.0.0.1", .port = 8188, .dir = "studio-runs", .max_upload_mb = 200,
                       .max_upload_seconds = 600, .max_queue = 32};
  long l, threads = 0;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case 'h': usage(stdout); return EXIT_OK;
    case O_PORT: if (cli_int(C, "--port", optarg, 0, 65535, &l)) return EXIT_USAGE; cfg.port = (int)l; break;
    case O_HOST: cfg.host = optarg; break;
    case O_DIR: cfg.dir = optarg; break;
    case O_MODEL: cfg.model = optarg; break;
    case O_TOKEN:
      if (strlen(optarg) < 8 || strlen(optarg) > 64 || strspn(optarg, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
                                                                     "KLMNOPQRSTUVWXYZ-_.~") != strlen(optarg))
        return cli_usage_error(C, "--token: 8 to 64 letters, digits, '-', '_', '.' or '~'");
      cfg.token = optarg;
      break;
    case O_MAXMB: if (cli_double(C, "--max-upload-mb", optarg, 0.001, 1e6, &cfg.max_upload_mb)) return EXIT_USAGE; break;
    case O_MAXSEC: if (cli_double(C, "--max-seconds", optarg, 0.1, 1e7, &cfg.max_upload_seconds)) return EXIT_USAGE; break;
    case O_MAXQ: if (cli_int(C, "--max-queue", optarg, 1, 10000, &l)) return EXIT_USAGE; cfg.max_queue = (int)l; break;
    case O_THREADS: if (cli_int(C, "--threads", optarg, 1, 1024, &threads)) return EXIT_USAGE; break;
    case O_LOGREQ: cfg.log_requests = 1; break;
    default: return cli_usage_error(C, "unknown option");
    }
  }
  if (optind < argc) return cli_usage_error(C, "unexpected argument '%s'", argv[optind]);
  a2i2a_set_threads((int)threads);

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
