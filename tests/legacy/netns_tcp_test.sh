#!/bin/bash
# sconed --legacy-dpi on the NFQUEUE path with TLS over TCP: curl in the
# client's namespace fetches files from openssl s_server in the server's,
# through the router's sconed (scripts/sconed-iptables.sh --tcp). The
# subscriber's plan polices at 1.5 Mbit/s with a 30 kB bucket.
#  - With a video CDN's name in the ClientHello (YouTube's, from nDPI's
#    own list) the flow is policed: the bytes the client receives stay
#    within the plan's rate times the transfer's time plus the bucket, the
#    server sent more than arrived, and sconed counts drops.
#  - With another name the transfer arrives whole and fast: what the
#    server sent arrived, no drop.
# Bytes are counted at both ends (the server's and the client's veth).
#
# usage: netns_tcp_test.sh SCONED SCONED_IPTABLES
# Needs root, openssl and curl; exits 77 (skip) without.
set -u
SCONED=$1 IPT=$2
. "$(dirname "$0")/../e2e/lib.sh"

e2e_can_netns || { echo "SKIP: $E2E_WHY"; exit 77; }
for t in openssl curl; do
	command -v $t >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done
E2E_TAG=sct-dpt-$$
E2E_WORK=$(mktemp -d)
w=$E2E_WORK
trap e2e_cleanup EXIT
trap 'exit 1' INT TERM

VIDEO=rr3---sn-4g5e6nsz.googlevideo.com
OTHER=www.example.org
RATE=1500000 BURST=30000 SIZE=400000 BIG=2000000
queue=$((3000 + $$ % 1000))
e2e_topo_up "$IPT" $queue || { echo "SKIP: cannot create network namespaces"; exit 77; }
ip netns exec "$E2E_R" sh "$IPT" install --queue $queue --iface r0 --tcp \
	>/dev/null || fail "sconed-iptables.sh install --tcp"

cat >"$w/dpi.ini" <<X
[plan video]
downlink = 1.5M
action = police
burst = 30k
[subscribers]
subscriber = 10.88.1.0/24 video opt-in
X
ctl=127.0.0.1:9100
e2e_start_sconed "$w/sconed.log" ip netns exec "$E2E_R" "$SCONED" \
	--legacy-dpi --nfqueue $queue --config "$w/dpi.ini" --control $ctl
# metric NAME: its value on /metrics (0 when absent).
metric() {
	ip netns exec "$E2E_R" curl -sS --max-time 5 "http://$ctl/metrics" \
		>"$w/metrics" || fail "GET /metrics"
	awk -v n="$1" '$1 == n {v = $2} END {print v + 0}' "$w/metrics"
}

mkdir "$w/www"
head -c $SIZE /dev/urandom >"$w/www/small"
head -c $BIG /dev/urandom >"$w/www/big"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout "$w/key.pem" -out "$w/cert.pem" -subj /CN=test -days 1 \
	2>/dev/null || fail "openssl req"
# -WWW serves files from its working directory, one connection at a time.
e2e_bg "$w/srv.out" "$w/srv.log" sh -c "cd '$w/www' && exec ip netns exec \
'$E2E_S' openssl s_server -accept 4443 -cert '$w/cert.pem' \
-key '$w/key.pem' -WWW -quiet"
for i in $(seq 1 100); do
	ip netns exec "$E2E_S" ss -Htln | grep -q ':4443 ' && break
	[ "$i" = 100 ] && fail "openssl s_server did not listen"
	sleep 0.05
done

devstat() { ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3"; }
# IP bytes: each frame's 14-byte Ethernet header off.
ipbytes() {
	echo $(($(devstat "$1" "$2" "$3_bytes") - 14 * $(devstat "$1" "$2" "$3_packets")))
}

# fetch NAME HOST FILE BYTES: one GET over TLS with HOST as the server
# name; sets sent (server), got (client) in IP bytes, ms (wall time).
fetch() {
	local name=$1 host=$2 file=$3 bytes=$4 s0 c0 t0 t1 sz
	s0=$(ipbytes "$E2E_S" s0 tx) c0=$(ipbytes "$E2E_C" c0 rx)
	t0=$(e2e_now_ms)
	ip netns exec "$E2E_C" curl -sSk --max-time 60 --http1.1 \
		--resolve "$host:4443:$E2E_S_ADDR" "https://$host:4443/$file" \
		-o "$w/$name.body" 2>"$w/$name.err" ||
		{ cat "$w/$name.err" >&2; fail "$name: curl failed"; }
	t1=$(e2e_now_ms)
	sleep 0.2 # the last ACKs and FINs
	sz=$(wc -c <"$w/$name.body")
	[ "$sz" = "$bytes" ] || fail "$name: $sz bytes of $bytes"
	cmp -s "$w/$name.body" "$w/www/$file" || fail "$name: body differs"
	sent=$(($(ipbytes "$E2E_S" s0 tx) - s0))
	got=$(($(ipbytes "$E2E_C" c0 rx) - c0))
	ms=$((t1 - t0))
	echo "ok: $name: $bytes bytes in $ms ms; server sent $sent IP bytes, client got $got"
}

drops() { metric 'sconed_drops_total{plan="video"}'; }

d0=$(drops)
fetch video "$VIDEO" small $SIZE
d1=$(drops)
bound=$((RATE / 8 * ms / 1000 + BURST + 3 * 1500))
[ "$got" -le "$bound" ] ||
	fail "video: client got $got IP bytes in $ms ms, over the plan's $bound"
[ "$sent" -gt "$got" ] || fail "video: server sent $sent, client got $got: nothing dropped"
[ "$d1" -gt "$d0" ] || fail "video: sconed_drops_total stayed at $d0"
echo "ok: video: $got <= $bound (1.5 Mbit/s x $ms ms + 30 kB + 3 packets); $((d1 - d0)) drops"
# The plan's rate, not a stall: the transfer took about SIZE at RATE.
[ "$ms" -ge $((SIZE * 8 * 1000 / RATE / 2)) ] || fail "video: too fast ($ms ms)"

fetch other "$OTHER" big $BIG
d2=$(drops)
[ "$d2" = "$d1" ] || fail "other: sconed dropped $((d2 - d1)) packets"
# Both ends agree (a few packets of slack for neighbour discovery).
[ $((sent - got)) -le 1000 ] && [ $((got - sent)) -le 1000 ] ||
	fail "other: server sent $sent, client got $got"
# Far above the plan: 2 MB at 1.5 Mbit/s would take over 10 s.
[ "$ms" -lt 5000 ] || fail "other: $ms ms for 2 MB"

vf=$(metric sconed_dpi_video_flows_total)
[ "$vf" = 1 ] || fail "sconed_dpi_video_flows_total=$vf, expected 1"
e2e_stop "$E2E_SCONED" 10 || fail "sconed exit status $? after SIGTERM"
FAIL_LOG=
echo "ok: one video flow of two; sconed stopped cleanly"
