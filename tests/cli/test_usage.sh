# Top-level help, version and dispatch errors.
. "$(dirname "$0")/lib.sh"

for args in "--help" "-h" "rate --help" "decode --help"; do
	# shellcheck disable=SC2086
	run $args
	[ "$rc" -eq 0 ] || fail "$args: exit $rc"
	grep -q '^usage: scone' "$OUT" || fail "$args: no usage on stdout"
	[ -s "$ERR" ] && fail "$args: stderr $(cat "$ERR")"
done
run decode --help
grep -q -- '--pcap FILE' "$OUT" || fail "decode --help does not mention --pcap"
grep -q 'c2s' "$OUT" || fail "decode --help does not explain directions"
# --bps below the scale still answers 0, which is above RATE: say so.
run rate --help
grep -q 'or 0 for any RATE below' "$OUT" ||
	fail "rate --help does not explain rates below the scale"

run --version
[ "$rc" -eq 0 ] && grep -Eq '^scone [0-9]+\.[0-9]+\.[0-9]+$' "$OUT" ||
	fail "--version: exit $rc, '$(cat "$OUT")'"

run
expect_error "no command" 2 "missing command"
run frobnicate
expect_error "unknown command" 2 "unknown command 'frobnicate'"
run --frobnicate
expect_error "unknown option" 2 "unknown option '--frobnicate'"

finish
