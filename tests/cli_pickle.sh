# The program on PyTorch checkpoints (shared/fixtures/pickle): i2i from the .bin folder paints the
# pixels of the safetensors folder and the .ckpt behaves as its safetensors twin; `models convert`
# writes files equal, tensor by tensor, to tensors.safetensors (read back here by Python, not by
# our parser) and replaces nothing without --force; every hostile file is refused by `i2i --model`
# and `models convert` with one line naming it and the reason, exit 1, no output, no code run;
# `verify --model-dir` runs the sd1 cases on the pickle forms too.
set -u
. tests/support/fixtures.sh
fixtures_need_full
FX="$FIXTURES/sd"
PF="$FIXTURES/pickle"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export XDG_CACHE_HOME="$T/cache"
unset A2I2A_MODEL
. tests/support/ok.sh
check() { if eval "$1"; then ok; else bad "$2"; fi; }
MARK=/tmp/a2i2a-pickle-ran-code
INIT="$FX/golden/img2img_sd1_pndm_init.png"
[ -f "$PF/tensors.bin" ] && [ -f "$INIT" ] || { echo "0 passed, 1 failed"; echo "fixtures missing under $FIXTURES"; exit 1; }

# tensors A.safetensors B.safetensors: "same" when both hold the same names, dtypes, shapes and bytes
tensors() {
  python3 - "$1" "$2" <<'PY'
import json, struct, sys
def read(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    meta = h.pop("__metadata__", {})
    data = b[8 + n:]
    return meta, {k: (v["dtype"], v["shape"], data[v["data_offsets"][0]:v["data_offsets"][1]]) for k, v in h.items()}
(ma, a), (mb, b) = read(sys.argv[1]), read(sys.argv[2])
diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
print("same" if not diff else "differ: " + " ".join(diff), json.dumps(ma, sort_keys=True))
PY
}

# ---------------------------------------------------------------- i2i
args=(--steps 4 --strength 0.75 --seed 3 --quiet)
"$A2I2A" i2i "$INIT" -o "$T/st.png" --model "$FX/tiny-sd1" "${args[@]}" 2>"$T/err" || bad "i2i tiny-sd1: $(cat "$T/err")"
"$A2I2A" i2i "$INIT" -o "$T/bin.png" --model "$PF/tiny-sd1-bin" "${args[@]}" 2>"$T/err" || bad "i2i tiny-sd1-bin: $(cat "$T/err")"
read -r w h max off total < <("$A2I2A_PNGDIFF" "$T/st.png" "$T/bin.png")
check '[ "${max:-x}" = 0 ] && [ "${off:-x}" = 0 ] && [ "${total:-0}" -gt 0 ]' "tiny-sd1-bin paints other pixels: max $max, $off of $total"
# the single file: exactly what its safetensors twin does (the tiny text encoder's heads need the
# folder's config, so both refuse alike; test_pickle paints both with that config, same bytes)
o1=$("$A2I2A" i2i "$INIT" -o "$T/s1.png" --model "$FX/tiny-sd1.safetensors" "${args[@]}" 2>&1); r1=$?
o2=$("$A2I2A" i2i "$INIT" -o "$T/s2.png" --model "$PF/tiny-sd1.ckpt" "${args[@]}" 2>&1); r2=$?
check '[ $r1 = $r2 ] && [ "${o1//$FX\/tiny-sd1.safetensors/M}" = "${o2//$PF\/tiny-sd1.ckpt/M}" ]' \
  "tiny-sd1.ckpt: exit $r2 '$o2', its safetensors twin: exit $r1 '$o1'"

# ---------------------------------------------------------------- models convert
for f in tensors tensors-legacy; do
  out=$("$A2I2A" models convert "$PF/$f.bin" "$T/$f.safetensors" 2>"$T/err"); rc=$?
  check '[ $rc = 0 ] && [ "$out" = "$T/$f.safetensors" ]' "convert $f.bin: exit $rc: $(cat "$T/err")"
  res=$(tensors "$T/$f.safetensors" "$PF/tensors.safetensors")
  check '[ "$res" = "same {\"format\": \"pt\"}" ]' "convert $f.bin: $res"
done
cp "$T/tensors.safetensors" "$T/before"
out=$("$A2I2A" models convert "$PF/tensors-legacy.bin" "$T/tensors.safetensors" 2>&1); rc=$?
check '[ $rc = 1 ] && echo "$out" | grep -q "already exists" && cmp -s "$T/tensors.safetensors" "$T/before"' "replaced without --force: exit $rc: $out"
"$A2I2A" models convert -f "$PF/tensors-legacy.bin" "$T/tensors.safetensors" >/dev/null 2>&1
check '[ $? = 0 ]' "--force"
# the .ckpt: its weights, and its other entries as metadata; the default output beside the input
ln -s "$PF/tiny-sd1.ckpt" "$T/tiny.ckpt"
out=$("$A2I2A" models convert "$T/tiny.ckpt" 2>"$T/err"); rc=$?
check '[ $rc = 0 ] && [ "$out" = "$T/tiny.safetensors" ]' "convert tiny.ckpt: exit $rc: $out $(cat "$T/err")"
res=$(tensors "$T/tiny.safetensors" "$FX/tiny-sd1.safetensors")
check '[ "$res" = "same {\"epoch\": \"6\", \"format\": \"pt\", \"global_step\": \"470000\"}" ]' "convert tiny-sd1.ckpt: $res"
ln -s "$PF/tiny-sd1-bin/text_encoder/pytorch_model.bin" "$T/pytorch_model.bin"
"$A2I2A" models convert -q "$T/pytorch_model.bin" >/dev/null 2>&1
res=$(tensors "$T/model.safetensors" "$FX/tiny-sd1/text_encoder/model.safetensors")
check '[ "${res%% *}" = same ]' "pytorch_model.bin → model.safetensors: $res"
out=$("$A2I2A" models convert 2>&1); rc=$?
check '[ $rc = 2 ]' "convert without IN: exit $rc"
out=$(HF_HOME="$T/hf" "$A2I2A" models list --model-dir "$PF" 2>&1)
check 'echo "$out" | grep -q "^tiny-sd1-bin	diffusers" && echo "$out" | grep -q "^tiny-sd1.ckpt	single-file"' "models list --model-dir: $out"

# ---------------------------------------------------------------- hostile files
check '[ ! -e "$MARK" ]' "$MARK exists before the hostile files are read"
n=0
for f in "$PF"/hostile/*; do
  n=$((n + 1))
  for cmd in i2i convert; do
    if [ $cmd = i2i ]; then
      "$A2I2A" i2i "$INIT" -o "$T/h.png" --model "$f" --quiet >/dev/null 2>"$T/err"; rc=$?; outf="$T/h.png"
    else
      "$A2I2A" models convert "$f" "$T/h.safetensors" >/dev/null 2>"$T/err"; rc=$?; outf="$T/h.safetensors"
    fi
    lines=$(wc -l <"$T/err")
    check '[ $rc = 1 ] && [ "$lines" = 1 ] && grep -qF "$f: " "$T/err"' "$cmd $(basename "$f"): exit $rc, $lines lines: $(cat "$T/err")"
    case $(basename "$f") in
    system.bin | raw_system.bin | inst.bin | eval.bin | nested.bin | stack_global.bin | build.bin)
      check 'grep -q "not a weights file: it calls [a-z.]*\.[A-Za-z_]*$" "$T/err"' "$cmd $(basename "$f"): $(cat "$T/err")" ;;
    esac
    check '[ ! -e "$outf" ] && [ -z "$(ls -A "$T" | grep "^\.h")" ]' "$cmd $(basename "$f"): output left"
    check '[ ! -e "$MARK" ]' "$cmd $(basename "$f"): $MARK exists: code ran"
  done
done
check '[ $n -ge 11 ]' "only $n hostile files"

# ---------------------------------------------------------------- verify --model-dir
# the sd1 cases only (a fixtures folder of links), on tiny-sd1/, tiny-sd1.safetensors and the
# pickle folder's tiny-sd1-bin/ and tiny-sd1.ckpt
mkdir -p "$T/fx/golden"
ln -s "$FX/tiny-sd1" "$FX/tiny-sd1.safetensors" "$T/fx/"
for c in text_encoder_sd1 vae_sd1 unet_sd1 img2img_sd1_pndm; do ln -s "$FX/golden/$c.json" "$FX/golden/$c.safetensors" "$T/fx/golden/"; done
"$A2I2A" verify "$T/fx" --model-dir "$PF" >"$T/verify" 2>&1; rc=$?
check '[ $rc = 0 ] && tail -1 "$T/verify" | grep -Eq "^[0-9]+ passed, 0 failed, 0 skipped$"' "verify --model-dir: exit $rc: $(tail -3 "$T/verify")"
for c in "text_encoder_sd1[tiny-sd1-bin]" "text_encoder_sd1[tiny-sd1.ckpt]" "vae_sd1[tiny-sd1-bin/]" "vae_sd1[tiny-sd1.ckpt]" \
         "unet_sd1[tiny-sd1-bin]" "unet_sd1[tiny-sd1.ckpt]" "img2img_sd1_pndm[tiny-sd1-bin]"; do
  k=$(grep -cF "$c." "$T/verify")
  check '[ "$k" -ge 3 ] && ! grep -F "$c." "$T/verify" | grep -qv " pass$"' "verify: $k lines for $c"
done
out=$("$A2I2A" verify "$T/fx" --model-dir "$T/none" 2>&1); rc=$?
check '[ $rc = 1 ] && echo "$out" | grep -q "none: --model-dir is not a folder"' "verify --model-dir missing: exit $rc: $out"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
