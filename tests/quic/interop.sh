#!/bin/sh
# Interop without SCONE against Debian's ngtcp2 example programs (gtlsserver,
# gtlsclient: packages ngtcp2-server, ngtcp2-client), both directions, and
# scone-client against scone-server with SCONE. Real UDP on 127.0.0.1.
# usage: interop.sh SCONE_SERVER SCONE_CLIENT
set -eu
SRV=$1
CLI=$2
for p in gtlsserver gtlsclient; do
	command -v "$p" >/dev/null 2>&1 || { echo "SKIP: $p not installed"; exit 77; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/scone-interop-XXXXXX")
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$T"/*.log; do echo "--- $f"; tail -n 20 "$f"; done; exit 1; }

mkdir -p "$T/htdocs" "$T/dl"
head -c 250000 /dev/urandom >"$T/htdocs/f.bin"

# --- scone-server, SCONE on; its first run makes the certificate.
"$SRV" --listen 127.0.0.1:0 --state-dir "$T/state" --root "$T/htdocs" \
	--uplink-log >"$T/srv.out" 2>"$T/srv.log" &
PIDS="$PIDS $!"
i=0
while ! grep -q 'listening on port' "$T/srv.log" 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 100 ] || fail "scone-server did not start"; sleep 0.1
done
SPORT=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$T/srv.log")

# 1. gtlsclient -> scone-server: a generated body and a file.
timeout 20 gtlsclient -q --exit-on-all-streams-close --download "$T/dl" \
	127.0.0.1 "$SPORT" "https://127.0.0.1:$SPORT/bytes/300000" \
	"https://127.0.0.1:$SPORT/f.bin" >"$T/gc1.log" 2>&1 ||
	fail "gtlsclient -> scone-server exited $?"
[ "$(wc -c <"$T/dl/300000")" -eq 300000 ] || fail "generated body size"
head -c 26 "$T/dl/300000" | grep -q '^abcdefghijklmnopqrstuvwxyz$' ||
	fail "generated body content"
cmp -s "$T/dl/f.bin" "$T/htdocs/f.bin" || fail "file body via scone-server"
echo "ok: gtlsclient -> scone-server"

# 2. scone-client -> gtlsserver, with SCONE offered (the server ignores the
#    parameter and the first-flight indication) and without.
GPORT=""
for try in 1 2 3 4 5 6 7 8; do
	port=$((20000 + ($$ * 7 + try * 131) % 40000))
	gtlsserver -q -d "$T/htdocs" 127.0.0.1 "$port" "$T/state/key.pem" \
		"$T/state/cert.pem" >"$T/gs.log" 2>&1 &
	gpid=$!
	sleep 0.3
	if kill -0 "$gpid" 2>/dev/null; then
		PIDS="$PIDS $gpid"; GPORT=$port; break
	fi
done
[ -n "$GPORT" ] || fail "gtlsserver did not start"
for mode in "" "--no-scone"; do
	rm -f "$T/dl/out.bin"
	# shellcheck disable=SC2086
	timeout 20 "$CLI" --insecure $mode --output "$T/dl/out.bin" \
		"https://127.0.0.1:$GPORT/f.bin" >"$T/c2.out" 2>"$T/c2.log" ||
		fail "scone-client $mode -> gtlsserver exited $?"
	cmp -s "$T/dl/out.bin" "$T/htdocs/f.bin" || fail "body via gtlsserver ($mode)"
	grep -q '"sconeNegotiated":false' "$T/c2.out" || fail "stats line ($mode)"
	echo "ok: scone-client $mode -> gtlsserver"
done

# 3. scone-client -> scone-server with SCONE, two GETs on one connection.
timeout 30 "$CLI" --insecure --repeat 2 --interval 200ms --qlog "$T/c3.sqlog" \
	--output "$T/dl/gen.bin" "https://127.0.0.1:$SPORT/bytes/2M" \
	>"$T/c3.out" 2>"$T/c3.log" || fail "scone-client -> scone-server exited $?"
[ "$(wc -c <"$T/dl/gen.bin")" -eq 4000000 ] || fail "two generated bodies"
[ "$(grep -c 'status 200, 2000000 bytes' "$T/c3.log")" -eq 2 ] || fail "responses"
grep -q '"sconeNegotiated":true' "$T/c3.out" || fail "SCONE not negotiated"
tail -n 1 "$T/c3.out" | grep -q '"sconePacketsSent":[1-9]' || fail "no SCONE sent"
grep -q '"name":"scone:packet_received"' "$T/c3.sqlog" || fail "qlog scone events"
echo "ok: scone-client -> scone-server (SCONE)"
