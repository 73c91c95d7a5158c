#!/bin/sh
# Fuzzes every libFuzzer target (fuzz_*) in the given bin directory for the
# given number of seconds each, starting from its seed corpus. New inputs go
# to a scratch corpus and crash reproducers to a scratch artifacts directory,
# both next to the bin directory, never into the repository. Every target
# runs even when an earlier one crashes; the exit status says if any did.
set -eu
bin=$1
secs=$2
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(cd "$bin/.." && pwd)
status=0
found=0
for f in "$bin"/fuzz_*; do
	[ -x "$f" ] || continue
	found=1
	name=$(basename "$f")
	seeds="$root/fuzz/corpus/${name#fuzz_}"
	work="$out/fuzz-corpus/$name"
	artifacts="$out/fuzz-artifacts/$name/"
	mkdir -p "$work" "$artifacts"
	echo "== $name for ${secs}s"
	# fuzz/<target>.options: libFuzzer flags of that target (-max_len);
	opts=$(cat "$root/fuzz/${name#fuzz_}.options" 2>/dev/null || true)
	# fuzz/<target>.dict: its format's words.
	[ -f "$root/fuzz/${name#fuzz_}.dict" ] && opts="$opts -dict=$root/fuzz/${name#fuzz_}.dict"
	# shellcheck disable=SC2086
	if ! "$f" $opts -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="$artifacts" "$work" "$seeds"; then
		echo "$name: FAILED; reproducers in $artifacts" >&2
		echo "  (replay: $f <file>; keep one as fuzz/corpus/${name#fuzz_}/regress-<what>)" >&2
		status=1
	fi
done
[ "$found" = 1 ] || { echo "no fuzz targets in $bin" >&2; exit 1; }
exit $status
