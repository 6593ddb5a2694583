/* The table of readings, in the order "all" runs them, with the settings each one takes.
 * Adding a reading: its file (reading_NAME.c), its declaration in readings.h, a row here. */
#include "readings/readings.h"

#include <string.h>

#include "common/err.h"
#include "common/registry.h"

/* Which of seconds, sample_rate, fmin and fmax a reading takes, with its defaults; the JSON of
 * its registry entry is made from the same numbers (the keys it takes, nothing else). */
#define TAKES_NOTHING .entry.json = "{}"
#define TAKES_RATE(rate) .sample_rate = rate, .entry.json = "{\"sample_rate\": " #rate "}"
#define TAKES_ALL(sec, rate, lo, hi)                                                                 \
  .seconds = sec, .sample_rate = rate, .fmin = lo, .fmax = hi,                                       \
  .entry.json = "{\"seconds\": " #sec ", \"sample_rate\": " #rate ", \"fmin\": " #lo ", \"fmax\": " #hi "}"

static const reading_def table[] = {
    {.entry.name = "red",
     .entry.description = "the notebook's cell 19: the red channel as an 80 dB power spectrogram, Griffin-Lim, 24 kHz",
     .run = reading_red, .memory = reading_red_memory, TAKES_NOTHING},
    {.entry.name = "rgb-mean",
     .entry.description = "the notebook's cell 20: R, G, B by Griffin-Lim, averaged, then its 3x phase-vocoder \"stretch\"",
     .run = reading_rgb_mean, .memory = reading_rgb_mean_memory, TAKES_NOTHING},
    {.entry.name = "chirp",
     .entry.description = "the notebook's cell 21: per column a chirp 800*R Hz -> 1.5x, loudness from green, 30 s",
     .run = reading_chirp, .memory = reading_chirp_memory, TAKES_NOTHING},
    {.entry.name = "inverse",
     .entry.description = "a faithful inversion of a spectrogram image from its own metadata (ours, Riffusion's, the seed's)",
     .run = reading_inverse, .memory = reading_inverse_memory, TAKES_NOTHING},
    {.entry.name = "sines",
     .entry.description = "additive sine bank: rows are log-spaced oscillators, brightness = loudness, red left / green right",
     .run = reading_sines, .memory = reading_sines_memory, TAKES_ALL(10, 44100, 55, 14080)},
    {.entry.name = "noise",
     .entry.description = "noise bands: rows are log-spaced bands of noise whose loudness follows the brightness",
     .run = reading_noise, .memory = reading_noise_memory, TAKES_ALL(10, 44100, 55, 14080)},
    /* seconds: the longest slot (a fully blue column) */
    {.entry.name = "scan",
     .entry.description = "columns in turn: a short chirp each, red = pitch, green = loudness, blue = duration",
     .run = reading_scan, .memory = reading_scan_memory, TAKES_ALL(0.1, 44100, 110, 1760)},
    {.entry.name = "bend",
     .entry.description = "data-bending: the pixel bytes in scan order played as 8-bit samples",
     .run = reading_bend, .memory = reading_bend_memory, TAKES_RATE(44100)},
    /* in "all" only when a vocoder is given */
    {.entry.name = "vocoder",
     .entry.description = "the spectrogram's magnitudes through a neural vocoder (Vocos or HiFi-GAN, --vocoder)",
     .run = reading_vocoder, .memory = reading_vocoder_memory, .needs_vocoder = 1, .entry.json = "{\"vocoder\": true}"},
};

const registry_table reading_registry = REGISTRY_TABLE("readings", "reading", table, NULL);

int reading_count(void) { return reading_registry.count; }

const reading_def *reading_at(int i) { return i >= 0 && i < reading_count() ? &table[i] : NULL; }

const reading_def *reading_find(const char *name) { return reading_at(registry_index(&reading_registry, name)); }

a2i2a_status reading_list_parse(const char *list, const a2i2a_i2a_params *p, const reading_def **out, int max,
                                int *n) {
  int idx[64], k;
  a2i2a_status st = registry_parse_list(&reading_registry, list, idx, max < 64 ? max : 64, &k);
  const int all = list && !strcmp(list, "all"), have_vocoder = p && p->vocoder && *p->vocoder;
  *n = 0;
  for (int i = 0; !st && i < k; i++) {
    const reading_def *d = &table[idx[i]];
    if (d->needs_vocoder && !have_vocoder) {
      if (all) continue;
      return fail(A2I2A_ERR_PARAM, "the %s reading needs a vocoder (i2a.vocoder: --vocoder PATH|ORG/NAME)", d->name);
    }
    out[(*n)++] = d;
  }
  return st;
}

static double or_default(double v, double dflt) { return v > 0 ? v : dflt; }

a2i2a_i2a_params reading_settings(const reading_input *in, reading_fn self) {
  a2i2a_i2a_params p = in->p;
  for (int i = 0; i < reading_count(); i++)
    if (table[i].run == self) {
      p.seconds = or_default(p.seconds, table[i].seconds);
      p.sample_rate = or_default(p.sample_rate, table[i].sample_rate);
      p.fmin = or_default(p.fmin, table[i].fmin);
      p.fmax = or_default(p.fmax, table[i].fmax);
    }
  return p;
}
