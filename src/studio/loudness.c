/* Integrated loudness, ITU-R BS.1770-4 as EBU R128 uses it, so that the page can play every
 * reading at the same loudness. The K-weighting filters are the standard's two biquads (a high
 * shelf, then a high pass), designed for any sample rate from their analogue prototypes (the
 * constants of libebur128, which give BS.1770's 48 kHz coefficients exactly). */
#include <math.h>
#include <sndfile.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "studio/studio.h"

typedef struct {
  double b[3], a[3];
} biquad;

static void k_weighting(double rate, biquad *shelf, biquad *hp) {
  double f0 = 1681.974450955533, g = 3.999843853973347, q = 0.7071752369554196;
  double k = tan(M_PI * f0 / rate), vh = pow(10.0, g / 20.0), vb = pow(vh, 0.4996667741545416);
  double a0 = 1.0 + k / q + k * k;
  *shelf = (biquad){{(vh + vb * k / q + k * k) / a0, 2.0 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0},
                    {1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0}};
  f0 = 38.13547087602444, q = 0.5003270373238773;
  k = tan(M_PI * f0 / rate);
  a0 = 1.0 + k / q + k * k;
  *hp = (biquad){{1.0, -2.0, 1.0}, {1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0}};
}

enum { MAX_CHANNELS = 64 };

/* The running state: filter memories per channel, the mean square of each 100 ms quarter
 * block, and the 400 ms block energies kept for the two gates. */
typedef struct {
  int channels;
  double rate;
  biquad shelf, hp;
  double z[MAX_CHANNELS][4]; /* direct form II transposed memories: shelf (2), high pass (2) */
  double weight[MAX_CHANNELS];
  int64_t quarter_len, in_quarter;
  double quarter_sum;        /* weighted sum of squares in the current quarter */
  double quarters[4];        /* the last four quarters, oldest first */
  int nquarters;
  double *blocks;            /* weighted mean square of each 400 ms block */
  size_t nblocks, cap;
  int failed;
} meter;

static void meter_init(meter *m, int channels, double rate) {
  memset(m, 0, sizeof *m);
  m->channels = channels;
  m->rate = rate;
  k_weighting(rate, &m->shelf, &m->hp);
  for (int c = 0; c < channels; c++) m->weight[c] = 1.0;
  if (channels == 6) m->weight[3] = 0.0, m->weight[4] = m->weight[5] = 1.41; /* L R C LFE Ls Rs */
  m->quarter_len = (int64_t)llround(rate * 0.1);
  if (m->quarter_len < 1) m->quarter_len = 1;
}

static double filter(const biquad *f, double *z, double x) {
  double y = f->b[0] * x + z[0];
  z[0] = f->b[1] * x - f->a[1] * y + z[1];
  z[1] = f->b[2] * x - f->a[2] * y;
  return y;
}

static void push_block(meter *m, double ms) {
  if (m->nblocks == m->cap) {
    size_t cap = m->cap ? 2 * m->cap : 1024;
    double *b = realloc(m->blocks, cap * sizeof *b);
    if (!b) {
      m->failed = 1;
      return;
    }
    m->blocks = b, m->cap = cap;
  }
  m->blocks[m->nblocks++] = ms;
}

static void meter_add(meter *m, const float *x, int64_t frames) {
  for (int64_t i = 0; i < frames; i++) {
    double sum = 0;
    for (int c = 0; c < m->channels; c++) {
      double y = filter(&m->hp, m->z[c] + 2, filter(&m->shelf, m->z[c], x[i * m->channels + c]));
      sum += m->weight[c] * y * y;
    }
    m->quarter_sum += sum;
    if (++m->in_quarter < m->quarter_len) continue;
    /* a quarter is complete: every four in a row make a block (75 % overlap) */
    memmove(m->quarters, m->quarters + 1, 3 * sizeof *m->quarters);
    m->quarters[3] = m->quarter_sum / (double)m->quarter_len;
    m->quarter_sum = 0, m->in_quarter = 0;
    if (++m->nquarters >= 4)
      push_block(m, (m->quarters[0] + m->quarters[1] + m->quarters[2] + m->quarters[3]) / 4.0);
  }
}

static double lufs_of(double ms) { return -0.691 + 10.0 * log10(ms); }

static double meter_result(meter *m) {
  /* a sound shorter than one block is measured as one block of itself */
  if (m->nblocks == 0 && m->nquarters < 4) {
    int64_t n = m->nquarters * m->quarter_len + m->in_quarter;
    double sum = m->quarter_sum;
    for (int k = 4 - m->nquarters; k < 4; k++) sum += m->quarters[k] * (double)m->quarter_len;
    if (n > 0) push_block(m, sum / (double)n);
  }
  double sum = 0, gated = 0;
  size_t n = 0, ng = 0;
  for (size_t j = 0; j < m->nblocks; j++)
    if (m->blocks[j] > 0 && lufs_of(m->blocks[j]) > -70.0) sum += m->blocks[j], n++;
  if (n == 0) return -HUGE_VAL;
  double relative = lufs_of(sum / (double)n) - 10.0;
  for (size_t j = 0; j < m->nblocks; j++)
    if (m->blocks[j] > 0 && lufs_of(m->blocks[j]) > -70.0 && lufs_of(m->blocks[j]) > relative)
      gated += m->blocks[j], ng++;
  return ng ? lufs_of(gated / (double)ng) : -HUGE_VAL;
}

double studio_loudness(const float *x, int64_t frames, int channels, double rate) {
  if (channels < 1 || channels > MAX_CHANNELS || rate <= 0) return -HUGE_VAL;
  meter m;
  meter_init(&m, channels, rate);
  meter_add(&m, x, frames);
  double l = m.failed ? -HUGE_VAL : meter_result(&m);
  free(m.blocks);
  return l;
}

a2i2a_status studio_loudness_file(const char *path, double *lufs, double *seconds, double *peak) {
  SF_INFO info;
  memset(&info, 0, sizeof info);
  SNDFILE *sf = sf_open(path, SFM_READ, &info);
  if (!sf) return fail(A2I2A_ERR_FORMAT, "%s: cannot read as sound: %s", path, sf_strerror(NULL));
  if (info.channels < 1 || info.channels > MAX_CHANNELS || info.samplerate <= 0) {
    sf_close(sf);
    return fail(A2I2A_ERR_UNSUPPORTED, "%s: %d channels at %d Hz", path, info.channels, info.samplerate);
  }
  meter m;
  meter_init(&m, info.channels, info.samplerate);
  enum { CHUNK = 8192 };
  float *buf = xmalloc(sizeof *buf * CHUNK * (size_t)info.channels, "a loudness buffer");
  if (!buf) return sf_close(sf), A2I2A_ERR_NOMEM;
  double top = 0;
  int64_t total = 0;
  sf_count_t n;
  while ((n = sf_readf_float(sf, buf, CHUNK)) > 0) {
    for (sf_count_t i = 0; i < n * info.channels; i++)
      if (fabs(buf[i]) > top) top = fabs(buf[i]);
    meter_add(&m, buf, n);
    total += n;
  }
  free(buf);
  sf_close(sf);
  *lufs = m.failed ? -HUGE_VAL : meter_result(&m);
  free(m.blocks);
  if (m.failed) return fail(A2I2A_ERR_NOMEM, "%s: out of memory measuring loudness", path);
  if (seconds) *seconds = (double)total / info.samplerate;
  if (peak) *peak = top;
  return A2I2A_OK;
}
