#!/bin/sh
# Line coverage of the parsers by the committed corpora: builds every fuzz
# target's replay program with clang's source-based coverage
# (-fprofile-instr-generate -fcoverage-mapping) in BUILD, runs each over
# fuzz/corpus/<target>/, merges the profiles and prints, per parser source
# file, the lines llvm-cov counts and how many ran, as a Markdown table
# (docs/reliability.md holds the last one). The uncovered lines of one file:
#   llvm-cov show -instr-profile=BUILD/fuzz-cov/all.profdata \
#     $(for b in BUILD/tests/bin/replay_*; do echo -object $b; done) \
#     -show-line-counts-or-regions FILE | grep -E '^ +[0-9]+\| +0\|'
#
#   fuzz/coverage.sh [BUILD]      (make fuzz-coverage; default build-cov)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-cov}
cc=${CC:-clang}
prof=${LLVM_PROFDATA:-llvm-profdata}
cov=${LLVM_COV:-llvm-cov}
flags="-fprofile-instr-generate -fcoverage-mapping"
[ -f "$build/CMakeCache.txt" ] ||
	CC=$cc cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Debug \
		-DCMAKE_C_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" \
		>/dev/null
targets=$(cd "$root/fuzz/corpus" && ls)
cmake --build "$build" -j"${JOBS:-2}" \
	$(for t in $targets; do echo --target replay_$t; done) >/dev/null
out=$build/fuzz-cov
rm -rf "$out" && mkdir -p "$out"
objs=
for t in $targets; do
	# llvm-cov takes the first program bare, the others after -object.
	[ -n "$objs" ] && objs="$objs -object"
	LLVM_PROFILE_FILE="$out/$t.profraw" \
		"$build/tests/bin/replay_$t" "$root/fuzz/corpus/$t" >/dev/null 2>&1 ||
		{ echo "replay_$t failed on its corpus" >&2; exit 1; }
	objs="$objs $build/tests/bin/replay_$t"
done
"$prof" merge -sparse -o "$out/all.profdata" "$out"/*.profraw
# The parsers of outside bytes (and what they feed), by the targets that
# reach them.
files="lib/packet.c lib/indication.c lib/quic_hdr.c lib/tp.c lib/varint.c
lib/ipudp.c lib/csum.c lib/link.c element/config_parse.c element/config.c
element/units.c element/lpm.c element/gtpu.c element/engine.c
element/engine_subs.c element/flow_table.c element/sub_table.c
policy/layout.c policy/snapshot.c legacy/legacy.c app/cmcd.c app/cmsd.c
app/sfv.c video/mpd.c video/numbers.c video/template.c video/url.c
quic/respond.c quic/range.c quic/scone_rx.c lab/link_trace.c
apps/scone-bridge/route.c apps/scone-bridge/fields.c"
echo "| file | lines | run | line coverage |"
echo "|---|---|---|---|"
# shellcheck disable=SC2086
"$cov" export -summary-only -instr-profile="$out/all.profdata" $objs \
	$(for f in $files; do echo "$root/$f"; done) |
	python3 -c '
import json, sys
root = sys.argv[1] + "/"
rows = {}
for d in json.load(sys.stdin)["data"]:
    for f in d["files"]:
        rows[f["filename"].replace(root, "")] = f["summary"]["lines"]
for name in sys.argv[2:]:
    s = rows.get(name)
    if s:
        print("| `%s` | %d | %d | %.1f%% |" % (name, s["count"], s["covered"], s["percent"]))
    else:
        print("| `%s` | - | - | not linked by any target |" % name)
' "$root" $files
