/* HiFi-GAN's generator (Kong, Kim, Bae 2020, "HiFi-GAN: Generative Adversarial Networks for
 * Efficient and High Fidelity Speech Synthesis"; jik876/hifi-gan at 4769534): transposed
 * convolutions upsample the mel frames to the sample rate, each followed by multi-receptive-field
 * fusion (the mean of residual blocks of several kernel sizes and dilations). config.json has
 * HiFi-GAN's own keys; every convolution is weight-normed in the files (weight_g, weight_v) and
 * the weights are made here, once, at load. */
#include "vocoder/vocoder_internal.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/job.h"

#define LRELU_SLOPE 0.1f
#define FINAL_SLOPE 0.01f /* the reference calls F.leaky_relu(x) without a slope: PyTorch's default */
#define EDGE_KERNEL 7     /* conv_pre and conv_post */
enum { MAX_STAGES = 8, MAX_KERNELS = 8, MAX_DILATIONS = 8 };

typedef struct {
  /* type "1": convs1[d] dilated by d, convs2[d] not; type "2": convs[d] (in c1) only; each
   * (channels, channels, k) and (channels) */
  weight c1_w[MAX_DILATIONS], c1_b[MAX_DILATIONS];
  weight c2_w[MAX_DILATIONS], c2_b[MAX_DILATIONS];
} resblock_weights;

struct hifigan {
  /* config */
  int n_mels, channels;              /* upsample_initial_channel */
  int type;                          /* resblock "1" or "2" */
  int stages, kernels;
  int rates[MAX_STAGES], up_kernels[MAX_STAGES];
  int res_kernels[MAX_KERNELS], dilations[MAX_KERNELS][MAX_DILATIONS], n_dilations[MAX_KERNELS];
  /* weights */
  weight conv_pre_w;                 /* (channels, n_mels, 7) */
  weight conv_pre_b;                 /* (channels) */
  weight ups_w[MAX_STAGES];          /* stage i: (channels/2^i, channels/2^(i+1), up_kernels[i]) */
  weight ups_b[MAX_STAGES];          /* (channels/2^(i+1)) */
  resblock_weights res[MAX_STAGES * MAX_KERNELS]; /* stage i, kernel j: res[i·kernels + j] */
  weight conv_post_w;                /* (1, channels/2^stages, 7) */
  weight conv_post_b;                /* (1) */
  float **owned;                     /* the weight-normed weights */
  int nowned;
};

/* The buffers of one run, each as large as the largest stage, sized up front. */
typedef struct {
  float *x;   /* the stage's input, then the mean of its resblocks */
  float *up;  /* the upsampled signal, each resblock's start */
  float *r;   /* a resblock's residual stream */
  float *t1;  /* its branch */
  float *t2;
  float *mem;
} hifigan_state;

/* ---------------------------------------------------------------- the network */

/* One residual block on r (ch, len): per dilation d, r += c2(lrelu(c1_d(lrelu(r)))) (type 1) or
 * r += c_d(lrelu(r)) (type 2), "same" padding. */
static void resblock(const struct hifigan *m, const resblock_weights *b, int j, hifigan_state *s, int ch, int len) {
  const int k = m->res_kernels[j];
  const size_t n = (size_t)ch * len;
  for (int i = 0; i < m->n_dilations[j]; i++) {
    const int d = m->dilations[j][i];
    leaky_relu(s->t1, s->r, n, LRELU_SLOPE);
    if (m->type == 1) {
      conv1d(s->t2, s->t1, ch, len, &b->c1_w[i], &b->c1_b[i], ch, k, d, d * (k - 1) / 2, 0);
      leaky_relu(s->t2, s->t2, n, LRELU_SLOPE);
      conv1d(s->r, s->t2, ch, len, &b->c2_w[i], &b->c2_b[i], ch, k, 1, (k - 1) / 2, 1);
    } else {
      conv1d(s->r, s->t1, ch, len, &b->c1_w[i], &b->c1_b[i], ch, k, d, d * (k - 1) / 2, 1);
    }
  }
}

/* Stage i on s->x (ch, len): lrelu, upsample ×rate, then the mean of the stage's resblocks into
 * s->x (ch/2, len·rate). */
static a2i2a_status stage(const struct hifigan *m, int i, hifigan_state *s, int ch, int len, vocoder_tap tap,
                          void *user, a2i2a_job *job) {
  const int k = m->up_kernels[i], u = m->rates[i], out_ch = ch / 2, out_len = len * u;
  const size_t n = (size_t)out_ch * out_len;
  leaky_relu(s->x, s->x, (size_t)ch * len, LRELU_SLOPE);
  conv_transpose1d(s->up, s->x, ch, len, &m->ups_w[i], &m->ups_b[i], out_ch, k, u, (k - u) / 2);
  a2i2a_status st = kernels_check();
  if (st) return st;
  if (tap) {
    char name[32];
    snprintf(name, sizeof name, "after_upsample_%d", i);
    tap(user, name, s->up, n);
  }
  for (int j = 0; j < m->kernels; j++) {
    if ((st = job_check(job))) return st;
    memcpy(s->r, s->up, n * sizeof(float));
    resblock(m, &m->res[i * m->kernels + j], j, s, out_ch, out_len);
    if (j == 0) memcpy(s->x, s->r, n * sizeof(float));
    else add(s->x, s->r, n);
    if ((st = kernels_check())) return st;
  }
  for (size_t p = 0; p < n; p++) s->x[p] /= (float)m->kernels;
  return A2I2A_OK;
}

a2i2a_status hifigan_forward(hifigan *m, const float *mel, int T, float *audio, vocoder_tap tap, void *user,
                             a2i2a_job *job) {
  size_t most = (size_t)m->channels * T, len = T;
  for (int i = 0, ch = m->channels; i < m->stages; i++) {
    ch /= 2, len *= m->rates[i];
    if ((size_t)ch * len > most) most = (size_t)ch * len;
  }
  hifigan_state s = {.mem = xmalloc(5 * most * sizeof(float), "HiFi-GAN: buffers")};
  if (!s.mem) return A2I2A_ERR_NOMEM;
  float **bufs[] = {&s.x, &s.up, &s.r, &s.t1, &s.t2};
  for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) *bufs[i] = s.mem + i * most;
  kernels_reset();
  conv1d(s.x, mel, m->n_mels, T, &m->conv_pre_w, &m->conv_pre_b, m->channels, EDGE_KERNEL, 1, EDGE_KERNEL / 2, 0);
  a2i2a_status st = kernels_check();
  int ch = m->channels, n = T;
  for (int i = 0; i < m->stages && !st; i++) {
    st = stage(m, i, &s, ch, n, tap, user, job);
    ch /= 2, n *= m->rates[i];
  }
  if (!st) {
    leaky_relu(s.x, s.x, (size_t)ch * n, FINAL_SLOPE);
    conv1d(audio, s.x, ch, n, &m->conv_post_w, &m->conv_post_b, 1, EDGE_KERNEL, 1, EDGE_KERNEL / 2, 0);
    for (int i = 0; i < n; i++) audio[i] = tanhf(audio[i]);
    st = kernels_check();
  }
  free(s.mem);
  return st;
}

/* ---------------------------------------------------------------- config.json */

typedef struct {
  const char *path;
  const cJSON *json;
} json_config;

/* A number of the config (a number, or for "resblock" the string HiFi-GAN writes), default dflt when
 * absent and dflt >= lo; null counts as absent. */
static a2i2a_status json_number(const json_config *c, const cJSON *v, const char *key, double lo, double hi, int whole,
                                double dflt, double *out) {
  if ((!v || cJSON_IsNull(v)) && dflt >= lo) return *out = dflt, A2I2A_OK;
  char text[64];
  const char *t = NULL;
  if (cJSON_IsNumber(v)) snprintf(text, sizeof text, "%.17g", v->valuedouble), t = text;
  else if (cJSON_IsString(v)) t = v->valuestring;
  else if (v) t = "not a number";
  return vocoder_config_number(c->path, key, t, lo, hi, whole, out);
}

static a2i2a_status json_int(const json_config *c, const char *key, int lo, int hi, int *out) {
  double v;
  a2i2a_status st = json_number(c, cJSON_GetObjectItemCaseSensitive(c->json, key), key, lo, hi, 1, -1, &v);
  if (!st) *out = (int)v;
  return st;
}

/* A list of whole numbers (or, with `in`, the list at in[index]): n of them, at most max. */
static a2i2a_status json_ints(const json_config *c, const char *key, const cJSON *list, int lo, int hi, int *out,
                              int max, int *n) {
  char where[96];
  if (!list) return fail(A2I2A_ERR_MODEL, "%s: '%s' missing: an incomplete config", c->path, key);
  if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) < 1 || cJSON_GetArraySize(list) > max)
    return fail(A2I2A_ERR_MODEL, "%s: '%s' is not a list of 1 to %d numbers", c->path, key, max);
  *n = cJSON_GetArraySize(list);
  for (int i = 0; i < *n; i++) {
    double v;
    snprintf(where, sizeof where, "%s[%d]", key, i);
    a2i2a_status st = json_number(c, cJSON_GetArrayItem(list, i), where, lo, hi, 1, -1, &v);
    if (st) return st;
    out[i] = (int)v;
  }
  return A2I2A_OK;
}

static a2i2a_status read_config(const json_config *c, struct hifigan *m, vocoder_features *f) {
  const cJSON *j = c->json;
  int n_fft, hop, win, rate, nk_up, nd_lists;
  double type, fmin, fmax;
  a2i2a_status st;
  if ((st = json_number(c, cJSON_GetObjectItemCaseSensitive(j, "resblock"), "resblock", 1, 2, 1, -1, &type)) ||
      (st = json_ints(c, "upsample_rates", cJSON_GetObjectItemCaseSensitive(j, "upsample_rates"), 1, VOCODER_MAX_KERNEL,
                      m->rates, MAX_STAGES, &m->stages)) ||
      (st = json_ints(c, "upsample_kernel_sizes", cJSON_GetObjectItemCaseSensitive(j, "upsample_kernel_sizes"), 1,
                      VOCODER_MAX_KERNEL, m->up_kernels, MAX_STAGES, &nk_up)) ||
      (st = json_int(c, "upsample_initial_channel", 2, VOCODER_MAX_CHANNELS, &m->channels)) ||
      (st = json_ints(c, "resblock_kernel_sizes", cJSON_GetObjectItemCaseSensitive(j, "resblock_kernel_sizes"), 1,
                      VOCODER_MAX_KERNEL, m->res_kernels, MAX_KERNELS, &m->kernels)) ||
      (st = json_int(c, "num_mels", 1, VOCODER_MAX_CHANNELS, &m->n_mels)) ||
      (st = json_int(c, "n_fft", 16, VOCODER_MAX_NFFT, &n_fft)) ||
      (st = json_int(c, "hop_size", 1, VOCODER_MAX_NFFT, &hop)) ||
      (st = json_int(c, "win_size", 2, VOCODER_MAX_NFFT, &win)) ||
      (st = json_int(c, "sampling_rate", 1000, 384000, &rate)) ||
      (st = json_number(c, cJSON_GetObjectItemCaseSensitive(j, "fmin"), "fmin", 0, rate / 2.0, 0, -1, &fmin)) ||
      (st = json_number(c, cJSON_GetObjectItemCaseSensitive(j, "fmax"), "fmax", 0, rate / 2.0, 0, rate / 2.0, &fmax)))
    return st;
  m->type = (int)type;
  const cJSON *dl = cJSON_GetObjectItemCaseSensitive(j, "resblock_dilation_sizes");
  if (!dl) return fail(A2I2A_ERR_MODEL, "%s: 'resblock_dilation_sizes' missing: an incomplete config", c->path);
  nd_lists = cJSON_IsArray(dl) ? cJSON_GetArraySize(dl) : -1;
  if (nd_lists != m->kernels)
    return fail(A2I2A_ERR_MODEL, "%s: resblock_dilation_sizes must hold one list per resblock kernel size (%d)",
                c->path, m->kernels);
  for (int k = 0; k < m->kernels; k++) {
    char key[64];
    snprintf(key, sizeof key, "resblock_dilation_sizes[%d]", k);
    if ((st = json_ints(c, key, cJSON_GetArrayItem(dl, k), 1, VOCODER_MAX_KERNEL, m->dilations[k], MAX_DILATIONS,
                        &m->n_dilations[k])))
      return st;
    if (m->res_kernels[k] % 2 == 0)
      return fail(A2I2A_ERR_UNSUPPORTED, "%s: resblock kernel size %d: only odd sizes keep the length", c->path,
                  m->res_kernels[k]);
  }
  if (nk_up != m->stages)
    return fail(A2I2A_ERR_MODEL, "%s: %d upsample_kernel_sizes for %d upsample_rates", c->path, nk_up, m->stages);
  int64_t product = 1;
  for (int i = 0; i < m->stages; i++) {
    product *= m->rates[i];
    if ((m->up_kernels[i] - m->rates[i]) % 2 || m->up_kernels[i] < m->rates[i])
      return fail(A2I2A_ERR_UNSUPPORTED, "%s: upsampling kernel %d with rate %d: kernel − rate must be even and >= 0",
                  c->path, m->up_kernels[i], m->rates[i]);
  }
  if (product != hop)
    return fail(A2I2A_ERR_MODEL, "%s: the upsample_rates multiply to %lld, not hop_size %d", c->path,
                (long long)product, hop);
  if (m->channels % (1 << m->stages))
    return fail(A2I2A_ERR_MODEL, "%s: upsample_initial_channel %d does not halve %d times", c->path, m->channels,
                m->stages);
  if (win > n_fft || hop > n_fft || (n_fft - hop) % 2 || fmax <= fmin)
    return fail(A2I2A_ERR_MODEL, "%s: an unusable STFT (n_fft %d, hop_size %d, win_size %d, fmin %g, fmax %g)", c->path,
                n_fft, hop, win, fmin, fmax);
  /* HiFi-GAN's meldataset.mel_spectrogram */
  *f = (vocoder_features){.rate = rate, .n_fft = n_fft, .hop = hop, .win_length = win, .n_mels = m->n_mels,
                          .fmin = fmin, .fmax = fmax, .scale = MEL_SLANEY, .slaney_norm = 1, .floor = 1e-5f,
                          .mag_eps = 1e-9f, .frame_offset = n_fft / 2 - (n_fft - hop) / 2, .whole_frames = 1};
  return A2I2A_OK;
}

/* ---------------------------------------------------------------- weights */

static a2i2a_status normed(struct hifigan *m, const st_file *w, weight *out, int64_t rows, size_t numel,
                           const char *name) {
  float *data;
  a2i2a_status st = vocoder_normed_weight(w, out, &data, rows, numel, "%s", name);
  if (!st) m->owned[m->nowned++] = data;
  return st;
}

static a2i2a_status read_weights(struct hifigan *m, const st_file *w) {
  int count = 2 + m->stages * (1 + m->kernels * 2 * MAX_DILATIONS);
  if (!(m->owned = xcalloc((size_t)count, sizeof *m->owned, "HiFi-GAN: weights"))) return A2I2A_ERR_NOMEM;
  char name[128];
  a2i2a_status st;
  const size_t C = m->channels;
  if ((st = normed(m, w, &m->conv_pre_w, C, C * m->n_mels * EDGE_KERNEL, "conv_pre")) ||
      (st = vocoder_weight(w, &m->conv_pre_b, C, "conv_pre.bias")))
    return st;
  size_t ch = C;
  for (int i = 0; i < m->stages; i++, ch /= 2) {
    snprintf(name, sizeof name, "ups.%d", i);
    if ((st = normed(m, w, &m->ups_w[i], (int64_t)ch, ch * (ch / 2) * m->up_kernels[i], name)) ||
        (st = vocoder_weight(w, &m->ups_b[i], ch / 2, "ups.%d.bias", i)))
      return st;
    for (int j = 0; j < m->kernels; j++) {
      const int r = i * m->kernels + j;
      resblock_weights *b = &m->res[r];
      const size_t numel = (ch / 2) * (ch / 2) * m->res_kernels[j];
      for (int d = 0; d < m->n_dilations[j]; d++) {
        if (m->type == 1) {
          snprintf(name, sizeof name, "resblocks.%d.convs1.%d", r, d);
          if ((st = normed(m, w, &b->c1_w[d], (int64_t)ch / 2, numel, name)) ||
              (st = vocoder_weight(w, &b->c1_b[d], ch / 2, "%s.bias", name)))
            return st;
          snprintf(name, sizeof name, "resblocks.%d.convs2.%d", r, d);
          if ((st = normed(m, w, &b->c2_w[d], (int64_t)ch / 2, numel, name)) ||
              (st = vocoder_weight(w, &b->c2_b[d], ch / 2, "%s.bias", name)))
            return st;
        } else {
          snprintf(name, sizeof name, "resblocks.%d.convs.%d", r, d);
          if ((st = normed(m, w, &b->c1_w[d], (int64_t)ch / 2, numel, name)) ||
              (st = vocoder_weight(w, &b->c1_b[d], ch / 2, "%s.bias", name)))
            return st;
        }
      }
    }
  }
  if ((st = normed(m, w, &m->conv_post_w, 1, ch * EDGE_KERNEL, "conv_post")) ||
      (st = vocoder_weight(w, &m->conv_post_b, 1, "conv_post.bias")))
    return st;
  return A2I2A_OK;
}

a2i2a_status hifigan_load(const char *config_path, const char *text, size_t len, const st_file *weights,
                          hifigan **out, vocoder_features *f) {
  *out = NULL;
  json_config c = {.path = config_path, .json = cJSON_ParseWithLength(text ? text : "", text ? len : 0)};
  if (!cJSON_IsObject(c.json)) {
    cJSON_Delete((cJSON *)c.json);
    return fail(A2I2A_ERR_FORMAT, "%s: not a valid JSON object", config_path);
  }
  struct hifigan *m = xcalloc(1, sizeof *m, "HiFi-GAN");
  a2i2a_status st = m ? read_config(&c, m, f) : A2I2A_ERR_NOMEM;
  cJSON_Delete((cJSON *)c.json);
  if (!st) st = read_weights(m, weights);
  if (st) hifigan_free(m);
  else *out = m;
  return st;
}

void hifigan_free(hifigan *m) {
  if (!m) return;
  for (int i = 0; i < m->nowned; i++) free(m->owned[i]);
  free(m->owned);
  free(m);
}

void hifigan_describe(const hifigan *m, char *buf, size_t size) {
  char rates[64] = "";
  for (int i = 0, len = 0; i < m->stages; i++)
    len += snprintf(rates + len, sizeof rates - len, "%s%d", i ? "x" : "", m->rates[i]);
  snprintf(buf, size, "HiFi-GAN (%d mels, %d initial channels, upsampling %s, resblock type %d, %d kernels)", m->n_mels,
           m->channels, rates, m->type, m->kernels);
}
