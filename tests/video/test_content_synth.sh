#!/bin/sh
# Synthetic content: scone-video-content synth writes a presentation in
# scone-content's shape and check parses it back with libscone_video and
# finds every segment at a size near its rung. Fast: sparse files.
set -eu
tool=$1
dir=$2
rm -rf "$dir"
"$tool" synth "$dir" --duration 20 --seed 7 >/dev/null
out=$("$tool" check "$dir")
echo "$out"
# 11 representations, 10 segments each (20 s of 2 s segments).
[ "$(echo "$out" | grep -c ' 10 ')" -ge 11 ] || { echo "FAIL: segment counts"; exit 1; }
# Every rung's mean rate within 10 % of its bitrate.
echo "$out" | awk 'NR > 2 { if ($NF < 90 || $NF > 110) { print "FAIL: rung " $1 " at " $NF "%"; bad = 1 } }
	END { exit bad }'
# A missing segment is found.
rm "$dir/chunk-stream3-00004.m4s"
if "$tool" check "$dir" >/dev/null 2>&1; then
	echo "FAIL: a missing segment went unnoticed"
	exit 1
fi
echo "PASS"
