#!/bin/bash
# Stopping an inline sconed loses nothing: client -- router -- server in
# network namespaces, sconed on the router behind scripts/sconed-iptables.sh,
# a numbered UDP stream counted at both ends. sconed is stopped (SIGSTOP)
# for long enough that its kernel queue fills (what does not fit passes
# through: fail-open), then told to exit (SIGTERM) and continued: it stops
# the queue taking packets and judges every packet still queued before it
# closes its socket (closing drops what is queued), so every datagram
# arrives. Then, with no sconed at all, a stream passes by the bypass and
# sconed-iptables.sh counts it. Last, SIGKILL with the queue full loses
# nothing either, thanks to sconed's queue keeper, and does lose without
# it.
#
# usage: inline_stop_test.sh SCONED SCONE_SENDER SCONED_IPTABLES
#        [COUNT INTERVAL_US STOP_MS]
# Needs root (network namespaces, iptables); exits 77 (skip) without.
set -u
SCONED=$1 SENDER=$2 IPT=$3
COUNT=${4:-20000} INTERVAL=${5:-100} STOP_MS=${6:-400}
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root for network namespaces and NFQUEUE"
	exit 77
fi
for t in ip iptables ethtool sysctl; do
	command -v $t >/dev/null || { echo "SKIP: no $t"; exit 77; }
done

router_topology 78 sct-stop
ip netns exec $R sh "$IPT" install --queue 5 --iface r0 ||
	fail "sconed-iptables.sh install"

start_sconed() { # LOG [OPTION...]
	FAIL_LOG=$1
	shift
	ip netns exec $R "$SCONED" --nfqueue 5 --advice 2M "$@" 2>"$FAIL_LOG" &
	sconed_pid=$!
	pids+=($sconed_pid)
	wait_for "$FAIL_LOG" "nfqueue: serving" 10 $sconed_pid ||
		fail "sconed did not start"
}

# run NAME PORT SIGNAL...: the stream, with the signals sent to sconed
# (each after STOP_MS) from a third of the way in.
run() {
	name=$1 port=$2
	shift 2
	ip netns exec $S "$SENDER" server --listen 10.78.2.2:$port \
		--idle-ms 2000 --timeout-ms 120000 >"$work/$name.srv" &
	spid=$!
	pids+=($spid)
	wait_for "$work/$name.srv" "ready=1" 10 || fail "server did not start"
	# The client leaves as soon as every answer came; --wait-ms only
	# bounds the wait for late ones (on a loaded machine the answers
	# after a stopped sconed's backlog came over 3.3 s, past a 3 s wait).
	ip netns exec $C "$SENDER" client --to 10.78.2.2:$port --count $COUNT \
		--interval-us $INTERVAL --wait-ms 10000 >"$work/$name.cli" &
	cpid=$!
	pids+=($cpid)
	sleep "$(awk "BEGIN{print $COUNT*$INTERVAL/3e6}")"
	for sig in "$@"; do
		kill -$sig $sconed_pid
		sleep "$(awk "BEGIN{print $STOP_MS/1000}")"
	done
	wait_gone $cpid 60 || fail "client did not finish"
	wait_gone $spid 60 || fail "server did not finish"
	if [ -n "${RELIA_DEBUG:-}" ]; then
		for n in $C $S; do ip netns exec $n grep Udp: /proc/net/snmp; done
		ip netns exec $R cat /proc/net/netfilter/nfnetlink_queue
		ip netns exec $R iptables -t mangle -L SCONED -v -x
	fi
}

# report NAME LABEL: what the run's two ends received, and lost.
report() {
	srx=$(value rx "$work/$1.srv")
	crx=$(value rx "$work/$1.cli")
	echo "$2: $COUNT sent each way every ${INTERVAL} us;" \
		"lost $((COUNT - srx)) uplink, $((COUNT - crx)) downlink"
}

start_sconed "$work/term.log"
# STOP, then TERM and CONT together: the queue is full when sconed exits.
run term 4450 ${RELIA_SIGS:-STOP TERM CONT}
kill -TERM $sconed_pid 2>/dev/null
wait_gone $sconed_pid 10 || fail "sconed did not exit after SIGTERM"
report term sigterm
expect "$work/term.srv" rx -eq $COUNT "SIGTERM after SIGSTOP: server"
expect "$work/term.cli" rx -eq $COUNT "SIGTERM after SIGSTOP: client"
grep -q "cannot stop queueing" "$work/term.log" && fail "queue not stopped"
grep -q "ended without stopping" "$work/term.log" &&
	fail "the keeper took a SIGTERM for a death"

# No sconed now: the stream passes by the rule's bypass, and is counted
# there (sconed-iptables.sh counts), since no sconed can count it.
before=$(ip netns exec $R sh "$IPT" counts --family 4) ||
	fail "sconed-iptables.sh counts: $before"
before=${before#*packets=} before=${before%% *}
C0=$COUNT
COUNT=2000
run bypass 4453
COUNT=$C0
expect "$work/bypass.srv" rx -eq 2000 "bypassed, no sconed: server"
expect "$work/bypass.cli" rx -eq 2000 "bypassed, no sconed: client"
after=$(ip netns exec $R sh "$IPT" counts --family 4)
after=${after#*packets=} after=${after%% *}
[ $((after - before)) -ge 4000 ] ||
	fail "bypassed packets counted $before -> $after, expected +4000"
echo "ok: bypassed while no sconed ran: counted $((after - before))" \
	"(4000 sent)"

# kill -9 with the queue full (STOP, then KILL): sconed's keeper holds
# the queue past its death and accepts everything queued, so nothing is
# lost; without the keeper the kernel drops the queue (at least one
# packet lost, here the whole queue), which shows the keeper is what
# saves it.
start_sconed "$work/kill.log"
grep -q "a keeper" "$work/kill.log" || fail "no keeper started"
run stopkill 4451 STOP KILL
report stopkill "sigstop+sigkill, keeper"
expect "$work/stopkill.srv" rx -eq $COUNT "SIGKILL after SIGSTOP: server"
expect "$work/stopkill.cli" rx -eq $COUNT "SIGKILL after SIGSTOP: client"
grep -q "keeper: sconed ended without stopping" "$work/kill.log" ||
	fail "the keeper did not say that sconed died"
# A restart right after: the keeper has let the queue go (bind waits for
# it, up to a second).
start_sconed "$work/kill2.log" --nfqueue-no-keeper
run nokeeper 4452 STOP KILL
report nokeeper "sigstop+sigkill, --nfqueue-no-keeper"
[ $((2 * COUNT - srx - crx)) -ge 1 ] || fail "no packet lost without the keeper: the test shows nothing"
echo "PASS"
