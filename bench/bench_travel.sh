#!/bin/bash
# Travel, grids and tiling (issue 14) on a full-size random-weight SD 1.5-shaped checkpoint
# (bench/make_sd_checkpoint; F16, 2.13 GB), at one denoising step (--steps 2 --strength 0.5) and
# guidance 1 (no unconditional pass), so that the whole script takes minutes on a quiet machine:
#  1. a 60 s input travelled over its clips (the seed style, 400x296 paintings, 10 s clips
#     crossfaded over 0.5 s; RIFFUSION=1: the riffusion preset's 5.11 s clips at 512x512):
#     time per clip, CPU time and peak RSS; with PLAIN=1 the same clips without travel beside it;
#  2. a 2x2 grid against the same four cells as separate `a2i2a run` calls (the model loaded
#     once against four times), the cells checked byte for byte against the runs; the paintings
#     64x64 (GRID_SIZE), so that what is measured is mostly what the grid saves: loading the
#     model and encoding the prompt per run;
#  3. --tile x (and xy with XY=1) against the same run untiled, at the seed style's 400x296.
# Usage (from the repository root, after building): [PARTS="travel grid tile"] bash bench/bench_travel.sh [WORKDIR [MODEL]]
# MODEL defaults to /tmp/sd15.safetensors (made when missing). Wall times on a shared machine
# are inflated by the others' load: each line gives the load average and the CPU time too.
set -u
W=${1:-/tmp/a2i2a-bench-travel}
M=${2:-/tmp/sd15.safetensors}
A=${A2I2A:-build/a2i2a}
mkdir -p "$W"
rm -f "$W/times.log"
[ -f "$M" ] || build/bench/make_sd_checkpoint sd15 "$M" || exit 1
[ -f "$W/in60.wav" ] || build/bench/make_bench_audio "$W/in60.wav" 60 || exit 1
load() { cut -d' ' -f1-3 /proc/loadavg; }
# timed LABEL COMMAND...: wall, user + sys CPU and peak RSS of one command (/usr/bin/time)
timed() {
  local label=$1; shift
  echo "== $label: $(date -u +%H:%M:%S) UTC, load $(load)"
  set -- /usr/bin/time -a -o "$W/times.log" -f "$label|%e|%U|%S|%M" "$@"
  "$@" 2>&1 | grep -E "timings|a2i2a:"
  awk -F'|' 'END { printf "%s: wall %.1f s, cpu %.1f s (user %.1f + sys %.1f), maxrss %d MB\n", $1, $2, $3 + $4, $3, $4, $5 / 1024 }' "$W/times.log"
}
# the sum of wall and CPU seconds of the timed commands whose label matches
sum() { awk -F'|' -v re="$1" '$1 ~ re { w += $2; c += $3 + $4 } END { printf "%.1f %.1f", w, c }' "$W/times.log"; }
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; $(date -u '+%Y-%m-%d %H:%M UTC')"

PARTS=${PARTS:-travel grid tile}
part() { case " $PARTS " in *" $1 "*) return 0;; esac; return 1; }

# 1. travel over the clips of 60 s
if part travel; then
if [ "${RIFFUSION:-0}" = 1 ]; then STYLE="--preset riffusion"; else STYLE="--preset seed --clip 10 --overlap 0.5"; fi
# one line: sh -c would end the command at a newline
TRAVEL="$STYLE --model $M --steps 2 --strength 0.5 --guidance 1 --seed 1 --to-seed 2"
TRAVEL="$TRAVEL --prompt 'waves on a stony shore' --to-prompt 'church bells in fog' --readings red --no-sheet --force --timings"
timed "travel 60 s" sh -c "$A run '$W/in60.wav' -o '$W/travel' $TRAVEL --travel"
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["travel"]["alphas"]))' "$W/travel/run.json")
echo "clips: $n"
if [ "${PLAIN:-0}" = 1 ]; then
  timed "plain clips 60 s" sh -c "$A run '$W/in60.wav' -o '$W/plain' $TRAVEL"
fi
fi

# 2. a 2x2 grid against four separate runs of the same cells
IN=examples/sampling.wav
COMMON="--model $M --steps 2 --guidance 1 --readings red,bend"
if part grid; then
GRID_SIZE=${GRID_SIZE:-"64 64"}
set -- $GRID_SIZE
timed "grid 2x2" $A grid "$IN" -o "$W/grid" --force --model "$M" --set steps=2 --set guidance=1 \
  --set readings=red,bend --set spec-width=$1 --set spec-height=$2 --x seed=1,2 --y strength=0.5,0.7 -q
for s in 1 2; do for g in 0.5 0.7; do
  timed "run seed $s strength $g" $A run "$IN" -o "$W/sep_${s}_$g" --force $COMMON --spec-width $1 --spec-height $2 \
    --seed $s --strength $g --timings -q
done; done
same=0
for x in 1 2; do for y in 1 2; do
  g=$([ $y = 1 ] && echo 0.5 || echo 0.7)
  cmp -s "$W/grid/x${x}_y$y/red.wav" "$W/sep_${x}_$g/red.wav" && same=$((same + 1))
done; done
echo "grid (wall, cpu): $(sum '^grid'); the four runs: $(sum '^run seed'); cells equal to their runs (red.wav): $same of 4"
fi

# 3. the cost of tiling
part tile && for tile in none x $([ "${XY:-0}" = 1 ] && echo xy); do
  opt=$([ $tile = none ] || echo "--tile $tile")
  timed "tile $tile" $A run "$IN" -o "$W/tile_$tile" --force $COMMON --strength 0.5 --seed 1 $opt --timings -q
done
