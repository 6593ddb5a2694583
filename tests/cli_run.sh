# `a2i2a run` end to end on a fixture sound with the tiny fixture model: every output exists and
# is valid, --replay reproduces identical bytes, and bad input fails cleanly.
set -u
. tests/support/ok.sh
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export XDG_CACHE_HOME="$T/cache" # the model SHA-256 cache
. tests/support/fixtures.sh
unset A2I2A_MODEL                 # the preset's model is what these runs expect
MODEL="$FIXTURES/sd/tiny-sd1"
# a small spectrogram and few steps keep the test quick; everything else is the preset's
SMALL="--spec-width 96 --spec-height 64 --steps 4"
IN="$FIXTURES/seed/audio/a06_espeak_22k05_mono_s16.wav"
is_png() { [ "$(od -An -tx1 -N8 "$1" | tr -d ' \n')" = "89504e470d0a1a0a" ]; }
png_size() { od -An -tu1 -j16 -N8 "$1" | awk '{print $3*256+$4 "x" $7*256+$8}'; }
# rows_differ A B Y0 Y1: whether rows Y0..Y1-1 of two 8-bit RGB PNGs differ
rows_differ() { python3 - "$@" <<'PY'
import sys
sys.path.insert(0, 'tests/support')
from png_rows import png_rows as rows
a, b, y0, y1 = rows(sys.argv[1]), rows(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
sys.exit(0 if a[y0:y1] != b[y0:y1] else 1)
PY
}
is_wav() { [ "$(head -c4 "$1")" = RIFF ] && [ "$(dd if="$1" bs=1 skip=8 count=4 2>/dev/null)" = WAVE ]; }

# the seed preset with the tiny model
"$A2I2A" run "$IN" -o "$T/a" --model "$MODEL" $SMALL 2>"$T/err"; rc=$?
ok "run exits 0 ($(cat "$T/err"))" '[ $rc -eq 0 ]'
for f in spectrogram.png art.png sheet.png; do ok "$f is a PNG" 'is_png "$T/a/$f"'; done
nwav=$(ls "$T/a"/*.wav 2>/dev/null | wc -l)
ok "one WAV per reading (all: $nwav)" '[ "$nwav" -ge 3 ]'
for w in "$T"/a/*.wav; do ok "$(basename "$w") is a WAV" 'is_wav "$w"'; done
for r in red chirp; do ok "notebook reading $r" '[ -f "$T/a/$r.wav" ]'; done
ok "run.json names the program" 'grep -q "\"program\":[[:space:]]*\"a2i2a\"" "$T/a/run.json"'
ok "run.json has the input's SHA-256" 'grep -q "$(sha256sum "$IN" | cut -c1-64)" "$T/a/run.json"'
# a diffusers folder is fingerprinted by its UNet weights (as a2i2a i2i does)
mhash=$(sha256sum "$MODEL/unet/diffusion_pytorch_model.safetensors" | cut -c1-64)
ok "run.json has the model's SHA-256" 'grep -q "$mhash" "$T/a/run.json"'
for f in "$T"/a/*.png "$T"/a/*.wav; do
  ok "run.json has the SHA-256 of $(basename "$f")" 'grep -q "$(sha256sum "$f" | cut -c1-64)" "$T/a/run.json"'
done
ok "no temporary folder left" '[ -z "$(ls -A "$T/a" | grep "^\.")" ]'

# replay: byte-identical outputs, from another folder
(cd "$T" && "$A2I2A" run --replay a/run.json -o b 2>"$T/err"); rc=$?
ok "replay exits 0 ($(cat "$T/err"))" '[ $rc -eq 0 ]'
for f in "$T"/a/*.png "$T"/a/*.wav; do ok "replay: $(basename "$f") identical" 'cmp -s "$f" "$T/b/$(basename "$f")"'; done

# an input given through a link: run.json keeps its name (the sheet's title), so the replay is identical
ln -s "$IN" "$T/link.wav"
"$A2I2A" run "$T/link.wav" -o "$T/l" --model "$MODEL" $SMALL --readings red 2>"$T/err" \
  && (cd "$T" && "$A2I2A" run --replay l/run.json -o l2 2>>"$T/err"); rc=$?
ok "replay of an input given through a link: the same sheet ($(cat "$T/err"))" '[ $rc -eq 0 ] && cmp -s "$T/l/sheet.png" "$T/l2/sheet.png"'

# --prediction overrides the model's (tiny-sd1: epsilon), is recorded, and is replayed
"$A2I2A" run "$IN" -o "$T/p" --model "$MODEL" $SMALL --readings red --prediction v 2>"$T/err"; rc=$?
ok "run --prediction v exits 0 ($(cat "$T/err"))" '[ $rc -eq 0 ]'
ok "run.json records the prediction" 'grep -q "\"prediction\":[[:space:]]*\"v\"" "$T/p/run.json"'
ok "v-prediction paints another picture" '! cmp -s "$T/p/art.png" "$T/a/art.png"'
(cd "$T" && "$A2I2A" run --replay p/run.json -o p2 2>"$T/err"); rc=$?
ok "replay with --prediction: identical art ($(cat "$T/err"))" '[ $rc -eq 0 ] && cmp -s "$T/p/art.png" "$T/p2/art.png"'
"$A2I2A" run "$IN" -o "$T/pbad" --model "$MODEL" $SMALL --prediction x 2>"$T/err"; rc=$?
ok "run --prediction x: usage error, one line" '[ $rc -eq 2 ] && grep -q "prediction" "$T/err" && [ ! -e "$T/pbad" ]'

# nothing is replaced without --force, and a refused run changes nothing
before=$(sha256sum "$T"/a/* | sha256sum)
"$A2I2A" run "$IN" -o "$T/a" --model "$MODEL" $SMALL 2>"$T/err"; rc=$?
ok "existing outputs: exit 1" '[ $rc -eq 1 ]'
ok "existing outputs: one line naming a file" '[ $(wc -l <"$T/err") -eq 1 ] && grep -q "already exists" "$T/err"'
ok "existing outputs untouched" '[ "$(sha256sum "$T"/a/* | sha256sum)" = "$before" ]'

# a different input is refused by --replay
printf 'not audio' >"$T/bad.wav"
"$A2I2A" run "$T/bad.wav" --replay "$T/a/run.json" -o "$T/c" 2>"$T/err"; rc=$?
ok "replay with another input refused" '[ $rc -ne 0 ] && grep -q "bad.wav" "$T/err" && [ $(wc -l <"$T/err") -eq 1 ]'

# bad input: one line naming it, non-zero exit, no partial output
"$A2I2A" run "$T/bad.wav" -o "$T/d" --model "$MODEL" $SMALL 2>"$T/err"; rc=$?
ok "bad input: exit 1" '[ $rc -eq 1 ]'
ok "bad input: one line naming the file" '[ $(wc -l <"$T/err") -eq 1 ] && grep -q "bad.wav" "$T/err"'
ok "bad input: nothing left" '[ -z "$(ls -A "$T/d" 2>/dev/null)" ]'

# a preset model that is not downloaded: say how to get it
HF_HOME="$T/nohub" "$A2I2A" run "$IN" -o "$T/e" 2>"$T/err"; rc=$?
ok "missing model: exit 1" '[ $rc -eq 1 ]'
ok "missing model: says how to get it" 'grep -q "a2i2a models pull stable-diffusion-v1-5/stable-diffusion-v1-5" "$T/err"'
ok "missing model: one short line naming our own command ($(wc -c <"$T/err") bytes)" \
  '[ $(wc -l <"$T/err") -eq 1 ] && [ $(wc -c <"$T/err") -lt 160 ] && ! grep -q "huggingface-cli" "$T/err"'
HF_HOME="$T/nohub" "$A2I2A" run "$IN" -o "$T/e" --preset riffusion 2>"$T/err"
ok "missing model of a preset: its own ($(cat "$T/err"))" 'grep -q "a2i2a models pull riffusion/riffusion-model-v1" "$T/err"'

# A2I2A_MODEL is the model when --model is not given, as for i2i
A2I2A_MODEL="$MODEL" HF_HOME="$T/nohub" "$A2I2A" run "$IN" -o "$T/env" $SMALL --readings red --no-sheet 2>"$T/err"; rc=$?
ok "A2I2A_MODEL honoured ($(tail -1 "$T/err"))" '[ $rc -eq 0 ] && grep -q "\"name\":[[:space:]]*\"[^\"]*tiny-sd1\"" "$T/env/run.json"'
ok "run --help names A2I2A_MODEL" '"$A2I2A" run --help | grep -A2 -- "--model M" | grep -q "A2I2A_MODEL"'
# the closing note names the model the run used and the preset's model to pull
"$A2I2A" run "$IN" -o "$T/riff" --model "$MODEL" --preset riffusion --steps 2 --readings red --no-sheet 2>"$T/err"; rc=$?
ok "--preset riffusion: the note follows its model ($(grep note "$T/err"))" \
  '[ $rc -eq 0 ] && grep -q "note: tiny-sd1 .*a2i2a models pull riffusion/riffusion-model-v1" "$T/err" && ! grep -q "stable-diffusion-v1-5" "$T/err"'

# --stereo with a mono style: refused in one line (the library's check, so run.json agrees)
"$A2I2A" run "$IN" -o "$T/st" --model "$MODEL" --stereo 2>"$T/err"; rc=$?
ok "--stereo with the seed style refused ($(cat "$T/err"))" \
  '[ $rc -eq 2 ] && [ $(wc -l <"$T/err") -eq 1 ] && grep -q -- "--stereo: the seed style is mono" "$T/err" && [ ! -e "$T/st" ]'
"$A2I2A" a2i "$IN" -o "$T/st.png" --stereo 2>"$T/err"; rc=$?
ok "a2i --stereo with the seed style refused ($(cat "$T/err"))" '[ $rc -eq 2 ] && [ ! -e "$T/st.png" ]'

# usage errors
"$A2I2A" run "$IN" --model "$MODEL" 2>/dev/null; ok "no -o: exit 2" '[ $? -eq 2 ]'
"$A2I2A" run "$IN" -o "$T/f" --strength 2 2>/dev/null; ok "strength 2: exit 2" '[ $? -eq 2 ]'
"$A2I2A" run "$IN" -o "$T/f" --preset nope 2>/dev/null; ok "unknown preset: exit 2" '[ $? -eq 2 ]'
"$A2I2A" run "$IN" -o "$T/f" --clip 1 --overlap 0.6 --model "$MODEL" 2>/dev/null; ok "overlap > clip/2: exit 2" '[ $? -eq 2 ]'

# several seeds and prompts: one sub-folder each, the model loaded once
"$A2I2A" run "$IN" -o "$T/g" --model "$MODEL" $SMALL --readings red --no-sheet --seeds 1,2 \
  --prompt-preset ink --prompt "wet slate" 2>"$T/err"; rc=$?
ok "seeds x prompts: exit 0 ($(tail -1 "$T/err"))" '[ $rc -eq 0 ]'
for d in p1_seed1 p1_seed2 p2_seed1 p2_seed2; do ok "sub-folder $d" 'is_png "$T/g/$d/art.png" && is_wav "$T/g/$d/red.wav"'; done
ok "seeds differ" '! cmp -s "$T/g/p1_seed1/art.png" "$T/g/p1_seed2/art.png"'
# the batch's index: a title and a row of 150 + 16 pixels per run
ok "index.png: one row per run" 'is_png "$T/g/index.png" && [ "$(png_size "$T/g/index.png")" = "848x$((16 + 24 + 4 * 166 + 16))" ]'
before=$(sha256sum "$T/g/p1_seed1/red.wav")
"$A2I2A" run "$IN" -o "$T/g" --model "$MODEL" $SMALL --readings red --no-sheet --seeds 1,2 --prompt-preset ink \
  --prompt "wet slate" 2>"$T/err"; rc=$?
ok "an existing index.png: refused before any run ($(cat "$T/err"))" \
  '[ $rc -eq 1 ] && grep -q "index.png: already exists" "$T/err" && ! grep -q "1/4" "$T/err" && [ "$(sha256sum "$T/g/p1_seed1/red.wav")" = "$before" ]'
# each run's sheet: two header lines, the first naming input, preset, seed, steps and model, the
# second the prompt: a change of seed shows in the first, a change of prompt in the second only
"$A2I2A" run "$IN" -o "$T/hs" --model "$MODEL" $SMALL --readings red --seeds 1,2 --prompt-preset ink --prompt "wet slate" \
  2>"$T/err"
ok "the sheet: two header lines ($(png_size "$T/hs/p1_seed1/sheet.png"))" '[ "$(png_size "$T/hs/p1_seed1/sheet.png")" = "848x$((16 + 48 + 340 + 160 + 16))" ]'
ok "the seed in the first header line, not the second" \
  'rows_differ "$T/hs/p1_seed1/sheet.png" "$T/hs/p1_seed2/sheet.png" 16 30 && ! rows_differ "$T/hs/p1_seed1/sheet.png" "$T/hs/p1_seed2/sheet.png" 40 54'
ok "the prompt in the second header line, not the first" \
  '! rows_differ "$T/hs/p1_seed1/sheet.png" "$T/hs/p2_seed1/sheet.png" 16 30 && rows_differ "$T/hs/p1_seed1/sheet.png" "$T/hs/p2_seed1/sheet.png" 40 54'

# a long input in clips, crossfade-stitched (the machinery of the riffusion preset, here on
# small seed-style images to stay quick): 6.22 s in 2.5 s clips overlapping by 0.25 s
"$A2I2A" run "$IN" -o "$T/h" --model "$MODEL" $SMALL --readings red,chirp --clip 2.5 --overlap 0.25 --progress plain \
  2>"$T/err"; rc=$?
# progress: the painting's steps with the whole run's ETA, and which clip
ok "clips: progress names the painting's steps k/n and an ETA" 'grep -Eq "^a2i2a: \[ *[0-9]+%\] painting [0-9]+/[0-9]+  ETA [0-9]+ s$" "$T/err"'
ok "clips: progress names clip k of n with an ETA" 'grep -Eq "clip 3 of 3 .* ETA [0-9]+ s$" "$T/err"'
ok "clips: progress reaches 100 %" 'grep -q "\[100%\]" "$T/err"'
ok "clips: exit 0 ($(tail -1 "$T/err"))" '[ $rc -eq 0 ] && is_wav "$T/h/red.wav" && is_wav "$T/h/chirp.wav" && is_png "$T/h/sheet.png"'
ok "clips: images side by side (3 x 96 wide)" '[ "$(od -An -tx1 -j16 -N8 "$T/h/art.png" | tr -d " \n")" = "0000012000000040" ]'
ok "clips: recorded in run.json" 'grep -q "\"seconds\":[[:space:]]*2.5" "$T/h/run.json"'
(cd "$T" && "$A2I2A" run --replay h/run.json -o h2 2>"$T/err"); rc=$?
ok "clips: replay identical ($(tail -1 "$T/err"))" '[ $rc -eq 0 ] && cmp -s "$T/h/red.wav" "$T/h2/red.wav"'

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
