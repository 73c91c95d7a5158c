#!/bin/sh
# The fast-path gate: counts, with callgrind, the instructions per packet of
# the engine's batch call (bench_engine --callgrind) and per datagram of
# libscone's parse+rewrite (bench_core --once), and fails when either is
# more than 3% above the figure recorded in bench/callgrind-baseline.txt.
# Instruction counts are deterministic, unlike timings: the same binary
# counts the same on any x86-64 machine, loaded or not.
#
#   check-callgrind.sh BENCH_ENGINE BENCH_CORE BASELINE COMPILER BUILD_TYPE SANITIZED
#   check-callgrind.sh --record ...same...    prints a new baseline
#
# COMPILER ("GNU 12.2.0") and BUILD_TYPE say what was built; the figures only
# hold for the compiler and build type they were recorded with, so any other
# build skips (exit 77), as do sanitizer builds (instrumentation multiplies
# the count) and machines without valgrind. A figure is raised only on
# purpose: run with --record, update the baseline file and say why in the
# commit.
set -eu
record=0
if [ "${1:-}" = --record ]; then
	record=1
	shift
fi
[ $# -eq 6 ] || { sed -n '9,10p' "$0" >&2; exit 2; }
engine=$1 core=$2 baseline=$3 compiler=$4 build=$5 sanitized=$6
K=100000
skip() { echo "callgrind gate: skipped: $*"; exit 77; }

field() { sed -n "s/^$1 //p" "$baseline" | head -n 1; }
want_compiler=$(field compiler)
want_build=$(field build)
[ "$sanitized" = 0 ] || skip "sanitizer build (the counts hold for $want_build only)"
if [ "$record" = 0 ]; then
	[ "$build" = "$want_build" ] ||
		skip "build type $build (the counts hold for $want_build)"
	[ "$compiler" = "$want_compiler" ] ||
		skip "compiler $compiler (the counts were recorded with $want_compiler)"
fi
command -v valgrind >/dev/null 2>&1 &&
	valgrind --tool=callgrind --version >/dev/null 2>&1 ||
	skip "valgrind not installed"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# Instructions callgrind collected for: valgrind options, then the program.
collected() {
	valgrind --tool=callgrind --callgrind-out-file="$tmp/out" "$@" \
		>"$tmp/stdout" 2>"$tmp/log" || { cat "$tmp/log" >&2; return 1; }
	sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$tmp/out"
}

ir_engine=$(collected --instr-atstart=no "$engine" --callgrind "$K")
ir_core=$(collected --collect-atstart=no \
	--toggle-collect='bench_hot_ipudp_rewrite*' "$core" --once "$K")
# bench_engine built without valgrind/callgrind.h never switches the
# counting on: a count of nothing is no measurement.
for ir in "$ir_engine" "$ir_core"; do
	[ -n "$ir" ] && [ "$ir" -ge "$K" ] || {
		echo "callgrind gate: no count (is valgrind/callgrind.h installed?)" >&2
		exit 1
	}
done

if [ "$record" = 1 ]; then
	echo "compiler $compiler"
	echo "build $build"
	awk -v e="$ir_engine" -v c="$ir_core" -v k="$K" 'BEGIN {
		printf "engine_batch %.2f\ncore_parse_rewrite %.2f\n", e / k, c / k }'
	exit 0
fi
awk -v e="$ir_engine" -v c="$ir_core" -v k="$K" \
	-v we="$(field engine_batch)" -v wc="$(field core_parse_rewrite)" 'BEGIN {
	bad = 0
	# Rounded as recorded.
	n[1] = "engine batch call"; u[1] = "packet"; want[1] = we
	n[2] = "core parse+rewrite"; u[2] = "datagram"; want[2] = wc
	got[1] = int(e * 100 / k + 0.5) / 100
	got[2] = int(c * 100 / k + 0.5) / 100
	for (i = 1; i <= 2; i++) {
		if (want[i] == "") {
			printf "callgrind gate: no recorded figure for the %s\n", n[i]
			bad = 1
			continue
		}
		verdict = got[i] > want[i] * 1.03 ? "FAIL: more than 3% above" : "ok"
		if (got[i] > want[i] * 1.03)
			bad = 1
		printf "callgrind gate: %s %.2f instructions/%s (recorded %.2f, %+.1f%%) %s\n",
			n[i], got[i], u[i], want[i], 100 * (got[i] / want[i] - 1), verdict
	}
	exit bad }'
