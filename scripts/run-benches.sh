#!/bin/sh
# Runs every benchmark program (bench_*) in the given bin directory.
set -eu
bin=${1:-build/bin}
found=0
for b in "$bin"/bench_*; do
	[ -x "$b" ] || continue
	found=1
	echo "== $(basename "$b")"
	"$b"
done
[ "$found" = 1 ] || { echo "no benchmarks in $bin" >&2; exit 1; }
