# scripts/install-deps.sh, with stand-ins for apt-get and sudo (nothing is installed): with every
# package present it installs nothing, in one line and under 2 s; otherwise one line per step,
# apt-get's output only when it fails (its own error then); it waits for another install's lock,
# saying so once.
set -u
. tests/support/ok.sh
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
mkdir "$T/bin"
cat >"$T/bin/apt-get" <<'FAKE'
#!/bin/sh
echo "$*" >>"$FAKE_CALLS"
echo "Get:1 http://deb.debian.org/debian bookworm InRelease [151 kB]"
echo "Reading package lists..."
case "$*" in *install*a2i2a-no-such-package*) echo "E: Unable to locate package a2i2a-no-such-package"; exit 100 ;; esac
exit 0
FAKE
printf '#!/bin/sh\nexec "$@"\n' >"$T/bin/sudo"
chmod +x "$T/bin/apt-get" "$T/bin/sudo"
export PATH="$T/bin:$PATH" FAKE_CALLS="$T/calls"
ms() { echo $(( $(date +%s%N) / 1000000 )); }
# a copy of the script asking for other packages (and, with a third argument, other locks)
variant() {
  awk -v pkgs="$2" '/^PKGS="/ { print "PKGS=\"" pkgs "\""; skip = !/"$/; next }
    skip { skip = !/"$/; next } { print }' scripts/install-deps.sh >"$1"
  [ $# -lt 3 ] || sed -i "s|^LOCKS=.*|LOCKS=\"$3\"|" "$1"
}

# everything present (the README runs the script before the tests): nothing to do, fast
: >"$T/calls"
t0=$(ms); out=$(sh scripts/install-deps.sh 2>&1); rc=$?; t=$(( $(ms) - t0 ))
[ $rc -eq 0 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] && [ ! -s "$T/calls" ] && ok \
  || bad "second run: exit $rc, apt-get called: $(cat "$T/calls"), said: $out"
[ $t -lt 2000 ] && ok || bad "second run took $t ms"
echo "second run: $t ms: $out"

# a package to install: one line per step, apt-get's output kept back
variant "$T/one.sh" "cmake a2i2a-test-pkg"
: >"$T/calls"
out=$(sh "$T/one.sh" 2>&1); rc=$?
[ $rc -eq 0 ] && [ "$out" = "install-deps: updating the package lists
install-deps: installing a2i2a-test-pkg
install-deps: done" ] && ok || bad "install: exit $rc, said: $out"
grep -q "^install .*a2i2a-test-pkg" "$T/calls" && ! grep -q "^install .*cmake" "$T/calls" && ok \
  || bad "apt-get calls: $(cat "$T/calls")"

# apt-get fails: its own error, on stderr, exit 1
variant "$T/bad.sh" "a2i2a-no-such-package"
sh "$T/bad.sh" >"$T/out" 2>"$T/err"; rc=$?
[ $rc -eq 1 ] && grep -q "^E: Unable to locate package a2i2a-no-such-package" "$T/err" && ! grep -q "Get:1" "$T/out" "$T/err" \
  && ok || bad "failure: exit $rc, stdout: $(cat "$T/out"), stderr: $(cat "$T/err")"

# another install holds a lock: wait, saying so once, then go on
variant "$T/wait.sh" "a2i2a-test-pkg" "$T/lock"
: >"$T/lock"
flock "$T/lock" sleep 5 &
for _ in 1 2 3 4 5 6 7 8 9 10; do grep -q ":$(stat -c %i "$T/lock") " /proc/locks && break; sleep 0.5; done
t0=$(ms); out=$(sh "$T/wait.sh" 2>&1); rc=$?; t=$(( $(ms) - t0 ))
wait
[ $rc -eq 0 ] && [ "$(printf '%s\n' "$out" | grep -c "waiting")" -eq 1 ] && printf '%s\n' "$out" | grep -q "done$" \
  && [ $t -ge 2000 ] && ok || bad "lock: exit $rc after $t ms, said: $out"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
