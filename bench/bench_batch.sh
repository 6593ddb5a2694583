#!/bin/bash
# a2i2a batch: (1) the per-item overhead of batch against lone `a2i2a run` calls on the same
# items (the model loaded once vs per call; ids, hashes and batch.json per item), and (2) on 8
# items, 1 process x 2 threads against 2 processes x 1 thread (two shards side by side).
# Usage (from the repository root, after building): bash bench/bench_batch.sh [WORKDIR]
# The tiny model (examples/tiny-sd1): the numbers are the chain's fixed costs and its small
# paintings, not SD 1.5's (docs/scale-out.md gives those).
set -u
W=${1:-/tmp/a2i2a-bench-batch}
rm -rf "$W" && mkdir -p "$W"
export XDG_CACHE_HOME="$W/cache"
. tests/support/batch.sh
sounds "$W/lib" 4
A=${A2I2A:-build/a2i2a}
SETTINGS="-m examples/tiny-sd1 --spec-width 128 --spec-height 96 --steps 20 --readings red,bend,chirp"
now() { date +%s.%N; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "settings: $SETTINGS, 4 sounds x 2 seeds = 8 items"
"$A" run "$W/lib/tone1.wav" -o "$W/warm" $SETTINGS --threads 1 -q # the model hash cached, pages warm

for rep in 1; do
  echo "== load $(load)"
  # (1) 8 lone runs, one process each, one after the other, 1 thread
  mkdir -p "$W/lone$rep"
  t0=$(now)
  for f in "$W"/lib/*.wav; do for s in 1 2; do
    "$A" run "$f" -o "$W/lone$rep/$(basename "$f" .wav)_$s" $SETTINGS --seed $s --threads 1 -q || exit 1
  done; done
  t1=$(now)
  "$A" batch "$W/lib" -o "$W/batch$rep" $SETTINGS --seeds 1,2 --threads 1 -q || exit 1
  t2=$(now)
  "$A" batch "$W/lib" -o "$W/batch$rep" $SETTINGS --seeds 1,2 --threads 1 -q || exit 1
  t3=$(now)
  awk -v l="$t0" -v b="$t1" -v c="$t2" -v d="$t3" 'BEGIN {
    printf "8 lone runs: %.2f s (%.3f s per item); batch: %.2f s (%.3f s per item); difference per item: %+.3f s\n",
      b - l, (b - l) / 8, c - b, (c - b) / 8, ((c - b) - (b - l)) / 8
    printf "batch again over the finished batch (expansion, 8 items verified, nothing to do): %.2f s\n", d - c }'
  # (2) 2 processes x 1 thread, then 1 process x 2 threads with OpenMP's default wait policy
  # (threads spin a while at each barrier) and with OMP_WAIT_POLICY=PASSIVE (they sleep)
  t0=$(now)
  "$A" batch "$W/lib" -o "$W/p2t1_$rep" $SETTINGS --seeds 1,2 --threads 1 -q --shard 0/2 & bg=$!
  "$A" batch "$W/lib" -o "$W/p2t1_$rep" $SETTINGS --seeds 1,2 --threads 1 -q --shard 1/2 || exit 1
  wait $bg || exit 1
  t1=$(now)
  OMP_WAIT_POLICY=PASSIVE "$A" batch "$W/lib" -o "$W/p1t2p_$rep" $SETTINGS --seeds 1,2 --threads 2 -q || exit 1
  t2=$(now)
  "$A" batch "$W/lib" -o "$W/p1t2_$rep" $SETTINGS --seeds 1,2 --threads 2 -q || exit 1
  t3=$(now)
  awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" 'BEGIN {
    printf "8 items: 2 processes x 1 thread %.2f s; 1 process x 2 threads %.2f s (OMP_WAIT_POLICY=PASSIVE), %.2f s (default)\n", b - a, c - b, d - c }'
  echo "   load after: $(load)"
done
/usr/bin/time -f "peak RSS of one batch process (tiny model, these settings): %M KB" \
  "$A" batch "$W/lib" -o "$W/rss" $SETTINGS --seeds 1 --threads 1 -q
