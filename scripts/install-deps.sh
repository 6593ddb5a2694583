#!/bin/sh
# Installs the Debian packages a2i2a needs to build and test. Idempotent; run as root
# (or through sudo) on Debian 12 / Ubuntu 22.04+.
set -eu
PKGS="build-essential cmake pkg-config \
  libsndfile1-dev libmpg123-dev libsoxr-dev libfftw3-dev libsleef-dev libpng-dev libjpeg-dev \
  libopenblas-openmp-dev libcjson-dev libutf8proc-dev libcurl4-openssl-dev zlib1g-dev \
  clang libclang-rt-14-dev libomp-14-dev"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
