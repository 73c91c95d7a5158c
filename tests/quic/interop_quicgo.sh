#!/bin/bash
# Interop with a second, independent QUIC stack: quic-go (Debian's
# golang-github-lucas-clemente-quic-go-dev, built offline here with Debian's
# golang into the build tree). quic-go knows nothing of SCONE: it offers no
# scone_supported parameter, so it must be left alone (no SCONE packet sent
# to it), and our side must not fail over its lack of it. Checks:
#  - scone-client (SCONE on, and --no-scone) -> quicgo-server: GETs
#    complete with the right bodies, nothing negotiated, no SCONE packet;
#  - quicgo-client -> scone-server: GETs complete with the right bodies;
#  - the same through sconed --relay (--advice 1.5M), both ways: the
#    transfers complete and sconed sees their packets, none with SCONE, so it
#    rewrites nothing; scone-client -> relay -> scone-server, on the same
#    relay, does get the advice (signal 23 = 1412538 bit/s).
# Skips (77) when go or quic-go is missing.
#
# usage: interop_quicgo.sh SCONE_SERVER SCONE_CLIENT SCONED SCT_HTTP GO_SRC OUT
#   GO_SRC: tests/quic/quicgo (server/, client/); OUT: where the Go
#   programs and their build cache go.
set -u
SERVER=$1 CLIENT=$2 SCONED=$3 HTTP=$4 SRC=$5 OUT=$6
. "$(dirname "$0")/../e2e/lib.sh"

GOPKG=golang-github-lucas-clemente-quic-go-dev
GOPATH_DEB=/usr/share/gocode
command -v go >/dev/null 2>&1 ||
	{ echo "SKIP: go not installed (Debian: golang)"; exit 77; }
[ -d "$GOPATH_DEB/src/github.com/lucas-clemente/quic-go/http3" ] ||
	{ echo "SKIP: quic-go not installed (Debian: $GOPKG)"; exit 77; }

E2E_WORK=$(mktemp -d)
w=$E2E_WORK
trap e2e_cleanup EXIT
trap 'exit 1' INT TERM

# Offline, from Debian's sources only (no module download). The cache in
# the build tree makes later runs take a fraction of a second.
mkdir -p "$OUT"
t0=$(e2e_now_ms)
for p in server client; do
	(cd "$SRC" && GO111MODULE=off GOPATH=$GOPATH_DEB GOFLAGS= \
		GOCACHE="$OUT/go-cache" go build -o "$OUT/quicgo-$p" "./$p") ||
		fail "go build quicgo-$p"
done
QGS=$OUT/quicgo-server QGC=$OUT/quicgo-client
echo "ok: built quicgo-server and quicgo-client in $(($(e2e_now_ms) - t0)) ms" \
	"($(go version | awk '{print $3}'), quic-go" \
	"$(dpkg-query -W -f='${Version}' $GOPKG 2>/dev/null || echo '?'))"

# quicgo-server on an ephemeral port.
e2e_bg /dev/null "$w/qgs.log" "$QGS" --listen 127.0.0.1:0
qgs=$E2E_LAST
wait_for "$w/qgs.log" "listening on port" 15 "$qgs" ||
	{ cat "$w/qgs.log" >&2; fail "quicgo-server did not start"; }
QGS_PORT=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$w/qgs.log")

e2e_start_server "$w/srv.out" "$w/srv.log" "$SERVER" --listen 127.0.0.1:0 \
	--state-dir "$w/state" --uplink-log
srv=$E2E_SERVER SRV_PORT=$E2E_SERVER_PORT

# body_ok FILE BYTES: FILE holds BYTES bytes of the /bytes/N pattern
# ('a' + i % 26), possibly several bodies one after the other.
body_ok() {
	[ "$(wc -c <"$1")" -eq "$2" ] || fail "$1: $(wc -c <"$1") bytes, not $2"
	head -c 52 "$1" | grep -q '^abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz$' ||
		fail "$1: not the /bytes pattern"
}

# scone_client_to NAME PORT ARGS...: two 1 MB GETs, bodies checked; our
# side reports nothing negotiated and sent no SCONE packet.
scone_client_to() {
	local name=$1 port=$2
	shift 2
	e2e_fetch "$name" 2 1000000 "$CLIENT" --insecure --repeat 2 \
		--interval 100ms --output "$w/$name.body" "$@" \
		"https://127.0.0.1:$port/bytes/1000000"
	body_ok "$w/$name.body" 2000000
	e2e_check_no_advice "$w/$name.out" "$name"
	[ "$(e2e_json "$w/$name.out" sconePacketsSent)" = 0 ] ||
		fail "$name: SCONE packets sent to a peer without SCONE"
	if grep -q 'scone-client:' "$w/$name.err"; then
		cat "$w/$name.err" >&2
		fail "$name: scone-client reported an error"
	fi
}

# quicgo_client_to NAME PORT: two 1 MB GETs with quic-go, bodies checked.
quicgo_client_to() {
	local name=$1 port=$2 rc=0
	timeout 30 "$QGC" -repeat 2 "https://127.0.0.1:$port/bytes/1000000" \
		>"$w/$name.out" 2>"$w/$name.err" || rc=$?
	[ $rc = 0 ] || { cat "$w/$name.out" "$w/$name.err" >&2; fail "$name: exit status $rc"; }
	[ "$(grep -c 'status 200, 1000000 bytes, pattern ok' "$w/$name.out")" = 2 ] ||
		{ cat "$w/$name.out" >&2; fail "$name: GETs incomplete"; }
	echo "ok: $name: 2 GETs of 1000000 bytes, status 200, pattern ok"
}

# 1. Direct, both ways.
scone_client_to scone-client-to-quicgo "$QGS_PORT"
scone_client_to scone-client-no-scone-to-quicgo "$QGS_PORT" --no-scone
quicgo_client_to quicgo-client-to-scone-server "$SRV_PORT"

# 2. Through sconed --relay: one relay in front of each server.
e2e_start_relay "$w/relay1.log" "$SCONED" "127.0.0.1:$SRV_PORT" \
	"$w/ctl1.sock" --advice 1500000
relay1=$E2E_SCONED RELAY1_PORT=$E2E_RELAY_PORT
e2e_start_relay "$w/relay2.log" "$SCONED" "127.0.0.1:$QGS_PORT" \
	"$w/ctl2.sock" --advice 1500000
relay2=$E2E_SCONED RELAY2_PORT=$E2E_RELAY_PORT
FAIL_LOG=
metrics1() { "$HTTP" GET "$w/ctl1.sock" /metrics; }
metrics2() { "$HTTP" GET "$w/ctl2.sock" /metrics; }

# relayed_plain NAME METRICS FETCH...: FETCH's traffic crossed the relay
# (at least 1400 packets for 2 MB), with no SCONE packet and no rewrite.
relayed_plain() {
	local name=$1 m=$2 p0 s0 r0 p1 s1 r1
	shift 2
	p0=$(e2e_metric 'sconed_packets_total{plan="default"}' "$m") || exit 1
	s0=$(e2e_metric 'sconed_scone_packets_total{plan="default"}' "$m") || exit 1
	r0=$(e2e_metric 'sconed_rewrites_total{plan="default"}' "$m") || exit 1
	"$@"
	p1=$(e2e_metric 'sconed_packets_total{plan="default"}' "$m") || exit 1
	s1=$(e2e_metric 'sconed_scone_packets_total{plan="default"}' "$m") || exit 1
	r1=$(e2e_metric 'sconed_rewrites_total{plan="default"}' "$m") || exit 1
	[ $((p1 - p0)) -ge 1400 ] || fail "$name: sconed saw $((p1 - p0)) packets"
	[ "$s1" = "$s0" ] || fail "$name: sconed saw $((s1 - s0)) SCONE packets"
	[ "$r1" = "$r0" ] || fail "$name: sconed rewrote $((r1 - r0)) packets"
	echo "ok: $name: sconed relayed $((p1 - p0)) packets, none with SCONE"
}

relayed_plain quicgo-client-via-relay metrics1 \
	quicgo_client_to quicgo-client-via-relay "$RELAY1_PORT"
relayed_plain scone-client-via-relay-to-quicgo metrics2 \
	scone_client_to scone-client-via-relay-to-quicgo "$RELAY2_PORT"

# The same relay does advise a peer that speaks SCONE.
e2e_fetch scone-client-via-relay 1 1000000 "$CLIENT" --insecure \
	--output /dev/null "https://127.0.0.1:$RELAY1_PORT/bytes/1000000"
e2e_check_advice "$w/scone-client-via-relay.out" 23 1412538 \
	"scone-client via the relay to scone-server"

e2e_stop "$qgs" 10 || fail "quicgo-server exit status $? after SIGTERM"
grep -q 'quicgo-server: 6 requests' "$w/qgs.log" ||
	{ cat "$w/qgs.log" >&2; fail "quicgo-server request count"; }
e2e_stop "$srv" 10 || fail "scone-server exit status $? after SIGTERM"
e2e_stop "$relay1" 10 || fail "sconed exit status $? after SIGTERM"
e2e_stop "$relay2" 10 || fail "sconed exit status $? after SIGTERM"
echo PASS
