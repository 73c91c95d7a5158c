#!/bin/bash
# A client must never be given the port of a local server it talks to.
# With SO_REUSEADDR on the client's socket the kernel could pick, for the
# client's connect(), the very port the server holds (both sockets reuse);
# the client, connected to 127.0.0.1:P from 127.0.0.1:P, then read back its
# own Initials and timed out (bytesReceived == bytesSent, 0 packets). Seen
# once in CI. The test forces the case: in a fresh network namespace the
# ephemeral range is narrowed to the server's port (the client must fail at
# once with a socket error, not time out on its own datagrams) and then to
# that port and one more (every client must get the other one and finish).
# A second server on the same port is refused.
#
#   port_collision_test.sh SERVER CLIENT      (root; 77 = skipped)
set -u
SERVER=${1:?server}
CLIENT=${2:?client}
if [ "${SCT_IN_NETNS:-}" != 1 ]; then
	[ "$(id -u)" = 0 ] || { echo "skip: needs root (unshare -n)"; exit 77; }
	unshare -n true 2>/dev/null || { echo "skip: no network namespaces"; exit 77; }
	SCT_IN_NETNS=1 exec unshare -n bash "$0" "$@"
fi
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
tmp=$(mktemp -d)
trap 'kill -9 $spid 2>/dev/null; rm -rf "$tmp"' EXIT
ip link set lo up
port=40000
sysctl -qw net.ipv4.ip_local_port_range="$port $port" ||
	{ echo "skip: cannot set ip_local_port_range"; exit 77; }
"$SERVER" --listen 127.0.0.1:$port --state-dir "$tmp/state" >/dev/null 2>"$tmp/srv.log" &
spid=$!
for _ in $(seq 1 200); do
	grep -q "listening on port" "$tmp/srv.log" && break
	sleep 0.05
done
grep -q "listening on port $port" "$tmp/srv.log" || { cat "$tmp/srv.log"; fail "server did not start"; }

# A second server on a port already served must be refused, not share it.
if timeout 5 "$SERVER" --listen 127.0.0.1:$port --state-dir "$tmp/state" \
	>/dev/null 2>"$tmp/srv2.log"; then
	fail "a second server on port $port started"
fi
grep -qi "in use" "$tmp/srv2.log" || { cat "$tmp/srv2.log"; fail "second server: no 'in use' error"; }
echo "ok: second server: '$(tail -n 1 "$tmp/srv2.log")'"

get() {
	timeout 30 "$CLIENT" "https://127.0.0.1:$port/bytes/1000" --insecure \
		--output /dev/null >"$tmp/out" 2>"$tmp/err"
}
# Only the server's port is free to choose: no port for the client.
start=$(date +%s%N)
get && fail "client got a port the server holds: $(cat "$tmp/out")"
ms=$((($(date +%s%N) - start) / 1000000))
grep -q "socket error" "$tmp/err" || { cat "$tmp/out" "$tmp/err"; fail "no socket error"; }
[ "$ms" -lt 2000 ] || fail "client took $ms ms to fail"
echo "ok: range {$port}: '$(tail -n 1 "$tmp/err")' after $ms ms"

# Two ports to choose from: the client must take the free one, every time.
sysctl -qw net.ipv4.ip_local_port_range="$port $((port + 1))"
for i in 1 2 3 4 5 6 7 8; do
	get || { cat "$tmp/out" "$tmp/err"; fail "run $i of 8 with range {$port,$((port + 1))}"; }
	grep -q '"sconeNegotiated":true' "$tmp/out" || fail "run $i: no SCONE"
done
echo "ok: range {$port,$((port + 1))}: 8 of 8 transfers"
