#!/bin/bash
# Config reloads ten times a second during traffic through the inline
# path: client -- router (sconed --nfqueue) -- server in network
# namespaces (tests/e2e/lib.sh); a numbered stream of SCONE datagrams
# (tests/bin/scone_sender) counted at both ends while the config is
# swapped every 100 ms, alternately by SIGHUP and POST /reload, between
# two valid files (the subscriber on a 2M plan: signal 26; on a 1M plan:
# signal 20) and an invalid one (refused with FILE:LINE). Checks: no
# datagram lost, only the signals of the two plans (or none) ever seen,
# every invalid file refused and counted, sconed alive.
#
# usage: scripts/reliability/reload-storm.sh [BUILD_DIR] (root)
# env: STORM_COUNT (60000 datagrams each way), STORM_INTERVAL_US (100)
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "${1:-$root/build}" && pwd)
SCONED=$B/bin/sconed SENDER=$B/tests/bin/scone_sender HTTP=$B/tests/bin/sct_http
IPT=$root/scripts/sconed-iptables.sh
COUNT=${STORM_COUNT:-60000} IV=${STORM_INTERVAL_US:-100}
. "$root/tests/e2e/lib.sh"
e2e_can_netns || { echo "SKIP: $E2E_WHY"; exit 77; }
E2E_TAG=sct-rld-$$
E2E_WORK=$(mktemp -d)
w=$E2E_WORK
trap e2e_cleanup EXIT
trap 'exit 1' INT TERM
e2e_topo_up "$IPT" 15 || { echo "SKIP: cannot create namespaces"; exit 77; }
# A Unix socket: reachable from here without an `ip netns exec` per POST,
# which would make the loop too slow for ten a second on a busy machine.
ctl=$w/control.sock
cfg=$w/sconed.ini
conf() {
	printf '[plan a]\ndownlink = 2M\n[plan b]\ndownlink = 1M\n[subscribers]\nsubscriber = 10.88.1.0/24 %s opt-in\n' "$1" >"$cfg.tmp"
	mv "$cfg.tmp" "$cfg"
}
conf a
e2e_start_sconed "$w/sconed.log" ip netns exec "$E2E_R" "$SCONED" \
	--config "$cfg" --nfqueue 15 --control $ctl --quiet
spid=$E2E_SCONED
e2e_bg "$w/s.out" /dev/null ip netns exec "$E2E_S" "$SENDER" server \
	--listen "$E2E_S_ADDR:4600" --idle-ms 3000 --timeout-ms 120000
sp=$E2E_LAST
wait_for "$w/s.out" "ready=1" 10 || fail "server"
ip netns exec "$E2E_C" "$SENDER" client --to "$E2E_S_ADDR:4600" \
	--count "$COUNT" --interval-us "$IV" --wait-ms 3000 >"$w/c.out" &
cp=$!
n=0 bad=0 t0=${EPOCHREALTIME/./} # microseconds
while kill -0 $cp 2>/dev/null; do
	n=$((n + 1))
	case $((n % 3)) in
	0) printf '[plan a]\ndownlink = fast\n' >"$cfg"; bad=$((bad + 1)) ;;
	1) conf a ;;
	2) conf b ;;
	esac
	if [ $((n % 2)) = 0 ]; then
		kill -HUP $spid
	else
		"$HTTP" POST "$ctl" /reload >/dev/null
	fi
	# Paced by the clock, not by a fixed sleep: the reload's own cost on
	# a loaded machine does not slow the storm below ten a second.
	now=${EPOCHREALTIME/./}
	d=$((t0 + n * 100000 - now))
	[ $d -gt 0 ] && sleep "0.$(printf '%06d' $d)"
done
t1=${EPOCHREALTIME/./}
wait $cp
wait_gone $sp 20
"$HTTP" GET "$ctl" /metrics >"$w/m"
rel=$(awk '$1 == "sconed_reloads_total" {print $2}' "$w/m")
err=$(awk '$1 == "sconed_reload_errors_total" {print $2}' "$w/m")
[ "$err" -ge "$bad" ] || fail "$bad invalid files, $err refused"
secs=$(awk "BEGIN{printf \"%.2f\", ($t1 - $t0) / 1e6}")
echo "reload-storm: $n reloads in $secs s" \
	"($bad invalid); sconed counted $rel good, $err refused"
echo "reload-storm: $COUNT datagrams each way; server got $(value rx "$w/s.out")," \
	"client got $(value rx "$w/c.out")"
grep -E '^sig_' "$w/c.out" | tr '\n' ' '
echo
awk "BEGIN{exit !($n / $secs >= 9.5)}" ||
	fail "the storm reached only $n reloads in $secs s"
expect "$w/s.out" rx -eq "$COUNT" "uplink"
expect "$w/c.out" rx -eq "$COUNT" "downlink"
only_signals "$w/c.out" sig 26 20 127
grep -q "sconed.ini:2: " "$w/sconed.log" || fail "no FILE:LINE for a refused file"
kill -0 $spid || fail "sconed died"
echo "PASS"
