# Sourced by the batch tests: small sounds and quick settings for a2i2a batch with the tiny model.
# sounds DIR N: N distinct two-second tones DIR/tone1.wav ... (16 kHz, mono, 16-bit)
sounds() {
  mkdir -p "$1"
  python3 - "$1" "$2" <<'PY'
import math, struct, sys, wave
for i in range(1, int(sys.argv[2]) + 1):
    w = wave.open("%s/tone%d.wav" % (sys.argv[1], i), "wb")
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000)
    f = 110.0 * i
    w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * f * t / 16000))) for t in range(32000)))
    w.close()
PY
}
# a small spectrogram, few steps, two readings, one thread (the bytes depend on the thread count)
QUICK="-m examples/tiny-sd1 --spec-width 64 --spec-height 64 --steps 2 --readings red,bend --threads 1"
# the number of items each batch log says it ran ("a2i2a batch: k/n ID INPUT" lines)
ran_ids() { grep -h '^a2i2a batch: [0-9]*/[0-9]* ' "$@" 2>/dev/null | awk '{print $4}'; }
# the item folders' files and batch.json, as one digest (the lock and failure records left out)
tree_digest() { (cd "$1" && find . -path ./.a2i2a-batch -prune -o -type f -print | LC_ALL=C sort | xargs sha256sum | sha256sum); }
