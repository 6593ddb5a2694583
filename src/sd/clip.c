/* The CLIP text transformer (fixtures README §7.2): token + position embeddings, pre-LayerNorm
 * blocks with causal self-attention (no padding mask) and an MLP with quick-GELU (OpenAI CLIP,
 * SD 1.x) or exact GELU (OpenCLIP, SD 2.x), then the final LayerNorm.
 *
 * Weights come from either layout:
 *  - transformers CLIPTextModel names: diffusers' text_encoder/ ("text_model.") or an SD 1.x
 *    single file ("cond_stage_model.transformer.text_model.", older files without "text_model.");
 *  - OpenCLIP names in SD 2.x single files ("cond_stage_model.model.": token_embedding,
 *    positional_embedding, transformer.resblocks.N.{ln_1, attn.in_proj_weight/bias (q|k|v
 *    stacked), attn.out_proj, ln_2, mlp.c_fc, mlp.c_proj}, ln_final).
 * SD 2.x conditions on the penultimate layer: diffusers' converted encoders already dropped the
 * last block, single files still have it, so there the default stops one layer early. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "sd/clip.h"
#include "sd/kernels.h"

typedef struct {
  weight ln1_w, ln1_b, q_w, q_b, k_w, k_b, v_w, v_b, o_w, o_b;
  weight ln2_w, ln2_b, fc1_w, fc1_b, fc2_w, fc2_b;
} clip_layer;

struct clip_text {
  int vocab, hidden, layers, heads, inter, positions;
  float eps;
  int exact_gelu;     /* 1: gelu (erf), 0: quick_gelu */
  int default_layers; /* the layers the family conditions on (SD 2.x single file: layers - 1) */
  weight tok_emb, pos_emb, lnf_w, lnf_b;
  clip_layer *layer;
  /* activations [77][hidden] (mlp: [77][inter]) */
  float *x, *h, *q, *k, *v, *att, *mlp;
};

/* ------------------------------------------------------------------ loading */

typedef struct {
  const sd_model *m;
  char prefix[128];
  int openclip;
} namer;

static a2i2a_status get(const namer *n, weight *w, size_t numel, const char *fmt, int layer) {
  char name[256], full[400];
  snprintf(name, sizeof name, fmt, layer);
  snprintf(full, sizeof full, "%s%s", n->prefix, name);
  const st_tensor *t = sd_tensor(n->m, SD_TEXT, full);
  if (!t) return fail(A2I2A_ERR_MODEL, "%s: text encoder tensor %s is missing", n->m->path, full);
  a2i2a_status st = weight_from_tensor(w, t, numel);
  if (st) fail_prefix(n->m->path);
  return st;
}

static int has(const namer *n, const char *fmt, int layer) {
  char name[256], full[400];
  snprintf(name, sizeof name, fmt, layer);
  snprintf(full, sizeof full, "%s%s", n->prefix, name);
  return sd_tensor(n->m, SD_TEXT, full) != NULL;
}

/* A slice of rows [r0, r0+rows) of a [R][cols] weight, as its own weight (no copy). */
static weight rows_of(const weight *w, int r0, int rows, int cols) {
  weight s = *w;
  s.data = (const char *)w->data + (size_t)r0 * cols * st_dtype_size(w->dtype);
  s.numel = (size_t)rows * cols;
  s.ndim = cols > 1 ? 2 : 1;
  s.shape[0] = cols > 1 ? rows : rows * cols;
  s.shape[1] = cols;
  return s;
}

static a2i2a_status load_layer(const namer *n, clip_layer *L, int i, int D, int I) {
  a2i2a_status st;
  size_t DD = (size_t)D * D, DI = (size_t)D * I;
  if (n->openclip) {
    weight in_w, in_b;
    if ((st = get(n, &L->ln1_w, D, "transformer.resblocks.%d.ln_1.weight", i)) ||
        (st = get(n, &L->ln1_b, D, "transformer.resblocks.%d.ln_1.bias", i)) ||
        (st = get(n, &in_w, 3 * DD, "transformer.resblocks.%d.attn.in_proj_weight", i)) ||
        (st = get(n, &in_b, 3 * (size_t)D, "transformer.resblocks.%d.attn.in_proj_bias", i)) ||
        (st = get(n, &L->o_w, DD, "transformer.resblocks.%d.attn.out_proj.weight", i)) ||
        (st = get(n, &L->o_b, D, "transformer.resblocks.%d.attn.out_proj.bias", i)) ||
        (st = get(n, &L->ln2_w, D, "transformer.resblocks.%d.ln_2.weight", i)) ||
        (st = get(n, &L->ln2_b, D, "transformer.resblocks.%d.ln_2.bias", i)) ||
        (st = get(n, &L->fc1_w, DI, "transformer.resblocks.%d.mlp.c_fc.weight", i)) ||
        (st = get(n, &L->fc1_b, I, "transformer.resblocks.%d.mlp.c_fc.bias", i)) ||
        (st = get(n, &L->fc2_w, DI, "transformer.resblocks.%d.mlp.c_proj.weight", i)) ||
        (st = get(n, &L->fc2_b, D, "transformer.resblocks.%d.mlp.c_proj.bias", i)))
      return st;
    /* in_proj stacks q, k, v along the output dimension */
    L->q_w = rows_of(&in_w, 0, D, D);
    L->k_w = rows_of(&in_w, D, D, D);
    L->v_w = rows_of(&in_w, 2 * D, D, D);
    L->q_b = rows_of(&in_b, 0, D, 1);
    L->k_b = rows_of(&in_b, D, D, 1);
    L->v_b = rows_of(&in_b, 2 * D, D, 1);
    return A2I2A_OK;
  }
  if ((st = get(n, &L->ln1_w, D, "encoder.layers.%d.layer_norm1.weight", i)) ||
      (st = get(n, &L->ln1_b, D, "encoder.layers.%d.layer_norm1.bias", i)) ||
      (st = get(n, &L->q_w, DD, "encoder.layers.%d.self_attn.q_proj.weight", i)) ||
      (st = get(n, &L->q_b, D, "encoder.layers.%d.self_attn.q_proj.bias", i)) ||
      (st = get(n, &L->k_w, DD, "encoder.layers.%d.self_attn.k_proj.weight", i)) ||
      (st = get(n, &L->k_b, D, "encoder.layers.%d.self_attn.k_proj.bias", i)) ||
      (st = get(n, &L->v_w, DD, "encoder.layers.%d.self_attn.v_proj.weight", i)) ||
      (st = get(n, &L->v_b, D, "encoder.layers.%d.self_attn.v_proj.bias", i)) ||
      (st = get(n, &L->o_w, DD, "encoder.layers.%d.self_attn.out_proj.weight", i)) ||
      (st = get(n, &L->o_b, D, "encoder.layers.%d.self_attn.out_proj.bias", i)) ||
      (st = get(n, &L->ln2_w, D, "encoder.layers.%d.layer_norm2.weight", i)) ||
      (st = get(n, &L->ln2_b, D, "encoder.layers.%d.layer_norm2.bias", i)) ||
      (st = get(n, &L->fc1_w, DI, "encoder.layers.%d.mlp.fc1.weight", i)) ||
      (st = get(n, &L->fc1_b, I, "encoder.layers.%d.mlp.fc1.bias", i)) ||
      (st = get(n, &L->fc2_w, DI, "encoder.layers.%d.mlp.fc2.weight", i)) ||
      (st = get(n, &L->fc2_b, D, "encoder.layers.%d.mlp.fc2.bias", i)))
    return st;
  return A2I2A_OK;
}

/* Finds where the text encoder's weights are and in which naming. */
static a2i2a_status find_names(const sd_model *m, namer *n) {
  n->m = m;
  static const struct {
    const char *prefix;
    int openclip;
  } cands[] = {{"text_model.", 0},
               {"", 0},
               {"cond_stage_model.transformer.text_model.", 0},
               {"cond_stage_model.transformer.", 0},
               {"cond_stage_model.model.", 1}};
  for (size_t i = 0; i < sizeof cands / sizeof *cands; i++) {
    snprintf(n->prefix, sizeof n->prefix, "%s", cands[i].prefix);
    n->openclip = cands[i].openclip;
    if (has(n, n->openclip ? "token_embedding.weight" : "embeddings.token_embedding.weight", 0)) return A2I2A_OK;
  }
  return fail(A2I2A_ERR_MODEL,
              "%s: no text encoder found (expected text_model.embeddings.token_embedding.weight, "
              "cond_stage_model.transformer.text_model.* or cond_stage_model.model.* tensors)",
              m->path);
}

a2i2a_status clip_load_config(clip_text **out, const sd_model *m, const cJSON *config) {
  *out = NULL;
  if (m->family != 1 && m->family != 2)
    return fail(A2I2A_ERR_UNSUPPORTED, "%s: unknown model family %d (expected SD 1.x or 2.x)", m->path, m->family);
  namer n;
  a2i2a_status st = find_names(m, &n);
  if (st) return st;
  clip_text *c = calloc(1, sizeof *c);
  if (!c) return fail(A2I2A_ERR_NOMEM, "out of memory loading the text encoder");

  /* shapes first: they are the truth; a config must agree with them */
  const char *tok = n.openclip ? "token_embedding.weight" : "embeddings.token_embedding.weight";
  const char *pos = n.openclip ? "positional_embedding" : "embeddings.position_embedding.weight";
  if ((st = get(&n, &c->tok_emb, 0, tok, 0)) || (st = get(&n, &c->pos_emb, 0, pos, 0))) goto fail;
  if (c->tok_emb.ndim != 2 || c->pos_emb.ndim != 2 || c->pos_emb.shape[1] != c->tok_emb.shape[1]) {
    st = fail(A2I2A_ERR_MODEL, "%s: text encoder embeddings have inconsistent shapes", m->path);
    goto fail;
  }
  c->vocab = (int)c->tok_emb.shape[0];
  c->hidden = (int)c->tok_emb.shape[1];
  c->positions = (int)c->pos_emb.shape[0];
  while (has(&n, n.openclip ? "transformer.resblocks.%d.ln_1.weight" : "encoder.layers.%d.layer_norm1.weight",
             c->layers))
    c->layers++;
  weight fc1;
  if (c->layers == 0 ||
      (st = get(&n, &fc1, 0, n.openclip ? "transformer.resblocks.%d.mlp.c_fc.weight" : "encoder.layers.%d.mlp.fc1.weight",
                0))) {
    if (!st) st = fail(A2I2A_ERR_MODEL, "%s: the text encoder has no layers", m->path);
    goto fail;
  }
  c->inter = (int)fc1.shape[0];
  if (c->positions < CLIP_CTX || c->vocab < 49408) {
    st = fail(A2I2A_ERR_MODEL, "%s: text encoder with %d positions and %d tokens (CLIP has 77 and 49408)", m->path,
              c->positions, c->vocab);
    goto fail;
  }

  /* what shapes do not say: heads, activation, eps */
  const cJSON *cfg = config ? config : m->config[SD_TEXT];
  char where[4200];
  snprintf(where, sizeof where, "%s%s", m->path, m->layout == SD_LAYOUT_DIFFUSERS ? "/text_encoder/config.json" : "");
  int cfg_layers, cfg_hidden, cfg_inter;
  double eps;
  if ((st = sd_config_int(cfg, where, "num_attention_heads", 0, 0, SD_MAX_HEADS, &c->heads)) ||
      (st = sd_config_value(cJSON_GetObjectItemCaseSensitive(cfg, "layer_norm_eps"), where, "layer_norm_eps", 1e-5,
                            1e-12, 1, 0, &eps)) ||
      (st = sd_config_int(cfg, where, "num_hidden_layers", c->layers, 1, SD_MAX_DEPTH, &cfg_layers)) ||
      (st = sd_config_int(cfg, where, "hidden_size", c->hidden, 1, SD_MAX_WIDTH, &cfg_hidden)) ||
      (st = sd_config_int(cfg, where, "intermediate_size", c->inter, 1, 4 * SD_MAX_WIDTH, &cfg_inter)))
    goto fail;
  c->eps = (float)eps;
  const cJSON *act = cJSON_GetObjectItemCaseSensitive(cfg, "hidden_act");
  if (cJSON_IsString(act)) {
    if (!strcmp(act->valuestring, "gelu")) c->exact_gelu = 1;
    else if (!strcmp(act->valuestring, "quick_gelu")) c->exact_gelu = 0;
    else {
      st = fail(A2I2A_ERR_UNSUPPORTED, "%s: text encoder activation '%s' (supported: quick_gelu, gelu)", m->path,
                act->valuestring);
      goto fail;
    }
  } else
    c->exact_gelu = n.openclip || m->family == 2;
  if (c->heads <= 0) {
    /* OpenAI ViT-L/14 (768 wide, 12 heads) and OpenCLIP ViT-H/14 (1024, 16) both use 64-wide heads */
    if (c->hidden % 64) {
      st = fail(A2I2A_ERR_MODEL,
                "%s: cannot infer the attention heads of a %d-wide text encoder without a config "
                "(real SD text encoders are multiples of 64 wide)",
                m->path, c->hidden);
      goto fail;
    }
    c->heads = c->hidden / 64;
  }
  if (c->hidden % c->heads || cfg_hidden != c->hidden || cfg_layers > c->layers || cfg_inter != c->inter) {
    st = fail(A2I2A_ERR_MODEL,
              "%s: the text encoder config (hidden %d, %d layers, %d heads, MLP %d) does not match its weights "
              "(hidden %d, %d layers, MLP %d)",
              m->path, cfg_hidden, cfg_layers, c->heads, cfg_inter, c->hidden, c->layers, c->inter);
    goto fail;
  }
  if (m->config[SD_TEXT] && !config) c->layers = cfg_layers;
  c->default_layers = c->layers;
  if (m->layout == SD_LAYOUT_LDM && m->family == 2 && c->layers > 1) c->default_layers = c->layers - 1;

  int D = c->hidden, I = c->inter;
  if ((st = get(&n, &c->lnf_w, D, n.openclip ? "ln_final.weight" : "final_layer_norm.weight", 0)) ||
      (st = get(&n, &c->lnf_b, D, n.openclip ? "ln_final.bias" : "final_layer_norm.bias", 0)))
    goto fail;
  c->layer = calloc((size_t)c->layers, sizeof *c->layer);
  size_t T = CLIP_CTX;
  c->x = malloc(T * D * sizeof(float));
  c->h = malloc(T * D * sizeof(float));
  c->q = malloc(T * D * sizeof(float));
  c->k = malloc(T * D * sizeof(float));
  c->v = malloc(T * D * sizeof(float));
  c->att = malloc(T * D * sizeof(float));
  c->mlp = malloc(T * I * sizeof(float));
  if (!c->layer || !c->x || !c->h || !c->q || !c->k || !c->v || !c->att || !c->mlp) {
    st = fail(A2I2A_ERR_NOMEM, "out of memory loading the text encoder");
    goto fail;
  }
  for (int i = 0; i < c->layers; i++)
    if ((st = load_layer(&n, &c->layer[i], i, D, I))) goto fail;
  *out = c;
  return A2I2A_OK;
fail:
  clip_free(c);
  return st;
}

a2i2a_status clip_load(clip_text **c, const sd_model *m) { return clip_load_config(c, m, NULL); }

void clip_free(clip_text *c) {
  if (!c) return;
  free(c->layer);
  free(c->x);
  free(c->h);
  free(c->q);
  free(c->k);
  free(c->v);
  free(c->att);
  free(c->mlp);
  free(c);
}

int clip_hidden_size(const clip_text *c) { return c->hidden; }
int clip_layers(const clip_text *c) { return c->layers; }
int clip_default_layers(const clip_text *c) { return c->default_layers; }

/* ------------------------------------------------------------------ forward */

/* x += out_proj(attention(LN1(x))), causal, no padding mask */
static void attention_block(clip_text *c, const clip_layer *L) {
  int T = CLIP_CTX, D = c->hidden, hd = D / c->heads;
  layer_norm(c->h, c->x, T, D, &L->ln1_w, &L->ln1_b, c->eps);
  linear(c->q, c->h, T, D, D, &L->q_w, &L->q_b);
  linear(c->k, c->h, T, D, D, &L->k_w, &L->k_b);
  linear(c->v, c->h, T, D, D, &L->v_w, &L->v_b);
  attention(c->att, c->q, D, c->k, c->v, D, T, T, c->heads, hd, 1.0f / sqrtf((float)hd), 1);
  linear(c->h, c->att, T, D, D, &L->o_w, &L->o_b);
  add(c->x, c->h, (size_t)T * D);
}

/* x += fc2(act(fc1(LN2(x)))) */
static void mlp_block(clip_text *c, const clip_layer *L) {
  int T = CLIP_CTX, D = c->hidden, I = c->inter;
  layer_norm(c->h, c->x, T, D, &L->ln2_w, &L->ln2_b, c->eps);
  linear(c->mlp, c->h, T, D, I, &L->fc1_w, &L->fc1_b);
  if (c->exact_gelu) gelu(c->mlp, (size_t)T * I);
  else quick_gelu(c->mlp, (size_t)T * I);
  linear(c->h, c->mlp, T, I, D, &L->fc2_w, &L->fc2_b);
  add(c->x, c->h, (size_t)T * D);
}

a2i2a_status clip_encode_layers(clip_text *c, const int ids[CLIP_CTX], int nlayers, int final_ln, float *out) {
  int D = c->hidden;
  if (nlayers < 0 || nlayers > c->layers)
    return fail(A2I2A_ERR_PARAM, "the text encoder has %d layers, %d requested", c->layers, nlayers);
  for (int t = 0; t < CLIP_CTX; t++)
    if (ids[t] < 0 || ids[t] >= c->vocab)
      return fail(A2I2A_ERR_PARAM, "token id %d at position %d is outside the vocabulary (0..%d)", ids[t], t,
                  c->vocab - 1);
  /* embeddings: token row + position row, converted row by row (the table stays mapped) */
  weight pos = rows_of(&c->pos_emb, 0, CLIP_CTX, D);
  weight_to_f32(&pos, c->x);
  for (int t = 0; t < CLIP_CTX; t++) {
    weight row = rows_of(&c->tok_emb, ids[t], 1, D);
    weight_to_f32(&row, c->h + (size_t)t * D);
  }
  add(c->x, c->h, (size_t)CLIP_CTX * D);
  /* a kernel that cannot get its scratch skips its work (kernels.h): checked after each layer */
  kernels_reset();
  for (int l = 0; l < nlayers; l++) {
    attention_block(c, &c->layer[l]);
    mlp_block(c, &c->layer[l]);
    a2i2a_status st = kernels_check();
    if (st) return st;
  }
  if (final_ln) layer_norm(out, c->x, CLIP_CTX, D, &c->lnf_w, &c->lnf_b, c->eps);
  else memcpy(out, c->x, (size_t)CLIP_CTX * D * sizeof(float));
  return kernels_check();
}

a2i2a_status clip_encode(clip_text *c, const int ids[CLIP_CTX], int clip_skip, float *out) {
  int skip = clip_skip > 1 ? clip_skip - 1 : 0;
  if (skip >= c->default_layers)
    return fail(A2I2A_ERR_PARAM, "clip skip %d: the text encoder has only %d layers", clip_skip, c->default_layers);
  return clip_encode_layers(c, ids, c->default_layers - skip, 1, out);
}
