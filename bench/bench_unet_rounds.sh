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
    build/bench/bench_unet --model "$model" --threads "${THREADS:-2}" --reps 2 ${v#*:} 2>&1 | grep '^latent' | head -1 |
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
