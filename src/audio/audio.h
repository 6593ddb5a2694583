/* Audio: decoding (libsndfile), resampling (soxr), writing WAV/FLAC, and the STFT family on
 * FFTW3 single precision.
 *
 * THIS INTERFACE IS SHARED by a2i, the readings and the chain: extend it, do not change it. */
#ifndef A2I2A_AUDIO_H
#define A2I2A_AUDIO_H

#include <stddef.h>
#include <stdint.h>
#include "a2i2a.h"
#include "common/outfile.h"

typedef struct {
  int channels;
  int64_t frames;  /* samples per channel */
  double rate;     /* Hz */
  float *x;        /* planar: channel c is x + c·frames */
} audio_buf;

/* Longest input accepted at all: 2^31 frames per channel (13.5 hours at 44.1 kHz), and the
 * most channels. Styles set their own, much lower limits. */
#define AUDIO_MAX_FRAMES ((int64_t)1 << 31)
#define AUDIO_MAX_CHANNELS 64

/* Decodes any file libsndfile reads (WAV, AIFF, FLAC, Ogg Vorbis/Opus, MP3 with its gapless
 * header) to float32 as torchaudio does (PCM s/2^(bits-1), float unchanged). MPEG audio is
 * decoded by mpg123 directly, set up as libsndfile sets it up (the same samples and length)
 * but quiet: nothing is printed. */
a2i2a_status audio_read(const char *path, audio_buf *out);
/* Errors of audio_read (one line naming the file): A2I2A_ERR_IO (cannot open or read),
 * A2I2A_ERR_FORMAT (empty, not audio, corrupt, truncated: fewer frames than the header
 * promises, or no samples at all), A2I2A_ERR_UNSUPPORTED (> 64 channels), A2I2A_ERR_LIMIT
 * (> 2^31 frames). Any channel count 1..64 is returned as is: callers downmix. */
/* The length (frames per channel), rate and channel count of a sound file from its header,
 * without decoding it (a file whose header does not say is decoded to count); audio_read's
 * errors for a file it cannot open or recognise. For checks before the work. */
a2i2a_status audio_probe(const char *path, int64_t *frames, double *rate, int *channels);
/* audio_read on an encoded file held in memory (the same decoder, checks and errors); name
 * (NULL: "audio in memory") names it in errors, and its ending ".mp3" lets data no format
 * recognises be tried as MPEG, as a file's name does. data NULL: A2I2A_ERR_PARAM. */
a2i2a_status audio_read_memory(const void *data, size_t size, const char *name, audio_buf *out);
/* Interleaved float PCM (frames × channels) as audio_read would return a float WAV of it, with
 * its limits: channels 1..64, 1..2^31 frames (0: A2I2A_ERR_FORMAT), rate ≥ 1 Hz. */
a2i2a_status audio_from_interleaved(const float *pcm, int64_t frames, int channels, double rate, const char *name,
                                    audio_buf *out);
/* soxr, very high quality; out gets the same channels. */
a2i2a_status audio_resample(const audio_buf *in, double rate, audio_buf *out);
/* The sound format a file name asks for by its extension (case-insensitive): .wav, .flac,
 * .ogg/.oga (Ogg Vorbis), .opus (Ogg Opus), .mp3; AUDIO_UNWRITTEN for a sound format a2i2a does
 * not write (.aiff, .m4a, ...), AUDIO_UNKNOWN for any other extension, AUDIO_NO_EXTENSION. */
typedef enum {
  AUDIO_NO_EXTENSION = -3, AUDIO_UNKNOWN = -2, AUDIO_UNWRITTEN = -1,
  AUDIO_WAV = 0, AUDIO_FLAC, AUDIO_OGG, AUDIO_OPUS, AUDIO_MP3
} audio_format;
audio_format audio_format_of(const char *path);
/* Whether path names a format audio_write writes, with bits (0 or 32: float; 16, 24: WAV and
 * FLAC only): A2I2A_ERR_PARAM with one line naming the file otherwise. */
a2i2a_status audio_format_check(const char *path, int bits);
/* Writes atomically in the format of path's extension (audio_format_check): WAV and FLAC with
 * bits = 32 (float), 16 or 24 (TPDF-dithered with the torch generator seeded by dither_seed),
 * bits 0 meaning 32, FLAC's 32 written as 24 (FLAC has no float format); Ogg Vorbis, Ogg Opus
 * and MP3 (LAME) from the float samples, at libsndfile's default quality. Opus is written at
 * 8, 12, 16, 24 or 48 kHz and MP3 at an MPEG rate up to 48 kHz: other rates are resampled to
 * 48 kHz (soxr) first. Dither: per sample, in frame order then channel order, d = u1 − u2 with
 * two rng_uniform draws (triangular, ±1 LSB), then q = floor(x·2^(bits−1) + d + 0.5) clamped
 * to the integer range. Float WAV keeps values as is (also beyond ±1). */
a2i2a_status audio_write(const char *path, const audio_buf *a, int bits, uint64_t dither_seed, int force);
/* audio_write up to the last step: the file is complete in pending->tmp, and path is untouched
 * until outfile_commit (or outfile_commit_all for several files at once); outfile_abort drops it. */
a2i2a_status audio_write_pending(outfile *pending, const char *path, const audio_buf *a, int bits,
                                 uint64_t dither_seed, int force);
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
/* x: n samples (n > n_fft/2, as torch requires for reflect padding; shorter signals should be
 * zero-padded by the caller — positions that would reflect twice read as 0 here);
 * spec: bins × frames complex. */
void stft_forward(stft_ctx *ctx, const float *x, int64_t n, float *spec);
/* |X|² (power) or |X| (magnitude) from a forward transform, [bins][frames]. */
void stft_power(stft_ctx *ctx, const float *x, int64_t n, float *power);
void stft_magnitude(stft_ctx *ctx, const float *x, int64_t n, float *mag);
/* The same for frames [t0, t0 + nt) only, out [bins][nt]: long signals in blocks. */
void stft_power_frames(stft_ctx *ctx, const float *x, int64_t n, int64_t t0, int64_t nt, float *out);
void stft_magnitude_frames(stft_ctx *ctx, const float *x, int64_t n, int64_t t0, int64_t nt, float *out);
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

/* 10·log10(P + 1e-9) in float32, as the notebook (no top-dB clamp; P = 0 gives −90 dB). */
void power_to_db(const float *p, size_t n, float *db);
/* Mean of all channels into one (out is allocated; mono input is copied). */
a2i2a_status audio_downmix(const audio_buf *in, audio_buf *out);

#endif
