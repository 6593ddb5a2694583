#!/usr/bin/env bash
# The hardening steps of docs/reliability.md, after the README's test command: the whole suite
# again under ASan+UBSan, and every libFuzzer target for 30 s on its corpus (a finding fails,
# with libFuzzer's report). Not yet part of .ci/run: it joins it once it has passed on the
# merged tree within CI's time (docs/reliability.md, "In CI").
set -euo pipefail
cd "$(dirname "$0")/.."
export A2I2A_FIXTURES_REQUIRED=1
step() { echo "ci: $1 ($(date -u +%H:%M:%S))"; }
step "the suite under AddressSanitizer and UndefinedBehaviorSanitizer"
cmake -S . -B build-sanitize -DA2I2A_SANITIZE=ON && cmake --build build-sanitize -j2
ctest --test-dir build-sanitize --output-on-failure -j2
step "the fuzz targets, 30 s each"
CC=clang cmake -S . -B build-fuzz -DA2I2A_FUZZ=ON && cmake --build build-fuzz -j2 --target fuzz
tests/fuzz/run.sh build-fuzz 30
step "done"
