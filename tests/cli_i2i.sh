# a2i2a i2i on the tiny fixture models: the three reference img2img runs from their seed alone
# (uint8 within 1 level on at most 1 % of the values), the PNG's record, progress, every sampler,
# and every refusal (one line, non-zero exit, no output). (The tiny single-file checkpoint needs
# its folder's text-encoder config, so the folder/file equivalence is tested by `a2i2a verify`.)
set -u
. tests/support/fixtures.sh
FX="$FIXTURES/sd"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export XDG_CACHE_HOME="$T/cache"
unset A2I2A_MODEL
. tests/support/ok.sh

# png_size FILE -> "W H" (from the IHDR chunk)
png_size() { od -An -tu1 -j16 -N8 "$1" | awk '{print $1*16777216+$2*65536+$3*256+$4, $5*16777216+$6*65536+$7*256+$8}'; }
# setting CASE KEY -> the value of "KEY" in the case's JSON settings (a number or a string)
setting() {
  grep -o "\"$2\": *\(\"[^\"]*\"\|[0-9.]*\)" "$FX/golden/$1.json" | head -1 | sed 's/^"[^"]*": *//; s/^"//; s/"$//'
}
sampler_of() {
  case "$1" in
  PNDMScheduler) echo pndm ;; DDIMScheduler) echo ddim ;; EulerDiscreteScheduler) echo euler ;;
  EulerAncestralDiscreteScheduler) echo euler-a ;; LMSDiscreteScheduler) echo lms ;;
  DPMSolverMultistepScheduler) echo dpm++2m ;; LCMScheduler) echo lcm ;; *) echo unknown ;;
  esac
}

# 1. the reference runs, from the seed and the settings of each case
for c in img2img_sd1_pndm img2img_sd1_euler_ancestral img2img_sd2_ddim; do
  fixture_case "sd/golden/$c.json" || continue
  out="$T/$c.png"
  "$A2I2A" i2i "$FX/golden/${c}_init.png" -o "$out" --model "$FX/$(setting $c model)" \
    --prompt "$(setting $c prompt)" --negative "$(setting $c negative_prompt)" \
    --steps "$(setting $c num_inference_steps)" --strength "$(setting $c strength)" \
    --guidance "$(setting $c guidance_scale)" --seed "$(setting $c seed)" \
    --sampler "$(sampler_of "$(setting $c scheduler_class)")" --quiet 2>"$T/err" || { bad "$c: $(cat "$T/err")"; continue; }
  read -r w h max off total < <("$A2I2A_PNGDIFF" "$out" "$FX/golden/${c}_output.png")
  echo "$c: ${w}x$h, max difference $max level(s), $off of $total values differ"
  [ "$max" -le 1 ] && [ $((off * 100)) -le "$total" ] && ok || bad "$c differs from the reference output"
done

# 1b. --low-memory: the fixtures' 9x12 latents fit one VAE tile (40 latents), and streaming the
#     UNet's weights changes no value: the same pixels as the default runs above, bit for bit
#     (hence within the references' tolerance), and the PNG's JSON says low_memory
for c in img2img_sd1_pndm img2img_sd2_ddim; do
  fixture_case "sd/golden/$c.json" && [ -f "$T/$c.png" ] || continue
  "$A2I2A" i2i "$FX/golden/${c}_init.png" -o "$T/$c-low.png" --model "$FX/$(setting $c model)" \
    --prompt "$(setting $c prompt)" --negative "$(setting $c negative_prompt)" \
    --steps "$(setting $c num_inference_steps)" --strength "$(setting $c strength)" \
    --guidance "$(setting $c guidance_scale)" --seed "$(setting $c seed)" \
    --sampler "$(sampler_of "$(setting $c scheduler_class)")" --low-memory --quiet 2>"$T/err" || { bad "$c --low-memory: $(cat "$T/err")"; continue; }
  read -r w h max off total < <("$A2I2A_PNGDIFF" "$T/$c-low.png" "$T/$c.png")
  [ "$max" -eq 0 ] && [ "$off" -eq 0 ] && ok || bad "$c: --low-memory differs from the default run ($max levels, $off values)"
  grep -aq '"low_memory":true' "$T/$c-low.png" && ! grep -aq 'low_memory' "$T/$c.png" && ok || bad "$c: low_memory in the JSON"
done

# 2. the record: A1111 parameters and our JSON, with the UNet file's SHA-256
c=img2img_sd1_pndm
sha=$(sha256sum "$FX/tiny-sd1/unet/diffusion_pytorch_model.safetensors" | cut -c1-64)
grep -aq "Negative prompt: no letters, no people, no recognizable objects" "$T/$c.png" && ok || bad "no negative prompt in the PNG"
grep -aq "Steps: 10, Sampler: PLMS, CFG scale: 2.5, Seed: 1234, Size: 96x72, Model hash: ${sha:0:10}, Model: tiny-sd1, Denoising strength: 0.9" "$T/$c.png" \
  && ok || bad "A1111 parameters line"
grep -aq "Model SHA256: $sha" "$T/$c.png" && ok || bad "model SHA-256 in parameters"
grep -aq "\"model_sha256\":\"$sha\"" "$T/$c.png" && grep -aq '"sampler":"pndm"' "$T/$c.png" && ok || bad "JSON chunk"
[ -s "$XDG_CACHE_HOME/a2i2a/sha256.tsv" ] && grep -q "$sha" "$XDG_CACHE_HOME/a2i2a/sha256.tsv" && ok || bad "hash cache"

# 3. defaults from A2I2A_MODEL, random seed printed, no progress when stderr is not a terminal,
#    --width/--height, SD-Turbo style (euler, trailing, guidance 1)
A2I2A_MODEL="$FX/tiny-sd1" "$A2I2A" i2i "$FX/golden/${c}_init.png" -o "$T/def.png" --steps 4 --strength 0.5 \
  >"$T/stdout" 2>"$T/err" && grep -Eq '^seed [0-9]+$' "$T/stdout" && ok || bad "random seed not printed: $(cat "$T/stdout" "$T/err")"
! grep -Eq "painting|ETA" "$T/err" && ok || bad "progress lines although stderr is not a terminal: $(cat "$T/err")"
"$A2I2A" i2i "$FX/golden/${c}_init.png" -o "$T/wh.png" -m "$FX/tiny-sd1" --steps 2 --strength 0.5 --seed 1 --width 64 --quiet \
  2>"$T/err" && [ "$(png_size "$T/wh.png")" = "64 48" ] && ok || bad "--width keeps the aspect ratio: $(png_size "$T/wh.png") $(cat "$T/err")"
"$A2I2A" i2i "$FX/golden/${c}_init.png" -o "$T/turbo.png" -m "$FX/tiny-sd1" --sampler euler --spacing trailing \
  --guidance 1 --steps 2 --strength 0.5 --seed 1 --quiet 2>"$T/err" && [ -f "$T/turbo.png" ] && ok || bad "turbo style: $(cat "$T/err")"
# guidance <= 1 runs no unconditional pass, so the negative prompt cannot matter; above 1 it does
run_neg() { "$A2I2A" i2i "$FX/golden/${c}_init.png" -o "$T/$1.png" -m "$FX/tiny-sd1" --steps 3 --seed 5 --quiet \
  --guidance "$2" --negative "$3"; }
run_neg g1a 1 "first negative" && run_neg g1b 1 "another negative" && run_neg g2a 2 "first negative" \
  && run_neg g2b 2 "another negative" || bad "guidance runs"
[ "$("$A2I2A_PNGDIFF" "$T/g1a.png" "$T/g1b.png" | cut -d' ' -f3)" = 0 ] && ok || bad "guidance 1 used the negative prompt"
[ "$("$A2I2A_PNGDIFF" "$T/g2a.png" "$T/g2b.png" | cut -d' ' -f3)" != 0 ] && ok || bad "guidance 2 ignored the negative prompt"
# --prediction: tiny-sd2's config says v; naming v changes nothing, epsilon changes the picture,
# and the PNG records what was used
if fixture_case sd/tiny-sd2/model_index.json; then
  pred() { "$A2I2A" i2i "$FX/golden/img2img_sd2_ddim_init.png" -o "$T/p$1.png" -m "$FX/tiny-sd2" --steps 3 --seed 4 --quiet $2; }
  pred d "" && pred v "--prediction v" && pred e "--prediction epsilon" || bad "--prediction runs"
  cmp -s "$T/pd.png" "$T/pv.png" && ok || bad "--prediction v differs from tiny-sd2's own v-prediction"
  [ "$("$A2I2A_PNGDIFF" "$T/pd.png" "$T/pe.png" | cut -d' ' -f3)" != 0 ] && ok || bad "--prediction epsilon changed nothing"
  grep -aq '"prediction":"epsilon"' "$T/pe.png" && grep -aq '"prediction":"v"' "$T/pd.png" && ok || bad "the PNG does not record the prediction"
fi
# a prompt over 75 tokens is cut, with a warning (80 words: 5 too many)
"$A2I2A" i2i "$FX/golden/${c}_init.png" -o "$T/long.png" -m "$FX/tiny-sd1" --steps 2 --strength 0.5 --seed 1 \
  --prompt "$(printf 'word %.0s' $(seq 1 80))" 2>"$T/err" && grep -q "5 tokens over" "$T/err" && ok || bad "no truncation warning: $(cat "$T/err")"
# a seed gives one picture; another seed another
"$A2I2A" i2i "$FX/golden/${c}_init.png" -o "$T/s5.png" -m "$FX/tiny-sd1" --steps 3 --seed 5 --quiet --guidance 2 \
  --negative "first negative" && cmp -s "$T/s5.png" "$T/g2a.png" && ok || bad "same seed, another picture"
"$A2I2A" i2i "$FX/golden/${c}_init.png" -o "$T/s6.png" -m "$FX/tiny-sd1" --steps 3 --seed 6 --quiet --guidance 2 \
  --negative "first negative" && [ "$("$A2I2A_PNGDIFF" "$T/s6.png" "$T/g2a.png" | cut -d' ' -f3)" != 0 ] && ok \
  || bad "another seed, same picture"
"$A2I2A" i2i "$FX/golden/${c}_init.png" -o "$T/q.png" -m "$FX/tiny-sd1" --steps 2 --strength 0.5 --seed 1 --quiet 2>"$T/err" \
  && [ ! -s "$T/err" ] && ok || bad "--quiet still wrote: $(cat "$T/err")"
for s in ddim euler lms dpm++2m dpm++2m-karras lcm; do
  "$A2I2A" i2i "$FX/golden/${c}_init.png" -o "$T/s-$s.png" -m "$FX/tiny-sd1" --sampler $s --steps 4 --seed 2 --quiet \
    && ok || bad "sampler $s"
done

# 4. refusals: one line naming the problem, the right exit status, nothing written
refuse() { # refuse EXPECTED-STATUS PATTERN WHAT -- args...
  local want=$1 pat=$2 what=$3
  shift 4
  "$A2I2A" i2i "$@" >/dev/null 2>"$T/err"
  local rc=$?
  if [ $rc -eq "$want" ] && grep -q -- "$pat" "$T/err" && [ "$(wc -l <"$T/err")" -eq 1 ] && [ ! -e "$T/none.png" ]; then ok
  else bad "$what: exit $rc, stderr: $(cat "$T/err")"; fi
}
IMG="$FX/golden/${c}_init.png"
refuse 2 "A2I2A_MODEL" "no model" -- "$IMG" -o "$T/none.png"
refuse 2 "models pull" "no model says how to get one" -- "$IMG" -o "$T/none.png"
mkdir -p "$T/broken"
for part in unet text_encoder tokenizer scheduler model_index.json; do ln -s "$FX/tiny-sd1/$part" "$T/broken/$part"; done
refuse 1 "vae/" "model folder without its VAE" -- "$IMG" -o "$T/none.png" -m "$T/broken"
refuse 1 "no such file" "missing model" -- "$IMG" -o "$T/none.png" -m "$T/nothing-here"
A2I2A_MEMORY_MB=1 refuse 1 "MB are available" "too large for the memory" -- "$IMG" -o "$T/none.png" -m "$FX/tiny-sd1"
refuse 2 "steps x strength" "steps x strength < 1" -- "$IMG" -o "$T/none.png" -m "$FX/tiny-sd1" --steps 1 --strength 0.5
refuse 2 "lcm\|LCM" "LCM beyond its 50 steps" -- "$IMG" -o "$T/none.png" -m "$FX/tiny-sd1" --sampler lcm --steps 60
refuse 2 "unknown sampler" "unknown sampler" -- "$IMG" -o "$T/none.png" -m "$FX/tiny-sd1" --sampler heun
refuse 2 "spacing" "bad spacing" -- "$IMG" -o "$T/none.png" -m "$FX/tiny-sd1" --spacing sideways
refuse 2 "strength" "strength out of range" -- "$IMG" -o "$T/none.png" -m "$FX/tiny-sd1" --strength 1.5
refuse 2 "rng" "unknown generator" -- "$IMG" -o "$T/none.png" -m "$FX/tiny-sd1" --rng philox
refuse 2 "prediction" "unknown prediction" -- "$IMG" -o "$T/none.png" -m "$FX/tiny-sd1" --prediction eps
refuse 2 "output" "no output" -- "$IMG" -m "$FX/tiny-sd1"
printf 'not a picture' >"$T/bad.png"
refuse 1 "bad.png" "not a picture" -- "$T/bad.png" -o "$T/none.png" -m "$FX/tiny-sd1" --steps 2
refuse 1 "missing.png" "missing picture" -- "$T/missing.png" -o "$T/none.png" -m "$FX/tiny-sd1" --steps 2
# an existing output is kept unless --force
cp "$T/$c.png" "$T/keep.png"
"$A2I2A" i2i "$IMG" -o "$T/keep.png" -m "$FX/tiny-sd1" --steps 2 --seed 3 --quiet 2>"$T/err"
[ $? -eq 1 ] && cmp -s "$T/keep.png" "$T/$c.png" && grep -q "keep.png" "$T/err" && ok || bad "overwrote without --force: $(cat "$T/err")"
"$A2I2A" i2i "$IMG" -o "$T/keep.png" -m "$FX/tiny-sd1" --steps 2 --seed 3 --quiet --force && ! cmp -s "$T/keep.png" "$T/$c.png" \
  && ok || bad "--force"
ls "$T" | grep -q '\.tmp\|^\.' && bad "temporary files left: $(ls -a "$T")" || ok

echo "$pass passed, $fail failed"
fixtures_done
[ $fail -eq 0 ]
