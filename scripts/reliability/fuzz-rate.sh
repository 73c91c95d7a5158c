#!/bin/sh
# Executions per CPU second (user + system) of libFuzzer targets: each
# fuzzes RUNS inputs (default 50000) from fuzz/corpus/<target> with its
# fuzz/<target>.options and .dict and a fixed seed, new inputs going to a
# scratch directory. On a shared machine the wall-clock rate mostly says
# how loaded it is; the CPU rate less so, but it still varies by a third
# with the load (caches, the other hyperthread): compare two binaries in
# alternating runs, and take medians.
#
#   scripts/reliability/fuzz-rate.sh BIN [RUNS] TARGET...
#   (make fuzz builds BIN: build-fuzz/tests/bin)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$1
runs=50000
case ${2:-} in '' | *[!0-9]*) ;; *) runs=$2 && shift ;; esac
shift
for t in "$@"; do
	d=$(mktemp -d)
	opts=$(cat "$root/fuzz/$t.options" 2>/dev/null || true)
	[ -f "$root/fuzz/$t.dict" ] && opts="$opts -dict=$root/fuzz/$t.dict"
	# shellcheck disable=SC2086
	/usr/bin/time -f %U+%S -o "$d/cpu" "$bin/fuzz_$t" $opts -seed=1 \
		-runs="$runs" -print_final_stats=1 "$d" "$root/fuzz/corpus/$t" \
		>"$d/log" 2>&1 || { echo "$t: failed, see $d/log" >&2; exit 1; }
	e=$(sed -n 's/^stat::number_of_executed_units: *//p' "$d/log")
	c=$(tail -1 "$d/cpu" | awk -F+ '{ print $1 + $2 }')
	echo "$t: execs=$e cpu_s=$c exec/cpu_s=$(awk -v e="$e" -v c="$c" \
		'BEGIN { printf "%d", e / c }')"
	rm -rf "$d"
done
