#!/bin/bash
# The XDP fast path live on a router: client -- router -- server network
# namespaces joined by veths, `sconed --xdp r0,r1` on the router (native
# mode, then generic). Checks, over IPv4 and IPv6, that the client
# receives the server's SCONE packets lowered to the signal for 2 Mbit/s
# (26) with valid UDP checksums on the wire, that the uplink (no uplink
# advice) stays at 127, and fail-open: sconed killed with SIGKILL in the
# middle of a flow, every datagram still arrives and the interfaces carry
# no XDP program afterwards.
#
# usage: xdp_live_test.sh SCONED SCONE_SENDER
# Needs root (network namespaces, BPF); exits 77 (skip) without.
set -u
SCONED=$1 SENDER=$2
. "$(dirname "$0")/../sconed/lib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root for network namespaces and XDP"
	exit 77
fi
for t in ip ethtool sysctl; do
	command -v $t >/dev/null || { echo "SKIP: no $t"; exit 77; }
done

router_topology 79 sct-xdp

# exchange FAMILY SERVER_ADDR PORT COUNT INTERVAL_US: a flow of COUNT
# datagrams each way, captured on both ends.
exchange() {
	fam=$1 addr=$2 port=$3 count=$4 interval=$5
	srv=$work/server$fam.$port cli=$work/client$fam.$port
	ip netns exec $S "$SENDER" server --listen "$addr:$port" --capture s0 \
		--idle-ms 500 --timeout-ms 30000 >"$srv" &
	spid=$!
	pids+=($spid)
	wait_for "$srv" "ready=1" 10 || fail "server did not start"
	# 2.5 s for the last answers: the router's first neighbour
	# solicitation for the client is sometimes not answered, and IPv6
	# retries it after 1 s with the answers queued (seen 2 runs in 5).
	ip netns exec $C "$SENDER" client --to "$addr:$port" --count "$count" \
		--interval-us "$interval" --wait-ms 2500 --capture c0 >"$cli" &
	cpid=$!
	pids+=($cpid)
}

finish() {
	wait $cpid || fail "client failed"
	wait_gone $spid 30 || fail "server did not finish"
}

xdp_attached() {
	ip -n $R link show "$1" | grep -q 'prog/xdp'
}

for mode in native generic; do
	echo "== $mode"
	if [ $mode = native ]; then
		start_xdp_sconed "$work/sconed-$mode.log" --advice 2000000
	else
		start_xdp_sconed "$work/sconed-$mode.log" --advice 2000000 --xdp-generic
	fi
	xdp_attached r0 && xdp_attached r1 || fail "no XDP program on r0/r1"
	for fam in 4 6; do
		# Generic mode: the fail-open flow below checks the rewrite.
		[ $mode = generic ] && continue
		if [ $fam = 4 ]; then addr=10.79.2.2; else addr="[fd79:2::2]"; fi
		port=$((4433 + fam))
		exchange $fam "$addr" $port 100 2000
		finish
		srv=$work/server$fam.$port cli=$work/client$fam.$port
		expect "$cli" rx -eq 100 "$mode IPv$fam client"
		expect "$cli" sig_26 -ge 1 "$mode IPv$fam client"
		only_signals "$cli" sig 26 127
		expect "$cli" cap_sig_26 -ge 1 "$mode IPv$fam client wire"
		expect "$cli" cap_csum_bad -eq 0 "$mode IPv$fam client wire"
		expect "$srv" rx -eq 100 "$mode IPv$fam server"
		expect "$srv" sig_127 -eq 99 "$mode IPv$fam server"
		expect "$srv" cap_csum_bad -eq 0 "$mode IPv$fam server wire"
	done
	# Fail-open: SIGKILL in the middle of a flow of 600 datagrams each
	# way (1.2 s); the links are the process's, so the kernel detaches
	# the program and every datagram still arrives.
	exchange 4 10.79.2.2 5000 600 2000
	sleep 0.4
	kill -9 $sconed_pid
	wait $sconed_pid 2>/dev/null
	finish
	cli=$work/client4.5000 srv=$work/server4.5000
	# Native mode has lost none in every run. Generic (skb) mode lost 2
	# of 600 once, in a CI run under load, at the moment of the detach
	# (the client's own capture never saw them): the fail-open claim
	# there is that traffic keeps flowing, within 1% (docs/xdp.md).
	if [ $mode = native ]; then least=600; else least=594; fi
	expect "$cli" rx -ge $least "$mode after SIGKILL: client"
	expect "$srv" rx -ge $least "$mode after SIGKILL: server"
	expect "$cli" cap_csum_bad -eq 0 "$mode after SIGKILL: wire"
	expect "$cli" sig_26 -ge 1 "$mode before SIGKILL: rewritten"
	# The kernel releases the process's links as it reaps it.
	i=0
	while xdp_attached r0 || xdp_attached r1; do
		i=$((i + 1))
		[ $i -gt 60 ] && { ip -n $R link show; fail "$mode: an XDP program is still attached after SIGKILL"; }
		sleep 0.05
	done
	echo "ok: $mode: no XDP program left after SIGKILL"
done
# Reload: SIGHUP publishes the new config's advice; a new flow gets it.
cfg=$work/sconed.ini
write_config() {
	cat >"$cfg" <<INI
[plan p]
downlink = $1

[subscribers]
subscriber = 10.79.1.0/24 p opt-in
INI
}
write_config 2M
start_xdp_sconed "$work/sconed-reload.log" --config "$cfg"
write_config 500k
kill -HUP $sconed_pid
wait_for "$work/sconed-reload.log" "reloaded" 10 $sconed_pid ||
	fail "no reload after SIGHUP"
exchange 4 10.79.2.2 5100 100 2000
finish
cli=$work/client4.5100
expect "$cli" rx -eq 100 "after reload"
expect "$cli" sig_26 -eq 0 "after reload: not the old advice"
low=$(sed -n 's/^sig_\([0-9]*\)=.*/\1/p' "$cli" | sort -n | head -n 1)
[ -n "$low" ] && [ "$low" -lt 26 ] ||
	fail "after reload: lowest signal ${low:-none}, expected below 26"
echo "ok: after SIGHUP the new advice: signal $low"
kill -TERM $sconed_pid
wait_gone $sconed_pid 10 || fail "sconed did not exit on SIGTERM"
echo "PASS"
