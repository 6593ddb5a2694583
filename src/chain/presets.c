/* The presets of `a2i2a run` and the named abstract prompts. */
#include <string.h>

#include "chain/chain.h"
#include "common/err.h"

/* The notebook's negative prompt (demo_presentation.ipynb), shared by the painting presets. */
#define NOTEBOOK_NEGATIVE "no letters, no people, no recognizable objects"

const chain_prompt chain_prompts[] = {
    /* the notebook's own prompt, word for word */
    {"notebook", "caffeinated thoughts of a tired college student pulling their 2nd all nighter flying saucers "
                 "and jellyfish living forever spicy pumpkin coffee abstract image no concrete objects"},
    {"ink", "flowing ink washes bleeding into wet paper, soft gradients, abstract image, no concrete objects"},
    {"strata", "layered bands of ochre, rust and slate pressed together, abstract texture, no concrete objects"},
    {"nebula", "luminous swirling clouds of violet and teal light, abstract image, no concrete objects"},
    {"glitch", "fractured scan lines and shifted blocks of saturated colour, abstract image, no concrete objects"},
    {"weave", "dense interlaced threads in warm colours, abstract textile pattern, no concrete objects"},
    /* Riffusion's model was fine-tuned on spectrograms captioned with music descriptions */
    {"ambient", "ambient drone, soft evolving synth pads, slow and warm"},
};
const int chain_nprompts = sizeof chain_prompts / sizeof *chain_prompts;

const chain_preset chain_presets[] = {
    {.name = "seed",
     .summary = "the notebook's chain: its spectrogram, SD 1.5 img2img with its prompt, its readings (plus ours)",
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
    {.name = "riffusion",
     .summary = "Riffusion's image convention and model, audio-to-audio: 5.11 s clips crossfaded over 0.2 s",
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
    {.name = "turbo",
     .summary = "SD-Turbo, 2 steps, for fast previews",
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
};
const int chain_npresets = sizeof chain_presets / sizeof *chain_presets;

const chain_preset *chain_preset_find(const char *name) {
  for (int i = 0; name && i < chain_npresets; i++)
    if (!strcmp(chain_presets[i].name, name)) return &chain_presets[i];
  return NULL;
}

const chain_prompt *chain_prompt_find(const char *name) {
  for (int i = 0; name && i < chain_nprompts; i++)
    if (!strcmp(chain_prompts[i].name, name)) return &chain_prompts[i];
  return NULL;
}

a2i2a_status a2i2a_run_preset(const char *name, a2i2a_run_params *p) {
  const chain_preset *ps = chain_preset_find(name ? name : "seed");
  if (!ps) {
    char list[256] = "";
    for (int i = 0; i < chain_npresets; i++) {
      if (i) strcat(list, ", ");
      strcat(list, chain_presets[i].name);
    }
    return fail(A2I2A_ERR_PARAM, "unknown preset '%s' (presets: %s)", name, list);
  }
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
  p->sheet = 1;
  return A2I2A_OK;
}
