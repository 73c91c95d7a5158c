#!/bin/bash
# scone-player against real servers on 127.0.0.1 (no SCONE element: no
# advice). One case per run, so that ctest runs them side by side:
#   play          6 s of synthetic content: exit 0, a complete QoE record,
#                 CMCD on every request (the server's access log)
#   unreachable   nothing listens: exit 1 at once, "nothing answers"
#   mpd-404       no MPD at the URL: exit 1, the HTTP status named
#   mpd-hostile   malformed and hostile MPDs (not XML, an entity bomb,
#                 huge numbers, a missing bandwidth, an overlong template, a
#                 live MPD, 2 MB, empty, no video): exit 1 with the reason,
#                 never a crash
#   missing       404 segments: skipped and counted, exit 1; with
#                 --stop-on-missing the session ends at the first
#   stall-once    the first response stalls mid-segment: the player gives
#                 up on it after --request-timeout, resumes it with a byte
#                 range, and plays to the end (exit 0)
#   stall-always  every response stalls: the first segment to fail all its
#                 retries ends the session (exit 1) within seconds
#   server-gone   the server stops mid-session: exit 1, "connection lost"
#
# usage: player_test.sh CASE SCONE_SERVER SCONE_PLAYER SCONE_VIDEO_CONTENT
#                       QUIC_STALL_SERVER
set -u
CASE=$1 SERVER=$2 PLAYER=$3 CONTENT=$4 STALL=$5
. "$(dirname "$0")/../sconed/lib.sh"
setup_work
w=$work

"$CONTENT" synth "$w/content" --duration 8 --seed 3 >"$w/content.log" ||
	{ cat "$w/content.log" >&2; fail "content"; }

# serve LOG CMD...: a server in the background; sets $port.
serve() {
	local log=$1
	shift
	"$@" >"$w/access.log" 2>"$log" &
	pids+=($!)
	srv=$!
	wait_for "$log" "listening on port" 20 $srv || { cat "$log" >&2; fail "server did not start"; }
	port=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$log")
}
scone_server() {
	serve "$w/srv.log" "$SERVER" --listen 127.0.0.1:0 --root "$1" \
		--state-dir "$w/state" --access-log
}

# player NAME URL ARGS...: runs scone-player (bounded to 60 s); sets $rc
# and $secs; NAME.out, NAME.err, NAME.json hold what it wrote.
player() {
	local name=$1 url=$2 t0
	shift 2
	t0=$(date +%s%3N)
	rc=0
	timeout 60 "$PLAYER" "$url" --insecure --json "$w/$name.json" "$@" \
		>"$w/$name.out" 2>"$w/$name.err" || rc=$?
	secs=$((($(date +%s%3N) - t0) / 1000))
	[ $rc -lt 124 ] || { cat "$w/$name.err" >&2; fail "$name: exit status $rc (crash or hang)"; }
	# Under the sanitizers a finding also exits 1, the status some cases
	# expect: it must not pass for one.
	if grep -q 'Sanitizer\|runtime error' "$w/$name.err"; then
		cat "$w/$name.err" >&2
		fail "$name: sanitizer report"
	fi
}

# j NAME KEY: a value of the record (numbers; true/false/null; strings).
j() {
	python3 -c 'import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2]); print("null" if v is None else (str(v).lower() if isinstance(v, bool) else v))' "$w/$1.json" "$2"
}

# expect_fail NAME PATTERN: exit 1, PATTERN on stderr, a record with the
# error.
expect_fail() {
	[ "$rc" = 1 ] || { cat "$w/$1.out" "$w/$1.err" >&2; fail "$1: exit status $rc, want 1"; }
	grep -q "$2" "$w/$1.err" || { cat "$w/$1.err" >&2; fail "$1: no '$2' on stderr"; }
	[ "$(j "$1" error)" != null ] || fail "$1: the record has no error"
	echo "ok: $1: exit 1 after ${secs}s: $(cat "$w/$1.err")"
}

case $CASE in
play)
	scone_server "$w/content"
	player play "https://127.0.0.1:$port/manifest.mpd" --duration 6 --seed 9
	[ $rc = 0 ] || { cat "$w/play.out" "$w/play.err" >&2; fail "play: exit $rc"; }
	grep -q '^t=.* video #1 rung .* buf .* tput .* advice ' "$w/play.out" ||
		fail "play: no live line"
	[ "$(j play played_s)" = 6.0 ] || fail "play: played $(j play played_s) s"
	[ "$(j play stalls)" = 0 ] && [ "$(j play missing)" = 0 ] &&
		[ "$(j play error)" = null ] || fail "play: $(cat "$w/play.json")"
	tail -n 1 "$w/play.out" | cmp -s - "$w/play.json" ||
		fail "play: the last line of stdout is not the record"
	# Every request carried CMCD (ot, and the session id: one per line).
	n=$(grep -c ' GET ' "$w/access.log")
	[ "$n" -ge 8 ] || fail "play: $n requests"
	[ "$(grep -c ' ot=' "$w/access.log")" = "$n" ] ||
		{ cat "$w/access.log" >&2; fail "play: a request without CMCD"; }
	echo "ok: play: 6 s played in ${secs}s, $n requests all with CMCD"
	cat "$w/play.json"
	;;
unreachable)
	# A port that was just in use and is free now.
	scone_server "$w/content"
	kill -TERM $srv
	wait_gone $srv 10
	player unreachable "https://127.0.0.1:$port/manifest.mpd"
	expect_fail unreachable "nothing answers at 127.0.0.1:$port"
	[ $secs -le 3 ] || fail "unreachable: took ${secs}s"
	[ "$(j unreachable started)" = false ] || fail "unreachable: started"
	;;
mpd-404)
	scone_server "$w/content"
	player mpd404 "https://127.0.0.1:$port/nothing.mpd"
	expect_fail mpd404 "MPD: HTTP status 404"
	;;
mpd-hostile)
	mkdir "$w/bad"
	open='<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT8S"><Period><AdaptationSet mimeType="video/mp4">'
	close='</AdaptationSet></Period></MPD>'
	tpl='<SegmentTemplate timescale="1000" duration="2000" media="c-$Number$.m4s"/>'
	printf '%s' '<MPD><Period>' >"$w/bad/not-xml.mpd"
	printf '%s' '<?xml version="1.0"?><!DOCTYPE MPD [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><MPD mediaPresentationDuration="&c;"/>' >"$w/bad/bomb.mpd"
	printf '%s' "$open$tpl<Representation id=\"a\" bandwidth=\"99999999999999999999999\"/>$close" >"$w/bad/huge.mpd"
	printf '%s' "$open$tpl<Representation id=\"a\"/>$close" >"$w/bad/no-bandwidth.mpd"
	printf '%s' "$open<SegmentTemplate timescale=\"1000\" duration=\"2000\" media=\"$(head -c 400 /dev/zero | tr '\0' 'x')\$Number\$\"/><Representation id=\"a\" bandwidth=\"1000\"/>$close" >"$w/bad/long-template.mpd"
	printf '%s' '<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic"/>' >"$w/bad/live.mpd"
	{ printf '<?xml version="1.0"?><MPD>'; head -c 2100000 /dev/zero | tr '\0' ' '; printf '</MPD>'; } >"$w/bad/big.mpd"
	: >"$w/bad/empty.mpd"
	printf '%s' '<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT8S"><Period><AdaptationSet mimeType="audio/mp4"><SegmentTemplate timescale="1000" duration="2000" media="a-$Number$.m4s"/><Representation id="a" bandwidth="128000"/></AdaptationSet></Period></MPD>' >"$w/bad/no-video.mpd"
	scone_server "$w/bad"
	for f in not-xml bomb huge no-bandwidth long-template live big empty; do
		player "$f" "https://127.0.0.1:$port/$f.mpd"
		expect_fail "$f" "MPD refused: "
	done
	player no-video "https://127.0.0.1:$port/no-video.mpd"
	expect_fail no-video "cannot play: nothing to play"
	;;
missing)
	rm "$w/content/"chunk-stream*-00002.m4s
	scone_server "$w/content"
	player missing "https://127.0.0.1:$port/manifest.mpd"
	[ $rc = 1 ] || fail "missing: exit $rc"
	grep -q 'played with [0-9]* segments missing' "$w/missing.err" ||
		{ cat "$w/missing.err" >&2; fail "missing: no message"; }
	[ "$(j missing missing)" = 2 ] || fail "missing: $(j missing missing) missing, want 2 (video and audio #2)"
	[ "$(j missing played_s)" = 8.0 ] || fail "missing: played $(j missing played_s) s"
	grep -q 'SKIPPED' "$w/missing.out" || fail "missing: no SKIPPED line"
	echo "ok: missing: the two #2 segments skipped, all 8 s played, exit 1: $(cat "$w/missing.err")"
	player stop "https://127.0.0.1:$port/manifest.mpd" --stop-on-missing
	expect_fail stop "a segment is missing"
	;;
stall-once | stall-always)
	mode=${CASE#stall-}
	mkdir "$w/cert"
	serve "$w/stall.log" "$STALL" "$w/content" 50000 "$mode" "$w/cert"
	player stall "https://127.0.0.1:$port/manifest.mpd" --request-timeout 1s
	if [ "$mode" = once ]; then
		[ $rc = 0 ] || { cat "$w/stall.out" "$w/stall.err" >&2; fail "stall-once: exit $rc"; }
		[ "$(j stall timeouts)" = 1 ] && [ "$(j stall retries)" = 1 ] ||
			fail "stall-once: $(cat "$w/stall.json")"
		[ "$(j stall missing)" = 0 ] && [ "$(j stall played_s)" = 8.0 ] ||
			fail "stall-once: $(cat "$w/stall.json")"
		echo "ok: stall-once: one timeout, resumed, all 8 s played in ${secs}s"
	else
		expect_fail stall "a segment failed all its retries"
		[ "$(j stall timeouts)" = 4 ] || fail "stall-always: $(j stall timeouts) timeouts"
		[ $secs -le 20 ] || fail "stall-always: took ${secs}s"
	fi
	;;
server-gone)
	scone_server "$w/content"
	( sleep 2; kill -TERM $srv ) &
	pids+=($!)
	player gone "https://127.0.0.1:$port/manifest.mpd" --max-buffer 4s
	expect_fail gone "connection lost: closed by the server"
	;;
*)
	fail "unknown case $CASE"
	;;
esac
echo PASS
