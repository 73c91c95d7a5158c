#!/bin/bash
# A path that drops every datagram led by a SCONE packet: scone-client --
# router (sconed --nfqueue advising 2M, then a filter rule dropping each
# UDP datagram whose payload starts with a long header of a SCONE
# version, both ways) -- scone-server, in network namespaces. Both ends
# negotiate SCONE and send a SCONE packet every second, coalesced with
# QUIC packets, so each is a lost datagram to the connection. Checks:
# the rule dropped datagrams; every GET completes with its bytes; the
# client reports no advice at all (stats: throughputAdvice null, no
# SCONE packet received, none accepted) while SCONE is negotiated; the
# client and the server log no error and no line per lost packet.
#
# usage: scone_drop_test.sh SCONED SERVER CLIENT SCT_HTTP SCONED_IPTABLES
# Needs root (namespaces, iptables with the u32 match); exits 77 without.
set -u
SCONED=$1 SERVER=$2 CLIENT=$3 IPT=$5
. "$(dirname "$0")/lib.sh"
e2e_can_netns || { echo "SKIP: $E2E_WHY"; exit 77; }
E2E_TAG=sct-sdrop-$$
E2E_WORK=$(mktemp -d)
w=$E2E_WORK
trap e2e_cleanup EXIT
trap 'exit 1' INT TERM
e2e_topo_up "$IPT" 21 || { echo "SKIP: cannot create namespaces"; exit 77; }
# From the UDP header (IP header length from the first word): payload byte
# 0 has the long-header bit, bytes 1..4 are a SCONE version (either one:
# they differ only in the top bit).
U32='0>>22&0x3C@8>>24&0x80=0x80 && 0>>22&0x3C@9&0x7FFFFFFF=0x6f7dc0fd'
ip netns exec "$E2E_R" iptables -w -I FORWARD -p udp -m u32 --u32 "$U32" \
	-j DROP 2>"$w/u32.err" ||
	{ echo "SKIP: no iptables u32 match: $(cat "$w/u32.err")"; exit 77; }
e2e_start_sconed "$w/sconed.log" ip netns exec "$E2E_R" "$SCONED" \
	--nfqueue 21 --advice 2000000 --control 127.0.0.1:9100
e2e_start_server "$w/srv.out" "$w/srv.log" ip netns exec "$E2E_S" \
	"$SERVER" --listen "$E2E_S_ADDR:4433" --state-dir "$w/state" \
	--scone-interval 1s
GETS=10
ip netns exec "$E2E_C" "$CLIENT" "https://$E2E_S_ADDR:4433/bytes/300k" \
	--insecure --repeat $GETS --interval 400ms --output /dev/null \
	--scone-interval 1s >"$w/cli.out" 2>"$w/cli.err"
rc=$?
[ $rc = 0 ] || { tail "$w/cli.err"; fail "scone-client exit status $rc"; }
dropped=$(ip netns exec "$E2E_R" iptables -w -L FORWARD -v -x -n |
	awk '/u32/ && $3 == "DROP" { print $1 }')
[ "${dropped:-0}" -ge 4 ] || fail "the path dropped ${dropped:-0} SCONE datagrams"
got=$(grep -c "status 200, 300000 bytes" "$w/cli.err")
[ "$got" = $GETS ] || { cat "$w/cli.err" >&2; fail "$got of $GETS GETs complete"; }
echo "ok: $GETS GETs complete over a path that dropped $dropped SCONE datagrams"
e2e_check_scone_dropped() {
	local out=$1 k v
	if grep -q ' advice ' "$out"; then cat "$out" >&2; fail "advice reported"; fi
	for k in throughputAdvice:null sconeNegotiated:true sconePacketsReceived:0 \
		sconeAdviceAccepted:0; do
		v=$(e2e_json "$out" "${k%%:*}")
		[ "$v" = "${k#*:}" ] || { cat "$out" >&2; fail "client stats: ${k%%:*}=$v"; }
	done
	v=$(e2e_json "$out" sconePacketsSent)
	[ "${v:-0}" -ge 2 ] || fail "client stats: sconePacketsSent=$v"
	echo "ok: the client reports no advice (throughputAdvice null, 0 SCONE" \
		"packets received, none accepted) though it sent $v"
}
e2e_check_scone_dropped "$w/cli.out"
# No error storm: nothing but the response lines from the client, nothing
# after start-up from the server, no error from sconed.
other=$(grep -vc "status 200, 300000 bytes" "$w/cli.err")
[ "$other" -le 2 ] || { cat "$w/cli.err" >&2; fail "client logged $other other lines"; }
n=$(grep -ciE 'error|fail|lost' "$w/srv.log" "$w/srv.out" "$w/sconed.log" |
	awk -F: '{ s += $NF } END { print s }')
[ "$n" = 0 ] || { cat "$w/srv.log" "$w/sconed.log" >&2; fail "$n error lines"; }
echo "ok: client, server and sconed logged no error ($other other client" \
	"lines, server log $(wc -l <"$w/srv.log") lines)"
echo "PASS"
