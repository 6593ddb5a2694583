/* What the common loader (vocoder.c) and the two families (vocos.c, hifigan.c) share. */
#ifndef A2I2A_VOCODER_INTERNAL_H
#define A2I2A_VOCODER_INTERNAL_H

#include "sd/kernels.h"
#include "sd/safetensors.h"
#include "vocoder/vocoder.h"

typedef struct vocos vocos;
typedef struct hifigan hifigan;

/* Each family reads its config (path: config.yaml or config.json, already mapped: text[0..len)) and
 * its weights (names converted here, at load), and fills f with the features it was trained on. */
a2i2a_status vocos_load(const char *config_path, const char *text, size_t len, const st_file *weights, vocos **out,
                        vocoder_features *f);
void vocos_free(vocos *m);
a2i2a_status vocos_forward(vocos *m, const float *mel, int frames, float *audio, vocoder_tap tap, void *user,
                           a2i2a_job *job);
void vocos_describe(const vocos *m, char *buf, size_t size);

a2i2a_status hifigan_load(const char *config_path, const char *text, size_t len, const st_file *weights,
                          hifigan **out, vocoder_features *f);
void hifigan_free(hifigan *m);
a2i2a_status hifigan_forward(hifigan *m, const float *mel, int frames, float *audio, vocoder_tap tap, void *user,
                             a2i2a_job *job);
void hifigan_describe(const hifigan *m, char *buf, size_t size);

/* A weight by its checkpoint name (printf-style), viewed in place; numel 0: any size. A2I2A_ERR_MODEL
 * naming the file and the tensor when it is missing or misshapen. */
a2i2a_status vocoder_weight(const st_file *f, weight *w, size_t numel, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A weight-normed convolution's weight w = g·v/‖v‖ (the norm over all dimensions but the first,
 * one per index of it) from NAME.weight_g and NAME.weight_v, or NAME.parametrizations.weight.
 * original0/1 (newer PyTorch), or NAME.weight itself when the norm was removed: *data gets the
 * float32 values (malloc'd: the caller frees it), w a view of them. */
a2i2a_status vocoder_normed_weight(const st_file *f, weight *w, float **data, int64_t rows, size_t numel,
                                   const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* A number of a config as written (text NULL: the key is absent), in [lo, hi] and whole if asked:
 * A2I2A_ERR_MODEL "PATH: 'KEY' missing: an incomplete config" or "PATH: 'KEY' is V, not ...". */
a2i2a_status vocoder_config_number(const char *path, const char *key, const char *text, double lo, double hi,
                                   int whole, double *out);

/* Bounds every count and size in a config must lie in: far beyond the published models, small
 * enough that no product of them overflows. */
enum { VOCODER_MAX_CHANNELS = 8192, VOCODER_MAX_KERNEL = 1024, VOCODER_MAX_LAYERS = 256, VOCODER_MAX_NFFT = 1 << 16 };
/* The largest input one run takes, in frames (about 12 minutes at a hop of 256 and 24 kHz). */
#define VOCODER_MAX_FRAMES 65536

#endif
