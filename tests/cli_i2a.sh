# a2i2a i2a through the command line: listing, outputs (file / folder, no overwrite, nothing
# partial), formats, seeds, and awkward or broken images — each failure one line naming the
# file, exit 1 (2 for usage), nothing left behind.
set -u
. tests/support/ok.sh
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
. tests/support/fixtures.sh
IMG=$FIXTURES/seed/images/i03_synthetic_400x296.png
JPEG_B64='/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2P/wAARCAAQABgDASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwDm4rL2q5FZe1a8Vl7Vcisvat54o5sLjfMyIrL2oro4rL2orklitT6Cljfd3P/Z'

# --- listing
list=$("$A2I2A" i2a --list-readings) && ok || bad "--list-readings failed"
for r in red rgb-mean chirp inverse sines noise scan bend; do
  printf '%s\n' "$list" | grep -qE "^$r +[^ ].{20,}" && ok || bad "--list-readings lacks '$r' with a description"
done
"$A2I2A" i2a --help | grep -q -- '--seed' && ok || bad "--help does not list --seed"

# --- one reading: -o is a file; no overwrite without --force
"$A2I2A" i2a "$IMG" -o "$T/bend.wav" --reading bend && [ -s "$T/bend.wav" ] && ok || bad "bend to a file"
cp "$T/bend.wav" "$T/bend.orig"
"$A2I2A" i2a "$IMG" -o "$T/bend.wav" --reading bend --rate 8000 2>"$T/err"; rc=$?
[ $rc -eq 1 ] && grep -q "bend.wav" "$T/err" && [ "$(wc -l <"$T/err")" -eq 1 ] && cmp -s "$T/bend.wav" "$T/bend.orig" \
  && ok || bad "existing output: rc $rc, $(cat "$T/err")"
"$A2I2A" i2a "$IMG" -o "$T/bend.wav" --reading bend --rate 8000 --force && ! cmp -s "$T/bend.wav" "$T/bend.orig" \
  && ok || bad "--force did not replace the output"

# --- formats: 32-bit float by default, --bits 16/24 PCM, FLAC by extension
fmt() { python3 - "$1" <<'PY'
import sys, struct
b = open(sys.argv[1], 'rb').read()
if b[:4] == b'fLaC':
    bps = ((b[8+12] & 1) << 4 | b[8+13] >> 4) + 1
    print('flac', bps); sys.exit()
i = 12
while i < len(b):
    cid, n = b[i:i+4], struct.unpack('<I', b[i+4:i+8])[0]
    if cid == b'fmt ':
        tag, ch, rate = struct.unpack('<HHI', b[i+8:i+16]); bits = struct.unpack('<H', b[i+22:i+24])[0]
        if tag == 0xFFFE: tag = struct.unpack('<H', b[i+32:i+34])[0]
        print('wav', tag, ch, rate, bits); break
    i += 8 + n + (n & 1)
PY
}
[ "$(fmt "$T/bend.wav")" = "wav 3 1 8000 32" ] && ok || bad "default format: $(fmt "$T/bend.wav")"
"$A2I2A" i2a "$IMG" -o "$T/s16.wav" --reading sines --seconds 1 --bits 16 && [ "$(fmt "$T/s16.wav")" = "wav 1 2 44100 16" ] \
  && ok || bad "--bits 16: $(fmt "$T/s16.wav")"
"$A2I2A" i2a "$IMG" -o "$T/s24.flac" --reading sines --seconds 1 --bits 24 && [ "$(fmt "$T/s24.flac")" = "flac 24" ] \
  && ok || bad "FLAC: $(fmt "$T/s24.flac")"
"$A2I2A" i2a "$IMG" -o "$T/x.wav" --bits 12 2>/dev/null; [ $? -eq 2 ] && [ ! -e "$T/x.wav" ] && ok || bad "--bits 12 accepted"

# --- seeds: same seed, same bytes; another seed, other noise
"$A2I2A" i2a "$IMG" -o "$T/n1.wav" --reading noise --seconds 1 --seed 7 --rng torch &&
"$A2I2A" i2a "$IMG" -o "$T/n2.wav" --reading noise --seconds 1 --seed 7 &&
"$A2I2A" i2a "$IMG" -o "$T/n3.wav" --reading noise --seconds 1 --seed 8 && cmp -s "$T/n1.wav" "$T/n2.wav" &&
! cmp -s "$T/n1.wav" "$T/n3.wav" && ok || bad "seed reproducibility"
"$A2I2A" i2a "$IMG" -o "$T/x.wav" --rng mt 2>/dev/null; [ $? -eq 2 ] && ok || bad "--rng mt accepted"

# --- several readings: -o is a folder, created; NAME.wav each; all or nothing
"$A2I2A" i2a "$IMG" -o "$T/many" --reading bend,scan && [ -s "$T/many/bend.wav" ] && [ -s "$T/many/scan.wav" ] \
  && [ "$(ls "$T/many" | wc -l)" -eq 2 ] && ok || bad "two readings into a new folder"
"$A2I2A" i2a "$IMG" -o "$T/many" --reading scan,sines 2>"$T/err"; rc=$?
[ $rc -eq 1 ] && [ ! -e "$T/many/sines.wav" ] && grep -q "scan.wav" "$T/err" && ok || bad "existing NAME.wav: rc $rc"
# --force where one output cannot be written (a folder named sines.wav): the files it would
# have replaced are untouched, nothing new is left, no temporary file either
cp "$T/many/bend.wav" "$T/bend.keep"; cp "$T/many/scan.wav" "$T/scan.keep"; mkdir "$T/many/sines.wav"
"$A2I2A" i2a "$IMG" -o "$T/many" --reading bend,scan,sines --rate 8000 --force 2>"$T/err"; rc=$?
[ $rc -eq 1 ] && grep -q "sines.wav" "$T/err" && [ "$(wc -l <"$T/err")" -eq 1 ] && cmp -s "$T/many/bend.wav" "$T/bend.keep" \
  && cmp -s "$T/many/scan.wav" "$T/scan.keep" && [ "$(ls -A "$T/many" | wc -l)" -eq 3 ] && ok \
  || bad "--force with an unwritable output changed the folder: rc $rc, $(cat "$T/err"), $(ls -A "$T/many")"
rmdir "$T/many/sines.wav"
"$A2I2A" i2a "$IMG" -o "$T/x" --reading bend,nosuch 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && [ ! -e "$T/x" ] && grep -q nosuch "$T/err" && ok || bad "unknown reading: rc $rc"
"$A2I2A" i2a "$IMG" -o "$T/bend.wav" --reading bend,scan 2>/dev/null; [ $? -eq 1 ] && ok || bad "a file as the folder"
# one reading failing (red needs 3 rows) → nothing written, no folder
python3 - "$T/tiny.png" <<'PY'
import sys, zlib, struct
def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))
w, h = 8, 2
raw = b''.join(b'\0' + bytes([60, 120, 200] * w) for _ in range(h))
open(sys.argv[1], 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
    + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
PY
"$A2I2A" i2a "$T/tiny.png" -o "$T/part" --reading bend,red 2>"$T/err"; rc=$?
[ $rc -eq 1 ] && [ ! -e "$T/part" ] && grep -q "tiny.png" "$T/err" && [ "$(wc -l <"$T/err")" -eq 1 ] \
  && ok || bad "a failing reading left something: rc $rc, $(cat "$T/err")"

# --- awkward images: grey, grey+alpha, palette, RGBA, 16-bit, JPEG all work
python3 - "$T" <<'PY'
import sys, zlib, struct
d = sys.argv[1]
def chunk(t, b): return struct.pack('>I', len(b)) + t + b + struct.pack('>I', zlib.crc32(t + b))
def png(name, w, h, depth, ctype, rowbytes, extra=b''):
    raw = b''.join(b'\0' + rowbytes(y) for y in range(h))
    open(d + '/' + name, 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, depth, ctype, 0, 0, 0))
        + extra + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
w, h = 40, 20
png('grey.png', w, h, 8, 0, lambda y: bytes((x * 6 + y) % 256 for x in range(w)))
png('greya.png', w, h, 8, 4, lambda y: bytes(v for x in range(w) for v in ((x * 6) % 256, 128)))
png('palette.png', w, h, 8, 3, lambda y: bytes((x + y) % 4 for x in range(w)),
    chunk(b'PLTE', bytes([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 0])))
png('rgba.png', w, h, 8, 6, lambda y: bytes(v for x in range(w) for v in (x * 6, y * 12, 100, 200)))
png('deep.png', w, h, 16, 2, lambda y: b''.join(struct.pack('>HHH', x * 1600, y * 3000, 40000) for x in range(w)))
png('zero.png', 0, 0, 8, 2, lambda y: b'')
open(d + '/corrupt.png', 'wb').write(b'\x89PNG\r\n\x1a\n' + b'garbage' * 20)
open(d + '/empty.png', 'wb').write(b'')
PY
printf '%s' "$JPEG_B64" | base64 -d >"$T/photo.jpg"
# every reading once (grey), the cheap ones on the other layouts
"$A2I2A" i2a "$T/grey.png" -o "$T/out_grey" --reading all --seconds 0.5 && [ "$(ls "$T/out_grey" | wc -l)" -eq 8 ] \
  && ok || bad "grey.png through every reading"
for f in greya palette rgba deep; do
  "$A2I2A" i2a "$T/$f.png" -o "$T/out_$f" --reading red,inverse,sines,scan,bend --seconds 0.5 \
    && [ "$(ls "$T/out_$f" | wc -l)" -eq 5 ] && ok || bad "$f.png through five readings"
done
"$A2I2A" i2a "$T/photo.jpg" -o "$T/out_jpg" --reading all --seconds 0.5 && [ "$(ls "$T/out_jpg" | wc -l)" -eq 8 ] \
  && ok || bad "JPEG through every reading"
# --- the thread count does not change a byte
"$A2I2A" i2a "$T/grey.png" -o "$T/t1" --reading red,sines,noise --seconds 0.5 --threads 1 &&
"$A2I2A" i2a "$T/grey.png" -o "$T/t2" --reading red,sines,noise --seconds 0.5 --threads 2 &&
cmp -s "$T/t1/red.wav" "$T/t2/red.wav" && cmp -s "$T/t1/sines.wav" "$T/t2/sines.wav" &&
cmp -s "$T/t1/noise.wav" "$T/t2/noise.wav" && ok || bad "--threads 1 and 2 differ"
# --- huge: beyond the image limits (70000 columns) → refused with a clear error
python3 - "$T/huge.png" <<'PY'
import sys, zlib, struct
def chunk(t, b): return struct.pack('>I', len(b)) + t + b + struct.pack('>I', zlib.crc32(t + b))
w, h = 70000, 2
raw = b''.join(b'\0' + bytes(w) for _ in range(h))
open(sys.argv[1], 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 0, 0, 0, 0))
    + chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b''))
PY
"$A2I2A" i2a "$T/huge.png" -o "$T/never.wav" --reading bend 2>"$T/err"; rc=$?
[ $rc -eq 1 ] && [ ! -e "$T/never.wav" ] && grep -q "huge.png" "$T/err" && [ "$(wc -l <"$T/err")" -eq 1 ] \
  && ok || bad "huge.png: rc $rc, $(cat "$T/err")"
# --- broken images: one line naming the file, exit 1, nothing written
for f in corrupt.png empty.png zero.png missing.png; do
  "$A2I2A" i2a "$T/$f" -o "$T/never.wav" --reading bend 2>"$T/err"; rc=$?
  [ $rc -eq 1 ] && [ ! -e "$T/never.wav" ] && grep -q "$f" "$T/err" && [ "$(wc -l <"$T/err")" -eq 1 ] \
    && ok || bad "$f: rc $rc, $(cat "$T/err")"
done
ls -a "$T" | grep -q '^\.' && [ -z "$(ls -a "$T" | grep -v '^\.\.\?$' | grep '^\.')" ] && ok || bad "temporary files left behind"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
