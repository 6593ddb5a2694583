#!/usr/bin/env bash
# The hardening steps of docs/reliability.md, after the README's test command:
#   fuzz      every libFuzzer target for 30 s on its corpus, two at a time (a finding fails,
#             with libFuzzer's report) — part of .ci/run
#   sanitize  the whole suite again under ASan+UBSan (the benchmark programs left out of that
#             build) — part of .ci/run
#   (no argument: both)
set -euo pipefail
cd "$(dirname "$0")/.."
export A2I2A_FIXTURES_REQUIRED=1
step() { echo "ci: $1 ($(date -u +%H:%M:%S))"; }
steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(sanitize fuzz)
for s in "${steps[@]}"; do
  case $s in
    sanitize)
      step "the suite under AddressSanitizer and UndefinedBehaviorSanitizer"
      cmake -S . -B build-sanitize -DA2I2A_SANITIZE=ON -DA2I2A_BENCH=OFF && cmake --build build-sanitize -j2
      ctest --test-dir build-sanitize --output-on-failure -j2 ;;
    fuzz)
      step "the fuzz targets, 30 s each, two at a time"
      CC=clang cmake -S . -B build-fuzz -DA2I2A_FUZZ=ON && cmake --build build-fuzz -j2 --target fuzz
      FUZZ_JOBS=2 tests/fuzz/run.sh build-fuzz 30 ;;
    *) echo "ci-hardening.sh: unknown step '$s' (sanitize, fuzz)" >&2; exit 2 ;;
  esac
done
step "done"
