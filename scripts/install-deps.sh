#!/bin/sh
# Installs the Debian packages a2i2a needs to build and test. Idempotent: with everything present
# it installs nothing. Run as root (or through sudo) on Debian 12 / Ubuntu 22.04+. It prints one
# line per step, and apt's own output only when a step fails; while another install holds the
# package manager's lock it waits, up to 10 minutes.
set -eu
PKGS="build-essential cmake pkg-config \
  libsndfile1-dev libmpg123-dev libsoxr-dev libfftw3-dev libsleef-dev libpng-dev libjpeg-dev \
  libopenblas-openmp-dev libcjson-dev libutf8proc-dev libcurl4-openssl-dev zlib1g-dev libebur128-dev \
  libmicrohttpd-dev libzip-dev libyaml-dev chromium chromium-driver python3-selenium parallel slurm-wlm munge \
  clang libclang-rt-14-dev libomp-14-dev"
say() { echo "install-deps: $*"; }

# shellcheck disable=SC2086
installed=" $(dpkg-query -W -f='${Status} ${Package}\n' $PKGS 2>/dev/null | awk '$3 == "installed" { printf "%s ", $4 }')"
missing=""
for p in $PKGS; do
  case "$installed" in *" $p "*) ;; *) missing="$missing $p" ;; esac
done
if [ -z "$missing" ]; then
  say "nothing to install, all $(echo "$PKGS" | wc -w) packages are present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

# The package manager's locks; another process holding one is found by its inode in /proc/locks.
LOCKS="/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock /var/cache/apt/archives/lock"
locked() {
  for f in $LOCKS; do
    inode=$(stat -c %i "$f" 2>/dev/null) && grep -q ":$inode " /proc/locks && return 0
  done
  return 1
}
waited=0
wait_for_locks() {
  while locked; do
    [ "$waited" -eq 0 ] && say "another install holds the package manager; waiting for it (up to 10 minutes)"
    if [ "$waited" -ge 600 ]; then
      say "the package manager is still locked after 10 minutes; try again when the other install is done" >&2
      exit 1
    fi
    sleep 2
    waited=$((waited + 2))
  done
}

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# step WHAT COMMAND...: one line, then the command with its output kept back, shown if it fails.
# apt waits for the dpkg lock itself too (DPkg::Lock::Timeout), in case another install takes it
# between the check and the start.
step() {
  what=$1
  shift
  say "$what"
  wait_for_locks
  if ! "$@" >"$log" 2>&1; then
    say "failed: $what; apt-get says:" >&2
    grep -E '^(E|Err):' "$log" >&2 || tail -n 20 "$log" >&2
    exit 1
  fi
}
step "updating the package lists" $SUDO apt-get update -q -o DPkg::Lock::Timeout=600
# shellcheck disable=SC2086
step "installing$missing" $SUDO env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 $missing
say "done"
