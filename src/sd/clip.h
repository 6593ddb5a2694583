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

/* --- extensions (tokenizer) --- */
/* dir: a folder with vocab.json + merges.txt (and optionally tokenizer_config.json /
 * special_tokens_map.json, which name the pad token), or NULL for the bundled OpenAI merges.
 * family (1 or 2) chooses the pad token when no config names one; 0 = SD 1.x's. */
a2i2a_status tokenizer_load_dir(clip_tokenizer **t, const char *dir, int family);
/* All content ids of text[0..len) (no start/end, no truncation; the text may hold U+0000,
 * which the clean-up deletes); *ids is malloc'ed (free it). */
a2i2a_status tokenizer_tokens(clip_tokenizer *t, const char *text, size_t len, int **ids, int *n);
/* tokenizer_encode of text[0..len). */
a2i2a_status tokenizer_encode_len(clip_tokenizer *t, const char *text, size_t len, int ids[CLIP_CTX], int *dropped);
int tokenizer_pad_id(const clip_tokenizer *t);
/* What was loaded, for messages: the folder, or the path of the bundled merges. */
const char *tokenizer_source(const clip_tokenizer *t);
/* The vocabulary entry of id as stored (byte-level symbols, e.g. "cafÃ©</w>"); NULL if unknown. */
const char *tokenizer_symbol(const clip_tokenizer *t, int id);
/* The vocabulary entry of id as text: the byte-level symbols decoded back to UTF-8 bytes
 * ("</w>" kept as it marks a word end). Writes at most n-1 bytes; returns 0, -1 if unknown. */
int tokenizer_token_text(const clip_tokenizer *t, int id, char *buf, size_t n);
/* The bundled merges file (bpe_simple_vocab_16e6.txt.gz): $A2I2A_DATA/clip, then
 * <exe>/../share/a2i2a/clip, then the source tree's data/clip. */
a2i2a_status tokenizer_bundled_path(char *path, size_t n);

typedef struct clip_text clip_text;

a2i2a_status clip_load(clip_text **c, const sd_model *m);
void clip_free(clip_text *c);
int clip_hidden_size(const clip_text *c);
/* out [77][hidden]: the final-LayerNorm output of the layer the family uses (SD 2.x: the
 * penultimate), or clip_skip layers earlier (clip_skip <= 1: the family default). */
a2i2a_status clip_encode(clip_text *c, const int ids[CLIP_CTX], int clip_skip, float *out);

/* --- extensions (text encoder) --- */
/* clip_load with a transformers-style config (num_attention_heads, hidden_act, layer_norm_eps)
 * for a single-file checkpoint whose shapes do not tell them (NULL = the model's own config or,
 * for single files, the family's: 64-wide heads, quick_gelu for SD 1.x, gelu for OpenCLIP). */
a2i2a_status clip_load_config(clip_text **c, const sd_model *m, const cJSON *config);
int clip_layers(const clip_text *c);         /* layers in the weights */
int clip_default_layers(const clip_text *c); /* layers the family conditions on */
/* The residual stream after the first nlayers layers (0 = the embeddings), through the final
 * LayerNorm when final_ln is set: out [77][hidden]. */
a2i2a_status clip_encode_layers(clip_text *c, const int ids[CLIP_CTX], int nlayers, int final_ln, float *out);

#endif
