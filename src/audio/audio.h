/* Audio: decoding (libsndfile), resampling (soxr), writing WAV/FLAC, and the STFT family on
 * FFTW3 single precision.
 *
 * THIS INTERFACE IS SHARED by a2i, the readings and the chain: extend it, do not change it. */
#ifndef A2I2A_AUDIO_H
#define A2I2A_AUDIO_H

#include <stdint.h>
#include "a2i2a.h"

typedef struct {
  int channels;
  int64_t frames;  /* samples per channel */
  double rate;     /* Hz */
  float *x;        /* planar: channel c is x + c·frames */
} audio_buf;

/* Decodes any file libsndfile reads (WAV, AIFF, FLAC, Ogg Vorbis/Opus, MP3 with its gapless
 * header) to float32 as torchaudio does (PCM s/2^(bits-1), float unchanged). */
a2i2a_status audio_read(const char *path, audio_buf *out);
/* soxr, very high quality; out gets the same channels. */
a2i2a_status audio_resample(const audio_buf *in, double rate, audio_buf *out);
/* Writes atomically: WAV (or FLAC if path ends in .flac), bits = 32 (float), 16 or 24
 * (TPDF-dithered with the torch generator seeded by dither_seed). */
a2i2a_status audio_write(const char *path, const audio_buf *a, int bits, uint64_t dither_seed, int force);
a2i2a_status audio_alloc(audio_buf *a, int channels, int64_t frames, double rate);
void audio_free(audio_buf *a);

/* STFT as torch.stft(center=True, pad_mode="reflect", onesided, unnormalised): a periodic Hann
 * window of win_length centred in n_fft, reflect padding of n_fft/2 without repeating the edge
 * sample, frames = 1 + n/hop. Spectra are complex [bins][frames] with bins = n_fft/2 + 1,
 * stored as interleaved (re, im) floats. Plans are made once per context and reused. */
typedef struct stft_ctx stft_ctx;
a2i2a_status stft_new(stft_ctx **ctx, int n_fft, int hop, int win_length);
void stft_free(stft_ctx *ctx);
int stft_bins(const stft_ctx *ctx);
int64_t stft_frames(const stft_ctx *ctx, int64_t n);
const float *stft_window(const stft_ctx *ctx); /* n_fft values */
/* x: n samples (n > n_fft/2); spec: bins × frames complex. */
void stft_forward(stft_ctx *ctx, const float *x, int64_t n, float *spec);
/* |X|² (power) or |X| (magnitude) from a forward transform, [bins][frames]. */
void stft_power(stft_ctx *ctx, const float *x, int64_t n, float *power);
void stft_magnitude(stft_ctx *ctx, const float *x, int64_t n, float *mag);
/* torch.istft: inverse real FFT per frame (1/n_fft scaling, imaginary parts of DC and Nyquist
 * ignored), overlap-add with the window, divided by the summed squared window, n_fft/2 trimmed
 * at both ends; y has hop·(frames − 1) samples. */
void stft_inverse(stft_ctx *ctx, const float *spec, int64_t frames, float *y);

/* Mel filter banks as torchaudio.functional.melscale_fbanks: fb [n_freqs][n_mels]. */
typedef enum { MEL_HTK, MEL_SLANEY } mel_scale;
a2i2a_status mel_filterbank(float *fb, int n_freqs, double fmin, double fmax, int n_mels, double sample_rate,
                            mel_scale scale, int slaney_norm);
double hz_to_mel(double hz, mel_scale scale);
double mel_to_hz(double mel, mel_scale scale);

#endif
