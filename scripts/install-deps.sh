#!/bin/sh
# Installs everything the build, the tests and the demo need, from Debian 12's
# repositories. Idempotent; run as root (or through sudo).
set -eu

PKGS="build-essential cmake pkg-config clang libclang-rt-14-dev llvm
 valgrind clang-format python3
 libcmocka-dev libpcap-dev libjansson-dev libinih-dev libmicrohttpd-dev
 libgnutls28-dev gnutls-bin libngtcp2-dev libngtcp2-crypto-gnutls-dev libnghttp3-dev
 ngtcp2-client ngtcp2-server
 libnetfilter-queue-dev libmnl-dev
 iproute2 iptables ethtool tcpdump"

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
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
