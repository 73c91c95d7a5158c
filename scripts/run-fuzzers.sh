#!/bin/sh
# Fuzzes every libFuzzer target (fuzz_*) in the given bin directory for the
# given number of seconds each, starting from its seed corpus. New inputs go
# to a scratch corpus, not into the repository.
set -eu
bin=$1
secs=$2
root=$(cd "$(dirname "$0")/.." && pwd)
for f in "$bin"/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	seeds="$root/fuzz/corpus/${name#fuzz_}"
	work="$bin/../fuzz-corpus/$name"
	mkdir -p "$work"
	echo "== $name for ${secs}s"
	"$f" -max_total_time="$secs" -print_final_stats=1 "$work" "$seeds"
done
