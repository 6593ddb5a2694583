/* The UNet against the unet_sd1/unet_sd2 fixtures (README §4.3, §7.3), the LDM single file's
 * inferred config against the diffusers folder's, buffer reuse across latent sizes, and
 * refusals of incomplete or foreign models; the fixtures' images in batches (unet_forward_batch). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "a2i2a.h"
#include "check.h"
#include "sd/model.h"
#include "sd/safetensors.h"
#include "sd/unet.h"

static float max_abs_diff(const float *a, const float *b, size_t n) {
  float m = 0;
  for (size_t i = 0; i < n; i++) {
    float d = fabsf(a[i] - b[i]);
    if (!(d <= m)) m = d; /* NaN propagates */
  }
  return m;
}

static float *golden(const st_file *g, const char *name, size_t *n) {
  const st_tensor *t = st_find(g, name);
  if (!t) return NULL;
  float *p = malloc(t->numel * sizeof(float));
  st_to_f32(t, p);
  if (n) *n = t->numel;
  return p;
}

/* A case ("a" or "b") of a golden file: B images x [B][C][H][W] at timesteps t [B] with contexts
 * ctx [B][nctx][dctx], and their golden outputs ref. */
typedef struct {
  float *x, *ctx, *t, *ref;
  int B, H, W, nctx, dctx;
  size_t per; /* values per image */
} golden_case;

static int load_case(const st_file *g, const char *c, golden_case *gc) {
  char k[64];
  memset(gc, 0, sizeof *gc);
  snprintf(k, sizeof k, "%s.sample", c);
  const st_tensor *ts = st_find(g, k);
  gc->x = golden(g, k, NULL);
  snprintf(k, sizeof k, "%s.encoder_hidden_states", c);
  const st_tensor *te = st_find(g, k);
  gc->ctx = golden(g, k, NULL);
  snprintf(k, sizeof k, "%s.timesteps", c);
  gc->t = golden(g, k, NULL);
  snprintf(k, sizeof k, "%s.output", c);
  gc->ref = golden(g, k, NULL);
  if (!ts || !te || !gc->t || !gc->ref) return 0;
  gc->B = (int)ts->shape[0], gc->H = (int)ts->shape[2], gc->W = (int)ts->shape[3];
  gc->nctx = (int)te->shape[1], gc->dctx = (int)te->shape[2];
  gc->per = ts->numel / gc->B;
  return 1;
}

static void free_case(golden_case *gc) { free(gc->x), free(gc->ctx), free(gc->t), free(gc->ref); }

/* Runs case c image by image; returns the outputs (caller frees). */
static float *run_case(unet *u, const st_file *g, const char *c, size_t *numel) {
  golden_case gc;
  if (!load_case(g, c, &gc)) {
    free_case(&gc);
    return NULL;
  }
  float *out = malloc(gc.B * gc.per * sizeof(float));
  for (int b = 0; b < gc.B; b++) {
    a2i2a_status st = unet_forward(u, gc.x + b * gc.per, gc.H, gc.W, gc.t[b], gc.ctx + (size_t)b * gc.nctx * gc.dctx,
                                   gc.nctx, out + b * gc.per);
    CHECK(st == A2I2A_OK, "unet_forward: %s", a2i2a_last_error());
  }
  *numel = gc.B * gc.per;
  free_case(&gc);
  return out;
}

/* Case c's images as one batch, in the order idx (repeats allowed): each image must match its
 * golden output as it does alone, whatever its neighbours (their timesteps and contexts differ). */
static void batch_case(unet *u, const st_file *g, const char *c, const int *idx, int nb, double tol,
                       const char *model_rel) {
  golden_case gc;
  if (!load_case(g, c, &gc)) {
    CHECK(0, "%s: case %s missing", model_rel, c);
    free_case(&gc);
    return;
  }
  size_t per = gc.per, pc = (size_t)gc.nctx * gc.dctx;
  float *bx = malloc(nb * per * sizeof(float)), *bc = malloc(nb * pc * sizeof(float)), bt[UNET_MAX_BATCH];
  float *out = malloc(nb * per * sizeof(float));
  for (int i = 0; i < nb; i++) {
    memcpy(bx + i * per, gc.x + idx[i] * per, per * sizeof(float));
    memcpy(bc + i * pc, gc.ctx + idx[i] * pc, pc * sizeof(float));
    bt[i] = gc.t[idx[i]];
  }
  a2i2a_status st = unet_forward_batch(u, nb, bx, gc.H, gc.W, bt, bc, gc.nctx, out);
  CHECK(st == A2I2A_OK, "unet_forward_batch: %s", a2i2a_last_error());
  for (int i = 0; i < nb && !st; i++) {
    float d = max_abs_diff(out + i * per, gc.ref + idx[i] * per, per);
    CHECK(d <= tol, "%s case %s as image %d of a batch of %d: max abs %g > %g", model_rel, c, i, nb, d, tol);
  }
  free_case(&gc), free(bx), free(bc), free(out);
}

static void against_golden(const char *model_rel, const char *golden_rel, double tol_a, double tol_b,
                           float **keep_b) {
  sd_model m;
  unet *u = NULL;
  st_file g;
  if (sd_model_open(fixture(model_rel), &m)) {
    CHECK(0, "open %s: %s", model_rel, a2i2a_last_error());
    return;
  }
  CHECK(unet_load(&u, &m) == A2I2A_OK, "unet_load %s: %s", model_rel, a2i2a_last_error());
  CHECK(st_open(fixture(golden_rel), &g) == A2I2A_OK, "open %s", golden_rel);
  if (!u) return;
  size_t n, nr;
  /* b first, then a, then b again: buffers are resized and reused in between */
  float *b1 = run_case(u, &g, "b", &n), *ref = golden(&g, "b.output", &nr);
  CHECK(b1 && nr == n && max_abs_diff(b1, ref, n) <= tol_b, "%s b.output: max abs %g > %g", model_rel,
        max_abs_diff(b1, ref, n), tol_b);
  size_t bytes_b = unet_buffer_bytes(u);
  free(ref);
  float *a = run_case(u, &g, "a", &n);
  ref = golden(&g, "a.output", &nr);
  CHECK(a && nr == n && max_abs_diff(a, ref, n) <= tol_a, "%s a.output: max abs %g > %g", model_rel,
        max_abs_diff(a, ref, n), tol_a);
  free(ref);
  free(a);
  float *b2 = run_case(u, &g, "b", &n);
  CHECK(b2 && !memcmp(b1, b2, n * sizeof(float)), "%s: case b differs after running case a", model_rel);
  CHECK(unet_buffer_bytes(u) == bytes_b && bytes_b > 0, "%s: buffers %zu then %zu bytes for one size", model_rel,
        bytes_b, unet_buffer_bytes(u));
  free(b2);
  /* batches: the case's two images reversed and one repeated, then the largest batch */
  static const int order3[] = {1, 0, 1}, order4[] = {0, 1, 1, 0};
  batch_case(u, &g, "b", order3, 3, tol_b, model_rel);
  batch_case(u, &g, "a", order4, UNET_MAX_BATCH, tol_a, model_rel);
  float t5[UNET_MAX_BATCH + 1] = {0}, dummy[4];
  CHECK(unet_forward_batch(u, UNET_MAX_BATCH + 1, dummy, 1, 1, t5, dummy, 1, dummy) == A2I2A_ERR_PARAM &&
            unet_forward_batch(u, 0, dummy, 1, 1, t5, dummy, 1, dummy) == A2I2A_ERR_PARAM,
        "%s: batches of 0 or more than %d images are refused", model_rel, UNET_MAX_BATCH);
  /* time features: the frequency table is torch's to the bit */
  int nf;
  const float *f = unet_time_freqs(u, &nf);
  float *tf = golden(&g, "time_freqs", &nr);
  CHECK(tf && nr == (size_t)nf && !memcmp(f, tf, nr * sizeof(float)), "%s: time_freqs differ from torch's", model_rel);
  free(tf);
  if (keep_b) *keep_b = b1;
  else free(b1);
  st_close(&g);
  unet_free(u);
  sd_model_close(&m);
}

static int config_equal(const unet_config *a, const unet_config *b) { return !memcmp(a, b, sizeof *a); }

/* Copies a file, replacing the first occurrence of `from` by `to` in its bytes. */
static int copy_patched(const char *src, const char *dst, const char *from, const char *to) {
  FILE *f = fopen(src, "rb");
  if (!f) return -1;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n);
  size_t got = fread(buf, 1, (size_t)n, f);
  fclose(f);
  long at = -1;
  size_t lf = strlen(from);
  for (long i = 0; got == (size_t)n && i + (long)lf <= n; i++)
    if (!memcmp(buf + i, from, lf)) {
      at = i;
      break;
    }
  int ok = -1;
  f = at >= 0 ? fopen(dst, "wb") : NULL;
  if (f) {
    ok = fwrite(buf, 1, (size_t)at, f) == (size_t)at && fputs(to, f) >= 0 &&
                 fwrite(buf + at + lf, 1, (size_t)(n - at - (long)lf), f) == (size_t)(n - at - (long)lf)
             ? 0
             : -1;
    fclose(f);
  }
  free(buf);
  return ok;
}

/* The profile belongs to the handle: with one set, a forward's time is split by kind of work
 * (every kind non-negative, their sum within the total, convolutions present) and the result is
 * the same bits as without; unset, the struct is left alone. */
static void test_profile(void) {
  sd_model m;
  unet *u = NULL;
  st_file g;
  if (sd_model_open(fixture("sd/tiny-sd1"), &m) || unet_load(&u, &m) ||
      st_open(fixture("sd/golden/unet_sd1.safetensors"), &g)) {
    CHECK(0, "profile: %s", a2i2a_last_error());
    return;
  }
  size_t n, n2;
  float *plain = run_case(u, &g, "a", &n);
  unet_profile prof = {0};
  unet_set_profile(u, &prof);
  float *profiled = run_case(u, &g, "a", &n2);
  double sum = 0;
  int negative = 0;
  for (int k = 0; k < UNET_PROF_N; k++) sum += prof.kind[k], negative += prof.kind[k] < 0;
  CHECK(prof.total > 0 && !negative && sum <= prof.total && prof.kind[UNET_PROF_CONV3] > 0,
        "profile: total %g, kinds %g, conv3x3 %g", prof.total, sum, prof.kind[UNET_PROF_CONV3]);
  CHECK(plain && profiled && n == n2 && !memcmp(plain, profiled, n * sizeof(float)), "profiling changed the result");
  unet_set_profile(u, NULL);
  unet_profile seen = prof;
  free(run_case(u, &g, "a", &n2));
  CHECK(!memcmp(&seen, &prof, sizeof prof), "an unset profile was written");
  free(plain), free(profiled);
  st_close(&g);
  unet_free(u);
  sd_model_close(&m);
}

int main(void) {
  a2i2a_set_threads(2);

  /* the single file's inferred config is the folder's config.json */
  sd_model folder, single;
  unet_config cf, cs;
  CHECK(sd_model_open(fixture("sd/tiny-sd1"), &folder) == A2I2A_OK, "%s", a2i2a_last_error());
  CHECK(unet_config_read(&folder, &cf) == A2I2A_OK, "%s", a2i2a_last_error());
  if (fixture_case("sd/tiny-sd1.safetensors")) {
    CHECK(sd_model_open(fixture("sd/tiny-sd1.safetensors"), &single) == A2I2A_OK, "%s", a2i2a_last_error());
    CHECK(unet_config_read(&single, &cs) == A2I2A_OK, "%s", a2i2a_last_error());
    CHECK(config_equal(&cf, &cs), "tiny-sd1.safetensors: inferred config differs from tiny-sd1/unet/config.json");
    sd_model_close(&single);
  }
  CHECK(cf.n_levels == 4 && cf.layers_per_block == 2 && cf.block_out_channels[3] == 64 && cf.heads[0] == 8 &&
            cf.heads[3] == 8 && !cf.linear_projection && cf.cross_attention_dim == 32 && cf.down_attention[2] &&
            !cf.down_attention[3] && cf.up_attention[0] && !cf.up_attention[3] && cf.time_embed_dim == 128,
        "tiny-sd1 config as README §3.1 describes it");
  sd_model_close(&folder);

  if (fixture_case("sd/tiny-sd2/model_index.json")) {
    sd_model m2;
    unet_config c2;
    CHECK(sd_model_open(fixture("sd/tiny-sd2"), &m2) == A2I2A_OK, "%s", a2i2a_last_error());
    CHECK(unet_config_read(&m2, &c2) == A2I2A_OK, "%s", a2i2a_last_error());
    CHECK(c2.heads[0] == 2 && c2.heads[1] == 2 && c2.heads[2] == 2 && c2.heads[3] == 4 && c2.linear_projection &&
              c2.cross_attention_dim == 24,
          "tiny-sd2: heads (2,2,2,4), linear projections, context 24");
    sd_model_close(&m2);
  }

  /* the golden outputs, from both layouts; the two layouts agree to the bit */
  float *bf = NULL, *bs = NULL;
  against_golden("sd/tiny-sd1", "sd/golden/unet_sd1.safetensors", 1e-4, 5e-5, &bf);
  if (fixture_case("sd/tiny-sd1.safetensors")) {
    against_golden("sd/tiny-sd1.safetensors", "sd/golden/unet_sd1.safetensors", 1e-4, 5e-5, &bs);
    CHECK(bf && bs && !memcmp(bf, bs, 2 * 4 * 9 * 12 * sizeof(float)), "tiny-sd1 folder and single file differ");
  }
  free(bf);
  free(bs);
  if (fixture_case("sd/golden/unet_sd2.safetensors"))
    against_golden("sd/tiny-sd2", "sd/golden/unet_sd2.safetensors", 1e-3, 5e-5, NULL);
  test_profile();

  /* an incomplete single file: the error names the file and the tensor */
  char dir[] = "/tmp/a2i2a_test_unet_XXXXXX", path[512];
  CHECK(mkdtemp(dir) != NULL, "mkdtemp");
  sd_model mb;
  unet *ub = NULL;
  if (fixture_case("sd/tiny-sd1.safetensors")) {
    snprintf(path, sizeof path, "%s/broken.safetensors", dir);
    CHECK(copy_patched(fixture("sd/tiny-sd1.safetensors"), path,
                       "middle_block.1.transformer_blocks.0.attn2.to_v.weight",
                       "middle_block.1.transformer_blocks.0.attn2.to_v.weighX") == 0,
          "patch the checkpoint");
    if (sd_model_open(path, &mb) == A2I2A_OK) {
      a2i2a_status st = unet_load(&ub, &mb);
      CHECK(st == A2I2A_ERR_MODEL && !ub, "a missing tensor is refused (status %d)", st);
      CHECK(strstr(a2i2a_last_error(), "broken.safetensors") && strstr(a2i2a_last_error(), "attn2.to_v.weight"),
            "the error names the file and the tensor: %s", a2i2a_last_error());
      sd_model_close(&mb);
    } else {
      CHECK(0, "open the patched checkpoint: %s", a2i2a_last_error());
    }
    unlink(path);
  }

  /* a foreign UNet config (SDXL's added embeddings): refused, not run wrong */
  char sub[600], to[800], from[4096];
  static const char *parts[] = {"model_index.json", "scheduler", "text_encoder", "tokenizer", "vae",
                                "unet/diffusion_pytorch_model.safetensors"};
  snprintf(sub, sizeof sub, "%s/xl", dir);
  CHECK(mkdir(sub, 0755) == 0, "mkdir");
  snprintf(to, sizeof to, "%s/unet", sub);
  CHECK(mkdir(to, 0755) == 0, "mkdir");
  for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
    snprintf(to, sizeof to, "%s/%s", sub, parts[i]);
    snprintf(path, sizeof path, "sd/tiny-sd1/%s", parts[i]);
    CHECK(realpath(fixture(path), from) && symlink(from, to) == 0, "link %s", parts[i]);
  }
  snprintf(to, sizeof to, "%s/unet/config.json", sub);
  CHECK(copy_patched(fixture("sd/tiny-sd1/unet/config.json"), to, "\"addition_embed_type\": null",
                     "\"addition_embed_type\": \"text_time\"") == 0,
        "patch config.json");
  if (sd_model_open(sub, &mb) == A2I2A_OK) {
    a2i2a_status st = unet_load(&ub, &mb);
    CHECK(st == A2I2A_ERR_UNSUPPORTED && !ub, "an SDXL-style config is refused (status %d)", st);
    CHECK(strstr(a2i2a_last_error(), "config.json") && strstr(a2i2a_last_error(), "addition_embed_type"),
          "the error names the file and the setting: %s", a2i2a_last_error());
    sd_model_close(&mb);
  } else {
    CHECK(0, "open the patched folder: %s", a2i2a_last_error());
  }
  for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
    snprintf(to, sizeof to, "%s/%s", sub, parts[i]);
    unlink(to);
  }
  snprintf(to, sizeof to, "%s/unet/config.json", sub);
  unlink(to);
  snprintf(to, sizeof to, "%s/unet", sub);
  rmdir(to);
  rmdir(sub);
  rmdir(dir);
  return check_done();
}
