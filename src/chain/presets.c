/* The presets of `a2i2a run` and the named abstract prompts. Adding a preset: a row here. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "chain/chain.h"
#include "chain/params.h"
#include "common/err.h"
#include "common/registry.h"

/* The notebook's negative prompt (demo_presentation.ipynb), shared by the painting presets. */
#define NOTEBOOK_NEGATIVE "no letters, no people, no recognizable objects"

const chain_prompt chain_prompts[] = {
    /* the notebook's own prompt, word for word */
    {{{"notebook", "caffeinated thoughts of a tired college student pulling their 2nd all nighter flying saucers "
                   "and jellyfish living forever spicy pumpkin coffee abstract image no concrete objects", "{}"}}},
    {{{"ink", "flowing ink washes bleeding into wet paper, soft gradients, abstract image, no concrete objects", "{}"}}},
    {{{"strata", "layered bands of ochre, rust and slate pressed together, abstract texture, no concrete objects",
       "{}"}}},
    {{{"nebula", "luminous swirling clouds of violet and teal light, abstract image, no concrete objects", "{}"}}},
    {{{"glitch", "fractured scan lines and shifted blocks of saturated colour, abstract image, no concrete objects",
       "{}"}}},
    {{{"weave", "dense interlaced threads in warm colours, abstract textile pattern, no concrete objects", "{}"}}},
    /* Riffusion's model was fine-tuned on spectrograms captioned with music descriptions */
    {{{"ambient", "ambient drone, soft evolving synth pads, slow and warm", "{}"}}},
};
const int chain_nprompts = sizeof chain_prompts / sizeof *chain_prompts;
const registry_table chain_prompt_registry = REGISTRY_TABLE("prompts", "prompt", chain_prompts, NULL);

enum { PRESET_JSON_SIZE = 2048 };

const chain_preset chain_presets[] = {
    {.entry = {"seed",
               "the notebook's chain: its spectrogram, SD 1.5 img2img with its prompt, its readings (plus ours)",
               REGISTRY_JSON_SLOT(PRESET_JSON_SIZE)},
     .style = "seed",
     .model = "stable-diffusion-v1-5/stable-diffusion-v1-5", /* official mirror of runwayml/stable-diffusion-v1-5 */
     .prompt = "notebook",
     .negative_prompt = NOTEBOOK_NEGATIVE,
     .strength = 0.9,
     .guidance = 2.5,
     .steps = 50,
     .sampler = "pndm",
     .seed = 1234,
     .readings = "all"},
    {.entry = {"riffusion", "Riffusion's image convention and model, audio-to-audio: 5.11 s clips crossfaded over 0.2 s",
               REGISTRY_JSON_SLOT(PRESET_JSON_SIZE)},
     .style = "riffusion",
     .model = "riffusion/riffusion-model-v1",
     .prompt = "ambient",
     .negative_prompt = "",
     .strength = 0.55,
     .guidance = 7.0,
     .steps = 50,
     .sampler = "dpm++2m",
     .seed = 1234,
     .readings = "inverse",
     /* 5 s as Riffusion, made 5.11 s = 511 hops of 441 samples: 512 columns, a multiple of 8,
      * so SD paints the spectrogram at its own size and the reading gives back 5.11 s exactly */
     .clip_seconds = 5.11,
     .overlap_seconds = 0.2},
    {.entry = {"turbo", "SD-Turbo, 2 steps, for fast previews", REGISTRY_JSON_SLOT(PRESET_JSON_SIZE)},
     .style = "seed",
     .model = "stabilityai/sd-turbo",
     .prompt = "notebook",
     .negative_prompt = "", /* guidance 0: the negative prompt would not be used */
     .strength = 0.5,
     .guidance = 0.0,
     .steps = 2,
     .sampler = "euler",
     .seed = 1234,
     .readings = "all"},
    /* the seed preset's painting sketched: DPM++ 2M holds up at few steps, and TAESD decodes in
     * a fraction of the VAE's time (and shows every step with --preview) */
    {.entry = {"draft", "the seed preset sketched: 8 steps of DPM++ 2M, TAESD for the VAE, to iterate before the "
               "full run", REGISTRY_JSON_SLOT(PRESET_JSON_SIZE)},
     .style = "seed",
     .model = "stable-diffusion-v1-5/stable-diffusion-v1-5",
     .prompt = "notebook",
     .negative_prompt = NOTEBOOK_NEGATIVE,
     .strength = 0.9,
     .guidance = 2.5,
     .steps = 8,
     .sampler = "dpm++2m",
     .seed = 1234,
     .readings = "all",
     .taesd = "madebyollin/taesd"},
};
const int chain_npresets = sizeof chain_presets / sizeof *chain_presets;

static void presets_init(void);
const registry_table chain_preset_registry = REGISTRY_TABLE("presets", "preset", chain_presets, presets_init);

const chain_preset *chain_preset_find(const char *name) {
  int i = registry_index(&chain_preset_registry, name);
  return i < 0 ? NULL : &chain_presets[i];
}

const chain_prompt *chain_prompt_find(const char *name) {
  int i = registry_index(&chain_prompt_registry, name);
  return i < 0 ? NULL : &chain_prompts[i];
}

a2i2a_status a2i2a_run_preset(const char *name, a2i2a_run_params *p) {
  const chain_preset *ps = chain_preset_find(name ? name : "seed");
  if (!ps) return registry_unknown(&chain_preset_registry, name);
  /* zero means "the stage's default" in every stage's parameters */
  memset(p, 0, sizeof *p);
  p->preset = ps->name;
  p->a2i.style = ps->style;
  p->model = ps->model;
  p->i2i.prompt = chain_prompt_find(ps->prompt)->text;
  p->i2i.negative_prompt = ps->negative_prompt;
  p->i2i.strength = ps->strength;
  p->i2i.guidance = ps->guidance;
  p->i2i.steps = ps->steps;
  p->i2i.sampler = ps->sampler;
  p->i2i.seed = ps->seed;
  p->i2a.seed = ps->seed;
  p->readings = ps->readings;
  p->clip_seconds = ps->clip_seconds;
  p->overlap_seconds = ps->overlap_seconds;
  p->i2i.taesd = ps->taesd;
  p->sheet = 1;
  return A2I2A_OK;
}

/* Each preset's JSON: what a2i2a_run_preset sets, every parameter the presets set. */
static void make_json(void) {
  for (int i = 0; i < chain_npresets; i++) {
    a2i2a_run_params p;
    a2i2a_run_preset(chain_presets[i].name, &p);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "prompt", chain_presets[i].prompt);
    for (int k = 0; k < param_count(); k++)
      if (param_at(k)->flags & PARAM_PRESET)
        cJSON_AddItemToObject(o, param_at(k)->entry.name, param_to_json(param_at(k), &p));
    char *text = cJSON_PrintUnformatted(o);
    snprintf((char *)chain_presets[i].json, PRESET_JSON_SIZE, "%s", text ? text : "{}");
    cJSON_free(text);
    cJSON_Delete(o);
  }
}

static void presets_init(void) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, make_json);
}
