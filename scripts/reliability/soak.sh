#!/bin/bash
# A soak of the inline path: client -- router (sconed --nfqueue behind
# scripts/sconed-iptables.sh, control on) -- server in network namespaces
# (tests/e2e/lib.sh) for SOAK_MINUTES (default 30), with flows churning
# all the time: numbered UDP streams of 1000 SCONE datagrams each on a new
# port every second (tests/bin/scone_sender, counted at both ends), a real
# scone-client session every 10 s, a SIGHUP every minute. Every 30 s it
# samples sconed's RSS and open file descriptors; at the end it prints the
# least-squares slope of each (per hour), the datagrams lost, sessions
# without advice and the log lines that say error or fail.
#
# usage: scripts/reliability/soak.sh [BUILD_DIR]   (root; not in make test)
# env: SOAK_MINUTES (30)
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "${1:-$root/build}" && pwd)
SCONED=$B/bin/sconed SERVER=$B/bin/scone-server CLIENT=$B/bin/scone-client
SENDER=$B/tests/bin/scone_sender
IPT=$root/scripts/sconed-iptables.sh
MIN=${SOAK_MINUTES:-30}
. "$root/tests/e2e/lib.sh"
e2e_can_netns || { echo "SKIP: $E2E_WHY"; exit 77; }
E2E_TAG=sct-soak-$$
E2E_WORK=$(mktemp -d)
w=$E2E_WORK
trap e2e_cleanup EXIT
trap 'exit 1' INT TERM
e2e_topo_up "$IPT" 13 || { echo "SKIP: cannot create namespaces"; exit 77; }
printf '[plan p]\ndownlink = 2M\n[subscribers]\nsubscriber = 10.88.1.0/24 p opt-in\n' \
	>"$w/sconed.ini"
e2e_start_sconed "$w/sconed.log" ip netns exec "$E2E_R" "$SCONED" \
	--config "$w/sconed.ini" --nfqueue 13 --control 127.0.0.1:9100 --quiet
spid=$E2E_SCONED
e2e_start_server "$w/srv.out" "$w/srv.log" ip netns exec "$E2E_S" \
	"$SERVER" --listen "$E2E_S_ADDR:4433" --state-dir "$w/state"

end=$(($(date +%s) + MIN * 60))
start=$(date +%s)
samples=$w/samples
: >"$samples"
sent=0 got_s=0 got_c=0 sessions=0 advised=0 k=0 noports=0 late=0
: >"$w/losses"
# Datagrams a namespace's kernel refused since no socket had the port: at
# the server, sent before it bound; at the client, answers after it left.
udp_noports() {
	ip netns exec "$1" awk '/^Udp:/ { if (h) print $3; h = 1 }' /proc/net/snmp
}
while [ "$(date +%s)" -lt "$end" ]; do
	k=$((k + 1))
	port=$((5000 + k % 20000))
	# A fresh file per stream, removed first: "ready=1" left in the last
	# stream's file could let the client start before this server bound
	# its port (the kernel would refuse those datagrams: NoPorts).
	rm -f "$w/s.out" "$w/c.out"
	noports0=$(udp_noports "$E2E_S") late0=$(udp_noports "$E2E_C")
	nice ip netns exec "$E2E_S" "$SENDER" server --listen "$E2E_S_ADDR:$port" \
		--idle-ms 1500 --timeout-ms 30000 >"$w/s.out" &
	sp=$!
	wait_for "$w/s.out" "ready=1" 10 "$sp" || fail "stream $k: no server"
	# The client leaves once every answer came (and 100 ms passed), or
	# --wait-ms after its last datagram. With 1000 ms, answers that a
	# machine under load (load average 12) delayed longer reached a closed
	# port: counted lost though nothing was (client NoPorts rose with them).
	nice ip netns exec "$E2E_C" "$SENDER" client --to "$E2E_S_ADDR:$port" \
		--count 1000 --interval-us 500 --wait-ms 10000 >"$w/c.out"
	wait "$sp"
	sent=$((sent + 1000))
	rs=$(value rx "$w/s.out") rc=$(value rx "$w/c.out")
	got_s=$((got_s + rs))
	got_c=$((got_c + rc))
	np=$(($(udp_noports "$E2E_S") - noports0))
	nl=$(($(udp_noports "$E2E_C") - late0))
	noports=$((noports + np)) late=$((late + nl))
	[ "$rs" = 1000 ] && [ "$rc" = 1000 ] && [ "$np" = 0 ] && [ "$nl" = 0 ] ||
		echo "$(($(date +%s) - start)) stream $k: server got $rs," \
			"client $rc; refused for no port: $np at the server," \
			"$nl at the client" >>"$w/losses"
	if [ $((k % 10)) = 0 ]; then
		sessions=$((sessions + 1))
		timeout 60 ip netns exec "$E2E_C" "$CLIENT" \
			"https://$E2E_S_ADDR:4433/bytes/200k" --insecure \
			--output /dev/null >"$w/sess.out" 2>/dev/null
		grep -q "signal=26 " "$w/sess.out" && advised=$((advised + 1))
	fi
	[ $((k % 60)) = 0 ] && kill -HUP "$spid"
	if [ $((k % 30)) = 1 ]; then
		echo "$(($(date +%s) - start)) $(awk '/^VmRSS/ {print $2}' \
			/proc/$spid/status) $(ls /proc/$spid/fd | wc -l)" >>"$samples"
	fi
	kill -0 "$spid" || fail "sconed died"
done
slope() { # column: least-squares slope per hour
	awk -v c="$1" '{ x = $1; y = $c; n++; sx += x; sy += y; sxy += x * y;
		sxx += x * x } END { d = n * sxx - sx * sx;
		printf "%.1f", d ? (n * sxy - sx * sy) / d * 3600 : 0 }' "$samples"
}
first=$(head -n 1 "$samples") last=$(tail -n 1 "$samples")
echo "soak: $MIN min, $k streams, $sent datagrams each way:" \
	"lost $((sent - got_s)) uplink, $((sent - got_c)) downlink;" \
	"sessions with advice $advised of $sessions;" \
	"refused for no port: $noports at the server, $late at the client"
sed 's/^/soak: /' "$w/losses" | head -n 20
echo "soak: RSS kB $(echo "$first" | cut -d' ' -f2) -> $(echo "$last" | cut -d' ' -f2)" \
	"(slope $(slope 2) kB/h), fds $(echo "$first" | cut -d' ' -f3) ->" \
	"$(echo "$last" | cut -d' ' -f3) (slope $(slope 3)/h), $(wc -l <"$samples") samples"
echo "soak: log lines with error/fail: $(grep -ciE 'error|fail' "$w/sconed.log")"
grep -iE 'error|fail' "$w/sconed.log" | sort | uniq -c | head -n 5
cp "$samples" "${SOAK_SAMPLES:-/dev/null}" 2>/dev/null
