# `a2i2a verify` on the shared SD fixtures: nothing may fail; cases not implemented yet are skipped.
set -u
out=$("$A2I2A" verify "$A2I2A_SHARED/fixtures/sd" 2>&1); rc=$?
printf '%s\n' "$out"
[ $rc -eq 0 ] || { echo "verify exited $rc"; exit 1; }
printf '%s\n' "$out" | tail -1 | grep -Eq '^[0-9]+ passed, 0 failed, [0-9]+ skipped$' || exit 1
