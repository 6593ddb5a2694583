#!/bin/sh
# Peak RSS and time of a whole img2img, default mode against --low-memory (issue 16).
# Usage (from the repository root, after building):
#   sh bench/bench_memory.sh MODEL [SIZE=512] [STEPS=2] [ROUNDS=1] [WORKDIR=/tmp/a2i2a-bench-memory]
# MODEL: e.g. /tmp/sd15.safetensors from `build/bench/make_sd_checkpoint sd15 /tmp/sd15.safetensors`.
# The picture is examples/sampling.wav's spectrogram worked at SIZE x SIZE; strength 1 so that
# every step runs (the peak does not depend on the step count); guidance 2.5 (the UNet's
# [uncond, cond] pair). Rounds interleave the two modes. Prints each run's peak RSS (the
# program's own --timings line), /usr/bin/time's wall, user and system seconds and max RSS, and
# the load average before and after (the machine may be shared).
set -u
M=${1:?usage: bench_memory.sh MODEL [SIZE] [STEPS] [ROUNDS] [WORKDIR]}
S=${2:-512}
N=${3:-2}
R=${4:-1}
W=${5:-/tmp/a2i2a-bench-memory}
mkdir -p "$W"
build/a2i2a a2i examples/sampling.wav -o "$W/in.png" --force --quiet || exit 1
echo "$(date -u '+%Y-%m-%d %H:%M') UTC, $(nproc) cores, $(uname -m), model $M, ${S}x$S, $N steps"
r=1
while [ $r -le "$R" ]; do
  for mode in default low-memory; do
    extra=
    [ $mode = low-memory ] && extra=--low-memory
    echo "== round $r, $mode, load $(cut -d' ' -f1-3 /proc/loadavg)"
    /usr/bin/time -f "wall %e s, user %U s, sys %S s, maxrss %M KB" build/a2i2a i2i "$W/in.png" -o "$W/$mode.png" \
      --force --model "$M" --width "$S" --height "$S" --steps "$N" --strength 1 --seed 1 -v --progress none $extra \
      2>&1 | grep -E "timings|wall|a2i2a:.*(error|cannot)"
  done
  r=$((r + 1))
done
echo "load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
