#!/bin/bash
# End to end without privileges, on loopback: scone-client -> sconed
# --relay (built-in configuration, --advice 2000000) -> scone-server.
# Checks that:
#  - the client reports exactly the relay's advice, signal 26 = 1995262
#    bit/s, and its GETs complete; sconed counted the rewrites;
#  - a --no-scone client through the same relay completes its transfer and
#    reports no advice, while sconed relayed its packets, none with SCONE;
#  - a client straight to the server (no element) gets no advice: the
#    advice is the relay's doing, not the endpoints'.
#
# usage: relay_test.sh SCONED SCONE_SERVER SCONE_CLIENT SCT_HTTP
set -u
SCONED=$1 SERVER=$2 CLIENT=$3 HTTP=$4
. "$(dirname "$0")/lib.sh"

E2E_WORK=$(mktemp -d)
w=$E2E_WORK
trap e2e_cleanup EXIT
trap 'exit 1' INT TERM

e2e_start_server "$w/srv.out" "$w/srv.log" "$SERVER" --listen 127.0.0.1:0 \
	--state-dir "$w/state" --uplink-log
srv=$E2E_SERVER
ctl=$w/control.sock
e2e_start_relay "$w/sconed.log" "$SCONED" "127.0.0.1:$E2E_SERVER_PORT" \
	"$ctl" --advice 2000000
echo "ok: scone-server on port $E2E_SERVER_PORT, sconed --relay on port $E2E_RELAY_PORT"
metrics() { "$HTTP" GET "$ctl" /metrics; }

fetch() {
	local name=$1 port=$2
	shift 2
	e2e_fetch "$name" 2 1000000 "$CLIENT" "https://127.0.0.1:$port/bytes/1M" \
		--insecure --repeat 2 --interval 300ms --output /dev/null "$@"
}

fetch relayed "$E2E_RELAY_PORT"
e2e_check_advice "$w/relayed.out" 26 1995262 "client via the relay"
rew=$(e2e_metric 'sconed_rewrites_total{plan="default"}' metrics) || exit 1
[ "$rew" -ge 1 ] || fail "sconed_rewrites_total=$rew"
echo "ok: sconed rewrote $rew SCONE packets"

# 2 MB: at least 1300 packets.
e2e_check_plain_passes 1300 "--no-scone client via the relay" \
	fetch plain "$E2E_RELAY_PORT" --no-scone

fetch direct "$E2E_SERVER_PORT"
if grep -q ' advice ' "$w/direct.out"; then
	cat "$w/direct.out" >&2
	fail "advice without an element on the path"
fi
[ "$(e2e_json "$w/direct.out" sconeNegotiated)" = true ] || fail "direct: not negotiated"
rcv=$(e2e_json "$w/direct.out" sconePacketsReceived)
[ "${rcv:-0}" -ge 1 ] || fail "direct: no SCONE packets received"
echo "ok: direct: $rcv SCONE packets received (signal 127), no advice"

e2e_stop $srv 10 || fail "scone-server exit status $? after SIGTERM"
e2e_stop "$E2E_SCONED" 10 || fail "sconed exit status $? after SIGTERM"
FAIL_LOG=
echo "ok: scone-server and sconed stopped cleanly"
echo PASS
