# LoRA from the command line (shared/fixtures/sd-ext): `a2i2a verify` passes the LoRA cases; i2i
# reproduces the golden LoRA img2img run from its seed (uint8 within 1 level on at most 1 % of
# the values) with --lora FILE:SCALE, and the <lora:NAME:SCALE> tag gives the same bytes (from
# --lora-dir, $A2I2A_LORA_DIR and loras/ beside the model); the PNG's A1111 record (the tag,
# "Lora hashes" as A1111 computes it, checked here with Python); each refusal (one line, exit 1,
# no output); run.json's LoRA and --replay refusing a changed LoRA file; batch taking the tag and
# --lora as run does.
set -u
. tests/support/fixtures.sh
fixtures_need_full
FX="$FIXTURES/sd-ext"
SD="$FIXTURES/sd"
LORA="$FX/lora/tiny-sd1-lora.safetensors"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export XDG_CACHE_HOME="$T/cache"
unset A2I2A_MODEL A2I2A_LORA_DIR
. tests/support/ok.sh

# 1. verify: every LoRA case passes
"$A2I2A" verify "$FX" >"$T/verify" 2>&1
lora_lines=$(grep -c '^\(lora_\|img2img_[a-z0-9_]*_lora\)' "$T/verify")
lora_bad=$(grep '^\(lora_\|img2img_[a-z0-9_]*_lora\)' "$T/verify" | grep -vc ' pass$')
[ "$lora_lines" -ge 18 ] && [ "$lora_bad" = 0 ] && ok || { bad "verify: $lora_lines LoRA checks, $lora_bad not passing"; cat "$T/verify"; }

# 2. the golden run from its seed, with --lora and with the tag
c=img2img_sd1_pndm_lora
setting() { python3 -c "import json,sys; print(json.load(open('$FX/golden/$c.json'))['settings']['$1'])"; }
prompt=$(setting prompt) negative=$(setting negative_prompt)
paint() { # OUT PROMPT [options]
  out=$1 p=$2
  shift 2
  "$A2I2A" i2i "$FX/golden/${c}_init.png" -o "$T/$out.png" --prompt "$p" --negative "$negative" \
    --steps "$(setting num_inference_steps)" --strength "$(setting strength)" --guidance "$(setting guidance_scale)" \
    --seed "$(setting seed)" --sampler pndm --rng torch --quiet "$@" 2>"$T/err"
}
paint flag "$prompt" -m "$SD/tiny-sd1" --lora "$LORA:0.8" || bad "--lora: $(cat "$T/err")"
read -r w h max off total < <("$A2I2A_PNGDIFF" "$T/flag.png" "$FX/golden/${c}_output.png")
echo "$c: ${w}x$h, max difference $max level(s), $off of $total values differ"
[ "$max" -le 1 ] && [ $((off * 100)) -le "$total" ] && ok || bad "$c differs from the reference output"
paint tag "$prompt <lora:tiny-sd1-lora:0.8>" -m "$SD/tiny-sd1" --lora-dir "$FX/lora" || bad "tag: $(cat "$T/err")"
cmp -s "$T/flag.png" "$T/tag.png" && ok || bad "--lora and <lora:...> with --lora-dir give different bytes"
A2I2A_LORA_DIR="$FX/lora" paint env "<lora:tiny-sd1-lora:0.8> $prompt" -m "$SD/tiny-sd1" || bad "tag: $(cat "$T/err")"
cmp -s "$T/flag.png" "$T/env.png" && ok || bad "the tag through \$A2I2A_LORA_DIR gives other bytes"
mkdir -p "$T/models/loras" && ln -s "$SD/tiny-sd1" "$T/models/tiny-sd1" && ln -s "$LORA" "$T/models/loras/"
paint beside "$prompt <lora:tiny-sd1-lora:0.8>" -m "$T/models/tiny-sd1" || bad "loras/ beside the model: $(cat "$T/err")"
cmp -s "$T/flag.png" "$T/beside.png" && ok || bad "the tag from loras/ beside the model gives other bytes"
# without the LoRA the picture is another one
paint plain "$prompt" -m "$SD/tiny-sd1" || bad "no LoRA: $(cat "$T/err")"
read -r w h max off total < <("$A2I2A_PNGDIFF" "$T/plain.png" "$FX/golden/${c}_output.png")
[ $((off * 100)) -gt "$total" ] && ok || bad "the run without the LoRA matches the LoRA run"
! grep -aq "lora" "$T/plain.png" && ok || bad "a painting without LoRA mentions one"

# 3. the record: the tag in the prompt, A1111's hash (SHA-256 of the bytes after the header)
short=$(python3 -c "
import hashlib, struct, sys
b = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
print(hashlib.sha256(b[8 + n:]).hexdigest()[:12])" "$LORA")
full=$(sha256sum "$LORA" | cut -c1-64)
grep -aq "$prompt <lora:tiny-sd1-lora:0.8>" "$T/flag.png" && ok || bad "the tag is not in the PNG's prompt"
grep -aq "Lora hashes: \"tiny-sd1-lora: $short\"" "$T/flag.png" && ok || bad "no 'Lora hashes: \"tiny-sd1-lora: $short\"'"
grep -aq "\"loras\":\[{\"name\":\"tiny-sd1-lora\",\"sha256\":\"$full\",\"scale\":0.8}\]" "$T/flag.png" && ok || bad "JSON chunk's loras"

# 4. refusals: one line, exit 1, nothing written
refuse() { # WHAT EXPECTED-TEXT [options]
  what=$1 want=$2
  shift 2
  "$A2I2A" i2i "$FX/golden/${c}_init.png" -o "$T/refused.png" -m "$SD/tiny-sd1" --steps 2 --seed 1 --quiet "$@" 2>"$T/err"
  rc=$?
  [ $rc = 1 ] && [ "$(wc -l <"$T/err")" = 1 ] && grep -qF -- "$want" "$T/err" && [ ! -e "$T/refused.png" ] && ok ||
    bad "$what: exit $rc, $(cat "$T/err")"
}
refuse "not a LoRA" "lora_sd1.safetensors: not a LoRA" --lora "$FX/golden/lora_sd1.safetensors"
printf 'not a safetensors file' >"$T/junk.safetensors"
refuse "not safetensors" "junk.safetensors" --lora "$T/junk.safetensors"
refuse "missing file" "nothing.safetensors: cannot open" --lora "$T/nothing.safetensors"
refuse "no such tag" "no missing.safetensors in $FX/lora" --prompt "x <lora:missing:1>" --lora-dir "$FX/lora"
refuse "another family" "a LoRA for another model family" -m "$SD/tiny-sd2" --lora "$LORA"
grep -q "layer lora_[a-z0-9_]* is [0-9x]* (out x in), the model's [a-z0-9_.]*weight is [0-9x]*" "$T/err" && ok ||
  bad "another family: the layer and both shapes: $(cat "$T/err")"
python3 - "$LORA" "$T/renamed.safetensors" "$T/partial.safetensors" <<'EOF'
# the fixture's layers renamed (all, or the first three) to names no model has
import json, struct, sys
b = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
head = json.loads(b[8:8 + n])
bases = sorted({k.rsplit('.lora_', 1)[0].rsplit('.alpha', 1)[0] for k in head if k != '__metadata__'})
for out, count in ((sys.argv[2], len(bases)), (sys.argv[3], 3)):
    rename = {base: 'lora_unet_nowhere_%d' % i for i, base in enumerate(bases[:count])}
    new = {}
    for k, v in head.items():
        if k == '__metadata__':
            new[k] = v
            continue
        base = k.rsplit('.lora_', 1)[0] if '.lora_' in k else k.rsplit('.alpha', 1)[0]
        new[k.replace(base, rename.get(base, base), 1)] = v
    h = json.dumps(new).encode()
    h += b' ' * (-len(h) % 8)
    open(out, 'wb').write(struct.pack('<Q', len(h)) + h + b[8 + n:])
EOF
refuse "no layer matches" "renamed.safetensors: none of the LoRA's 295 layers matches" --lora "$T/renamed.safetensors"
"$A2I2A" i2i "$FX/golden/${c}_init.png" -o "$T/partial.png" -m "$SD/tiny-sd1" --steps 2 --seed 1 \
  --lora "$T/partial.safetensors" 2>"$T/err" >/dev/null
[ $? = 0 ] && [ -s "$T/partial.png" ] && [ "$(grep -c "warning" "$T/err")" = 1 ] &&
  grep -q "partial.safetensors: 3 of 295 LoRA layers match no layer of the model and are ignored: lora_unet_nowhere_0" "$T/err" &&
  ok || bad "partial match: $(cat "$T/err")"

# 5. run: run.json lists the LoRA; --replay reproduces it, and refuses once the file changed
cp "$LORA" "$T/style.safetensors"
"$A2I2A" run examples/sampling.wav -o "$T/run" -m "$SD/tiny-sd1" --steps 2 \
  --prompt "a cat <lora:style:0.5>" --lora-dir "$T" --quiet 2>"$T/err" || bad "run with a tag: $(cat "$T/err")"
python3 - "$T/run/run.json" "$T/style.safetensors" "$full" <<'EOF' && ok || bad "run.json's loras"
import json, os, sys
r = json.load(open(sys.argv[1]))
l = r['i2i']['loras']
assert l == [{'path': os.path.realpath(sys.argv[2]), 'sha256': sys.argv[3], 'scale': 0.5}], l
assert r['i2i']['prompt'] == 'a cat', r['i2i']['prompt']
EOF
"$A2I2A" run --replay "$T/run/run.json" -o "$T/again" --quiet 2>"$T/err" && ok || bad "replay: $(cat "$T/err")"
printf '\0' >>"$T/style.safetensors"
"$A2I2A" run --replay "$T/run/run.json" -o "$T/changed" --quiet 2>"$T/err"
rc=$?
[ $rc = 1 ] && [ "$(wc -l <"$T/err")" = 1 ] && grep -q "style.safetensors: not the LoRA .*run.json records (SHA-256" "$T/err" &&
  [ ! -e "$T/changed" ] && ok || bad "replay with a changed LoRA: exit $rc, $(cat "$T/err")"
"$A2I2A" run --replay "$T/run/run.json" -o "$T/x" --lora "$LORA" 2>"$T/err"
[ $? = 2 ] && grep -q -- "--lora cannot be used with --replay" "$T/err" && ok || bad "--lora with --replay: $(cat "$T/err")"

# 6. batch: a row's tag and --lora as run takes them, the same bytes; the LoRAs in the item's
# record and id; a tag naming no file refused before anything is written
mkdir "$T/bl" && cp "$LORA" "$T/bl/mine.safetensors" && cp examples/sampling.wav "$T/bl/s.wav"
printf 'path,prompt\ns.wav,a cat <lora:mine:0.5>\n' >"$T/bl/tag.csv"
echo s.wav >"$T/bl/list"
B="-m $SD/tiny-sd1 --steps 2 --spec-width 96 --spec-height 64 --readings red --quiet"
"$A2I2A" batch "$T/bl/tag.csv" -o "$T/bt" $B --lora-dir "$T/bl" 2>"$T/err" && ok || bad "batch with a tag: $(cat "$T/err")"
"$A2I2A" batch "$T/bl/list" -o "$T/bf" $B --prompt "a cat" --lora "$T/bl/mine.safetensors:0.5" 2>"$T/err" && ok ||
  bad "batch --lora: $(cat "$T/err")"
"$A2I2A" batch "$T/bl/list" -o "$T/bn" $B --prompt "a cat" 2>"$T/err" && ok || bad "batch without LoRA: $(cat "$T/err")"
"$A2I2A" run "$T/bl/s.wav" -o "$T/rl" $B --prompt "a cat" --lora "$T/bl/mine.safetensors:0.5" 2>"$T/err" && ok ||
  bad "run --lora: $(cat "$T/err")"
tag_art=$(find "$T/bt" -name art.png) flag_art=$(find "$T/bf" -name art.png) none_art=$(find "$T/bn" -name art.png)
cmp -s "$tag_art" "$flag_art" && cmp -s "$tag_art" "$T/rl/art.png" && ok ||
  bad "batch: the tag, --lora and run --lora give different paintings ($tag_art $flag_art)"
! cmp -s "$flag_art" "$none_art" && [ "$(basename "$(dirname "$flag_art")")" != "$(basename "$(dirname "$none_art")")" ] &&
  ok || bad "batch: --lora changed neither the painting nor the item's id"
python3 - "$(dirname "$tag_art")/run.json" "$T/bl/mine.safetensors" <<'EOF' && ok || bad "batch item's run.json: loras"
import json, os, sys
r = json.load(open(sys.argv[1]))
assert r['i2i']['prompt'] == 'a cat', r['i2i']['prompt']
assert [(l['path'], l['scale']) for l in r['i2i']['loras']] == [(os.path.realpath(sys.argv[2]), 0.5)], r['i2i']['loras']
EOF
printf 'path,prompt\ns.wav,a cat <lora:nobody:0.5>\n' >"$T/bl/missing.csv"
"$A2I2A" batch "$T/bl/missing.csv" -o "$T/bm" $B --lora-dir "$T/bl" 2>"$T/err"
rc=$?
[ $rc -ne 0 ] && [ "$(wc -l <"$T/err")" = 1 ] && grep -q "<lora:nobody:0.5>: no nobody.safetensors in $T/bl" "$T/err" &&
  [ ! -e "$T/bm" ] && ok || bad "batch with a tag naming no file: exit $rc, $(cat "$T/err")"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
