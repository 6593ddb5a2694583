# a2i through the CLI: the README's first command, each style, and every defined bad input:
# exit code, a one-line message naming the file, and nothing left behind.
set -u
. tests/support/ok.sh
A2I2A=${A2I2A:-build/a2i2a}
. tests/support/fixtures.sh
AUD=$FIXTURES/seed/audio
T=$(mktemp -d)
trap 'chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
mkdir "$T/out"

# png_size FILE -> "W H" (from the IHDR chunk), or not-png
png_size() {
  [ "$(head -c 8 "$1" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || { echo not-png; return; }
  local b; b=$(od -An -tu1 -j16 -N8 "$1")
  set -- $b
  echo "$(( ($1<<24) + ($2<<16) + ($3<<8) + $4 )) $(( ($5<<24) + ($6<<16) + ($7<<8) + $8 ))"
}
# wav FILE RATE CHANNELS FRAMES AWK-EXPR(i, c) -> 16-bit PCM WAV (awk: python is slow to start
# on a loaded machine)
wav() {
  LC_ALL=C awk -v rate="$2" -v ch="$3" -v n="$4" 'function le(v, k) { for (; k > 0; k--) { printf "%c", v % 256; v = int(v / 256) } }
    BEGIN {
      data = n * ch * 2
      printf "RIFF"; le(36 + data, 4); printf "WAVEfmt "; le(16, 4); le(1, 2); le(ch, 2); le(rate, 4)
      le(rate * ch * 2, 4); le(ch * 2, 2); le(16, 2); printf "data"; le(data, 4)
      for (i = 0; i < n; i++) for (c = 0; c < ch; c++) {
        v = '"$5"'; s = int(v * 32767 + (v < 0 ? -0.5 : 0.5)); if (s > 32767) s = 32767; if (s < -32768) s = -32768
        le(s < 0 ? s + 65536 : s, 2)
      }
    }' > "$1"
}
# expect_fail CODE WHAT -- command...: exit code CODE, exactly one stderr line, no new files in $T/out
expect_fail() {
  local code=$1 what=$2; shift 3
  local before; before=$(ls -A "$T/out" | wc -l)
  "$@" >"$T/stdout" 2>"$T/stderr"; local rc=$?
  local lines; lines=$(grep -c . "$T/stderr")
  local after; after=$(ls -A "$T/out" | wc -l)
  if [ "$rc" -eq "$code" ] && [ "$lines" -eq 1 ] && [ "$before" -eq "$after" ]; then ok
  else bad "$what: exit $rc (want $code), $lines stderr lines, files $before -> $after: $(head -c 300 "$T/stderr")"; fi
}
expect_msg() { grep -q -- "$1" "$T/stderr" && ok || bad "message should mention '$1': $(cat "$T/stderr")"; }

# 1. the README's first command, verbatim apart from the output folder
BIN=$(cd "$(dirname "$A2I2A")" && pwd)/$(basename "$A2I2A"); ROOT=$PWD
( cd "$T" && "$BIN" a2i "$ROOT/examples/sampling.wav" -o sampling.png --force ) 2>"$T/stderr" \
  && [ "$(png_size "$T/sampling.png")" = "400 300" ] && ok || bad "README command: $(cat "$T/stderr")"
"$A2I2A" a2i examples/sampling.wav -o "$T/sampling.png" --force && ok || bad "--force over an existing file"

# 2. each style, with its documented size
if fixture_case seed/audio/a02_brahms_44k1_stereo_s16.wav; then
  "$A2I2A" a2i "$AUD/a02_brahms_44k1_stereo_s16.wav" -o "$T/out/seed.png" && [ "$(png_size "$T/out/seed.png")" = "400 300" ] && ok || bad "seed"
  "$A2I2A" a2i "$AUD/a02_brahms_44k1_stereo_s16.wav" -o "$T/out/riff.png" --style riffusion && [ "$(png_size "$T/out/riff.png")" = "401 512" ] && ok || bad "riffusion"
  "$A2I2A" a2i "$AUD/a04_trumpet_44k1_stereo.mp3" -o "$T/out/full.png" --style fullband --stereo --colormap aurora --db-range 60 \
    && [ "$(png_size "$T/out/full.png")" = "301 512" ] && ok || bad "fullband"
  "$A2I2A" a2i "$AUD/a01_speech_libri_16k_mono_s16.flac" -o "$T/out/fullw.png" --style fullband --width 640 --height 256 \
    && [ "$(png_size "$T/out/fullw.png")" = "640 256" ] && ok || bad "fullband --width/--height"
  "$A2I2A" a2i "$AUD/a03_humpback_22k05_mono.ogg" -o "$T/out/riffr.png" --style riffusion && [ "$(png_size "$T/out/riffr.png")" = "601 512" ] && ok || bad "riffusion resamples 22.05 kHz"
  rm -f "$T/out"/*.png
fi

# 3. inputs with defined behaviour: silence, a single sample, fewer samples than n_fft/2, 3 channels
wav "$T/silence.wav" 44100 2 44100 "0"
wav "$T/one.wav" 44100 1 1 "0.5"
wav "$T/short.wav" 22050 1 1000 "sin(i*0.1)*0.3"
wav "$T/three.wav" 48000 3 48000 "sin(i*0.05*(c+1))*0.3"
for f in silence one short three; do
  for s in seed riffusion fullband; do
    "$A2I2A" a2i "$T/$f.wav" -o "$T/out/$f-$s.png" --style $s 2>"$T/stderr" && [ "$(png_size "$T/out/$f-$s.png")" != not-png ] && ok || bad "$f with $s: $(cat "$T/stderr")"
  done
done
[ "$(png_size "$T/out/one-seed.png")" = "400 300" ] && ok || bad "single sample seed size"
[ "$(png_size "$T/out/one-riffusion.png")" = "21 512" ] && ok || bad "single sample riffusion: zero-padded to 8821 samples, 21 columns: $(png_size "$T/out/one-riffusion.png")"
[ "$(png_size "$T/out/short-riffusion.png")" = "21 512" ] && ok || bad "short riffusion: $(png_size "$T/out/short-riffusion.png")"
[ "$(png_size "$T/out/one-fullband.png")" = "5 512" ] && ok || bad "single sample fullband: $(png_size "$T/out/one-fullband.png")"
rm -f "$T/out"/*.png

# 4. bad inputs: exit 1, one line naming the file, no output left
expect_fail 1 "missing input" -- "$A2I2A" a2i "$T/nope.wav" -o "$T/out/x.png"; expect_msg "nope.wav"
: > "$T/empty.wav"
expect_fail 1 "empty file" -- "$A2I2A" a2i "$T/empty.wav" -o "$T/out/x.png"; expect_msg "empty.wav"
echo "this is just text, not a sound" > "$T/text.wav"
expect_fail 1 "not audio" -- "$A2I2A" a2i "$T/text.wav" -o "$T/out/x.png"; expect_msg "text.wav"
cp examples/sampling.wav "$T/sampling.wav"
expect_fail 1 "a PNG given as audio" -- "$A2I2A" a2i "$T/sampling.png" -o "$T/out/x.png"; expect_msg "sampling.png"
wav "$T/zero.wav" 44100 1 0 "0"
expect_fail 1 "no samples" -- "$A2I2A" a2i "$T/zero.wav" -o "$T/out/x.png"; expect_msg "zero.wav"
if fixture_case seed/audio/a02_brahms_44k1_stereo_s16.wav; then
  head -c 100000 "$AUD/a02_brahms_44k1_stereo_s16.wav" > "$T/trunc.wav"
  expect_fail 1 "truncated WAV" -- "$A2I2A" a2i "$T/trunc.wav" -o "$T/out/x.png"; expect_msg "truncated"
  head -c 30000 "$AUD/a01_speech_libri_16k_mono_s16.flac" > "$T/trunc.flac"
  expect_fail 1 "truncated FLAC" -- "$A2I2A" a2i "$T/trunc.flac" -o "$T/out/x.png"; expect_msg "trunc.flac"
  head -c 40000 "$AUD/a04_trumpet_44k1_stereo.mp3" > "$T/trunc.mp3"
  expect_fail 1 "truncated MP3 (mpg123's own warnings silenced)" -- "$A2I2A" a2i "$T/trunc.mp3" -o "$T/out/x.png"; expect_msg "trunc.mp3: truncated"
  { head -c 44 "$AUD/a02_brahms_44k1_stereo_s16.wav" | head -c 20; printf '\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377'; } > "$T/corrupt.wav"
  expect_fail 1 "corrupt header" -- "$A2I2A" a2i "$T/corrupt.wav" -o "$T/out/x.png"; expect_msg "corrupt.wav"
  expect_fail 1 "longer than --max-seconds" -- "$A2I2A" a2i "$AUD/a01_speech_libri_16k_mono_s16.flac" -o "$T/out/x.png" --max-seconds 2; expect_msg "limit"
fi

# 5. outputs: missing folder, unwritable folder, existing file without --force
expect_fail 1 "missing output folder" -- "$A2I2A" a2i examples/sampling.wav -o "$T/out/missing/x.png"; expect_msg "does not exist"
expect_fail 1 "output in /proc" -- "$A2I2A" a2i examples/sampling.wav -o /proc/a2i2a-test.png
if [ "$(id -u)" -ne 0 ]; then
  mkdir "$T/ro"; chmod 555 "$T/ro"
  expect_fail 1 "unwritable folder" -- "$A2I2A" a2i examples/sampling.wav -o "$T/ro/x.png"; expect_msg "not writable"
fi
echo keep > "$T/out/exists.png"
expect_fail 1 "existing output" -- "$A2I2A" a2i examples/sampling.wav -o "$T/out/exists.png"; expect_msg "already exists"
[ "$(cat "$T/out/exists.png")" = keep ] && ok || bad "existing output was modified"
rm -f "$T/out/exists.png"

# 6. usage errors: exit 2
expect_fail 2 "no -o" -- "$A2I2A" a2i examples/sampling.wav
expect_fail 2 "no input" -- "$A2I2A" a2i -o "$T/out/x.png"
expect_fail 2 "unknown style" -- "$A2I2A" a2i examples/sampling.wav -o "$T/out/x.png" --style picasso; expect_msg "picasso"
expect_fail 2 "bad width" -- "$A2I2A" a2i examples/sampling.wav -o "$T/out/x.png" --width 12abc
expect_fail 2 "bad colour map" -- "$A2I2A" a2i examples/sampling.wav -o "$T/out/x.png" --style fullband --colormap rainbow
expect_fail 2 "riffusion has a fixed size" -- "$A2I2A" a2i examples/sampling.wav -o "$T/out/x.png" --style riffusion --width 100
expect_fail 2 "fmax above 22.05 kHz" -- "$A2I2A" a2i examples/sampling.wav -o "$T/out/x.png" --style fullband --fmax 30000
"$A2I2A" a2i --help | grep -q -- "--db-range" && ok || bad "--help lists the options"
[ "$(ls -A "$T/out" | wc -l)" -eq 0 ] && ok || bad "files left behind: $(ls -A "$T/out")"

echo "$pass passed, $fail failed"
fixtures_done
[ $fail -eq 0 ]
