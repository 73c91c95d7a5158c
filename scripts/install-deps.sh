#!/bin/sh
# Installs everything the build, the tests and the demo need, from Debian 12's
# repositories. Idempotent and non-interactive; run as root (or through sudo).
#
# One group of packages a line, with what needs it, so that additions do
# not collide.
set -eu

PKGS=""
add() { PKGS="$PKGS $*"; }
add build-essential cmake pkg-config clang-format    # the build
add libcmocka-dev libpcap-dev libjansson-dev libinih-dev libmicrohttpd-dev
add libgnutls28-dev libngtcp2-dev libngtcp2-crypto-gnutls-dev libnghttp3-dev
add libnetfilter-queue-dev libmnl-dev                # sconed's NFQUEUE path
add libsystemd-dev                                   # sconed's sd_notify (Type=notify)
add libbpf-dev bpftool clang                         # sconed's XDP fast path (xdp/)
add libndpi-dev                                      # sconed --legacy-dpi: the DPI baseline
add libhiredis-dev                                   # sconed --policy-store: Redis client (policy/)
add redis-server redis-tools                         # tests/policy: a real store; redis-cli, redis-benchmark
add clang libclang-rt-14-dev llvm                    # make fuzz; llvm-symbolizer
add valgrind                                         # callgrind gate, make bench
add python3                                          # CLI tests' JSON checks
add ngtcp2-client ngtcp2-server                      # interop with ngtcp2's examples
add golang golang-github-lucas-clemente-quic-go-dev  # quic-go interop, built offline
add iproute2 iptables ethtool procps                 # netns tests, make demo as root
add libxml2-dev                                      # MPD parser (libscone_video)
add ffmpeg                                           # make content (DASH encode)
add groff-base man-db systemd                        # man page and unit checks
add tshark                                           # the Wireshark dissector's test
add golang-github-prometheus-client-golang-dev       # promlint, for the metrics test
add chromium                                         # tests/browser: headless player (puppeteer-core)
add gnuplot-nox                                      # tests/browser, scone-lab: the QoE plots
add openssl curl                                     # tests/legacy: TLS over TCP through sconed --legacy-dpi
# tests/browser's npm modules (make deps runs npm ci): node and npm, unless
# a node is there already (NodeSource's nodejs carries its own npm and
# conflicts with Debian's).
command -v node >/dev/null 2>&1 || add nodejs
command -v npm >/dev/null 2>&1 || add npm

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
# tshark's wireshark-common asks whether non-root users may capture: no.
echo "wireshark-common wireshark-common/install-setuid boolean false" |
	$SUDO debconf-set-selections
# Through env, so that sudo (which resets the environment) passes it on.
# shellcheck disable=SC2086 # $missing is a list of package names
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	--no-install-recommends $missing
