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
