/* bench_lora: the cost of merging a LoRA into a full-size model, and a guided UNet step with and
 * without it (the weights are merged, so the step should cost the same).
 *
 *   bench_lora MODEL [--rank N] [--locon] [--threads N] [--reps N] [--size HxW]
 *
 * MODEL: any checkpoint a2i2a opens; `make_sd_checkpoint sd15 OUT.safetensors` writes a full-size
 * SD 1.5 with random F16 weights. The LoRA is made in memory in the kohya-ss format, F16, rank N
 * (default 16), with random values, on the layers a typical kohya-ss LoRA covers: every attention
 * block's proj_in/proj_out, to_q/k/v/out of both attentions and the feed-forward of the UNet, and
 * q/k/v/out_proj and mlp.fc1/fc2 of every text-encoder layer; --locon adds the resnets' 3x3 and
 * shortcut convolutions, time_emb_proj and the samplers (the LoCon extension). The merge time is
 * sd_lora_apply's whole call (parsing, hashing, matching, merging, renewing the networks' views).
 * The step: one unet_forward_batch of 2 latents (the guided pair) at HxW (default 37x50, a
 * 400x296 picture), REPS times each way, alternately. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "a2i2a.h"
#include "common/err.h"
#include "sd/lora.h"
#include "sd/pipeline.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static double cpu_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_d);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

typedef struct {
  st_tensor t[4096];
  int n;
  size_t bytes;
  int layers;
} lora_maker;

static uint32_t rng = 12345;
static float rnd(void) {
  rng = rng * 1664525u + 1013904223u;
  return ((rng >> 8) / 16777216.0f - 0.5f) * 0.02f;
}

static void put(lora_maker *mk, const char *name, int ndim, const int64_t *shape) {
  st_tensor *t = &mk->t[mk->n++];
  memset(t, 0, sizeof *t);
  t->name = strdup(name);
  t->dtype = ST_F16;
  t->ndim = ndim;
  t->numel = 1;
  for (int d = 0; d < ndim; d++) t->shape[d] = shape[d], t->numel *= (size_t)shape[d];
  t->nbytes = t->numel * 2;
  uint16_t *h = malloc(t->nbytes);
  for (size_t i = 0; i < t->numel; i++) h[i] = f32_to_f16(rnd());
  t->data = h;
  mk->bytes += t->nbytes;
}

/* A layer of the LoRA for the model's weight w (kohya name key). */
static void add_layer(lora_maker *mk, const char *key, const st_tensor *w, int64_t rank) {
  char name[600];
  int64_t down[4] = {rank, w->shape[1], w->ndim == 4 ? w->shape[2] : 0, w->ndim == 4 ? w->shape[3] : 0};
  int64_t up[4] = {w->shape[0], rank, 1, 1};
  snprintf(name, sizeof name, "%s.lora_down.weight", key);
  put(mk, name, w->ndim, down);
  snprintf(name, sizeof name, "%s.lora_up.weight", key);
  put(mk, name, w->ndim == 4 ? 4 : 2, up);
  mk->layers++;
}

typedef struct {
  char **v;
  int n;
} names;

static void collect(const char *name, size_t numel, void *arg) {
  (void)numel;
  names *l = arg;
  l->v = realloc(l->v, (size_t)(l->n + 1) * sizeof *l->v);
  l->v[l->n++] = strdup(name);
}

static int wanted(const char *module, int locon) {
  static const char *attn[] = {".proj_in", ".proj_out", ".to_q", ".to_k", ".to_v", ".to_out.0", ".ff.net.0.proj",
                               ".ff.net.2"};
  static const char *conv[] = {".conv1", ".conv2", ".conv_shortcut", ".time_emb_proj", "samplers.0.conv"};
  size_t n = strlen(module);
  for (size_t i = 0; i < sizeof attn / sizeof *attn; i++)
    if (strstr(module, ".attentions.") && n > strlen(attn[i]) && !strcmp(module + n - strlen(attn[i]), attn[i])) return 1;
  for (size_t i = 0; locon && i < sizeof conv / sizeof *conv; i++)
    if (n > strlen(conv[i]) && !strcmp(module + n - strlen(conv[i]), conv[i])) return 1;
  return 0;
}

static uint8_t *make_lora(struct a2i2a_model *m, int64_t rank, int locon, size_t *len, int *layers) {
  lora_maker *mk = calloc(1, sizeof *mk);
  names dif = {0}, own = {0};
  unet_list_tensor_names(&m->m, 0, collect, &dif);
  unet_list_tensor_names(&m->m, m->m.layout == SD_LAYOUT_LDM, collect, &own);
  char module[512], key[600];
  for (int i = 0; i < dif.n && i < own.n; i++) {
    size_t n = strlen(dif.v[i]);
    if (n < 8 || strcmp(dif.v[i] + n - 7, ".weight")) continue;
    snprintf(module, sizeof module, "%.*s", (int)(n - 7), dif.v[i]);
    const st_tensor *w = sd_tensor(&m->m, SD_UNET, own.v[i]);
    if (!w || w->ndim < 2 || !wanted(module, locon)) continue;
    int k = snprintf(key, sizeof key, "lora_unet_");
    for (const char *p = module; *p; p++) key[k++] = *p == '.' ? '_' : *p;
    key[k] = 0;
    add_layer(mk, key, w, rank);
  }
  static const char *te[] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj",
                             "mlp.fc1", "mlp.fc2"};
  static const char *prefixes[] = {"text_model.", "cond_stage_model.transformer.text_model."};
  for (int l = 0;; l++) {
    int found = 0;
    for (int j = 0; j < 6; j++) {
      const st_tensor *w = NULL;
      char name[600];
      for (int p = 0; p < 2 && !w; p++) {
        snprintf(name, sizeof name, "%sencoder.layers.%d.%s.weight", prefixes[p], l, te[j]);
        w = sd_tensor(&m->m, SD_TEXT, name);
      }
      if (!w) continue;
      found = 1;
      snprintf(name, sizeof name, "lora_te_text_model_encoder_layers_%d_%s", l, te[j]);
      for (char *p = name; *p; p++)
        if (*p == '.') *p = '_';
      add_layer(mk, name, w, rank);
    }
    if (!found) break;
  }
  char *hdr;
  size_t hl;
  st_header(mk->t, mk->n, NULL, NULL, 0, &hdr, &hl);
  uint8_t *b = malloc(hl + mk->bytes), *p = b + hl;
  memcpy(b, hdr, hl);
  for (int i = 0; i < mk->n; i++) {
    memcpy(p, mk->t[i].data, mk->t[i].nbytes);
    p += mk->t[i].nbytes;
    free((void *)mk->t[i].data), free(mk->t[i].name);
  }
  *len = hl + mk->bytes;
  *layers = mk->layers;
  free(hdr), free(mk);
  for (int i = 0; i < dif.n; i++) free(dif.v[i]);
  for (int i = 0; i < own.n; i++) free(own.v[i]);
  free(dif.v), free(own.v);
  return b;
}

int main(int argc, char **argv) {
  const char *model = NULL;
  int rank = 16, locon = 0, threads = 0, reps = 3, h = 37, w = 50;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--rank") && i + 1 < argc) rank = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--locon")) locon = 1;
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--size") && i + 1 < argc) sscanf(argv[++i], "%dx%d", &h, &w);
    else if (argv[i][0] != '-') model = argv[i];
    else {
      fprintf(stderr, "usage: bench_lora MODEL [--rank N] [--locon] [--threads N] [--reps N] [--size HxW]\n");
      return 2;
    }
  }
  if (!model || rank < 1 || reps < 1 || reps > 64) {
    fprintf(stderr, "usage: bench_lora MODEL [--rank N] [--locon] [--threads N] [--reps N] [--size HxW]\n");
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0); /* each line as it comes: runs on a busy machine are long */
  if (threads) a2i2a_set_threads(threads);
  struct a2i2a_model *m = NULL;
  double t0 = now();
  if (sd_pipeline_open(model, &m)) {
    fprintf(stderr, "bench_lora: %s\n", a2i2a_last_error());
    return 1;
  }
  char desc[512];
  sd_model_describe(&m->m, desc, sizeof desc);
  printf("model: %s (opened in %.2f s)\nthreads: %d\n", desc, now() - t0, a2i2a_get_threads());
  size_t len;
  int layers;
  uint8_t *bytes = make_lora(m, rank, locon, &len, &layers);
  printf("LoRA: rank %d, %d layers%s, %.1f MB (F16)\n", rank, layers, locon ? " (LoCon: with the convolutions)" : "",
         len / 1e6);
  a2i2a_lora l = {.path = "bench.safetensors", .data = bytes, .size = len, .scale = 1.0};
  double wall[64], cpu[64];
  for (int r = 0; r < reps; r++) {
    if (sd_lora_apply(m, NULL, 0, NULL)) return 1; /* back to the checkpoint: the next apply merges */
    double w0 = now(), c0 = cpu_now();
    if (sd_lora_apply(m, &l, 1, NULL)) {
      fprintf(stderr, "bench_lora: %s\n", a2i2a_last_error());
      return 1;
    }
    wall[r] = now() - w0, cpu[r] = cpu_now() - c0;
    printf("merge %d: %.3f s wall, %.3f s CPU (%d tensors)\n", r + 1, wall[r], cpu[r], m->loras.npatches);
  }
  printf("merge median: %.3f s wall, %.3f s CPU\n", median(wall, reps), median(cpu, reps));

  /* the guided step, with and without */
  int ctxd = sd_context_dim(m);
  size_t nl = (size_t)4 * h * w;
  float *x = malloc(2 * nl * sizeof *x), *y = malloc(2 * nl * sizeof *y),
        *ctx = malloc((size_t)2 * CLIP_CTX * ctxd * sizeof *ctx), t[2] = {500, 500};
  for (size_t i = 0; i < 2 * nl; i++) x[i] = rnd() * 50;
  for (size_t i = 0; i < (size_t)2 * CLIP_CTX * ctxd; i++) ctx[i] = rnd() * 50;
  double step[2][64], step_cpu[2][64];
  for (int r = 0; r < reps; r++)
    for (int with = 0; with < 2; with++) {
      if (sd_lora_apply(m, with ? &l : NULL, with, NULL)) return 1;
      unet_forward_batch(m->unet, 2, x, h, w, t, ctx, CLIP_CTX, y); /* buffers for this size */
      double w0 = now(), c0 = cpu_now();
      unet_forward_batch(m->unet, 2, x, h, w, t, ctx, CLIP_CTX, y);
      step[with][r] = now() - w0;
      step_cpu[with][r] = cpu_now() - c0;
      printf("step %s LoRA: %.3f s wall, %.3f s CPU\n", with ? "with" : "without", step[with][r], step_cpu[with][r]);
    }
  double s0 = median(step[0], reps), s1 = median(step[1], reps);
  printf("guided step at %dx%d latents, median: without %.3f s, with %.3f s (ratio %.3f)\n", h, w, s0, s1, s1 / s0);
  double c0 = median(step_cpu[0], reps), c1 = median(step_cpu[1], reps);
  printf("guided step CPU, median: without %.3f s, with %.3f s (ratio %.3f)\n", c0, c1, c1 / c0);
  free(x), free(y), free(ctx), free(bytes);
  sd_pipeline_close(m);
  return 0;
}
