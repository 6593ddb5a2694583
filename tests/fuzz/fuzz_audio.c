/* libFuzzer target: the audio entry point, audio_read_memory — every format libsndfile reads
 * through its virtual I/O (WAV, AIFF, FLAC, Ogg Vorbis/Opus, ...) and MPEG through mpg123. The
 * name ends in .mp3, so that data no format recognises is tried as MPEG too. The decoder's
 * memory is bounded by A2I2A_MEMORY_MB (set below libFuzzer's own 2 GB limit). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "audio/audio.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  setenv("A2I2A_MEMORY_MB", "1024", 1);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  audio_buf a;
  if (audio_read_memory(data, size, "fuzz.mp3", &a) == A2I2A_OK) {
    if (a.channels < 1 || a.channels > AUDIO_MAX_CHANNELS || a.frames < 1 || a.frames > AUDIO_MAX_FRAMES ||
        !(a.rate > 0))
      __builtin_trap();
    volatile float last = a.x[(size_t)a.channels * a.frames - 1];
    (void)last;
    audio_free(&a);
  }
  return 0;
}
