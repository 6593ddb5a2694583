/* a2i2a a2i INPUT -o OUTPUT.png [--style NAME] [options] */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/registry.h"
#include "image/image.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: a2i2a a2i INPUT -o OUTPUT.png [--style NAME] [options]\n\n"
          "Turns a sound (WAV, AIFF, FLAC, Ogg Vorbis/Opus, MP3, ...; any rate; more than two\n"
          "channels are mixed down) into a spectrogram image that carries its parameters.\n"
          "Styles (docs/styles.md):\n"
          "  seed       the notebook's image: STFT 512, power dB, min-max, 400x300, 0 Hz at the top\n"
          "  riffusion  Riffusion's image: 44.1 kHz, 512 HTK mel bands 0-10 kHz, 100 columns/s,\n"
          "             loud = black, with Riffusion's EXIF (its tools read it)\n"
          "  fullband   ours: 20 Hz-20 kHz mel axis, dB range and colour map of your choice,\n"
          "             true stereo, 100 columns/s or any width; restorable level\n\n"
          "  -o, --output FILE     the PNG to write (required)\n"
          "  --style NAME          seed, riffusion or fullband (default: seed)\n"
          "  --width N             image width (seed: 400; fullband: 1 + samples/441, i.e. 100\n"
          "                        per second; riffusion: fixed)\n"
          "  --height N            image height (seed: 300; fullband: 512; riffusion: fixed 512)\n"
          "  --stereo              riffusion, fullband: keep left and right apart (default: off,\n"
          "                        channels mixed)\n"
          "  --db-range DB         fullband: dynamic range shown, 10..200 (default: 80)\n"
          "  --fmin HZ, --fmax HZ  fullband: frequency axis (default: 20, 20000)\n"
          "  --colormap NAME       fullband: %s (default: ember)\n"
          "  --max-seconds S       refuse longer inputs (default: seed 3600, others 600)\n"
          "  --threads N           threads (default: physical cores)\n"
          "  --force               replace OUTPUT if it exists\n"
          "  -h, --help            this help\n\n"
          "exit status: 0 success, 1 runtime failure (bad input, I/O), 2 usage error\n",
          registry_names(&colormap_registry, (char[256]){0}, 256));
}

int cmd_a2i(int argc, char **argv) {
  enum { O_STYLE = 256, O_WIDTH, O_HEIGHT, O_STEREO, O_DBR, O_FMIN, O_FMAX, O_CMAP, O_MAXS, O_THREADS, O_FORCE };
  static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                       {"style", required_argument, 0, O_STYLE},
                                       {"width", required_argument, 0, O_WIDTH},
                                       {"height", required_argument, 0, O_HEIGHT},
                                       {"stereo", no_argument, 0, O_STEREO},
                                       {"db-range", required_argument, 0, O_DBR},
                                       {"fmin", required_argument, 0, O_FMIN},
                                       {"fmax", required_argument, 0, O_FMAX},
                                       {"colormap", required_argument, 0, O_CMAP},
                                       {"max-seconds", required_argument, 0, O_MAXS},
                                       {"threads", required_argument, 0, O_THREADS},
                                       {"force", no_argument, 0, O_FORCE},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  a2i2a_a2i_params p = a2i2a_a2i_default_params();
  const char *out = NULL;
  int force = 0, c;
  long v, threads = 0;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
    switch (c) {
    case 'h': usage(stdout); return EXIT_OK;
    case 'o': out = optarg; break;
    case O_STYLE: p.style = optarg; break;
    case O_WIDTH:
      if (cli_int("a2i", "--width", optarg, 1, IMAGE_MAX_SIDE, &v)) return EXIT_USAGE;
      p.width = (int)v;
      break;
    case O_HEIGHT:
      if (cli_int("a2i", "--height", optarg, 1, IMAGE_MAX_SIDE, &v)) return EXIT_USAGE;
      p.height = (int)v;
      break;
    case O_STEREO: p.stereo = 1; break;
    case O_DBR:
      if (cli_double("a2i", "--db-range", optarg, 10, 200, &p.db_range)) return EXIT_USAGE;
      break;
    case O_FMIN:
      if (cli_double("a2i", "--fmin", optarg, 0, 1e6, &p.fmin)) return EXIT_USAGE;
      break;
    case O_FMAX:
      if (cli_double("a2i", "--fmax", optarg, 1, 1e6, &p.fmax)) return EXIT_USAGE;
      break;
    case O_CMAP:
      if (!colormap_exists(optarg))
        return cli_usage_error("a2i", "--colormap: unknown colour map '%s' (%s)", optarg, registry_names(&colormap_registry, (char[256]){0}, 256));
      p.colormap = optarg;
      break;
    case O_MAXS:
      if (cli_double("a2i", "--max-seconds", optarg, 0.001, 1e7, &p.max_seconds)) return EXIT_USAGE;
      break;
    case O_THREADS:
      if (cli_int("a2i", "--threads", optarg, 1, 1024, &threads)) return EXIT_USAGE;
      break;
    case O_FORCE: force = 1; break;
    case ':': return cli_usage_error("a2i", "%s needs a value", argv[optind - 1]);
    default: return cli_usage_error("a2i", "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (optind == argc) return cli_usage_error("a2i", "no input sound given");
  if (optind < argc - 1) return cli_usage_error("a2i", "one input sound expected, got %d", argc - optind);
  if (!out) return cli_usage_error("a2i", "no output given (-o OUTPUT.png)");
  if (strcmp(p.style, "seed") && strcmp(p.style, "riffusion") && strcmp(p.style, "fullband"))
    return cli_usage_error("a2i", "--style: unknown style '%s' (seed, riffusion, fullband)", p.style);
  a2i2a_set_threads((int)threads);
  a2i2a_job *job = cli_job_new(0);
  a2i2a_status st = a2i2a_a2i_file(argv[optind], out, &p, force, job);
  cli_job_done(job);
  if (st) return cli_fail(st);
  return EXIT_OK;
}
