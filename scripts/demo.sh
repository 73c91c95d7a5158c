#!/bin/bash
# `make demo`: SCONE end to end, in about 15 seconds.
#
#   scripts/demo.sh [BIN_DIR [TEST_BIN_DIR]]
#                    (default build/bin, and the test tools of BIN_DIR's
#                    build: BIN_DIR/../tests/bin)
#
# As root: three network namespaces, client -- router -- server, the
# router forwarding UDP through NFQUEUE (scripts/sconed-iptables.sh) to
# sconed --nfqueue. Otherwise (or when namespaces cannot be made): the same
# over loopback through sconed --relay, without privileges.
#
# Session 1: sconed on its built-in configuration (every flow initiator an
# opted-in subscriber of plan "default") with --advice 3000000; the client
# GETs /bytes/2M three times over one connection and reports the advice.
#
# Session 2: the built-in configuration has no named capacity, so sconed
# is restarted on a generated config (in a temporary directory) that is
# the same catch-all plan plus a capacity "cell" of 3M and an uplink
# advice of 1M. Midway through the client's GETs, POST /capacity lowers the
# cell to 1M at run time; the client reports the new advice within about a
# second (both endpoints send SCONE packets every --scone-interval 1s), and
# the server reports the uplink advice.
#
# Each session ends with a summary: advice received (signal and bit/s),
# bytes, duration, goodput, SCONE packets sent and received. Exits
# non-zero when the client received no advice (or not the new one).
set -u
here=$(cd "$(dirname "$0")" && pwd)
BIN=$(cd "${1:-build/bin}" 2>/dev/null && pwd) ||
	{ echo "demo: no directory ${1:-build/bin} (run make first)" >&2; exit 2; }
TOOLS=$(cd "${2:-$BIN/../tests/bin}" 2>/dev/null && pwd) ||
	{ echo "demo: no directory ${2:-$BIN/../tests/bin} (run make first)" >&2; exit 2; }
SCONED=$BIN/sconed SERVER=$BIN/scone-server CLIENT=$BIN/scone-client
# The small HTTP client the tests use, for POST /capacity.
HTTP=$TOOLS/sct_http
for f in "$SCONED" "$SERVER" "$CLIENT" "$HTTP"; do
	[ -x "$f" ] || { echo "demo: $f missing (run make first)" >&2; exit 2; }
done
# shellcheck source=../tests/e2e/lib.sh
. "$here/../tests/e2e/lib.sh"

E2E_TAG=sct-demo-$$
E2E_WORK=$(mktemp -d)
w=$E2E_WORK
trap e2e_cleanup EXIT
trap 'exit 1' INT TERM
say() {
	if [ -t 1 ]; then printf '\n\033[1m== %s\033[0m\n' "$*"; else printf '\n== %s\n' "$*"; fi
}

mode=relay
if e2e_can_netns; then
	if e2e_topo_up "$here/sconed-iptables.sh" 0; then
		mode=netns
	else
		echo "demo: cannot create network namespaces; using the relay" >&2
		e2e_cleanup
		E2E_WORK=$(mktemp -d)
		w=$E2E_WORK
	fi
else
	echo "demo: $E2E_WHY: running over loopback through sconed --relay"
fi

# Command prefixes: run in the client's, router's, server's namespace
# (nothing in relay mode).
C=() R=() S=()
if [ $mode = netns ]; then
	C=(ip netns exec "$E2E_C") R=(ip netns exec "$E2E_R") S=(ip netns exec "$E2E_S")
fi

# The server, for both sessions.
if [ $mode = netns ]; then
	say "topology: client $E2E_C_ADDR -- router (sconed --nfqueue 0) -- server $E2E_S_ADDR"
	ctl=127.0.0.1:9100
	e2e_start_server "$w/server.out" "$w/server.log" "${S[@]}" "$SERVER" \
		--listen "$E2E_S_ADDR:4433" --state-dir "$w/state" --uplink-log \
		--scone-interval 1s
else
	say "loopback: scone-client -> sconed --relay -> scone-server"
	ctl=$w/control.sock
	e2e_start_server "$w/server.out" "$w/server.log" "$SERVER" \
		--listen 127.0.0.1:0 --state-dir "$w/state" --uplink-log \
		--scone-interval 1s
fi
server=$E2E_SERVER

# element ARGS...: starts sconed with ARGS; sets $url (the client's target).
element() {
	if [ $mode = netns ]; then
		e2e_start_sconed "$w/sconed.log" "${R[@]}" "$SCONED" --nfqueue 0 \
			--control "$ctl" "$@"
		url=https://$E2E_S_ADDR:4433
	else
		e2e_start_relay "$w/sconed.log" "$SCONED" "127.0.0.1:$E2E_SERVER_PORT" \
			"$ctl" "$@"
		url=https://127.0.0.1:$E2E_RELAY_PORT
	fi
	echo "sconed $*"
}

# client NAME ARGS...: scone-client in the background, its lines shown as
# they come (the stats line is kept for the summary).
client() {
	local name=$1
	shift
	: >"$w/$name.txt"
	# Both streams append to one file, in the order they were written.
	timeout 60 "${C[@]}" "$CLIENT" "$@" >>"$w/$name.txt" 2>>"$w/$name.txt" &
	cli=$!
	E2E_PIDS+=("$cli")
	tail -n +1 -s 0.2 -f --pid=$cli "$w/$name.txt" 2>/dev/null |
		grep --line-buffered -v '^{' | sed -u 's/^/  client /' &
	tailpid=$!
}

# finish NAME: waits for the client, prints the session's summary.
finish() {
	local f=$w/$1.txt rc=0
	wait_gone $cli 60 || rc=$?
	wait $tailpid 2>/dev/null
	[ $rc = 0 ] || { cat "$f"; echo "demo: scone-client exit status $rc" >&2; exit 1; }
	say "summary"
	grep ' advice ' "$f" | grep -v 'rate=unknown' |
		sed -n 's/.*dir=\([a-z]*\) signal=\([0-9]*\) rate=\([0-9]*\) bit\/s (\(.*\)).*/advice received (\1): signal \2 = \3 bit\/s (\4)/p'
	grep -o 'GET .*status 200, [0-9]* bytes in [0-9.]* s' "$f" |
		awk '{ n++; b += $6; t += $9 } END {
			if (n == 0) { print "transfer: no complete GET"; exit }
			printf "transfer: %d GETs, %d bytes in %.3f s of transfer, goodput %.1f Mbit/s\n",
				n, b, t, (t > 0 ? b * 8 / t / 1e6 : 0) }'
	printf 'connection: %s B sent, %s B received; SCONE packets: %s sent, %s received (%s advice accepted, %s rejected)\n' \
		"$(e2e_json "$f" bytesSent)" "$(e2e_json "$f" bytesReceived)" \
		"$(e2e_json "$f" sconePacketsSent)" "$(e2e_json "$f" sconePacketsReceived)" \
		"$(e2e_json "$f" sconeAdviceAccepted)" "$(e2e_json "$f" sconeAdviceRejected)"
	rew=$(e2e_metric 'sconed_rewrites_total{plan="default"}' "${R[@]}" "$HTTP" GET "$ctl" /metrics) &&
		echo "sconed: $rew SCONE packets rewritten (sconed_rewrites_total)"
	grep -q ' advice .*signal=[0-9]* rate=[0-9]' "$f" ||
		{ echo "demo: FAILED: the client received no advice" >&2; exit 1; }
}

stop_element() {
	e2e_stop "$E2E_SCONED" 10 || echo "demo: sconed exit status $?" >&2
}

# ---------------------------------------------------------------- session 1
say "session 1: sconed on the built-in configuration, --advice 3000000"
element --advice 3000000
client s1 "$url/bytes/2M" --insecure --repeat 3 --interval 500ms \
	--scone-interval 1s --output /dev/null
finish s1
stop_element

# ---------------------------------------------------------------- session 2
say "session 2: a capacity changed at run time"
cat >"$w/sconed.ini" <<'INI'
; The built-in configuration, plus a named capacity and uplink advice.
[plan default]
downlink = 3M
uplink = 1M

[capacity cell]
rate = 3M

[subscribers]
subscriber = 0.0.0.0/0 default opt-in capacity=cell
subscriber = ::/0 default opt-in capacity=cell
INI
sed 's/^/  /' "$w/sconed.ini"
element --config "$w/sconed.ini"
client s2 "$url/bytes/2M" --insecure --repeat 10 --interval 500ms \
	--scone-interval 1s --output /dev/null
wait_for "$w/s2.txt" ' advice .*signal=29 ' 20 $cli ||
	{ echo "demo: FAILED: no advice for the 3M capacity" >&2; exit 1; }
sleep 1.5
t0=$(e2e_now_ms)
echo "  >>> POST /capacity?name=cell&bps=1M: $("${R[@]}" "$HTTP" POST "$ctl" '/capacity?name=cell&bps=1M' | tail -n 1)"
if wait_for "$w/s2.txt" ' advice .*signal=20 ' 10 $cli; then
	echo "  >>> the client reported the new advice $(($(e2e_now_ms) - t0)) ms later"
else
	echo "demo: FAILED: the client did not report the new advice" >&2
	exit 1
fi
finish s2
stop_element
e2e_stop "$server" 10 >/dev/null
grep 'uplink advice' "$w/server.out" | sed 's/^/server /'
grep -q 'uplink advice .*signal=20 ' "$w/server.out" ||
	{ echo "demo: FAILED: no uplink advice at the server" >&2; exit 1; }
echo
echo "demo: OK ($mode)"
