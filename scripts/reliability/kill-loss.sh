#!/bin/bash
# What kill -9 of an inline sconed loses, by packet rate and queue
# settings: client -- router (sconed --nfqueue behind sconed-iptables.sh)
# -- server in network namespaces (tests/sconed/lib.sh router_topology), a
# numbered UDP stream each way (tests/bin/scone_sender, the server answers
# every datagram) counted at both ends; sconed is killed with SIGKILL a
# third of the way in. Just before the kill it reads the queue's length
# from /proc/net/netfilter/nfnetlink_queue (what the kernel will drop
# then, plus what arrives before the kill lands). Datagrams an endpoint's
# own socket refused (RcvbufErrors: the generator fell behind) are not
# counted as lost on the path, and are printed apart. Prints one line per
# run and the median per setting.
#
# usage: scripts/reliability/kill-loss.sh [BUILD_DIR]   (root)
# env: RATES ("20000 60000 100000" datagrams/s each way), SECONDS_EACH
#      (1.5 s of stream per run), REPS (3),
#      SETTINGS ("32:4096 8:256 1:64", --nfqueue-batch:--nfqueue-maxlen),
#      KEEPERS ("yes no": with sconed's queue keeper, the default, and
#      with --nfqueue-no-keeper)
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "${1:-$root/build}" && pwd)
SCONED=$B/bin/sconed SENDER=$B/tests/bin/scone_sender
IPT=$root/scripts/sconed-iptables.sh
RATES=${RATES:-20000 60000 100000} SECS=${SECONDS_EACH:-1.5} REPS=${REPS:-3}
SETTINGS=${SETTINGS:-32:4096 8:256 1:64} KEEPERS=${KEEPERS:-yes no}
. "$root/tests/sconed/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
router_topology 79 sct-kill
ip netns exec "$R" sh "$IPT" install --queue 7 --iface r0 >/dev/null ||
	fail "sconed-iptables.sh install"

port=4600
# rcvbuf NS: datagrams NS's UDP sockets had no room for (an endpoint that
# fell behind, not the element).
rcvbuf() { ip netns exec "$1" awk '/^Udp: [0-9]/ { print $6 }' /proc/net/snmp; }
run() { # RATE BATCH MAXLEN KEEPER: prints "sent up_lost down_lost queued"
	local rate=$1 batch=$2 maxlen=$3 count interval spid cpid sc q s0 c0 k=
	[ "$4" = no ] && k=--nfqueue-no-keeper
	count=$(awk "BEGIN{printf \"%d\", $rate*$SECS}")
	interval=$(awk "BEGIN{printf \"%d\", 1e6/$rate}")
	port=$((port + 1))
	s0=$(rcvbuf "$S") c0=$(rcvbuf "$C")
	ip netns exec "$R" "$SCONED" --nfqueue 7 --advice 2M \
		--nfqueue-batch "$batch" --nfqueue-maxlen "$maxlen" $k \
		2>"$work/sconed.log" &
	sc=$!
	pids+=($sc)
	wait_for "$work/sconed.log" "nfqueue: serving" 10 $sc || fail "sconed did not start"
	ip netns exec "$S" "$SENDER" server --listen 10.79.2.2:$port \
		--idle-ms 2000 --timeout-ms 60000 >"$work/srv" &
	spid=$!
	pids+=($spid)
	wait_for "$work/srv" "ready=1" 10 || fail "server did not start"
	ip netns exec "$C" "$SENDER" client --to 10.79.2.2:$port --count "$count" \
		--interval-us "$interval" --wait-ms 3000 >"$work/cli" &
	cpid=$!
	pids+=($cpid)
	sleep "$(awk "BEGIN{print $SECS/3}")"
	q=$(ip netns exec "$R" awk '$1 == 7 { print $3 }' \
		/proc/net/netfilter/nfnetlink_queue)
	kill -9 $sc
	wait_gone $cpid 60 || fail "client did not finish"
	wait_gone $spid 60 || fail "server did not finish"
	wait $sc 2>/dev/null
	# The keeper outlives sconed by the moment it takes to free the queue.
	for _ in $(seq 100); do
		ip netns exec "$R" awk '$1 == 7 { f = 1 } END { exit f }' \
			/proc/net/netfilter/nfnetlink_queue && break
		sleep 0.02
	done
	s0=$(($(rcvbuf "$S") - s0)) c0=$(($(rcvbuf "$C") - c0))
	# Lost on the path: not received, less what the receiving socket
	# itself refused for want of room.
	echo "$(value sent "$work/cli")" \
		"$(($(value sent "$work/cli") - $(value rx "$work/srv") - s0))" \
		"$(($(value sent "$work/srv") - $(value rx "$work/cli") - c0))" \
		"${q:-?} $s0 $c0"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "rate/s batch maxlen: sent, lost up, lost down (on the path)," \
	"queued at the kill, overflowed the server's and the client's socket"
for keeper in $KEEPERS; do
for rate in $RATES; do
	for s in $SETTINGS; do
		batch=${s%%:*} maxlen=${s#*:}
		: >"$work/runs"
		for _ in $(seq "$REPS"); do
			r=$(run "$rate" "$batch" "$maxlen" "$keeper")
			echo "keeper $keeper $rate $batch $maxlen: $r"
			echo "$r" >>"$work/runs"
		done
		echo "median keeper $keeper $rate/s batch $batch maxlen $maxlen:" \
			"lost up $(awk '{print $2}' "$work/runs" | median)," \
			"down $(awk '{print $3}' "$work/runs" | median)," \
			"queued at the kill $(awk '{print $4}' "$work/runs" | median)"
	done
done
done
