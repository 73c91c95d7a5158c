# Shared helpers for the scone CLI tests (POSIX sh).
# Each test script is run as: sh test_X.sh SCONE GEN_PCAP WORKDIR

SCONE=$1
GEN_PCAP=$2
WORK=$3
[ -x "$SCONE" ] && [ -n "$WORK" ] ||
	{ echo "usage: $0 SCONE GEN_PCAP WORKDIR" >&2; exit 2; }
rm -rf "$WORK"
mkdir -p "$WORK"
OUT=$WORK/out
ERR=$WORK/err
failures=0

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# run ARGS...: runs scone, leaving stdout in $OUT, stderr in $ERR, status in $rc
run() {
	"$SCONE" "$@" >"$OUT" 2>"$ERR"
	rc=$?
}

# expect_out DESC EXPECTED: whole stdout equals EXPECTED, exit 0, no stderr
expect_out() {
	if [ "$rc" -ne 0 ]; then
		fail "$1: exit $rc, stderr: $(cat "$ERR")"
	elif [ "$(cat "$OUT")" != "$2" ]; then
		fail "$1: got '$(cat "$OUT")', want '$2'"
	elif [ -s "$ERR" ]; then
		fail "$1: unexpected stderr: $(cat "$ERR")"
	fi
}

# expect_error DESC STATUS [PATTERN]: exit STATUS, empty stdout, exactly one
# line on stderr starting "scone" and matching PATTERN (grep -E)
expect_error() {
	if [ "$rc" -ne "$2" ]; then
		fail "$1: exit $rc, want $2 (stdout: $(cat "$OUT"))"
	elif [ -s "$OUT" ]; then
		fail "$1: stdout not empty: $(cat "$OUT")"
	elif [ "$(wc -l <"$ERR")" -ne 1 ]; then
		fail "$1: want one line on stderr, got: $(cat "$ERR")"
	elif ! grep -q '^scone' "$ERR"; then
		fail "$1: stderr does not name the program: $(cat "$ERR")"
	elif [ -n "${3:-}" ] && ! grep -Eq "$3" "$ERR"; then
		fail "$1: stderr '$(cat "$ERR")' does not match /$3/"
	fi
}

# json_get EXPR: evaluates a Python expression over the JSON document on
# stdout (bound to d) and prints it; fails the test if it does not parse.
json_get() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$OUT" "$1" 2>"$WORK/json_err" || {
		fail "JSON: $(tail -n 1 "$WORK/json_err") evaluating $1"
		echo "<invalid>"
	}
}

# expect_json DESC EXPR WANT
expect_json() {
	got=$(json_get "$2")
	[ "$got" = "$3" ] || fail "$1: $2 is '$got', want '$3'"
}

finish() {
	if [ "$failures" -ne 0 ]; then
		echo "$failures check(s) failed" >&2
		exit 1
	fi
	echo "all checks passed"
	exit 0
}
