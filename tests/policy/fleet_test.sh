#!/bin/bash
# Three relays follow one Redis store: a plan, a cell's capacity and an
# opt-in changed with scone-policy are applied by all three within a
# second (seen in /metrics and /state), the opt-in also on a running flow's
# packets; POST /optin changes one element's entry; and no subscriber id
# from the store shows in any log, /metrics or /state.
#
# usage: fleet_test.sh SCONED SCONE_POLICY SCONE_SENDER SCT_HTTP
set -u
SCONED=$1 POLICY=$2 SENDER=$3 HTTP=$4
. "$(dirname "$0")/../sconed/lib.sh"
. "$(dirname "$0")/lib.sh"

setup_work
base=$((10000 + ($$ % 1000) * 10))
store=redis://127.0.0.1:$base
start_store $base
ns="t$$"
P() { "$POLICY" --store "$store" --ns "$ns" "$@" || fail "scone-policy $*"; }

# Ids as a carrier keys them; none may leave the store.
ID1=imsi-001010123456789 ID2=msisdn-4915112345678
P plan gold downlink=2M action=none
P cell cellA 100M
P sub $ID1 prefixes=127.0.0.2/32 plan=gold optin=no cell=cellA
P sub $ID2 prefixes=127.0.0.4/32,fd00:5c0e::/64 plan=gold optin=yes

ctl=() listen=() upstream=127.0.0.3:$((base + 9))
for i in 1 2 3; do
	listen[$i]=127.0.0.1:$((base + i))
	ctl[$i]=127.0.0.1:$((base + 4 + i))
	"$SCONED" --policy-store "$store" --policy-ns "$ns" \
		--relay ${listen[$i]} --upstream $upstream \
		--control ${ctl[$i]} 2>"$work/sconed$i.log" &
	pids+=($!)
	FAIL_LOG=$work/sconed$i.log
	wait_for "$work/sconed$i.log" "policy: store up" 10 $! ||
		fail "element $i did not follow the store"
done
echo "ok: three elements read the store"

# all_metric NAME VALUE: every element's /metrics has NAME at VALUE.
all_metric() {
	for i in 1 2 3; do
		metrics ${ctl[$i]} "$work/m$i"
		[ "$(mval "$work/m$i" "$1")" = "$2" ] || return 1
	done
}
# all_state PATTERN: every element's /state matches PATTERN.
all_state() {
	for i in 1 2 3; do
		"$HTTP" GET ${ctl[$i]} /state >"$work/s$i" || return 1
		tr -d ' \n' <"$work/s$i" | grep -q "$1" || return 1
	done
}
adv='sconed_advice_bytes_per_second{plan="gold",direction="downlink"}'
all_metric "$adv" 250000 || fail "2M plan not in every element"
all_metric 'sconed_optin_subscribers{state="in"}' 2 ||
	fail "opt-in counts at start (ID2's two prefixes in, ID1 out)"

# 1. A plan.
P plan gold downlink=10M action=none
converge "plan gold 2M -> 10M" all_metric "$adv" 1250000
# 2. A capacity.
P cell cellA 1M
converge "cell capacity 100M -> 1M" \
	all_state '"name":"cellA","configured_bps":1000000'
# 3. An opt-in, while a flow of that subscriber runs through element 1.
"$SENDER" server --listen $upstream --idle-ms 800 >"$work/srv" &
sp=$!
pids+=($sp)
wait_for "$work/srv" "ready=1" 10 || fail "server start"
"$SENDER" client --to ${listen[1]} --bind 127.0.0.2:$((base + 8)) \
	--count 200 --interval-us 5000 >"$work/flow" &
cp=$!
pids+=($cp)
sleep 0.4
P optin $ID1 yes
converge "opt-in of one subscriber" \
	all_metric 'sconed_optin_subscribers{state="in"}' 3
wait_gone $cp 20 || fail "client did not finish"
wait_gone $sp 20
# Opted out: its signals pass as sent (127); opted in: lowered to the
# cell's 1 Mbit/s (signal 20), on the same flow.
expect "$work/flow" sig_127 -ge 1 "before the opt-in"
expect "$work/flow" sig_20 -ge 1 "after the opt-in (cell 1M)"
only_signals "$work/flow" sig 127 20

# 4. POST /optin on one element: counts change there only.
"$HTTP" POST ${ctl[2]} "/optin?addr=127.0.0.2&state=out" >"$work/post"
grep -q '^status=200' "$work/post" || { cat "$work/post"; fail "POST /optin"; }
metrics ${ctl[2]} "$work/m2"
[ "$(mval "$work/m2" 'sconed_optin_subscribers{state="in"}')" = 2 ] ||
	fail "POST /optin: opt-in count on element 2"
[ "$(mval "$work/m2" sconed_optin_changes_total)" = 1 ] ||
	fail "sconed_optin_changes_total"
"$HTTP" POST ${ctl[2]} "/optin?addr=192.0.2.1&state=in" |
	grep -q '^status=404' || fail "POST /optin of no subscriber: not 404"
"$HTTP" POST ${ctl[2]} "/optin?addr=127.0.0.2&state=maybe" |
	grep -q '^status=400' || fail "POST /optin bad state: not 400"
echo "ok: POST /optin: changed on element 2, 404 unknown, 400 bad state"

# 5. A malformed entry (written behind scone-policy's back) is left out
# and counted; the rest keeps applying.
redis-cli -p $base HSET "$ns:plan:bronze" colour red >/dev/null ||
	fail "redis-cli"
P resync
P plan silver downlink=5M
converge "a new plan beside a malformed one" \
	all_metric 'sconed_advice_bytes_per_second{plan="silver",direction="downlink"}' 625000
for i in 1 2 3; do
	[ "$(mval "$work/m$i" sconed_policy_entries_rejected_total)" -ge 1 ] ||
		fail "element $i: malformed entry not counted"
	grep -q 'plan="bronze"' "$work/m$i" && fail "malformed plan applied"
done
echo "ok: malformed entry left out and counted"

# 6. Privacy: no id, no address from the store in logs, /metrics, /state.
for i in 1 2 3; do
	metrics ${ctl[$i]} "$work/m$i"
	"$HTTP" GET ${ctl[$i]} /state >"$work/s$i"
	for f in "$work/sconed$i.log" "$work/m$i" "$work/s$i"; do
		for id in $ID1 $ID2 001010123456789 127.0.0.2 127.0.0.4 fd00:5c0e; do
			grep -qF "$id" "$f" && fail "$id appears in $(basename "$f")"
		done
	done
done
echo "ok: no subscriber id or prefix in any log, /metrics or /state"
for i in 1 2 3; do
	metrics ${ctl[$i]} "$work/m$i"
	[ "$(mval "$work/m$i" sconed_policy_store_up)" = 1 ] || fail "store_up"
done
echo "ok: policy_fleet"
