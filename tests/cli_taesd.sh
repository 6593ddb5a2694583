# --taesd, --preview and the draft preset on the tiny fixtures (sd-ext's tiny-taesd on sd's
# tiny-sd1): the golden TAESD img2img run reproduced from its seed (within one level on at most
# 1 % of the values), the record (PNG and run.json with the TAESD's SHA-256, replay, a replay
# refused when the TAESD changed), each step's preview (by default madebyollin/taesd from a fake
# Hugging Face cache, previews only), and every refusal (one line, non-zero exit, nothing
# written).
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
. tests/support/ok.sh
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

# 5. the default preview: madebyollin/taesd from the Hugging Face cache (a fake one holding the
# tiny TAESD), for previews only: the same picture as naming that TAESD, not the projection, and
# the painting the same bytes as without it; --preview-taesd none turns it off
HUB="$T/hub/models--madebyollin--taesd"
mkdir -p "$HUB/refs" "$HUB/snapshots/0123abcd"
echo 0123abcd >"$HUB/refs/main"
cp "$TAESD"/* "$HUB/snapshots/0123abcd/"
pv() { # NAME HUB_CACHE [options]: art NAME.png, preview pv-NAME.png
  local name=$1 hub=$2; shift 2
  HF_HUB_CACHE="$hub" golden "$T/$name.png" --steps 4 --preview "$T/pv-$name.png" "$@" 2>"$T/err-$name"
}
pv cached "$T/hub"; rc1=$?
pv named "$T/nohub" --preview-taesd "$TAESD"; rc2=$?
pv linear "$T/nohub"; rc3=$?
pv off "$T/hub" --preview-taesd none; rc4=$?
check '[ $rc1$rc2$rc3$rc4 = 0000 ]' "preview runs: exit $rc1 $rc2 $rc3 $rc4: $(cat "$T"/err-*)"
check 'cmp -s "$T/pv-cached.png" "$T/pv-named.png" && [ "$(png_size "$T/pv-cached.png")" = 96x72 ]' \
  "the cached TAESD's preview is not the named TAESD's ($(png_size "$T/pv-cached.png"))"
check '[ "$(png_size "$T/pv-linear.png")" = 12x9 ] && cmp -s "$T/pv-linear.png" "$T/pv-off.png"' \
  "without a cached TAESD, or with --preview-taesd none, the preview is not the projection"
check 'cmp -s "$T/cached.png" "$T/linear.png" && cmp -s "$T/cached.png" "$T/named.png" && cmp -s "$T/cached.png" "$T/off.png"' \
  "the preview's TAESD changed the painting"
# a run: the outputs are the same bytes with and without the cached TAESD
for hub in hub nohub; do
  HF_HUB_CACHE="$T/$hub" "$A2I2A" run "$IN" -o "$T/run-$hub" -m "$FX/tiny-sd1" $SMALL --preview "$T/rpv-$hub.png" 2>"$T/err"
  check '[ $? -eq 0 ]' "run with HF_HUB_CACHE=$hub: $(cat "$T/err")"
done
for f in spectrogram.png art.png red.wav sheet.png; do
  check 'cmp -s "$T/run-hub/$f" "$T/run-nohub/$f"' "run: $f differs with the cached TAESD"
done
check '[ "$(png_size "$T/rpv-hub.png")" != "$(png_size "$T/rpv-nohub.png")" ]' "run: the preview did not use the cached TAESD"
# the original pair (the fixture's tensors renamed as madebyollin names them: encoder.layers.N
# is N, decoder.layers.N is N+1) previews and paints as the diffusers file does
mkdir "$T/md"
python3 - "$TAESD/diffusion_pytorch_model.safetensors" "$T/md" <<'EOF'
import json, re, struct, sys
b = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
head = json.loads(b[8:8 + n])
for side, shift in (('encoder', 0), ('decoder', 1)):
    h = {re.sub(r'^\w+\.layers\.(\d+)', lambda m: str(int(m.group(1)) + shift), k): v
         for k, v in head.items() if k.startswith(side + '.')}
    text = json.dumps(h).encode()
    text += b' ' * (-len(text) % 8)
    open('%s/taesd_%s.safetensors' % (sys.argv[2], side), 'wb').write(struct.pack('<Q', len(text)) + text + b[8 + n:])
EOF
pv pair "$T/nohub" --preview-taesd "$T/md/taesd_decoder.safetensors"; rc=$?
check '[ $rc -eq 0 ] && cmp -s "$T/pv-pair.png" "$T/pv-named.png"' "the original pair's preview: exit $rc, $(cat "$T/err-pair")"
golden "$T/pair-vae.png" --taesd "$T/md" 2>"$T/err"; rc=$?
read -r w h max off total < <("$A2I2A_PNGDIFF" "$T/pair-vae.png" "$T/b.png")
check '[ $rc -eq 0 ] && [ "$max" -eq 0 ]' "--taesd with the original pair: exit $rc, $off values differ: $(cat "$T/err")"
psha=$(cat "$T/md/taesd_encoder.safetensors" "$T/md/taesd_decoder.safetensors" | sha256sum | cut -c1-64)
check 'grep -aq "\"taesd_sha256\":\"$psha\"" "$T/pair-vae.png"' "the pair's SHA-256: the two files one after the other"
# models list shows the cached TAESD, and in --model-dir TAESDs (the pair once) and vocoders as
# well as pipelines
ln -s "$TAESD" "$T/md/tt" && ln -s "$FX/tiny-sd1" "$T/md/" && ln -s "$FIXTURES/vocoder/tiny-vocos" "$T/md/"
cp "$TAESD/diffusion_pytorch_model.safetensors" "$T/md/t.safetensors"
out=$(HF_HUB_CACHE="$T/hub" "$A2I2A" models list --model-dir "$T/md" 2>&1)
check 'echo "$out" | grep -qx "madebyollin/taesd	taesd	.*	$HUB/snapshots/0123abcd" &&
  echo "$out" | grep -q "^tt	taesd	" && echo "$out" | grep -q "^t.safetensors	taesd	" &&
  echo "$out" | grep -q "^taesd_encoder.safetensors	taesd	" && ! echo "$out" | grep -q "^taesd_decoder" &&
  echo "$out" | grep -q "^tiny-vocos	vocoder	" && echo "$out" | grep -q "^tiny-sd1	diffusers	"' "models list: $out"
# a cached copy that does not open: one warning, the projection, the painting unchanged
printf 'broken' >"$HUB/snapshots/0123abcd/diffusion_pytorch_model.safetensors"
pv broken "$T/hub"; rc=$?
check '[ $rc -eq 0 ] && grep -q "warning: previews: .*latent projection instead" "$T/err-broken" &&
  [ "$(png_size "$T/pv-broken.png")" = 12x9 ] && cmp -s "$T/broken.png" "$T/linear.png"' \
  "a broken cached TAESD: exit $rc, $(cat "$T/err-broken")"
# refusals: --preview-taesd without --preview, or naming what is no TAESD
refuse "--preview-taesd without --preview" "needs --preview" --preview-taesd none
refuse "--preview-taesd not a TAESD" "not a TAESD folder" --preview "$T/pvx.png" --preview-taesd "$FX/tiny-sd1"
check '[ ! -e "$T/pvx.png" ]' "a refused --preview-taesd left a preview"
"$A2I2A" run "$IN" -o "$T/rx" -m "$FX/tiny-sd1" $SMALL --preview "$T/rxp.png" --preview-taesd "$T/nothing" 2>"$T/err"; rc=$?
check '[ $rc -ne 0 ] && [ ! -e "$T/rx" ] && [ ! -e "$T/rxp.png" ] && one_line "$T/err" && grep -q "^a2i2a: $T/nothing: no such TAESD" "$T/err"' \
  "run with a missing --preview-taesd: exit $rc, $(cat "$T/err")"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
