#!/bin/bash
# The HTTP control endpoint, on a relay on loopback (no privileges):
# /metrics counters grow with traffic; POST /capacity lowers the signal a
# running flow sees; POST /reload and SIGHUP with a broken config answer
# "FILE:LINE: reason" and keep the old behaviour; a good reload applies;
# a Unix socket endpoint answers too.
#
# usage: control_test.sh SCONED SCONE_SENDER SCT_HTTP
set -u
SCONED=$1 SENDER=$2 HTTP=$3
. "$(dirname "$0")/lib.sh"

setup_work

base=$((24000 + ($$ % 4000) * 10))
listen=127.0.0.1:$base upstream=127.0.0.3:$((base + 1))
ctl=127.0.0.1:$((base + 2))
cfg=$work/sconed.ini

# The client is 127.0.0.2, in cell1; signals: 2 Mbit/s = 26, 1 Mbit/s =
# 20, 10 Mbit/s = 40.
write_config() {
	cat >"$cfg" <<INI
[plan video]
downlink = $1
action = none

[capacity cell1]
rate = 100M

[subscribers]
subscriber = 127.0.0.2/32 video opt-in capacity=cell1
INI
}

metric() {
	"$HTTP" GET $ctl /metrics >"$work/m" || fail "GET /metrics"
	grep -q '^status=200' "$work/m" || fail "/metrics status"
	v=$(grep "^$1 " "$work/m" | awk '{print $2}')
	echo "${v:-0}"
}

# flow NAME COUNT INTERVAL_US PORT: one client flow, output in $work/NAME
flow() {
	"$SENDER" server --listen $upstream --idle-ms 800 >"$work/$1.srv" &
	local sp=$!
	pids+=($sp)
	wait_for "$work/$1.srv" "ready=1" 10 || fail "server start"
	"$SENDER" client --to $listen --bind 127.0.0.2:$4 --count $2 \
		--interval-us $3 >"$work/$1" || fail "client $1"
	wait_gone $sp 20 || fail "server $1 did not finish"
}

write_config 2M
log=$work/sconed.log
FAIL_LOG=$log
"$SCONED" --config "$cfg" --relay $listen --upstream $upstream \
	--control $ctl 2>"$log" &
spid=$!
pids+=($spid)
wait_for "$log" "control: listening" 10 $spid || { cat "$log"; fail "start"; }

# 1. Counters grow with traffic.
p0=$(metric 'sconed_packets_total{plan="video"}')
flow warmup 20 1000 $((base + 10))
expect "$work/warmup" sig_26 -ge 1 "2M plan"
p1=$(metric 'sconed_packets_total{plan="video"}')
[ "$p1" -ge $((p0 + 40)) ] || fail "packets_total $p0 -> $p1, expected +40"
echo "ok: sconed_packets_total{plan=\"video\"} $p0 -> $p1"
r1=$(metric 'sconed_rewrites_total{plan="video"}')
[ "$r1" -ge 1 ] || fail "sconed_rewrites_total=$r1"
echo "ok: sconed_rewrites_total{plan=\"video\"} $r1"
# Subscriber monitoring, per plan and engine-wide; never per subscriber.
grep -q '^sconed_subscribers_nonconforming{plan="video"} ' "$work/m" ||
	fail "no sconed_subscribers_nonconforming for the plan"
grep -q '^sconed_subscriber_nonconforming_transitions_total{plan="video"} ' \
	"$work/m" || fail "no sconed_subscriber_nonconforming_transitions_total"
[ "$(metric sconed_engine_subscribers)" -ge 1 ] ||
	fail "sconed_engine_subscribers: the client has no state"
[ "$(metric sconed_engine_max_subscribers)" -ge 1 ] ||
	fail "sconed_engine_max_subscribers"
grep -q '^sconed_engine_untracked_subscriber_flows_total 0$' "$work/m" ||
	fail "sconed_engine_untracked_subscriber_flows_total"
echo "ok: subscriber metrics: $(metric sconed_engine_subscribers) of" \
	"$(metric sconed_engine_max_subscribers) slots in use"

# 2. A capacity lowers the advice of a flow already running.
"$SENDER" server --listen $upstream --idle-ms 800 >"$work/cap.srv" &
sp=$!
pids+=($sp)
wait_for "$work/cap.srv" "ready=1" 10 || fail "server start"
"$SENDER" client --to $listen --bind 127.0.0.2:$((base + 11)) --count 300 \
	--interval-us 5000 >"$work/cap" &
cp=$!
pids+=($cp)
sleep 0.7
"$HTTP" POST $ctl "/capacity?name=cell1&bps=1M" >"$work/post" ||
	fail "POST /capacity"
grep -q '^status=200' "$work/post" || { cat "$work/post"; fail "capacity"; }
wait_gone $cp 20 || fail "client did not finish"
wait_gone $sp 20
expect "$work/cap" sig_26 -ge 1 "before POST /capacity"
expect "$work/cap" sig_20 -ge 1 "after POST /capacity (1 Mbit/s)"
only_signals "$work/cap" sig 26 20 127
"$HTTP" POST $ctl "/capacity?name=nope&bps=1M" | grep -q '^status=404' ||
	fail "unknown capacity not 404"
"$HTTP" POST $ctl "/capacity?name=cell1&bps=fast" | grep -q '^status=400' ||
	fail "bad rate not 400"
"$HTTP" POST $ctl "/capacity?name=cell1&bps=5" | grep -q '^status=400' ||
	fail "rate below 100k (no SCONE signal) not 400"
"$HTTP" GET $ctl /capacity | grep -q '^status=405' || fail "GET not 405"
echo "ok: capacity errors: 404 unknown name, 400 bad or too low rate, 405 GET"

# 3. A broken config is refused with FILE:LINE and changes nothing.
cp "$cfg" "$work/good.ini"
sed -i 's/^downlink = 2M/downlink = fast/' "$cfg"
"$HTTP" POST $ctl /reload >"$work/reload" || fail "POST /reload"
grep -q '^status=400' "$work/reload" || { cat "$work/reload"; fail "status"; }
grep -q "sconed.ini:2: " "$work/reload" ||
	{ cat "$work/reload"; fail "no FILE:LINE: reason in the answer"; }
echo "ok: POST /reload broken: $(tail -n1 "$work/reload")"
kill -HUP $spid
wait_for "$log" "reload failed.*sconed.ini:2: " 5 ||
	{ cat "$log"; fail "SIGHUP: no FILE:LINE in the log"; }
echo "ok: SIGHUP broken: $(grep 'reload failed' "$log" | tail -n1)"
flow kept 20 1000 $((base + 12))
expect "$work/kept" sig_20 -ge 1 "old config and capacity kept"
only_signals "$work/kept" sig 20 127

# 4. A good reload applies (capacities back to the file's 100M).
write_config 10M
"$HTTP" POST $ctl /reload | grep -q '^status=200' || fail "good reload"
flow reloaded 20 1000 $((base + 13))
expect "$work/reloaded" sig_40 -ge 1 "after reload (10 Mbit/s)"
only_signals "$work/reloaded" sig 40 127
[ "$(metric sconed_reloads_total)" = 1 ] || fail "sconed_reloads_total"
[ "$(metric sconed_reload_errors_total)" = 2 ] ||
	fail "sconed_reload_errors_total"
echo "ok: reload counters 1 good, 2 refused"
grep -q '^sconed_monitoring_period_seconds 67.000$' "$work/m" ||
	fail "sconed_monitoring_period_seconds not 67"
grep -q '^sconed_lab_short_period 0$' "$work/m" || fail "lab period shown"
grep -Eq '^sconed_cpu_seconds_total [0-9]+\.[0-9]{6}$' "$work/m" ||
	fail "sconed_cpu_seconds_total missing"
# Only plans of this config and earlier ones that counted: not the
# engine's built-in default it runs until its first config.
grep -q 'plan="default"' "$work/m" &&
	fail "/metrics lists a default plan the config does not have"
echo "ok: /metrics lists no built-in default plan"

# 4b. A lab's short period is taken only with its switch, logged as not
# draft-conforming, and shown.
{ printf '[global]\nperiod = 10s\nlab_short_period = yes\n'; cat "$cfg"; } \
	>"$work/lab.ini"
cp "$work/lab.ini" "$cfg"
"$HTTP" POST $ctl /reload | grep -q '^status=200' || fail "lab period reload"
wait_for "$log" "monitoring period 10000 ms.*not draft-conforming" 5 ||
	{ cat "$log"; fail "the lab period was not logged"; }
[ "$(metric sconed_lab_short_period)" = 1 ] || fail "sconed_lab_short_period"
grep -q '^sconed_monitoring_period_seconds 10.000$' "$work/m" ||
	fail "sconed_monitoring_period_seconds not 10"
echo "ok: lab period: $(grep 'not draft-conforming' "$log" | tail -n1)"

"$HTTP" GET $ctl /state >"$work/state" || fail "GET /state"
grep -q '"name": "video"' "$work/state" || fail "/state lacks the plan"
grep -q '127.0.0.2' "$work/state" "$work/m" &&
	fail "a subscriber address leaked into /state or /metrics"
echo "ok: /state names plans, no subscriber addresses"
kill -TERM $spid
wait_gone $spid 5 || fail "sconed exit after SIGTERM"

# 5. A Unix socket endpoint; a non-loopback address is refused.
sock=$work/ctl.sock
"$SCONED" --advice 2M --relay $listen --upstream $upstream --control "$sock" \
	2>"$work/unix.log" &
upid=$!
pids+=($upid)
wait_for "$work/unix.log" "control: listening" 10 $upid || fail "unix start"
"$HTTP" GET "$sock" /state | grep -q '^status=200' || fail "unix /state"
kill -TERM $upid
wait_gone $upid 5 || fail "unix sconed exit"
[ -e "$sock" ] && fail "socket file left behind"
echo "ok: Unix socket control, removed on exit"
# A control path naming a file that is not a socket is refused, and the
# file survives (it is not taken for a stale socket and unlinked).
keep=$work/keep.ini
echo keep >"$keep"
"$SCONED" --advice 2M --relay $listen --upstream $upstream --control "$keep" \
	2>"$work/keep.log" &
kpid=$!
pids+=($kpid)
wait_gone $kpid 5
rc=$?
{ [ $rc != 0 ] && [ $rc != 124 ]; } ||
	fail "control on a regular file: sconed status $rc"
[ "$(cat "$keep" 2>/dev/null)" = keep ] ||
	fail "the file at the control path was removed"
echo "ok: a non-socket at the control path is refused and kept"
if "$SCONED" --advice 2M --relay $listen --upstream $upstream \
	--control 0.0.0.0:$((base + 3)) 2>"$work/any.log"; then
	fail "non-loopback control accepted"
fi
grep -q "not a loopback" "$work/any.log" || fail "no reason for refusal"
echo "ok: non-loopback control address refused"
echo "PASS"
