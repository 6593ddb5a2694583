# The chain by hand (a2i, then i2i, then i2a) works for every style, and gives the very files
# `run` writes for the same settings: the painting keeps the spectrogram's own chunks (what the
# readings need) and adds its img2img settings and Automatic1111's "parameters" beside them.
set -u
. tests/support/ok.sh
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export XDG_CACHE_HOME="$T/cache"
MODEL=examples/tiny-sd1
. tests/support/fixtures.sh
IN="$FIXTURES/seed/audio/a06_espeak_22k05_mono_s16.wav"
for style in seed riffusion fullband; do
  size=""; [ $style = seed ] && size="--width 96 --height 64"
  runsize=""; [ $style = seed ] && runsize="--spec-width 96 --spec-height 64"
  d="$T/$style"; mkdir -p "$d"
  "$A2I2A" a2i "$IN" -o "$d/spectrogram.png" --style $style $size 2>"$T/err" \
    && "$A2I2A" i2i "$d/spectrogram.png" -o "$d/art.png" -m $MODEL --steps 4 --seed 1234 2>>"$T/err" >/dev/null \
    && "$A2I2A" i2a "$d/art.png" -o "$d/sounds" -r all --seed 1234 2>>"$T/err"; rc=$?
  ok "$style: a2i, i2i, i2a by hand exit 0 ($(cat "$T/err"))" '[ $rc -eq 0 ]'
  ok "$style: the painting keeps the spectrogram's a2i2a chunk" 'grep -aq "a2i2a-spectrogram" "$d/art.png"'
  ok "$style: the painting has A1111 parameters" 'grep -aq "Negative prompt: " "$d/art.png" && grep -aq "Steps: 4, Sampler: PLMS" "$d/art.png"'
  ok "$style: the painting has its img2img settings" 'grep -aq "a2i2a-i2i" "$d/art.png"'
  "$A2I2A" run "$IN" -o "$T/run-$style" --model $MODEL --style $style $runsize --steps 4 --seed 1234 --readings all \
    --no-sheet 2>"$T/err"; rc=$?
  ok "$style: run exit 0 ($(cat "$T/err"))" '[ $rc -eq 0 ]'
  for f in spectrogram.png art.png; do
    ok "$style: run's $f equals the hand-made one" 'cmp -s "$d/$f" "$T/run-$style/$f"'
  done
  n=0
  for w in "$T/run-$style"/*.wav; do
    n=$((n+1))
    ok "$style: run's $(basename "$w") equals the hand-made one" 'cmp -s "$w" "$d/sounds/$(basename "$w")"'
  done
  ok "$style: every reading compared ($n)" '[ $n -ge 8 ]'
done
# riffusion keeps its eXIf through the painting
ok "riffusion: eXIf kept" 'grep -aq "eXIf" "$T/riffusion/art.png"'
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
