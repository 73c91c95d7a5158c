#!/bin/bash
# scone-link measured from outside, with real packets: client -- link --
# server network namespaces, the client and server on one subnet, the link
# namespace moving frames between its two veths with scone-link (no IP
# there, no forwarding). Clocks are shared across namespaces, so lab_udp
# measures one-way delay directly.
#
#  1. base: 5 Mbit/s, no delay: the one-way delay of a light probe each
#     way (median of 100) is the path's own, the emulator's included;
#  2. 5 Mbit/s, 20 ms: the probes' delay is base + 20 ms within 1 ms;
#     a 6 Mbit/s stream each way (3 s) is delivered at 5 Mbit/s within 2%,
#     counted by the sink and by scone-link alike; no frame was too big
#     (offloads off), none refused by the device.
#
# usage: link_netns_test.sh SCONE_LINK LAB_UDP [--max-rate]
#   --max-rate: instead, the packet rates the emulator sustains and its
#   CPU time, for docs/lab.md: 3 s streams at each of MAX_RATES packets
#   per second (default 10k to 150k) of MAX_SIZE-byte datagrams (64)
#   through a link with MAX_LINK's options (none: no limit, no delay).
# Needs root; exits 77 (skip) without.
set -u
LINK=$1 UDP=$2 MODE=${3:-test}
. "$(dirname "$0")/../sconed/lib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root for network namespaces and AF_PACKET"
	exit 77
fi
for t in ip ethtool sysctl; do
	command -v $t >/dev/null || { echo "SKIP: no $t"; exit 77; }
done

tag=sct-lnk-$$
C=$tag-c L=$tag-l S=$tag-s
work=$(mktemp -d)
link_pid=
cleanup() {
	[ -n "$link_pid" ] && kill -9 "$link_pid" 2>/dev/null
	for n in $C $L $S; do ip netns del $n 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ip netns add $C && ip netns add $L && ip netns add $S ||
	{ echo "SKIP: cannot create network namespaces"; exit 77; }
for n in $C $L $S; do ip -n $n link set lo up; done
# IPv4 only: no IPv6 autoconfiguration frames (solicitations, MLD) on
# the link, so that its counters are the test's datagrams alone; the link
# namespace only moves frames.
for n in $C $L $S; do
	ip netns exec $n sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
done
ip -n $L link add l0 type veth peer name c0 netns $C
ip -n $L link add l1 type veth peer name s0 netns $S
ip -n $C addr add 10.66.0.1/24 dev c0
ip -n $S addr add 10.66.0.2/24 dev s0
for p in "$C c0" "$L l0" "$L l1" "$S s0"; do
	set -- $p
	ip -n $1 link set $2 up
	# MTU-sized frames only (no GSO/GRO aggregates), full checksums.
	ip netns exec $1 ethtool -K $2 tx off gso off gro off tso off \
		>/dev/null 2>&1 || fail "ethtool -K $2"
done
# Static neighbours: ARP through a 20 ms link would show in the first
# probes.
mac() { ip -n $1 -o link show $2 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'; }
ip -n $C neigh add 10.66.0.2 lladdr "$(mac $S s0)" dev c0 nud permanent
ip -n $S neigh add 10.66.0.1 lladdr "$(mac $C c0)" dev s0 nud permanent

# start_link ARGS...: scone-link in the link namespace.
start_link() {
	FAIL_LOG=$work/link.log
	ip netns exec $L "$LINK" --client-if l0 --network-if l1 "$@" \
		>"$work/link.out" 2>"$FAIL_LOG" &
	link_pid=$!
	wait_for "$FAIL_LOG" "serving" 10 $link_pid || fail "scone-link did not start"
}

# stop_link: SIGTERM, clean exit; its counters are in $work/link.out.
stop_link() {
	kill -TERM $link_pid
	wait_gone $link_pid 10 || fail "scone-link exit status $?"
	link_pid=
}

# stream NAME FROM_NS TO_NS TO_ADDR RATE SIZE SECONDS: a paced stream;
# the sink's figures in $work/NAME.sink.
stream() {
	local name=$1 from=$2 to=$3 addr=$4 rate=$5 size=$6 secs=$7 spid
	ip netns exec $to "$UDP" sink --listen "$addr:7000" --idle-ms 1000 \
		>"$work/$name.sink" &
	spid=$!
	wait_for "$work/$name.sink" "ready=1" 10 $spid || fail "$name: sink"
	ip netns exec $from "$UDP" send --to "$addr:7000" --rate "$rate" \
		--size "$size" --duration "$secs" >"$work/$name.send" ||
		fail "$name: sender"
	wait_gone $spid 30 || fail "$name: sink did not finish"
}

# probe NAME FROM TO ADDR: 100 light datagrams (200 bytes, 100 per
# second: 3% of the link, no queue).
probe() {
	stream "$1" "$2" "$3" "$4" 160000 172 1
	expect "$work/$1.sink" rx -eq 100 "$1"
}

us() { value "$2" "$work/$1.sink" | cut -d. -f1; }

# nth N KEY: KEY's value in the Nth report scone-link printed (SIGUSR1
# prints one, exiting another).
nth() { awk -F= -v n="$1" -v k="$2" '$1 == k && ++c == n { print $2 }' "$work/link.out"; }

if [ "$MODE" = --max-rate ]; then
	# No capacity limit, no delay: what the emulator's loop sustains. The
	# sender and the sink share the machine's cores with it. CPU is
	# scone-link's own (user + system, which includes the kernel's work
	# of delivering what it sends), over the stream only.
	printf "%11s %9s %7s %12s %9s %9s %9s\n" offered_pps rx_pps lost% \
		sock_drops late_us cpu_% us/pkt
	size=${MAX_SIZE:-64}
	for pps in ${MAX_RATES:-10000 20000 40000 60000 80000 100000 150000}; do
		# shellcheck disable=SC2086 # MAX_LINK is a list of options
		start_link --pool 65536 ${MAX_LINK:-}
		ip netns exec $S "$UDP" sink --listen 10.66.0.2:7000 --idle-ms 1000 \
			>"$work/max.sink" &
		spid=$!
		wait_for "$work/max.sink" "ready=1" 10 $spid || fail "sink"
		kill -USR1 $link_pid
		t0=$(date +%s%N)
		ip netns exec $C "$UDP" send --to 10.66.0.2:7000 \
			--rate $((pps * (size + 28) * 8)) --size $size --duration 3 \
			>"$work/max.send" || fail "sender"
		kill -USR1 $link_pid
		t1=$(date +%s%N)
		wait_gone $spid 30 || fail "sink did not finish"
		stop_link
		awk -v pps=$pps -v rx="$(value rx "$work/max.sink")" \
			-v sent="$(value sent "$work/max.send")" \
			-v span="$(value span_ns "$work/max.sink")" \
			-v drops="$(nth 3 up_socket_drops)" -v late="$(nth 3 up_late_mean_us)" \
			-v u0="$(nth 1 cpu_user_ms)" -v s0="$(nth 1 cpu_sys_ms)" \
			-v u1="$(nth 2 cpu_user_ms)" -v s1="$(nth 2 cpu_sys_ms)" \
			-v tx0="$(nth 1 up_tx)" -v tx1="$(nth 2 up_tx)" \
			-v wall=$(((t1 - t0) / 1000000)) 'BEGIN {
			cpu = u1 + s1 - u0 - s0; n = tx1 - tx0
			printf "%11d %9.0f %7.2f %12d %9.1f %9.1f %9.2f\n", pps,
				(rx - 1) / (span / 1e9), (sent - rx) * 100 / sent, drops,
				late, cpu * 100 / wall, cpu * 1e3 / (n > 0 ? n : 1) }'
	done
	exit 0
fi

# 1. The base: the path with the emulator in it, no added delay.
start_link --rate 5M --delay 0ms --queue 100p
probe base-up $C $S 10.66.0.2
probe base-down $S $C 10.66.0.1
stop_link
expect "$work/link.out" up_oversize -eq 0 "base"

# 2. 20 ms each way.
start_link --rate 5M --delay 20ms --queue 100p
probe up $C $S 10.66.0.2
probe down $S $C 10.66.0.1
for d in up down; do
	b=$(us base-$d owd_p50_us) m=$(us $d owd_p50_us)
	added=$((m - b))
	echo "$d: one-way delay median ${m} us, base ${b} us, added ${added} us" \
		"(p90 $(us $d owd_p90_us), max $(us $d owd_max_us))"
	[ $added -ge 19000 ] && [ $added -le 21000 ] ||
		fail "$d: added delay ${added} us, configured 20000 +- 1000"
done
echo "ok: delay: base + 20 ms within 1 ms, both ways"

# Rate: 6 Mbit/s offered for 3 s, 1500-byte IP packets, each way.
for d in up down; do
	if [ $d = up ]; then
		stream rate-$d $C $S 10.66.0.2 6000000 1472 3
	else
		stream rate-$d $S $C 10.66.0.1 6000000 1472 3
	fi
	r=$(value rate_bps "$work/rate-$d.sink")
	awk -v r="$r" 'BEGIN { exit !(r >= 4900000 && r <= 5100000) }' ||
		fail "$d: delivered $r bit/s through a 5 Mbit/s link (2% bound)"
	echo "ok: $d: delivered $r bit/s through 5 Mbit/s" \
		"($(awk -v r="$r" 'BEGIN { printf "%+.2f%%", (r / 5e6 - 1) * 100 }'))," \
		"$(value rx "$work/rate-$d.sink") of $(value sent "$work/rate-$d.send") datagrams"
done
stop_link
# Counted at both ends: what scone-link sent each way is what the sinks
# (plus the probes) received.
for d in up down; do
	got=$(($(value rx "$work/$d.sink") + $(value rx "$work/rate-$d.sink")))
	expect "$work/link.out" ${d}_tx -eq $got "scone-link $d"
	expect "$work/link.out" ${d}_oversize -eq 0 "scone-link $d"
	expect "$work/link.out" ${d}_tx_errors -eq 0 "scone-link $d"
	expect "$work/link.out" ${d}_overflow -eq 0 "scone-link $d"
	expect "$work/link.out" ${d}_queue_drops -ge 1 "scone-link $d (saturated)"
done
grep -E '^(up|down)_late_(mean|max)_us=|^cpu_|^wall_ms=' "$work/link.out"
echo PASS
