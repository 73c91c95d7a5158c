#!/bin/sh
# A fuzzing campaign: every libFuzzer target (fuzz_*) in BIN for RUNS
# executions (default 10 million) or SECONDS each (default 3600),
# whichever comes first, at the lowest CPU priority, from the seed corpus
# plus a scratch corpus kept next to BIN; then, per target, the executions
# done, the rate (per second of wall clock and of CPU), crashes
# (reproducers kept), and the corpus minimized
# into fuzz-campaign/min/<target> (fuzz/README.md: keeping it).
#
#   scripts/reliability/fuzz-campaign.sh [BIN] [RUNS] [SECONDS] [TARGET...]
#   (make fuzz builds BIN: build-fuzz/tests/bin)
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$root/build-fuzz/tests/bin}
runs=${2:-10000000}
secs=${3:-3600}
shift 3 2>/dev/null || shift $#
out=$(cd "$bin/.." && pwd)/fuzz-campaign
mkdir -p "$out"
targets=${*:-$(cd "$bin" && ls fuzz_* | sed 's/^fuzz_//')}
status=0
for t in $targets; do
	f=$bin/fuzz_$t
	[ -x "$f" ] || { echo "no $f" >&2; status=1; continue; }
	work=$out/corpus/$t art=$out/artifacts/$t/ min=$out/min/$t
	mkdir -p "$work" "$art" "$min"
	# fuzz/<target>.options: libFuzzer flags of that target (-max_len);
	opts=$(cat "$root/fuzz/$t.options" 2>/dev/null || true)
	# fuzz/<target>.dict: its format's words.
	[ -f "$root/fuzz/$t.dict" ] && opts="$opts -dict=$root/fuzz/$t.dict"
	# shellcheck disable=SC2086
	# The CPU time too: on a shared machine the wall-clock rate says more
	# about the load than about the target.
	timer=
	[ -x /usr/bin/time ] && timer="/usr/bin/time -f %U+%S -o $out/$t.cpu"
	$timer nice -n 19 "$f" $opts -runs="$runs" -max_total_time="$secs" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$art" \
		"$work" "$root/fuzz/corpus/$t" >"$out/$t.log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t.log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$out/$t.log")
	cpu=$(tail -1 "$out/$t.cpu" 2>/dev/null | awk -F+ '{ print $1 + $2 }')
	cpurate=$([ -n "$cpu" ] && [ -n "$execs" ] &&
		awk -v e="$execs" -v c="$cpu" 'BEGIN { printf "%d", e / c }')
	crashes=$(ls "$art" | wc -l)
	rm -rf "$min" && mkdir -p "$min"
	# Without the options: a -max_len would cut the longer seeds.
	nice -n 19 "$f" -merge=1 "$min" "$root/fuzz/corpus/$t" "$work" \
		>/dev/null 2>&1
	echo "$t: execs=${execs:-?} exec/s=${rate:-?} cpu_s=${cpu:-?}" \
		"exec/cpu_s=${cpurate:-?} exit=$rc" \
		"crashes=$crashes minimized=$(ls "$min" | wc -l) files"
	[ "$rc" = 0 ] && [ "$crashes" = 0 ] || status=1
done
exit $status
