/* The contact sheet: the spectrogram, the painting, and for each reading its name, its
 * waveform and its spectrogram, labelled (image_text's 5×7 font), in one picture. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio.h"
#include "audio/loudness.h"
#include "chain/chain.h"
#include "common/err.h"

/* ---------------------------------------------------------------- layout */

enum {
  MARGIN = 16,
  PANEL_W = 400, /* the notebook's spectrogram width */
  TOP_H = 300,   /* box for the spectrogram and the painting */
  ROW_H = 120,   /* box for a reading's waveform and spectrogram */
  SCALE = 2,     /* font scale: 10×14 pixel letters */
  LINE_H = IMAGE_GLYPH_H * SCALE + 6
};

static const uint8_t BG[3] = {22, 22, 26}, FG[3] = {232, 230, 224}, DIM[3] = {150, 148, 140},
                     BOX[3] = {40, 40, 46}, WAVE[3] = {120, 200, 230};

/* Copies src resized to fit a box_w × box_h box (aspect kept) and centred in it. */
static a2i2a_status blit_fit(image_u8 *dst, const image_u8 *src, int x0, int y0, int box_w, int box_h) {
  double s = fmin((double)box_w / src->w, (double)box_h / src->h);
  int w = (int)fmax(1, floor(src->w * s + 0.5)), h = (int)fmax(1, floor(src->h * s + 0.5));
  if (w > box_w) w = box_w;
  if (h > box_h) h = box_h;
  image_u8 rgb = {0}, fit = {0};
  a2i2a_status st = image_convert(src, 3, &rgb);
  if (!st) st = (w == src->w && h == src->h) ? image_convert(&rgb, 3, &fit) : image_resize(&rgb, w, h, "bicubic", &fit);
  if (!st) {
    int ox = x0 + (box_w - w) / 2, oy = y0 + (box_h - h) / 2;
    for (int y = 0; y < h; y++)
      memcpy(dst->px + ((size_t)(oy + y) * dst->w + ox) * 3, fit.px + (size_t)y * w * 3, (size_t)w * 3);
  }
  image_free(&rgb);
  image_free(&fit);
  return st;
}

/* Min/max of each column's samples, peak-normalised, with a centre line. */
static void draw_waveform(image_u8 *img, int x0, int y0, int w, int h, const float *x, int64_t n, float peak) {
  image_fill_rect(img, x0, y0, w, h, BOX);
  image_fill_rect(img, x0, y0 + h / 2, w, 1, DIM);
  if (n <= 0 || peak <= 0) return;
  for (int c = 0; c < w; c++) {
    int64_t a = (int64_t)((double)n * c / w), b = (int64_t)((double)n * (c + 1) / w);
    if (b <= a) b = a + 1;
    if (b > n) b = n;
    float lo = x[a], hi = x[a];
    for (int64_t i = a; i < b; i++) lo = fminf(lo, x[i]), hi = fmaxf(hi, x[i]);
    int ylo = y0 + (int)floor((0.5 - 0.5 * hi / peak) * (h - 1) + 0.5);
    int yhi = y0 + (int)floor((0.5 - 0.5 * lo / peak) * (h - 1) + 0.5);
    image_fill_rect(img, x0 + c, ylo, 1, yhi - ylo + 1, WAVE);
  }
}

/* A log-power spectrogram (n_fft 1024, about one frame per pixel column, 80 dB shown) on a
 * logarithmic frequency axis from 30 Hz to Nyquist, low frequencies at the bottom as usual,
 * in the "ember" colour map: rows × frames pixels. */
static a2i2a_status spectrogram_image(const float *x, int64_t n, double rate, int columns, int rows, image_u8 *out) {
  enum { NFFT = 1024 };
  int64_t hop = n / columns > 1 ? n / columns : 1;
  if (hop > NFFT) hop = NFFT; /* keep every sample inside some window */
  int64_t len = n > NFFT / 2 ? n : NFFT / 2 + 1;
  float *xp = xcalloc((size_t)len, sizeof *xp, "a reading's samples");
  if (!xp) return A2I2A_ERR_NOMEM;
  memcpy(xp, x, (size_t)n * sizeof *x);
  stft_ctx *ctx = NULL;
  a2i2a_status st = stft_new(&ctx, NFFT, (int)hop, NFFT);
  if (st) {
    free(xp);
    return st;
  }
  int bins = stft_bins(ctx);
  int64_t frames = stft_frames(ctx, len);
  size_t cells = (size_t)bins * (size_t)frames, pix = (size_t)rows * (size_t)frames;
  float *p = xmalloc(cells * sizeof *p, "a reading's spectrogram");
  float *v = p ? xmalloc(pix * sizeof *v, "a reading's spectrogram") : NULL;
  uint8_t *rgb = v ? xmalloc(pix * 3, "a reading's spectrogram") : NULL;
  if (!rgb) st = A2I2A_ERR_NOMEM;
  if (!st) {
    stft_power(ctx, xp, len, p);
    power_to_db(p, cells, p);
    float top = -INFINITY;
    for (size_t i = 0; i < cells; i++) top = fmaxf(top, p[i]);
    double f_lo = 30, f_hi = rate / 2, bin_hz = rate / NFFT;
    for (int r = 0; r < rows; r++) { /* row 0 = the highest frequency */
      double f = f_lo * pow(f_hi / f_lo, (double)(rows - 1 - r) / (rows - 1));
      double k = fmin(f / bin_hz, bins - 1.0);
      int k0 = (int)k, k1 = k0 + 1 < bins ? k0 + 1 : k0;
      float w = (float)(k - k0);
      for (int64_t t = 0; t < frames; t++) {
        float db = (1 - w) * p[(size_t)k0 * frames + t] + w * p[(size_t)k1 * frames + t];
        v[(size_t)r * frames + t] = fminf(1, fmaxf(0, (db - (top - 80)) / 80));
      }
    }
    st = colormap_apply("ember", v, pix, rgb);
  }
  if (!st) {
    image_u8 full = {.w = (int)frames, .h = rows, .c = 3, .px = rgb};
    st = image_resize(&full, columns, rows, "bicubic", out);
  }
  free(rgb);
  free(v);
  free(p);
  free(xp);
  stft_free(ctx);
  return st;
}

static a2i2a_status draw_sound(image_u8 *sheet, int y, const chain_sheet_sound *s) {
  audio_buf a = {0}, m = {0};
  a2i2a_status st = audio_read(s->wav, &a);
  if (!st) st = audio_downmix(&a, &m);
  if (st) {
    audio_free(&a);
    return st;
  }
  float peak = 0;
  for (int64_t i = 0; i < m.frames; i++) peak = fmaxf(peak, fabsf(m.x[i]));
  char label[512];
  snprintf(label, sizeof label, "%s", s->name);
  int lx = MARGIN + image_text(sheet, MARGIN, y, SCALE, FG, label) + 4 * SCALE * IMAGE_TEXT_ADVANCE / 2;
  int n = snprintf(label, sizeof label, "%.2f s  %g Hz  %d ch  peak %s%.1f dBFS", m.frames / m.rate, a.rate,
                   a.channels, peak > 0 ? "" : "-", peak > 0 ? 20 * log10(peak) : INFINITY);
  if (s->has_lufs && s->lufs != LOUDNESS_NONE) snprintf(label + n, sizeof label - n, "  %.1f LUFS", s->lufs);
  else if (s->has_lufs) snprintf(label + n, sizeof label - n, "  no LUFS");
  image_text(sheet, lx, y, SCALE, DIM, label);
  y += LINE_H;
  draw_waveform(sheet, MARGIN, y, PANEL_W, ROW_H, m.x, m.frames, peak);
  image_u8 spec = {0};
  st = spectrogram_image(m.x, m.frames, m.rate, PANEL_W, ROW_H, &spec);
  if (!st) st = blit_fit(sheet, &spec, 2 * MARGIN + PANEL_W, y, PANEL_W, ROW_H);
  if (st) fail_prefix(s->wav);
  image_free(&spec);
  audio_free(&a);
  audio_free(&m);
  return st;
}

/* s drawn at (x, y), cut with "..." at the last of max_chars characters. */
static void text_cut(image_u8 *img, int x, int y, const uint8_t rgb[3], const char *s, int max_chars) {
  char t[512];
  snprintf(t, sizeof t, "%s", s ? s : "");
  if ((int)strlen(t) > max_chars && max_chars > 3 && max_chars < (int)sizeof t) strcpy(t + max_chars - 3, "...");
  image_text(img, x, y, SCALE, rgb, t);
}

a2i2a_status chain_sheet(const image_u8 *spectrogram, const image_u8 *art, const char *const *header, int nheader,
                         const chain_sheet_sound *sounds, int nsounds, image_u8 *sheet) {
  int w = 3 * MARGIN + 2 * PANEL_W;
  int h = MARGIN + nheader * LINE_H + (LINE_H + TOP_H + MARGIN) + nsounds * (LINE_H + ROW_H + MARGIN) + MARGIN;
  memset(sheet, 0, sizeof *sheet);
  a2i2a_status st = image_alloc(sheet, w, h, 3);
  if (st) return st;
  image_fill_rect(sheet, 0, 0, w, h, BG);
  int y = MARGIN;
  /* long lines are cut with "..." rather than drawn off the sheet */
  int maxc = (w - 2 * MARGIN) / (IMAGE_TEXT_ADVANCE * SCALE);
  for (int i = 0; i < nheader; i++, y += LINE_H) text_cut(sheet, MARGIN, y, i ? DIM : FG, header[i], maxc);
  image_text(sheet, MARGIN, y, SCALE, DIM, "spectrogram");
  image_text(sheet, 2 * MARGIN + PANEL_W, y, SCALE, DIM, "painting");
  y += LINE_H;
  image_fill_rect(sheet, MARGIN, y, PANEL_W, TOP_H, BOX);
  image_fill_rect(sheet, 2 * MARGIN + PANEL_W, y, PANEL_W, TOP_H, BOX);
  st = blit_fit(sheet, spectrogram, MARGIN, y, PANEL_W, TOP_H);
  if (!st) st = blit_fit(sheet, art, 2 * MARGIN + PANEL_W, y, PANEL_W, TOP_H);
  y += TOP_H + MARGIN;
  for (int i = 0; i < nsounds && !st; i++, y += LINE_H + ROW_H + MARGIN) st = draw_sound(sheet, y, &sounds[i]);
  if (st) image_free(sheet);
  return st;
}

/* ---------------------------------------------------------------- the index of a batch */

enum { THUMB_W = 200, THUMB_H = 150 };

a2i2a_status chain_index(const char *title, const chain_index_row *rows, int nrows, image_u8 *sheet) {
  int w = 3 * MARGIN + 2 * PANEL_W, h = MARGIN + LINE_H + nrows * (THUMB_H + MARGIN) + MARGIN;
  memset(sheet, 0, sizeof *sheet);
  a2i2a_status st = image_alloc(sheet, w, h, 3);
  if (st) return st;
  image_fill_rect(sheet, 0, 0, w, h, BG);
  int x_text = 2 * MARGIN + THUMB_W, maxc = (w - x_text - MARGIN) / (IMAGE_TEXT_ADVANCE * SCALE);
  text_cut(sheet, MARGIN, MARGIN, FG, title, (w - 2 * MARGIN) / (IMAGE_TEXT_ADVANCE * SCALE));
  int y = MARGIN + LINE_H;
  for (int r = 0; r < nrows && !st; r++, y += THUMB_H + MARGIN) {
    image_u8 art = {0};
    image_fill_rect(sheet, MARGIN, y, THUMB_W, THUMB_H, BOX);
    st = image_read(rows[r].art, &art, NULL);
    if (!st) st = blit_fit(sheet, &art, MARGIN, y, THUMB_W, THUMB_H);
    image_free(&art);
    for (int k = 0; k < CHAIN_INDEX_LINES && rows[r].lines[k]; k++)
      text_cut(sheet, x_text, y + k * LINE_H, k ? DIM : FG, rows[r].lines[k], maxc);
  }
  if (st) image_free(sheet);
  return st;
}

/* The grid: the title, then each z panel (its label above it) as a table whose first row holds
 * the x labels and first column the y labels, a painting in each cell. */
a2i2a_status chain_grid(const char *title, const char *const *xlabels, int nx, const char *const *ylabels, int ny,
                        const char *const *zlabels, int nz, const char *const *arts, image_u8 *sheet) {
  int cw = IMAGE_TEXT_ADVANCE * SCALE, label_chars = 4;
  for (int j = 0; j < ny; j++) {
    int n = (int)strlen(ylabels[j]);
    if (n > label_chars) label_chars = n;
  }
  if (label_chars > 24) label_chars = 24; /* longer ones are cut with "..." */
  int label_w = label_chars * cw + MARGIN, cell_w = THUMB_W + MARGIN, cell_h = THUMB_H + MARGIN;
  int panel_h = (nz > 1 ? LINE_H : 0) + LINE_H + ny * cell_h;
  int w = MARGIN + label_w + nx * cell_w, min_w = 2 * MARGIN + 40 * cw;
  if (w < min_w) w = min_w;
  int h = MARGIN + LINE_H + nz * (panel_h + MARGIN);
  memset(sheet, 0, sizeof *sheet);
  a2i2a_status st = image_alloc(sheet, w, h, 3);
  if (st) return st;
  image_fill_rect(sheet, 0, 0, w, h, BG);
  text_cut(sheet, MARGIN, MARGIN, FG, title, (w - 2 * MARGIN) / cw);
  int y = MARGIN + LINE_H;
  for (int k = 0; k < nz && !st; k++, y += panel_h + MARGIN) {
    int y0 = y;
    if (nz > 1) text_cut(sheet, MARGIN, y0, FG, zlabels[k], (w - 2 * MARGIN) / cw), y0 += LINE_H;
    for (int i = 0; i < nx; i++) text_cut(sheet, MARGIN + label_w + i * cell_w, y0, FG, xlabels[i], THUMB_W / cw);
    y0 += LINE_H;
    for (int j = 0; j < ny && !st; j++) {
      int yc = y0 + j * cell_h;
      text_cut(sheet, MARGIN, yc + (THUMB_H - LINE_H) / 2, FG, ylabels[j], label_chars);
      for (int i = 0; i < nx && !st; i++) {
        int xc = MARGIN + label_w + i * cell_w;
        image_u8 art = {0};
        image_fill_rect(sheet, xc, yc, THUMB_W, THUMB_H, BOX);
        st = image_read(arts[((size_t)k * ny + j) * nx + i], &art, NULL);
        if (!st) st = blit_fit(sheet, &art, xc, yc, THUMB_W, THUMB_H);
        image_free(&art);
      }
    }
  }
  if (st) image_free(sheet);
  return st;
}
