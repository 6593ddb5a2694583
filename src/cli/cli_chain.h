/* The options of the whole chain, shared by `run` and `batch`: the stages' parameters, the
 * model, and the prompts and seeds each sound is crossed with. */
#ifndef A2I2A_CLI_CHAIN_H
#define A2I2A_CLI_CHAIN_H

#include "cli/cli.h"

/* The ids of the rows below that are no parameter (apart from the commands' own, from 1). */
enum { CLI_ID_PROMPT = 100, CLI_ID_PROMPT_PRESET, CLI_ID_SEEDS, CLI_ID_VARIATIONS, CLI_ID_TRAVEL, CLI_ID_LOOP };

/* --model's default: $A2I2A_MODEL when set, else the preset's. */
void cli_model_default(const cli_option *o, char *buf, size_t size);

#define CLI_OPTS_CHAIN \
    {.heading = "spectrogram (a2i):"},                                                                             \
    {.name = "style", .arg = "NAME", .param = "a2i.style"},                                                        \
    {.name = "colormap", .arg = "NAME", .param = "a2i.colormap", .show_default = cli_style_defaults},              \
    {.name = "stereo", .param = "a2i.stereo"},                                                                     \
    {.name = "db-range", .arg = "DB", .param = "a2i.db_range", .show_default = cli_style_defaults},                \
    {.name = "fmin", .arg = "HZ", .param = "a2i.fmin", .show_default = cli_style_defaults},                        \
    {.name = "fmax", .arg = "HZ", .param = "a2i.fmax", .show_default = cli_style_defaults},                        \
    {.name = "spec-width", .arg = "N", .param = "a2i.width"},                                                      \
    {.name = "spec-height", .arg = "N", .param = "a2i.height"},                                                    \
    {.name = "max-seconds", .arg = "S", .param = "a2i.max_seconds", .show_default = cli_style_defaults},           \
    {.name = "clip", .arg = "S", .param = "clips.seconds"},                                                        \
    {.name = "overlap", .arg = "S", .param = "clips.overlap_seconds"},                                             \
    {.heading = "painting (i2i):"},                                                                                \
    {.name = "model", .letter = 'm', .arg = "M", .param = "model.name", .flags = CLI_PATH | CLI_REPLAY,            \
     .show_default = cli_model_default},                                                                           \
    {.name = "prompt", .arg = "TEXT", .id = CLI_ID_PROMPT, .help = "a prompt of your own (repeat for several)",    \
     .dflt = "the preset's"},                                                                                      \
    {.name = "prompt-preset", .arg = "NAME", .id = CLI_ID_PROMPT_PRESET, .choices = &chain_prompt_registry,        \
     .help = "a named abstract prompt (repeat for several; 'a2i2a presets' shows them)", .dflt = "the preset's"},  \
    {.name = "negative", .arg = "TEXT", .param = "i2i.negative_prompt"},                                           \
    {.name = "strength", .arg = "X", .param = "i2i.strength"},                                                     \
    {.name = "guidance", .arg = "X", .param = "i2i.guidance"},                                                     \
    {.name = "steps", .arg = "N", .param = "i2i.steps"},                                                           \
    {.name = "sampler", .arg = "NAME", .param = "i2i.sampler"},                                                    \
    {.name = "spacing", .arg = "NAME", .param = "i2i.spacing"},                                                    \
    {.name = "clip-skip", .arg = "N", .param = "i2i.clip_skip"},                                                   \
    {.name = "prediction", .arg = "P", .param = "i2i.prediction"},                                                 \
    {.name = "taesd", .arg = "M", .param = "i2i.taesd", .flags = CLI_PATH,                                         \
     .help = "paint with TAESD in place of the VAE: a diffusers folder, its .safetensors or ORG/NAME ('a2i2a "      \
             "models pull madebyollin/taesd' gets it); quick drafts (the draft preset uses it)"},                     \
    {.name = "tile", .arg = "AXES", .param = "i2i.tile"},                                                          \
    {.name = "alpha", .arg = "X", .param = "i2i.alpha"},                                                           \
    {.name = "to-seed", .arg = "N", .param = "i2i.to_seed"},                                                       \
    {.name = "to-prompt", .arg = "TEXT", .param = "i2i.to_prompt"},                                                \
    {.name = "to-negative", .arg = "TEXT", .param = "i2i.to_negative_prompt"},                                     \
    {.name = "to-strength", .arg = "X", .param = "i2i.to_strength"},                                               \
    {.name = "to-guidance", .arg = "X", .param = "i2i.to_guidance"},                                               \
    {.name = "travel", .id = CLI_ID_TRAVEL, .help = "travel from the painting's endpoint to the --to- one over "   \
     "the clips (--clip) or --frames (docs/travel.md)"},                                                           \
    {.name = "loop", .id = CLI_ID_LOOP, .help = "travel there and back, the last clip crossfading into the "       \
     "first: every reading loops"},                                                                                \
    {.name = "frames", .arg = "N", .param = "travel.frames"},                                                      \
    {.name = "low-memory", .param = "i2i.low_memory"},                                                             \
    {.name = "seed", .arg = "N", .param = "i2i.seed", .help = "seed of the painting and the readings"},            \
    {.name = "seeds", .arg = "A,B,...", .id = CLI_ID_SEEDS, .help = "several seeds, one run each"},                \
    {.name = "variations", .arg = "N", .id = CLI_ID_VARIATIONS, .help = "N runs with seeds SEED, SEED+1, ..."},    \
    {.heading = "sounds (i2a):"},                                                                                  \
    {.name = "readings", .arg = "LIST", .param = "i2a.readings"},                                                  \
    {.name = "gl-iters", .arg = "N", .param = "i2a.gl_iters"},                                                     \
    {.name = "bits", .arg = "N", .param = "i2a.bits"},                                                             \
    {.name = "vocoder", .arg = "PATH", .param = "i2a.vocoder", .flags = CLI_PATH,                                  \
     .help = "the vocoder reading's Vocos or HiFi-GAN: a folder, or ORG/NAME from 'a2i2a models pull'"},          \
    {.name = "rate", .arg = "HZ", .param = "i2a.output_rate"},                                                     \
    {.name = "loudness", .arg = "LUFS", .param = "i2a.loudness"},                                                  \
    {.name = "true-peak", .arg = "DBTP", .param = "i2a.true_peak"}

enum { CLI_MAX_CROSS = 256 };

/* The prompts and seeds of --prompt, --prompt-preset, --seeds and --variations. */
typedef struct {
  const char *prompts[CLI_MAX_CROSS];
  int nprompts, nseeds;
  uint64_t seeds[CLI_MAX_CROSS];
  long variations;
} cli_cross;

/* One of the rows' ids above with its value (--travel and --loop set p's travel mode); 0, or an
 * exit status after one line. Returns CLI_CONTINUE for an id that is not one of them. */
int cli_cross_option(const char *cmd, cli_cross *c, a2i2a_run_params *p, int id, const char *v);
/* After parsing: the prompts (p's when none was given) and seeds (p's, SEED.. for --variations)
 * each sound is run with; 0, or EXIT_USAGE after one line for options that do not combine. */
int cli_cross_finish(const char *cmd, const cli_command *table, const cli_args *a, const a2i2a_run_params *p,
                     cli_cross *c);

#endif
