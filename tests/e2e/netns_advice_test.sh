#!/bin/bash
# End to end through a real router: scone-client in one network namespace,
# scone-server in another, sconed --nfqueue on the router between them
# behind the rules of scripts/sconed-iptables.sh, on the built-in
# configuration with --advice 2000000. Checks that:
#  - the client reports exactly the router's advice, signal 26 =
#    1995262 bit/s, over IPv4 and over IPv6, every GET completing;
#  - it reports nothing else (no other signal, no uplink advice at the
#    server: the built-in plan has none);
#  - a --no-scone client through the same element completes its transfer
#    and reports no advice, while sconed saw its packets and no SCONE
#    packet in them.
#
# usage: netns_advice_test.sh SCONED SCONE_SERVER SCONE_CLIENT SCT_HTTP
#                             SCONED_IPTABLES
# Needs root; exits 77 (skip) without.
set -u
SCONED=$1 SERVER=$2 CLIENT=$3 HTTP=$4 IPT=$5
. "$(dirname "$0")/lib.sh"

e2e_can_netns || { echo "SKIP: $E2E_WHY"; exit 77; }
E2E_TAG=sct-e2a-$$
E2E_WORK=$(mktemp -d)
w=$E2E_WORK
trap e2e_cleanup EXIT
trap 'exit 1' INT TERM

e2e_topo_up "$IPT" 7 || { echo "SKIP: cannot create network namespaces"; exit 77; }
ctl=127.0.0.1:9100
inr() { ip netns exec "$E2E_R" "$@"; }

e2e_start_sconed "$w/sconed.log" ip netns exec "$E2E_R" "$SCONED" \
	--nfqueue 7 --advice 2000000 --control $ctl
servers=()
for a in "$E2E_S_ADDR:4433" "[$E2E_S_ADDR6]:4433"; do
	e2e_start_server "$w/srv-$a.out" "$w/srv-$a.log" ip netns exec "$E2E_S" \
		"$SERVER" --listen "$a" --state-dir "$w/state" --uplink-log
	servers+=("$E2E_SERVER")
done

metrics() { ip netns exec "$E2E_R" "$HTTP" GET $ctl /metrics; }

# fetch NAME URL ARGS...: three GETs of /bytes/1M over one connection.
fetch() {
	local name=$1 url=$2 sz
	shift 2
	e2e_fetch "$name" 3 1000000 ip netns exec "$E2E_C" "$CLIENT" \
		"$url/bytes/1M" --insecure --repeat 3 --interval 300ms \
		--output "$w/$name.body" "$@"
	sz=$(stat -c %s "$w/$name.body")
	[ "$sz" = 3000000 ] || fail "$name: $sz body bytes written, expected 3000000"
}

fetch scone4 "https://$E2E_S_ADDR:4433"
e2e_check_advice "$w/scone4.out" 26 1995262 "IPv4 client"
fetch scone6 "https://[$E2E_S_ADDR6]:4433"
e2e_check_advice "$w/scone6.out" 26 1995262 "IPv6 client"
for a in "$E2E_S_ADDR:4433" "[$E2E_S_ADDR6]:4433"; do
	if grep -q 'uplink advice' "$w/srv-$a.out"; then
		cat "$w/srv-$a.out" >&2
		fail "server $a: uplink advice without an uplink plan"
	fi
done
echo "ok: servers: no uplink advice (the built-in plan has none)"

rew=$(e2e_metric 'sconed_rewrites_total{plan="default"}' metrics) || exit 1
[ "$rew" -ge 2 ] || fail "sconed_rewrites_total=$rew, expected >= 2"
echo "ok: sconed rewrote $rew SCONE packets"

# (c) A plain QUIC client through the same element.
# 3 MB: at least 2000 packets.
e2e_check_plain_passes 2000 "--no-scone client" \
	fetch plain "https://$E2E_S_ADDR:4433" --no-scone

for p in "${servers[@]}"; do
	e2e_stop "$p" 10 || fail "scone-server exit status $? after SIGTERM"
done
e2e_stop "$E2E_SCONED" 10 || fail "sconed exit status $? after SIGTERM"
FAIL_LOG=
echo "ok: scone-server and sconed stopped cleanly"
echo PASS
