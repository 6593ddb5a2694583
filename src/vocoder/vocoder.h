/* Neural vocoders: a log mel spectrogram in, a waveform out. Two families, loaded from the
 * layouts their weights are published in (docs/readings.md, "vocoder"):
 *  - Vocos, mel variant (gemelo-ai/vocos; charactr/vocos-mel-24khz): config.yaml + model.safetensors
 *    or pytorch_model.bin. A ConvNeXt backbone at the frame rate and an inverse STFT (vocos.c);
 *  - HiFi-GAN (jik876/hifi-gan): config.json + a generator file, the {"generator": state_dict}
 *    pickle (generator_v1, g_02500000, ...) or the state dict as safetensors; transposed
 *    convolutions up to the sample rate, weight norm applied at load (hifigan.c).
 * A vocoder is opened from a folder, a weights file inside one (the config beside it), or ORG/NAME
 * in the Hugging Face cache; the kind is recognised from the files (vocoder.c). The features each
 * was trained on, and the mel a magnitude spectrogram gives, are in features.c. */
#ifndef A2I2A_VOCODER_H
#define A2I2A_VOCODER_H

#include <stddef.h>
#include <stdint.h>

#include "a2i2a.h"
#include "audio/audio.h"

typedef enum { VOCODER_VOCOS, VOCODER_HIFIGAN } vocoder_kind;

/* The features a vocoder was trained on: log(max(mel, floor)) of the magnitude of its own STFT
 * (a periodic Hann window of win_length centred in n_fft, reflect padding at the ends). */
typedef struct {
  double rate;                /* Hz */
  int n_fft, hop, win_length;
  int n_mels;
  double fmin, fmax;          /* Hz */
  mel_scale scale;
  int slaney_norm;            /* filters of equal area (librosa's default) instead of peak 1 */
  float floor;                /* Vocos 1e-7, HiFi-GAN 1e-5 */
  float mag_eps;              /* HiFi-GAN takes |X| as sqrt(re² + im² + 1e-9); Vocos 0 */
  int frame_offset;           /* frame t is centred on sample t·hop + frame_offset: 0 for torch.stft's
                                 centred frames (Vocos), hop/2 for HiFi-GAN's (n_fft − hop)/2
                                 padding with uncentred frames */
  int whole_frames;           /* 1: hop samples per frame, hop·T for T frames (HiFi-GAN); 0: hops
                                 between frame centres, hop·(T − 1) (Vocos's inverse STFT) */
} vocoder_features;

typedef struct vocoder vocoder;

/* Opens a vocoder: path is a folder (Vocos: config.yaml; HiFi-GAN: config.json and one generator
 * file), a weights file in such a folder, or ORG/NAME in the Hugging Face cache. Errors, one line
 * naming the path: no such path, neither kind, an incomplete or out-of-range config (naming the
 * key), missing or misshapen weights (naming the tensor). */
a2i2a_status vocoder_open(const char *path, vocoder **out);
void vocoder_close(vocoder *v);
vocoder_kind vocoder_kind_of(const vocoder *v);
const vocoder_features *vocoder_features_of(const vocoder *v);
/* "Vocos (mel, 24000 Hz, dim 512, 8 layers)", for the CLI. */
void vocoder_describe(const vocoder *v, char *buf, size_t size);

/* Samples the vocoder makes of T frames, and the frames whose sound lasts about n samples. */
int64_t vocoder_samples(const vocoder_features *f, int frames);
int vocoder_frames_for(const vocoder_features *f, int64_t n);

/* Intermediate results by the names the reference fixtures give them ("backbone_out",
 * "head_linear_out", "after_upsample_0", ...), for checks: x holds n values, valid during the
 * call. */
typedef void (*vocoder_tap)(void *user, const char *name, const float *x, size_t n);

/* The network on mel [n_mels][frames] (the features above): audio gets vocoder_samples(frames)
 * samples. tap may be NULL. Cancel is checked between blocks. */
a2i2a_status vocoder_run(vocoder *v, const float *mel, int frames, float *audio, vocoder_tap tap, void *user,
                         a2i2a_job *job);

/* ---- features.c */

/* The frames of a recording of n samples at f->rate. */
int vocoder_feature_frames(const vocoder_features *f, int64_t n);
/* The vocoder's own features of the recording x [n] (at f->rate): mel [n_mels][frames]. */
a2i2a_status vocoder_features_of_audio(const vocoder_features *f, const float *x, int64_t n, float *mel);
/* The features of STFT magnitudes already on the vocoder's grid (its bins and frames): mag
 * [n_fft/2 + 1][frames], overwritten; mel [n_mels][frames]. */
a2i2a_status vocoder_features_of_magnitude(const vocoder_features *f, float *mag, int frames, float *mel);
/* The sum of the squared window, for level conversions between STFTs. */
double vocoder_window_power(int n_fft, int win_length);

#endif
