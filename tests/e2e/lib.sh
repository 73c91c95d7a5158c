# shellcheck shell=bash
# Shared by the end-to-end scripts (tests/e2e/*.sh) and scripts/demo.sh
# (sourced by bash). On top of tests/sconed/lib.sh (fail, expect, wait_for,
# wait_gone), it builds a client -- router -- server topology of network
# namespaces, starts and stops the programs, and reads their output.
#
# The caller sets E2E_TAG (namespace prefix, must start with "sct-") and
# E2E_WORK (a temporary directory), and calls e2e_cleanup from its EXIT
# trap. Addresses: client 10.88.1.2 / fd88:1::2, router 10.88.1.1 and
# 10.88.2.1 (fd88:1::1, fd88:2::1), server 10.88.2.2 / fd88:2::2.

# shellcheck source=../sconed/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../sconed/lib.sh"

E2E_C_ADDR=10.88.1.2 E2E_S_ADDR=10.88.2.2
E2E_C_ADDR6=fd88:1::2 E2E_S_ADDR6=fd88:2::2
E2E_PIDS=()
E2E_TOPO=0
E2E_IPT=

# e2e_cleanup: kills what e2e_bg started, removes the rules and the
# namespaces. Safe to call more than once.
e2e_cleanup() {
	local p n
	for p in "${E2E_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	for p in "${E2E_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	E2E_PIDS=()
	if [ "$E2E_TOPO" = 1 ]; then
		[ -n "$E2E_IPT" ] &&
			ip netns exec "$E2E_R" sh "$E2E_IPT" remove >/dev/null 2>&1
		for n in "$E2E_C" "$E2E_R" "$E2E_S"; do
			ip netns del "$n" 2>/dev/null
		done
		E2E_TOPO=0
	fi
	[ -n "${E2E_WORK:-}" ] && rm -rf "$E2E_WORK"
}

# e2e_bg OUT ERR CMD...: runs CMD in the background, remembers its pid in
# E2E_PIDS (killed by e2e_cleanup) and in $E2E_LAST.
e2e_bg() {
	local out=$1 err=$2
	shift 2
	"$@" >"$out" 2>"$err" &
	E2E_LAST=$!
	E2E_PIDS+=("$E2E_LAST")
}

# e2e_can_netns: 0 when this process may build the topology (root, tools).
e2e_can_netns() {
	local t
	[ "$(id -u)" = 0 ] || { E2E_WHY="not root"; return 1; }
	for t in ip iptables ip6tables ethtool sysctl; do
		command -v $t >/dev/null ||
			{ E2E_WHY="$t not installed"; return 1; }
	done
	return 0
}

# e2e_topo_up IPTABLES_SCRIPT QUEUE: namespaces $E2E_TAG-{c,r,s} joined
# by veths, forwarding on the router and its UDP sent to NFQUEUE QUEUE
# (scripts/sconed-iptables.sh, subscriber side r0). Returns 1 when the
# namespaces cannot be made, fails on any later error.
e2e_topo_up() {
	local n p queue=$2
	E2E_IPT=$1
	E2E_C=$E2E_TAG-c E2E_R=$E2E_TAG-r E2E_S=$E2E_TAG-s
	ip netns add "$E2E_C" || return 1
	E2E_TOPO=1
	ip netns add "$E2E_R" && ip netns add "$E2E_S" || return 1
	for n in "$E2E_C" "$E2E_R" "$E2E_S"; do ip -n "$n" link set lo up; done
	ip -n "$E2E_R" link add r0 type veth peer name c0 netns "$E2E_C" &&
		ip -n "$E2E_R" link add r1 type veth peer name s0 netns "$E2E_S" ||
		fail "veth pairs"
	ip -n "$E2E_C" addr add $E2E_C_ADDR/24 dev c0
	ip -n "$E2E_C" addr add $E2E_C_ADDR6/64 dev c0 nodad
	ip -n "$E2E_R" addr add 10.88.1.1/24 dev r0
	ip -n "$E2E_R" addr add fd88:1::1/64 dev r0 nodad
	ip -n "$E2E_R" addr add 10.88.2.1/24 dev r1
	ip -n "$E2E_R" addr add fd88:2::1/64 dev r1 nodad
	ip -n "$E2E_S" addr add $E2E_S_ADDR/24 dev s0
	ip -n "$E2E_S" addr add $E2E_S_ADDR6/64 dev s0 nodad
	for p in "$E2E_C c0" "$E2E_R r0" "$E2E_R r1" "$E2E_S s0"; do
		set -- $p
		ip -n "$1" link set "$2" up || fail "link $2 up"
		# Complete checksums on the wire, so a rewrite that breaks
		# them shows as loss instead of hiding in offload.
		ip netns exec "$1" ethtool -K "$2" tx off >/dev/null ||
			fail "ethtool -K $2 tx off"
	done
	ip -n "$E2E_C" route add default via 10.88.1.1 &&
		ip -n "$E2E_C" -6 route add default via fd88:1::1 &&
		ip -n "$E2E_S" route add default via 10.88.2.1 &&
		ip -n "$E2E_S" -6 route add default via fd88:2::1 ||
		fail "routes"
	ip netns exec "$E2E_R" sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1 || fail "forwarding"
	ip netns exec "$E2E_R" sh "$E2E_IPT" install --queue "$queue" \
		--iface r0 >/dev/null || fail "sconed-iptables.sh install"
	return 0
}

# e2e_start_sconed LOG CMD...: starts sconed (CMD may begin with
# "ip netns exec NS"), waits until its datapath and control serve;
# $E2E_SCONED is its pid.
e2e_start_sconed() {
	local log=$1
	shift
	FAIL_LOG=$log
	e2e_bg /dev/null "$log" "$@"
	E2E_SCONED=$E2E_LAST
	wait_for "$log" "nfqueue: serving\|relay: listening" 15 "$E2E_SCONED" ||
		fail "sconed did not start"
	wait_for "$log" "control: listening" 15 "$E2E_SCONED" ||
		fail "sconed control did not start"
}

# e2e_start_server OUT LOG CMD...: starts scone-server, waits until it
# listens; $E2E_SERVER is its pid, $E2E_SERVER_PORT its port.
e2e_start_server() {
	local out=$1 log=$2
	shift 2
	e2e_bg "$out" "$log" "$@"
	E2E_SERVER=$E2E_LAST
	wait_for "$log" "listening on port" 30 "$E2E_SERVER" ||
		{ cat "$log" >&2; fail "scone-server did not start"; }
	E2E_SERVER_PORT=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$log")
}

# e2e_stop PID SECONDS: SIGTERM, then the exit status (124: still running).
e2e_stop() {
	kill -TERM "$1" 2>/dev/null
	wait_gone "$1" "$2"
}

# e2e_json FILE KEY: a value of the stats line (the last line starting
# with '{'): numbers, true/false, null.
e2e_json() {
	grep '^{' "$1" | tail -n 1 |
		sed -n "s/.*\"$2\":\([^,}]*\).*/\1/p"
}

# e2e_now_ms: wall clock in milliseconds.
e2e_now_ms() {
	date +%s%3N
}

# e2e_udp_port PID: the port of the UDP socket PID listens on (the only
# unconnected one: for programs given port 0), from ss(8).
e2e_udp_port() {
	local i
	for i in $(seq 1 100); do
		ss -Hulnp 2>/dev/null | grep "pid=$1," | awk '{print $4}' |
			sed -n 's/.*:\([0-9][0-9]*\)$/\1/p' | grep -v '^0$' | head -n 1 |
			grep . && return 0
		sleep 0.05
	done
	return 1
}

# e2e_start_relay LOG SCONED UPSTREAM CONTROL ARGS...: sconed --relay on
# a free loopback port, unprivileged; $E2E_RELAY_PORT is that port.
e2e_start_relay() {
	local log=$1 bin=$2 up=$3 ctl=$4
	shift 4
	e2e_start_sconed "$log" "$bin" --relay 127.0.0.1:0 \
		--upstream "$up" --control "$ctl" "$@"
	E2E_RELAY_PORT=$(e2e_udp_port "$E2E_SCONED") ||
		fail "cannot find the relay's port"
}

# e2e_fetch NAME N BYTES CMD...: runs a scone-client command line (stdout
# to $E2E_WORK/NAME.out, stderr to NAME.err), bounded to 90 s; fails
# unless it exits 0 after exactly N complete "200, BYTES bytes" GETs.
e2e_fetch() {
	local name=$1 n=$2 bytes=$3 rc=0 got
	shift 3
	timeout 90 "$@" >"$E2E_WORK/$name.out" 2>"$E2E_WORK/$name.err" || rc=$?
	[ $rc = 0 ] || {
		cat "$E2E_WORK/$name.out" "$E2E_WORK/$name.err" >&2
		fail "$name: scone-client exit status $rc"
	}
	got=$(grep -c "status 200, $bytes bytes" "$E2E_WORK/$name.err")
	[ "$got" = "$n" ] ||
		{ cat "$E2E_WORK/$name.err" >&2; fail "$name: $got of $n GETs complete"; }
	echo "ok: $name: $n GETs of $bytes bytes, status 200"
}

# e2e_check_advice OUT SIGNAL BPS WHAT: the client reported downlink
# advice SIGNAL = BPS bit/s and no other, and its stats agree.
e2e_check_advice() {
	local out=$1 sig=$2 bps=$3 what=$4 n acc
	grep -q "advice path=0 dir=downlink signal=$sig rate=$bps bit/s" "$out" ||
		{ cat "$out" >&2; fail "$what: no advice signal $sig = $bps bit/s"; }
	n=$(grep ' advice ' "$out" | grep -vc " signal=$sig rate=$bps ")
	[ "$n" = 0 ] || { cat "$out" >&2; fail "$what: other advice reported"; }
	[ "$(e2e_json "$out" throughputAdvice)" = "$bps" ] ||
		fail "$what: stats throughputAdvice=$(e2e_json "$out" throughputAdvice)"
	[ "$(e2e_json "$out" sconeNegotiated)" = true ] || fail "$what: not negotiated"
	acc=$(e2e_json "$out" sconeAdviceAccepted)
	[ "${acc:-0}" -ge 1 ] || fail "$what: sconeAdviceAccepted=$acc"
	echo "ok: $what: advice signal $sig = $bps bit/s ($acc accepted)"
}

# e2e_check_no_advice OUT WHAT: a --no-scone client: nothing reported,
# nothing negotiated, no SCONE packet received.
e2e_check_no_advice() {
	local out=$1 what=$2
	if grep -q ' advice ' "$out"; then cat "$out" >&2; fail "$what: advice reported"; fi
	[ "$(e2e_json "$out" sconeNegotiated)" = false ] || fail "$what: SCONE negotiated"
	[ "$(e2e_json "$out" sconePacketsReceived)" = 0 ] ||
		fail "$what: SCONE packets received"
	[ "$(e2e_json "$out" throughputAdvice)" = null ] ||
		fail "$what: throughputAdvice=$(e2e_json "$out" throughputAdvice)"
	echo "ok: $what: no advice, no SCONE packet, not negotiated"
}

# e2e_check_plain_passes MIN WHAT FETCH...: runs FETCH, a --no-scone
# transfer writing $E2E_WORK/plain.out, through sconed; checks it as
# e2e_check_no_advice does and that sconed's default plan counted at least
# MIN packets for it and no SCONE packet. Reads the caller's `metrics`.
e2e_check_plain_passes() {
	local min=$1 what=$2 p0 s0 p1 s1
	shift 2
	p0=$(e2e_metric 'sconed_packets_total{plan="default"}' metrics) || exit 1
	s0=$(e2e_metric 'sconed_scone_packets_total{plan="default"}' metrics) || exit 1
	"$@"
	e2e_check_no_advice "$E2E_WORK/plain.out" "$what"
	p1=$(e2e_metric 'sconed_packets_total{plan="default"}' metrics) || exit 1
	s1=$(e2e_metric 'sconed_scone_packets_total{plan="default"}' metrics) || exit 1
	[ $((p1 - p0)) -ge "$min" ] ||
		fail "--no-scone: sconed saw $((p1 - p0)) packets, expected >= $min"
	[ "$s1" = "$s0" ] || fail "--no-scone: sconed saw $((s1 - s0)) SCONE packets"
	echo "ok: --no-scone: sconed passed its $((p1 - p0)) packets, none with SCONE"
}

# e2e_metric NAME CMD...: the value of metric NAME (exact, labels included)
# in the /metrics answer CMD prints (sct_http GET ... /metrics).
e2e_metric() {
	local name=$1 v
	shift
	"$@" >"$E2E_WORK/metrics" || fail "GET /metrics"
	grep -q '^status=200' "$E2E_WORK/metrics" || fail "/metrics status"
	v=$(grep -F "$name " "$E2E_WORK/metrics" | awk '{print $2}')
	echo "${v:-0}"
}
