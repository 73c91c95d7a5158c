#!/bin/bash
# Goodput of one HTTP/3 GET over loopback, scone-server -> scone-client,
# with SCONE on both ends against --no-scone on both ends: the median of
# RUNS transfers each (alternating, so drifts hit both alike), their ratio,
# and what SCONE costs in bytes. Installed into the build's bin/ as
# bench_goodput; scripts/run-benches.sh runs it under `make bench`.
#
#   bench_goodput [--runs N] [--size SIZE] [--quick]
#
# SIZE is a /bytes/ size (default 100M = 10^8 bytes), N defaults to 5
# (--quick: 3). Goodput is the body's bits over the time from sending the
# request to its last byte, as scone-client reports it (handshake not
# included). SCONE bytes come from one more SCONE run with a qlog: the
# length of every SCONE packet sent and received (scone:packet_* events),
# against all UDP payload bytes both ways; the 2-byte indications of the
# first datagrams are not in the qlog and not counted. The whole run is
# bounded: each transfer to 60 s, and no new run starts after 150 s.
# Exits non-zero when a transfer fails or SCONE is negotiated when it
# should not be (or not when it should).
set -u
bin=$(cd "$(dirname "$0")" && pwd)
SERVER=${SCONE_SERVER:-$bin/scone-server}
CLIENT=${SCONE_CLIENT:-$bin/scone-client}
runs=5
size=100M
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=${2:?}; shift 2 ;;
	--size) size=${2:?}; shift 2 ;;
	--quick) runs=3; shift ;;
	-h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench_goodput: unknown option $1" >&2; exit 2 ;;
	esac
done
case $runs in '' | *[!0-9]* | 0) echo "bench_goodput: bad --runs" >&2; exit 2 ;; esac

tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
die() {
	echo "bench_goodput: $*" >&2
	exit 1
}
start=$(date +%s)

# serve NAME ARGS...: a server on a free loopback port; sets $port.
serve() {
	local name=$1 i
	shift
	"$SERVER" --listen 127.0.0.1:0 --state-dir "$tmp/state" "$@" \
		>/dev/null 2>"$tmp/$name.log" &
	pids+=($!)
	for i in $(seq 1 200); do
		port=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$tmp/$name.log")
		[ -n "$port" ] && return 0
		kill -0 $! 2>/dev/null || break
		sleep 0.05
	done
	cat "$tmp/$name.log" >&2
	die "scone-server $name did not start"
}
serve scone
port_on=$port
serve plain --no-scone
port_off=$port

# json FILE KEY: a value from scone-client's stats line.
json() {
	grep '^{' "$1" | tail -n 1 | sed -n "s/.*\"$2\":\([^,}]*\).*/\1/p"
}

# fetch MODE OUT [ARGS...]: one GET; prints the goodput in Mbit/s.
fetch() {
	local mode=$1 out=$2 p=$port_on flags=() rc=0 line neg rcv
	shift 2
	[ "$mode" = plain ] && p=$port_off flags=(--no-scone)
	timeout 60 "$CLIENT" "https://127.0.0.1:$p/bytes/$size" --insecure \
		--output /dev/null "${flags[@]}" "$@" >"$out" 2>"$out.err" || rc=$?
	[ $rc = 0 ] || { cat "$out" "$out.err" >&2; die "$mode: scone-client exit status $rc"; }
	line=$(grep 'GET .* status 200, [0-9]* bytes in' "$out.err") ||
		{ cat "$out.err" >&2; die "$mode: no complete response"; }
	neg=$(json "$out" sconeNegotiated)
	rcv=$(json "$out" sconePacketsReceived)
	if [ "$mode" = scone ]; then
		[ "$neg" = true ] && [ "${rcv:-0}" -ge 1 ] ||
			die "scone run: negotiated=$neg, $rcv SCONE packets received"
	else
		[ "$neg" = false ] && [ "$rcv" = 0 ] ||
			die "--no-scone run: negotiated=$neg, $rcv SCONE packets received"
	fi
	echo "$line" | sed -n 's/.* bytes in [0-9.]* s (\([0-9.]*\) Mbit\/s).*/\1/p'
}

fetch scone "$tmp/warm" >/dev/null # warms caches and the certificate
echo "bench_goodput: GET /bytes/$size on loopback, scone-server -> scone-client," \
	"$runs runs each way, alternating"
: >"$tmp/on"
: >"$tmp/off"
done_runs=0
for i in $(seq 1 "$runs"); do
	if [ $(($(date +%s) - start)) -ge 150 ]; then
		echo "bench_goodput: time bound reached after $done_runs runs"
		break
	fi
	on=$(fetch scone "$tmp/run") || exit 1
	off=$(fetch plain "$tmp/run") || exit 1
	echo "$on" >>"$tmp/on"
	echo "$off" >>"$tmp/off"
	printf '  run %d: SCONE on %8.1f Mbit/s   --no-scone %8.1f Mbit/s\n' "$i" "$on" "$off"
	done_runs=$i
done

# median FILE: of the numbers in FILE, one a line.
median() {
	sort -g "$1" | awk '{ v[NR] = $1 } END {
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
mon=$(median "$tmp/on")
moff=$(median "$tmp/off")
awk -v a="$mon" -v b="$moff" -v n="$done_runs" 'BEGIN {
	printf "goodput SCONE on:   median %.1f Mbit/s of %d\n", a, n
	printf "goodput --no-scone: median %.1f Mbit/s of %d\n", b, n
	printf "ratio on/off: %.3f\n", (b > 0 ? a / b : 0) }'

# SCONE bytes, from one more SCONE run with a qlog.
fetch scone "$tmp/q" --qlog "$tmp/q.sqlog" >/dev/null || exit 1
sum_len() {
	grep -a "\"name\":\"scone:$1\"" "$tmp/q.sqlog" |
		sed -n 's/.*"raw":{"length":\([0-9]*\)}.*/\1/p' |
		awk '{ n++; s += $1 } END { printf "%d %d\n", n, s }'
}
read -r ns ls < <(sum_len packet_sent)
read -r nr lr < <(sum_len packet_received)
bs=$(json "$tmp/q" bytesSent)
br=$(json "$tmp/q" bytesReceived)
[ "$nr" = "$(json "$tmp/q" sconePacketsReceived)" ] ||
	die "qlog has $nr SCONE packets received, stats $(json "$tmp/q" sconePacketsReceived)"
awk -v ns="$ns" -v ls="$ls" -v nr="$nr" -v lr="$lr" -v bs="$bs" -v br="$br" 'BEGIN {
	printf "SCONE bytes: client sent %d packets (%d B) of %d B, received %d (%d B) of %d B\n",
		ns, ls, bs, nr, lr, br
	printf "SCONE share of all bytes sent: %.6f %% (downlink %.6f %%)\n",
		100 * (ls + lr) / (bs + br), 100 * lr / br }'

for p in "${pids[@]}"; do
	kill -TERM "$p"
	for i in $(seq 1 200); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
	kill -0 "$p" 2>/dev/null && die "scone-server still running 10 s after SIGTERM"
	wait "$p" || die "scone-server exit status $? after SIGTERM"
done
pids=()
echo "bench_goodput: done in $(($(date +%s) - start)) s"
