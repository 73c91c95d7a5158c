# scone decode HEX: a constructed datagram in text and JSON, variants, errors.
. "$(dirname "$0")/lib.sh"

# SCONE packet: 0x80 | (40 >> 1), even version (40 is even), DCID 8, SCID 4;
# then a QUIC v1 Initial with the same CIDs; then the indication.
SCONE40="94 6f7dc0fd 08 0102030405060708 04 a1a2a3a4"
INITIAL="c3 00000001 08 0102030405060708 04 a1a2a3a4 00 05 0011223344"
DGRAM="$SCONE40 $INITIAL c813"

run decode $DGRAM
expect_out "decode SCONE + Initial + indication" "datagram: 47 bytes
SCONE packet: bytes 0..18 (19 bytes)
  version:   0x6f7dc0fd
  signal:    40 (10000000 bit/s, 10 Mbit/s)
  reserved:  0
  dcid:      8 bytes 0102030405060708
  scid:      4 bytes a1a2a3a4
QUIC packet: from byte 19, long header (first byte 0xc3)
  version:   0x00000001 (QUIC v1)
  dcid:      8 bytes 0102030405060708
  scid:      4 bytes a1a2a3a4
connection IDs: SCONE dcid matches, scid matches
indication: yes (datagram ends with 0xc8 0x13)"

# The same bytes as one quoted word with a 0x prefix and newlines, and on
# stdin, decode identically.
cp "$OUT" "$WORK/expected"
run decode "0x$(echo "$DGRAM" | tr -d ' ')"
cmp -s "$OUT" "$WORK/expected" || fail "0x-prefixed hex stream decodes differently"
printf '%s\n' $DGRAM | "$SCONE" decode - >"$OUT" 2>"$ERR" || fail "stdin: exit $?"
cmp -s "$OUT" "$WORK/expected" || fail "hex on stdin decodes differently"

run decode --json $DGRAM
expect_json "json scone" \
	'(d["length"], d["scone"]["signal"], d["scone"]["bps"], d["scone"]["version"], d["scone"]["dcid"], d["scone"]["scid"], d["scone"]["length"])' \
	"(47, 40, 10000000, '0x6f7dc0fd', '0102030405060708', 'a1a2a3a4', 19)"
expect_json "json quic" \
	'(d["quic"]["offset"], d["quic"]["header"], d["quic"]["version"], d["quic"]["dcid"], d["quic"]["scid"])' \
	"(19, 'long', '0x00000001', '0102030405060708', 'a1a2a3a4')"
expect_json "json checks" '(d["dcid_matches"], d["scid_matches"], d["indication"])' \
	"(True, True, True)"

# Odd signal (41): the version's top bit is the signal's low bit. The
# reserved bit (0x40) is reported, not mistaken for signal.
run decode --json d4 ef7dc0fd 08 0102030405060708 04 a1a2a3a4 $INITIAL
expect_json "signal 41 with reserved bit" \
	'(d["scone"]["signal"], d["scone"]["rate"], d["scone"]["reserved_bit"], d["indication"])' \
	"(41, '11.2 Mbit/s', 1, False)"

# Endpoint's signal 127 before a short header: the DCID length defaults to
# the SCONE packet's, --dcid-len overrides it.
SHORT="bf ef7dc0fd 08 0102030405060708 00 43 0102030405060708 aabb"
run decode $SHORT
grep -q '^  signal:    127 (unknown: no throughput advice)$' "$OUT" ||
	fail "signal 127 not reported unknown: $(cat "$OUT")"
grep -q '^QUIC packet: from byte 15, short header (first byte 0x43)$' "$OUT" ||
	fail "short header not found at byte 15: $(cat "$OUT")"
grep -q "^             length assumed from the SCONE packet's DCID$" "$OUT" ||
	fail "short header DCID length source not given"
run decode --json --dcid-len 4 $SHORT
expect_json "--dcid-len 4" \
	'(d["quic"]["dcid"], d["quic"]["dcid_len_source"], d["dcid_matches"], d["quic"]["version"])' \
	"('01020304', 'option', False, None)"

# Not SCONE-led: still decoded as QUIC; a short header's DCID is unknown.
run decode $INITIAL
grep -q '^SCONE packet: none' "$OUT" || fail "non-SCONE datagram: $(cat "$OUT")"
grep -q '^  scid:      4 bytes a1a2a3a4$' "$OUT" || fail "Initial SCID missing"
run decode 43 0102030405060708 aabb
grep -q 'length unknown in a short header (give --dcid-len N)' "$OUT" ||
	fail "unknown short DCID length not said: $(cat "$OUT")"
run decode --json 43 0102030405060708 aabb
expect_json "json short unknown" '(d["scone"], d["quic"]["dcid"], d["dcid_matches"])' \
	"(None, None, None)"

# A SCONE packet whose DCID differs from the next packet's is flagged.
run decode 946f7dc0fd 08 ffffffffffffffff 04 a1a2a3a4 $INITIAL
grep -q '^connection IDs: SCONE dcid DIFFERS, scid matches$' "$OUT" ||
	fail "DCID mismatch not flagged: $(cat "$OUT")"

# Data errors: exit 1, one line on stderr, nothing on stdout.
run decode 946f7dc0f
expect_error "odd hex" 1 "odd number of hex digits \\(9\\)"
run decode 946f7dzz
expect_error "bad hex character" 1 "invalid hex character 'z' at position 7"
run decode "$(printf '94\001')"
expect_error "control character" 1 "invalid hex character 0x01"
run decode 946f7dc0fd 08 010203
expect_error "truncated SCONE DCID" 1 "SCONE packet"
run decode 946f7dc0fd 00 04 a1
expect_error "truncated SCONE SCID" 1 "SCONE packet"
run decode $SCONE40 c3 000000
expect_error "truncated QUIC header after SCONE" 1 "QUIC header at byte 19"
run decode ""
expect_error "empty datagram" 1 "empty datagram"
run decode --dcid-len 30 43 0102
expect_error "short DCID past the end" 1 "QUIC header"

# Usage errors: exit 2.
run decode
expect_error "no hex" 2 "missing hex"
run decode --dcid-len 256 43
expect_error "--dcid-len 256" 2 "invalid --dcid-len"
run decode --dcid-len x 43
expect_error "--dcid-len x" 2 "invalid --dcid-len"
run decode --absolute 43
expect_error "--absolute without --pcap" 2 "only to --pcap"
run decode --bogus 43
expect_error "unknown option" 2 "unknown option '--bogus'"

finish
