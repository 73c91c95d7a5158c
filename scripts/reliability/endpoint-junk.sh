#!/bin/bash
# Endpoints fed bad SCONE packets at a high rate: scone-client -- router
# (sconed --nfqueue, the 2M plan) -- scone-server in network namespaces
# (tests/e2e/lib.sh). While the client downloads, the router's namespace
# sends the client, from the server's own address and port, forged
# datagrams at full speed (tests/bin/scone_flood: SCONE packets with
# random CIDs, so wrong for this connection, and random signals, then a
# short header and junk; and QUIC long headers of version 1 with random
# CIDs; and long headers of versions neither knows), and the server the
# same from the client's address. Checks: every
# GET completes, the client still reports the router's advice (signal 26)
# and no other, the forged ones are counted as rejected (or dropped before
# the SCONE rules), both endpoints keep running.
#
# usage: scripts/reliability/endpoint-junk.sh [BUILD_DIR] (root)
# env: JUNK_SECONDS (10), JUNK_PPS (per generator, six of them; default:
# as fast as each can)
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "${1:-$root/build}" && pwd)
SCONED=$B/bin/sconed SERVER=$B/bin/scone-server CLIENT=$B/bin/scone-client
FLOOD=$B/tests/bin/scone_flood IPT=$root/scripts/sconed-iptables.sh
SECS=${JUNK_SECONDS:-10}
PPS=${JUNK_PPS:-0}
. "$root/tests/e2e/lib.sh"
e2e_can_netns || { echo "SKIP: $E2E_WHY"; exit 77; }
E2E_TAG=sct-jnk-$$
E2E_WORK=$(mktemp -d)
w=$E2E_WORK
trap e2e_cleanup EXIT
trap 'exit 1' INT TERM
e2e_topo_up "$IPT" 17 || { echo "SKIP: cannot create namespaces"; exit 77; }
e2e_start_sconed "$w/sconed.log" ip netns exec "$E2E_R" "$SCONED" \
	--nfqueue 17 --advice 2000000 --control 127.0.0.1:9100 --quiet
e2e_start_server "$w/srv.out" "$w/srv.log" ip netns exec "$E2E_S" \
	"$SERVER" --listen "$E2E_S_ADDR:4433" --state-dir "$w/state"
srv=$E2E_SERVER
ip netns exec "$E2E_C" "$CLIENT" "https://$E2E_S_ADDR:4433/bytes/1M" \
	--insecure --repeat $((SECS + 4)) --interval 1s --output /dev/null \
	--scone-interval 1s >"$w/cli.out" 2>"$w/cli.err" &
cpid=$!
E2E_PIDS+=($cpid)
sleep 1.5
cport=$(ip netns exec "$E2E_C" ss -Hunp | grep "pid=$cpid," |
	grep -oE "$E2E_C_ADDR:[0-9]+|\*:[0-9]+|0\.0\.0\.0:[0-9]+" | head -n 1 |
	sed 's/.*://')
[ -n "$cport" ] || fail "cannot find the client's port"
gens=()
for kind in scone quic version; do
	ip netns exec "$E2E_R" "$FLOOD" --src "$E2E_S_ADDR" --sport 4433 \
		--dst "$E2E_C_ADDR" --dport "$cport" --kind $kind \
		--seconds "$SECS" --pps "$PPS" >"$w/to-client-$kind" &
	gens+=($!)
	ip netns exec "$E2E_R" "$FLOOD" --src "$E2E_C_ADDR" --sport "$cport" \
		--dst "$E2E_S_ADDR" --dport 4433 --kind $kind \
		--seconds "$SECS" --pps "$PPS" >"$w/to-server-$kind" &
	gens+=($!)
done
for g in "${gens[@]}"; do wait "$g"; done
wait $cpid
rc=$?
for f in "$w"/to-*; do echo "$(basename "$f"): $(cat "$f")"; done
echo "client port $cport; client namespace UDP: $(ip netns exec "$E2E_C" \
	awk '/^Udp: [0-9]/ {print "InDatagrams=" $2, "NoPorts=" $3, "InErrors=" $4, "RcvbufErrors=" $6}' /proc/net/snmp)"
[ $rc = 0 ] || { tail "$w/cli.err"; fail "scone-client exit status $rc"; }
got=$(grep -c "status 200, 1000000 bytes" "$w/cli.err")
[ "$got" = $((SECS + 4)) ] || fail "$got of $((SECS + 4)) GETs complete"
e2e_check_advice "$w/cli.out" 26 1995262 "client under forged SCONE packets"
echo "client: sconePacketsReceived=$(e2e_json "$w/cli.out" sconePacketsReceived)" \
	"sconeAdviceAccepted=$(e2e_json "$w/cli.out" sconeAdviceAccepted)" \
	"sconeAdviceRejected=$(e2e_json "$w/cli.out" sconeAdviceRejected)"
# The draft's receive rules: a SCONE packet whose DCID is not the
# connection's is discarded. Every SCONE packet the client read must be
# accounted for, accepted (the router's, checked above) or rejected, and
# the forged ones must have reached it (a loaded machine makes its socket
# overflow: RcvbufErrors above, so not all of them do).
forged=$(sed -n 's/^sent=\([0-9]*\).*/\1/p' "$w/to-client-scone")
rx=$(e2e_json "$w/cli.out" sconePacketsReceived)
acc=$(e2e_json "$w/cli.out" sconeAdviceAccepted)
rej=$(e2e_json "$w/cli.out" sconeAdviceRejected)
[ "$((rx - acc - rej))" = 0 ] ||
	fail "client: $rx SCONE packets read, $acc accepted, $rej rejected"
[ "${rej:-0}" -ge $((forged / 10)) ] ||
	fail "client rejected ${rej:-0} of $forged forged SCONE packets"
echo "ok: the client rejected $rej of $forged forged SCONE packets" \
	"(each one it read)"
kill -0 "$srv" || fail "scone-server died"
echo "PASS"
