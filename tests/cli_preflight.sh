# What can be known before the work is said before it, in the user's terms: a long input within
# the seed style's documented limit works; a painting that would not fit in memory, an input too
# short for the chain and steps x strength < 1 are refused before the spectrogram, with one line,
# one exit status, no temporary path named and nothing left behind.
set -u
. tests/support/ok.sh
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export XDG_CACHE_HOME="$T/cache"
MODEL=examples/tiny-sd1
one_line() { [ "$(wc -l <"$T/err")" -eq 1 ]; }
# tone SECONDS RATE FILE: an 8-bit mono WAV of a 441 Hz tone (8-bit keeps long files small)
tone() {
  python3 - "$@" <<'EOF'
import math, sys, wave
seconds, rate, path = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
n = int(round(seconds * rate))
period = bytes(int(128 + 60 * math.sin(2 * math.pi * 441 * i / rate)) for i in range(rate))
w = wave.open(path, "wb"); w.setnchannels(1); w.setsampwidth(1); w.setframerate(rate)
w.writeframes(period * (n // rate) + period[: n % rate]); w.close()
EOF
}
png_size() { od -An -tu1 -j16 -N8 "$1" | awk '{print $3*256+$4 "x" $7*256+$8}'; }

# --- the seed style takes what its help promises: 10 minutes at 44.1 kHz is 103360 STFT frames
tone 600 44100 "$T/long10min.wav"
"$A2I2A" a2i "$T/long10min.wav" -o "$T/long.png" --style seed 2>"$T/err"; rc=$?
ok "a2i of 10 minutes, seed style: exit 0 ($(cat "$T/err"))" '[ $rc -eq 0 ] && [ "$(png_size "$T/long.png")" = 400x300 ]'
"$A2I2A" a2i "$T/long10min.wav" -o "$T/long2.png" --style seed --max-seconds 500 2>"$T/err"; rc=$?
ok "beyond --max-seconds: one line in seconds ($(cat "$T/err"))" \
  '[ $rc -eq 1 ] && one_line && grep -q "600.0 s is longer than the seed style.s limit of 500 s" "$T/err" && [ ! -e "$T/long2.png" ]'
ok "a2i --help states the limit in seconds" '"$A2I2A" a2i --help | tr -s " \n" " " | grep -q "(default: seed 3600, riffusion 600, fullband 600)"'

# --- a painting that would not fit in memory: refused before the spectrogram, with a clip length
tone 20 22050 "$T/minute.wav"
A2I2A_MEMORY_MB=150 "$A2I2A" run "$T/minute.wav" -o "$T/big" -m $MODEL --style fullband --spec-height 64 --readings red --progress plain \
  2>"$T/err"; rc=$?
ok "memory: exit 1, one line ($(cat "$T/err"))" '[ $rc -eq 1 ] && one_line'
ok "memory: says how much and suggests --clip" 'grep -q "2000x64 picture needs about [0-9.]* GB" "$T/err" && grep -q -- "(--clip [0-9.]*)" "$T/err"'
ok "memory: no temporary path named" '! grep -q "a2i2a-run" "$T/err"'
ok "memory: before the spectrogram, nothing left" '! grep -q "spectrogram" "$T/err" && [ ! -e "$T/big" ]'
clip=$(grep -o -- "--clip [0-9.]*" "$T/err" | cut -d" " -f2)
A2I2A_MEMORY_MB=150 "$A2I2A" run "$T/minute.wav" -o "$T/big" -m $MODEL --style fullband --spec-height 64 --readings red --steps 2 --clip "$clip" \
  --no-sheet -q 2>"$T/err"; rc=$?
ok "the suggested --clip $clip fits ($(cat "$T/err"))" '[ $rc -eq 0 ] && [ -f "$T/big/red.wav" ]'
mkdir "$T/kept"
A2I2A_MEMORY_MB=150 "$A2I2A" run "$T/minute.wav" -o "$T/kept" -m $MODEL --style fullband --spec-height 64 2>"$T/err"
ok "memory: an existing OUTDIR stays empty" '[ -d "$T/kept" ] && [ -z "$(ls -A "$T/kept")" ]'

# --- too short for the chain: one message, one exit status, for every style
tone 0.05 8000 "$T/short50ms.wav"
for style in seed riffusion fullband; do
  "$A2I2A" run "$T/short50ms.wav" -o "$T/short-$style" -m $MODEL --style $style --progress plain 2>"$T/err"; rc=$?
  ok "too short, $style: exit 1, one line ($(cat "$T/err"))" \
    '[ $rc -eq 1 ] && one_line && grep -q "short50ms.wav: 0.05 s is too short for the $style style (at least 0.[0-9]* s)" "$T/err"'
  ok "too short, $style: before the spectrogram, nothing left" '! grep -q "spectrogram" "$T/err" && [ ! -e "$T/short-$style" ]'
done
# the shortest accepted works (riffusion: 0.23 s at 44.1 kHz)
tone 0.23 44100 "$T/just.wav"
"$A2I2A" run "$T/just.wav" -o "$T/just" -m $MODEL --style riffusion --steps 2 --no-sheet -q 2>"$T/err"; rc=$?
ok "0.23 s, riffusion: every reading works ($(cat "$T/err"))" '[ $rc -eq 0 ] && [ -f "$T/just/inverse.wav" ]'

# --- nothing to denoise: refused before the spectrogram
"$A2I2A" run "$T/just.wav" -o "$T/nd" -m $MODEL --steps 1 --strength 0.5 --progress plain 2>"$T/err"; rc=$?
ok "steps x strength < 1: exit 2, one line ($(cat "$T/err"))" '[ $rc -eq 2 ] && one_line && grep -q "steps x strength = 1 x 0.5 < 1" "$T/err"'
ok "steps x strength < 1: before the spectrogram, nothing left" '! grep -q "spectrogram" "$T/err" && [ ! -e "$T/nd" ]'

# --- the inverse reading's limit, for an input the seed style itself takes (13 minutes)
tone 780 44100 "$T/long13min.wav"
"$A2I2A" run "$T/long13min.wav" -o "$T/inv" -m $MODEL --progress plain 2>"$T/err"; rc=$?
ok "inverse reading's limit: exit 1, one line ($(cat "$T/err"))" \
  '[ $rc -eq 1 ] && one_line && grep -q "too long for the inverse reading of a seed picture: split it into clips (--clip [0-9.]*), or leave inverse out" "$T/err"'
ok "inverse reading's limit: before the spectrogram" '! grep -q "spectrogram" "$T/err" && [ ! -e "$T/inv" ]'

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
