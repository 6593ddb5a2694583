/* The presets hold the values the issue gives them. */
#include <math.h>

#include "chain/chain.h"
#include "check.h"

int main(void) {
  a2i2a_run_params p;
  CHECK(a2i2a_run_preset("seed", &p) == A2I2A_OK, "seed");
  CHECK(!strcmp(p.model, "stable-diffusion-v1-5/stable-diffusion-v1-5"), "seed model %s", p.model);
  CHECK(!strcmp(p.a2i.style, "seed"), "seed style");
  CHECK(p.i2i.strength == 0.9 && p.i2i.guidance == 2.5 && p.i2i.steps == 50 && !strcmp(p.i2i.sampler, "pndm"),
        "seed i2i settings");
  CHECK(!strcmp(p.i2i.prompt, "caffeinated thoughts of a tired college student pulling their 2nd all nighter flying "
                              "saucers and jellyfish living forever spicy pumpkin coffee abstract image no concrete objects"),
        "the notebook's prompt");
  CHECK(!strcmp(p.i2i.negative_prompt, "no letters, no people, no recognizable objects"), "the notebook's negative");
  CHECK(!strcmp(p.readings, "all") && p.clip_seconds == 0 && p.sheet == 1, "seed readings/clips");

  CHECK(a2i2a_run_preset(NULL, &p) == A2I2A_OK && !strcmp(p.preset, "seed"), "default preset is seed");

  CHECK(a2i2a_run_preset("riffusion", &p) == A2I2A_OK, "riffusion");
  CHECK(!strcmp(p.model, "riffusion/riffusion-model-v1") && !strcmp(p.a2i.style, "riffusion"), "riffusion model/style");
  CHECK(p.i2i.strength == 0.55 && p.i2i.guidance == 7, "riffusion strength/guidance");
  CHECK(p.clip_seconds == 5.11 && p.overlap_seconds == 0.2 && !strcmp(p.readings, "inverse"), "riffusion clips/reading");

  CHECK(a2i2a_run_preset("turbo", &p) == A2I2A_OK, "turbo");
  CHECK(!strcmp(p.model, "stabilityai/sd-turbo") && p.i2i.steps == 2 && p.i2i.strength == 0.5 && p.i2i.guidance == 0,
        "turbo settings");

  CHECK(a2i2a_run_preset("nope", &p) == A2I2A_ERR_PARAM, "unknown preset refused");
  CHECK(strstr(a2i2a_last_error(), "nope") && strstr(a2i2a_last_error(), "turbo"), "error lists presets: %s",
        a2i2a_last_error());

  /* every preset names a prompt that exists; the painting prompts keep the notebook's spirit */
  for (int i = 0; i < chain_npresets; i++) CHECK(chain_prompt_find(chain_presets[i].prompt), "%s", chain_presets[i].name);
  for (int i = 0; i < chain_nprompts; i++)
    if (strcmp(chain_prompts[i].name, "ambient"))
      CHECK(strstr(chain_prompts[i].text, "no concrete objects"), "prompt %s", chain_prompts[i].name);
  return check_done();
}
