#!/bin/bash
# NFQUEUE on two threads: scripts/sconed-iptables.sh --queue 0:1 spreads the
# router's UDP over two queues with --queue-balance, which hashes the
# addresses (not the ports), so one client talking to 16 server addresses
# lands on both queues. sconed --nfqueue 0:1 serves each queue from its own
# thread. Checks that every flow gets the plan's advice, that the
# subscriber's plain (non-SCONE) flows on both queues are policed at the
# plan's rate in total (one bucket; a bucket per queue would pass about
# twice as much), that /metrics counts the packets of both queues, that a
# SIGHUP reload reaches every thread, and that SIGTERM drains both queues
# and exits cleanly.
#
# usage: inline_threads_test.sh SCONED SCONE_SENDER SCT_HTTP SCONED_IPTABLES
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

router_topology 78 sct-mq
# The endpoints run under one shell per namespace: whatever is left in
# this run's namespaces goes with them.
trap 'for n in $C $S; do
	ip netns pids $n 2>/dev/null | xargs -r kill -9 2>/dev/null
done; router_topology_cleanup' EXIT
NSRV=16
for i in $(seq 10 $((9 + NSRV))); do
	ip -n $S addr add 10.78.2.$i/24 dev s0
done

ip netns exec $R sh "$IPT" install --queue 0:1 --iface r0 ||
	fail "sconed-iptables.sh install --queue 0:1"
ctl=127.0.0.1:9100
cfg=$work/sconed.ini
# write_config RATE: advice 2 Mbit/s (signal 26); plain flows policed at
# RATE.
write_config() {
	cat >"$cfg" <<INI
[plan metered]
downlink = 2M
action = police
rate = $1
burst = 8k

[subscribers]
subscriber = 10.78.1.0/24 metered opt-in
INI
}
write_config 500k

FAIL_LOG=$work/sconed.log
ip netns exec $R "$SCONED" --nfqueue 0:1 --nfqueue-threads 2 \
	--control $ctl --config "$cfg" \
	2>"$FAIL_LOG" &
sconed_pid=$!
pids+=($sconed_pid)
wait_for "$FAIL_LOG" "nfqueue: serving" 10 $sconed_pid ||
	fail "sconed did not start"
grep -q "2 threads" "$FAIL_LOG" || fail "queues 0..1 not on two threads"
wait_for "$FAIL_LOG" "control: listening" 10 $sconed_pid ||
	fail "control did not start"

metric() {
	ip netns exec $R "$HTTP" GET $ctl /metrics >"$work/metrics" ||
		fail "GET /metrics"
	v=$(grep "^$1 " "$work/metrics" | awk '{print $2}')
	echo "${v:-0}"
}

# queue_ids N: the last packet id queue N handed out (packets it took).
queue_ids() {
	ip netns exec $R awk -v q="$1" '$1 == q {print $8}' \
		/proc/net/netfilter/nfnetlink_queue
}

# flows PORT COUNT INTERVAL_US [CLIENT_ARGS...]: one flow from the client
# to each server address at once; outputs in $work/{srv,cli}.PORT.I.
flows() {
	port=$1 count=$2 interval=$3
	shift 3
	local i
	# One namespace entry for all the servers and one for all the clients
	# (entering a namespace per process costs seconds on a busy machine).
	ip netns exec $S bash -c '
		for i in $(seq 10 $((9 + '$NSRV'))); do
			"$1" server --listen 10.78.2.$i:'$port' --idle-ms 600 \
				--timeout-ms 60000 >"$2/srv.'$port'.$i" &
		done
		wait' sh "$SENDER" "$work" &
	local spid=$!
	pids+=($spid)
	for i in $(seq 10 $((9 + NSRV))); do
		wait_for "$work/srv.$port.$i" "ready=1" 10 ||
			fail "server $i did not start"
	done
	ip netns exec $C bash -c '
		for i in $(seq 10 $((9 + '$NSRV'))); do
			"$1" client --to 10.78.2.$i:'$port' --count '$count' \
				--interval-us '$interval' --wait-ms 600 "${@:3}" \
				>"$2/cli.'$port'.$i" &
		done
		wait' sh "$SENDER" "$work" "$@" &
	local cpid=$!
	pids+=($cpid)
	wait_gone $cpid 60 || fail "clients failed"
	wait_gone $spid 30 || fail "servers stuck"
}

# Advice: every SCONE flow, whichever queue its server hashes to, gets the
# plan's downlink advice.
flows 4433 20 10000
# One awk over the 16 outputs (a process per check is seconds here).
bad=$(awk -F= -v n=$NSRV '$1 == "sig_26" && $2 > 0 {ok[FILENAME] = 1}
	$1 ~ /^sig_/ && $1 != "sig_26" && $1 != "sig_127" {print FILENAME ": " $0}
	END {for (i = 10; i < 10 + n; i++) {
		f = dir "/cli.4433." i; if (!(f in ok)) print f ": no sig_26" }}' \
	dir="$work" "$work"/cli.4433.*)
[ -z "$bad" ] || fail "advice: $bad"
echo "ok: all $NSRV SCONE flows advised at 2 Mbit/s (signal 26)"
q0=$(queue_ids 0) q1=$(queue_ids 1)
echo "queue 0 took $q0 packets, queue 1 $q1"
total=$((q0 + q1))
[ "$q0" -ge $((total / 10)) ] && [ "$q1" -ge $((total / 10)) ] ||
	fail "the flows did not spread over both queues ($q0 / $q1)"
echo "ok: both queues carried the subscriber's flows"

# Policing: plain flows, 16 x 200 datagrams/s for 2 s (the answers are
# small: about 2.5 Mbit/s downlink in all), policed at 500 kbit/s for the
# subscriber in all.
before0=$(queue_ids 0) before1=$(queue_ids 1)
flows 4440 400 5000 --no-scone
# sum_rate PORT: the downlink's IP kbit/s over all clients of PORT (28
# bytes of IP and UDP per datagram, over the longest client's span).
sum_rate() {
	awk -F= '$1 == "rx" {n += $2} $1 == "rx_bytes" {b += $2}
		$1 == "rx_span_ms" && $2 > s {s = $2}
		END {printf "%d %d %d\n", n, (b + 28 * n) * 8 / (s > 0 ? s : 1), s}' \
		"$work"/cli.$1.*
}
read -r rx kbps span_ms <<<"$(sum_rate 4440)"
d0=$(($(queue_ids 0) - before0)) d1=$(($(queue_ids 1) - before1))
[ $d0 -gt 0 ] && [ $d1 -gt 0 ] || fail "policed flows on one queue only"
echo "policed downlink: $rx datagrams, $kbps kbit/s over $span_ms ms" \
	"(queues: $d0 / $d1 packets)"
[ "$kbps" -le 900 ] ||
	fail "$kbps kbit/s through a 500 kbit/s policer (a bucket per queue passes about 1200)"
[ "$kbps" -ge 250 ] || fail "$kbps kbit/s: policer too strict"
echo "ok: policed at the plan's rate in total"

# /metrics: the packets of both queues, counted once.
sleep 0.3
got=$(metric 'sconed_datapath_received_total{path="nfqueue"}')
want=$(($(queue_ids 0) + $(queue_ids 1)))
[ "$got" = "$want" ] ||
	fail "sconed_datapath_received_total=$got, the queues took $want"
echo "ok: /metrics received_total $got = both queues' packets"

# A reload reaches both threads: the policer's rate doubles.
write_config 1M
kill -HUP $sconed_pid
wait_for "$FAIL_LOG" "reloaded" 5 $sconed_pid || fail "SIGHUP reload"
flows 4441 400 5000 --no-scone
read -r rx kbps2 span_ms <<<"$(sum_rate 4441)"
echo "after reload: $kbps2 kbit/s"
[ "$kbps2" -le 1600 ] && [ "$kbps2" -ge 800 ] ||
	fail "$kbps2 kbit/s after the reload to 1 Mbit/s"
echo "ok: reload applied on both queues"

kill -TERM $sconed_pid
wait_gone $sconed_pid 10
rc=$?
[ $rc = 0 ] || fail "sconed exit status $rc after SIGTERM"
echo "ok: SIGTERM: both threads drained, clean exit"
echo "PASS"
