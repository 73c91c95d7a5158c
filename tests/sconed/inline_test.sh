#!/bin/bash
# The inline NFQUEUE datapath on a real router: client -- router -- server
# network namespaces joined by veths, sconed on the router behind the
# rules of scripts/sconed-iptables.sh. Checks, over IPv4 and IPv6, that
# the client receives the server's SCONE packets rewritten to the signal
# for 2 Mbit/s (26) with valid UDP checksums (read off the wire with an
# AF_PACKET socket, before the kernel's own checksum check), that the
# uplink (no uplink advice in the default plan) is left at 127, that
# malformed packets pass, that /metrics counted it, that a shaping plan
# holds packets in delayed verdicts at its rate and a policing one (after
# SIGHUP) drops, and that traffic keeps flowing when sconed is killed with
# SIGKILL mid-stream (queue bypass).
#
# usage: inline_test.sh SCONED SCONE_SENDER SCT_HTTP SCONED_IPTABLES
# Needs root (network namespaces, iptables); exits 77 (skip) without.
set -u
SCONED=$1 SENDER=$2 HTTP=$3 IPT=$4
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root for network namespaces and NFQUEUE"
	exit 77
fi
for t in ip iptables ip6tables ethtool sysctl; do
	command -v $t >/dev/null || { echo "SKIP: no $t"; exit 77; }
done

router_topology 77 sct-inl

ip netns exec $R sh "$IPT" install --queue 3:4 --iface r0 ||
	fail "sconed-iptables.sh install"
ctl=127.0.0.1:9100

# start_sconed LOG ARGS...: sconed on the router, queues 3..4, control on.
start_sconed() {
	FAIL_LOG=$1
	shift
	ip netns exec $R "$SCONED" --nfqueue 3:4 --control $ctl "$@" \
		2>"$FAIL_LOG" &
	sconed_pid=$!
	pids+=($sconed_pid)
	wait_for "$FAIL_LOG" "nfqueue: serving" 10 $sconed_pid ||
		fail "sconed did not start"
	wait_for "$FAIL_LOG" "control: listening" 10 $sconed_pid ||
		fail "control did not start"
}

# stop_sconed: SIGTERM, a clean exit (status 0, so no sanitizer report).
stop_sconed() {
	kill -TERM $sconed_pid
	wait_gone $sconed_pid 10
	rc=$?
	[ $rc = 0 ] || fail "sconed exit status $rc after SIGTERM"
	echo "ok: SIGTERM: sconed exited cleanly"
}

metric() {
	ip netns exec $R "$HTTP" GET $ctl /metrics >"$work/metrics" ||
		fail "GET /metrics"
	grep -q '^status=200' "$work/metrics" || fail "/metrics status"
	v=$(grep "^$1 " "$work/metrics" | awk '{print $2}')
	echo "${v:-0}"
}

start_sconed "$work/sconed.log" --advice 2000000

# exchange FAMILY SERVER_ADDR PORT COUNT INTERVAL_US [CLIENT_ARGS...]: a
# flow of COUNT datagrams each way, captured on both ends.
exchange() {
	fam=$1 addr=$2 port=$3 count=$4 interval=$5
	shift 5
	srv=$work/server$fam.$port cli=$work/client$fam.$port
	ip netns exec $S "$SENDER" server --listen "$addr:$port" --capture s0 \
		--idle-ms 1500 --timeout-ms 60000 >"$srv" &
	spid=$!
	pids+=($spid)
	wait_for "$srv" "ready=1" 10 || fail "server did not start"
	ip netns exec $C "$SENDER" client --to "$addr:$port" --count "$count" \
		--interval-us "$interval" --wait-ms 2000 --capture c0 "$@" >"$cli" ||
		fail "client failed"
	wait_gone $spid 30 || fail "server did not finish"
}

for fam in 4 6; do
	if [ $fam = 4 ]; then addr=10.77.2.2; else addr="[fd77:2::2]"; fi
	exchange $fam "$addr" 4433 100 2000
	srv=$work/server$fam.4433 cli=$work/client$fam.4433
	echo "== IPv$fam"
	# Downlink: the server's SCONE packets carry the advice...
	expect "$cli" rx -eq 100 "IPv$fam client"
	expect "$cli" sig_26 -ge 1 "IPv$fam client"
	only_signals "$cli" sig 26 127
	# ...on the wire, with checksums that add up.
	expect "$cli" cap_sig_26 -ge 1 "IPv$fam client wire"
	expect "$cli" cap_csum_ok -ge 100 "IPv$fam client wire"
	expect "$cli" cap_csum_bad -eq 0 "IPv$fam client wire"
	# Uplink: no uplink advice, so untouched.
	expect "$srv" rx -eq 100 "IPv$fam server"
	expect "$srv" sig_127 -eq 99 "IPv$fam server"
	only_signals "$srv" sig 127
	expect "$srv" cap_csum_bad -eq 0 "IPv$fam server wire"
done

# Malformed and non-SCONE traffic passes untouched and sconed survives it.
ip netns exec $S "$SENDER" server --listen 10.77.2.2:4500 --idle-ms 1000 \
	--timeout-ms 20000 >"$work/junk.srv" &
pids+=($!)
jpid=$!
wait_for "$work/junk.srv" "ready=1" 10 || fail "junk server did not start"
ip netns exec $C bash -c '
	for p in "\xbf\xef\x7d" "\xbf\xef\x7d\xc0\xfd\x30\x01" "\x00" "\x80"; do
		printf "$p" >/dev/udp/10.77.2.2/4500
	done' 2>/dev/null
wait_gone $jpid 20
expect "$work/junk.srv" rx -eq 4 "malformed datagrams delivered"
kill -0 $sconed_pid || fail "sconed died on malformed packets"

# The control endpoint counted the rewrites of both flows.
rew=$(metric 'sconed_rewrites_total{plan="default"}')
[ "$rew" -ge 8 ] || fail "sconed_rewrites_total=$rew, expected >= 8"
echo "ok: /metrics: sconed_rewrites_total{plan=\"default\"} $rew"
stop_sconed

# Enforcement: a plan that shapes the downlink to 1 Mbit/s. A plain QUIC
# flow (no SCONE: nothing exempts it) gets 2000 answers in 0.2 s (about
# 7.8 Mbit/s): the shaper holds what exceeds the rate in delayed verdicts
# (up to max_delay), drops the rest, and what comes through comes at the
# shaped rate, checksums intact.
cfg=$work/sconed.ini
write_config() {
	cat >"$cfg" <<INI
[plan metered]
downlink = 1M
action = $1
rate = 1M
burst = 8k
max_delay = 400ms

[subscribers]
subscriber = 10.77.1.0/24 metered opt-in
subscriber = fd77:1::/64 metered opt-in
INI
}
write_config shape
start_sconed "$work/sconed-shape.log" --config "$cfg"
exchange 4 10.77.2.2 4440 2000 100 --no-scone
cli=$work/client4.4440
expect "$cli" rx -ge 300 "shaped"
expect "$cli" rx -lt 2000 "shaped (over max_delay dropped)"
expect "$cli" cap_csum_bad -eq 0 "shaped wire"
# Shaped rate from the client's view, IP bytes (28 per datagram more).
rx=$(value rx "$cli")
bytes=$(value rx_bytes "$cli")
span=$(value rx_span_ms "$cli")
kbps=$(((bytes + 28 * rx) * 8 / (span > 0 ? span : 1)))
[ "$kbps" -le 1300 ] || fail "downlink at $kbps kbit/s through a 1M shaper"
[ "$kbps" -ge 300 ] || fail "downlink at $kbps kbit/s: shaper too slow"
echo "ok: shaped downlink $kbps kbit/s over $span ms"
d=$(metric 'sconed_datapath_delayed_total{path="nfqueue"}')
[ "$d" -ge 100 ] || fail "delayed verdicts: $d"
echo "ok: $d delayed verdicts"
[ "$(metric 'sconed_datapath_held{path="nfqueue"}')" = 0 ] ||
	fail "packets still held after the flow"

# SIGHUP switches the plan to policing: over the rate is dropped, nothing
# waits.
write_config police
kill -HUP $sconed_pid
wait_for "$FAIL_LOG" "reloaded" 5 $sconed_pid || fail "SIGHUP reload"
exchange 4 10.77.2.2 4441 2000 100 --no-scone
cli=$work/client4.4441
expect "$cli" rx -ge 50 "policed"
expect "$cli" rx -lt 1400 "policed (over the rate dropped)"
d2=$(metric 'sconed_datapath_delayed_total{path="nfqueue"}')
dr=$(metric 'sconed_drops_total{plan="metered"}')
[ "$d2" = "$d" ] || fail "policer delayed packets ($d -> $d2)"
[ "$dr" -ge 100 ] || fail "sconed_drops_total=$dr"
echo "ok: policed: $dr dropped, none delayed"
stop_sconed

# Today's element on the same policing plan (--legacy-dpi): a flow nDPI
# does not find to be video passes whole, the element's counters are on
# /metrics, and a reload goes through it.
start_sconed "$work/sconed-legacy.log" --config "$cfg" --legacy-dpi
exchange 4 10.77.2.2 4442 2000 100 --no-scone
expect "$work/client4.4442" rx -ge 1950 "not video, not policed"
[ "$(metric sconed_dpi_packets_total)" -ge 2000 ] ||
	fail "sconed_dpi_packets_total: the legacy element saw too few packets"
[ "$(metric sconed_dpi_flows_total)" -ge 1 ] || fail "sconed_dpi_flows_total"
[ "$(metric sconed_dpi_video_flows_total)" = 0 ] ||
	fail "a plain UDP flow was taken for video"
kill -HUP $sconed_pid
wait_for "$FAIL_LOG" "reloaded" 5 $sconed_pid || fail "SIGHUP reload (legacy)"
echo "ok: legacy DPI element: the flow passed, its counters on /metrics"
stop_sconed

# SIGKILL mid-stream: the rules stay, nobody listens, --queue-bypass lets
# the packets through. (This sconed runs the one-at-a-time loop.)
start_sconed "$work/sconed-kill.log" --advice 2000000 --nfqueue-batch 1
ip netns exec $S "$SENDER" server --listen 10.77.2.2:4434 --capture s0 \
	--idle-ms 1500 --timeout-ms 60000 >"$work/kill.srv" &
kspid=$!
pids+=($kspid)
wait_for "$work/kill.srv" "ready=1" 10 || fail "server did not start"
ip netns exec $C "$SENDER" client --to 10.77.2.2:4434 --count 600 \
	--interval-us 5000 --wait-ms 2000 >"$work/kill.cli" &
kcpid=$!
pids+=($kcpid)
sleep 1
kill -9 $sconed_pid
wait $sconed_pid 2>/dev/null
echo "ok: sconed killed (SIGKILL) mid-stream"
wait_gone $kcpid 30 || fail "client did not finish"
wait_gone $kspid 30 || fail "server did not finish"
# Packets sitting in the queue at the kill are lost; a handful at most.
expect "$work/kill.srv" max_seq -eq 599 "after kill: server"
expect "$work/kill.srv" rx -ge 590 "after kill: server"
expect "$work/kill.cli" rx -ge 580 "after kill: client"
expect "$work/kill.cli" sig_26 -ge 1 "before kill: client"
expect "$work/kill.srv" cap_csum_bad -eq 0 "after kill: server wire"
ip netns exec $R iptables -t mangle -S SCONED | grep -q NFQUEUE ||
	fail "the NFQUEUE rule is gone: bypass not exercised"

ip netns exec $R sh "$IPT" remove || fail "sconed-iptables.sh remove"
ip netns exec $R sh "$IPT" remove || fail "second remove"
if ip netns exec $R iptables -t mangle -S | grep -q SCONED; then
	fail "rules left after remove"
fi
echo "ok: rules removed (twice)"
echo "PASS"
