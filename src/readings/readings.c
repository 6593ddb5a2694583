/* The table of readings, in the order "all" runs them. */
#include "readings/readings.h"

#include <string.h>

static const reading_def table[] = {
    {"red", "the notebook's cell 19: the red channel as an 80 dB power spectrogram, Griffin-Lim, 24 kHz",
     reading_red},
    {"rgb-mean", "the notebook's cell 20: R, G, B by Griffin-Lim, averaged, then its 3x phase-vocoder \"stretch\"",
     reading_rgb_mean},
    {"chirp", "the notebook's cell 21: per column a chirp 800*R Hz -> 1.5x, loudness from green, 30 s",
     reading_chirp},
    {"inverse", "a faithful inversion of a spectrogram image from its own metadata (ours, Riffusion's, the seed's)",
     reading_inverse},
    {"sines", "additive sine bank: rows are log-spaced oscillators, brightness = loudness, red left / green right",
     reading_sines},
    {"noise", "noise bands: rows are log-spaced bands of noise whose loudness follows the brightness",
     reading_noise},
    {"scan", "columns in turn: a short chirp each, red = pitch, green = loudness, blue = duration",
     reading_scan},
    {"bend", "data-bending: the pixel bytes in scan order played as 8-bit samples",
     reading_bend},
};

int reading_count(void) { return (int)(sizeof table / sizeof table[0]); }

const reading_def *reading_at(int i) { return i >= 0 && i < reading_count() ? &table[i] : NULL; }

const reading_def *reading_find(const char *name) {
  for (int i = 0; i < reading_count(); i++)
    if (strcmp(table[i].name, name) == 0) return &table[i];
  return NULL;
}

