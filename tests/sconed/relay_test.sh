#!/bin/bash
# The UDP relay on loopback, no privileges: client -> sconed --relay ->
# server and back. The server's SCONE packets reach the client rewritten
# to 26 (2 Mbit/s), the client's reach the server untouched (no uplink
# advice), over IPv4 and IPv6; idle client entries expire; SIGTERM stops
# sconed cleanly; a shaping plan delays the downlink to its rate (the
# relay's timers) and a policing one drops.
#
# usage: relay_test.sh SCONED SCONE_SENDER SCT_HTTP
set -u
SCONED=$1 SENDER=$2 HTTP=$3
. "$(dirname "$0")/lib.sh"

setup_work

base=$((20000 + ($$ % 4000) * 10))

# run FAMILY LISTEN UPSTREAM CONTROL
run() {
	fam=$1 listen=$2 upstream=$3 ctl=$4
	log=$work/sconed$fam.log
	"$SCONED" --advice 2000000 --relay "$listen" --upstream "$upstream" \
		--relay-idle 1 --control "$ctl" 2>"$log" &
	spid=$!
	pids+=($spid)
	wait_for "$log" "relay: listening" 10 $spid || { cat "$log"; fail "relay start"; }
	wait_for "$log" "control: listening" 10 $spid || { cat "$log"; fail "control start"; }
	"$SENDER" server --listen "$upstream" --idle-ms 1000 >"$work/srv$fam" &
	srvpid=$!
	pids+=($srvpid)
	wait_for "$work/srv$fam" "ready=1" 10 || fail "server start"
	"$SENDER" client --to "$listen" --count 100 --interval-us 1000 \
		>"$work/cli$fam" || fail "client"
	# The client's entry is there while it is fresh: read before the server
	# idles out, which takes as long as the entry's own --relay-idle 1.
	"$HTTP" GET "$ctl" /state >"$work/state$fam" || fail "GET /state"
	wait_gone $srvpid 20 || fail "server did not finish"
	echo "== IPv$fam relay $listen -> $upstream"
	expect "$work/cli$fam" rx -eq 100 "IPv$fam client"
	expect "$work/cli$fam" sig_26 -ge 1 "IPv$fam client"
	only_signals "$work/cli$fam" sig 26 127
	expect "$work/srv$fam" rx -eq 100 "IPv$fam server"
	expect "$work/srv$fam" sig_127 -eq 99 "IPv$fam server"

	# The client's entry was there, then expires after --relay-idle 1.
	grep -q '"relay_clients": 1' "$work/state$fam" ||
		{ cat "$work/state$fam"; fail "relay_clients not 1"; }
	sleep 2.5
	"$HTTP" GET "$ctl" /state >"$work/state$fam" || fail "GET /state"
	grep -q '"relay_clients": 0' "$work/state$fam" ||
		{ cat "$work/state$fam"; fail "idle client not expired"; }
	echo "ok: IPv$fam idle client entry expired"

	kill -TERM $spid
	wait_gone $spid 5
	rc=$?
	[ $rc = 0 ] || { cat "$log"; fail "sconed exit status $rc after SIGTERM"; }
	grep -q "stopping" "$log" || fail "no clean stop in log"
	echo "ok: SIGTERM: clean exit"
}

# enforce ACTION PORT_OFFSET COUNT INTERVAL_US: a plain QUIC flow (no
# SCONE, so nothing exempts it) from 127.0.0.2 gets COUNT answers of 69
# bytes through a plan that enforces 1 Mbit/s on the downlink.
enforce() {
	action=$1 b=$((base + $2)) count=$3 interval=$4
	cfg=$work/$action.ini
	cat >"$cfg" <<INI
[plan metered]
downlink = 1M
action = $action
rate = 1M
burst = 8k
max_delay = 400ms

[subscribers]
subscriber = 127.0.0.2/32 metered opt-in
INI
	log=$work/$action.log
	"$SCONED" --config "$cfg" --relay 127.0.0.1:$b --upstream 127.0.0.3:$((b + 1)) \
		--control 127.0.0.1:$((b + 2)) 2>"$log" &
	spid=$!
	pids+=($spid)
	wait_for "$log" "control: listening" 10 $spid || { cat "$log"; fail "start"; }
	"$SENDER" server --listen 127.0.0.3:$((b + 1)) --idle-ms 1000 >"$work/$action.srv" &
	srvpid=$!
	pids+=($srvpid)
	wait_for "$work/$action.srv" "ready=1" 10 || fail "server start"
	"$SENDER" client --to 127.0.0.1:$b --bind 127.0.0.2:0 --count $count \
		--interval-us $interval --no-scone >"$work/$action.cli" || fail "client"
	wait_gone $srvpid 20 || fail "server did not finish"
	"$HTTP" GET 127.0.0.1:$((b + 2)) /metrics >"$work/$action.m" || fail "metrics"
	delayed=$(grep '^sconed_datapath_delayed_total' "$work/$action.m" | awk '{print $2}')
	dropped=$(grep '^sconed_drops_total{plan="metered"}' "$work/$action.m" | awk '{print $2}')
	cli=$work/$action.cli
	rx=$(value rx "$cli") bytes=$(value rx_bytes "$cli") span=$(value rx_span_ms "$cli")
	kbps=$((bytes * 8 / (span > 0 ? span : 1)))
	echo "== relay $action: rx=$rx over ${span} ms ($kbps kbit/s payload), delayed=$delayed dropped=$dropped"
	if [ "$action" = shape ]; then
		expect "$cli" rx -ge 900 "shaped (all within max_delay)"
		[ "$span" -ge 400 ] || fail "shaped flow took only $span ms"
		[ "$kbps" -le 1300 ] || fail "shaped to $kbps kbit/s"
		[ "${delayed:-0}" -ge 500 ] || fail "delayed=$delayed"
	else
		expect "$cli" rx -lt 1400 "policed"
		expect "$cli" rx -ge 50 "policed"
		[ "${delayed:-0}" = 0 ] || fail "policer delayed $delayed"
		[ "${dropped:-0}" -ge 300 ] || fail "dropped=$dropped"
	fi
	kill -TERM $spid
	wait_gone $spid 5 || fail "sconed exit after SIGTERM"
}

run 4 127.0.0.1:$base 127.0.0.1:$((base + 1)) 127.0.0.1:$((base + 2))
if "$SENDER" server --listen "[::1]:$((base + 3))" --timeout-ms 1 \
	>/dev/null 2>&1; then
	run 6 "[::1]:$((base + 3))" "[::1]:$((base + 4))" "[::1]:$((base + 5))"
else
	echo "note: no IPv6 loopback here; IPv6 relay not run"
fi
# 69 kB in 0.2 s: all of it fits in burst + max_delay, so the shaper
# delivers everything, stretched to about 0.49 s.
enforce shape 6 1000 200
# 138 kB in 0.2 s: the policer passes burst + rate x time, a third.
enforce police 9 2000 100
echo "PASS"
