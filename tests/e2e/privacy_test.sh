#!/bin/bash
# Nothing sconed emits names a subscriber: a real session (scone-client --
# router with sconed --nfqueue -- scone-server, network namespaces, IPv4
# and IPv6) with a config naming the subscriber's prefixes, then every
# output is scanned for the subscriber's addresses (as text in any usual
# spelling), its port, its prefixes from the config and the config's
# subscriber line: sconed's log (every message it writes at its default,
# most verbose level, through start, flows, a refused and a good reload by
# SIGHUP and by POST /reload, a capacity change, shutdown), /metrics,
# /state and every control reply, and the endpoints' qlog files (client
# and server). (The offline summary is checked by test_sconed_offline.)
# PRIVACY_SCONED_ARGS adds sconed options (--log-addresses must fail it).
#
# usage: privacy_test.sh SCONED SCONE_SERVER SCONE_CLIENT SCT_HTTP IPT
# Needs root; exits 77 (skip) without.
set -u
SCONED=$1 SERVER=$2 CLIENT=$3 HTTP=$4 IPT=$5
. "$(dirname "$0")/lib.sh"

e2e_can_netns || { echo "SKIP: $E2E_WHY"; exit 77; }
E2E_TAG=sct-prv-$$
E2E_WORK=$(mktemp -d)
w=$E2E_WORK
trap e2e_cleanup EXIT
trap 'exit 1' INT TERM
e2e_topo_up "$IPT" 11 || { echo "SKIP: cannot create network namespaces"; exit 77; }
ctl=127.0.0.1:9100
cfg=$w/sconed.ini
cat >"$cfg" <<INI
[plan video]
downlink = 2M
[capacity cell1]
rate = 100M
[subscribers]
subscriber = 10.88.1.0/24 video opt-in capacity=cell1
subscriber = fd88:1::/64 video opt-in capacity=cell1
INI
out=$w/emitted
mkdir -p "$out"
e2e_start_sconed "$out/sconed.log" ip netns exec "$E2E_R" "$SCONED" \
	--config "$cfg" --nfqueue 11 --control $ctl ${PRIVACY_SCONED_ARGS:-}
e2e_start_server "$w/srv.out" "$w/srv.log" ip netns exec "$E2E_S" \
	"$SERVER" --listen "0.0.0.0:4433" --state-dir "$w/state" \
	--qlog-dir "$out/server-qlog"
e2e_start_server "$w/srv6.out" "$w/srv6.log" ip netns exec "$E2E_S" \
	"$SERVER" --listen "[::]:4434" --state-dir "$w/state" \
	--qlog-dir "$out/server-qlog6"
ctlreq() { ip netns exec "$E2E_R" "$HTTP" "$1" $ctl "$2" >>"$out/control.txt"; }

e2e_fetch v4 2 300000 ip netns exec "$E2E_C" "$CLIENT" \
	"https://$E2E_S_ADDR:4433/bytes/300k" --insecure --repeat 2 \
	--interval 200ms --output /dev/null --qlog "$out/client4.sqlog"
e2e_fetch v6 2 300000 ip netns exec "$E2E_C" "$CLIENT" \
	"https://[$E2E_S_ADDR6]:4434/bytes/300k" --insecure --repeat 2 \
	--interval 200ms --output /dev/null --qlog "$out/client6.sqlog"
e2e_check_advice "$w/v4.out" 26 1995262 "IPv4 session"
cp "$w/v4.out" "$w/v6.out" "$out/" # the client's own report is not ours
rm "$out/v4.out" "$out/v6.out"
ctlreq GET /metrics
ctlreq GET /state
ctlreq POST "/capacity?name=cell1&bps=1M"
ctlreq POST "/capacity?name=nope&bps=1M"
cp "$cfg" "$w/good.ini"
sed -i 's/^downlink = 2M/downlink = fast/' "$cfg"
ctlreq POST /reload
kill -HUP "$E2E_SCONED"
wait_for "$out/sconed.log" "reload failed" 5 || fail "SIGHUP reload"
cp "$w/good.ini" "$cfg"
ctlreq POST /reload
ctlreq GET /metrics
ctlreq GET /state
grep -q "^status=200" "$out/control.txt" || fail "no control reply"
e2e_stop "$E2E_SCONED" 10 || fail "sconed exit status $?"

# Every output, every spelling of the subscriber's identity.
port=$(sed -n 's/.*"localPort":\([0-9]*\).*/\1/p' "$w/v4.out" | head -n 1)
needles=(10.88.1.2 10.88.1.0 "10\.88\.1\." fd88:1::2 "fd88:1::" \
	"fd88:0001" "fd88:1:0:0:0:0:0:2" "0a580102" "subscriber =" "10.88.1.0/24")
n=0
# The scan finds what it looks for (a line as --log-addresses writes).
echo "flow non-conforming ipv4 plan=video dir=downlink src=10.88.2.2:4433" \
	"dst=10.88.1.2:$port" >"$w/probe"
scan() {
	local f=$1 s
	for s in "${needles[@]}"; do
		if grep -qiE -- "$s" "$f"; then
			grep -iE -m3 -- "$s" "$f" >&2
			return 1
		fi
	done
	return 0
}
scan "$w/probe" 2>/dev/null && fail "the scan misses a leak"
for f in $(find "$out" -type f); do
	n=$((n + 1))
	scan "$f" || fail "$(basename "$f") names the subscriber"
	if [ -n "$port" ] && grep -qE "[^0-9]$port[^0-9]" "$f" &&
		[[ $f == *sconed.log || $f == *control.txt ]]; then
		fail "$(basename "$f") shows the client's port $port"
	fi
done
[ "$n" -ge 5 ] || fail "only $n outputs scanned"
grep -q "reload failed" "$out/sconed.log" || fail "the log is not complete"
echo "ok: $n outputs of sconed and the endpoints' qlog scanned:" \
	"no subscriber address, prefix or port"
echo "PASS"
