# A run.json made by another version: where the outputs differ, the replay names both versions
# instead of reporting a bug; the same version with a wrong hash is still a hard failure.
set -u
. tests/support/ok.sh
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export XDG_CACHE_HOME="$T/cache"
. tests/support/fixtures.sh
IN="$FIXTURES/seed/audio/a06_espeak_22k05_mono_s16.wav"
"$A2I2A" run "$IN" -o "$T/a" --model examples/tiny-sd1 --spec-width 96 --spec-height 64 --steps 4 --readings red 2>"$T/err"
ok "run ($(cat "$T/err"))" '[ -f "$T/a/run.json" ]'
v=$("$A2I2A" --version | awk '{print $2}')
# art.png recorded with another hash, as if an older version had written it
python3 - "$T/a/run.json" "$T/old.json" "$T/same.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["outputs"]["art.png"] = "0" * 64
json.dump(r, open(sys.argv[3], "w"))
r["version"] = "0.1.0"
json.dump(r, open(sys.argv[2], "w"))
PY
"$A2I2A" run --replay "$T/old.json" -o "$T/b" 2>"$T/err"; rc=$?
ok "older version: exit 1" '[ $rc -eq 1 ]'
ok "older version: one line naming both versions and the file ($(cat "$T/err"))" \
  '[ $(wc -l <"$T/err") -eq 1 ] && grep -q "art.png" "$T/err" && grep -q "0.1.0" "$T/err" && grep -q "this is $v" "$T/err"'
"$A2I2A" run --replay "$T/same.json" -o "$T/c" 2>"$T/err"; rc=$?
ok "same version, wrong hash: exit 1, reported as a difference ($(cat "$T/err"))" \
  '[ $rc -eq 1 ] && grep -q "differs from the recorded run" "$T/err" && ! grep -q "0.1.0" "$T/err"'
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
