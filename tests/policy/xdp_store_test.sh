#!/bin/bash
# sconed --xdp following a policy store: client -- router -- server
# network namespaces on veths, a redis-server of the test's own and
# `sconed --xdp r0,r1 --policy-store` in the router's namespace. The
# subscriber's plan advises 2 Mbit/s at start; a flow gets signal 26. The
# plan is changed in the store to 500 kbit/s with scone-policy: the engine
# takes it (/metrics, within a second) and the program applies it (a new
# flow gets a lower signal, read by the client), with no SIGHUP or
# reload; then the subscriber opts out and a new flow keeps its signal.
# The store's subscriber id shows in no log line and not in /metrics.
#
# usage: xdp_store_test.sh SCONED SCONE_POLICY SCONE_SENDER SCT_HTTP
# Needs root (network namespaces, BPF) and redis-server; exits 77 (skip)
# without.
set -u
SCONED=$1 POLICY_BIN=$2 SENDER=$3 HTTP=$4
. "$(dirname "$0")/../sconed/lib.sh"
. "$(dirname "$0")/../policy/lib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root for network namespaces and XDP"
	exit 77
fi
for t in ip ethtool sysctl redis-server; do
	command -v $t >/dev/null || { echo "SKIP: no $t"; exit 77; }
done

router_topology 74 sct-xdpst
# The store listens on the router's loopback: scone-policy runs there too.
POLICY=$work/policy.sh
printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$R" "$POLICY_BIN" >"$POLICY"
chmod +x "$POLICY"
port=6399
ip netns exec $R redis-server --port $port --bind 127.0.0.1 --save '' \
	--appendonly no --dir "$work" --logfile "$work/redis.log" &
pids+=($!)
i=0
until "$POLICY" --store "redis://127.0.0.1:$port" resync 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 100 ] && { cat "$work/redis.log" >&2; fail "redis-server did not start"; }
	sleep 0.05
done
store=redis://127.0.0.1:$port ns="x$$"
P() { "$POLICY" --store "$store" --ns "$ns" "$@" >/dev/null || fail "scone-policy $*"; }
ID=imsi-001010123456789
P plan p downlink=2M action=none
P sub $ID prefixes=10.74.1.0/24 plan=p optin=yes

FAIL_LOG=$work/sconed.log
ctl=$work/ctl.sock
ip netns exec $R "$SCONED" --xdp r0,r1 --policy-store "$store" \
	--policy-ns "$ns" --control "$ctl" 2>"$FAIL_LOG" &
sconed_pid=$!
pids+=($sconed_pid)
if ! wait_for "$FAIL_LOG" "xdp fast path on" 20 $sconed_pid; then
	if grep -q "cannot load the XDP program" "$FAIL_LOG"; then
		echo "SKIP: $(cat "$FAIL_LOG")"
		exit 77
	fi
	fail "sconed did not start"
fi
grep -q "policy: store up" "$FAIL_LOG" || wait_for "$FAIL_LOG" "policy: store up" 5 ||
	fail "sconed did not read the store"

# flow PORT: 50 datagrams each way through the router; the client's
# signals in $work/client.PORT.
flow() {
	ip netns exec $S "$SENDER" server --listen "10.74.2.2:$1" --idle-ms 500 \
		--timeout-ms 10000 >"$work/server.$1" &
	pids+=($!)
	wait_for "$work/server.$1" "ready=1" 10 || fail "server $1 did not start"
	ip netns exec $C "$SENDER" client --to "10.74.2.2:$1" --count 50 \
		--interval-us 2000 --wait-ms 300 >"$work/client.$1" ||
		fail "client $1 failed"
}
lowest() { sed -n 's/^sig_\([0-9]*\)=.*/\1/p' "$1" | sort -n | head -n 1; }

flow 5400
expect "$work/client.5400" sig_26 -ge 1 "2M plan: signal 26"
echo "ok: the store's plan at start: signal 26"

adv='sconed_advice_bytes_per_second{plan="p",direction="downlink"}'
advice() { metrics "$ctl" "$work/m" && [ "$(mval "$work/m" "$adv")" = "$1" ]; }
advice 250000 || fail "/metrics: 2M advice not shown"
P plan p downlink=500k action=none
converge "plan p 2M -> 500k" advice 62500
flow 5401
low=$(lowest "$work/client.5401")
expect "$work/client.5401" sig_26 -eq 0 "after the store's change: not the old advice"
[ -n "$low" ] && [ "$low" -lt 26 ] ||
	fail "after the store's change: lowest signal ${low:-none}, expected below 26"
echo "ok: the store's new plan reaches the program: signal $low"

# Opt-out: no advice, the signals pass as sent (127).
P optin $ID no
optout() { metrics "$ctl" "$work/m" &&
	[ "$(mval "$work/m" 'sconed_optin_subscribers{state="out"}')" = 1 ]; }
converge "opt-out" optout
flow 5402
[ "$(lowest "$work/client.5402")" = 127 ] ||
	fail "after the opt-out: lowest signal $(lowest "$work/client.5402"), expected 127"
echo "ok: the store's opt-out reaches the program: signals pass untouched"

metrics "$ctl" "$work/m"
grep -Eq "$ID|10\.74\." "$work/m" && fail "a subscriber id or address in /metrics"
kill -TERM $sconed_pid
wait_gone $sconed_pid 10 || fail "sconed did not exit on SIGTERM"
grep -Eq "$ID|10\.74\." "$FAIL_LOG" && fail "a subscriber id or address in the log"
echo "PASS"
