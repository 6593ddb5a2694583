/* The registries of the public API (a2i2a_list_*): every list a user chooses from. */
#include <string.h>

#include "a2i2a.h"
#include "chain/chain.h"
#include "readings/readings.h"

enum { MAX_ENTRIES = 64 };

static a2i2a_entry readings[MAX_ENTRIES], presets[MAX_ENTRIES], prompts[MAX_ENTRIES];

static const a2i2a_entry styles[] = {
    {"seed", "the notebook's spectrogram: torchaudio power in dB, 400x300 grey", "{}"},
    {"riffusion", "Riffusion's mel spectrogram image with its EXIF parameters", "{}"},
    {"fullband", "ours: Slaney mel 20 Hz-20 kHz, dB range, colour maps, stereo", "{}"},
};
static const a2i2a_entry samplers[] = {
    {"pndm", "PNDM (PLMS), the notebook's", "{}"},           {"ddim", "DDIM", "{}"},
    {"euler", "Euler", "{}"},                                 {"euler-a", "Euler ancestral", "{}"},
    {"lms", "LMS", "{}"},                                     {"dpm++2m", "DPM++ 2M", "{}"},
    {"dpm++2m-karras", "DPM++ 2M with Karras sigmas", "{}"}, {"lcm", "LCM", "{}"},
};

static int fill(a2i2a_list list) {
  switch (list) {
  case A2I2A_LIST_READINGS: {
    int n = reading_count();
    for (int i = 0; i < n && i < MAX_ENTRIES; i++)
      readings[i] = (a2i2a_entry){reading_at(i)->name, reading_at(i)->description, "{}"};
    return n;
  }
  case A2I2A_LIST_PRESETS:
    for (int i = 0; i < chain_npresets && i < MAX_ENTRIES; i++)
      presets[i] = (a2i2a_entry){chain_presets[i].name, chain_presets[i].summary, "{}"};
    return chain_npresets;
  case A2I2A_LIST_PROMPTS:
    for (int i = 0; i < chain_nprompts && i < MAX_ENTRIES; i++)
      prompts[i] = (a2i2a_entry){chain_prompts[i].name, chain_prompts[i].text, "{}"};
    return chain_nprompts;
  case A2I2A_LIST_STYLES: return (int)(sizeof styles / sizeof *styles);
  case A2I2A_LIST_SAMPLERS: return (int)(sizeof samplers / sizeof *samplers);
  default: return 0;
  }
}

int a2i2a_list_count(a2i2a_list list) { return fill(list); }

const a2i2a_entry *a2i2a_list_entry(a2i2a_list list, int i) {
  int n = fill(list);
  if (i < 0 || i >= n) return NULL;
  switch (list) {
  case A2I2A_LIST_READINGS: return &readings[i];
  case A2I2A_LIST_PRESETS: return &presets[i];
  case A2I2A_LIST_PROMPTS: return &prompts[i];
  case A2I2A_LIST_STYLES: return &styles[i];
  case A2I2A_LIST_SAMPLERS: return &samplers[i];
  default: return NULL;
  }
}

const a2i2a_entry *a2i2a_list_find(a2i2a_list list, const char *name) {
  for (int i = 0; name && a2i2a_list_entry(list, i); i++)
    if (!strcmp(a2i2a_list_entry(list, i)->name, name)) return a2i2a_list_entry(list, i);
  return NULL;
}
