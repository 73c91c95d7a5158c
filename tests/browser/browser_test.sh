#!/bin/bash
# An unmodified browser player honours SCONE advice: Debian's headless
# Chromium plays real H.264/AAC DASH with dash.js (npm, pinned) through
# scone-bridge and sconed with a plan, in network namespaces:
#
#   client ns: Chromium + scone-bridge (loopback) --- router ns: sconed
#   --nfqueue, plan 2.5M with capacity "cell", tc tbf 20 Mbit/s toward the
#   client --- server ns: scone-server --root (SCONE every 1 s)
#
# The ladder: video 300k, 800k, 1500k, 3000k and 64k audio, 2 s segments.
# Advice signal 27 (2.24 Mbit/s) allows 2014k less 64k audio: the 1500k
# rung. At 12 s of playback POST /capacity lowers the cell to 1M (signal
# 20, 1.0 Mbit/s: 900k less audio, the 800k rung). Twice, each with a new
# bridge (a fresh connection, whose advice has no memory of the drop):
#   cmsd     dash.js with streaming.cmsd.abr.applyMb reads the bridge's
#            CMSD-Dynamic mb;
#   netinfo  CMSD off; the page imports scone-netinfo.js and caps
#            dash.js's maxBitrate from downlinkMax less the margin.
# run.mjs judges each (bitrate within the advice less the margin after
# startup, a step down within two segments of the drop, no stall, video
# decoded) and writes the CSV, JSON and a screenshot per page; gnuplot
# draws bitrate against advice next to them. About 70 s once the content
# is made (encoded once into CACHE, about 15 s of CPU).
#
# usage: browser_test.sh SCONED SCONE_SERVER SCONE_BRIDGE SCT_HTTP
#                        SCONED_IPTABLES CACHE_DIR RESULTS_DIR
# Exits 77 (skip) without root, chromium, node, the npm modules
# (make deps) or ffmpeg.
set -u
SCONED=$1 SERVER=$2 BRIDGE=$3 HTTP=$4 IPT=$5 CACHE=$6 RESULTS=$7
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../e2e/lib.sh"

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
e2e_can_netns || { echo "SKIP: $E2E_WHY"; exit 77; }
[ -x "$CHROMIUM" ] || { echo "SKIP: no $CHROMIUM (make deps installs chromium)"; exit 77; }
command -v node >/dev/null || { echo "SKIP: node not installed (make deps)"; exit 77; }
[ -d "$here/node_modules/puppeteer-core" ] && [ -d "$here/node_modules/dashjs" ] ||
	{ echo "SKIP: tests/browser/node_modules missing (make deps runs npm ci)"; exit 77; }
command -v ffmpeg >/dev/null || { echo "SKIP: ffmpeg not installed"; exit 77; }
command -v tc >/dev/null || { echo "SKIP: tc not installed"; exit 77; }

E2E_TAG=sct-brw-$$
E2E_WORK=$(mktemp -d)
w=$E2E_WORK
trap e2e_cleanup EXIT
trap 'exit 1' INT TERM

PLAN=2500000 DROP=1000000 AUDIO_KBPS=64
DROP_AT=12 PLAY=24

# The content: real frames (Chromium decodes them), made once.
content=$CACHE/browser-content
stamp="ffmpeg 30s 300k 800k 1500k 3000k a64k 2s v1"
if [ "$(cat "$content/.stamp" 2>/dev/null)" != "$stamp" ]; then
	rm -rf "$content" "$content.tmp"
	mkdir -p "$content.tmp"
	t=$(date +%s)
	ffmpeg -hide_banner -loglevel error -nostdin -y -filter_complex \
		"testsrc2=s=960x540:r=24:d=30,split=4[s0][s1][s2][s3];[s0]scale=256:144,setsar=1[v0];[s1]scale=384:216,setsar=1[v1];[s2]scale=640:360,setsar=1[v2];[s3]scale=960:540,setsar=1[v3]" \
		-f lavfi -i "sine=frequency=440:beep_factor=4:sample_rate=48000:duration=30" \
		-map "[v0]" -c:v:0 libx264 -b:v:0 300k -maxrate:v:0 300k -bufsize:v:0 300k \
		-map "[v1]" -c:v:1 libx264 -b:v:1 800k -maxrate:v:1 800k -bufsize:v:1 800k \
		-map "[v2]" -c:v:2 libx264 -b:v:2 1500k -maxrate:v:2 1500k -bufsize:v:2 1500k \
		-map "[v3]" -c:v:3 libx264 -b:v:3 3000k -maxrate:v:3 3000k -bufsize:v:3 3000k \
		-map 0:a -c:a aac -b:a ${AUDIO_KBPS}k -ac 2 -preset ultrafast -profile:v main \
		-pix_fmt yuv420p -g 48 -keyint_min 48 -sc_threshold 0 -r 24 \
		-f dash -seg_duration 2 -use_template 1 -use_timeline 0 \
		-adaptation_sets "id=0,streams=v id=1,streams=a" \
		"$content.tmp/manifest.mpd" || fail "ffmpeg"
	# One init segment per rung: not bitstream-switchable.
	sed -i 's/ bitstreamSwitching="true"//' "$content.tmp/manifest.mpd"
	echo "$stamp" >"$content.tmp/.stamp"
	mv "$content.tmp" "$content"
	echo "ok: content encoded in $(($(date +%s) - t)) s"
fi

# The site: the content and the page beside it, served by the origin.
mkdir -p "$RESULTS" "$w/www"
cp -r "$content/." "$here/player.html" "$here/player.mjs" \
	"$here/node_modules/dashjs/dist/modern/umd/dash.all.min.js" "$w/www/" ||
	fail "cannot lay out the site"
e2e_topo_up "$IPT" 11 || { echo "SKIP: cannot create network namespaces"; exit 77; }
ip netns exec "$E2E_R" tc qdisc add dev r0 root tbf rate 20mbit burst 64kb \
	latency 50ms || { echo "SKIP: tc tbf not available"; exit 77; }
ctl=127.0.0.1:9100
cat >"$w/sconed.ini" <<INI
[plan video]
downlink = $PLAN

[capacity cell]
rate = $PLAN

[subscribers]
subscriber = 10.88.1.0/24 video opt-in capacity=cell
INI
e2e_start_sconed "$w/sconed.log" ip netns exec "$E2E_R" "$SCONED" \
	--nfqueue 11 --config "$w/sconed.ini" --control $ctl
e2e_start_server "$w/srv.out" "$w/srv.log" ip netns exec "$E2E_S" \
	"$SERVER" --listen "$E2E_S_ADDR:4433" --state-dir "$w/state" \
	--root "$w/www" --scone-interval 1s
capacity() {
	ip netns exec "$E2E_R" "$HTTP" POST $ctl "/capacity?name=cell&bps=$1" >/dev/null
}

rc=0
for mode in ${MODES:-cmsd netinfo}; do
	capacity $PLAN || fail "POST /capacity"
	e2e_bg "$w/bridge-$mode.out" "$w/bridge-$mode.log" ip netns exec "$E2E_C" \
		"$BRIDGE" --listen 127.0.0.1:8480 --upstream "https://$E2E_S_ADDR:4433" \
		--insecure --scone-interval 1s --access-log
	bridge=$E2E_LAST
	wait_for "$w/bridge-$mode.log" "listening on port" 10 $bridge ||
		fail "scone-bridge did not start"
	echo "--- $mode"
	if ! ip netns exec "$E2E_C" env HOME="$w" timeout 120 node "$here/run.mjs" \
		--mode $mode --page http://127.0.0.1:8480/player.html \
		--bridge http://127.0.0.1:8480 \
		--mpd "http://127.0.0.1:8480/manifest.mpd" --out "$RESULTS" \
		--drop-at $DROP_AT --play $PLAY --audio-kbps $AUDIO_KBPS \
		--chromium "$CHROMIUM" \
		--drop-cmd "ip netns exec $E2E_R $HTTP POST $ctl '/capacity?name=cell&bps=$DROP'"; then
		rc=1
		tail -n 20 "$w/bridge-$mode.out" "$w/bridge-$mode.log" >&2
	fi
	[ -s "$RESULTS/$mode.csv" ] || fail "$mode: no samples"
	e2e_stop $bridge 10 || fail "scone-bridge exit status $? after SIGTERM"
	if command -v gnuplot >/dev/null; then
		gnuplot -e "in='$RESULTS/$mode.csv'; out='$RESULTS/$mode-bitrate.png'; what='$mode'" \
			"$here/bitrate.gp" || fail "gnuplot"
		echo "ok: $RESULTS/$mode-bitrate.png, $RESULTS/$mode.png"
	fi
done
[ $rc = 0 ] || fail "a page failed its checks (see above)"
e2e_stop "$E2E_SERVER" 10 || fail "scone-server exit status $? after SIGTERM"
e2e_stop "$E2E_SCONED" 10 || fail "sconed exit status $? after SIGTERM"
FAIL_LOG=
echo PASS
