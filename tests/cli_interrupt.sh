# Ctrl-C during a run cleans up (exit 130, 143 for SIGTERM; no private folder, the old files of a --force run
# intact), and the private folders a killed run left behind are removed by the next run into the
# same place: only ours (the exact name pattern) and only those no live process holds.
set -u
. tests/support/ok.sh
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export XDG_CACHE_HOME="$T/cache"
IN=examples/sampling.wav
# a painting of 900 steps: minutes, so that a signal surely arrives while it paints
SLOW="-m examples/tiny-sd1 --spec-width 128 --spec-height 128 --steps 1000 --readings red --no-sheet"
QUICK="-m examples/tiny-sd1 --spec-width 64 --spec-height 64 --steps 2 --readings red --no-sheet"
private() { ls -A "$1" 2>/dev/null | grep '^\.a2i2a-run\.' | tr '\n' ' '; }

# interrupt SIGNAL OUTDIR [OPTIONS]: starts a slow run, sends SIGNAL once it paints; $rc
interrupt() {
  local sig=$1 out=$2; shift 2
  : >"$T/err" # the loop must not see an earlier run's "painting" before the background shell truncates it
  "$A2I2A" run "$IN" -o "$out" $SLOW --progress plain "$@" 2>"$T/err" &
  local pid=$! i
  for i in $(seq 600); do grep -q "painting" "$T/err" && break; sleep 0.1; done
  kill -"$sig" $pid
  wait $pid; rc=$?
}

# --- Ctrl-C while painting a new folder: exit 130, nothing left
interrupt INT "$T/new"
ok "SIGINT: exit 130 ($(tail -1 "$T/err"))" '[ $rc -eq 130 ]'
ok "SIGINT: one line says cancelled" 'grep -q "^a2i2a: cancelled" "$T/err"'
ok "SIGINT: the folder it made is gone" '[ ! -e "$T/new" ]'

# --- Ctrl-C during a --force run over an earlier one: the old files stay as they were
"$A2I2A" run "$IN" -o "$T/old" $QUICK -q 2>"$T/err"; rc=$?
ok "a first run ($(cat "$T/err"))" '[ $rc -eq 0 ]'
before=$(cd "$T/old" && sha256sum * | sha256sum)
interrupt INT "$T/old" --force
ok "SIGINT with --force: exit 130" '[ $rc -eq 130 ]'
ok "SIGINT with --force: no private folder left ($(private "$T/old"))" '[ -z "$(private "$T/old")" ]'
ok "SIGINT with --force: the old files intact" '[ "$(cd "$T/old" && sha256sum * | sha256sum)" = "$before" ]'

# --- SIGTERM too
interrupt TERM "$T/term"
ok "SIGTERM: exit 143 (128 + 15), nothing left" '[ $rc -eq 143 ] && [ ! -e "$T/term" ]'

# --- SIGKILL cannot be caught: the private folder stays, and the next run removes it
mkdir "$T/k"
interrupt KILL "$T/k"
ok "SIGKILL leaves a private folder ($(private "$T/k"))" '[ -n "$(private "$T/k")" ]'
# others a user may have: a folder that only looks like ours, a file with our name, one held by
# a live process (flock, as a running a2i2a holds its own)
mkdir "$T/k/.a2i2a-run.notours" "$T/k/.a2i2a-run.AbC12" "$T/k/.a2i2a-run.held12"
touch "$T/k/.a2i2a-run.file12" "$T/k/.a2i2a-run.held12/x"
python3 -c 'import fcntl, os, sys, time
fcntl.flock(os.open(sys.argv[1], os.O_RDONLY), fcntl.LOCK_EX); open(sys.argv[2], "w").close(); time.sleep(60)' \
  "$T/k/.a2i2a-run.held12" "$T/locked" &
holder=$!
for i in $(seq 100); do [ -e "$T/locked" ] && break; sleep 0.1; done
"$A2I2A" run "$IN" -o "$T/k" $QUICK -q 2>"$T/err"; rc=$?
ok "the next run into the folder ($(cat "$T/err"))" '[ $rc -eq 0 ] && [ -f "$T/k/red.wav" ]'
left=$(private "$T/k")
ok "stale folder removed, the others kept ($left)" \
  '[ "$left" = ".a2i2a-run.AbC12 .a2i2a-run.file12 .a2i2a-run.held12 .a2i2a-run.notours " ]'
ok "the held folder's contents kept" '[ -f "$T/k/.a2i2a-run.held12/x" ]'
kill $holder 2>/dev/null; wait $holder 2>/dev/null
"$A2I2A" run "$IN" -o "$T/k" $QUICK -q --force 2>"$T/err"; rc=$?
ok "once released, it is removed too ($(private "$T/k"))" \
  '[ $rc -eq 0 ] && [ "$(private "$T/k")" = ".a2i2a-run.AbC12 .a2i2a-run.file12 .a2i2a-run.notours " ]'

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
