# `a2i2a run --travel` on a fixture sound with the tiny fixture model (docs/travel.md): over
# frames, the first and last frames are the plain runs of the two endpoints (pixel for pixel),
# run.json records each frame's alpha and --replay reproduces the run; over clips likewise;
# --loop's stitched reading runs from its end into its start without a click: the step between
# its last and first samples is no larger than the largest sample-to-sample step of its last
# and first 50 ms. --alpha 0 and 1 give the endpoints' plain runs; travel works with a LoRA
# and with TAESD, refuses a LoRA tag in --to-prompt, and batch travels as run does.
set -u
. tests/support/ok.sh
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export XDG_CACHE_HOME="$T/cache"
. tests/support/fixtures.sh
unset A2I2A_MODEL
MODEL="$FIXTURES/sd/tiny-sd1"
SMALL="--spec-width 96 --spec-height 64 --steps 2 --readings red --no-sheet -q"
IN="$FIXTURES/seed/audio/a06_espeak_22k05_mono_s16.wav"
A="--seed 5 --prompt warm"
B="--to-seed 9 --to-prompt cold --to-strength 0.8"
same_pixels() { [ "$("$A2I2A_PNGDIFF" "$1" "$2" | cut -d' ' -f4)" = 0 ]; }
alphas() { python3 -c 'import json,sys; print(" ".join("%g" % a for a in json.load(open(sys.argv[1]))["travel"]["alphas"]))' "$1"; }

# --- over 3 frames
"$A2I2A" run "$IN" -o "$T/f" --model "$MODEL" $SMALL $A $B --travel --frames 3 2>"$T/err"; rc=$?
ok "run --travel --frames 3 ($(cat "$T/err"))" '[ $rc -eq 0 ]'
ok "frames/0001.png .. 0003.png" '[ -f "$T/f/frames/0001.png" ] && [ -f "$T/f/frames/0003.png" ] && [ ! -e "$T/f/frames/0004.png" ]'
ok "run.json: alpha per frame 0 0.5 1 ($(alphas "$T/f/run.json"))" '[ "$(alphas "$T/f/run.json")" = "0 0.5 1" ]'
# the plain runs of the endpoints; bend reads the painting without a seed of its own (the readings'
# seed, --seed's too, does not travel: red's Griffin-Lim phases differ at the second endpoint)
"$A2I2A" run "$IN" -o "$T/a" --model "$MODEL" $SMALL $A --readings red,bend
"$A2I2A" run "$IN" -o "$T/b" --model "$MODEL" $SMALL --seed 9 --prompt cold --strength 0.8 --readings red,bend
ok "the first frame is the plain run of the first endpoint" 'same_pixels "$T/f/frames/0001.png" "$T/a/art.png"'
ok "the last frame is the plain run of the second endpoint" 'same_pixels "$T/f/frames/0003.png" "$T/b/art.png"'
ok "the middle frame is neither" '! same_pixels "$T/f/frames/0002.png" "$T/a/art.png" && ! same_pixels "$T/f/frames/0002.png" "$T/b/art.png"'
# preview.png: an APNG of the 3 frames; each frame, rebuilt as a PNG of its own from its chunks
# (fcTL + IDAT or fdAT), has the pixels of frames/000k.png
python3 - "$T/f/preview.png" "$T/pf" >"$T/apng" <<'PY'
import struct, sys, zlib
b = open(sys.argv[1], 'rb').read()
assert b[:8] == b'\x89PNG\r\n\x1a\n'
i, chunks = 8, []
while i < len(b):
    n = struct.unpack('>I', b[i:i+4])[0]
    t, d = b[i+4:i+8], b[i+8:i+8+n]
    assert struct.unpack('>I', b[i+8+n:i+12+n])[0] == zlib.crc32(t + d) & 0xffffffff, t
    chunks.append((t, d)); i += 12 + n
types = [t for t, _ in chunks]
assert types[0] == b'IHDR' and types[1] == b'acTL' and types[-1] == b'IEND', types
assert struct.unpack('>II', chunks[1][1]) == (3, 0), chunks[1][1]
frames, seqs = [], []
for t, d in chunks:
    if t == b'fcTL': seqs.append(struct.unpack('>I', d[:4])[0]); frames.append(b'')
    elif t == b'IDAT': frames[-1] += d
    elif t == b'fdAT': seqs.append(struct.unpack('>I', d[:4])[0]); frames[-1] += d[4:]
assert len(frames) == 3 and seqs == list(range(len(seqs))), seqs
def ch(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
for k, data in enumerate(frames):
    open('%s%d.png' % (sys.argv[2], k + 1), 'wb').write(b[:8] + ch(b'IHDR', chunks[0][1]) + ch(b'IDAT', data) + ch(b'IEND', b''))
print('ok')
PY
ok "preview.png is an APNG of the 3 frames ($(cat "$T/apng"))" '[ "$(cat "$T/apng")" = ok ]'
for k in 1 2 3; do
  ok "the preview's frame $k is frames/000$k.png" 'same_pixels "$T/pf$k.png" "$T/f/frames/000$k.png"'
done
"$A2I2A" run --replay "$T/f/run.json" -o "$T/f2" -q 2>"$T/err"; rc=$?
ok "--replay reproduces the travel ($(cat "$T/err"))" '[ $rc -eq 0 ] && cmp -s "$T/f/frames/0002.png" "$T/f2/frames/0002.png" && cmp -s "$T/f/red.wav" "$T/f2/red.wav"'

# --- over clips
"$A2I2A" run "$IN" -o "$T/c" --model "$MODEL" $SMALL $A $B --travel --clip 0.5 --overlap 0.1 2>"$T/err"; rc=$?
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["travel"]["alphas"]))' "$T/c/run.json" 2>/dev/null)
ok "run --travel over clips ($(cat "$T/err")): $n alphas, from 0 to 1" \
   '[ $rc -eq 0 ] && [ "${n:-0}" -ge 2 ] && alphas "$T/c/run.json" | grep -q "^0 .* 1$"'

# --- a loop over 4 frames: 0, 0.5, 1, 0.5, and the sound loops
"$A2I2A" run "$IN" -o "$T/l" --model "$MODEL" $SMALL $A $B --loop --frames 4 --overlap 0.1 2>"$T/err"; rc=$?
ok "run --loop --frames 4 ($(cat "$T/err")): alphas $(alphas "$T/l/run.json" 2>/dev/null)" \
   '[ $rc -eq 0 ] && [ "$(alphas "$T/l/run.json")" = "0 0.5 1 0.5" ]'
python3 - "$T/l/red.wav" >"$T/join" <<'PY'
import struct, sys
b = open(sys.argv[1], 'rb').read()
i, fmt, data = 12, None, None
while i + 8 <= len(b):
    cid, n = b[i:i+4], struct.unpack('<I', b[i+4:i+8])[0]
    if cid == b'fmt ': fmt = struct.unpack('<HHIIHH', b[i+8:i+24])
    if cid == b'data': data = b[i+8:i+8+n]
    i += 8 + n + (n & 1)
tag, ch, rate, _, _, bits = fmt
assert (tag in (3, 0xFFFE)) and bits == 32, fmt
x = struct.unpack('<%df' % (len(data) // 4), data)[::ch]  # the first channel
w = int(0.05 * rate)
edge = x[-w:] + x[:w]  # the last 50 ms, then the first: the loop's join in the middle
ordinary = max(abs(edge[k + 1] - edge[k]) for k in range(len(edge) - 1) if k != w - 1)
join = abs(x[0] - x[-1])
print("ok" if join <= ordinary else "join %.4g > ordinary %.4g" % (join, ordinary), "(join %.4g, largest step %.4g)" % (join, ordinary))
PY
ok "the loop's reading joins its end to its start without a click: $(cat "$T/join")" 'grep -q "^ok" "$T/join"'

# --- one painting at alpha 0 or 1 (--alpha, no travel over clips): the plain run of that
# endpoint, its sound byte for byte and its painting pixel for pixel (the PNG's record differs)
"$A2I2A" run "$IN" -o "$T/a0" --model "$MODEL" $SMALL $A $B --alpha 0 --readings red,bend 2>"$T/err"; rc0=$?
"$A2I2A" run "$IN" -o "$T/a1" --model "$MODEL" $SMALL $A $B --alpha 1 --readings red,bend 2>>"$T/err"; rc1=$?
ok "run --alpha 0 and --alpha 1 ($(cat "$T/err"))" '[ $rc0 -eq 0 ] && [ $rc1 -eq 0 ]'
ok "alpha 0: the first endpoint's plain run (its sounds byte for byte, art.png pixel for pixel)" \
   'cmp -s "$T/a0/red.wav" "$T/a/red.wav" && cmp -s "$T/a0/bend.wav" "$T/a/bend.wav" && same_pixels "$T/a0/art.png" "$T/a/art.png"'
ok "alpha 1: the second endpoint's plain run (bend.wav byte for byte, art.png pixel for pixel)" \
   'cmp -s "$T/a1/bend.wav" "$T/b/bend.wav" && same_pixels "$T/a1/art.png" "$T/b/art.png"'
ok "alpha 1: the readings keep the first endpoint's seed (red.wav is not the second's)" '! cmp -s "$T/a1/red.wav" "$T/b/red.wav"'
ok "run.json records the alpha and the other endpoint" \
   'grep -q "\"alpha\":[[:space:]]*1," "$T/a1/run.json" && grep -q "\"to_seed\":[[:space:]]*9," "$T/a1/run.json"'

# --- with a LoRA (merged into the model: the same at both endpoints) and with TAESD (the
# painting's encoder and decoder): the endpoints are still the plain runs with them
LORA="$FIXTURES/sd-ext/lora/tiny-sd1-lora.safetensors"
TAESD="$FIXTURES/sd-ext/tiny-taesd"
for extra in "--lora $LORA:0.8" "--taesd $TAESD"; do
  name=$(echo "$extra" | cut -c3-6)
  "$A2I2A" run "$IN" -o "$T/t$name" --model "$MODEL" $SMALL $A $B $extra --travel --frames 2 2>"$T/err"; rc=$?
  "$A2I2A" run "$IN" -o "$T/pa$name" --model "$MODEL" $SMALL $A $extra 2>>"$T/err"
  "$A2I2A" run "$IN" -o "$T/pb$name" --model "$MODEL" $SMALL --seed 9 --prompt cold --strength 0.8 $extra 2>>"$T/err"
  ok "travel $extra ($(cat "$T/err")): the frames are the endpoints' plain runs with it" \
     '[ $rc -eq 0 ] && same_pixels "$T/t$name/frames/0001.png" "$T/pa$name/art.png" && same_pixels "$T/t$name/frames/0002.png" "$T/pb$name/art.png"'
done
ok "the LoRA changes the painting" '! same_pixels "$T/tlora/frames/0001.png" "$T/a/art.png"'
ok "TAESD changes the painting" '! same_pixels "$T/ttaes/frames/0001.png" "$T/a/art.png"'
"$A2I2A" run "$IN" -o "$T/bad" --model "$MODEL" $SMALL $A --to-prompt "cold <lora:tiny-sd1-lora:0.5>" --to-seed 9 \
  --travel --frames 2 2>"$T/err"; rc=$?
ok "a LoRA tag in --to-prompt is refused: it cannot travel ($(cat "$T/err"))" \
   '[ $rc -eq 2 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "cannot travel" "$T/err" && [ ! -e "$T/bad" ]'

# --- batch shares the chain's options: an item travels too
mkdir -p "$T/lib" && cp "$IN" "$T/lib/in.wav"
"$A2I2A" batch "$T/lib" -o "$T/batch" --model "$MODEL" $SMALL $A $B --travel --frames 2 2>"$T/err"; rc=$?
item=$(ls -d "$T"/batch/*/frames 2>/dev/null | head -1)
ok "batch --travel --frames 2 ($(cat "$T/err")): the item's frames are the endpoints' plain runs" \
   '[ $rc -eq 0 ] && [ -n "$item" ] && same_pixels "$item/0001.png" "$T/a/art.png" && same_pixels "$item/0002.png" "$T/b/art.png"'

# --- refusals
for bad in "--frames 3" "--travel" "--travel --frames 3 --clip 0.5" "--travel --frames 1" "--alpha 2"; do
  "$A2I2A" run "$IN" -o "$T/bad" --model "$MODEL" $SMALL $bad 2>"$T/err"; rc=$?
  ok "refused: $bad ($(cat "$T/err"))" '[ $rc -eq 2 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && [ ! -e "$T/bad" ]'
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
