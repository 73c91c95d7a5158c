#!/bin/bash
# Advice resumes for a session already open when the inline element is
# killed and restarted, and after it was stopped with its queue full:
# scone-client -- router (sconed --nfqueue behind sconed-iptables.sh) --
# scone-server in network namespaces, one connection for the whole run,
# SCONE packets every second from both ends.
#
#  1. sconed A (plan 2M) advises the session (signal 26).
#  2. kill -9 A, start sconed B (plan 1M). Our endpoints grease the QUIC
#     fixed bit, so B cannot classify the open flow from its short headers;
#     it picks the flow up from two SCONE packets consistent with the
#     short header coalesced after each (docs/sconed.md). The client must
#     report the 1M advice within two SCONE intervals of B serving (the
#     first SCONE packet B sees only counts towards the pickup), and B's
#     metrics must count SCONE packets (the pickups are printed).
#  3. SIGSTOP B while a numbered stream fills its kernel queue (what does
#     not fit passes: fail-open), send SIGHUP to a 500k plan meanwhile,
#     SIGCONT: B works through its backlog and the pending reload, and the
#     client reports the 500k advice within two SCONE intervals.
#  Every GET completes; the advice the client saw is 2M, then 1M, then
#  500k and nothing else.
#
# usage: restart_test.sh SCONED SERVER CLIENT SCT_HTTP SCONED_IPTABLES
#        SCONE_SENDER
# Needs root (namespaces, iptables); exits 77 (skip) without.
set -u
SCONED=$1 SERVER=$2 CLIENT=$3 HTTP=$4 IPT=$5 SENDER=$6
. "$(dirname "$0")/lib.sh"
e2e_can_netns || { echo "SKIP: $E2E_WHY"; exit 77; }
E2E_TAG=sct-rst-$$
E2E_WORK=$(mktemp -d)
w=$E2E_WORK
trap e2e_cleanup EXIT
trap 'exit 1' INT TERM
e2e_topo_up "$IPT" 19 || { echo "SKIP: cannot create namespaces"; exit 77; }

# plan RATE: a config giving the client's subscriber prefix that plan.
plan() {
	printf '[plan p]\ndownlink = %s\n[subscribers]\nsubscriber = 10.88.1.0/24 p opt-in\n' \
		"$1" >"$w/sconed.ini.new"
	mv "$w/sconed.ini.new" "$w/sconed.ini"
}
metric() { # NAME: a counter of the running sconed (labels included)
	ip netns exec "$E2E_R" "$HTTP" GET 127.0.0.1:9100 /metrics >"$w/metrics" ||
		fail "GET /metrics"
	awk -v n="$1" '$1 == n { print $2 }' "$w/metrics"
}
# advice_after RATE_RE FROM_MS: waits up to 8 s for the client to report a
# downlink rate matching RATE_RE; prints the milliseconds since FROM_MS.
advice_after() {
	local i=0
	while ! grep -qE "dir=downlink signal=[0-9]+ rate=$1 " "$w/cli.out"; do
		i=$((i + 1))
		[ $i -gt 160 ] && { cat "$w/cli.out" >&2; return 1; }
		sleep 0.05
	done
	echo $(($(e2e_now_ms) - $2))
}
INTERVAL_MS=1000 # the endpoints' --scone-interval (each one +-20%)
LIMIT_MS=$((2 * INTERVAL_MS * 12 / 10 + 500))

plan 2M
e2e_start_sconed "$w/a.log" ip netns exec "$E2E_R" "$SCONED" \
	--config "$w/sconed.ini" --nfqueue 19 --control 127.0.0.1:9100
a=$E2E_SCONED
e2e_start_server "$w/srv.out" "$w/srv.log" ip netns exec "$E2E_S" \
	"$SERVER" --listen "$E2E_S_ADDR:4433" --state-dir "$w/state" \
	--scone-interval 1s
GETS=32
e2e_bg "$w/cli.out" "$w/cli.err" ip netns exec "$E2E_C" "$CLIENT" \
	"https://$E2E_S_ADDR:4433/bytes/100k" --insecure --repeat $GETS \
	--interval 300ms --output /dev/null --scone-interval 1s
cpid=$E2E_LAST
t0=$(e2e_now_ms)
ms=$(advice_after 1995262 "$t0") || fail "no advice from sconed A"
echo "ok: sconed A advised the session (2M) after $ms ms"

# 2. SIGKILL and restart.
kill -9 "$a"
wait "$a" 2>/dev/null
plan 1M
e2e_start_sconed "$w/b.log" ip netns exec "$E2E_R" "$SCONED" \
	--config "$w/sconed.ini" --nfqueue 19 --control 127.0.0.1:9100
b=$E2E_SCONED
t1=$(e2e_now_ms)
ms=$(advice_after '(9[0-9]{5}|1000000)' "$t1") ||
	fail "no advice from the restarted sconed for the open session"
[ "$ms" -le $LIMIT_MS ] ||
	fail "advice after the restart took $ms ms (limit $LIMIT_MS)"
scone=$(metric 'sconed_scone_packets_total{plan="p"}')
picked=$(metric sconed_engine_picked_up_total)
[ "${scone:-0}" -gt 0 ] || fail "restarted sconed: sconed_scone_packets_total=$scone"
# ngtcp2 clears the fixed bit for a whole connection or not at all, at
# random per endpoint: a flow whose short headers keep it is classified
# from them and needs no pickup (about one run in three).
echo "ok: after kill -9 and a restart the open session got advice (1M) in" \
	"$ms ms; the new sconed counted $scone SCONE packets," \
	"${picked:-0} pickup(s) (0: the headers kept the fixed bit)"

# 3. SIGSTOP with a full queue, a reload pending, SIGCONT.
ip netns exec "$E2E_S" "$SENDER" server --listen "$E2E_S_ADDR:4460" \
	--idle-ms 1500 --timeout-ms 30000 >"$w/flood.srv" &
fsrv=$!
E2E_PIDS+=("$fsrv")
wait_for "$w/flood.srv" "ready=1" 10 "$fsrv" || fail "stream server did not start"
kill -STOP "$b"
ip netns exec "$E2E_C" "$SENDER" client --to "$E2E_S_ADDR:4460" \
	--count 8000 --interval-us 100 --wait-ms 3000 >"$w/flood.cli" &
fcli=$!
E2E_PIDS+=("$fcli")
sleep 0.9
queued=$(ip netns exec "$E2E_R" awk '$1 == 19 { print $3 }' \
	/proc/net/netfilter/nfnetlink_queue)
plan 500k
kill -HUP "$b"
sleep 0.5
kill -CONT "$b"
t2=$(e2e_now_ms)
ms=$(advice_after '(4[0-9]{5}|500000)' "$t2") ||
	fail "no advice after SIGSTOP with a full queue and SIGCONT"
[ "$ms" -le $LIMIT_MS ] ||
	fail "advice after SIGCONT took $ms ms (limit $LIMIT_MS)"
echo "ok: stopped with $queued packets queued, then continued: the session" \
	"got the reloaded advice (500k) in $ms ms"
wait "$fcli"
wait "$fsrv"
srx=$(value rx "$w/flood.srv") crx=$(value rx "$w/flood.cli")
[ "$srx" = 8000 ] && [ "$crx" = 8000 ] ||
	fail "stream through the stopped sconed: server got $srx, client $crx of 8000"
echo "ok: the stream through the stopped sconed lost nothing (8000 each way)"

wait_gone "$cpid" 60
rc=$?
[ $rc = 124 ] && fail "scone-client did not finish"
[ $rc = 0 ] || { tail "$w/cli.err"; fail "scone-client exit status $rc"; }
got=$(grep -c "status 200, 100000 bytes" "$w/cli.err")
[ "$got" = $GETS ] || fail "$got of $GETS GETs complete"
seen=$(grep -oE 'dir=downlink signal=[0-9]+' "$w/cli.out" | sort -u | wc -l)
[ "$seen" = 3 ] || { cat "$w/cli.out" >&2; fail "advice other than 2M, 1M, 500k"; }
echo "ok: all $GETS GETs complete; advice 2M, 1M, 500k, accepted" \
	"$(e2e_json "$w/cli.out" sconeAdviceAccepted) times"
kill -0 "$b" || fail "sconed died"
echo "PASS"
