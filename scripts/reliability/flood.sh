#!/bin/bash
# Floods through the inline NFQUEUE path while real sessions run: client
# -- router (sconed --nfqueue behind scripts/sconed-iptables.sh) -- server
# in network namespaces (tests/e2e/lib.sh), scone-server and scone-client
# for the real sessions, tests/bin/scone_flood for the flood (raw socket,
# forged sources on the subscriber side, a new 5-tuple per datagram).
#
# For each kind of flood (fake SCONE packets from 6 addresses one way;
# the same both ways; new QUIC-looking flows from 200 addresses) at the
# highest rate the generator reaches (or FLOOD_PPS): sconed's RSS before,
# during and after, its CPU, packets offered and received, and whether
# each of SESSIONS real sessions started during the flood got its advice
# (the signal for 2 Mbit/s). Prints one summary line per kind.
#
# usage: scripts/reliability/flood.sh [BUILD_DIR]   (root; default ./build)
# env: FLOOD_SECONDS (20), SESSIONS (6), FLOOD_PPS (0: as fast as it goes)
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "${1:-$root/build}" && pwd)
SCONED=$B/bin/sconed SERVER=$B/bin/scone-server CLIENT=$B/bin/scone-client
HTTP=$B/tests/bin/sct_http FLOOD=$B/tests/bin/scone_flood
IPT=$root/scripts/sconed-iptables.sh
SECS=${FLOOD_SECONDS:-20} SESSIONS=${SESSIONS:-6} PPS=${FLOOD_PPS:-0}
. "$root/tests/e2e/lib.sh"
e2e_can_netns || { echo "SKIP: $E2E_WHY"; exit 77; }
E2E_TAG=sct-fld-$$
E2E_WORK=$(mktemp -d)
w=$E2E_WORK
trap e2e_cleanup EXIT
trap 'exit 1' INT TERM
e2e_topo_up "$IPT" 9 || { echo "SKIP: cannot create namespaces"; exit 77; }
ctl=127.0.0.1:9100
e2e_start_sconed "$w/sconed.log" ip netns exec "$E2E_R" "$SCONED" \
	--nfqueue 9 --advice 2000000 --control $ctl --quiet
# the sconed process itself (ip netns exec execs it, same pid)
spid=$E2E_SCONED
e2e_start_server "$w/srv.out" "$w/srv.log" ip netns exec "$E2E_S" \
	"$SERVER" --listen "$E2E_S_ADDR:4433" --state-dir "$w/state"

rss() { awk '/^VmRSS/ {print $2}' /proc/$spid/status; }
fds() { ls /proc/$spid/fd | wc -l; }
cpu() { awk '{print $14 + $15}' /proc/$spid/stat; }
rx() {
	e2e_metric 'sconed_datapath_received_total{path="nfqueue"}' \
		ip netns exec "$E2E_R" "$HTTP" GET $ctl /metrics
}
# session N: one short real session; prints 1 if it got the 2M advice.
session() {
	timeout 60 ip netns exec "$E2E_C" "$CLIENT" \
		"https://$E2E_S_ADDR:4433/bytes/300k" --insecure \
		--output /dev/null >"$w/sess$1.out" 2>"$w/sess$1.err"
	if grep -q "advice path=0 dir=downlink signal=26 " "$w/sess$1.out"; then
		echo 1
	else
		echo 0
	fi
}

ok=0
for i in 1 2; do ok=$((ok + $(session base$i))); done
echo "baseline: $ok of 2 sessions got advice; RSS $(rss) kB, $(fds) fds"

hz=$(getconf CLK_TCK)
# flood NAME SPEC...: each SPEC "NS SRC_NET DST SRCS KIND" is one generator.
flood() {
	local name=$1 r0 r1 c0 c1 rx0 rx1 peak=0 got=0 n=0 i t0 t1 sent=0
	shift
	r0=$(rss) c0=$(cpu) rx0=$(rx) t0=$(date +%s.%N)
	local gens=()
	for spec in "$@"; do
		set -- $spec
		ip netns exec "$1" "$FLOOD" --src-net "$2" --dst "$3" --srcs "$4" \
			--kind "$5" --dport 443 --seconds "$SECS" --pps "$PPS" \
			>"$w/flood-$name-${#gens[@]}" 2>&1 &
		gens+=($!)
	done
	sleep 1
	for i in $(seq 1 "$SESSIONS"); do
		got=$((got + $(session "$name$i")))
		n=$((n + 1))
		r=$(rss)
		[ "$r" -gt "$peak" ] && peak=$r
		sleep 0.5
	done
	for g in "${gens[@]}"; do wait "$g"; done
	t1=$(date +%s.%N) c1=$(cpu) rx1=$(rx)
	for f in "$w"/flood-$name-*; do
		sent=$((sent + $(sed -n 's/.*sent=\([0-9]*\).*/\1/p' "$f")))
	done
	sleep 2
	r1=$(rss)
	awk -v n="$name" -v s="$sent" -v rx=$((rx1 - rx0)) -v t0="$t0" \
		-v t1="$t1" -v c=$((c1 - c0)) -v hz="$hz" -v g="$got" -v k="$n" \
		-v a="$r0" -v p="$peak" -v b="$r1" -v f="$(fds)" 'BEGIN {
		d = t1 - t0
		printf "%s: offered %.0f pps (%d), sconed received %.0f pps, " \
			"CPU %.0f%% of a core; sessions with advice %d of %d; " \
			"RSS %d -> %d -> %d kB; %d fds\n", n, s / d, s, rx / d,
			100 * c / hz / d, g, k, a, p, b, f }'
}
flood scone-oneway "$E2E_C 10.88.1 $E2E_S_ADDR 6 scone"
flood scone-twoway "$E2E_C 10.88.1 $E2E_S_ADDR 6 scone" \
	"$E2E_S 10.88.2 $E2E_C_ADDR 6 scone"
flood quic-new-flows "$E2E_C 10.88.1 $E2E_S_ADDR 200 quic"
ip netns exec "$E2E_R" "$HTTP" GET $ctl /metrics >"$w/m"
grep -E '^sconed_engine_(over_quota|unadmitted|flows |evicted)' "$w/m" || true
kill -0 "$spid" || fail "sconed died"
echo "PASS"
