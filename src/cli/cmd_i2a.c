/* a2i2a i2a IMAGE -o OUT [--reading NAME[,NAME...]|all]: an image read back as sound. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: a2i2a i2a IMAGE -o OUT [--reading NAME[,NAME...]|all] [options]\n"
          "       a2i2a i2a --list-readings\n\n"
          "Reads a PNG or JPEG image back as sound. With one reading OUT is the sound file (WAV, or\n"
          "FLAC if it ends in .flac); with several, or 'all', OUT is a folder (created if missing)\n"
          "that receives NAME.wav for each reading. Nothing is written unless every reading works.\n\n"
          "options:\n"
          "  -o, --output OUT     output file, or folder for several readings (required)\n"
          "  -r, --reading LIST   comma-separated readings, or 'all' (default: red)\n"
          "      --list-readings  print every reading with a one-line description\n"
          "      --seed N         seed of every random choice (default: 0); same seed, same bytes\n"
          "      --rng torch      the random generator: PyTorch's CPU generator (the only one, default)\n"
          "      --bits 16|24|32  sample format: 32 = float (default), 16/24 = TPDF-dithered PCM\n"
          "      --gl-iters N     Griffin-Lim iterations (default: 32)\n"
          "      --seconds S      duration for sines and noise (default 10), longest slot for scan (0.1)\n"
          "      --rate HZ        sample rate of sines, noise, scan, bend (default: 44100)\n"
          "      --fmin HZ        lowest frequency of sines/noise (55) and scan (110)\n"
          "      --fmax HZ        highest frequency of sines/noise (14080) and scan (1760)\n"
          "      --threads N      threads (default: physical cores)\n"
          "  -f, --force          overwrite existing output files\n"
          "  -h, --help           this help\n\n"
          "docs/readings.md describes what each reading hears in the image.\n");
}

int cmd_i2a(int argc, char **argv) {
  enum { O_LIST = 256, O_SEED, O_RNG, O_BITS, O_ITERS, O_SECONDS, O_RATE, O_FMIN, O_FMAX, O_THREADS };
  static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                       {"reading", required_argument, 0, 'r'},
                                       {"readings", required_argument, 0, 'r'},
                                       {"list-readings", no_argument, 0, O_LIST},
                                       {"seed", required_argument, 0, O_SEED},
                                       {"rng", required_argument, 0, O_RNG},
                                       {"bits", required_argument, 0, O_BITS},
                                       {"gl-iters", required_argument, 0, O_ITERS},
                                       {"seconds", required_argument, 0, O_SECONDS},
                                       {"rate", required_argument, 0, O_RATE},
                                       {"fmin", required_argument, 0, O_FMIN},
                                       {"fmax", required_argument, 0, O_FMAX},
                                       {"threads", required_argument, 0, O_THREADS},
                                       {"force", no_argument, 0, 'f'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  a2i2a_i2a_params p = a2i2a_i2a_default_params();
  const char *out = NULL, *readings = "red";
  int force = 0, list = 0;
  long v, threads = 0;
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, ":o:r:fh", opts, NULL)) != -1) {
    switch (c) {
      case 'o': out = optarg; break;
      case 'r': readings = optarg; break;
      case 'f': force = 1; break;
      case 'h': usage(stdout); return EXIT_OK;
      case O_LIST: list = 1; break;
      case O_SEED:
        if (cli_u64("i2a", "--seed", optarg, &p.seed)) return EXIT_USAGE;
        break;
      case O_RNG:
        if (strcmp(optarg, "torch") != 0)
          return cli_usage_error("i2a", "--rng: '%s' is not a generator this version has (torch)", optarg);
        break;
      case O_BITS:
        if (cli_int("i2a", "--bits", optarg, 16, 32, &v)) return EXIT_USAGE;
        if (v != 16 && v != 24 && v != 32) return cli_usage_error("i2a", "--bits: %ld is not 16, 24 or 32", v);
        p.bits = (int)v;
        break;
      case O_ITERS:
        if (cli_int("i2a", "--gl-iters", optarg, 1, 10000, &v)) return EXIT_USAGE;
        p.gl_iters = (int)v;
        break;
      case O_SECONDS:
        if (cli_double("i2a", "--seconds", optarg, 0.001, 3600, &p.seconds)) return EXIT_USAGE;
        break;
      case O_RATE:
        if (cli_double("i2a", "--rate", optarg, 1000, 384000, &p.sample_rate)) return EXIT_USAGE;
        break;
      case O_FMIN:
        if (cli_double("i2a", "--fmin", optarg, 1, 192000, &p.fmin)) return EXIT_USAGE;
        break;
      case O_FMAX:
        if (cli_double("i2a", "--fmax", optarg, 1, 192000, &p.fmax)) return EXIT_USAGE;
        break;
      case O_THREADS:
        if (cli_int("i2a", "--threads", optarg, 1, 1024, &threads)) return EXIT_USAGE;
        break;
      case ':': return cli_usage_error("i2a", "%s needs a value", argv[optind - 1]);
      default: return cli_usage_error("i2a", "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (list) {
    for (int i = 0; a2i2a_list_entry(A2I2A_LIST_READINGS, i); i++)
      printf("%-9s %s\n", a2i2a_list_entry(A2I2A_LIST_READINGS, i)->name, a2i2a_list_entry(A2I2A_LIST_READINGS, i)->description);
    return EXIT_OK;
  }
  if (optind >= argc) return cli_usage_error("i2a", "no image given");
  if (optind + 1 < argc) return cli_usage_error("i2a", "one image at a time ('%s' is extra)", argv[optind + 1]);
  if (!out) return cli_usage_error("i2a", "no output given (-o OUT)");
  a2i2a_set_threads((int)threads);
  a2i2a_job *job = cli_job_new(0);
  a2i2a_status st = a2i2a_i2a_file(argv[optind], readings, out, &p, force, job);
  cli_job_done(job);
  if (st) return cli_fail(st);
  return EXIT_OK;
}
