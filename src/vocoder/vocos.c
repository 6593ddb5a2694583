/* Vocos, mel variant (Siuzdak 2023, "Vocos: Closing the gap between time-domain and Fourier-based
 * neural vocoders for high-quality audio synthesis"; gemelo-ai/vocos at c859e3b): a ConvNeXt
 * backbone at the frame rate predicts each frame's log-magnitude and phase, and an inverse STFT
 * makes the waveform. config.yaml (the keys of charactr/vocos-mel-24khz's) is read with libyaml;
 * the weights keep their PyTorch names (backbone.*, head.*). */
#include "vocoder/vocoder_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "common/err.h"
#include "common/job.h"

#define VOCOS_KERNEL 7 /* the embedding's and the blocks' depthwise convolution */
#define VOCOS_EPS 1e-6f

typedef struct {
  weight dwconv_w;  /* (dim, 1, 7) depthwise */
  weight dwconv_b;  /* (dim) */
  weight norm_w;    /* (dim) LayerNorm */
  weight norm_b;    /* (dim) */
  weight pwconv1_w; /* (intermediate, dim) */
  weight pwconv1_b; /* (intermediate) */
  weight pwconv2_w; /* (dim, intermediate) */
  weight pwconv2_b; /* (dim) */
  float *gamma;     /* (dim) layer scale, as float32 */
} convnext_weights;

struct vocos {
  /* config */
  int n_mels, dim, intermediate, layers;
  int n_fft, hop; /* the head's inverse STFT */
  /* weights */
  weight embed_w;            /* (dim, n_mels, 7) */
  weight embed_b;            /* (dim) */
  weight norm_w;             /* (dim) */
  weight norm_b;             /* (dim) */
  convnext_weights *blocks;  /* (layers) */
  weight final_norm_w;       /* (dim) */
  weight final_norm_b;       /* (dim) */
  weight out_w;              /* (n_fft + 2, dim): log-magnitude | phase of each bin */
  weight out_b;              /* (n_fft + 2) */
};

/* The buffers of one run of T frames, sized up front. */
typedef struct {
  float *embed; /* (dim, T): the embedding, channels first as Conv1d makes it */
  float *x;     /* (T, dim): the residual stream */
  float *h;     /* (T, dim): a block's branch */
  float *u;     /* (T, intermediate) */
  float *head;  /* (T, n_fft + 2) */
  float *spec;  /* (n_fft/2 + 1, T) complex, (re, im) interleaved */
  float *mem;
} vocos_state;

/* ---------------------------------------------------------------- the network */

/* x += γ ⊙ pwconv2(GELU(pwconv1(LayerNorm(dwconv(x))))) */
static void convnext_block(const struct vocos *m, const convnext_weights *b, vocos_state *s, int T) {
  const int D = m->dim, I = m->intermediate;
  depthwise_conv1d_rows(s->h, s->x, T, D, &b->dwconv_w, &b->dwconv_b, VOCOS_KERNEL, VOCOS_KERNEL / 2);
  layer_norm(s->h, s->h, T, D, &b->norm_w, &b->norm_b, VOCOS_EPS);
  linear(s->u, s->h, T, D, I, &b->pwconv1_w, &b->pwconv1_b);
  gelu(s->u, (size_t)T * I);
  linear(s->h, s->u, T, I, D, &b->pwconv2_w, &b->pwconv2_b);
  for (int t = 0; t < T; t++)
    for (int c = 0; c < D; c++) s->x[(size_t)t * D + c] += b->gamma[c] * s->h[(size_t)t * D + c];
}

/* embed → LayerNorm → blocks → final LayerNorm: s->x (T, dim). */
static a2i2a_status backbone(const struct vocos *m, const float *mel, vocos_state *s, int T, a2i2a_job *job) {
  conv1d(s->embed, mel, m->n_mels, T, &m->embed_w, &m->embed_b, m->dim, VOCOS_KERNEL, 1, VOCOS_KERNEL / 2, 0);
  transpose_chw_hwc(s->x, s->embed, m->dim, T);
  layer_norm(s->x, s->x, T, m->dim, &m->norm_w, &m->norm_b, VOCOS_EPS);
  a2i2a_status st;
  for (int l = 0; l < m->layers; l++) {
    if ((st = job_check(job)) || (st = kernels_check())) return st;
    convnext_block(m, &m->blocks[l], s, T);
  }
  layer_norm(s->x, s->x, T, m->dim, &m->final_norm_w, &m->final_norm_b, VOCOS_EPS);
  return kernels_check();
}

/* Linear → S = min(exp(log-magnitude), 100)·e^{i·phase} → inverse STFT (centred, Hann). */
static a2i2a_status istft_head(const struct vocos *m, vocos_state *s, int T, float *audio, vocoder_tap tap,
                               void *user) {
  const int bins = m->n_fft / 2 + 1, width = m->n_fft + 2;
  linear(s->head, s->x, T, m->dim, width, &m->out_w, &m->out_b);
  a2i2a_status st = kernels_check();
  if (st) return st;
  if (tap) tap(user, "head_linear_out", s->head, (size_t)T * width);
  for (int t = 0; t < T; t++) {
    const float *row = s->head + (size_t)t * width;
    for (int k = 0; k < bins; k++) {
      const float mag = fminf(expf(row[k]), 100.0f), phase = row[bins + k];
      s->spec[2 * ((size_t)k * T + t)] = mag * cosf(phase);
      s->spec[2 * ((size_t)k * T + t) + 1] = mag * sinf(phase);
    }
  }
  stft_ctx *ctx;
  if ((st = stft_new(&ctx, m->n_fft, m->hop, m->n_fft))) return st;
  stft_inverse(ctx, s->spec, T, audio);
  stft_free(ctx);
  return A2I2A_OK;
}

a2i2a_status vocos_forward(vocos *m, const float *mel, int T, float *audio, vocoder_tap tap, void *user,
                           a2i2a_job *job) {
  const size_t D = m->dim, sizes[] = {D * T, D * T, D * T, (size_t)m->intermediate * T,
                                      (size_t)(m->n_fft + 2) * T, (size_t)(m->n_fft + 2) * T};
  size_t total = 0;
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) total += sizes[i];
  vocos_state s = {.mem = xmalloc(total * sizeof(float), "Vocos: buffers")};
  if (!s.mem) return A2I2A_ERR_NOMEM;
  float **bufs[] = {&s.embed, &s.x, &s.h, &s.u, &s.head, &s.spec};
  for (size_t i = 0, at = 0; i < sizeof bufs / sizeof *bufs; at += sizes[i++]) *bufs[i] = s.mem + at;
  kernels_reset();
  a2i2a_status st = backbone(m, mel, &s, T, job);
  if (!st && tap) tap(user, "backbone_out", s.x, D * T);
  if (!st) st = job_check(job);
  if (!st) st = istft_head(m, &s, T, audio, tap, user);
  free(s.mem);
  return st;
}

/* ---------------------------------------------------------------- config.yaml */

typedef struct {
  const char *path;
  yaml_document_t doc;
} yaml_config;

/* The scalar at a dotted path of mappings ("backbone.init_args.dim"), or NULL when there is none;
 * a list or mapping there reads as a text no number check accepts. */
static const char *yaml_scalar(yaml_config *c, const char *dotted) {
  yaml_node_t *node = yaml_document_get_root_node(&c->doc);
  for (const char *key = dotted; node && *key;) {
    size_t len = strcspn(key, ".");
    yaml_node_t *next = NULL;
    if (node->type == YAML_MAPPING_NODE)
      for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top && !next; p++) {
        yaml_node_t *k = yaml_document_get_node(&c->doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == len &&
            !memcmp(k->data.scalar.value, key, len))
          next = yaml_document_get_node(&c->doc, p->value);
      }
    node = next;
    key += len + (key[len] == '.');
  }
  if (!node) return NULL;
  return node->type == YAML_SCALAR_NODE ? (const char *)node->data.scalar.value : "(a list or mapping)";
}

static a2i2a_status yaml_int(yaml_config *c, const char *key, int lo, int hi, int dflt, int *out) {
  const char *text = yaml_scalar(c, key);
  if (!text && dflt >= lo) return *out = dflt, A2I2A_OK;
  double v;
  a2i2a_status st = vocoder_config_number(c->path, key, text, lo, hi, 1, &v);
  if (!st) *out = (int)v;
  return st;
}

/* A text the config must have (or dflt), equal to one of want ("center"). */
static a2i2a_status yaml_expect(yaml_config *c, const char *key, const char *dflt, const char *want,
                                const char *what) {
  const char *text = yaml_scalar(c, key);
  if (!text) text = dflt;
  if (!text) return fail(A2I2A_ERR_MODEL, "%s: '%s' missing: an incomplete config", c->path, key);
  size_t n = strlen(text), w = strlen(want);
  if (n < w || strcmp(text + n - w, want))
    return fail(A2I2A_ERR_UNSUPPORTED, "%s: %s is '%.60s': only %s is supported", c->path, key, text, what);
  return A2I2A_OK;
}

static a2i2a_status read_config(yaml_config *c, struct vocos *m, vocoder_features *f) {
  int rate, n_fft, hop, head_dim, input_channels;
  a2i2a_status st;
  if ((st = yaml_expect(c, "feature_extractor.class_path", NULL, "MelSpectrogramFeatures",
                        "the mel variant (vocos.feature_extractors.MelSpectrogramFeatures)")) ||
      (st = yaml_expect(c, "backbone.class_path", NULL, "VocosBackbone", "vocos.models.VocosBackbone")) ||
      (st = yaml_expect(c, "head.class_path", NULL, "ISTFTHead", "vocos.heads.ISTFTHead")) ||
      /* the class's defaults where it has them */
      (st = yaml_int(c, "feature_extractor.init_args.sample_rate", 1000, 384000, 24000, &rate)) ||
      (st = yaml_int(c, "feature_extractor.init_args.n_fft", 16, VOCODER_MAX_NFFT, 1024, &n_fft)) ||
      (st = yaml_int(c, "feature_extractor.init_args.hop_length", 1, VOCODER_MAX_NFFT, 256, &hop)) ||
      (st = yaml_int(c, "feature_extractor.init_args.n_mels", 1, VOCODER_MAX_CHANNELS, 100, &m->n_mels)) ||
      (st = yaml_expect(c, "feature_extractor.init_args.padding", "center", "center", "padding: center")) ||
      (st = yaml_int(c, "backbone.init_args.input_channels", 1, VOCODER_MAX_CHANNELS, -1, &input_channels)) ||
      (st = yaml_int(c, "backbone.init_args.dim", 1, VOCODER_MAX_CHANNELS, -1, &m->dim)) ||
      (st = yaml_int(c, "backbone.init_args.intermediate_dim", 1, 4 * VOCODER_MAX_CHANNELS, -1, &m->intermediate)) ||
      (st = yaml_int(c, "backbone.init_args.num_layers", 1, VOCODER_MAX_LAYERS, -1, &m->layers)) ||
      (st = yaml_int(c, "head.init_args.dim", 1, VOCODER_MAX_CHANNELS, -1, &head_dim)) ||
      (st = yaml_int(c, "head.init_args.n_fft", 16, VOCODER_MAX_NFFT, -1, &m->n_fft)) ||
      (st = yaml_int(c, "head.init_args.hop_length", 1, VOCODER_MAX_NFFT, -1, &m->hop)) ||
      (st = yaml_expect(c, "head.init_args.padding", "same", "center", "padding: center")))
    return st;
  const char *ada = yaml_scalar(c, "backbone.init_args.adanorm_num_embeddings");
  if (ada && strcmp(ada, "null") && strcmp(ada, "~") && *ada)
    return fail(A2I2A_ERR_UNSUPPORTED, "%s: adanorm_num_embeddings: the EnCodec variant is not supported", c->path);
  if (n_fft % 2 || m->n_fft % 2 || hop > n_fft)
    return fail(A2I2A_ERR_MODEL, "%s: n_fft %d (head %d) must be even and at least hop_length %d", c->path, n_fft,
                m->n_fft, hop);
  if (input_channels != m->n_mels)
    return fail(A2I2A_ERR_MODEL, "%s: the backbone takes %d channels, the features have %d mel bands", c->path,
                input_channels, m->n_mels);
  if (head_dim != m->dim || m->hop != hop)
    return fail(A2I2A_ERR_MODEL, "%s: the head (dim %d, hop %d) does not fit the backbone (dim %d) and features (hop %d)",
                c->path, head_dim, m->hop, m->dim, hop);
  /* torchaudio's MelSpectrogram as MelSpectrogramFeatures builds it */
  *f = (vocoder_features){.rate = rate, .n_fft = n_fft, .hop = hop, .win_length = n_fft, .n_mels = m->n_mels,
                          .fmin = 0, .fmax = rate / 2, .scale = MEL_HTK, .floor = 1e-7f};
  return A2I2A_OK;
}

/* ---------------------------------------------------------------- weights */

static a2i2a_status read_weights(struct vocos *m, const st_file *w) {
  const size_t D = m->dim, I = m->intermediate, O = (size_t)m->n_fft + 2;
  a2i2a_status st;
  if ((st = vocoder_weight(w, &m->embed_w, D * m->n_mels * VOCOS_KERNEL, "backbone.embed.weight")) ||
      (st = vocoder_weight(w, &m->embed_b, D, "backbone.embed.bias")) ||
      (st = vocoder_weight(w, &m->norm_w, D, "backbone.norm.weight")) ||
      (st = vocoder_weight(w, &m->norm_b, D, "backbone.norm.bias")) ||
      (st = vocoder_weight(w, &m->final_norm_w, D, "backbone.final_layer_norm.weight")) ||
      (st = vocoder_weight(w, &m->final_norm_b, D, "backbone.final_layer_norm.bias")) ||
      (st = vocoder_weight(w, &m->out_w, O * D, "head.out.weight")) ||
      (st = vocoder_weight(w, &m->out_b, O, "head.out.bias")))
    return st;
  if (!(m->blocks = xcalloc((size_t)m->layers, sizeof *m->blocks, "Vocos: blocks"))) return A2I2A_ERR_NOMEM;
  for (int l = 0; l < m->layers; l++) {
    convnext_weights *b = &m->blocks[l];
    weight gamma;
    const char *p = "backbone.convnext";
    if ((st = vocoder_weight(w, &b->dwconv_w, D * VOCOS_KERNEL, "%s.%d.dwconv.weight", p, l)) ||
        (st = vocoder_weight(w, &b->dwconv_b, D, "%s.%d.dwconv.bias", p, l)) ||
        (st = vocoder_weight(w, &b->norm_w, D, "%s.%d.norm.weight", p, l)) ||
        (st = vocoder_weight(w, &b->norm_b, D, "%s.%d.norm.bias", p, l)) ||
        (st = vocoder_weight(w, &b->pwconv1_w, I * D, "%s.%d.pwconv1.weight", p, l)) ||
        (st = vocoder_weight(w, &b->pwconv1_b, I, "%s.%d.pwconv1.bias", p, l)) ||
        (st = vocoder_weight(w, &b->pwconv2_w, D * I, "%s.%d.pwconv2.weight", p, l)) ||
        (st = vocoder_weight(w, &b->pwconv2_b, D, "%s.%d.pwconv2.bias", p, l)) ||
        (st = vocoder_weight(w, &gamma, D, "%s.%d.gamma", p, l)))
      return st;
    if (!(b->gamma = xmalloc(D * sizeof(float), "Vocos: layer scale"))) return A2I2A_ERR_NOMEM;
    weight_to_f32(&gamma, b->gamma);
  }
  return A2I2A_OK;
}

a2i2a_status vocos_load(const char *config_path, const char *text, size_t len, const st_file *weights, vocos **out,
                        vocoder_features *f) {
  *out = NULL;
  yaml_parser_t parser;
  yaml_config c = {.path = config_path};
  if (!yaml_parser_initialize(&parser)) return fail(A2I2A_ERR_NOMEM, "%s: out of memory", config_path);
  yaml_parser_set_input_string(&parser, (const unsigned char *)(text ? text : ""), text ? len : 0);
  int loaded = yaml_parser_load(&parser, &c.doc);
  a2i2a_status st = A2I2A_OK;
  if (!loaded)
    st = fail(A2I2A_ERR_FORMAT, "%s: not valid YAML (line %zu: %s)", config_path, parser.problem_mark.line + 1,
              parser.problem ? parser.problem : "?");
  yaml_parser_delete(&parser);
  if (st) return st;
  struct vocos *m = xcalloc(1, sizeof *m, "Vocos");
  if (!m) st = A2I2A_ERR_NOMEM;
  if (!st) st = read_config(&c, m, f);
  if (!st) st = read_weights(m, weights);
  yaml_document_delete(&c.doc);
  if (st) vocos_free(m);
  else *out = m;
  return st;
}

void vocos_free(vocos *m) {
  if (!m) return;
  for (int l = 0; m->blocks && l < m->layers; l++) free(m->blocks[l].gamma);
  free(m->blocks);
  free(m);
}

void vocos_describe(const vocos *m, char *buf, size_t size) {
  snprintf(buf, size, "Vocos (mel, %d bands, dim %d, intermediate %d, %d layers, n_fft %d, hop %d)", m->n_mels, m->dim,
           m->intermediate, m->layers, m->n_fft, m->hop);
}
