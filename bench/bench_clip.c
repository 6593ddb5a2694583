/* Text-encoder time for one 77-token prompt.
 *
 *   bench_clip [--threads N] [--f16] [--runs R] [MODEL]
 *
 * Without MODEL: an in-memory SD 1.5-shaped CLIP ViT-L/14 text encoder (hidden 768, 12 layers,
 * 12 heads, MLP 3072, vocab 49408, quick_gelu) with random weights, F32 (the layout of
 * v1-5-pruned-emaonly.safetensors) or F16 (--f16, diffusers' fp16 variant). With MODEL: that
 * checkpoint's own encoder. Prints the tokenizer load time, then min / median of R encodes. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "a2i2a.h"
#include "common/job.h"
#include "common/rng.h"
#include "sd/clip.h"

/* CPU seconds of the whole process (all threads): on a shared, loaded machine wall time
 * overstates the cost, CPU time / threads is what an idle machine would take */
static double cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* builds a safetensors image of a ViT-L/14 text encoder in memory (transformers names) */
static uint8_t *make_encoder(int f16, size_t *len) {
  const int D = 768, L = 12, I = 3072, V = 49408, P = 77;
  struct {
    char name[128];
    int64_t s0, s1;
    int is_norm;
  } t[16 * 12 + 8];
  int n = 0;
#define T(nm, a, b, norm)                                                     \
  do {                                                                        \
    snprintf(t[n].name, sizeof t[n].name, "%s", nm);                          \
    t[n].s0 = a, t[n].s1 = b, t[n].is_norm = norm;                            \
    n++;                                                                      \
  } while (0)
  T("text_model.embeddings.token_embedding.weight", V, D, 0);
  T("text_model.embeddings.position_embedding.weight", P, D, 0);
  for (int l = 0; l < L; l++) {
    char b[128];
    static const char *proj[] = {"q_proj", "k_proj", "v_proj", "out_proj"};
    for (int k = 0; k < 4; k++) {
      snprintf(b, sizeof b, "text_model.encoder.layers.%d.self_attn.%s.weight", l, proj[k]);
      T(b, D, D, 0);
      snprintf(b, sizeof b, "text_model.encoder.layers.%d.self_attn.%s.bias", l, proj[k]);
      T(b, D, 0, 0);
    }
    for (int k = 1; k <= 2; k++) {
      snprintf(b, sizeof b, "text_model.encoder.layers.%d.layer_norm%d.weight", l, k);
      T(b, D, 0, 1);
      snprintf(b, sizeof b, "text_model.encoder.layers.%d.layer_norm%d.bias", l, k);
      T(b, D, 0, 0);
    }
    snprintf(b, sizeof b, "text_model.encoder.layers.%d.mlp.fc1.weight", l);
    T(b, I, D, 0);
    snprintf(b, sizeof b, "text_model.encoder.layers.%d.mlp.fc1.bias", l);
    T(b, I, 0, 0);
    snprintf(b, sizeof b, "text_model.encoder.layers.%d.mlp.fc2.weight", l);
    T(b, D, I, 0);
    snprintf(b, sizeof b, "text_model.encoder.layers.%d.mlp.fc2.bias", l);
    T(b, D, 0, 0);
  }
  T("text_model.final_layer_norm.weight", D, 0, 1);
  T("text_model.final_layer_norm.bias", D, 0, 0);
  size_t es = f16 ? 2 : 4, off = 0;
  cJSON *h = cJSON_CreateObject();
  for (int i = 0; i < n; i++) {
    cJSON *e = cJSON_AddObjectToObject(h, t[i].name);
    cJSON_AddStringToObject(e, "dtype", f16 ? "F16" : "F32");
    cJSON *s = cJSON_AddArrayToObject(e, "shape");
    cJSON_AddItemToArray(s, cJSON_CreateNumber((double)t[i].s0));
    if (t[i].s1) cJSON_AddItemToArray(s, cJSON_CreateNumber((double)t[i].s1));
    size_t numel = (size_t)t[i].s0 * (t[i].s1 ? (size_t)t[i].s1 : 1);
    cJSON *o = cJSON_AddArrayToObject(e, "data_offsets");
    cJSON_AddItemToArray(o, cJSON_CreateNumber((double)off));
    off += numel * es;
    cJSON_AddItemToArray(o, cJSON_CreateNumber((double)off));
  }
  char *js = cJSON_PrintUnformatted(h);
  size_t hl = (strlen(js) + 7) & ~(size_t)7;
  uint8_t *buf = malloc(8 + hl + off);
  uint64_t hl64 = hl;
  memcpy(buf, &hl64, 8);
  memset(buf + 8, ' ', hl);
  memcpy(buf + 8, js, strlen(js));
  free(js);
  cJSON_Delete(h);
  /* weights ~ N(0, 1/fan_in) (norm weights ~ N(1, 0.04)): activations stay O(1) */
  torch_rng g;
  rng_seed(&g, 1);
  uint8_t *p = buf + 8 + hl;
  float *tmp = malloc((size_t)V * D * sizeof(float));
  for (int i = 0; i < n; i++) {
    size_t numel = (size_t)t[i].s0 * (t[i].s1 ? (size_t)t[i].s1 : 1);
    rng_randn(&g, tmp, numel);
    float sc = t[i].is_norm ? 0.2f : t[i].s1 ? 1.0f / sqrtf((float)t[i].s1) : 0.02f;
    for (size_t k = 0; k < numel; k++) {
      float v = tmp[k] * sc + (t[i].is_norm ? 1.0f : 0.0f);
      if (f16) {
        uint16_t hv = f32_to_f16(v);
        memcpy(p + 2 * k, &hv, 2);
      } else
        memcpy(p + 4 * k, &v, 4);
    }
    p += numel * es;
  }
  free(tmp);
  *len = 8 + hl + off;
  return buf;
}

int main(int argc, char **argv) {
  int threads = 2, f16 = 0, runs = 10;
  const char *model = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--f16")) f16 = 1;
    else model = argv[i];
  }
  if (runs < 1) runs = 1;
  a2i2a_set_threads(threads);
  sd_model m;
  uint8_t *buf = NULL;
  double t0 = now_seconds();
  if (model) {
    if (sd_model_open(model, &m)) {
      fprintf(stderr, "%s\n", a2i2a_last_error());
      return 1;
    }
  } else {
    size_t len;
    buf = make_encoder(f16, &len);
    memset(&m, 0, sizeof m);
    snprintf(m.path, sizeof m.path, "random ViT-L/14 text encoder (%s)", f16 ? "F16" : "F32");
    m.layout = SD_LAYOUT_DIFFUSERS;
    m.family = 1;
    if (st_parse(buf, len, m.path, &m.file[SD_TEXT])) {
      fprintf(stderr, "%s\n", a2i2a_last_error());
      return 1;
    }
    m.config[SD_TEXT] = cJSON_Parse("{\"hidden_size\":768,\"num_hidden_layers\":12,\"num_attention_heads\":12,"
                                    "\"intermediate_size\":3072,\"hidden_act\":\"quick_gelu\",\"layer_norm_eps\":1e-5}");
  }
  double t1 = now_seconds();
  clip_tokenizer *tok;
  clip_text *c;
  if (tokenizer_load(&tok, &m) || clip_load(&c, &m)) {
    fprintf(stderr, "%s\n", a2i2a_last_error());
    return 1;
  }
  double t2 = now_seconds();
  /* a prompt of more than 75 tokens: all 77 positions are real text */
  const char *prompt =
      "riffusion spectrogram of jazz piano, 120 bpm, mel scale, lo-fi hip hop, "
      "caffeinated thoughts of a tired college student pulling their 2nd all nighter flying saucers and jellyfish "
      "living forever spicy pumpkin coffee abstract image no concrete objects, an extremely detailed matte painting "
      "of a sprawling futuristic city at sunset, towering glass skyscrapers, flying cars, neon lights, volumetric fog";
  int ids[CLIP_CTX], dropped;
  double ta = now_seconds();
  tokenizer_encode(tok, prompt, ids, &dropped);
  double tb = now_seconds();
  float *out = malloc((size_t)CLIP_CTX * clip_hidden_size(c) * sizeof(float));
  clip_encode(c, ids, 0, out); /* warm-up: scratch buffers, page faults */
  double *t = malloc((size_t)runs * sizeof *t), *cpu = malloc((size_t)runs * sizeof *cpu);
  for (int r = 0; r < runs; r++) {
    double s = now_seconds(), cs = cpu_seconds();
    clip_encode(c, ids, 0, out);
    t[r] = now_seconds() - s;
    cpu[r] = cpu_seconds() - cs;
  }
  qsort(cpu, (size_t)runs, sizeof *cpu, cmp_d);
  qsort(t, (size_t)runs, sizeof *t, cmp_d);
  printf("%s: %d layers, hidden %d, %d threads\n", m.path, clip_layers(c), clip_hidden_size(c), threads);
  printf("build/open %.2f s, tokenizer + encoder load %.3f s, tokenize %.3f ms (%d tokens dropped)\n", t1 - t0,
         t2 - t1, (tb - ta) * 1e3, dropped);
  printf("clip_encode (77 tokens): wall min %.1f ms, median %.1f ms over %d runs; CPU median %.1f ms "
         "(all threads); out[0][0..2] = %.4f %.4f %.4f\n",
         t[0] * 1e3, t[runs / 2] * 1e3, runs, cpu[runs / 2] * 1e3, out[0], out[1], out[2]);
  free(t);
  free(cpu);
  free(out);
  clip_free(c);
  tokenizer_free(tok);
  if (model) sd_model_close(&m);
  else {
    st_close(&m.file[SD_TEXT]);
    cJSON_Delete(m.config[SD_TEXT]);
    free(buf);
  }
  return 0;
}
