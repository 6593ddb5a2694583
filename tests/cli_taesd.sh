# --taesd, --preview and the draft preset on the tiny fixtures (sd-ext's tiny-taesd on sd's
# tiny-sd1): the golden TAESD img2img run reproduced from its seed (within one level on at most
# 1 % of the values), the record (PNG and run.json with the TAESD's SHA-256, replay, a replay
# refused when the TAESD changed), each step's preview, and every refusal (one line, non-zero
# exit, nothing written).
set -u
. tests/support/fixtures.sh
fixtures_need_full
FX="$FIXTURES/sd"
EXT="$FIXTURES/sd-ext"
TAESD="$EXT/tiny-taesd"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export XDG_CACHE_HOME="$T/cache" HF_HOME="$T/hf"
unset A2I2A_MODEL HF_HUB_CACHE
pass=0 failn=0
ok() { pass=$((pass + 1)); }
bad() { failn=$((failn + 1)); echo "FAIL: $*"; }
check() { if eval "$1"; then ok; else bad "$2"; fi; }
png_size() { od -An -tu1 -j16 -N8 "$1" | awk '{print $1*16777216+$2*65536+$3*256+$4 "x" $5*16777216+$6*65536+$7*256+$8}'; }
setting() { grep -o "\"$1\": *\(\"[^\"]*\"\|[0-9.]*\)" "$EXT/golden/img2img_sd1_pndm_taesd.json" | head -1 | sed 's/^"[^"]*": *//; s/^"//; s/"$//'; }
one_line() { [ "$(wc -l <"$1")" -eq 1 ]; }

# 1. the golden run, from its seed and settings (PNDM, as the case's scheduler_class says)
c=img2img_sd1_pndm_taesd
check '[ "$(setting scheduler_class)" = PNDMScheduler ]' "the case's scheduler is $(setting scheduler_class)"
golden() { # OUT [options]
  local out=$1; shift
  "$A2I2A" i2i "$EXT/golden/${c}_init.png" -o "$out" --model "$FX/tiny-sd1" --rng torch --sampler pndm \
    --prompt "$(setting prompt)" --negative "$(setting negative_prompt)" --steps "$(setting num_inference_steps)" \
    --strength "$(setting strength)" --guidance "$(setting guidance_scale)" --seed "$(setting seed)" --quiet "$@"
}
golden "$T/a.png" --taesd "$TAESD" --preview "$T/pv.png" 2>"$T/err"; rc=$?
check '[ $rc -eq 0 ]' "golden run: exit $rc: $(cat "$T/err")"
read -r w h max off total < <("$A2I2A_PNGDIFF" "$T/a.png" "$EXT/golden/${c}_output.png")
echo "$c: ${w}x$h, max difference $max level(s), $off of $total values differ"
check '[ "$max" -le 1 ] && [ $((off * 100)) -le "$total" ]' "$c differs from the reference output"
# the record: A1111's VAE fields and our JSON, with the weights' SHA-256
tsha=$(sha256sum "$TAESD/diffusion_pytorch_model.safetensors" | cut -c1-64)
check 'grep -aq "VAE hash: ${tsha:0:10}, VAE: tiny-taesd" "$T/a.png"' "A1111 VAE fields"
check 'grep -aq "\"taesd\":\"tiny-taesd\",\"taesd_sha256\":\"$tsha\"" "$T/a.png"' "taesd and its SHA-256 in the JSON chunk"
# the preview: the last step's TAESD decode, at the painting's size
check '[ "$(png_size "$T/pv.png")" = 96x72 ]' "TAESD preview size $(png_size "$T/pv.png")"
# the single .safetensors paints the same pixels
golden "$T/b.png" --taesd "$TAESD/diffusion_pytorch_model.safetensors" 2>"$T/err"; rc=$?
read -r w h max off total < <("$A2I2A_PNGDIFF" "$T/a.png" "$T/b.png")
check '[ $rc -eq 0 ] && [ "$max" -eq 0 ]' "the .safetensors alone: exit $rc, $off values differ from the folder's"
# without --taesd: the VAE's painting, and the preview is the projection (1/8 size)
golden "$T/v.png" --steps 4 --preview "$T/pv2.png" 2>"$T/err"; rc=$?
check '[ $rc -eq 0 ] && [ "$(png_size "$T/pv2.png")" = 12x9 ]' "projection preview: exit $rc, $(png_size "$T/pv2.png")"
check '! grep -aq "taesd\|VAE hash" "$T/v.png"' "a run without TAESD records one"

# 2. refusals: one line, non-zero exit, nothing written
refuse() { # WHAT PATTERN [i2i options]
  local what=$1 pat=$2; shift 2
  rm -f "$T/x.png"
  "$A2I2A" i2i "$EXT/golden/${c}_init.png" -o "$T/x.png" -m "$FX/tiny-sd1" --steps 2 --seed 1 -q "$@" 2>"$T/err"; rc=$?
  check '[ $rc -ne 0 ] && [ ! -e "$T/x.png" ] && one_line "$T/err" && grep -q -- "$pat" "$T/err"' \
    "$what: exit $rc, $(cat "$T/err")"
}
refuse "a folder that is not a TAESD" "tiny-sd1: not a TAESD folder" --taesd "$FX/tiny-sd1"
refuse "a file that is not a TAESD" "not a TAESD" --taesd "$FX/tiny-sd1/vae/diffusion_pytorch_model.safetensors"
refuse "a missing TAESD" "no such TAESD" --taesd "$T/nothing"
refuse "a TAESD not in the cache" "a2i2a models pull madebyollin/taesd" --taesd madebyollin/taesd
mkdir "$T/narrow" && ln -s "$TAESD/diffusion_pytorch_model.safetensors" "$T/narrow/"
sed 's/32/16/g' "$TAESD/config.json" >"$T/narrow/config.json"
refuse "a TAESD of another shape" "encoder.layers.0.weight has shape \[32, 3, 3, 3\], TAESD's config says \[16, 3, 3, 3\]" \
  --taesd "$T/narrow"
echo old >"$T/old.png"
refuse "--preview over a file" "old.png" --taesd "$TAESD" --preview "$T/old.png"
check '[ "$(cat "$T/old.png")" = old ]' "--preview replaced a file without --force"
refuse "--preview not a PNG" "pv.jpg" --preview "$T/pv.jpg"

# 3. run: recorded, replayed, refused when the TAESD changed or is not one
IN="$FIXTURES/seed/audio/a06_espeak_22k05_mono_s16.wav"
SMALL="--spec-width 96 --spec-height 64 --steps 4 --readings red -q"
cp -r "$TAESD" "$T/mine" && chmod -R u+w "$T/mine"
"$A2I2A" run "$IN" -o "$T/r" -m "$FX/tiny-sd1" $SMALL --taesd "$T/mine" --preview "$T/rpv.png" 2>"$T/err"; rc=$?
check '[ $rc -eq 0 ] && [ -s "$T/r/art.png" ] && [ -s "$T/rpv.png" ]' "run --taesd: exit $rc: $(cat "$T/err")"
check 'grep -q "\"taesd\":	\"$T/mine\"" "$T/r/run.json" && grep -q "\"taesd_sha256\":	\"$tsha\"" "$T/r/run.json"' \
  "run.json records the TAESD and its SHA-256"
(cd "$T" && "$A2I2A" run --replay r/run.json -o r2 -q 2>"$T/err"); rc=$?
check '[ $rc -eq 0 ] && cmp -s "$T/r/art.png" "$T/r2/art.png"' "replay with the TAESD: exit $rc: $(cat "$T/err")"
printf 'x' >>"$T/mine/diffusion_pytorch_model.safetensors"
(cd "$T" && "$A2I2A" run --replay r/run.json -o r3 -q 2>"$T/err"); rc=$?
check '[ $rc -ne 0 ] && [ ! -e "$T/r3" ] && one_line "$T/err" && grep -q "not the TAESD r/run.json records" "$T/err"' \
  "replay with a changed TAESD: exit $rc: $(cat "$T/err")"
"$A2I2A" run "$IN" -o "$T/r4" -m "$FX/tiny-sd1" $SMALL --taesd "$FX/tiny-sd1" 2>"$T/err"; rc=$?
check '[ $rc -ne 0 ] && [ ! -e "$T/r4" ] && one_line "$T/err" && grep -q "not a TAESD" "$T/err"' \
  "run with a folder that is not a TAESD: exit $rc: $(cat "$T/err")"

# 4. the draft preset: listed with its TAESD; without it in the cache, the pull command, before any work
check '"$A2I2A" presets -q | grep -qx draft' "presets does not list draft"
check '"$A2I2A" presets draft | grep -q -- "--taesd  *\"madebyollin/taesd\""' "presets draft does not show its TAESD"
"$A2I2A" run "$IN" -o "$T/d" -m "$FX/tiny-sd1" --preset draft 2>"$T/err"; rc=$?
check '[ $rc -ne 0 ] && [ ! -e "$T/d" ] && one_line "$T/err" && grep -q "a2i2a models pull madebyollin/taesd" "$T/err"' \
  "draft without TAESD: exit $rc: $(cat "$T/err")"
# with one given, the draft runs: its steps and sampler, TAESD's painting
"$A2I2A" run "$IN" -o "$T/d2" -m "$FX/tiny-sd1" --preset draft --taesd "$TAESD" --readings red --spec-width 96 \
  --spec-height 64 -q 2>"$T/err"; rc=$?
check '[ $rc -eq 0 ] && grep -q "\"sampler\":	\"dpm++2m\"" "$T/d2/run.json" && grep -q "\"steps\":	8" "$T/d2/run.json"' \
  "draft with --taesd: exit $rc: $(cat "$T/err")"

echo "$pass passed, $failn failed"
[ $failn -eq 0 ]
