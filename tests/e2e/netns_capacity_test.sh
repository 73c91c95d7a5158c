#!/bin/bash
# End to end through a real router, with a configuration: a plan with
# downlink 5M and uplink 500k advice, and a capacity "cell" of 2M the
# client's prefix is in. Both endpoints send SCONE packets every
# --scone-interval 1s (+-20 %). Checks that:
#  - the client first reports min(plan, capacity) = 2M: signal 26;
#  - each run-time capacity change (POST /capacity on the router's control
#    socket: 1M, 500k, 300k) reaches the client as the exact new signal
#    (20, 13, 9) within one sending interval: 1 s + 20 % jitter + 0.5 s
#    slack for the request, the RTT and this script's 50 ms polling;
#  - the uplink advice reaches the server: --uplink-log shows signal 13
#    (446684 bit/s) and nothing else;
#  - every GET of the session completes.
#
# usage: netns_capacity_test.sh SCONED SCONE_SERVER SCONE_CLIENT SCT_HTTP
#                               SCONED_IPTABLES
# Needs root; exits 77 (skip) without.
set -u
SCONED=$1 SERVER=$2 CLIENT=$3 HTTP=$4 IPT=$5
. "$(dirname "$0")/lib.sh"

e2e_can_netns || { echo "SKIP: $E2E_WHY"; exit 77; }
E2E_TAG=sct-e2c-$$
E2E_WORK=$(mktemp -d)
w=$E2E_WORK
trap e2e_cleanup EXIT
trap 'exit 1' INT TERM

INTERVAL_MS=1000
BOUND_MS=$((INTERVAL_MS * 12 / 10 + 500))

e2e_topo_up "$IPT" 8 || { echo "SKIP: cannot create network namespaces"; exit 77; }
ctl=127.0.0.1:9100

cat >"$w/sconed.ini" <<INI
[plan e2e]
downlink = 5M
uplink = 500k

[capacity cell]
rate = 2M

[subscribers]
subscriber = 10.88.1.0/24 e2e opt-in capacity=cell
INI
e2e_start_sconed "$w/sconed.log" ip netns exec "$E2E_R" "$SCONED" \
	--nfqueue 8 --config "$w/sconed.ini" --control $ctl
e2e_start_server "$w/srv.out" "$w/srv.log" ip netns exec "$E2E_S" \
	"$SERVER" --listen "$E2E_S_ADDR:4433" --state-dir "$w/state" \
	--uplink-log --scone-interval 1s
srv=$E2E_SERVER

# One connection, a GET of 100 kB every 200 ms for about 12 s: datagrams
# flow both ways all along, so the SCONE schedule alone sets the delay.
e2e_bg "$w/cli.out" "$w/cli.err" timeout 90 ip netns exec "$E2E_C" \
	"$CLIENT" "https://$E2E_S_ADDR:4433/bytes/100K" --insecure \
	--repeat 60 --interval 200ms --scone-interval 1s --output /dev/null
cli=$E2E_LAST

wait_for "$w/cli.out" 'dir=downlink signal=26 rate=1995262 ' 15 $cli ||
	{ cat "$w/cli.out" "$w/cli.err" >&2; fail "no first advice (signal 26)"; }
echo "ok: client: advice signal 26 = 1995262 bit/s (capacity 2M)"

# change BPS SIGNAL RATE: sets the capacity, waits for the client's line.
worst=0
change() {
	local bps=$1 sig=$2 rate=$3 t0 t1 d
	sleep 0.$((RANDOM % 10)) # a different phase of the SCONE schedule
	t0=$(e2e_now_ms)
	ip netns exec "$E2E_R" "$HTTP" POST $ctl "/capacity?name=cell&bps=$bps" \
		>"$w/post" || fail "POST /capacity"
	grep -q '^status=200' "$w/post" || { cat "$w/post" >&2; fail "capacity $bps"; }
	wait_for "$w/cli.out" "dir=downlink signal=$sig rate=$rate " 10 $cli ||
		{ cat "$w/cli.out" >&2; fail "capacity $bps: client never reported signal $sig"; }
	t1=$(e2e_now_ms)
	d=$((t1 - t0))
	[ $d -le $BOUND_MS ] ||
		fail "capacity $bps: client reported signal $sig after $d ms (> $BOUND_MS ms)"
	[ $d -gt $worst ] && worst=$d
	echo "ok: capacity $bps: client reports signal $sig = $rate bit/s after $d ms (<= $BOUND_MS)"
}
change 1M 20 1000000
change 500k 13 446684
change 300k 9 281838

others=$(grep ' advice ' "$w/cli.out" |
	grep -Evc 'dir=downlink signal=(26 rate=1995262|20 rate=1000000|13 rate=446684|9 rate=281838) ')
[ "$others" = 0 ] || { cat "$w/cli.out" >&2; fail "unexpected advice at the client"; }

wait_gone $cli 60 || { cat "$w/cli.err" >&2; fail "client exit status $?"; }
n=$(grep -c 'status 200, 100000 bytes' "$w/cli.err")
[ "$n" = 60 ] || fail "$n of 60 GETs complete"
[ "$(e2e_json "$w/cli.out" throughputAdvice)" = 281838 ] ||
	fail "stats throughputAdvice $(e2e_json "$w/cli.out" throughputAdvice)"
echo "ok: client: 60 GETs complete, final throughputAdvice 281838"

grep -q 'uplink advice path=0 signal=13 rate=446684 bit/s' "$w/srv.out" ||
	{ cat "$w/srv.out" >&2; fail "server: no uplink advice 13 = 446684 bit/s"; }
others=$(grep -c 'uplink advice' "$w/srv.out")
[ "$others" = 1 ] || { cat "$w/srv.out" >&2; fail "server: other uplink advice"; }
echo "ok: server: uplink advice signal 13 = 446684 bit/s (plan uplink 500k)"

e2e_stop $srv 10 || fail "scone-server exit status $? after SIGTERM"
e2e_stop "$E2E_SCONED" 10 || fail "sconed exit status $? after SIGTERM"
FAIL_LOG=
echo "ok: worst delay $worst ms, scone-server and sconed stopped cleanly"
echo PASS
