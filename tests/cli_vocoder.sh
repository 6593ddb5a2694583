# The vocoders and their reading through the command line: `verify` on the vocoder fixtures (every
# tensor of both goldens from each weights file; a changed weight fails its form), `i2a -r vocoder
# --vocoder DIR` on our images, 'all' with and without a vocoder, `models pull` of a vocoder and
# --vocoder ORG/NAME, `run --readings vocoder` recorded in run.json and replayed (and a run.json from
# before the option replays), and each failure one line naming the file and the problem, nothing
# written: no --vocoder, a folder of neither kind, an incomplete config, an image without a style,
# a wrong vocoder given to run (found before the work). The vocoder is the fixtures' tiny Vocos, or
# without them a random one (tests/support/random_vocos.py).
set -u
. tests/support/ok.sh
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export XDG_CACHE_HOME="$T/cache"
. tests/support/fixtures.sh
IN="$FIXTURES/seed/audio/a06_espeak_22k05_mono_s16.wav"
PLAIN="$FIXTURES/seed/images/i03_synthetic_400x296.png" # no metadata

if [ -d "$FIXTURES/vocoder/tiny-vocos" ]; then
  VOC="$FIXTURES/vocoder/tiny-vocos"
else
  VOC="$T/vocos"; mkdir "$VOC"
  python3 tests/support/random_vocos.py "$VOC"
fi

# verify: each golden tensor once per weights file (pickled and safetensors), the mel once, all pass
if fixture_case vocoder/golden/vocos.json; then
  "$A2I2A" verify "$FIXTURES/vocoder" >"$T/verify" 2>&1; rc=$?
  ok "verify vocoder: exit 0, nothing failed or skipped ($(tail -1 "$T/verify"))" \
    '[ $rc -eq 0 ] && tail -1 "$T/verify" | grep -Eq "^23 passed, 0 failed, 0 skipped$"'
  for w in "vocos[model.safetensors]" "vocos[pytorch_model.bin]"; do
    for t in backbone_out head_linear_out audio_out audio_out_f64; do
      ok "verify: $w.$t passes" 'grep -F "$w.$t " "$T/verify" | grep -q " pass$"'
    done
  done
  for w in "hifigan[generator.pt]" "hifigan[generator.safetensors]"; do
    for t in after_upsample_0 after_upsample_1 after_upsample_2 after_upsample_3 audio_out audio_out_f64; do
      ok "verify: $w.$t passes" 'grep -F "$w.$t " "$T/verify" | grep -q " pass$"'
    done
  done
  for t in vocos.mel vocos.mel_f64 hifigan.mel; do
    ok "verify: $t passes" 'grep -E "^${t//./\\.} " "$T/verify" | grep -q " pass$"'
  done
  # the same files with one weight of the safetensors Vocos changed: that form fails, the pickle passes
  cp -r "$FIXTURES/vocoder" "$T/vf"; chmod -R u+w "$T/vf"
  python3 - "$T/vf/tiny-vocos/model.safetensors" <<'PY'
import json, struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
n = struct.unpack("<Q", b[:8])[0]
t = json.loads(b[8:8 + n])["backbone.embed.weight"]
at = 8 + n + t["data_offsets"][0]
b[at:at + 4] = struct.pack("<f", struct.unpack("<f", b[at:at + 4])[0] + 0.5)
open(sys.argv[1], "wb").write(b)
PY
  "$A2I2A" verify "$T/vf" >"$T/verify" 2>&1; rc=$?
  ok "verify with a changed weight: exit 1, that form's audio fails ($(tail -1 "$T/verify"))" \
    '[ $rc -eq 1 ] && grep -F "vocos[model.safetensors].audio_out " "$T/verify" | grep -q " FAIL$" &&
     grep -F "vocos[pytorch_model.bin].audio_out " "$T/verify" | grep -q " pass$"'
fi

# a short fullband image of a real recording: 0.6 s, 60 columns
"$A2I2A" a2i "$IN" -o "$T/full.png" --style fullband --width 60 2>"$T/err" --max-seconds 100 \
  || echo "a2i failed: $(cat "$T/err")"
ok "i2a -r vocoder ($(cat "$T/err"))" '"$A2I2A" i2a "$T/full.png" -r vocoder --vocoder "$VOC" -o "$T/v.wav" 2>"$T/err" && [ -s "$T/v.wav" ]'
"$A2I2A" i2a "$T/full.png" -r inverse --gl-iters 1 -o "$T/inv.wav" 2>/dev/null
ok "as long as inverse" '[ "$(stat -c %s "$T/v.wav")" = "$(stat -c %s "$T/inv.wav")" ]'

# 'all': without a vocoder the vocoder reading is left out, with one it is there
"$A2I2A" i2a "$T/full.png" -r all -o "$T/all" 2>"$T/err"; rc=$?
ok "all without --vocoder: exit 0 ($(cat "$T/err"))" '[ $rc -eq 0 ] && [ -f "$T/all/inverse.wav" ] && [ ! -e "$T/all/vocoder.wav" ]'
"$A2I2A" i2a "$T/full.png" -r all --vocoder "$VOC" -o "$T/allv" --gl-iters 1 2>"$T/err"; rc=$?
ok "all with --vocoder: vocoder.wav too ($(cat "$T/err"))" '[ $rc -eq 0 ] && [ -f "$T/allv/vocoder.wav" ] && [ -f "$T/allv/bend.wav" ]'

# failures: one line naming the problem, exit status, nothing written
fails() { # WHAT WANT_RC PATTERN ARGS...
  what=$1 want=$2 pattern=$3; shift 3
  "$A2I2A" i2a "$@" -o "$T/x.wav" 2>"$T/err"; rc=$?
  ok "$what: exit $want, one line with '$pattern' ($(cat "$T/err"))" \
    '[ $rc -eq $want ] && [ $(wc -l <"$T/err") -eq 1 ] && grep -q -- "$pattern" "$T/err" && [ ! -e "$T/x.wav" ]'
}
fails "no --vocoder" 2 "needs a vocoder" "$T/full.png" -r vocoder
mkdir "$T/empty"
fails "a folder of neither kind" 1 "$T/empty: not a vocoder" "$T/full.png" -r vocoder --vocoder "$T/empty"
mkdir "$T/half"; grep -v intermediate_dim "$VOC/config.yaml" >"$T/half/config.yaml"
ln -s "$VOC/model.safetensors" "$T/half/model.safetensors"
fails "an incomplete config" 1 "config.yaml: 'backbone.init_args.intermediate_dim' missing" "$T/full.png" -r vocoder --vocoder "$T/half"
fails "an image without a style" 1 "i03_synthetic_400x296.png: no spectrogram style" "$PLAIN" -r vocoder --vocoder "$VOC"
fails "ORG/NAME not pulled" 1 "a2i2a models pull nobody/no-vocoder" "$T/full.png" -r vocoder --vocoder nobody/no-vocoder
# models pull of a vocoder repository (tests/hubserver.c serving the vocoder and a README), then
# --vocoder ORG/NAME: the same sound as the folder
mkdir "$T/repo"; cp -rs "$VOC/." "$T/repo/"; echo "# readme" >"$T/repo/README.md"
rm -f "$T/port"
"$A2I2A_HUBSERVER" "$T/repo" 0123456789abcdef0123456789abcdef01234567 "$T/port" "$T/hublog" &
SP=$!
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
snap=$(HF_HOME="$T/hf" HF_ENDPOINT="http://127.0.0.1:$(cat "$T/port")" "$A2I2A" models pull org/tiny-vocos -q 2>"$T/err"); rc=$?
kill $SP 2>/dev/null; wait $SP 2>/dev/null
ok "models pull of a vocoder: exit 0, its config and weights, not the README ($(cat "$T/err"))" \
  '[ $rc -eq 0 ] && [ -f "$snap/config.yaml" ] && [ -f "$snap/model.safetensors" ] && [ ! -e "$snap/README.md" ]'
HF_HOME="$T/hf" "$A2I2A" i2a "$T/full.png" -r vocoder --vocoder org/tiny-vocos -o "$T/pulled.wav" 2>"$T/err"
ok "--vocoder ORG/NAME from the cache: the folder's sound ($(cat "$T/err"))" 'cmp -s "$T/v.wav" "$T/pulled.wav"'

ok "i2a --help names --vocoder" '"$A2I2A" i2a --help | grep -q -- "--vocoder PATH"'
ok "run --help names --vocoder" '"$A2I2A" run --help | grep -q -- "--vocoder PATH"'

# run: recorded in run.json, replayed byte for byte; a run.json without the key replays
MODEL="$FIXTURES/sd/tiny-sd1"
SMALL="--spec-width 96 --spec-height 64 --steps 4 --style fullband"
"$A2I2A" run "$IN" -o "$T/r" --model "$MODEL" $SMALL --readings vocoder --vocoder "$VOC" 2>"$T/err"; rc=$?
ok "run --readings vocoder ($(cat "$T/err"))" '[ $rc -eq 0 ] && [ -s "$T/r/vocoder.wav" ]'
"$A2I2A" run "$IN" -o "$T/rx" --model "$MODEL" $SMALL --readings vocoder --vocoder "$T/empty" 2>"$T/err"; rc=$?
ok "run with a folder of neither kind: checked before the work, one line, nothing written ($(cat "$T/err"))" \
  '[ $rc -eq 1 ] && [ $(wc -l <"$T/err") -eq 1 ] && grep -q "reading vocoder: $T/empty: not a vocoder" "$T/err" && [ ! -e "$T/rx" ]'
recorded() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["i2a"].get("vocoder"))' "$1"; }
ok "run.json records the vocoder" '[ "$(recorded "$T/r/run.json")" = "$VOC" ]'
"$A2I2A" run --replay "$T/r/run.json" -o "$T/r2" 2>"$T/err"; rc=$?
ok "replay: identical vocoder.wav ($(cat "$T/err"))" '[ $rc -eq 0 ] && cmp -s "$T/r/vocoder.wav" "$T/r2/vocoder.wav"'
"$A2I2A" run "$IN" -o "$T/o" --model "$MODEL" $SMALL --readings red 2>"$T/err"
python3 - "$T/o/run.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
del r["i2a"]["vocoder"]
json.dump(r, open(sys.argv[1], "w"), indent=1)
PY
ok "a run.json as written before i2a.vocoder" '[ "$(recorded "$T/o/run.json")" = None ]'
"$A2I2A" run --replay "$T/o/run.json" -o "$T/o2" 2>"$T/err"; rc=$?
ok "a run.json without i2a.vocoder replays ($(cat "$T/err"))" '[ $rc -eq 0 ] && cmp -s "$T/o/red.wav" "$T/o2/red.wav"'

echo "$pass passed, $fail failed"
fixtures_done
[ $fail -eq 0 ]
