#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "sd/model.h"
#include "verify/verify.h"

/* The SD part of the compact fixture set in the source tree (tests/fixtures/README.md). */
#define COMPACT_SD_FIXTURES A2I2A_FIXTURES_DIR "/sd"

enum { O_MODEL_DIR = 1 };

static const cli_option options[] = {
    {.name = "model-dir", .arg = "DIR", .id = O_MODEL_DIR, .flags = CLI_PATH, .dflt = "none",
     .help = "also run each case on its model's forms in DIR: folders NAME and NAME-SUFFIX, files NAME.ckpt, "
             ".safetensors, .pt, .pth, .bin (e.g. shared/fixtures/pickle)"},
    CLI_OPT_THREADS,
    {.name = "quiet", .letter = 'q', .id = CLI_ID_QUIET, .help = "only the summary line (the exit status says the rest)"},
    {.name = "verbose", .letter = 'v', .id = CLI_ID_VERBOSE,
     .help = "the version, BLAS kernels and threads on stderr first"},
    CLI_OPT_HELP,
    {0},
};

const cli_command cli_verify = {
    .name = "verify",
    .summary = "check the engine against a folder of reference fixtures",
    .usage = "usage: a2i2a verify [DIR] [--model-dir DIR2] [--threads N]\n\n"
             "Runs every reference case found in DIR, a folder laid out like shared/fixtures/sd:\n"
             "tokenizer/prompts.json, golden/<case>.json + .safetensors, and the models they name\n"
             "(tiny-sd1/, tiny-sd2/, tiny-sd1.safetensors; shared/fixtures/vocoder: tiny-vocos/ and\n"
             "tiny-hifigan/, each from every weights file). Prints one line per check (name, max abs\n"
             "error, tolerance from the case's manifest, pass/fail), then 'N passed, N failed, N skipped'.\n"
             "Without DIR: the compact fixture set of the source tree, " COMPACT_SD_FIXTURES ".\n",
    .footer = "exit status: 0 if nothing failed, 1 if a check failed, 2 usage error\n",
    .options = options,
};

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int has_prefix(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

/* DIR/models.json of a folder of extensions: the base model (its "base" folder, relative to
 * DIR, and "base_model") and the TAESD ("taesd.folder") into v. */
static void read_models(verify_ctx *v, cJSON **models, char *base, char *taesd, size_t n) {
  char path[4200];
  struct stat sb;
  snprintf(path, sizeof path, "%s/models.json", v->dir);
  if (stat(path, &sb) != 0 || sd_read_json(path, models)) return;
  v->models = *models;
  const char *b = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(*models, "base"));
  const char *bm = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(*models, "base_model"));
  const char *t = cJSON_GetStringValue(
      cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(*models, "taesd"), "folder"));
  if (b && bm) snprintf(base, n, "%s/%s/%s", v->dir, b, bm), v->base_model = base;
  if (t) snprintf(taesd, n, "%s/%s", v->dir, t), v->taesd = taesd;
}

static int handle(void *ctx, int id, const char *value) {
  if (id == O_MODEL_DIR) *(const char **)ctx = value;
  return 0;
}

int cmd_verify(int argc, char **argv) {
  cli_args a;
  const char *model_dir = NULL;
  int rc = cli_parse(&cli_verify, argc, argv, NULL, NULL, &a, handle, &model_dir);
  if (rc != CLI_CONTINUE) return rc;
  if (a.operand < argc - 1) return cli_usage_error("verify", "expected at most one fixtures folder");
  const char *dir = a.operand < argc ? argv[a.operand] : COMPACT_SD_FIXTURES;
  struct stat sb;
  if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
    fprintf(stderr, "a2i2a: %s: not a folder\n", dir);
    return EXIT_RUNTIME;
  }
  if (model_dir && (stat(model_dir, &sb) != 0 || !S_ISDIR(sb.st_mode))) {
    fprintf(stderr, "a2i2a: %s: --model-dir is not a folder\n", model_dir);
    return EXIT_RUNTIME;
  }
  a2i2a_set_threads(a.threads);
  cli_verbose(a.verbose);
  /* -q: the checks' lines go nowhere, the summary to stdout */
  fflush(stdout);
  int saved = a.quiet ? dup(STDOUT_FILENO) : -1, null = a.quiet ? open("/dev/null", O_WRONLY) : -1;
  if (null >= 0) dup2(null, STDOUT_FILENO), close(null);
  verify_ctx v = {.dir = dir, .model_dir = model_dir};
  cJSON *models = NULL;
  char base_model[4200], taesd[4200];
  read_models(&v, &models, base_model, taesd, sizeof base_model);

  char path[4096];
  snprintf(path, sizeof path, "%s/tokenizer/prompts.json", dir);
  if (stat(path, &sb) == 0) verify_tokenizer(&v, path);

  snprintf(path, sizeof path, "%s/golden", dir);
  DIR *d = opendir(path);
  char **names = NULL;
  size_t n = 0;
  if (d) {
    struct dirent *e;
    while ((e = readdir(d))) {
      size_t len = strlen(e->d_name);
      if (len > 5 && !strcmp(e->d_name + len - 5, ".json")) {
        names = realloc(names, (n + 1) * sizeof *names);
        names[n++] = strdup(e->d_name);
      }
    }
    closedir(d);
  }
  qsort(names, n, sizeof *names, cmp_str);
  for (size_t i = 0; i < n; i++) {
    char stem[256];
    snprintf(stem, sizeof stem, "%.*s", (int)(strlen(names[i]) - 5), names[i]);
    snprintf(path, sizeof path, "%s/golden/%s", dir, names[i]);
    if (has_prefix(stem, "torch_rng")) verify_torch_rng(&v, path, stem);
    else if (has_prefix(stem, "text_encoder_")) verify_text_encoder(&v, path, stem);
    else if (has_prefix(stem, "vae_")) verify_vae(&v, path, stem);
    else if (has_prefix(stem, "unet_")) verify_unet(&v, path, stem);
    else if (!strcmp(stem, "schedulers")) verify_schedulers(&v, path, stem);
    else if (has_prefix(stem, "schedulers_steps")) verify_scheduler_steps(&v, path, stem);
    else if (has_prefix(stem, "lora_")) verify_lora(&v, path, stem);
    else if (has_prefix(stem, "img2img_") && strstr(stem, "_lora")) verify_img2img_lora(&v, path, stem);
    else if (has_prefix(stem, "taesd")) verify_taesd(&v, path, stem);
    else if (has_prefix(stem, "img2img_")) verify_img2img(&v, path, stem);
    else if (has_prefix(stem, "vocos") || has_prefix(stem, "hifigan")) verify_vocoder(&v, path, stem);
    else verify_skip(&v, stem, "unknown kind of case");
    free(names[i]);
  }
  free(names);
  cJSON_Delete(models);
  fflush(stdout);
  if (saved >= 0) dup2(saved, STDOUT_FILENO), close(saved);
  if (v.pass + v.fail + v.skip == 0) {
    fprintf(stderr, "a2i2a: %s: no reference cases found (expected golden/*.json or tokenizer/prompts.json)\n", dir);
    return EXIT_RUNTIME;
  }
  printf("%d passed, %d failed, %d skipped\n", v.pass, v.fail, v.skip);
  return v.fail ? EXIT_RUNTIME : EXIT_OK;
}
