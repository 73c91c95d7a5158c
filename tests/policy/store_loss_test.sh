#!/bin/bash
# The store goes away under traffic: the element keeps its last policy
# (fail-static) and its advice on running and new flows, says so in
# /metrics and its log, reconnects with backoff, and once the store is
# back (restarted from its own save, as after a failover) reads it again
# and follows a change made after.
#
# usage: store_loss_test.sh SCONED SCONE_POLICY SCONE_SENDER SCT_HTTP
set -u
SCONED=$1 POLICY=$2 SENDER=$3 HTTP=$4
. "$(dirname "$0")/../sconed/lib.sh"
. "$(dirname "$0")/lib.sh"

setup_work
base=$((20000 + ($$ % 400) * 10))
store=redis://127.0.0.1:$base
start_store $base
P() { "$POLICY" --store "$store" "$@" || fail "scone-policy $*"; }
P plan gold downlink=2M action=none
P sub imsi-001019876543210 prefixes=127.0.0.2/32 plan=gold optin=yes

listen=127.0.0.1:$((base + 1)) upstream=127.0.0.3:$((base + 2))
ctl=127.0.0.1:$((base + 3))
log=$work/sconed.log
FAIL_LOG=$log
"$SCONED" --policy-store "$store" --relay $listen --upstream $upstream \
	--control $ctl 2>"$log" &
spid=$!
pids+=($spid)
wait_for "$log" "policy: store up" 10 $spid || fail "start"

# flow NAME COUNT: one client flow from the subscriber, in the background
flow() {
	"$SENDER" server --listen $upstream --idle-ms 400 >"$work/$1.srv" &
	fsp=$!
	pids+=($fsp)
	wait_for "$work/$1.srv" "ready=1" 10 || fail "server start"
	"$SENDER" client --to $listen --bind 127.0.0.2:$((base + 4 + $3)) \
		--count $2 --interval-us 5000 >"$work/$1" &
	fcp=$!
	pids+=($fcp)
}
flow_done() {
	wait_gone $fcp 20 || fail "client did not finish"
	wait_gone $fsp 20
}

# 1. The store dies mid-flow (after saving, as a persistent store does).
redis-cli -p $base SAVE >/dev/null || fail "SAVE"
flow during 300 1
sleep 0.3
kill -9 $store_pid
wait_gone $store_pid 5
wait_for "$log" "store lost, keeping the running policy" 5 ||
	fail "no log line for the lost store"
flow_done
expect "$work/during" sig_26 -ge 1 "advice (2M) on the flow the loss cut"
only_signals "$work/during" sig 26 127
# 2. A new flow while the store is down: the same advice.
flow down 30 2
flow_done
expect "$work/down" sig_26 -ge 1 "advice on a new flow, store down"
metrics $ctl "$work/m"
[ "$(mval "$work/m" sconed_policy_store_up)" = 0 ] || fail "store_up not 0"
[ "$(mval "$work/m" sconed_policy_store_reconnects_total)" -ge 1 ] ||
	fail "no reconnects counted"
age=$(mval "$work/m" sconed_policy_sync_age_seconds)
awk "BEGIN{exit !($age >= 0.5)}" || fail "sync age $age while down"
echo "ok: store down: store_up 0, reconnects" \
	"$(mval "$work/m" sconed_policy_store_reconnects_total), sync age ${age}s"
syncs=$(mval "$work/m" sconed_policy_full_syncs_total)

# 3. The store comes back with its saved data; the element resyncs, then
# follows a change.
redis-server --port $base --bind 127.0.0.1 --dir "$work" \
	--logfile "$work/redis2.log" &
store_pid=$!
pids+=($store_pid)
wait_for "$log" "policy: store up" 10 || fail "no resync"
n=$(grep -c "policy: store up" "$log")
i=0
until [ "$(grep -c "policy: store up" "$log")" -ge 2 ]; do
	i=$((i + 1))
	[ $i -gt 200 ] && fail "did not reconnect within 10 s"
	sleep 0.05
done
echo "ok: reconnected after $((i * 50)) ms ($n)"
metrics $ctl "$work/m"
[ "$(mval "$work/m" sconed_policy_store_up)" = 1 ] || fail "store_up not 1"
[ "$(mval "$work/m" sconed_policy_full_syncs_total)" -gt "$syncs" ] ||
	fail "no full read after the reconnect"
P plan gold downlink=10M action=none
i=0
until metrics $ctl "$work/m" && [ "$(mval "$work/m" \
	'sconed_advice_bytes_per_second{plan="gold",direction="downlink"}')" = 1250000 ]; do
	i=$((i + 1))
	[ $i -gt 50 ] && fail "change after the restart not applied in 1 s"
	sleep 0.02
done
flow after 30 3
flow_done
expect "$work/after" sig_40 -ge 1 "advice (10M) after the resync"

# 4. A message slower than the version check: the writer bumps the
# version, its PUBLISH follows 1.5 s later (checks run every second, so
# one sees the version ahead). The element waits for the message and
# applies it in place; no full read.
sub=scone:sub:imsi-001019876543210
R() { redis-cli -p $base "$@" >/dev/null || fail "redis-cli $*"; }
metrics $ctl "$work/m"
syncs=$(mval "$work/m" sconed_policy_full_syncs_total)
inplace=$(mval "$work/m" sconed_policy_updates_in_place_total)
R HSET $sub optin no
R INCR scone:version
sleep 1.5
R PUBLISH scone:changes sub:imsi-001019876543210
i=0
until metrics $ctl "$work/m" &&
	[ "$(mval "$work/m" 'sconed_optin_subscribers{state="in"}')" = 0 ]; do
	i=$((i + 1))
	[ $i -gt 50 ] && fail "slow message: opt-out not applied"
	sleep 0.02
done
[ "$(mval "$work/m" sconed_policy_full_syncs_total)" = "$syncs" ] ||
	fail "slow message: a full read instead of waiting for it"
[ "$(mval "$work/m" sconed_policy_updates_in_place_total)" = $((inplace + 1)) ] ||
	fail "slow message: not applied in place"
echo "ok: a message 1.5 s behind its version: waited for, applied in place"
# 5. A writer that never publishes: a full read once the grace is over.
R HSET $sub optin yes
R INCR scone:version
t0=$(date +%s%N)
until metrics $ctl "$work/m" &&
	[ "$(mval "$work/m" 'sconed_optin_subscribers{state="in"}')" = 1 ]; do
	[ $((($(date +%s%N) - t0) / 1000000)) -gt 4000 ] &&
		fail "unpublished write not read within 4 s"
	sleep 0.05
done
[ "$(mval "$work/m" sconed_policy_full_syncs_total)" = $((syncs + 1)) ] ||
	fail "unpublished write: no full read"
echo "ok: an unpublished write read in $((($(date +%s%N) - t0) / 1000000)) ms (full read)"
grep -qF 001019876543210 "$log" "$work/m" && fail "subscriber id in the output"
echo "ok: policy_store_loss"
