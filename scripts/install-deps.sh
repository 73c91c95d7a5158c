#!/bin/sh
# Installs everything the build, the tests and the demo need, from Debian 12's
# repositories. Idempotent and non-interactive; run as root (or through sudo).
#
# Besides the toolchain and the -dev libraries: clang and libclang-rt-14-dev
# for `make fuzz` (libFuzzer), llvm for llvm-symbolizer (sanitizer reports),
# valgrind for callgrind (`make bench`), python3 for the CLI tests' JSON
# checks, ngtcp2-client and ngtcp2-server for the interop test, and, for the
# network-namespace tests and `make demo` as root, iproute2 (ip, ss),
# iptables, ethtool and procps (sysctl). libxml2-dev parses MPDs
# (libscone_video); ffmpeg encodes the DASH content (`make content`).
set -eu

PKGS="build-essential cmake pkg-config clang libclang-rt-14-dev llvm
 valgrind clang-format python3
 libcmocka-dev libpcap-dev libjansson-dev libinih-dev libmicrohttpd-dev
 libgnutls28-dev libngtcp2-dev libngtcp2-crypto-gnutls-dev libnghttp3-dev
 ngtcp2-client ngtcp2-server
 libnetfilter-queue-dev libmnl-dev libxml2-dev ffmpeg
 iproute2 iptables ethtool procps"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && { echo "install-deps: all packages present"; exit 0; }

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "install-deps: installing$missing"
$SUDO apt-get update -q
# Through env, so that sudo (which resets the environment) passes it on.
# shellcheck disable=SC2086 # $missing is a list of package names
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	--no-install-recommends $missing
