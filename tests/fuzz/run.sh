#!/usr/bin/env bash
# Runs the libFuzzer targets of a build configured with A2I2A_FUZZ=ON (tests/CMakeLists.txt),
# each for SECONDS on a copy of its seed corpus (tests/fuzz/corpus/NAME) with its dictionary,
# one after the other. A crash, a leak, a timeout or running out of memory fails the run, and
# libFuzzer's report is printed: the stack, and the input (base64 for small ones; the file is
# kept in ARTIFACTS, default ./fuzz-artifacts). Prints one line per target: executions and
# coverage (libFuzzer's cov and ft).
#   tests/fuzz/run.sh BUILD_DIR SECONDS [NAME...]     (NAME: exif, image, ...; default all)
set -uo pipefail
build=$1 seconds=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
artifacts=${ARTIFACTS:-$PWD/fuzz-artifacts}
mkdir -p "$artifacts"
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for c in "$here"/corpus/*/; do names+=("$(basename "$c")"); done
fi

dict_of() {
  case $1 in
    exif) echo exif ;; image) echo image ;; audio) echo audio ;; tokenizer) echo tokenizer ;;
    style_json | runjson | model_config | safetensors) echo json ;;
  esac
}

# The sanitizers as in the sanitizer build; the leak libsndfile has on a broken Ogg header
# (tests/lsan.supp) is not ours to fix.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$here/../lsan.supp:print_suppressions=0}
export OMP_NUM_THREADS=1

failed=0
for name in "${names[@]}"; do
  bin=$build/tests/fuzz_$name
  if [ ! -x "$bin" ]; then
    echo "fuzz $name: $bin is not built (cmake --build $build --target fuzz)" >&2
    failed=1
    continue
  fi
  work=$(mktemp -d)
  mkdir "$work/corpus"
  cp "$here/corpus/$name"/* "$work/corpus/"
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$artifacts/$name-")
  d=$(dict_of "$name")
  [ -n "$d" ] && args+=(-dict="$here/$d.dict")
  "$bin" "${args[@]}" "$work/corpus" >"$work/log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
  cov=$(grep -o 'cov: [0-9]*' "$work/log" | tail -1)
  ft=$(grep -o 'ft: [0-9]*' "$work/log" | tail -1)
  if [ $rc -ne 0 ]; then
    echo "fuzz $name: FAILED (libFuzzer exit $rc) after ${execs:-?} executions; its report:" >&2
    grep -v '^#[0-9]*.*\(NEW\|REDUCE\|pulse\|INITED\|RELOAD\)' "$work/log" | tail -80 >&2
    failed=1
  else
    echo "fuzz $name: ${execs:-?} executions in ${seconds} s, ${cov:-cov: ?}, ${ft:-ft: ?}"
  fi
  rm -rf "$work"
done
exit $failed
