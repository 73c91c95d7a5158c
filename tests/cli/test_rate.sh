# scone rate: exact lines, the draft's example table, JSON, bad arguments.
. "$(dirname "$0")/lib.sh"

run rate 0
expect_out "rate 0" "0 100000 bit/s (100 kbit/s)"
run rate 20
expect_out "rate 20" "20 1000000 bit/s (1 Mbit/s)"
run rate 40
expect_out "rate 40" "40 10000000 bit/s (10 Mbit/s)"
run rate 126
expect_out "rate 126" "126 199526231497 bit/s (199.5 Gbit/s)"
run rate 127
expect_out "rate 127" "127 unknown (no throughput advice)"
run rate 6
expect_out "rate 6" "6 199526 bit/s (199.5 kbit/s)"
run rate 26
expect_out "rate 26" "26 1995262 bit/s (1.995 Mbit/s)"

# Advice is a ceiling: the highest signal whose rate does not exceed --bps.
run rate --bps 1500000
expect_out "--bps 1500000" "23 1412538 bit/s (1.41 Mbit/s)"
run rate --bps 1412538
expect_out "--bps at a table rate" "23 1412538 bit/s (1.41 Mbit/s)"
run rate --bps 1412537
expect_out "--bps just below" "22 1258925 bit/s (1.26 Mbit/s)"
run rate --bps 99999
expect_out "--bps below the scale" "0 100000 bit/s (100 kbit/s)"
run rate --bps 1500k
expect_out "--bps 1500k" "23 1412538 bit/s (1.41 Mbit/s)"
run rate --bps 10M
expect_out "--bps 10M" "40 10000000 bit/s (10 Mbit/s)"
run rate --bps 1000G
expect_out "--bps above the scale" "126 199526231497 bit/s (199.5 Gbit/s)"

# The table: 128 lines in signal order, rates strictly increasing, and every
# example of the draft's table (ex-rates) printed the way the draft does.
run rate --table
[ "$rc" -eq 0 ] || fail "--table: exit $rc"
[ "$(wc -l <"$OUT")" -eq 128 ] || fail "--table: $(wc -l <"$OUT") lines"
awk 'NR <= 127 && ($1 != NR - 1 || $2 <= prev) { bad = 1 } { prev = $2 }
     END { exit bad }' "$OUT" || fail "--table: not in order"
[ "$(sed -n 128p "$OUT")" = "127 unknown (no throughput advice)" ] ||
	fail "--table: last line $(sed -n 128p "$OUT")"
while read -r sig text; do
	grep -Eq "^$sig [0-9]+ bit/s \\($text\\)\$" "$OUT" ||
		fail "--table: signal $sig is not '$text': $(grep "^$sig " "$OUT")"
done <<'TABLE'
0 100 kbit/s
1 112 kbit/s
2 126 kbit/s
3 141 kbit/s
20 1 Mbit/s
21 1.12 Mbit/s
40 10 Mbit/s
41 11.2 Mbit/s
60 100 Mbit/s
61 112 Mbit/s
80 1 Gbit/s
81 1.12 Gbit/s
100 10 Gbit/s
101 11.2 Gbit/s
120 100 Gbit/s
121 112 Gbit/s
126 199.5 Gbit/s
TABLE

# JSON
run rate --json 40
expect_json "rate --json 40" '(d["signal"], d["bps"], d["rate"])' \
	"(40, 10000000, '10 Mbit/s')"
run rate --json 127
expect_json "rate --json 127" '(d["signal"], d["bps"], d["rate"])' \
	"(127, None, 'unknown')"
run rate --json --bps 1500000
expect_json "rate --json --bps" '(d["requested_bps"], d["signal"], d["bps"])' \
	"(1500000, 23, 1412538)"
run rate --table --json
expect_json "rate --table --json" \
	'(len(d), [e["signal"] for e in d] == list(range(128)), d[21]["rate"])' \
	"(128, True, '1.12 Mbit/s')"

# Bad arguments: one line, exit 2.
run rate 128
expect_error "rate 128" 2 "invalid signal '128'"
run rate abc
expect_error "rate abc" 2 "invalid signal"
run rate ""
expect_error "rate ''" 2 "invalid signal"
run rate
expect_error "rate without argument" 2 "exactly one"
run rate 1 2
expect_error "rate 1 2" 2 "exactly one"
run rate 1 --table
expect_error "rate 1 --table" 2 "exactly one"
run rate --bps
expect_error "--bps without value" 2 "needs an argument"
run rate --bps fast
expect_error "--bps fast" 2 "invalid rate 'fast'"
run rate --bps -5
expect_error "--bps -5" 2 "invalid rate"
run rate --bps 99999999999999999999
expect_error "--bps overflow" 2 "invalid rate"
run rate --bps 20000000000G
expect_error "--bps suffix overflow" 2 "invalid rate"
run rate --fast 1
expect_error "unknown option" 2 "unknown option '--fast'"

finish
