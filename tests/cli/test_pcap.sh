# scone decode --pcap: captures written by scone-gen-pcap in every supported
# link type list the same SCONE packets; damaged files are refused.
. "$(dirname "$0")/lib.sh"

"$GEN_PCAP" "$WORK" || { fail "scone-gen-pcap failed"; finish; }

# Frames (see gen_pcap.c): 1 Initial c2s (v4 flow opens), 2 SCONE 40 s2c,
# 3 ARP, 4 TCP, 5 SCONE 127 c2s (v6 flow opens, VLAN), 6 SCONE 21 s2c (QinQ),
# 7 SCONE 126 c2s, 8 cut IPv4 header, 9 cut SCONE DCID, 10 IPv4 fragment.
SCENARIO="2 0.125000 198.51.100.2:443 -> 192.0.2.1:50000 s2c signal 40 (10 Mbit/s)
5 0.500000 [2001:db8::1]:40000 -> [2001:db8::2]:443 c2s signal 127 (unknown)
6 0.625000 [2001:db8::2]:443 -> [2001:db8::1]:40000 s2c signal 21 (1.12 Mbit/s)
7 0.750000 192.0.2.1:50000 -> 198.51.100.2:443 c2s signal 126 (199.5 Gbit/s)
summary: packets 10, UDP datagrams 5, SCONE packets 4 (c2s 2, s2c 2); skipped: non-UDP 2, malformed 2, fragments 1"

# Ethernet with 802.1Q/802.1ad tags, raw IP, Linux cooked v1, v2 (written
# with nanosecond timestamps), BSD loopback.
for link in eth raw sll sll2 null; do
	run decode --pcap "$WORK/$link.pcap"
	expect_out "$link.pcap" "$SCENARIO"
done

# LINKTYPE_IPV4 / LINKTYPE_IPV6 files hold the scenario's IPv4 / IPv6 frames.
run decode --pcap "$WORK/ipv4.pcap"
expect_out "ipv4.pcap" "2 0.125000 198.51.100.2:443 -> 192.0.2.1:50000 s2c signal 40 (10 Mbit/s)
4 0.750000 192.0.2.1:50000 -> 198.51.100.2:443 c2s signal 126 (199.5 Gbit/s)
summary: packets 7, UDP datagrams 3, SCONE packets 2 (c2s 1, s2c 1); skipped: non-UDP 1, malformed 2, fragments 1"
run decode --pcap "$WORK/ipv6.pcap"
expect_out "ipv6.pcap" "1 0.000000 [2001:db8::1]:40000 -> [2001:db8::2]:443 c2s signal 127 (unknown)
2 0.125000 [2001:db8::2]:443 -> [2001:db8::1]:40000 s2c signal 21 (1.12 Mbit/s)
summary: packets 2, UDP datagrams 2, SCONE packets 2 (c2s 1, s2c 1); skipped: non-UDP 0, malformed 0, fragments 0"

# A snap length that cuts the CIDs still shows the signal. The first
# datagram on a 5-tuple defines c2s, whoever really sent it.
run decode --pcap "$WORK/cut.pcap"
expect_out "cut.pcap" "1 0.000000 198.51.100.2:443 -> 192.0.2.1:50000 c2s signal 40 (10 Mbit/s) [CIDs cut off by the capture]
summary: packets 1, UDP datagrams 1, SCONE packets 1 (c2s 1, s2c 0); skipped: non-UDP 0, malformed 0, fragments 0"

# Later fragments carry no UDP header; those of UDP datagrams (IPv4, IPv6)
# count as fragments, that of a TCP segment as non-UDP.
run decode --pcap "$WORK/frag.pcap"
expect_out "frag.pcap" "summary: packets 3, UDP datagrams 0, SCONE packets 0 (c2s 0, s2c 0); skipped: non-UDP 1, malformed 0, fragments 2"

# Absolute times: seconds since the epoch (frame 2 at 1700000000.225 s).
run decode --absolute --pcap "$WORK/sll2.pcap"
[ "$(sed -n 1p "$OUT" | cut -d' ' -f1-2)" = "2 1700000000.225000" ] ||
	fail "--absolute: $(sed -n 1p "$OUT")"

# The capture can come on stdin.
"$SCONE" decode --pcap - <"$WORK/eth.pcap" >"$OUT" 2>"$ERR"
rc=$?
expect_out "pcap on stdin" "$SCENARIO"

run decode --json --pcap "$WORK/eth.pcap"
expect_json "json listing" \
	'[(p["frame"], p["direction"], p["signal"], p["bps"]) for p in d["scone_packets"]]' \
	"[(2, 's2c', 40, 10000000), (5, 'c2s', 127, None), (6, 's2c', 21, 1122018), (7, 'c2s', 126, 199526231497)]"
expect_json "json addresses" \
	'(d["scone_packets"][1]["src"], d["scone_packets"][1]["dport"], d["scone_packets"][0]["time_us"], d["scone_packets"][0]["dcid"], d["scone_packets"][2]["scid"])' \
	"('2001:db8::1', 443, 125000, '0102030405060708', '')"
expect_json "json summary" \
	'[d["summary"][k] for k in ("packets", "udp_datagrams", "scone_packets", "c2s", "s2c", "non_udp", "malformed", "fragments")]' \
	"[10, 5, 4, 2, 2, 2, 2, 1]"
run decode --json --pcap "$WORK/ipv6.pcap"
expect_json "json listing, no SCONE-free frames" \
	'([p["signal"] for p in d["scone_packets"]], d["summary"]["udp_datagrams"])' \
	"([127, 21], 2)"
run decode --json --pcap "$WORK/cut.pcap"
expect_json "json with CIDs cut off" '(d["scone_packets"][0]["dcid"], d["scone_packets"][0]["signal"])' \
	"(None, 40)"
run decode --json --pcap "$WORK/wifi.pcap"
expect_error "json on unsupported link" 1 "unsupported link type"

# Damaged and random frames: every frame is counted exactly once.
run decode --json --pcap "$WORK/noise.pcap"
expect_json "noise: all frames read" 'd["summary"]["packets"]' "400"
expect_json "noise: counts add up" \
	'(lambda s: s["udp_datagrams"] + s["non_udp"] + s["malformed"] + s["fragments"] == s["packets"] and s["c2s"] + s["s2c"] == s["scone_packets"] == len(d["scone_packets"]))(d["summary"])' \
	"True"

# Refused files: one line on stderr, exit 1.
printf 'this is not a capture file\n' >"$WORK/garbage"
run decode --pcap "$WORK/garbage"
expect_error "garbage file" 1 "cannot read capture"
: >"$WORK/empty"
run decode --pcap "$WORK/empty"
expect_error "empty file" 1 "cannot read capture"
run decode --pcap "$WORK/does-not-exist"
expect_error "missing file" 1 "cannot read capture"
run decode --pcap "$WORK/wifi.pcap"
expect_error "unsupported link type" 1 "unsupported link type IEEE802_11"

# A file cut inside a record: what was read is listed, then the error.
head -c 100 "$WORK/eth.pcap" >"$WORK/cut-file.pcap"
run decode --pcap "$WORK/cut-file.pcap"
[ "$rc" -eq 1 ] || fail "file cut in a record: exit $rc"
[ "$(wc -l <"$ERR")" -eq 1 ] && grep -q 'truncated' "$ERR" ||
	fail "file cut in a record: stderr $(cat "$ERR")"
grep -q '^summary: packets 0,' "$OUT" || fail "file cut in a record: $(cat "$OUT")"
run decode --json --pcap "$WORK/cut-file.pcap"
expect_json "json of a file cut in a record" 'd["summary"]["packets"]' "0"

# Usage errors: exit 2.
run decode --pcap
expect_error "--pcap without file" 2 "needs an argument"
run decode --pcap "$WORK/eth.pcap" 94
expect_error "--pcap with hex" 2 "no hex"
run decode --dcid-len 4 --pcap "$WORK/eth.pcap"
expect_error "--pcap with --dcid-len" 2 "does not apply"

finish
