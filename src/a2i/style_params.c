/* The parameters a2i writes into its images: the "a2i2a" JSON text chunk and Riffusion's
 * eXIf TIFF block. */
#include "a2i/styles.h"
#include "common/err.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

char *a2i_style_params_to_json(const a2i_style_params *p) {
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  cJSON_AddStringToObject(o, "format", A2I_JSON_FORMAT);
  cJSON_AddNumberToObject(o, "version", A2I_JSON_VERSION);
  cJSON_AddStringToObject(o, "style", p->style);
  cJSON_AddNumberToObject(o, "sample_rate", p->sample_rate);
  cJSON_AddNumberToObject(o, "source_sample_rate", p->source_sample_rate);
  cJSON_AddNumberToObject(o, "source_channels", p->source_channels);
  cJSON_AddNumberToObject(o, "samples", (double)p->samples);
  cJSON_AddNumberToObject(o, "channels", p->channels);
  cJSON_AddNumberToObject(o, "n_fft", p->n_fft);
  cJSON_AddNumberToObject(o, "hop", p->hop);
  cJSON_AddNumberToObject(o, "win_length", p->win_length);
  if (!strcmp(p->style, "fullband")) {
    cJSON_AddStringToObject(o, "window", "hann-periodic");
    cJSON_AddBoolToObject(o, "center", 1);
    cJSON_AddStringToObject(o, "pad", "reflect");
    cJSON_AddStringToObject(o, "frequency_scale", "mel");
    cJSON_AddStringToObject(o, "mel_scale", p->mel_scale);
    cJSON_AddStringToObject(o, "mel_norm", p->mel_norm ? "slaney" : "none");
    cJSON_AddNumberToObject(o, "fmin", p->fmin);
    cJSON_AddNumberToObject(o, "fmax", p->fmax);
    cJSON_AddNumberToObject(o, "bands", p->bands);
  }
  cJSON_AddNumberToObject(o, "width", p->width);
  cJSON_AddNumberToObject(o, "height", p->height);
  if (!strcmp(p->style, "fullband")) {
    cJSON_AddStringToObject(o, "orientation", "low-frequencies-at-bottom");
    cJSON_AddStringToObject(o, "value", "mel-power-db");
    cJSON_AddNumberToObject(o, "db_max", p->db_max);
    cJSON_AddNumberToObject(o, "db_range", p->db_range);
    cJSON_AddStringToObject(o, "colormap", p->colormap);
    cJSON_AddNumberToObject(o, "peak", p->peak);
    if (p->peak > 0) cJSON_AddNumberToObject(o, "peak_dbfs", 20 * log10(p->peak));
    else cJSON_AddNullToObject(o, "peak_dbfs");
    cJSON_AddNumberToObject(o, "rms", p->rms);
    cJSON_AddBoolToObject(o, "silent", p->silent);
  }
  char *s = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return s;
}

static int get_num(const cJSON *o, const char *key, double *v) {
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
  if (!cJSON_IsNumber(it)) return 0;
  *v = it->valuedouble;
  return 1;
}

static int get_str(const cJSON *o, const char *key, char *dst, size_t n) {
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
  if (!cJSON_IsString(it) || strlen(it->valuestring) >= n) return 0;
  strcpy(dst, it->valuestring);
  return 1;
}

a2i2a_status a2i_style_params_from_json(const char *json, a2i_style_params *p) {
  memset(p, 0, sizeof *p);
  cJSON *o = cJSON_Parse(json);
  if (!o || !cJSON_IsObject(o)) {
    cJSON_Delete(o);
    return fail(A2I2A_ERR_FORMAT, "\"%s\" text chunk is not a JSON object", A2I_JSON_KEY);
  }
  a2i2a_status st = A2I2A_OK;
  char fmt[64] = "";
  double v;
  if (!get_str(o, "format", fmt, sizeof fmt) || strcmp(fmt, A2I_JSON_FORMAT)) {
    st = fail(A2I2A_ERR_FORMAT, "\"%s\" text chunk: \"format\" is not \"%s\"", A2I_JSON_KEY, A2I_JSON_FORMAT);
    goto done;
  }
  if (!get_num(o, "version", &v) || v < 1 || v != floor(v)) {
    st = fail(A2I2A_ERR_FORMAT, "\"%s\" text chunk: missing or invalid \"version\"", A2I_JSON_KEY);
    goto done;
  }
  if (v > A2I_JSON_VERSION) {
    st = fail(A2I2A_ERR_UNSUPPORTED, "\"%s\" text chunk: version %g is newer than this a2i2a understands (%d)",
              A2I_JSON_KEY, v, A2I_JSON_VERSION);
    goto done;
  }
  p->version = (int)v;
  if (!get_str(o, "style", p->style, sizeof p->style)) {
    st = fail(A2I2A_ERR_FORMAT, "\"%s\" text chunk: missing \"style\"", A2I_JSON_KEY);
    goto done;
  }
  /* common fields: all required, each within what a2i writes (docs/reliability.md) */
  struct {
    const char *key;
    double lo, hi;
    double *d;
    int *i;
    int64_t *l;
  } f[] = {
      {"sample_rate", 1, 1e6, &p->sample_rate, NULL, NULL},
      {"source_sample_rate", 1, 1e7, &p->source_sample_rate, NULL, NULL},
      {"source_channels", 1, AUDIO_MAX_CHANNELS, NULL, &p->source_channels, NULL},
      {"samples", 1, (double)AUDIO_MAX_FRAMES, NULL, NULL, &p->samples},
      {"channels", 1, AUDIO_MAX_CHANNELS, NULL, &p->channels, NULL},
      {"n_fft", 2, 1 << 24, NULL, &p->n_fft, NULL},
      {"hop", 1, 1 << 24, NULL, &p->hop, NULL},
      {"win_length", 1, 1 << 24, NULL, &p->win_length, NULL},
      {"width", 1, IMAGE_MAX_SIDE, NULL, &p->width, NULL},
      {"height", 1, IMAGE_MAX_SIDE, NULL, &p->height, NULL},
  };
  for (size_t k = 0; k < sizeof f / sizeof f[0]; k++) {
    if (!get_num(o, f[k].key, &v)) {
      st = fail(A2I2A_ERR_FORMAT, "\"%s\" text chunk: \"%s\" is missing or not a number", A2I_JSON_KEY, f[k].key);
      goto done;
    }
    if (!(v >= f[k].lo && v <= f[k].hi) || ((f[k].i || f[k].l) && v != floor(v))) {
      st = fail(A2I2A_ERR_FORMAT, "\"%s\" text chunk: \"%s\": %.10g is not a %s in [%.10g, %.10g]", A2I_JSON_KEY,
                f[k].key, v, f[k].d ? "number" : "whole number", f[k].lo, f[k].hi);
      goto done;
    }
    if (f[k].d) *f[k].d = v;
    if (f[k].i) *f[k].i = (int)v;
    if (f[k].l) *f[k].l = (int64_t)v;
  }
  if (p->win_length > p->n_fft) {
    st = fail(A2I2A_ERR_FORMAT, "\"%s\" text chunk: win_length %d > n_fft %d", A2I_JSON_KEY, p->win_length, p->n_fft);
    goto done;
  }
  if (!strcmp(p->style, "fullband")) {
    char norm[16] = "";
    if (!get_str(o, "mel_scale", p->mel_scale, sizeof p->mel_scale) ||
        (strcmp(p->mel_scale, "slaney") && strcmp(p->mel_scale, "htk")) || !get_str(o, "mel_norm", norm, sizeof norm) ||
        (strcmp(norm, "none") && strcmp(norm, "slaney"))) {
      st = fail(A2I2A_ERR_FORMAT, "\"%s\" text chunk: invalid \"mel_scale\" or \"mel_norm\"", A2I_JSON_KEY);
      goto done;
    }
    p->mel_norm = !strcmp(norm, "slaney");
    if (!get_num(o, "fmin", &p->fmin) || !get_num(o, "fmax", &p->fmax) || !(p->fmin >= 0) || !(p->fmax > p->fmin) ||
        p->fmax > p->sample_rate / 2 + 1e-9) {
      st = fail(A2I2A_ERR_FORMAT, "\"%s\" text chunk: invalid \"fmin\"/\"fmax\"", A2I_JSON_KEY);
      goto done;
    }
    if (!get_num(o, "bands", &v) || v < 1 || v > IMAGE_MAX_SIDE || v != floor(v)) {
      st = fail(A2I2A_ERR_FORMAT, "\"%s\" text chunk: missing or invalid \"bands\"", A2I_JSON_KEY);
      goto done;
    }
    p->bands = (int)v;
    if (p->height != p->bands * p->channels || p->channels > 2) {
      st = fail(A2I2A_ERR_FORMAT, "\"%s\" text chunk: height %d is not channels %d × bands %d", A2I_JSON_KEY, p->height,
                p->channels, p->bands);
      goto done;
    }
    /* a fullband image has a column every hop samples (or width columns over the samples):
     * more samples than its columns cover is a chunk that was not written by a2i */
    if (p->hop > p->n_fft || (double)p->samples > ((double)p->hop + 1) * p->width) {
      st = fail(A2I2A_ERR_FORMAT, "\"%s\" text chunk: %lld samples do not fit %d columns of hop %d (n_fft %d)",
                A2I_JSON_KEY, (long long)p->samples, p->width, p->hop, p->n_fft);
      goto done;
    }
    /* db_range: a2i's --db-range; db_max: far beyond any level a float holds as power */
    if (!get_num(o, "db_max", &p->db_max) || !get_num(o, "db_range", &p->db_range) ||
        !(p->db_range >= A2I_DB_RANGE_MIN && p->db_range <= A2I_DB_RANGE_MAX) ||
        !(fabs(p->db_max) <= A2I_DB_MAX_ABS)) {
      st = fail(A2I2A_ERR_FORMAT,
                "\"%s\" text chunk: \"db_max\" %.10g and \"db_range\" %.10g are not numbers in [%d, %d] and [%d, %d]",
                A2I_JSON_KEY, p->db_max, p->db_range, -A2I_DB_MAX_ABS, A2I_DB_MAX_ABS, A2I_DB_RANGE_MIN,
                A2I_DB_RANGE_MAX);
      goto done;
    }
    if (!get_str(o, "colormap", p->colormap, sizeof p->colormap) || !colormap_exists(p->colormap)) {
      st = fail(A2I2A_ERR_FORMAT, "\"%s\" text chunk: unknown \"colormap\"", A2I_JSON_KEY);
      goto done;
    }
    if (!get_num(o, "peak", &p->peak) || !(p->peak >= 0) || !isfinite(p->peak)) {
      st = fail(A2I2A_ERR_FORMAT, "\"%s\" text chunk: missing or invalid \"peak\"", A2I_JSON_KEY);
      goto done;
    }
    get_num(o, "rms", &p->rms);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "silent");
    p->silent = cJSON_IsTrue(s);
  }
done:
  cJSON_Delete(o);
  return st;
}

a2i2a_status a2i_style_params_from_png_meta(const png_meta *meta, a2i_style_params *p) {
  const char *json = meta ? png_meta_get(meta, A2I_JSON_KEY) : NULL;
  if (!json) {
    memset(p, 0, sizeof *p);
    return fail(A2I2A_ERR_FORMAT, "no \"%s\" text chunk (not an a2i2a spectrogram image)", A2I_JSON_KEY);
  }
  return a2i_style_params_from_json(json, p);
}

/* ------------------------------------------------------------------ Riffusion's eXIf */

riffusion_exif riffusion_exif_default(void) {
  riffusion_exif e = {44100, 0, 10, 100, 400, 512, 0, 10000, 0.25, 0, 0, 0};
  return e;
}

/* Each tag's bounds: what Riffusion's own parameters can be, and the i2a sample rates. */
static const struct {
  int tag;
  const char *name;
  double lo, hi;
  int whole;
} RIFFUSION_TAGS[10] = {
    {11000, "sample_rate", 1000, 384000, 1},     {11005, "stereo", 0, 1, 1},
    {11010, "step_size_ms", 1, 10000, 1},        {11020, "window_duration_ms", 1, 10000, 1},
    {11030, "padded_duration_ms", 1, 10000, 1},  {11040, "num_frequencies", 1, IMAGE_MAX_SIDE, 1},
    {11050, "min_frequency", 0, 192000, 1},      {11060, "max_frequency", 0, 192000, 1},
    {11070, "power_for_image", 1e-3, 1e3, 0},    {11080, "max_value", 0, 1e30, 0},
};

static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16), put16(p + 2, v & 0xFFFF); }
static void putd(uint8_t *p, double d) {
  uint64_t u;
  memcpy(&u, &d, 8);
  put32(p, (uint32_t)(u >> 32)), put32(p + 4, (uint32_t)u);
}

/* Pillow's layout: "MM\0*", IFD0 at 8, n entries of 12 bytes, next-IFD 0, then the DOUBLE
 * values in tag order. Integers < 65536 are SHORT, larger LONG (Pillow's choice). */
size_t riffusion_exif_write(const riffusion_exif *e, uint8_t out[256]) {
  const int ordered[8] = {e->sample_rate,        e->stereo,          e->step_size_ms,  e->window_duration_ms,
                          e->padded_duration_ms, e->num_frequencies, e->min_frequency, e->max_frequency};
  const int n = 10;
  memset(out, 0, 256);
  memcpy(out, "MM\0*", 4);
  put32(out + 4, 8);
  put16(out + 8, n);
  size_t data = 8 + 2 + 12 * n + 4; /* 134 */
  for (int i = 0; i < n; i++) {
    uint8_t *en = out + 10 + 12 * i;
    put16(en, (unsigned)RIFFUSION_TAGS[i].tag);
    if (i < 8) {
      unsigned v = (unsigned)ordered[i];
      if (v < 65536) {
        put16(en + 2, 3), put32(en + 4, 1), put16(en + 8, v);
      } else {
        put16(en + 2, 4), put32(en + 4, 1), put32(en + 8, v);
      }
    } else {
      put16(en + 2, 12), put32(en + 4, 1), put32(en + 8, (uint32_t)data);
      putd(out + data, i == 8 ? e->power_for_image : e->max_value);
      data += 8;
    }
  }
  put32(out + 10 + 12 * n, 0);
  return data; /* 150 */
}

typedef struct {
  const uint8_t *b;
  size_t len;
  int le;
} tiff;

static uint32_t rd16(const tiff *t, size_t o) {
  return t->le ? (uint32_t)(t->b[o] | t->b[o + 1] << 8) : (uint32_t)(t->b[o] << 8 | t->b[o + 1]);
}
static uint32_t rd32(const tiff *t, size_t o) {
  return t->le ? rd16(t, o) | rd16(t, o + 2) << 16 : rd16(t, o) << 16 | rd16(t, o + 2);
}

a2i2a_status riffusion_exif_read(const uint8_t *b, size_t len, riffusion_exif *e) {
  *e = riffusion_exif_default();
  e->has_max_value = 0;
  tiff t = {b, len, 0};
  if (!b || len < 8) return fail(A2I2A_ERR_FORMAT, "eXIf: too short for a TIFF header");
  if (!memcmp(b, "II*\0", 4)) t.le = 1;
  else if (memcmp(b, "MM\0*", 4)) return fail(A2I2A_ERR_FORMAT, "eXIf: not a TIFF block");
  /* offsets are 32-bit: every sum below is taken in 64 bits, where it cannot wrap */
  const uint64_t ifd = rd32(&t, 4);
  if (ifd < 8 || ifd + 2 > len) return fail(A2I2A_ERR_FORMAT, "eXIf: IFD0 offset %llu out of range", (unsigned long long)ifd);
  const uint64_t n = rd16(&t, ifd);
  if (ifd + 2 + 12 * n > len) return fail(A2I2A_ERR_FORMAT, "eXIf: IFD0 runs past the end");
  int seen[10] = {0};
  for (uint64_t i = 0; i < n; i++) {
    const size_t en = ifd + 2 + 12 * i;
    uint32_t tag = rd16(&t, en), type = rd16(&t, en + 2), count = rd32(&t, en + 4);
    int k = -1;
    for (int j = 0; j < 10; j++)
      if ((int)tag == RIFFUSION_TAGS[j].tag) k = j;
    if (k < 0 || count != 1) continue;
    double v;
    if (type == 3) v = rd16(&t, en + 8);
    else if (type == 4) v = rd32(&t, en + 8);
    else if (type == 12) {
      const uint64_t off = rd32(&t, en + 8);
      if (off + 8 > len) return fail(A2I2A_ERR_FORMAT, "eXIf: tag %u value out of range", tag);
      uint64_t u = t.le ? (uint64_t)rd32(&t, off) | (uint64_t)rd32(&t, off + 4) << 32
                        : (uint64_t)rd32(&t, off) << 32 | rd32(&t, off + 4);
      memcpy(&v, &u, 8);
    } else if (type == 11) { /* FLOAT */
      uint32_t u = rd32(&t, en + 8);
      float f;
      memcpy(&f, &u, 4);
      v = f;
    } else {
      return fail(A2I2A_ERR_FORMAT, "eXIf: tag %u has unexpected TIFF type %u", tag, type);
    }
    e->tags += !seen[k];
    seen[k] = 1;
    if (!(v >= RIFFUSION_TAGS[k].lo && v <= RIFFUSION_TAGS[k].hi) || (RIFFUSION_TAGS[k].whole && v != floor(v)))
      return fail(A2I2A_ERR_FORMAT, "eXIf: tag %d (%s): %.10g is not a %s in [%.10g, %.10g]", RIFFUSION_TAGS[k].tag,
                  RIFFUSION_TAGS[k].name, v, RIFFUSION_TAGS[k].whole ? "whole number" : "number", RIFFUSION_TAGS[k].lo,
                  RIFFUSION_TAGS[k].hi);
    switch (k) {
    case 0: e->sample_rate = (int)v; break;
    case 1: e->stereo = (int)v; break;
    case 2: e->step_size_ms = (int)v; break;
    case 3: e->window_duration_ms = (int)v; break;
    case 4: e->padded_duration_ms = (int)v; break;
    case 5: e->num_frequencies = (int)v; break;
    case 6: e->min_frequency = (int)v; break;
    case 7: e->max_frequency = (int)v; break;
    case 8: e->power_for_image = v; break;
    case 9: e->max_value = v, e->has_max_value = 1; break;
    }
  }
  for (int j = 0; j < 9; j++)
    if (!seen[j]) return fail(A2I2A_ERR_FORMAT, "eXIf: Riffusion tag %d missing", RIFFUSION_TAGS[j].tag);
  return A2I2A_OK;
}
