#!/bin/sh
# End-to-end `a2i2a run` timings: the seed and turbo presets on full-size random-weight SD 1.5-
# and SD 2.1-shaped checkpoints (bench/make_sd_checkpoint), on examples/sampling.wav.
# Usage (from the repository root, after building): sh bench/bench_run.sh [WORKDIR]
# Prints `run --timings` (wall time per stage, peak RSS) and /usr/bin/time's view of each run.
# The first run of a checkpoint hashes it (cached afterwards in $XDG_CACHE_HOME/a2i2a).
set -u
W=${1:-/tmp/a2i2a-bench-run}
mkdir -p "$W"
for shape in sd15 sd21; do
  [ -f "$W/$shape.safetensors" ] || build/bench/make_sd_checkpoint "$shape" "$W/$shape.safetensors" || exit 1
done
for job in "turbo sd15" "turbo sd21" "seed sd15" "seed sd21"; do
  set -- $job
  echo "== preset $1, $2-shaped, $(date -u +%H:%M:%S) UTC, load $(cut -d' ' -f1-3 /proc/loadavg)"
  /usr/bin/time -f "wall %e s, user %U s, sys %S s, maxrss %M KB" build/a2i2a run examples/sampling.wav \
    -o "$W/run_$1_$2" --force --preset "$1" --model "$W/$2.safetensors" --timings 2>&1 | grep -E "timings|wall|a2i2a:"
done
