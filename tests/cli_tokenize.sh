# `a2i2a tokenize`: ids of fixture prompts (tokenizer/prompts.json), both paddings, truncation
# warning, usage errors, and one-line errors for broken tokenizer files and unknown models.
set -u
. tests/support/ok.sh
check() { if eval "$2"; then ok; else bad "$1"; fi; }

. tests/support/fixtures.sh
SD="$FIXTURES/sd"
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT

pad() { # N copies of id
  local s="" i
  for ((i = 0; i < $2; i++)); do s="$s $1"; done
  printf '%s' "$s"
}
# prompts.json "plain": a photograph of an astronaut riding a horse
plain="49406 320 8853 539 550 18376 6765 320 4558 49407"

out=$("$A2I2A" tokenize --model "$SD/tiny-sd1" --ids "a photograph of an astronaut riding a horse" 2>"$tmp/err"); rc=$?
check "sd1 plain ids" '[ $rc -eq 0 ] && [ "$out" = "$plain$(pad 49407 67)" ]'
check "--ids prints one line" '[ $(printf "%s\n" "$out" | wc -l) -eq 1 ]'
check "no warning for a short prompt" '[ ! -s "$tmp/err" ]'

if fixture_case sd/tiny-sd2/model_index.json; then
  out=$("$A2I2A" tokenize --model "$SD/tiny-sd2" --ids -- "A Photograph Of An ASTRONAUT Riding A Horse"); rc=$?
  check "sd2 case ids (pad 0)" '[ $rc -eq 0 ] && [ "$out" = "$plain$(pad 0 67)" ]'

  # SD 2.x splits every "!" off as id 0 (prompts.json "punct_only": "!!!???... --- ;;")
  out=$("$A2I2A" tokenize --model "$SD/tiny-sd2" --ids '!!!???... --- ;;')
  check "sd2 punct_only" '[ "$out" = "49406 0 0 0 5195 22641 11079 24492 49407$(pad 0 68)" ]'
fi
out=$("$A2I2A" tokenize --model "$SD/tiny-sd1" --ids '!!!???... --- ;;')
check "sd1 punct_only" '[ "$out" = "49406 11194 5195 22641 11079 24492 49407$(pad 49407 70)" ]'

# the single-file checkpoint has no tokenizer/: the bundled merges give the same ids
if fixture_case sd/tiny-sd1.safetensors; then
  out=$("$A2I2A" tokenize --model "$SD/tiny-sd1.safetensors" --ids "a photograph of an astronaut riding a horse")
  check "single file, bundled merges" '[ "$out" = "$plain$(pad 49407 67)" ]'
fi
# $A2I2A_MODEL stands in for --model; several TEXT arguments are joined; '-' reads stdin
if fixture_case sd/tiny-sd2/model_index.json; then
  out=$(A2I2A_MODEL="$SD/tiny-sd2" "$A2I2A" tokenize --ids a photograph of an astronaut riding a horse)
  check "A2I2A_MODEL and joined words" '[ "$out" = "$plain$(pad 0 67)" ]'
fi
out=$(printf 'a photograph of an astronaut\nriding a horse' | "$A2I2A" tokenize --model "$SD/tiny-sd1" --ids -)
check "stdin" '[ "$out" = "$plain$(pad 49407 67)" ]'
# no model at all: bundled merges, SD 1.x padding, said on stderr
out=$(env -u A2I2A_MODEL "$A2I2A" tokenize --ids "a photograph of an astronaut riding a horse" 2>"$tmp/err")
check "no model" '[ "$out" = "$plain$(pad 49407 67)" ] && grep -q "bundled" "$tmp/err"'

# 80 x "cat": 75 kept, end token at 76, warning with the count on stderr only
long=$(for i in $(seq 80); do printf 'cat '; done)
out=$("$A2I2A" tokenize --model "$SD/tiny-sd1" --ids "$long" 2>"$tmp/err"); rc=$?
check "long prompt ids" '[ $rc -eq 0 ] && [ "$out" = "49406$(pad 2368 75) 49407" ]'
check "long prompt warning" 'grep -q "80 tokens" "$tmp/err" && grep -q "last 5 were dropped" "$tmp/err"'

# the human-readable listing
out=$("$A2I2A" tokenize --model "$SD/tiny-sd1" "café")
check "listing" 'printf "%s\n" "$out" | grep -q "15304  café</w>" && printf "%s\n" "$out" | grep -q "(padding, 74 tokens)"'

# usage errors: exit 2
"$A2I2A" tokenize --model "$SD/tiny-sd1" >/dev/null 2>&1
check "no text -> 2" '[ $? -eq 2 ]'
"$A2I2A" tokenize --bogus x >/dev/null 2>&1
check "unknown option -> 2" '[ $? -eq 2 ]'
"$A2I2A" tokenize --help | grep -q -- "--ids"
check "help lists --ids" '[ $? -eq 0 ]'

# broken tokenizer files in a copy of the model folder: exit 1, one line naming the file
m="$tmp/model"
mkdir -p "$m"
for p in unet vae text_encoder scheduler model_index.json; do ln -s "$SD/tiny-sd1/$p" "$m/$p"; done
cp -r "$SD/tiny-sd1/tokenizer" "$m/tokenizer"
chmod -R u+w "$m/tokenizer"
head -c 100000 "$SD/tiny-sd1/tokenizer/merges.txt" >"$m/tokenizer/merges.txt"
printf 'this line is not a merge\n' >>"$m/tokenizer/merges.txt"
out=$("$A2I2A" tokenize --model "$m" --ids x 2>"$tmp/err"); rc=$?
check "broken merges -> 1" '[ $rc -eq 1 ] && [ -z "$out" ]'
check "broken merges message" 'grep -q "tokenizer/merges.txt: line" "$tmp/err" && [ $(wc -l <"$tmp/err") -eq 1 ]'
head -c 5000 "$SD/tiny-sd1/tokenizer/vocab.json" >"$m/tokenizer/vocab.json"
"$A2I2A" tokenize --model "$m" --ids x >/dev/null 2>"$tmp/err"; rc=$?
check "truncated vocab.json" '[ $rc -eq 1 ] && grep -q "tokenizer/vocab.json: not a JSON object" "$tmp/err"'
rm "$m/tokenizer/merges.txt"
"$A2I2A" tokenize --model "$m" --ids x >/dev/null 2>"$tmp/err"; rc=$?
check "missing merges.txt" '[ $rc -eq 1 ] && grep -q "merges.txt is missing" "$tmp/err"'

# not a Stable Diffusion model (an SDXL-style key) and a missing model: exit 1 with a message
printf '{"conditioner.embedders.0.x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}' >"$tmp/h"
n=$(stat -c %s "$tmp/h")
{ printf "\\x$(printf %02x "$n")\\x00\\x00\\x00\\x00\\x00\\x00\\x00"; cat "$tmp/h"; printf '\0\0\0\0'; } >"$tmp/sdxl.safetensors"
"$A2I2A" tokenize --model "$tmp/sdxl.safetensors" --ids x >/dev/null 2>"$tmp/err"; rc=$?
check "unknown family" '[ $rc -eq 1 ] && grep -q "SDXL" "$tmp/err"'
"$A2I2A" tokenize --model "$tmp/nothing-here" --ids x >/dev/null 2>"$tmp/err"; rc=$?
check "missing model" '[ $rc -eq 1 ] && grep -q "nothing-here" "$tmp/err"'

# a corrupt bundled merges file found through $A2I2A_DATA
mkdir -p "$tmp/data/clip"
head -c 3000 "$PWD/data/clip/bpe_simple_vocab_16e6.txt.gz" >"$tmp/data/clip/bpe_simple_vocab_16e6.txt.gz"
if fixture_case sd/tiny-sd1.safetensors; then
  A2I2A_DATA="$tmp/data" "$A2I2A" tokenize --model "$SD/tiny-sd1.safetensors" --ids x >/dev/null 2>"$tmp/err"; rc=$?
  check "corrupt bundled merges" '[ $rc -eq 1 ] && grep -q "bpe_simple_vocab_16e6.txt.gz" "$tmp/err"'
fi

echo "$pass passed, $fail failed"
fixtures_done
[ $fail -eq 0 ]
