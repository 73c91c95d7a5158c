#!/bin/bash
# `make demo`: today's throttling against SCONE, in about a minute.
#
#   scripts/lab-demo.sh [BIN_DIR [OUT_DIR]]   (default build/bin, build/demo)
#
# The QoE lab's short run (docs/lab.md): scone-player plays synthetic
# video through an emulated 20 Mbit/s cell (20 ms each way) and sconed
# with a 1.5 Mbit/s plan, once policed without SCONE (scenario 2), once
# advised with SCONE (scenario 3), 25 s each. sconed's monitoring period
# is shortened to 10 s so that it judges flows within the run (the
# draft's is 67 s; the output says so). Prints the QoE table and where the
# plots are.
#
# Needs root and network namespaces. Without them it says why and runs
# the unprivileged demo instead (scripts/demo.sh: a SCONE session over
# loopback through sconed --relay).
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
BIN=${1:-$repo/build/bin}
OUT=${2:-$repo/build/demo}
DURATION=${LAB_DEMO_DURATION:-25s}
PERIOD=${LAB_DEMO_PERIOD:-10s}

echo "== The QoE lab, short run: a 1.5 Mbit/s plan policed without SCONE," \
	"then advised with SCONE =="
"$repo/lab/scone-lab" run --bin "$BIN" --out "$OUT" --seeds 1 \
	--duration "$DURATION" --period "$PERIOD" \
	"$repo/lab/scenarios/s2-police-1.5M.ini" \
	"$repo/lab/scenarios/s3-scone-1.5M.ini"
rc=$?
if [ $rc = 77 ]; then
	echo "== The lab cannot run here (above); the unprivileged demo instead =="
	exec "$here/demo.sh" "$BIN" "$(dirname "$BIN")/tests/bin"
fi
[ $rc = 0 ] && cat <<EOF

Read the table: startup_s and stalls are the viewer's experience, MB the
volume, element_cpu_ms_per_MB what the carrier's element spent per
megabyte delivered. The plots show the bitrate the player chose, its
buffer and the throughput at the element against the plan.
The full lab (67 s period, 3 seeds, every scenario): make lab.
EOF
exit $rc
