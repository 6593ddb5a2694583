#!/bin/sh
# The `turbo` preset end to end at 512x512 (issue 16: <= 15 s, hash cached), with the CPU time
# of each stage, so that a loaded machine still tells where the time goes.
# Usage (from the repository root, after building):
#   sh bench/bench_turbo.sh MODEL AUDIO [ROUNDS=2] [WORKDIR=/tmp/a2i2a-bench-turbo]
# MODEL: an SD 2.1-shaped checkpoint, e.g. /tmp/sd21.safetensors from
#   `build/bench/make_sd_checkpoint sd21 /tmp/sd21.safetensors`; AUDIO: e.g. examples/sampling.wav.
# A2I2A=path/to/a2i2a runs another binary (a baseline build) the same way.
# The first run hashes the checkpoint (cached afterwards in $XDG_CACHE_HOME/a2i2a) and is shown
# apart; then ROUNDS runs with the hash cached. Each prints `--timings`, /usr/bin/time's wall, user,
# system and max RSS, and the CPU seconds (all threads, from /proc/PID/stat at each progress line)
# between the stages the progress reports:
#   opening               the process, the model's header (mapped, not read)
#   fingerprint, a2i      the input's and the model's SHA-256 (the model's cached after the
#                         first run), the spectrogram
#   prompt                the text encoder and the VAE encode
#   painting 0/1          the UNet pass (one step: 2 steps at strength 0.5)
#   painting 1/1          the VAE decode and art.png
#   readings              every reading, their files
#   sheet                 loudness of the readings, sheet.png, the outputs' hashes, run.json
#   after the sheet       what the process did after its last line that was read in time
#                         (closing, exiting; the total CPU of /usr/bin/time minus the rest)
set -u
M=${1:?usage: bench_turbo.sh MODEL AUDIO [ROUNDS] [WORKDIR]}
AUDIO=${2:?usage: bench_turbo.sh MODEL AUDIO [ROUNDS] [WORKDIR]}
R=${3:-2}
W=${4:-/tmp/a2i2a-bench-turbo}
BIN=${A2I2A:-build/a2i2a}
mkdir -p "$W"
echo "$(date -u '+%Y-%m-%d %H:%M') UTC, $(nproc) cores, $BIN, model $M, turbo at 512x512, OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-unset}"

one_run() { # $1: label
  rm -f "$W/fifo"
  mkfifo "$W/fifo"
  echo "== $1, load $(cut -d' ' -f1-3 /proc/loadavg)"
  /usr/bin/time -o "$W/time" -f "wall %e s, user %U s, sys %S s, maxrss %M KB" "$BIN" run "$AUDIO" -o "$W/out" --force \
    --preset turbo --model "$M" --prediction epsilon --spec-width 512 --spec-height 512 --timings --progress plain \
    2>"$W/fifo" &
  tpid=$!
  pid=
  # each line with the time and the process's CPU ticks (utime + stime of all its threads)
  while IFS= read -r line; do
    [ -n "$pid" ] || pid=$(pgrep -P "$tpid" | head -1)
    ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo -)
    echo "$(date +%s.%N) $ticks $line"
  done <"$W/fifo" >"$W/lines"
  wait "$tpid"
  grep -E "timings|a2i2a:.*(error|cannot)" "$W/lines" | cut -d' ' -f3-
  cat "$W/time"
  # CPU between consecutive progress lines, summed per stage (the stage a line starts); the
  # readings as one stage (within a stage the CLI prints at most a line a second)
  total=$(awk '{print $5 + $8}' "$W/time")
  awk -v hz="$(getconf CLK_TCK)" -v total="$total" '
    $2 != "-" { last = $2; lastw = $1 }
    $4 ~ /^\[/ && $2 != "-" {
      stage = $0; sub(/^[^]]*\] */, "", stage); sub(/ *ETA.*/, "", stage)
      if (stage == "") stage = "opening"
      if (stage ~ /^readings/) stage = "readings"
      if (stage ~ /^fingerprint|^spectrogram/) stage = "fingerprint, a2i"
      if (prev != "" && stage != prev) { cpu[prev] += ($2 - t) / hz; wall[prev] += $1 - w; t = $2; w = $1 }
      if (prev == "") { t = $2; w = $1 }
      if (!(stage in seen)) { seen[stage] = 1; order[n++] = stage }
      prev = stage
    }
    END {
      cpu[prev] += (last - t) / hz; wall[prev] += lastw - w
      for (i = 0; i < n; i++) printf "  %-18s CPU %6.2f s  wall %6.2f s\n", order[i], cpu[order[i]], wall[order[i]]
      printf "  %-18s CPU %6.2f s\n", "after the sheet", total - last / hz
    }' "$W/lines"
}

one_run "first run (hashes the checkpoint)"
r=1
while [ $r -le "$R" ]; do
  one_run "round $r (hash cached)"
  r=$((r + 1))
done
echo "load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
