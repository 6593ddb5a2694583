# Listening to the readings: --loudness brings every reading to one EBU R128 loudness under a
# true-peak ceiling, --rate to one sample rate (same duration), in i2a and run; run.json
# records both settings and every reading's measured loudness and true peak either way; the
# seed preset keeps the notebook's levels; older run.json files replay byte for byte.
set -u
. tests/support/ok.sh
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export XDG_CACHE_HOME="$T/cache"
. tests/support/fixtures.sh
IMG=$FIXTURES/seed/images/i03_synthetic_400x296.png
IN=examples/sampling.wav
RUN="-m examples/tiny-sd1 --steps 2 --no-sheet" # the seed size: every reading long enough to measure
one_line() { [ "$(wc -l <"$T/err")" -eq 1 ]; }
# wav_info FILE: "RATE FRAMES" from the WAV's header
wav_info() { python3 - "$1" <<'PY'
import struct, sys
b = open(sys.argv[1], 'rb').read()
i, rate, align = 12, 0, 1
while i + 8 <= len(b):
    cid, n = b[i:i+4], struct.unpack('<I', b[i+4:i+8])[0]
    if cid == b'fmt ': rate, align = struct.unpack('<I', b[i+12:i+16])[0], struct.unpack('<H', b[i+20:i+22])[0]
    if cid == b'data': print(rate, n // align); break
    i += 8 + n + (n & 1)
PY
}
# every reading of run.json at TARGET ± 0.1 LUFS, or held below it with its true peak at the
# ceiling CEIL (+ 0.1 dB); prints the readings that are neither
loudness_check() { python3 - "$1" "$2" "$3" <<'PY'
import json, sys
d, target, ceil = json.load(open(sys.argv[1])), float(sys.argv[2]), float(sys.argv[3])
bad = [k for k, v in d["loudness"].items()
       if not (abs(v["integrated_lufs"] - target) <= 0.1 and v["true_peak_dbtp"] <= ceil + 0.1)
       and not (v["integrated_lufs"] < target and abs(v["true_peak_dbtp"] - ceil) <= 0.1)]
print(" ".join(bad) if bad else "", end="")
sys.exit(1 if bad or len(d["loudness"]) < 4 else 0)
PY
}

# --- run --loudness -23: every reading at -23 LUFS or held by the -1 dBTP ceiling
"$A2I2A" run "$IN" -o "$T/l" $RUN --readings all --loudness -23 2>"$T/err"; rc=$?
ok "run --loudness -23 ($(tail -1 "$T/err"))" '[ $rc -eq 0 ]'
ok "run --loudness -23: every reading at -23 LUFS or at the ceiling ($(loudness_check "$T/l/run.json" -23 -1))" \
  'loudness_check "$T/l/run.json" -23 -1 >/dev/null'
ok "run.json records the settings" 'grep -q "\"loudness\":[[:space:]]*-23" "$T/l/run.json" && grep -q "\"true_peak\":[[:space:]]*0" "$T/l/run.json"'
ok "a reading held by the ceiling is named in a note" 'grep -q "note: chirp: .* LUFS, true peak -1.0 dBTP: the ceiling of -1 dBTP holds it below -23 LUFS" "$T/err" ||
  ! python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(d[\"loudness\"][\"chirp.wav\"][\"integrated_lufs\"] < -23.1)" "$T/l/run.json"'
# a lower ceiling holds more of them, never above it
"$A2I2A" run "$IN" -o "$T/l6" $RUN --readings noise,chirp,sines,bend --loudness -16 --true-peak -6 --bits 16 2>"$T/err"; rc=$?
ok "run --loudness -16 --true-peak -6 --bits 16 ($(loudness_check "$T/l6/run.json" -16 -6))" \
  '[ $rc -eq 0 ] && loudness_check "$T/l6/run.json" -16 -6 >/dev/null'
# replayed byte for byte
(cd "$T" && "$A2I2A" run --replay l6/run.json -o l6b 2>"$T/err"); rc=$?
ok "--replay with --loudness ($(cat "$T/err"))" '[ $rc -eq 0 ] && cmp -s "$T/l6/noise.wav" "$T/l6b/noise.wav"'
# clips: the whole stitched reading is normalised, not each clip
"$A2I2A" run "$IN" -o "$T/lc" $RUN --readings red,sines --clip 2.5 --overlap 0.25 --loudness -23 2>"$T/err"; rc=$?
ok "clips with --loudness: the stitched readings at -23 LUFS ($(cat "$T/err" | tail -1))" \
  '[ $rc -eq 0 ] && python3 -c "import json,sys; d=json.load(open(sys.argv[1]))[\"loudness\"]; sys.exit(not all(abs(v[\"integrated_lufs\"] + 23) <= 0.1 for v in d.values()))" "$T/lc/run.json"'

# --- i2a --loudness: one line per reading says where it ended
"$A2I2A" i2a "$IMG" -o "$T/i" -r all --loudness -23 2>"$T/err"; rc=$?
ok "i2a --loudness -23 ($(head -1 "$T/err"))" '[ $rc -eq 0 ] && [ "$(grep -c "LUFS" "$T/err")" -eq 8 ]'
ok "i2a --loudness -23: at -23.0 LUFS or held by the ceiling" \
  '! grep "LUFS" "$T/err" | grep -v ": -23.0 LUFS, true peak\|holds it below -23 LUFS"'

# --- --rate: every reading at one rate, the same duration (± 1 sample)
"$A2I2A" a2i "$IN" -o "$T/small.png" --width 128 --height 96
"$A2I2A" i2a "$T/small.png" -o "$T/r0" -r all --bits 16 2>"$T/err"
"$A2I2A" i2a "$T/small.png" -o "$T/r48" -r all --bits 16 --rate 48000 2>"$T/err"; rc=$?
ok "i2a --rate 48000 ($(tail -1 "$T/err"))" '[ $rc -eq 0 ]'
for w in "$T"/r48/*.wav; do
  name=$(basename "$w")
  read -r rate frames <<<"$(wav_info "$w")"
  read -r rate0 frames0 <<<"$(wav_info "$T/r0/$name")"
  want=$(python3 -c "print(round($frames0 * 48000 / $rate0))")
  ok "$name: 48 kHz, $frames frames for $frames0 at $rate0 Hz" '[ "$rate" = 48000 ] && [ $((frames - want)) -le 1 ] && [ $((want - frames)) -le 1 ]'
done
"$A2I2A" run "$IN" -o "$T/rr" $RUN --readings red,bend --rate 22050 2>"$T/err"; rc=$?
ok "run --rate 22050 ($(tail -1 "$T/err"))" '[ $rc -eq 0 ] && [ "$(wav_info "$T/rr/red.wav" | cut -d" " -f1)" = 22050 ] &&
  [ "$(wav_info "$T/rr/bend.wav" | cut -d" " -f1)" = 22050 ] && grep -q "\"output_rate\":[[:space:]]*22050" "$T/rr/run.json"'
"$A2I2A" i2a "$IMG" -o "$T/red8k.wav" -r red --rate 8000 --bits 16 2>"$T/err"; rc=$?
ok "i2a --rate resamples the notebook's readings too (red)" '[ $rc -eq 0 ] && [ "$(wav_info "$T/red8k.wav" | cut -d" " -f1)" = 8000 ]'

# --- the defaults: the notebook's levels, and the loudness recorded all the same
ok "run.json records the readings' loudness without --loudness too" \
  'python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert len(d[\"loudness\"]) == 2 and d[\"i2a\"][\"loudness\"] == 0 and d[\"loudness\"][\"red.wav\"][\"integrated_lufs\"] < 0" "$T/rr/run.json"'
"$A2I2A" i2a "$IMG" -o "$T/nb" -r red,rgb-mean,chirp 2>"$T/err"
"$A2I2A" i2a "$IMG" -o "$T/nb2" -r red,rgb-mean,chirp --rate 0 2>>"$T/err"; rc=$?
ok "without --loudness the notebook's readings are as they were" '[ $rc -eq 0 ] && cmp -s "$T/nb/red.wav" "$T/nb2/red.wav" && ! grep -q LUFS "$T/err"'

# --- usage errors: one line each
"$A2I2A" i2a "$IMG" -o "$T/x.wav" --true-peak -3 2>"$T/err"; rc=$?
ok "--true-peak without --loudness refused ($(cat "$T/err"))" '[ $rc -eq 2 ] && one_line && [ ! -e "$T/x.wav" ]'
"$A2I2A" run "$IN" -o "$T/x" $RUN --loudness 3 2>"$T/err"; rc=$?
ok "--loudness 3 refused ($(cat "$T/err"))" '[ $rc -eq 2 ] && one_line && grep -q -- "--loudness" "$T/err" && [ ! -e "$T/x" ]'

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
