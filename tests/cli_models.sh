# `a2i2a models pull/list` against tests/hubserver.c (a Hub stand-in on 127.0.0.1) serving the
# tiny SD 1 fixture: selection of files, HF cache layout, token, redirects, resume after a cut
# connection and from a leftover .incomplete file, a corrupt transfer rejected, errors.
set -u
. tests/support/ok.sh
check() { if eval "$1"; then ok; else bad "$2"; fi; }

SERVER=${A2I2A_HUBSERVER:-$(dirname "$A2I2A")/tests/hubserver}
[ -x "$SERVER" ] || { echo "hubserver not built ($SERVER)"; exit 1; }
T=$(mktemp -d)
SP=
cleanup() { [ -n "$SP" ] && kill "$SP" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

COMMIT=0123456789abcdef0123456789abcdef01234567
. tests/support/fixtures.sh
FIX=$(cd "$FIXTURES/sd/tiny-sd1" 2>/dev/null && pwd)
# an empty FIX would make the copies below start from / : stop first
[ -n "$FIX" ] && [ -f "$FIX/model_index.json" ] || { echo "0 passed, 1 failed"; echo "fixture model missing: $FIXTURES/sd/tiny-sd1"; exit 1; }
# the repository: the fixture (as links) plus files a pull must skip or prefer
mkdir -p "$T/repo"
cp -rs "$FIX/." "$T/repo/"
echo "not a pickle, but named like one" > "$T/repo/unet/diffusion_pytorch_model.bin"
cp "$FIX/vae/diffusion_pytorch_model.safetensors" "$T/repo/vae/diffusion_pytorch_model.fp16.safetensors"
mkdir -p "$T/repo/safety_checker" && echo x > "$T/repo/safety_checker/model.safetensors"
echo "# readme" > "$T/repo/README.md"
# a repository whose text encoder and UNet only have PyTorch weights (the pickle fixture's, which
# hold the same weights): pulled and usable
binrepo=0
if fixture_case pickle/tiny-sd1-bin; then
  PFIX=$(cd "$FIXTURES/pickle/tiny-sd1-bin" && pwd)
  mkdir -p "$T/binrepo" && cp -rs "$FIX/." "$T/binrepo/"
  rm "$T/binrepo/unet/diffusion_pytorch_model.safetensors" "$T/binrepo/text_encoder/model.safetensors"
  ln -s "$PFIX/unet/diffusion_pytorch_model.bin" "$T/binrepo/unet/"
  ln -s "$PFIX/text_encoder/pytorch_model.bin" "$T/binrepo/text_encoder/"
  binrepo=1
fi

start_server() { # ROOT [options]
  local root=$1; shift
  rm -f "$T/port"
  "$SERVER" "$root" "$COMMIT" "$T/port" "$T/log" "$@" &
  SP=$!
  for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
  PORT=$(cat "$T/port")
  export HF_ENDPOINT="http://127.0.0.1:$PORT"
}
stop_server() { kill "$SP" 2>/dev/null; wait "$SP" 2>/dev/null; SP=; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

UNET=unet/diffusion_pytorch_model.safetensors
UNET_SHA=$(sha "$FIX/$UNET")
UNET_SIZE=$(stat -c %s "$FIX/$UNET")
TE_SHA=$(sha "$FIX/text_encoder/model.safetensors")

# ---------------------------------------------------------------- token, redirect, cut + resume
start_server "$T/repo" --redirect --token s3cret --cut "$UNET:100000"
export HF_HOME="$T/hf1"
unset HF_TOKEN HF_HUB_CACHE HF_HUB_OFFLINE
out=$("$A2I2A" models pull org/tiny 2>&1); rc=$?
check '[ $rc -eq 1 ]' "pull without token: exit $rc"
check 'echo "$out" | grep -q "HF_TOKEN" && echo "$out" | grep -q "401"' "no-token message: $out"
check '[ ! -e "$T/hf1/hub/models--org--tiny/snapshots" ]' "a snapshot appeared without access"
: > "$T/log"
out=$(HF_TOKEN=s3cret "$A2I2A" models pull org/tiny 2>"$T/err"); rc=$?
check '[ $rc -eq 0 ]' "pull: exit $rc: $(cat "$T/err")"
SNAP="$T/hf1/hub/models--org--tiny/snapshots/$COMMIT"
check '[ "$out" = "$SNAP" ]' "pull printed '$out'"
check '[ "$(cat "$T/hf1/hub/models--org--tiny/refs/main")" = "$COMMIT" ]' "refs/main"
check 'grep -q "GET /cdn/$UNET range=100000 auth=no" "$T/log"' "no resumed Range request after the cut: $(grep cdn/unet "$T/log")"
check '! grep -q "^GET /cdn/.*auth=yes" "$T/log"' "the token was sent to the CDN host"
check '! grep -q "resolve.*auth=no" "$T/log"' "a Hub request went without the token"
check '! grep -q "\.bin\|safety_checker\|README" "$T/log"' "fetched files it should skip: $(grep -E 'bin|safety|README' "$T/log")"
check '! grep -q "vae/diffusion_pytorch_model.safetensors" "$T/log"' "fetched the non-fp16 VAE"
# every pipeline file arrived intact, as a relative link into blobs/
for f in model_index.json scheduler/scheduler_config.json text_encoder/config.json text_encoder/model.safetensors \
         tokenizer/vocab.json tokenizer/merges.txt tokenizer/tokenizer_config.json tokenizer/special_tokens_map.json \
         unet/config.json "$UNET" vae/config.json; do
  check '[ -L "$SNAP/$f" ] && cmp -s "$SNAP/$f" "$FIX/$f"' "$f missing or different in the snapshot"
done
check 'cmp -s "$SNAP/vae/diffusion_pytorch_model.fp16.safetensors" "$FIX/vae/diffusion_pytorch_model.safetensors"' "fp16 VAE"
check '[ "$(readlink "$SNAP/$UNET")" = "../../../blobs/$UNET_SHA" ]' "UNet link: $(readlink "$SNAP/$UNET")"
check '[ "$(readlink "$SNAP/model_index.json" | cut -c1-12)" = "../../blobs/" ]' "model_index link"
check '[ ! -e "$SNAP/unet/diffusion_pytorch_model.bin" ] && [ ! -e "$SNAP/safety_checker" ]' "skipped files in the snapshot"
check '[ -z "$(find "$T/hf1" -name "*.incomplete")" ]' "a .incomplete file was left"
# the pulled model is listed and usable by name
out=$("$A2I2A" models list 2>&1); rc=$?
check '[ $rc -eq 0 ] && echo "$out" | grep -q "^org/tiny	hf-cache	.*	$SNAP$"' "list: $out"
out=$(A2I2A_MODEL=org/tiny "$A2I2A" models list --model-dir "$FIXTURES/sd" 2>&1)
check 'echo "$out" | grep -q "^org/tiny	A2I2A_MODEL" && echo "$out" | grep -q "^tiny-sd1	diffusers"' "list --model-dir: $out"
fixture_case sd/tiny-sd1.safetensors && check 'echo "$out" | grep -q "^tiny-sd1.safetensors	single-file"' "list --model-dir: $out"
# a LoRA beside a checkpoint is listed as a LoRA, not as a single-file checkpoint
if fixture_case sd-ext/lora/tiny-sd1-lora.safetensors; then
  mkdir -p "$T/mixed" && ln -s "$FIXTURES/sd-ext/lora/tiny-sd1-lora.safetensors" "$FIXTURES/sd/tiny-sd1.safetensors" "$T/mixed/"
  out=$("$A2I2A" models list --model-dir "$T/mixed" 2>&1)
  check 'echo "$out" | grep -q "^tiny-sd1-lora.safetensors	lora	" && echo "$out" | grep -q "^tiny-sd1.safetensors	single-file	"' \
    "list --model-dir with a LoRA: $out"
fi
# a second pull downloads nothing
: > "$T/log"
HF_TOKEN=s3cret "$A2I2A" models pull org/tiny >/dev/null 2>"$T/err"; rc=$?
check '[ $rc -eq 0 ] && ! grep -q "^GET /cdn\|^GET .*/resolve/" "$T/log"' "second pull downloaded again (exit $rc)"
stop_server

# ---------------------------------------------------------------- resume from a leftover .incomplete
start_server "$T/repo"
export HF_HOME="$T/hf2"
mkdir -p "$T/hf2/hub/models--org--tiny/blobs"
head -c 50000 "$FIX/$UNET" > "$T/hf2/hub/models--org--tiny/blobs/$UNET_SHA.incomplete"
: > "$T/log"
"$A2I2A" models pull --quiet org/tiny >/dev/null 2>"$T/err"; rc=$?
check '[ $rc -eq 0 ]' "resume pull: exit $rc: $(cat "$T/err")"
check 'grep -q "GET /org/tiny/resolve/$COMMIT/$UNET range=50000" "$T/log"' "did not resume at 50000: $(grep "$UNET" "$T/log")"
check '[ "$(sha "$T/hf2/hub/models--org--tiny/blobs/$UNET_SHA")" = "$UNET_SHA" ]' "resumed blob differs"
check '[ ! -s "$T/err" ]' "--quiet printed: $(cat "$T/err")"
# a leftover .incomplete with wrong bytes is caught by the SHA-256 and removed
export HF_HOME="$T/hf2b"
mkdir -p "$T/hf2b/hub/models--org--tiny/blobs"
head -c 50000 /dev/zero > "$T/hf2b/hub/models--org--tiny/blobs/$UNET_SHA.incomplete"
out=$("$A2I2A" models pull org/tiny 2>&1); rc=$?
check '[ $rc -eq 1 ] && echo "$out" | grep -q "corrupt" && echo "$out" | grep -q "$UNET"' "bad partial file: exit $rc: $out"
check '[ ! -e "$T/hf2b/hub/models--org--tiny/blobs/$UNET_SHA.incomplete" ] && [ ! -e "$T/hf2b/hub/models--org--tiny/blobs/$UNET_SHA" ]' "bad partial file kept"
"$A2I2A" models pull -q org/tiny >/dev/null 2>&1
check '[ $? -eq 0 ] && cmp -s "$T/hf2b/hub/models--org--tiny/snapshots/$COMMIT/$UNET" "$FIX/$UNET"' "pull after the bad partial file"
stop_server

# ---------------------------------------------------------------- corrupt transfer
start_server "$T/repo" --corrupt text_encoder/model.safetensors
export HF_HOME="$T/hf3"
out=$("$A2I2A" models pull org/tiny 2>&1); rc=$?
check '[ $rc -eq 1 ]' "corrupt download: exit $rc"
check 'echo "$out" | grep -q "text_encoder/model.safetensors" && echo "$out" | grep -q "corrupt"' "corrupt message: $out"
check '[ ! -e "$T/hf3/hub/models--org--tiny/blobs/$TE_SHA" ]' "corrupt blob entered the cache"
check '[ -z "$(find "$T/hf3" -name "*.incomplete")" ]' "corrupt partial file left"
check '[ ! -e "$T/hf3/hub/models--org--tiny/snapshots" ]' "a snapshot of an incomplete pull appeared"
stop_server
start_server "$T/repo"
"$A2I2A" models pull org/tiny >/dev/null 2>&1; rc=$?
check '[ $rc -eq 0 ] && [ "$(sha "$T/hf3/hub/models--org--tiny/blobs/$TE_SHA")" = "$TE_SHA" ]' "pull after the corrupt one: exit $rc"

# ---------------------------------------------------------------- two pulls at once
# slow downloads so that the two overlap: each blob is fetched once at a time (a lock per blob),
# both pulls succeed, and every file of the snapshot is the repository's, byte for byte
stop_server
start_server "$T/repo" --delay 150
export HF_HOME="$T/hf7"
"$A2I2A" models pull -q org/tiny >"$T/p1" 2>"$T/e1" & P1=$!
"$A2I2A" models pull -q org/tiny >"$T/p2" 2>"$T/e2" & P2=$!
wait $P1; r1=$?; wait $P2; r2=$?
check '[ $r1 -eq 0 ] && [ $r2 -eq 0 ]' "concurrent pulls: exit $r1 and $r2: $(cat "$T/e1" "$T/e2")"
SN="$T/hf7/hub/models--org--tiny/snapshots/$COMMIT"
nsame=0 ndiff=0
for f in $(cd "$SN" && find . -type l -o -type f | sed 's|^\./||'); do
  if cmp -s "$SN/$f" "$T/repo/$f"; then nsame=$((nsame + 1)); else ndiff=$((ndiff + 1)); echo "differs: $f"; fi
done
check '[ $nsame -ge 5 ] && [ $ndiff -eq 0 ]' "concurrent pulls: $nsame files right, $ndiff wrong"
check '[ -z "$(find "$T/hf7" -name "*.incomplete")" ]' "concurrent pulls left a partial file"
check '[ -d "$T/hf7/hub/.locks/models--org--tiny" ]' "no lock folder where huggingface_hub keeps its own"
stop_server
start_server "$T/repo"

# ---------------------------------------------------------------- errors
export HF_HOME="$T/hf4"
out=$("$A2I2A" models pull nope 2>&1); rc=$?
check '[ $rc -eq 2 ] && echo "$out" | grep -q "nope"' "bad name: exit $rc: $out"
out=$("$A2I2A" models pull org/tiny --revision v9 2>&1); rc=$?
check '[ $rc -eq 1 ] && echo "$out" | grep -q "not found" && echo "$out" | grep -q "v9"' "unknown revision: exit $rc: $out"
out=$("$A2I2A" models pull org/tiny --revision "$COMMIT" 2>&1); rc=$?
check '[ $rc -eq 0 ] && [ ! -e "$T/hf4/hub/models--org--tiny/refs/$COMMIT" ]' "pull by commit: exit $rc: $out"
out=$("$A2I2A" models frobnicate 2>&1); rc=$?
check '[ $rc -eq 2 ]' "unknown action: exit $rc"
out=$(HF_HUB_OFFLINE=1 "$A2I2A" models pull org/tiny 2>&1); rc=$?
check '[ $rc -ne 0 ] && echo "$out" | grep -q OFFLINE' "HF_HUB_OFFLINE: exit $rc: $out"
stop_server
if [ $binrepo = 1 ]; then
start_server "$T/binrepo"
export HF_HOME="$T/hf5"
out=$("$A2I2A" models pull org/binonly 2>"$T/err"); rc=$?
SNAP5="$T/hf5/hub/models--org--binonly/snapshots/$COMMIT"
check '[ $rc -eq 0 ] && [ "$out" = "$SNAP5" ]' ".bin-only repo: exit $rc: $out $(cat "$T/err")"
for f in unet/diffusion_pytorch_model.bin text_encoder/pytorch_model.bin vae/diffusion_pytorch_model.safetensors; do
  check 'cmp -s "$SNAP5/$f" "$T/binrepo/$f"' ".bin-only repo: $f missing or different in the snapshot"
done
check 'grep -q "SD 1.x" "$T/err"' ".bin-only repo: the pulled model was not opened: $(cat "$T/err")"
stop_server
fi
# ---------------------------------------------------------------- a TAESD, as madebyollin/taesd publishes it
if fixture_case sd-ext/tiny-taesd; then
  TFIX=$(cd "$FIXTURES/sd-ext/tiny-taesd" && pwd)
  mkdir -p "$T/taesdrepo" && cp -rs "$TFIX/." "$T/taesdrepo/"
  echo "a pickle we never fetch" > "$T/taesdrepo/taesd_decoder.pth"
  start_server "$T/taesdrepo"
  export HF_HOME="$T/hf8"
  out=$("$A2I2A" models pull org/taesd 2>"$T/err"); rc=$?
  SNAP8="$T/hf8/hub/models--org--taesd/snapshots/$COMMIT"
  check '[ $rc -eq 0 ] && [ "$out" = "$SNAP8" ] && grep -q "a TAESD" "$T/err"' "TAESD pull: exit $rc: $out $(cat "$T/err")"
  check 'cmp -s "$SNAP8/config.json" "$TFIX/config.json" && cmp -s "$SNAP8/diffusion_pytorch_model.safetensors" "$TFIX/diffusion_pytorch_model.safetensors" && [ ! -e "$SNAP8/taesd_decoder.pth" ]' \
    "TAESD pull: the snapshot's files"
  # and used by name
  "$A2I2A" i2i "$FIXTURES/sd/golden/img2img_sd1_pndm_init.png" -o "$T/taesd.png" -m "$FIX" --steps 2 --seed 1 \
    --taesd org/taesd -q 2>"$T/err"; rc=$?
  check '[ $rc -eq 0 ] && [ -s "$T/taesd.png" ]' "i2i --taesd org/taesd: exit $rc: $(cat "$T/err")"
  stop_server
fi
# nothing listening
HF_ENDPOINT="http://127.0.0.1:$PORT" HF_HOME="$T/hf6" "$A2I2A" models pull org/tiny >/dev/null 2>"$T/err"; rc=$?
check '[ $rc -eq 1 ] && grep -q "cannot reach" "$T/err"' "server down: exit $rc: $(cat "$T/err")"

echo "$pass passed, $fail failed"
fixtures_done
[ $fail -eq 0 ]
