/* a2i2a models pull ORG/NAME | models list | models convert IN [OUT]: the Hugging Face Hub
 * downloader, what is here, and PyTorch checkpoints made into safetensors. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hub/hub.h"
#include "cli/cli.h"
#include "sd/lora.h"
#include "sd/model.h"
#include "vocoder/vocoder.h"
#include "sd/taesd.h"

enum { O_REVISION = 1, O_CACHE_DIR, O_MODEL_DIR, O_PLAIN };

static void show_cache_dir(const cli_option *o, char *buf, size_t size) {
  (void)o;
  const char *rule = "$HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub";
  if (cli_writing_manpage) {
    snprintf(buf, size, "%s", rule);
    return;
  }
  char hub[4096];
  hub_cache_dir(hub, sizeof hub);
  snprintf(buf, size, "%s, from %s", hub, rule);
}

static const cli_option options[] = {
    {.name = "revision", .letter = 'r', .arg = "REV", .id = O_REVISION, .help = "branch, tag or commit to pull",
     .dflt = "main"},
    {.name = "cache-dir", .arg = "DIR", .id = O_CACHE_DIR, .help = "the hub cache folder", .flags = CLI_PATH,
     .show_default = show_cache_dir},
    {.name = "model-dir", .arg = "DIR", .id = O_MODEL_DIR, .help = "list: also look for models in DIR",
     .flags = CLI_PATH, .dflt = "none"},
    {.name = "quiet", .letter = 'q', .id = CLI_ID_QUIET, .help = "pull, convert: no progress on stderr",
     .dflt = "a progress bar on a terminal"},
    {.name = "plain", .id = O_PLAIN,
     .help = "pull, convert: progress as plain lines, also when stderr is not a terminal"},
    {.name = "force", .letter = 'f', .id = CLI_ID_FORCE, .help = "convert: replace an existing OUT"},
    {.name = "json", .id = CLI_ID_JSON, .help = "list: as JSON (for scripts): name, kind, bytes, path"},
    {.name = "verbose", .letter = 'v', .id = CLI_ID_VERBOSE,
     .help = "list: each model's description too (family, prediction, UNet size); the version and BLAS kernels first"},
    CLI_OPT_HELP,
    {0},
};

const cli_command cli_models = {
    .name = "models",
    .summary = "list or download Stable Diffusion models (and vocoders)",
    .usage = "usage: a2i2a models pull ORG/NAME [options]\n"
             "       a2i2a models list [--model-dir DIR] [--cache-dir DIR] [--json]\n"
             "       a2i2a models convert IN [OUT.safetensors] [--force]\n\n"
             "pull downloads a diffusers Stable Diffusion pipeline from the Hugging Face Hub into the\n"
             "Hugging Face cache (shared with diffusers), only the files img2img needs: .safetensors\n"
             "weights (the .fp16 variant when there is one), else PyTorch .bin weights. Interrupted\n"
             "downloads resume; every large file is checked against its SHA-256. Then use it as\n"
             "--model ORG/NAME. A repository without model_index.json is taken as a vocoder for the\n"
             "vocoder reading (Vocos: config.yaml and its weights; HiFi-GAN: config.json and its\n"
             "generator files): then use it as --vocoder ORG/NAME.\n"
             "list shows the pipelines, TAESDs and vocoders in the cache, $A2I2A_MODEL and those in\n"
             "--model-dir (kind: hf-cache, diffusers or single-file for a pipeline, taesd, vocoder, lora).\n"
             "convert writes the .safetensors equivalent of a PyTorch checkpoint (.bin, .ckpt, .pt,\n"
             ".pth; read without running anything), by default next to it (pytorch_model.bin becomes\n"
             "model.safetensors), so that later loads are memory-mapped.\n",
    .footer = "environment: HF_ENDPOINT (default https://huggingface.co), HF_TOKEN (for gated or private\n"
              "models), HF_HOME, HF_HUB_CACHE, HF_HUB_OFFLINE, A2I2A_MODEL.\n",
    .options = options,
    .operands = "pull list convert",
};

typedef struct {
  const char *revision, *cache, *model_dir;
  int plain;
} models_ctx;

static int handle(void *ctx, int id, const char *value) {
  models_ctx *c = ctx;
  if (id == O_REVISION) c->revision = value;
  if (id == O_CACHE_DIR) c->cache = value;
  if (id == O_MODEL_DIR) c->model_dir = value;
  if (id == O_PLAIN) c->plain = 1;
  return 0;
}

static long long dir_bytes(const char *path) {
  DIR *d = opendir(path);
  if (!d) return 0;
  long long sum = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char p[4400];
    snprintf(p, sizeof p, "%s/%s", path, e->d_name);
    struct stat st;
    if (lstat(p, &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) sum += dir_bytes(p);
    else if (S_ISREG(st.st_mode)) sum += st.st_size;
  }
  closedir(d);
  return sum;
}

static void print_size(long long b) {
  if (b >= (1LL << 30)) printf("%.2f GB", b / 1073741824.0);
  else printf("%.1f MB", b / 1048576.0);
}

/* What `models list` found: printed as it goes, or gathered for --json. */
typedef struct {
  cJSON *json; /* NULL: text */
  int verbose;
} listing;

/* One model: NAME, where it is from, its size in bytes (< 0: not known), its path. */
static void row(listing *l, const char *name, const char *kind, long long bytes, const char *path) {
  char desc[512] = "";
  sd_model m;
  if (l->verbose && path[0] == '/' && !sd_model_open(path, &m)) {
    sd_model_describe(&m, desc, sizeof desc);
    sd_model_close(&m);
  }
  if (l->json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "kind", kind);
    if (bytes >= 0) cJSON_AddNumberToObject(o, "bytes", (double)bytes);
    else cJSON_AddNullToObject(o, "bytes");
    cJSON_AddStringToObject(o, "path", path);
    if (l->verbose) cJSON_AddStringToObject(o, "description", desc);
    cJSON_AddItemToArray(l->json, o);
    return;
  }
  printf("%s\t%s\t", name, kind);
  if (bytes >= 0) print_size(bytes);
  else printf("-");
  printf("\t%s\n", path);
  if (*desc) printf("#\t%s\n", desc);
}

static int is_dir(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* What a folder or file that is no Stable Diffusion pipeline is to us: "taesd" (--taesd,
 * --preview-taesd), "vocoder" (--vocoder), or NULL. Opening it is the check. */
static const char *other_kind(const char *path, int folder) {
  taesd *t = NULL;
  if (!taesd_open(path, &t)) {
    taesd_free(t);
    return "taesd";
  }
  vocoder *v = NULL;
  if (folder && !vocoder_open(path, &v)) {
    vocoder_close(v);
    return "vocoder";
  }
  return NULL;
}

/* A single .safetensors file: "lora" (--lora), "taesd", or else a "single-file" checkpoint. */
static const char *file_kind(const char *path) {
  st_file f;
  if (!st_open(path, &f)) {
    int lora = sd_lora_file_is_lora(&f);
    st_close(&f);
    if (lora) return "lora";
  }
  return other_kind(path, 0) ? "taesd" : "single-file";
}

static int list_cache(listing *l, const char *hub) {
  DIR *d = opendir(hub);
  int n = 0;
  if (!d) return 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (strncmp(e->d_name, "models--", 8)) continue;
    const char *org = e->d_name + 8, *sep = strstr(org, "--");
    if (!sep) continue;
    char name[512], snap[4096], idx[4200], blobs[4500];
    snprintf(name, sizeof name, "%.*s/%s", (int)(sep - org), org, sep + 2);
    if (hub_snapshot(hub, name, snap, sizeof snap)) continue; /* incomplete, or not ours */
    snprintf(idx, sizeof idx, "%s/model_index.json", snap);
    const char *kind = is_file(idx) ? "hf-cache" : other_kind(snap, 1);
    if (!kind) continue;
    snprintf(blobs, sizeof blobs, "%s/%s/blobs", hub, e->d_name);
    row(l, name, kind, dir_bytes(blobs), snap);
    n++;
  }
  closedir(d);
  return n;
}

/* PREFIX_decoder.safetensors beside PREFIX_encoder.safetensors: the original TAESD pair, which
 * its encoder's row shows. */
static int pair_decoder(const char *dir, const char *name) {
  size_t len = strlen(name), sl = strlen("_decoder.safetensors");
  char enc[4400];
  if (len <= sl || strcmp(name + len - sl, "_decoder.safetensors")) return 0;
  snprintf(enc, sizeof enc, "%s/%.*s_encoder.safetensors", dir, (int)(len - sl), name);
  return is_file(enc);
}

static int list_dir(listing *l, const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  if (!d) return -1;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char p[4400], idx[4500];
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    snprintf(idx, sizeof idx, "%s/model_index.json", p);
    size_t len = strlen(e->d_name);
    int safetensors = len > 12 && !strcmp(e->d_name + len - 12, ".safetensors");
    const char *kind = NULL;
    if (is_dir(p)) kind = is_file(idx) ? "diffusers" : other_kind(p, 1);
    else if (is_file(p) && safetensors && !pair_decoder(dir, e->d_name)) kind = file_kind(p);
    else if (is_file(p) && len > 5 && !strcmp(e->d_name + len - 5, ".ckpt")) kind = "single-file";
    if (!kind) continue;
    struct stat st;
    row(l, e->d_name, kind, is_dir(p) ? dir_bytes(p) : stat(p, &st) == 0 ? (long long)st.st_size : -1, p);
    n++;
  }
  closedir(d);
  return n;
}

static int models_list(const char *cache, const char *model_dir, int json, int verbose) {
  char hub[4096];
  if (cache) snprintf(hub, sizeof hub, "%s", cache);
  else hub_cache_dir(hub, sizeof hub);
  if (model_dir && !is_dir(model_dir)) {
    fprintf(stderr, "a2i2a: %s: --model-dir is not a folder\n", model_dir);
    return EXIT_RUNTIME;
  }
  listing l = {.json = json ? cJSON_CreateArray() : NULL, .verbose = verbose};
  if (!json) printf("# name\tkind\tsize\tpath\n");
  int n = list_cache(&l, hub);
  const char *env = getenv("A2I2A_MODEL");
  if (env && *env) {
    char real[4096];
    const char *path = is_dir(env) || is_file(env) ? (realpath(env, real) ? real : env)
                       : hub_repo_valid(env)       ? "(resolved in the hub cache)"
                                                   : "(missing)";
    row(&l, env, "A2I2A_MODEL", -1, path);
    n++;
  }
  if (model_dir) n += list_dir(&l, model_dir);
  if (!n) fprintf(stderr, "no models found in %s%s%s; get one with 'a2i2a models pull ORG/NAME'\n", hub,
                  model_dir ? " or " : "", model_dir ? model_dir : "");
  return json ? cli_print_json(l.json) : EXIT_OK;
}

int cmd_models(int argc, char **argv) {
  models_ctx c = {0};
  cli_args a;
  int rc = cli_parse(&cli_models, argc, argv, NULL, NULL, &a, handle, &c);
  if (rc != CLI_CONTINUE) return rc;
  const char *revision = c.revision, *cache = c.cache, *model_dir = c.model_dir;
  /* optind: the first operand, as getopt named it */
  int progress = a.progress == CLI_QUIET ? -1 : c.plain, optind = a.operand;
  cli_verbose(a.verbose);
  if (optind >= argc) return cli_usage_error("models", "expected 'pull ORG/NAME', 'list' or 'convert IN'");
  const char *action = argv[optind++];
  if (a.force && strcmp(action, "convert")) return cli_usage_error("models", "--force is for convert");
  if (!strcmp(action, "convert")) {
    if (optind >= argc || argc - optind > 2) return cli_usage_error("models", "convert takes IN and an optional OUT");
    if (revision || model_dir || cache)
      return cli_usage_error("models", "convert takes no --revision, --model-dir or --cache-dir");
    a2i2a_job *job = cli_job_new(progress);
    if (!job) return cli_fail(A2I2A_ERR_NOMEM);
    char written[4200];
    a2i2a_status st = a2i2a_models_convert(argv[optind], optind + 1 < argc ? argv[optind + 1] : NULL, a.force, written,
                                           sizeof written, job);
    cli_job_done(job);
    if (st) return cli_fail(st);
    printf("%s\n", written);
    return EXIT_OK;
  }
  if (!strcmp(action, "list")) {
    if (optind < argc) return cli_usage_error("models", "list takes no arguments (got '%s')", argv[optind]);
    if (revision) return cli_usage_error("models", "--revision is for pull");
    return models_list(cache, model_dir, a.json, a.verbose);
  }
  if (strcmp(action, "pull")) return cli_usage_error("models", "unknown action '%s' (pull, list, convert)", action);
  if (optind >= argc) return cli_usage_error("models", "pull needs ORG/NAME");
  if (argc - optind > 1) return cli_usage_error("models", "pull takes one ORG/NAME");
  if (model_dir) return cli_usage_error("models", "--model-dir is for list");
  if (a.json) return cli_usage_error("models", "--json is for list");
  const char *repo = argv[optind];
  if (!hub_repo_valid(repo)) return cli_usage_error("models", "'%s' is not a Hugging Face model name (ORG/NAME)", repo);
  a2i2a_pull_params p = a2i2a_pull_default_params();
  p.revision = revision;
  p.cache_dir = cache;
  a2i2a_job *job = cli_job_new(progress);
  if (!job) return cli_fail(A2I2A_ERR_NOMEM);
  char snap[4096];
  a2i2a_status st = a2i2a_models_pull(repo, &p, snap, sizeof snap, job);
  cli_job_done(job);
  if (st) return cli_fail(st);
  /* check that what arrived is something we can run: a pipeline, a TAESD (one diffusers model
   * at the top, no model_index.json), or else a vocoder */
  char desc[512], index[4200], top[4200];
  snprintf(index, sizeof index, "%s/model_index.json", snap);
  snprintf(top, sizeof top, "%s/diffusion_pytorch_model.safetensors", snap);
  if (access(index, F_OK) == 0) {
    sd_model m;
    st = sd_model_open(snap, &m);
    if (!st) sd_model_describe(&m, desc, sizeof desc), sd_model_close(&m);
  } else if (access(top, F_OK) == 0) {
    taesd *t = NULL;
    st = taesd_open(snap, &t);
    taesd_free(t);
    snprintf(desc, sizeof desc, "%s: a TAESD (AutoencoderTiny): paint with --taesd %s", repo, repo);
  } else {
    vocoder *v;
    st = vocoder_open(snap, &v);
    if (!st) vocoder_describe(v, desc, sizeof desc), vocoder_close(v);
  }
  if (st) {
    fprintf(stderr, "a2i2a: %s was downloaded to %s, but a2i2a cannot use it: %s\n", repo, snap, a2i2a_last_error());
    return EXIT_RUNTIME;
  }
  if (progress >= 0) fprintf(stderr, "%s\n", desc);
  printf("%s\n", snap);
  return EXIT_OK;
}
