# Installing: `cmake --install` into a temporary prefix gives the program, both libraries, the
# header, a2i2a.pc and the CMake package, all with the header's version; the shared library
# exports exactly the public API; examples/embed.c builds against the installed library through
# pkg-config (shared and static) and through find_package(a2i2a), runs the chain with its
# progress bar on stderr, and a Ctrl-C cancels it with exit status 130, leaving nothing.
set -u
. tests/support/ok.sh
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export XDG_CACHE_HOME="$T/cache" # the model SHA-256 cache
P="$T/prefix"
unset PKG_CONFIG_PATH LD_LIBRARY_PATH

# the version, as the header types it
hv() { sed -n "s/^#define A2I2A_VERSION_$1 \([0-9]*\).*/\1/p" include/a2i2a.h; }
major=$(hv MAJOR) minor=$(hv MINOR) patch=$(hv PATCH)
version="$major.$minor.$patch"
ok "the header has a version ($version)" '[ -n "$major" ] && [ -n "$minor" ] && [ -n "$patch" ]'
[ "$major" = 0 ] && soname="liba2i2a.so.0.$minor" || soname="liba2i2a.so.$major"

"$CMAKE" --install "$A2I2A_BUILD" --prefix "$P" >"$T/install.log" 2>&1; rc=$?
ok "cmake --install exits 0 ($(tail -1 "$T/install.log"))" '[ $rc -eq 0 ]'
for f in bin/a2i2a include/a2i2a.h lib/liba2i2a.a lib/liba2i2a.so "lib/$soname" "lib/liba2i2a.so.$version" \
         lib/pkgconfig/a2i2a.pc lib/cmake/a2i2a/a2i2a-config.cmake lib/cmake/a2i2a/a2i2a-config-version.cmake \
         share/a2i2a/clip/bpe_simple_vocab_16e6.txt.gz share/bash-completion/completions/a2i2a \
         share/zsh/site-functions/_a2i2a share/man/man1/a2i2a.1; do
  ok "installed: $f" '[ -e "$P/$f" ]'
done
ok "the installed completions and man page are the program's own" \
   'cmp -s "$P/share/bash-completion/completions/a2i2a" <(env -u A2I2A_MODEL "$P/bin/a2i2a" completion bash) &&
    cmp -s "$P/share/zsh/site-functions/_a2i2a" <(env -u A2I2A_MODEL "$P/bin/a2i2a" completion zsh) &&
    grep -q "^\.TH A2I2A 1" "$P/share/man/man1/a2i2a.1"'
ok "the man page names no path of the build machine" '! grep -q "$HOME/\|/work/" "$P/share/man/man1/a2i2a.1"'
ok "the installed program is version $version" '"$P/bin/a2i2a" --version | head -1 | grep -qx "a2i2a $version"'
ok "the shared library's soname is $soname" 'readelf -d "$P/lib/liba2i2a.so" | grep -q "SONAME.*\[$soname\]"'
export PKG_CONFIG_PATH="$P/lib/pkgconfig"
ok "pkg-config knows version $version" '[ "$(pkg-config --modversion a2i2a)" = "$version" ]'
ok "pkg-config points into the prefix" '[ "$(pkg-config --variable=includedir a2i2a)" -ef "$P/include" ]'

# exports: the functions the header declares and the library defines, nothing else
grep -o '\ba2i2a_[a-z0-9_]*(' include/a2i2a.h | tr -d '(' | sort -u >"$T/declared"
nm -g --defined-only "$P/lib/liba2i2a.a" 2>/dev/null | awk '$2 == "T" { print $3 }' | sort -u >"$T/defined"
nm -D --defined-only "$P/lib/liba2i2a.so" | awk '{ print $3 }' | sort -u >"$T/exported"
comm -12 "$T/declared" "$T/defined" >"$T/api"
ok "the shared library exports only a2i2a_* ($(grep -v '^a2i2a_' "$T/exported" | head -3 | tr '\n' ' '))" \
   '[ -s "$T/exported" ] && ! grep -qv "^a2i2a_" "$T/exported"'
ok "it exports every public function the library defines ($(comm -3 "$T/api" "$T/exported" | tr -d '\t' | head -3 | tr '\n' ' '))" \
   'cmp -s "$T/api" "$T/exported"'
ok "internal functions stay hidden" '! grep -qx fail "$T/exported" && grep -qx fail <(nm -g --defined-only "$P/lib/liba2i2a.a" | awk "{ print \$3 }")'

is_png() { [ "$(od -An -tx1 -N8 "$1" | tr -d ' \n')" = "89504e470d0a1a0a" ]; }
is_wav() { [ "$(head -c4 "$1")" = RIFF ] && [ "$(dd if="$1" bs=1 skip=8 count=4 2>/dev/null)" = WAVE ]; }

# A library built under the sanitizers (A2I2A_SANITIZE) needs their runtime in the programs
# that link it: CMake passes the flags in A2I2A_CONSUMER_FLAGS (empty otherwise).
read -r -a consumer_flags <<<"${A2I2A_CONSUMER_FLAGS:-}"

# shared, through pkg-config; the chain with two readings
"$CC" "${consumer_flags[@]}" -std=c17 -Wall -Wextra -Werror examples/embed.c -o "$T/embed" $(pkg-config --cflags --libs a2i2a) 2>"$T/cc.log"; rc=$?
ok "embed.c builds with pkg-config ($(head -1 "$T/cc.log"))" '[ $rc -eq 0 ]'
ok "it links the installed shared library" \
   'LD_LIBRARY_PATH="$P/lib" ldd "$T/embed" | grep -q "$soname => $P/lib/$soname"'
LD_LIBRARY_PATH="$P/lib" "$T/embed" "$T/shared" red,chirp >"$T/out" 2>"$T/err"; rc=$?
ok "embed exits 0 ($(tail -1 "$T/err"))" '[ $rc -eq 0 ]'
for f in spectrogram.png art.png sheet.png; do ok "embed wrote $f" 'is_png "$T/shared/$f"'; done
for f in red.wav chirp.wav; do ok "embed wrote $f" 'is_wav "$T/shared/$f"'; done
ok "embed wrote run.json, naming the tiny model" 'grep -q "examples/tiny-sd1" "$T/shared/run.json"'
ok "only the readings asked for" '[ "$(ls "$T/shared" | grep -c "\.wav$")" -eq 2 ]'
ok "the progress bar went to stderr, up to 100 %" 'grep -q "\[#*  *\] *[0-9]*% painting" "$T/err" && grep -q "\[##############################\] 100%" "$T/err"'
ok "stdout has no progress, only the result line" '[ "$(wc -l <"$T/out")" -eq 1 ] && grep -q "done" "$T/out" && ! grep -q "%" "$T/out"'
ok "the tiny-model note came through the log callback" 'grep -q "^note: .*tiny model" "$T/err"'

# static, through pkg-config --static; the same painting
"$CC" "${consumer_flags[@]}" -std=c17 -Wall -Wextra -Werror examples/embed.c -o "$T/embed-static" $(pkg-config --cflags a2i2a) \
  $(pkg-config --static --libs a2i2a | sed 's/-la2i2a /-l:liba2i2a.a /') 2>"$T/cc.log"; rc=$?
ok "embed.c builds statically with pkg-config --static ($(head -1 "$T/cc.log"))" '[ $rc -eq 0 ]'
ok "it needs no liba2i2a.so" '[ -x "$T/embed-static" ] && ! readelf -d "$T/embed-static" | grep -q "liba2i2a"'
"$T/embed-static" "$T/static" red >"$T/out" 2>"$T/err"; rc=$?
ok "the static embed exits 0 ($(tail -1 "$T/err"))" '[ $rc -eq 0 ]'
ok "it paints the same picture" 'cmp -s "$T/static/art.png" "$T/shared/art.png"'
ok "it reads the same red sound" 'cmp -s "$T/static/red.wav" "$T/shared/red.wav"'

# CMake: find_package(a2i2a) and the imported target a2i2a::a2i2a
"$CMAKE" -S examples -B "$T/consumer" -DCMAKE_PREFIX_PATH="$P" -DCMAKE_C_COMPILER="$CC" \
  -DCMAKE_C_FLAGS="${A2I2A_CONSUMER_FLAGS:-}" >"$T/cmake.log" 2>&1 &&
  "$CMAKE" --build "$T/consumer" >>"$T/cmake.log" 2>&1; rc=$?
ok "examples/CMakeLists.txt builds embed with find_package ($(grep -m1 -i error "$T/cmake.log"))" '[ $rc -eq 0 ]'
ok "it links the installed shared library" 'readelf -d "$T/consumer/embed" | grep -q "NEEDED.*\[$soname\]"'
"$T/consumer/embed" "$T/cmake" red >"$T/out" 2>"$T/err"; rc=$?
ok "the CMake-built embed runs (RPATH to the prefix) and paints the same picture ($(tail -1 "$T/err"))" \
   '[ $rc -eq 0 ] && cmp -s "$T/cmake/art.png" "$T/shared/art.png"'
# the package version file: the same minor version only while the major is 0
compatible() { # REQUESTED_VERSION -> TRUE/FALSE as find_package would decide
  local req=$1
  cat >"$T/ver.cmake" <<EOS
set(PACKAGE_FIND_VERSION $req)
string(REPLACE "." ";" v "$req")
list(GET v 0 PACKAGE_FIND_VERSION_MAJOR)
list(GET v 1 PACKAGE_FIND_VERSION_MINOR)
list(GET v 2 PACKAGE_FIND_VERSION_PATCH)
set(PACKAGE_FIND_VERSION_COUNT 3)
include("$P/lib/cmake/a2i2a/a2i2a-config-version.cmake")
message("\${PACKAGE_VERSION_COMPATIBLE}")
EOS
  "$CMAKE" -P "$T/ver.cmake" 2>&1
}
ok "find_package($major.$minor.0) accepts $version" '[ "$(compatible "$major.$minor.0")" = TRUE ]'
ok "find_package($major.$((minor + 1)).0) refuses it" '[ "$(compatible "$major.$((minor + 1)).0")" = FALSE ]'
if [ "$major" = 0 ] && [ "$minor" -gt 0 ]; then
  ok "while the major is 0, find_package(0.$((minor - 1)).0) refuses it" '[ "$(compatible "0.$((minor - 1)).0")" = FALSE ]'
fi

# Ctrl-C during the painting: exit status 130, nothing left behind
# (err emptied first: the loop below must not see an earlier run's "painting" before the
# background shell has truncated it)
: >"$T/err"
LD_LIBRARY_PATH="$P/lib" "$T/embed" "$T/cancel" >"$T/out" 2>"$T/err" &
pid=$!
for _ in $(seq 1200); do grep -q painting "$T/err" 2>/dev/null && break; kill -0 $pid 2>/dev/null || break; sleep 0.1; done
ok "the painting began" 'grep -q painting "$T/err"'
kill -INT $pid 2>/dev/null
wait $pid; rc=$?
ok "Ctrl-C: exit status 130 (got $rc)" '[ $rc -eq 130 ]'
ok "Ctrl-C: it says so" 'grep -q "cancelled; nothing was written" "$T/err"'
ok "Ctrl-C: no output folder, or an empty one" '[ ! -e "$T/cancel" ] || [ -z "$(ls -A "$T/cancel")" ]'

echo "cli_install: $pass passed, $fail failed"
[ $fail -eq 0 ]
