#!/bin/bash
# Times `a2i2a a2i` on a 3-minute 44.1 kHz stereo file for each style (wall time, peak RSS via
# /usr/bin/time -v), and the notebook's own torchaudio code (cell 13) on the same file and
# machine. Debian's python3-torchaudio is installed here, for this benchmark only (never by the
# product or the tests); if it cannot be installed, the script says so.
# usage: bench/bench_a2i.sh [BUILD_DIR] [RUNS]   (from the repository root; prints Markdown)
set -u
BUILD=${1:-build}
RUNS=${2:-3}
A2I2A=$BUILD/a2i2a
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
[ -x /usr/bin/time ] || { apt-get install -y -qq time >/dev/null 2>&1 || { echo "needs /usr/bin/time"; exit 1; }; }
"$BUILD/bench/make_bench_audio" "$T/bench180.wav" 180 || exit 1

# measure LABEL CMD... -> best wall time of RUNS and the peak RSS of that run
measure() {
  local label=$1; shift
  local best="" rss="" cpu=""
  for r in $(seq "$RUNS"); do
    /usr/bin/time -v "$@" >"$T/out.txt" 2>"$T/time.txt" || { echo "| $label | failed: $(grep -v '^\s' "$T/time.txt" | head -2 | tr '\n' ' ') | | |"; return; }
    local w; w=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$T/time.txt")
    local m; m=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$T/time.txt")
    local u; u=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u + s}' "$T/time.txt")
    if [ -z "$best" ] || awk "BEGIN{exit !($w < $best)}"; then best=$w; rss=$m; cpu=$u; fi
  done
  printf '| %s | %.2f | %.2f | %.0f |\n' "$label" "$best" "$cpu" "$((rss / 1024))"
}

echo "### a2i on a 3-minute 44.1 kHz stereo 16-bit WAV ($(date -u '+%Y-%m-%d %H:%M UTC'))"
echo
echo "Machine: $(lscpu | awk -F': *' '/Model name/ {print $2; exit}'), $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo);"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) (shared machine). Best of $RUNS runs."
echo
echo "| command | wall s | CPU s (user+sys) | peak RSS MiB |"
echo "|---|---|---|---|"
for s in seed riffusion fullband; do
  measure "a2i2a a2i --style $s" "$A2I2A" a2i "$T/bench180.wav" -o "$T/$s.png" --force --style $s
done
measure "a2i2a a2i --style riffusion --stereo" "$A2I2A" a2i "$T/bench180.wav" -o "$T/rs.png" --force --style riffusion --stereo
measure "a2i2a a2i --style fullband --stereo" "$A2I2A" a2i "$T/bench180.wav" -o "$T/fs.png" --force --style fullband --stereo
measure "a2i2a a2i --style seed --threads 1" "$A2I2A" a2i "$T/bench180.wav" -o "$T/s1.png" --force --style seed --threads 1
measure "a2i2a a2i --style fullband --threads 1" "$A2I2A" a2i "$T/bench180.wav" -o "$T/f1.png" --force --style fullband --threads 1

# The notebook's cell 13 with torchaudio (Debian python3-torchaudio 0.13.1, torch 1.13.1).
if ! /usr/bin/python3 -c "import torchaudio, PIL, numpy" 2>/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends python3-torchaudio python3-pil python3-numpy >"$T/apt.txt" 2>&1 || true
fi
if /usr/bin/python3 -c "import torchaudio, PIL, numpy" 2>/dev/null; then
  cat >"$T/notebook_a2i.py" <<'EOF'
import sys
import numpy as np
import torch, torchaudio
import torchaudio.transforms as T
from PIL import Image
waveform, sr = torchaudio.load(sys.argv[1])
spec = T.Spectrogram(n_fft=512)(waveform)
spec = spec.mean(dim=0)
spec_db = 10 * torch.log10(spec + 1e-9)
norm = (spec_db - spec_db.min()) / (spec_db.max() - spec_db.min())
img = Image.fromarray((norm * 255).numpy().astype(np.uint8)).convert("RGB").resize((400, 300))
img.save(sys.argv[2])
EOF
  measure "notebook cell 13 (torchaudio $(/usr/bin/python3 -c 'import torchaudio; print(torchaudio.__version__)'), Debian python3)" /usr/bin/python3 "$T/notebook_a2i.py" "$T/bench180.wav" "$T/nb.png"
  measure "python3 -c 'import torch, torchaudio' (start-up alone)" /usr/bin/python3 -c "import torch, torchaudio"
else
  echo
  echo "python3-torchaudio could not be installed here ($(tail -1 "$T/apt.txt" 2>/dev/null)); the notebook's code was not timed."
fi
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
