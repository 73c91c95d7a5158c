#!/bin/sh
# The ffmpeg-made presentation (`make content`) parses with libscone_video,
# has every segment, and every rung's mean rate is within 25 % of its
# bitrate. Skipped when it has not been made: the encode is not part of
# `make test`.
set -eu
tool=$1
dir=$2
[ -f "$dir/manifest.mpd" ] || { echo "SKIP: no $dir/manifest.mpd (make content)"; exit 77; }
out=$("$tool" check "$dir")
echo "$out"
echo "$out" | awk 'NR > 2 { if ($NF < 75 || $NF > 125) { print "FAIL: rung " $1 " at " $NF "%"; bad = 1 } }
	END { exit bad }'
echo "PASS"
