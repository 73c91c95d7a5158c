#!/bin/bash
# bench_forward: the forwarding-rate table. A generator namespace sends
# small UDP datagrams (fwd_gen: sendmmsg, 16 destination addresses) through
# a router namespace to a sink namespace, over veths; the sink counts what
# arrives on its interface. Rows, each from the same run, interleaved so
# that a change of load hits every row alike:
#   bare        the router forwards, no sconed
#   xdp         sconed --xdp r0,r1 (the XDP program on the router's veths)
#   nfqueue/1   sconed --nfqueue 0:1 --nfqueue-threads 1 (queue-balance 0:1)
#   nfqueue/2   sconed --nfqueue 0:1 --nfqueue-threads 2: a thread per queue
# "forwarded" is the sink's packets per second; "judged" is what sconed's
# NFQUEUE threads received per second (its /metrics). The queues fail open
# when full, so forwarded - judged passed untouched: the judged figure is
# the inline path's rate. "sconed us/pkt" is sconed's own CPU time (user +
# system, its sconed_cpu_seconds_total, which includes the kernel's work of
# re-injecting and forwarding each packet in the verdict send) per judged
# packet. Medians of --runs rounds, with the load average.
#
#   bench_forward [--runs N] [--seconds S] [--quick]
#
# Needs root (namespaces, iptables, XDP); without it prints why and exits
# 0, as the other benches do. Everything it makes is removed on exit.
set -u
bin=$(cd "$(dirname "$0")" && pwd)
SCONED=$bin/sconed GEN=$bin/fwd_gen
runs=3 secs=2
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift 2 ;;
	--seconds) secs=$2; shift 2 ;;
	--quick) runs=1 secs=1; shift ;;
	*) echo "usage: bench_forward [--runs N] [--seconds S] [--quick]" >&2; exit 2 ;;
	esac
done
if [ "$(id -u)" != 0 ]; then
	echo "bench_forward: skipped (needs root for namespaces, NFQUEUE and XDP)"
	exit 0
fi
for t in ip iptables; do
	command -v $t >/dev/null ||
		{ echo "bench_forward: skipped (no $t)"; exit 0; }
done

tag=bfw-$$
G=$tag-g R=$tag-r K=$tag-k
work=$(mktemp -d)
spid=
cleanup() {
	[ -n "$spid" ] && kill -9 "$spid" 2>/dev/null
	for n in $G $R $K; do ip netns del $n 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ip netns add $G && ip netns add $R && ip netns add $K ||
	{ echo "bench_forward: skipped (cannot create namespaces)"; exit 0; }
for n in $G $R $K; do ip -n $n link set lo up; done
ip -n $R link add r0 type veth peer name g0 netns $G
ip -n $R link add r1 type veth peer name k0 netns $K
ip -n $G addr add 10.88.1.2/24 dev g0
ip -n $R addr add 10.88.1.1/24 dev r0
ip -n $R addr add 10.88.2.1/24 dev r1
ip -n $K addr add 10.88.2.2/24 dev k0
for i in $(seq 10 25); do ip -n $K addr add 10.88.2.$i/24 dev k0; done
ip -n $G link set g0 up
ip -n $R link set r0 up
ip -n $R link set r1 up
ip -n $K link set k0 up
ip -n $G route add default via 10.88.1.1
ip -n $K route add default via 10.88.2.1
ip netns exec $R sysctl -qw net.ipv4.ip_forward=1
# The sink drops in raw PREROUTING (after its interface counted the
# packet): no socket lookups, no ICMP errors back.
ip netns exec $K iptables -t raw -A PREROUTING -p udp --dport 9 -j DROP
# Neighbours resolved before anything is timed.
ip netns exec $G ping -c1 -W1 10.88.2.10 >/dev/null 2>&1

sink_rx() { ip netns exec $K cat /sys/class/net/k0/statistics/rx_packets; }
ctl_port=9199
# judged: "PACKETS CPU_SECONDS" from sconed's /metrics (empty without).
judged() {
	ip netns exec $R bash -c "exec 3<>/dev/tcp/127.0.0.1/$ctl_port &&
		printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3 && cat <&3" 2>/dev/null |
		awk '/^sconed_datapath_received_total\{path="nfqueue"\}/ {p = $2}
			/^sconed_cpu_seconds_total / {c = $2}
			END { if (p != "") print p, c }'
}

# start MODE: sconed as the row wants it; 1 when the row cannot run.
start() {
	spid=
	case $1 in
	bare) return 0 ;;
	xdp)
		ip netns exec $R "$SCONED" --xdp r0,r1 2>"$work/sconed.log" &
		spid=$!
		for _ in $(seq 100); do
			grep -q "xdp fast path on" "$work/sconed.log" && return 0
			kill -0 $spid 2>/dev/null || break
			sleep 0.1
		done
		;;
	nfqueue/*)
		ip netns exec $R iptables -t mangle -A FORWARD -p udp -i r0 \
			-j NFQUEUE --queue-balance 0:1 --queue-bypass
		threads=${1#nfqueue/}
		ip netns exec $R "$SCONED" --nfqueue 0:1 --nfqueue-threads "$threads" \
			--control 127.0.0.1:$ctl_port 2>"$work/sconed.log" &
		spid=$!
		for _ in $(seq 100); do
			grep -q "control: listening" "$work/sconed.log" && return 0
			kill -0 $spid 2>/dev/null || break
			sleep 0.1
		done
		;;
	esac
	echo "bench_forward: $1: sconed did not start: $(tail -n 2 "$work/sconed.log")" >&2
	stop "$1"
	return 1
}

stop() {
	if [ -n "$spid" ]; then
		kill -TERM $spid 2>/dev/null
		wait $spid 2>/dev/null
		spid=
	fi
	case $1 in nfqueue/*)
		ip netns exec $R iptables -t mangle -F FORWARD ;;
	esac
}

# measure MODE: one row of one round into $work/MODE.runs: forwarded pps,
# judged pps, sconed's CPU microseconds per judged packet.
measure() {
	mode=$1 file=$work/$(echo "$1" | tr / _).runs
	start "$mode" || { echo "- - -" >>"$file"; return; }
	ip netns exec $G "$GEN" --dst-net 10.88.2 --dsts 16 \
		--seconds "$(awk -v s="$secs" 'BEGIN {print s + 1}')" \
		>"$work/gen.out" &
	gpid=$!
	sleep 0.5
	r0=$(sink_rx) j0=$(judged)
	t0=$(date +%s.%N)
	sleep "$secs"
	r1=$(sink_rx) j1=$(judged)
	t1=$(date +%s.%N)
	wait $gpid
	stop "$mode"
	awk -v r0="$r0" -v r1="$r1" -v j0="${j0:-}" -v j1="${j1:-}" \
		-v t0="$t0" -v t1="$t1" 'BEGIN {
		d = t1 - t0
		split(j0, a, " "); split(j1, b, " ")
		j = "-"; c = "-"
		if (j0 != "" && j1 != "" && b[1] > a[1]) {
			j = sprintf("%.0f", (b[1] - a[1]) / d)
			c = sprintf("%.2f", (b[2] - a[2]) * 1e6 / (b[1] - a[1]))
		}
		printf "%.0f %s %s\n", (r1 - r0) / d, j, c }' >>"$file"
}

modes="bare xdp nfqueue/1 nfqueue/2"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq "$runs"); do
	for m in $modes; do measure "$m"; done
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)

median() { # FILE COLUMN [DECIMALS]: the median of a column of runs
	awk -v c="$2" '{print $c}' "$1" | grep -v '^-$' | sort -g |
		awk -v d="${3:-0}" '{v[NR] = $1} END {
			if (!NR) print "-"; else printf "%.*f", d, v[int((NR + 1) / 2)] }'
}
echo "bench_forward: 64-byte UDP payloads, 16 destinations, veth router;" \
	"median of $runs x ${secs} s; $(nproc) CPUs;" \
	"load average $load0 (start), $load1 (end)"
printf "%-12s %14s %14s %9s %14s\n" row "forwarded pps" "judged pps" \
	"vs bare" "sconed us/pkt"
bare=$(median "$work/bare.runs" 1)
for m in $modes; do
	f=$work/$(echo "$m" | tr / _).runs
	fw=$(median "$f" 1) jd=$(median "$f" 2) cpu=$(median "$f" 3 2)
	ratio=$(awk -v a="$fw" -v b="$bare" 'BEGIN {
		if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }')
	printf "%-12s %14s %14s %9s %14s\n" "$m" "$fw" "$jd" "$ratio" "$cpu"
done
j1=$(median "$work/nfqueue_1.runs" 2) j2=$(median "$work/nfqueue_2.runs" 2)
awk -v a="$j1" -v b="$j2" 'BEGIN {
	if (a != "-" && b != "-" && a > 0)
		printf "nfqueue scaling 1 -> 2 threads (judged): %.2fx\n", b / a }'
exit 0
