#!/bin/sh
# Runs every benchmark program (bench_*) in the given bin directory, then
# counts instructions per unit of work with callgrind, which unlike the
# timings is repeatable on a noisy machine.
#
# Optional contract for a bench_* program, to get an instruction count:
#   - its normal output has a line  "callgrind-unit: <unit> <function-glob>";
#   - `bench_x --once K` runs exactly K units of its hot path once, untimed,
#     with the same setup whatever K is.
# The script runs --once K and --once 0 under callgrind, counting only inside
# functions matching the glob (so per-pass bookkeeping stays out), and prints
# (Ir(K) - Ir(0)) / K. Benches without the line are only timed.
#
# Environment: BENCH_ARGS is passed to every timed run (e.g. --quick);
# BENCH_CALLGRIND_K (default 1000000) is K.
set -eu
bin=${1:-build/bin}
k=${BENCH_CALLGRIND_K:-1000000}
have_callgrind=0
command -v valgrind >/dev/null 2>&1 &&
	valgrind --tool=callgrind --version >/dev/null 2>&1 && have_callgrind=1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# Instructions counted by callgrind in functions matching $2, running "$1 $3".
callgrind_ir() {
	out="$tmp/callgrind.out"
	rm -f "$out"
	valgrind --tool=callgrind --callgrind-out-file="$out" \
		--collect-atstart=no --toggle-collect="$2" \
		"$1" --once "$3" >/dev/null 2>"$tmp/valgrind.log" || {
		cat "$tmp/valgrind.log" >&2
		return 1
	}
	sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$out"
}

found=0
status=0
for b in "$bin"/bench_*; do
	[ -x "$b" ] || continue
	found=1
	name=$(basename "$b")
	echo "== $name"
	# dash has no pipefail: the exit status travels through a file.
	# shellcheck disable=SC2086 # BENCH_ARGS is a list of options
	{
		rc=0
		"$b" ${BENCH_ARGS:-} || rc=$?
		echo "$rc" >"$tmp/rc"
	} | tee "$tmp/out"
	[ "$(cat "$tmp/rc")" = 0 ] || { echo "$name: failed" >&2; status=1; continue; }
	spec=$(sed -n 's/^callgrind-unit: //p' "$tmp/out" | head -n 1)
	[ -n "$spec" ] || continue
	unit=${spec%% *}
	glob=${spec#* }
	if [ "$have_callgrind" = 0 ]; then
		echo "$name: callgrind not installed, instructions/$unit skipped"
		continue
	fi
	irk=$(callgrind_ir "$b" "$glob" "$k") || { status=1; continue; }
	ir0=$(callgrind_ir "$b" "$glob" 0) || { status=1; continue; }
	awk -v n="$name" -v u="$unit" -v a="$irk" -v z="$ir0" -v k="$k" -v g="$glob" 'BEGIN {
		printf "%s: callgrind %s  instructions/%s %.1f  (K=%.0f, Ir %.0f - %.0f)\n",
			n, g, u, (a - z) / k, k, a, z }'
done
[ "$found" = 1 ] || { echo "no benchmarks in $bin" >&2; exit 1; }
exit $status
