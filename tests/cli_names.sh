# Names in, names out: the sound format follows the output's extension (as sox and ffmpeg),
# anything else is refused in one line; a2i and i2i write PNG only; several readings need a
# folder, not a sound file's name; "-" is stdin or stdout wherever it makes sense, and -o -
# never makes a file named "-".
set -u
. tests/support/ok.sh
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export XDG_CACHE_HOME="$T/cache"
. tests/support/fixtures.sh
cd "$T" # a stray file named "-" would land here
IMG=$FIXTURES/seed/images/i03_synthetic_400x296.png
SND=$OLDPWD/examples/sampling.wav
MODEL=$OLDPWD/examples/tiny-sd1
one_line() { [ "$(wc -l <"$T/err")" -eq 1 ]; }
magic() { od -An -c -N4 "$1" | tr -d ' \n'; }
# duration FILE: seconds, as the a2i2a chunk of a fullband spectrogram of it records them
duration() {
  "$A2I2A" a2i "$1" -o "$T/d.png" --style fullband --force 2>/dev/null &&
    grep -ao '"samples":[0-9]*' "$T/d.png" | head -1 | awk -F: '{printf "%.3f", $2 / 44100}'
}

# --- the sound format follows the extension
for ext in wav flac ogg opus mp3; do
  "$A2I2A" i2a "$IMG" -o "$T/s.$ext" -r sines --seconds 2 2>"$T/err"; rc=$?
  ok ".$ext written ($(cat "$T/err"))" '[ $rc -eq 0 ] && [ -s "$T/s.$ext" ]'
done
ok ".wav is RIFF WAVE" '[ "$(magic s.wav)" = RIFF ] && [ "$(dd if=s.wav bs=1 skip=8 count=4 2>/dev/null)" = WAVE ]'
ok ".flac is FLAC" '[ "$(magic s.flac)" = fLaC ]'
ok ".ogg is Ogg Vorbis" '[ "$(magic s.ogg)" = OggS ] && grep -aq "vorbis" s.ogg'
ok ".opus is Ogg Opus" '[ "$(magic s.opus)" = OggS ] && grep -aq "OpusHead" s.opus'
ok ".mp3 is MPEG audio, not WAV" '[ "$(od -An -tx1 -N2 s.mp3 | tr -d " ")" = fffb ] || [ "$(magic s.mp3)" = ID3* ]; ! grep -aq "WAVE" s.mp3'
for ext in wav flac ogg opus mp3; do
  d=$(duration "$T/s.$ext")
  ok ".$ext reads back as 2 s ($d)" 'awk -v d="$d" "BEGIN { exit !(d > 1.95 && d < 2.1) }"'
done
for name in s.m4a s.xyz s.MP4 noext; do
  "$A2I2A" i2a "$IMG" -o "$T/$name" -r sines --seconds 2 2>"$T/err"; rc=$?
  ok "$name refused in one line ($(cat "$T/err"))" '[ $rc -eq 2 ] && one_line && grep -q "$name" "$T/err" && [ ! -e "$T/$name" ]'
done
"$A2I2A" i2a "$IMG" -o "$T/b16.ogg" -r sines --bits 16 2>"$T/err"; rc=$?
ok "--bits with a compressed format refused ($(cat "$T/err"))" '[ $rc -eq 2 ] && one_line && [ ! -e "$T/b16.ogg" ]'
"$A2I2A" i2a "$IMG" -o "$T/S.FLAC" -r bend 2>"$T/err"; rc=$?
ok "extensions in capitals" '[ $rc -eq 0 ] && [ "$(magic S.FLAC)" = fLaC ]'

# --- several readings go into a folder: a sound file's name is refused, no folder made
"$A2I2A" i2a "$IMG" -o "$T/zz.wav" -r red,sines 2>"$T/err"; rc=$?
ok "zz.wav for two readings refused ($(cat "$T/err"))" '[ $rc -eq 2 ] && one_line && grep -q "folder" "$T/err" && [ ! -e "$T/zz.wav" ]'
"$A2I2A" i2a "$IMG" -o "$T/zz" -r red,sines 2>"$T/err"; rc=$?
ok "a folder for two readings" '[ $rc -eq 0 ] && [ -f "$T/zz/red.wav" ] && [ -f "$T/zz/sines.wav" ]'

# --- PNG only where the PNG carries the parameters
"$A2I2A" a2i "$SND" -o "$T/y.jpg" 2>"$T/err"; rc=$?
ok "a2i -o y.jpg refused ($(cat "$T/err"))" '[ $rc -eq 2 ] && one_line && grep -q "PNG" "$T/err" && [ ! -e "$T/y.jpg" ]'
"$A2I2A" i2i "$IMG" -o "$T/art.jpg" -m "$MODEL" --steps 2 2>"$T/err"; rc=$?
ok "i2i -o art.jpg refused ($(cat "$T/err"))" '[ $rc -eq 2 ] && one_line && [ ! -e "$T/art.jpg" ]'

# --- "-": stdin and stdout give the bytes the files give
"$A2I2A" a2i "$SND" -o "$T/spec.png" 2>"$T/err"
"$A2I2A" a2i - -o - <"$SND" >"$T/spec-pipe.png" 2>"$T/err"; rc=$?
ok "a2i - -o -: the file's bytes ($(cat "$T/err"))" '[ $rc -eq 0 ] && cmp -s "$T/spec.png" "$T/spec-pipe.png"'
"$A2I2A" i2a "$T/spec.png" -o "$T/bend.wav" -r bend --bits 16
"$A2I2A" i2a - -o - -r bend --bits 16 <"$T/spec.png" >"$T/bend-pipe.wav" 2>"$T/err"; rc=$?
ok "i2a - -o -: the file's bytes ($(cat "$T/err"))" '[ $rc -eq 0 ] && cmp -s "$T/bend.wav" "$T/bend-pipe.wav"'
"$A2I2A" i2i "$T/spec.png" -o "$T/art.png" -m "$MODEL" --steps 2 --seed 3 >/dev/null 2>&1
"$A2I2A" i2i - -o - -m "$MODEL" --steps 2 --seed 3 <"$T/spec.png" >"$T/art-pipe.png" 2>"$T/err"; rc=$?
ok "i2i - -o -: the file's bytes ($(cat "$T/err"))" '[ $rc -eq 0 ] && cmp -s "$T/art.png" "$T/art-pipe.png"'
"$A2I2A" i2i - -o - -m "$MODEL" --steps 2 <"$T/spec.png" >"$T/art-rnd.png" 2>"$T/err"
ok "i2i -o -: the random seed goes to stderr, not into the picture" 'grep -q "^seed [0-9]*$" "$T/err" && [ "$(magic art-rnd.png)" = "211PNG" ]'
"$A2I2A" i2a - -o - -r all <"$T/spec.png" >/dev/null 2>"$T/err"; rc=$?
ok "i2a -o - with several readings refused ($(cat "$T/err"))" '[ $rc -eq 2 ] && one_line'
: | "$A2I2A" a2i - -o "$T/empty.png" 2>"$T/err"; rc=$?
ok "an empty stdin: one line ($(cat "$T/err"))" '[ $rc -eq 1 ] && one_line && grep -q "stdin" "$T/err" && [ ! -e "$T/empty.png" ]'
echo "not audio" | "$A2I2A" a2i - -o "$T/junk.png" 2>"$T/err"; rc=$?
ok "junk on stdin: named stdin, no private path ($(cat "$T/err"))" \
  '[ $rc -eq 1 ] && one_line && grep -q "^a2i2a: stdin: " "$T/err" && ! grep -q "a2i2a-run" "$T/err"'
script -qec "\"$A2I2A\" a2i \"$SND\" -o -" /dev/null >"$T/tty.txt" 2>&1
ok "-o - on a terminal refused" 'grep -q "stdout is a terminal" "$T/tty.txt" && ! grep -aq "IHDR" "$T/tty.txt"'

# --- run -: stdin kept in OUTDIR while it runs, recorded as "-", replayed from stdin
RUN="-m $MODEL --spec-width 64 --spec-height 64 --steps 2 --readings red"
"$A2I2A" run - -o "$T/r" $RUN <"$SND" 2>"$T/err"; rc=$?
ok "run - ($(tail -1 "$T/err"))" '[ $rc -eq 0 ] && [ -f "$T/r/red.wav" ] && [ -f "$T/r/sheet.png" ]'
ok "run -: nothing private left" '[ -z "$(ls -A "$T/r" | grep "^\.")" ]'
ok "run -: run.json records stdin as -" 'grep -q "\"path\":[[:space:]]*\"-\"" "$T/r/run.json"'
"$A2I2A" run --replay "$T/r/run.json" -o "$T/r2" 2>"$T/err"; rc=$?
ok "replay without the input: one line ($(cat "$T/err"))" '[ $rc -eq 2 ] && one_line && grep -q "stdin" "$T/err" && [ ! -e "$T/r2" ]'
"$A2I2A" run --replay "$T/r/run.json" -o "$T/r2" - <"$SND" 2>"$T/err"; rc=$?
ok "replay from stdin: the same bytes ($(cat "$T/err"))" '[ $rc -eq 0 ] && cmp -s "$T/r/red.wav" "$T/r2/red.wav"'
"$A2I2A" run - - -o "$T/r3" $RUN <"$SND" 2>"$T/err"; rc=$?
ok "stdin twice refused" '[ $rc -eq 2 ] && one_line && [ ! -e "$T/r3" ]'
"$A2I2A" run "$SND" -o - $RUN 2>"$T/err"; rc=$?
ok "run -o - refused ($(cat "$T/err"))" '[ $rc -eq 2 ] && one_line'

ok "no file named - anywhere" '[ ! -e "$T/-" ] && [ -z "$(find "$T" -name - )" ]'
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
