/* bench_unet: seconds per UNet evaluation of an SD 1.5-shaped UNet, peak RSS, GFLOP/s against
 * the machine's sgemm ceiling at the same thread count.
 *
 *   bench_unet [--model PATH] [--threads N] [--reps N] [--size HxW]...
 *
 * --model: any checkpoint a2i2a opens (diffusers folder, single file); without it, an SD 1.5
 * UNet (diffusers config, 860M parameters) with random F16 weights is built in memory, which
 * costs the same resident memory as the mapped F16 checkpoint would. --size is the latent size
 * (default 64x64 and 37x50, i.e. 512x512 and 400x296 pictures); --no-winograd makes every 3x3
 * convolution an im2col GEMM; --no-f4 keeps Winograd to 2x2 output tiles (F(2x2,3x3), as before
 * F(4x4,3x3)), --f4-min-pixels N takes 4x4 tiles from N output pixels; --no-fused keeps the maps
 * below the Winograd minimum on im2col, --fused-tile 2|4 sets their Winograd tile. --profile (or
 * A2I2A_UNET_PROFILE=1; =cpu for process CPU time)
 * prints a per-kind time profile on stderr after every evaluation. */
#include <cblas.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "a2i2a.h"
#include "common/err.h"
#include "sd/kernels.h"
#include "sd/model.h"
#include "sd/safetensors.h"
#include "sd/unet.h"

static const char *SD15_UNET_CONFIG =
    "{\"_class_name\": \"UNet2DConditionModel\", \"act_fn\": \"silu\", \"attention_head_dim\": 8,"
    " \"block_out_channels\": [320, 640, 1280, 1280], \"center_input_sample\": false,"
    " \"cross_attention_dim\": 768, \"down_block_types\": [\"CrossAttnDownBlock2D\", \"CrossAttnDownBlock2D\","
    " \"CrossAttnDownBlock2D\", \"DownBlock2D\"], \"downsample_padding\": 1, \"flip_sin_to_cos\": true,"
    " \"freq_shift\": 0, \"in_channels\": 4, \"layers_per_block\": 2, \"mid_block_scale_factor\": 1,"
    " \"norm_eps\": 1e-05, \"norm_num_groups\": 32, \"out_channels\": 4, \"sample_size\": 64,"
    " \"up_block_types\": [\"UpBlock2D\", \"CrossAttnUpBlock2D\", \"CrossAttnUpBlock2D\", \"CrossAttnUpBlock2D\"]}";

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static double cpu_now(void) { /* CPU time of the process, all threads */
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static double peak_rss_mb(void) {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  return r.ru_maxrss / 1024.0;
}

static void loadavg(char *buf, size_t n) {
  FILE *f = fopen("/proc/loadavg", "r");
  buf[0] = 0;
  if (f) {
    if (!fgets(buf, (int)n, f)) buf[0] = 0;
    fclose(f);
  }
  buf[strcspn(buf, "\n")] = 0;
}

/* One evaluation's profile: "unet HxW xNB: T s: KIND T ... untimed T". */
static void print_profile(const unet_profile *p, int h, int w, int nb) {
  double acc = 0;
  fprintf(stderr, "unet %dx%d x%d: %.3f s%s:", h, w, nb, p->total, p->cpu ? " CPU" : "");
  for (int k = 0; k < UNET_PROF_N; k++) {
    fprintf(stderr, " %s %.3f", unet_profile_names[k], p->kind[k]);
    acc += p->kind[k];
  }
  fprintf(stderr, " untimed %.3f\n", p->total - acc);
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t xorshift(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

typedef struct {
  char **names;
  size_t *numel;
  int n;
} tensor_list;

static void collect(const char *name, size_t numel, void *arg) {
  tensor_list *l = arg;
  l->names = realloc(l->names, sizeof(char *) * (l->n + 1));
  l->numel = realloc(l->numel, sizeof(size_t) * (l->n + 1));
  l->names[l->n] = strdup(name);
  l->numel[l->n++] = numel;
}

/* An in-memory diffusers-layout model whose UNet file holds random F16 tensors. */
static a2i2a_status synthetic_model(sd_model *m, uint8_t **storage) {
  memset(m, 0, sizeof *m);
  snprintf(m->path, sizeof m->path, "synthetic-sd15");
  snprintf(m->name, sizeof m->name, "synthetic SD 1.5 UNet (random F16)");
  m->layout = SD_LAYOUT_DIFFUSERS;
  m->family = 1;
  m->config[SD_UNET] = cJSON_Parse(SD15_UNET_CONFIG);
  tensor_list l = {0};
  a2i2a_status st = unet_list_tensors(m, collect, &l);
  if (st) return st;
  size_t cap = 64 + (size_t)l.n * 160, hl = 0, off = 0;
  char *hdr = malloc(cap);
  hl += (size_t)snprintf(hdr + hl, cap - hl, "{");
  for (int i = 0; i < l.n; i++) {
    hl += (size_t)snprintf(hdr + hl, cap - hl, "%s\"%s\":{\"dtype\":\"F16\",\"shape\":[%zu],\"data_offsets\":[%zu,%zu]}",
                           i ? "," : "", l.names[i], l.numel[i], off, off + 2 * l.numel[i]);
    off += 2 * l.numel[i];
  }
  hl += (size_t)snprintf(hdr + hl, cap - hl, "}");
  size_t len = 8 + hl + off;
  uint8_t *buf = malloc(len);
  if (!buf) return fail(A2I2A_ERR_NOMEM, "synthetic model: %zu MB", len >> 20);
  for (int i = 0; i < 8; i++) buf[i] = (uint8_t)(hl >> (8 * i));
  memcpy(buf + 8, hdr, hl);
  /* vectors (norms, biases) near 1, matrices small: activations stay O(1). A block of random
   * halves is repeated at shifting offsets (the values do not matter for speed, only their range). */
  enum { NR = 1 << 20 };
  uint16_t *small = malloc(2 * NR), near1[4096];
  for (int i = 0; i < NR; i++) small[i] = f32_to_f16(((float)(xorshift() % 2001) / 1000.0f - 1.0f) * 0.03f);
  for (int i = 0; i < 4096; i++) near1[i] = f32_to_f16(0.9f + 0.2f * (float)(xorshift() % 1001) / 1000.0f);
  uint16_t *d = (uint16_t *)(buf + 8 + hl);
  for (int i = 0; i < l.n; i++) {
    for (size_t k = 0; k < l.numel[i];) {
      size_t o = xorshift() % (NR / 2), c = l.numel[i] - k < NR / 2 ? l.numel[i] - k : NR / 2;
      memcpy(d + k, l.numel[i] <= 4096 ? near1 : small + o, 2 * (l.numel[i] <= 4096 ? l.numel[i] : c));
      k += l.numel[i] <= 4096 ? l.numel[i] : c;
    }
    d += l.numel[i];
    free(l.names[i]);
  }
  free(small);
  free(l.names);
  free(l.numel);
  free(hdr);
  st = st_parse(buf, len, "synthetic-sd15", &m->file[SD_UNET]);
  *storage = buf;
  return st;
}

static double sgemm_ceiling(void) {
  int n = 2048;
  float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n), *c = malloc(sizeof(float) * n * n);
  for (int i = 0; i < n * n; i++) a[i] = b[i] = (float)(i % 7) * 0.1f;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
  double best = 1e9;
  for (int r = 0; r < 3; r++) {
    double t0 = now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
    double t = now() - t0;
    best = t < best ? t : best;
  }
  free(a);
  free(b);
  free(c);
  return 2.0 * n * n * n / best / 1e9;
}

int main(int argc, char **argv) {
  const char *model = NULL;
  int threads = 2, reps = 2, nsizes = 0, sizes[16][2], flops_only = 0, nb = 1;
  long resident_mb = -1; /* --resident: -1 keeps every weight mapped */
  const char *env = getenv("A2I2A_UNET_PROFILE");
  int profile = env && *env && strcmp(env, "0");
  unet_profile prof = {.cpu = env && !strcmp(env, "cpu")};
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--model") && i + 1 < argc) model = argv[++i];
    else if (!strcmp(argv[i], "--profile")) profile = 1;
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--flops")) flops_only = 1;
    else if (!strcmp(argv[i], "--no-winograd")) kernels_tune(1 << 30, 0); /* im2col GEMMs for every 3x3 conv */
    else if (!strcmp(argv[i], "--winograd-min-pixels") && i + 1 < argc)
      kernels_tune_winograd_min_pixels((size_t)atol(argv[++i]));
    else if (!strcmp(argv[i], "--no-f4")) kernels_tune_winograd_f4(SIZE_MAX); /* Winograd with 2x2 tiles only */
    else if (!strcmp(argv[i], "--f4-min-pixels") && i + 1 < argc) kernels_tune_winograd_f4((size_t)atol(argv[++i]));
    else if (!strcmp(argv[i], "--no-fused")) kernels_tune_winograd_fused(INT_MAX, 0); /* small maps: im2col */
    else if (!strcmp(argv[i], "--fused-min-c") && i + 1 < argc) kernels_tune_winograd_fused(atoi(argv[++i]), 0);
    else if (!strcmp(argv[i], "--fused-avx512") && i + 1 < argc) kernels_tune_winograd_avx512(1, atoi(argv[++i]));
    else if (!strcmp(argv[i], "--no-avx512")) kernels_tune_winograd_avx512(0, 0);
    else if (!strcmp(argv[i], "--fused-tile") && i + 1 < argc) kernels_tune_winograd_fused(0, atoi(argv[++i]));
    else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--resident") && i + 1 < argc) resident_mb = atol(argv[++i]);
    else if (!strcmp(argv[i], "--batch") && i + 1 < argc && (nb = atoi(argv[++i])) >= 1 && nb <= UNET_MAX_BATCH) continue;
    else if (!strcmp(argv[i], "--size") && i + 1 < argc && nsizes < 16 &&
             sscanf(argv[++i], "%dx%d", &sizes[nsizes][0], &sizes[nsizes][1]) == 2)
      nsizes++;
    else {
      fprintf(stderr, "usage: bench_unet [--model PATH] [--threads N] [--reps N] [--size HxW]... [--batch N] [--flops] [--no-winograd] [--winograd-min-pixels N] [--no-f4] [--f4-min-pixels N] [--no-fused] [--fused-tile 2|4] [--resident MB] [--profile]\n"
                      "  --batch N: N images per UNet call, as guidance's [uncond, cond] pair (N = 2); times are\n"
                      "  reported per call and per image\n"
                      "  --resident MB: keep only the first MB of the UNet's weights mapped, stream the rest\n"
                      "  (unet_set_resident_weights; 0 = the low-memory mode)\n");
      return 2;
    }
  }
  if (!nsizes) {
    sizes[0][0] = 64, sizes[0][1] = 64;
    sizes[1][0] = 37, sizes[1][1] = 50;
    nsizes = 2;
  }
  a2i2a_set_threads(threads);
  char la[128];
  loadavg(la, sizeof la);
  printf("threads %d, %s, load average at start: %s\n", threads, a2i2a_blas_kernels(), la);
  double ceiling = sgemm_ceiling();
  printf("sgemm ceiling (2048^3, %d threads): %.1f GFLOP/s\n", threads, ceiling);

  sd_model m;
  uint8_t *storage = NULL;
  double t0 = now();
  a2i2a_status st = model ? sd_model_open(model, &m) : synthetic_model(&m, &storage);
  unet *u = NULL;
  if (!st) st = unet_load(&u, &m);
  if (st) {
    fprintf(stderr, "bench_unet: %s\n", a2i2a_last_error());
    return 1;
  }
  printf("model: %s (ready in %.1f s)\n", model ? model : m.name, now() - t0);
  if (profile) unet_set_profile(u, &prof);
  if (resident_mb >= 0) unet_set_resident_weights(u, (size_t)resident_mb << 20);
  int nctx = 77, dctx = unet_context_dim(u);
  float *ctx = malloc(sizeof(float) * nctx * dctx * nb);
  for (int i = 0; i < nctx * dctx * nb; i++) ctx[i] = (float)((int)(xorshift() % 2001) - 1000) / 1000.0f;
  for (int s = 0; s < nsizes && flops_only; s++)
    printf("latent %dx%d: %.1f GFLOP\n", sizes[s][0], sizes[s][1], unet_flops(u, sizes[s][0], sizes[s][1], nctx) / 1e9);
  for (int s = 0; s < nsizes && !flops_only; s++) {
    int h = sizes[s][0], w = sizes[s][1];
    size_t n = (size_t)4 * h * w * nb;
    float tb[UNET_MAX_BATCH];
    float *x = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * n);
    for (size_t i = 0; i < n; i++) x[i] = (float)((int)(xorshift() % 2001) - 1000) / 1000.0f;
    t0 = now();
    for (int i = 0; i < nb; i++) tb[i] = 500.0f;
    st = unet_forward_batch(u, nb, x, h, w, tb, ctx, nctx, y);
    double first = now() - t0, best = 1e9, sum = 0, cpu_best = 1e9;
    if (profile && !st) print_profile(&prof, h, w, nb);
    for (int r = 0; r < reps && !st; r++) {
      t0 = now();
      double c0 = cpu_now();
      for (int i = 0; i < nb; i++) tb[i] = 999.0f - 100 * r;
      st = unet_forward_batch(u, nb, x, h, w, tb, ctx, nctx, y);
      double t = now() - t0, c = cpu_now() - c0;
      if (profile && !st) print_profile(&prof, h, w, nb);
      sum += t;
      best = t < best ? t : best;
      cpu_best = c < cpu_best ? c : cpu_best;
    }
    if (st) {
      fprintf(stderr, "bench_unet: %s\n", a2i2a_last_error());
      return 1;
    }
    double gf = nb * unet_flops(u, h, w, nctx) / 1e9;
    loadavg(la, sizeof la);
    printf("latent %dx%d (%dx%d px) x%d: %.1f GFLOP; first %.2f s, best %.2f s, mean %.2f s over %d", h, w, w * 8,
           h * 8, nb, gf, first, best, sum / reps, reps);
    if (nb > 1) printf(" (per image: best %.2f s, mean %.2f s)", best / nb, sum / reps / nb);
    printf("; %.1f GFLOP/s = %.0f%% of sgemm; CPU %.2f s (all threads); buffers %.0f MB; load %s\n", gf / best,
           100 * gf / best / ceiling, cpu_best, unet_buffer_bytes(u) / 1e6, la);
    free(x);
    free(y);
  }
  printf("peak RSS %.0f MB\n", peak_rss_mb());
  unet_free(u);
  if (storage) {
    st_close(&m.file[SD_UNET]);
    cJSON_Delete(m.config[SD_UNET]);
    free(storage);
  } else {
    sd_model_close(&m);
  }
  free(ctx);
  return 0;
}
