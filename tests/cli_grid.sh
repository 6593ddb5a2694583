# `a2i2a grid` on a fixture sound with the tiny fixture model: every cell is byte for byte what a
# separate `a2i2a run` with its settings writes; grid.png has a labelled row and column per
# value; grid.json indexes the cells; bad axes are refused in one line before any work. Also
# `run --tile x`: run.json records it and --replay reproduces it.
set -u
. tests/support/ok.sh
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export XDG_CACHE_HOME="$T/cache" # the model SHA-256 cache
. tests/support/fixtures.sh
unset A2I2A_MODEL
MODEL="$FIXTURES/sd/tiny-sd1"
SMALL="--spec-width 96 --spec-height 64 --steps 2 --readings red,chirp --no-sheet"
SMALL_SET="--set spec-width=96 --set spec-height=64 --set steps=2 --set readings=red,chirp --set no-sheet=true"
IN="$FIXTURES/seed/audio/a06_espeak_22k05_mono_s16.wav"
err() { "$A2I2A" "$@" >"$T/out" 2>"$T/err"; rc=$?; }
one_line() { [ "$(wc -l <"$T/err")" -eq 1 ]; }
same_run() { # same_run CELL RUN: the same files, byte for byte (run.json: its outputs' hashes)
  for f in spectrogram.png art.png red.wav chirp.wav; do cmp -s "$1/$f" "$2/$f" || return 1; done
  for f in "$1"/*.png "$1"/*.wav; do grep -q "$(sha256sum "$f" | cut -c1-64)" "$2/run.json" || return 1; done
}

# --- refusals: one line, exit 2, nothing written
for bad in "--x strenght=0.5,0.7" "--x strength=0.5,1.5" "--x model=a,b" "--x sampler=euler,nope" \
           "--x seed=1,-2" "--x strength" "--x strength=0.5 --y strength=0.7" "--z seed=1,2" \
           "--x strength=0.5 --set steps=0"; do
  err grid "$IN" -o "$T/bad" --model "$MODEL" $bad
  ok "refused before work: $bad ($(cat "$T/err"))" '[ $rc -eq 2 ] && one_line && [ ! -e "$T/bad" ]'
done
err grid "$IN" -o "$T/bad" --model "$MODEL" --x strenght=0.5
ok "a typo'd key suggests the option" 'grep -q "did you mean strength?" "$T/err"'
err grid "$IN" -o "$T/bad" --model "$MODEL" --x strength=0.5,0.05 $SMALL_SET
ok "a cell that cannot run (steps x strength < 1) is refused before any cell runs" \
   '[ $rc -ne 0 ] && one_line && [ ! -e "$T/bad/x1" ]'

# --- a 2 x 2 grid
err grid "$IN" -o "$T/g" --model "$MODEL" --x strength=0.6,0.9 --y seed=3,4 $SMALL_SET -q
ok "grid exits 0 ($(cat "$T/err"))" '[ $rc -eq 0 ]'
for cell in "x1_y1 0.6 3" "x2_y1 0.9 3" "x1_y2 0.6 4" "x2_y2 0.9 4"; do
  set -- $cell
  c=$1 s=$2 seed=$3
  "$A2I2A" run "$IN" -o "$T/r_$c" --model "$MODEL" $SMALL --strength "$s" --seed "$seed" -q
  ok "cell $c = run --strength $s --seed $seed, byte for byte" 'same_run "$T/g/$c" "$T/r_$c"'
  ok "cell $c has its run.json" '[ -f "$T/g/$c/run.json" ]'
done
ok "the cells differ" '! cmp -s "$T/g/x1_y1/art.png" "$T/g/x2_y2/art.png"'
ok "grid.png is a PNG" '[ "$(od -An -tx1 -N8 "$T/g/grid.png" | tr -d " \n")" = "89504e470d0a1a0a" ]'
python3 - "$T/g/grid.json" >"$T/idx" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
ax = [(a["axis"], a["key"], a["param"], a["values"]) for a in j["axes"]]
assert ax == [("x", "strength", "i2i.strength", ["0.6", "0.9"]), ("y", "seed", "i2i.seed", ["3", "4"])], ax
cells = {c["dir"]: c for c in j["cells"]}
assert sorted(cells) == ["x1_y1", "x1_y2", "x2_y1", "x2_y2"], cells
assert cells["x2_y1"]["settings"] == {"i2i.strength": 0.9, "i2i.seed": 3}, cells["x2_y1"]
assert cells["x1_y2"]["x"] == 0 and cells["x1_y2"]["y"] == 1
print("ok")
PY
ok "grid.json: the axes and each cell's settings ($(cat "$T/idx"))" '[ "$(cat "$T/idx")" = ok ]'
# the labels: each value's label is drawn in the margins (5x7 font, light on dark): the label
# strip above each column and left of each row holds light pixels, the painting cells' margins none
python3 - "$T/g/grid.png" >"$T/lab" <<'PY'
import sys
sys.path.insert(0, 'tests/support')
from png_rows import png_rows
rows = png_rows(sys.argv[1]); h, w = len(rows), len(rows[0]) // 3
light = lambda x, y: min(rows[y][3 * x:3 * x + 3]) > 200
# layout of chain_grid: margin 16, line 24, label column 6 chars (seed=3) * 12 + 16, cells 216 x 166
M, L, LW, CW, CH = 16, 24, 6 * 12 + 16, 216, 166
def any_light(x0, y0, x1, y1): return any(light(x, y) for y in range(y0, y1) for x in range(x0, x1))
cols = [any_light(M + LW + i * CW, M + L, M + LW + i * CW + 200, M + 2 * L) for i in range(2)]
rws = [any_light(M, M + 2 * L + j * CH, M + LW - 16, M + 2 * L + j * CH + 150) for j in range(2)]
print("ok" if all(cols) and all(rws) and w == M + LW + 2 * CW else "cols %s rows %s width %d" % (cols, rws, w))
PY
ok "grid.png: a label over each column and left of each row ($(cat "$T/lab"))" '[ "$(cat "$T/lab")" = ok ]'
err grid "$IN" -o "$T/g" --model "$MODEL" --x strength=0.6,0.9 --y seed=3,4 $SMALL_SET -q
ok "an existing grid is not replaced without --force ($(cat "$T/err"))" '[ $rc -ne 0 ] && one_line'

# --- run --tile x: recorded, replayed
"$A2I2A" run "$IN" -o "$T/t" --model "$MODEL" $SMALL --tile x -q 2>"$T/err"; rc=$?
ok "run --tile x: run.json records it ($(cat "$T/err"))" \
   '[ $rc -eq 0 ] && python3 -c "import json,sys; sys.exit(json.load(open(sys.argv[1]))[\"i2i\"][\"tile\"] != \"x\")" "$T/t/run.json"'
"$A2I2A" run --replay "$T/t/run.json" -o "$T/t2" -q 2>"$T/err"; rc=$?
ok "--replay reproduces the tiled run ($(cat "$T/err"))" '[ $rc -eq 0 ] && cmp -s "$T/t/art.png" "$T/t2/art.png"'
err run "$IN" -o "$T/bad" --model "$MODEL" --tile z
ok "--tile z refused ($(cat "$T/err"))" '[ $rc -eq 2 ] && one_line && [ ! -e "$T/bad" ]'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
