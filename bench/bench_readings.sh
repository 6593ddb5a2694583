#!/bin/bash
# Time and peak RSS of every reading on a 400×296 and a 512×512 image (one run each).
# usage: bench/bench_readings.sh [A2I2A] [SHARED]
A2I2A=${1:-build/a2i2a}; SHARED=${2:-../shared}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
echo "| image | reading | wall (s) | user+sys (s) | peak RSS (MB) |"; echo "|---|---|---|---|---|"
for img in "$SHARED/fixtures/seed/images/i02_gnome_blobs_400x296.png" "$SHARED/fixtures/seed/riffusion/r02_humpback_mono_5110ms/image.png"; do
  for r in $("$A2I2A" i2a --list-readings | awk '{print $1}'); do
    /usr/bin/time -f "%e %U %S %M" -o "$T/t" "$A2I2A" i2a "$img" -o "$T/$r.wav" --reading "$r" --force >/dev/null 2>&1
    read -r wall u s rss <"$T/t"
    printf '| %s | %s | %s | %.2f | %.0f |\n' "$(basename "$(dirname "$img")")/$(basename "$img")" "$r" "$wall" "$(echo "$u + $s" | bc)" "$(echo "$rss / 1024" | bc -l)"
  done
done
