/* The prompt: CLIP's BPE tokenizer and text transformer.
 * SHARED INTERFACE (pipeline, tokenize command): extend, do not change. */
#ifndef A2I2A_CLIP_H
#define A2I2A_CLIP_H

#include "sd/model.h"

#define CLIP_CTX 77

typedef struct clip_tokenizer clip_tokenizer;

/* From the model's tokenizer/ folder (vocab.json + merges.txt) when it has one, otherwise the
 * bundled OpenAI merges; padding by family (SD 1.x: 49407, SD 2.x: 0). */
a2i2a_status tokenizer_load(clip_tokenizer **t, const sd_model *m);
void tokenizer_free(clip_tokenizer *t);
/* 77 ids: start, at most 75 content ids, end, padding. *dropped = content tokens cut off. */
a2i2a_status tokenizer_encode(clip_tokenizer *t, const char *text, int ids[CLIP_CTX], int *dropped);

typedef struct clip_text clip_text;

a2i2a_status clip_load(clip_text **c, const sd_model *m);
void clip_free(clip_text *c);
int clip_hidden_size(const clip_text *c);
/* out [77][hidden]: the final-LayerNorm output of the layer the family uses (SD 2.x: the
 * penultimate), or clip_skip layers earlier (clip_skip <= 1: the family default). */
a2i2a_status clip_encode(clip_text *c, const int ids[CLIP_CTX], int clip_skip, float *out);

#endif
