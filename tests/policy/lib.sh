# Shared by the policy store tests (sourced by bash, after
# tests/sconed/lib.sh): a redis-server of the test's own on loopback.

# start_store PORT: a throwaway store (no persistence) in $work; exits 77
# when redis-server is not installed.
start_store() {
	command -v redis-server >/dev/null ||
		{ echo "SKIP: redis-server not installed (make deps)"; exit 77; }
	redis-server --port "$1" --bind 127.0.0.1 --save '' --appendonly no \
		--dir "$work" --logfile "$work/redis.log" &
	store_pid=$!
	pids+=($store_pid)
	local i=0
	until "$POLICY" --store "redis://127.0.0.1:$1" resync 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 $store_pid 2>/dev/null; then
			cat "$work/redis.log" >&2
			fail "redis-server did not start"
		fi
		sleep 0.05
	done
}

# metrics CTL FILE: GET /metrics of one element into FILE.
metrics() {
	"$HTTP" GET "$1" /metrics >"$2" || fail "GET /metrics from $1"
	grep -q '^status=200' "$2" || fail "/metrics status from $1"
}

# mval FILE NAME: a metric's value (0 when absent).
mval() {
	v=$(grep -F "$2 " "$1" | grep -v '^#' | head -n1 | awk '{print $NF}')
	echo "${v:-0}"
}

# converge WHAT CMD...: runs CMD (a check of all elements) every 20 ms
# until it succeeds; fails after 1 s, else prints how long it took.
converge() {
	local what=$1
	shift
	local t0 t1
	t0=$(date +%s%N)
	until "$@"; do
		t1=$(date +%s%N)
		[ $(((t1 - t0) / 1000000)) -gt 1000 ] &&
			fail "$what: not applied everywhere within 1 s"
		sleep 0.02
	done
	t1=$(date +%s%N)
	echo "ok: $what applied on every element in $(((t1 - t0) / 1000000)) ms"
}
