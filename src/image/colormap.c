/* Colour maps: 256-entry tables, looked up like matplotlib's ListedColormap. The perceptual
 * maps are generated once by bench/make_colormaps.c (OKLab ramps) into colormap_tables.h, so
 * every machine uses the same bytes. */
#include "image/image.h"
#include "common/err.h"
#include "common/registry.h"

#include <math.h>
#include <string.h>

#include "image/colormap_tables.h"

typedef struct {
  a2i2a_entry entry;
  const uint8_t (*table)[3]; /* NULL = grey */
} colormap_def;

static const colormap_def MAPS[] = {
    {{"grey", "grey levels, black to white", "{\"perceptual\": false}"}, NULL},
    {{"gray", "the same as grey", "{\"perceptual\": false}"}, NULL},
    {{"ember", "black, violet, red, orange, pale yellow (like inferno)", "{\"perceptual\": true}"}, COLORMAP_EMBER},
    {{"aurora", "dark blue, teal, green, yellow (like viridis)", "{\"perceptual\": true}"}, COLORMAP_AURORA},
};

const registry_table colormap_registry = REGISTRY_TABLE("colormaps", "colour map", MAPS, NULL);

static const colormap_def *find_map(const char *name) {
  int i = registry_index(&colormap_registry, name);
  return i < 0 ? NULL : &MAPS[i];
}

int colormap_exists(const char *name) { return find_map(name) != NULL; }

static inline int map_index(float v) {
  if (!(v > 0.0f)) return 0; /* also NaN */
  if (v >= 1.0f) return 255;
  int i = (int)(v * 256.0f);
  return i > 255 ? 255 : i;
}

a2i2a_status colormap_apply(const char *name, const float *v01, size_t n, uint8_t *rgb) {
  const colormap_def *m = find_map(name);
  if (!m) return registry_unknown(&colormap_registry, name);
  for (size_t i = 0; i < n; i++) {
    int k = map_index(v01[i]);
    if (m->table) {
      memcpy(rgb + 3 * i, m->table[k], 3);
    } else {
      rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = (uint8_t)k;
    }
  }
  return A2I2A_OK;
}

a2i2a_status colormap_invert(const char *name, const uint8_t *rgb, size_t n, float *v01) {
  const colormap_def *m = find_map(name);
  if (!m) return registry_unknown(&colormap_registry, name);
  if (!m->table) {
    for (size_t i = 0; i < n; i++) {
      int k = (rgb[3 * i] + rgb[3 * i + 1] + rgb[3 * i + 2] + 1) / 3;
      v01[i] = (k + 0.5f) / 256.0f;
    }
    return A2I2A_OK;
  }
  /* Nearest entry by squared RGB distance. Images have few distinct colours next to each
   * other, so remember the last answer. */
  int last_r = -1, last_g = -1, last_b = -1, last_k = 0;
  for (size_t i = 0; i < n; i++) {
    int r = rgb[3 * i], g = rgb[3 * i + 1], b = rgb[3 * i + 2];
    if (r != last_r || g != last_g || b != last_b) {
      int best = 0, bestd = 1 << 30;
      for (int k = 0; k < 256; k++) {
        int dr = r - m->table[k][0], dg = g - m->table[k][1], db = b - m->table[k][2];
        int d = dr * dr + dg * dg + db * db;
        if (d < bestd) {
          bestd = d;
          best = k;
        }
      }
      last_r = r;
      last_g = g;
      last_b = b;
      last_k = best;
    }
    v01[i] = (last_k + 0.5f) / 256.0f;
  }
  return A2I2A_OK;
}
