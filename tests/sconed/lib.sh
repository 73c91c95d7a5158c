# Shared by the datapath test scripts (sourced by bash).

# setup_work: a scratch directory $work and a list $pids of background
# processes, both cleaned up however the script ends (fail, a signal).
setup_work() {
	work=$(mktemp -d)
	pids=()
	trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$work"' EXIT
	trap 'exit 1' INT TERM
}

# A script sets FAIL_LOG to the file its sconed logs to; fail shows it.
fail() {
	echo "FAIL: $*" >&2
	if [ -n "${FAIL_LOG:-}" ] && [ -s "$FAIL_LOG" ]; then
		echo "--- $FAIL_LOG (last 30 lines)" >&2
		tail -n 30 "$FAIL_LOG" >&2
	fi
	exit 1
}

# value KEY FILE: the value of a key=value line (0 when absent).
value() {
	v=$(grep -m1 "^$1=" "$2" | cut -d= -f2)
	echo "${v:-0}"
}

# expect FILE KEY OP NUMBER [what]: a numeric check on a key=value file.
expect() {
	f=$1 k=$2 op=$3 want=$4
	got=$(value "$k" "$f")
	if ! [ "$got" "$op" "$want" ]; then
		echo "--- $f" >&2
		cat "$f" >&2
		fail "${5:-$f}: $k=$got, expected $op $want"
	fi
	echo "ok: ${5:-$(basename "$f")}: $k=$got ($op $want)"
}

# Only the signals in the allowed list appear as sig_N / cap_sig_N.
only_signals() {
	f=$1 prefix=$2
	shift 2
	for line in $(grep "^${prefix}_[0-9]*=" "$f"); do
		n=${line%%=*}
		n=${n#"${prefix}_"}
		ok=0
		for a in "$@"; do [ "$n" = "$a" ] && ok=1; done
		[ $ok = 1 ] || fail "$f: unexpected signal $n ($line)"
	done
	echo "ok: $(basename "$f"): only signals $* in ${prefix}_*"
}

# wait_for FILE PATTERN SECONDS [PID]: gives up early when PID exits.
wait_for() {
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt $(($3 * 20)) ] && return 1
		[ -n "${4:-}" ] && ! kill -0 "$4" 2>/dev/null && return 1
		sleep 0.05
	done
	return 0
}

# wait_gone PID SECONDS: waits for a background child to exit and returns
# its status (124 when it is still running after SECONDS).
wait_gone() {
	i=0
	while kill -0 "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt $(($2 * 20)) ] && return 124
		sleep 0.05
	done
	wait "$1" 2>/dev/null
}

# router_topology NET TAG: client -- router -- server network namespaces
# $C $R $S joined by veths (c0-r0, r1-s0): 10.NET.1.0/24 and fdNET:1::/64
# on the client's side (.2 the client, .1 the router), 10.NET.2.0/24 and
# fdNET:2::/64 on the server's, the router forwarding. Sets $work and $pids;
# however the script ends, the processes (continued first, in case they
# were stopped), $IPT's rules when IPT is set, the namespaces and $work go.
# SCT_NETNS_PREFIX (else TAG) names the namespaces, so a caller can keep
# them apart and find them. Exits 77 when namespaces cannot be made.
router_topology() {
	local net=$1 p
	tag=${SCT_NETNS_PREFIX:-$2}-$$
	C=$tag-c R=$tag-r S=$tag-s
	work=$(mktemp -d)
	pids=()
	trap router_topology_cleanup EXIT
	trap 'exit 1' INT TERM
	ip netns add $C && ip netns add $R && ip netns add $S ||
		{ echo "SKIP: cannot create network namespaces"; exit 77; }
	for p in $C $R $S; do ip -n $p link set lo up; done
	ip -n $R link add r0 type veth peer name c0 netns $C
	ip -n $R link add r1 type veth peer name s0 netns $S
	ip -n $C addr add 10.$net.1.2/24 dev c0
	ip -n $C addr add fd$net:1::2/64 dev c0 nodad
	ip -n $R addr add 10.$net.1.1/24 dev r0
	ip -n $R addr add fd$net:1::1/64 dev r0 nodad
	ip -n $R addr add 10.$net.2.1/24 dev r1
	ip -n $R addr add fd$net:2::1/64 dev r1 nodad
	ip -n $S addr add 10.$net.2.2/24 dev s0
	ip -n $S addr add fd$net:2::2/64 dev s0 nodad
	for p in "$C c0" "$R r0" "$R r1" "$S s0"; do
		set -- $p
		ip -n $1 link set $2 up
		# Full checksums on the wire: with offload they stay partial and
		# a wrong incremental update would go unnoticed.
		ip netns exec $1 ethtool -K $2 tx off >/dev/null
	done
	ip -n $C route add default via 10.$net.1.1
	ip -n $C -6 route add default via fd$net:1::1
	ip -n $S route add default via 10.$net.2.1
	ip -n $S -6 route add default via fd$net:2::1
	ip netns exec $R sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1
}

router_topology_cleanup() {
	local p n
	for p in "${pids[@]}"; do
		kill -CONT "$p" 2>/dev/null
		kill -9 "$p" 2>/dev/null
	done
	[ -n "${IPT:-}" ] && ip netns exec $R sh "$IPT" remove >/dev/null 2>&1
	for n in $C $R $S; do ip netns del $n 2>/dev/null; done
	rm -rf "$work"
}

# start_xdp_sconed LOG ARGS...: `sconed --xdp r0,r1 ARGS...` on
# router_topology's router, logging to LOG (FAIL_LOG, so fail shows it);
# its pid in $sconed_pid and $pids. Returns once the program is attached;
# exits 77 (skip) when the kernel cannot load it, fails when sconed does
# not attach within 20 s.
start_xdp_sconed() {
	FAIL_LOG=$1
	shift
	ip netns exec $R "$SCONED" --xdp r0,r1 "$@" 2>"$FAIL_LOG" &
	sconed_pid=$!
	pids+=($sconed_pid)
	if ! wait_for "$FAIL_LOG" "xdp fast path on" 20 $sconed_pid; then
		if grep -q "cannot load the XDP program" "$FAIL_LOG"; then
			echo "SKIP: $(cat "$FAIL_LOG")"
			exit 77
		fi
		fail "sconed did not attach"
	fi
}
