# Faults a command must survive (issue 15; docs/reliability.md): a signal during a2i, i2a, i2i and
# models pull (run's are in cli_interrupt.sh), a full disk (ulimit -f) and two runs into one
# folder at once. After SIGINT or SIGTERM: exit 128 + the signal (130, 143), no temporary file
# left, and the files replaced with --force all old; a signal that comes once they are all in
# place changes nothing (exit 0, all new). Never a mix, never a partial file under a final name.
set -u
. tests/support/ok.sh
T=$(mktemp -d)
SP=
trap '[ -n "$SP" ] && kill $SP 2>/dev/null; rm -rf "$T"' EXIT
export XDG_CACHE_HOME="$T/cache"
IN=examples/sampling.wav
MODEL=examples/tiny-sd1
code() { case $1 in INT) echo 130 ;; TERM) echo 143 ;; esac; }
# everything in a folder, hidden names included (temporary files start with a dot)
listing() { ls -A "$1" | tr '\n' ' '; }
digest() { (cd "$1" && find . -type f | sort | xargs sha256sum) | sha256sum | cut -c1-16; }

# signal_on SIG PATTERN CMD...: runs CMD (with plain progress lines), sends SIG once its stderr
# shows PATTERN; $rc is its exit status, $T/err its stderr
signal_on() {
  local sig=$1 pattern=$2 i plain=(--progress plain); shift 2
  [ "$2" = models ] && plain=(--plain)
  : >"$T/err" # the loop must not see an earlier run's PATTERN before the background shell truncates it
  "$@" "${plain[@]}" 2>"$T/err" &
  local pid=$!
  for i in $(seq 1200); do grep -q "$pattern" "$T/err" && break; sleep 0.05; done
  kill -"$sig" $pid 2>/dev/null # it may have ended already
  wait $pid; rc=$?
}
# signal_after SIG SECONDS CMD...: the same, SECONDS after the start, whatever it is doing
signal_after() {
  local sig=$1 s=$2; shift 2
  "$@" 2>"$T/err" &
  local pid=$!
  sleep "$s"
  kill -"$sig" $pid 2>/dev/null
  wait $pid; rc=$?
}

# a 2-minute sound: its fullband spectrogram (12000 columns) takes seconds
python3 - "$T/long.wav" <<'EOF'
import random, struct, sys, wave
random.seed(15)
block = struct.pack("<44100h", *(random.randint(-3000, 3000) for _ in range(44100)))
with wave.open(sys.argv[1], "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(44100)
    for _ in range(120): w.writeframes(block)
EOF

# ---------------------------------------------------------------- a2i
mkdir "$T/a2i"
"$A2I2A" a2i "$IN" -o "$T/a2i/spec.png" 2>"$T/err"; rc=$?
ok "a2i: the old file ($(cat "$T/err"))" '[ $rc -eq 0 ]'
old=$(digest "$T/a2i")
"$A2I2A" a2i "$T/long.wav" -o "$T/new.png" --style fullband 2>"$T/err"; rc=$?
ok "a2i: the new file, uninterrupted ($(cat "$T/err"))" '[ $rc -eq 0 ]'
for sig in INT TERM; do
  signal_on $sig "spectrogram fullband 0/" "$A2I2A" a2i "$T/long.wav" -o "$T/a2i/spec.png" --style fullband --force
  ok "a2i, SIG$sig while it works: exit $(code $sig) ($rc: $(tail -1 "$T/err"))" '[ $rc -eq $(code $sig) ]'
  ok "a2i, SIG$sig: the old file as it was, nothing else ($(listing "$T/a2i"))" \
     '[ "$(listing "$T/a2i")" = "spec.png " ] && [ "$(digest "$T/a2i")" = "$old" ]'
done
# before, during and after: old with 130, or new with 0, and nothing else
interrupted=0
for s in 0 0.2 1 done; do
  cp "$T/a2i/spec.png" "$T/before.png"
  if [ $s = done ]; then # once it says it is done: the file may already be in place
    signal_on INT "fullband 2/2" "$A2I2A" a2i "$T/long.wav" -o "$T/a2i/spec.png" --style fullband --force
  else
    signal_after INT $s "$A2I2A" a2i "$T/long.wav" -o "$T/a2i/spec.png" --style fullband --force
  fi
  [ $rc -eq 130 ] && interrupted=$((interrupted+1))
  ok "a2i, SIGINT at $s: all old (130) or all new (0): exit $rc, $(listing "$T/a2i")" \
     '[ "$(listing "$T/a2i")" = "spec.png " ] && { { [ $rc -eq 130 ] && cmp -s "$T/a2i/spec.png" "$T/before.png"; } || { [ $rc -eq 0 ] && cmp -s "$T/a2i/spec.png" "$T/new.png"; }; }'
  cp "$T/before.png" "$T/a2i/spec.png"
done
ok "a2i: some of those were interrupted ($interrupted)" '[ $interrupted -ge 1 ]'

# ---------------------------------------------------------------- i2a, several readings into a folder
"$A2I2A" i2a "$T/a2i/spec.png" -o "$T/i2a" --reading red,chirp --gl-iters 1 2>"$T/err"; rc=$?
ok "i2a: the old folder ($(cat "$T/err"))" '[ $rc -eq 0 ] && [ "$(listing "$T/i2a")" = "chirp.wav red.wav " ]'
old=$(digest "$T/i2a")
for sig in INT TERM; do
  signal_on $sig "readings red" "$A2I2A" i2a "$T/a2i/spec.png" -o "$T/i2a" --reading red,chirp --gl-iters 10000 --force
  ok "i2a, SIG$sig while it reads: exit $(code $sig) ($rc: $(tail -1 "$T/err"))" '[ $rc -eq $(code $sig) ]'
  ok "i2a, SIG$sig: both old files as they were, nothing else ($(listing "$T/i2a"))" \
     '[ "$(listing "$T/i2a")" = "chirp.wav red.wav " ] && [ "$(digest "$T/i2a")" = "$old" ]'
done

# ---------------------------------------------------------------- i2i
mkdir "$T/i2i"
"$A2I2A" i2i "$T/a2i/spec.png" -o "$T/i2i/art.png" -m $MODEL --steps 2 --seed 1 2>"$T/err"; rc=$?
ok "i2i: the old painting ($(cat "$T/err"))" '[ $rc -eq 0 ]'
old=$(digest "$T/i2i")
for sig in INT TERM; do
  signal_on $sig "painting" "$A2I2A" i2i "$T/a2i/spec.png" -o "$T/i2i/art.png" -m $MODEL --steps 1000 --force
  ok "i2i, SIG$sig while it paints: exit $(code $sig) ($rc: $(tail -1 "$T/err"))" '[ $rc -eq $(code $sig) ]'
  ok "i2i, SIG$sig: the old painting as it was, nothing else ($(listing "$T/i2i"))" \
     '[ "$(listing "$T/i2i")" = "art.png " ] && [ "$(digest "$T/i2i")" = "$old" ]'
done

# ---------------------------------------------------------------- models pull
SERVER=${A2I2A_HUBSERVER:-$(dirname "$A2I2A")/tests/hubserver}
COMMIT=0123456789abcdef0123456789abcdef01234567
mkdir "$T/repo" && cp -rs "$(cd $MODEL && pwd)/." "$T/repo/"
"$SERVER" "$T/repo" $COMMIT "$T/port" "$T/log" --delay 400 &
SP=$!
for _ in $(seq 400); do [ -s "$T/port" ] && break; sleep 0.05; done
export HF_ENDPOINT="http://127.0.0.1:$(cat "$T/port")" HF_HOME="$T/hf"
SN="$T/hf/hub/models--org--tiny/snapshots/$COMMIT"
for sig in INT TERM; do
  signal_on $sig "download" "$A2I2A" models pull org/tiny
  ok "pull, SIG$sig while it downloads: exit $(code $sig) ($rc: $(tail -1 "$T/err"))" '[ $rc -eq $(code $sig) ]'
  # what a download leaves to resume is the HF cache's own .incomplete file; a snapshot's
  # links only ever lead to whole blobs
  broken=$(find "$SN" -type l ! -exec test -e {} \; -print 2>/dev/null)
  ok "pull, SIG$sig: no link to a missing blob ($broken)" '[ -z "$broken" ]'
  tmp=$(find "$T/hf" -name ".*" ! -name "*.incomplete" ! -path "*/.locks*" 2>/dev/null | grep -v "/\.locks$")
  ok "pull, SIG$sig: no temporary file ($tmp)" '[ -z "$tmp" ]'
done
"$A2I2A" models pull -q org/tiny >/dev/null 2>"$T/err"; rc=$?
same=1
for f in $(cd "$T/repo" && find . -name "*.safetensors" -o -name "*.json" | grep -v "\.fp16\."); do cmp -s "$SN/$f" "$T/repo/$f" || same=0; done
ok "pull after them: whole files, byte for byte ($rc: $(cat "$T/err"))" '[ $rc -eq 0 ] && [ $same -eq 1 ]'
kill $SP; wait $SP 2>/dev/null; SP=
unset HF_ENDPOINT HF_HOME

# ---------------------------------------------------------------- a full disk (ulimit -f)
QUICK="-m $MODEL --spec-width 64 --spec-height 64 --steps 2 --readings red --no-sheet"
"$A2I2A" run "$IN" -o "$T/run" $QUICK -q 2>"$T/err"; rc=$?
ok "run: the old folder ($(cat "$T/err"))" '[ $rc -eq 0 ]'
old_run=$(digest "$T/run") old_runs=$(listing "$T/run")
old_a2i=$(digest "$T/a2i") old_i2a=$(digest "$T/i2a")
full() { (ulimit -f 8; "$@" 2>"$T/err"); rc=$?; }
full "$A2I2A" a2i "$T/long.wav" -o "$T/a2i/spec.png" --style fullband --force
ok "a2i, disk full: one line ($rc: $(cat "$T/err"))" \
   '[ $rc -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "spec.png: .*File too large" "$T/err"'
ok "a2i, disk full: the old file kept, nothing else ($(listing "$T/a2i"))" \
   '[ "$(listing "$T/a2i")" = "spec.png " ] && [ "$(digest "$T/a2i")" = "$old_a2i" ]'
for ext in wav flac ogg opus mp3; do # red.wav is there: kept
  full "$A2I2A" i2a "$T/a2i/spec.png" -o "$T/i2a/red.$ext" -q --force
  ok "i2a to .$ext, disk full: one line, nothing new ($rc: $(cat "$T/err"))" \
     '[ $rc -eq 1 ] && grep -q "red.$ext: .*File too large" "$T/err" && [ "$(digest "$T/i2a")" = "$old_i2a" ] && [ "$(listing "$T/i2a")" = "chirp.wav red.wav " ]'
done
full "$A2I2A" i2a "$T/a2i/spec.png" -o "$T/i2a" --reading red,chirp -q --force
ok "i2a, two readings, disk full: the old ones kept, nothing else ($rc: $(cat "$T/err"))" \
   '[ $rc -eq 1 ] && [ "$(listing "$T/i2a")" = "chirp.wav red.wav " ] && [ "$(digest "$T/i2a")" = "$old_i2a" ]'
full "$A2I2A" run "$T/long.wav" -o "$T/run" $QUICK -q --force
ok "run, disk full: one line, the old run kept, nothing else ($rc: $(cat "$T/err"); $(listing "$T/run"))" \
   '[ $rc -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && [ "$(listing "$T/run")" = "$old_runs" ] && [ "$(digest "$T/run")" = "$old_run" ]'

# ---------------------------------------------------------------- two runs into one folder at once
# every file of the folder is the one its run.json names: a mix of two runs would not be
matches_runjson() {
  python3 - "$1" <<'EOF'
import hashlib, json, os, sys
d = sys.argv[1]
rec = json.load(open(os.path.join(d, "run.json")))
named = rec["outputs"]
files = sorted(f for f in os.listdir(d) if f != "run.json")
ok = files == sorted(named) and all(hashlib.sha256(open(os.path.join(d, f), "rb").read()).hexdigest() == named[f] for f in files)
sys.exit(0 if ok else 1)
EOF
}
SLOWER="-m $MODEL --spec-width 64 --spec-height 64 --steps 40 --readings red --no-sheet"
for case in new force; do
  dir="$T/both-$case" extra=
  [ $case = force ] && { "$A2I2A" run "$IN" -o "$dir" $QUICK -q 2>/dev/null; extra=--force; }
  "$A2I2A" run "$IN" -o "$dir" $SLOWER --seed 1 -q $extra 2>"$T/e1" & p1=$!
  "$A2I2A" run "$IN" -o "$dir" $SLOWER --seed 2 -q $extra 2>"$T/e2" & p2=$!
  wait $p1; r1=$?; wait $p2; r2=$?
  ok "two runs into one $case folder: one wins, one fails ($r1 $r2: $(cat "$T/e1" "$T/e2"))" \
     '[ $((r1 + r2)) -eq 1 ] && grep -q "another run is writing into this folder" "$T/e1" "$T/e2"'
  ok "two runs into one $case folder: its files are one run's ($(listing "$dir"))" 'matches_runjson "$dir"'
  ok "two runs into one $case folder: nothing private left" '! ls -A "$dir" | grep -q "^\."'
done

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
