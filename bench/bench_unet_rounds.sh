#!/bin/sh
# Interleaved UNet timings on a shared machine: runs bench_unet for each variant in turn, ROUNDS
# times, and prints per variant the min and median of the rounds' best times (for a batch: the
# best per image), wall and CPU (all threads; with OMP_WAIT_POLICY=PASSIVE the work done, which
# a loaded machine inflates far less than the wall time). Interleaving spreads the machine's slow
# phases over every variant. THREADS (environment, default 2) sets the thread count.
# usage (from the repository root, after building):
#   sh bench/bench_unet_rounds.sh ROUNDS MODEL "LABEL:bench_unet options" ...
# e.g. sh bench/bench_unet_rounds.sh 3 /tmp/sd15.safetensors "one:--size 37x50" "pair:--size 37x50 --batch 2"
set -u
rounds=$1 model=$2
shift 2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
r=0
while [ "$r" -lt "$rounds" ]; do
  i=0
  for v in "$@"; do
    # shellcheck disable=SC2086 # the options are meant to split
    build/bench/bench_unet --model "$model" --threads "${THREADS:-2}" --reps 2 ${v#*:} >"$out/log" 2>&1
    sed -n 's/^sgemm ceiling.*: \([0-9.]*\) GFLOP.*/\1/p' "$out/log" >>"$out/sgemm"
    grep '^latent' "$out/log" | head -1 |
      sed -E 's/.*\) x([0-9]+):.*best ([0-9.]+) s.*CPU ([0-9.]+) s.*/\2 \3 \1/; s/^latent.*best ([0-9.]+) s.*CPU ([0-9.]+) s.*/\1 \2 1/' |
      awk '{ printf "%.3f %.3f\n", $1, $2 / $3 }' >>"$out/$i"
    i=$((i + 1))
  done
  r=$((r + 1))
done
i=0
for v in "$@"; do
  sort -n "$out/$i" | awk -v l="${v%%:*}" '{ t[NR] = $1 } END { printf "%-12s wall min %.2f s  median %.2f s", l, t[1], t[int((NR + 1) / 2)] }'
  sort -n -k2 "$out/$i" | awk '{ c[NR] = $2 } END { printf "   CPU min %.2f s  median %.2f s  (%d rounds)\n", c[1], c[int((NR + 1) / 2)], NR }'
  i=$((i + 1))
done
sort -n "$out/sgemm" | awk -v n="${THREADS:-2}" '{ g[NR] = $1 } END { printf "sgemm 2048^3, %d threads, same runs: min %.1f  median %.1f  max %.1f GFLOP/s\n", n, g[1], g[int((NR + 1) / 2)], g[NR] }'
