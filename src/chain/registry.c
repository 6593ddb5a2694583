/* The registries of the public API (a2i2a_list_*): every list a user chooses from, each one
 * const table in the module that owns the thing (common/registry.h). */
#include "a2i2a.h"
#include "a2i/styles.h"
#include "chain/chain.h"
#include "chain/params.h"
#include "common/registry.h"
#include "image/image.h"
#include "readings/readings.h"
#include "sd/scheduler.h"

const registry_table *chain_list_table(a2i2a_list list) {
  switch (list) {
  case A2I2A_LIST_STYLES: return &a2i_style_registry;
  case A2I2A_LIST_COLORMAPS: return &colormap_registry;
  case A2I2A_LIST_SAMPLERS: return &sched_sampler_registry;
  case A2I2A_LIST_SPACINGS: return &sched_spacing_registry;
  case A2I2A_LIST_READINGS: return &reading_registry;
  case A2I2A_LIST_PRESETS: return &chain_preset_registry;
  case A2I2A_LIST_PROMPTS: return &chain_prompt_registry;
  case A2I2A_LIST_PARAMS: return &param_registry;
  }
  return NULL;
}

int a2i2a_list_count(a2i2a_list list) {
  const registry_table *t = chain_list_table(list);
  return t ? t->count : 0;
}

const a2i2a_entry *a2i2a_list_entry(a2i2a_list list, int i) {
  const registry_table *t = chain_list_table(list);
  if (!t) return NULL;
  if (t->init) t->init();
  return registry_entry(t, i);
}

const a2i2a_entry *a2i2a_list_find(a2i2a_list list, const char *name) {
  const registry_table *t = chain_list_table(list);
  return t ? a2i2a_list_entry(list, registry_index(t, name)) : NULL;
}
