#!/bin/bash
# scone-player through a real SCONE element: the client namespace behind a
# 20 Mbit/s access link (tc tbf on the router, toward the client), the
# router running sconed --nfqueue with a 1.5 Mbit/s plan (advice signal
# 23 = 1.41 Mbit/s), scone-server serving synthetic content (the ladder of
# `make content-fast`) in the server namespace. The radio is fast and the
# plan is what limits: exactly where advice matters, since nothing on the
# path slows a player down enough to show it the plan.
#
# Two players at once, 30 s of media each:
#  - with advice (the default): settles on 1050k, the highest rung under
#    the advice less the 10% margin less 128k of audio (media cap 1.27
#    Mbit/s), from its third segment on and never above it, does not stall
#    after startup, and keeps every 67 s within the advice;
#  - with --ignore-advice: as players without SCONE, it climbs above
#    1050k and its bytes over 67 s exceed the advice (an element enforcing
#    the plan would catch it once it has judged two periods).
# Each QoE record is printed.
#
# usage: netns_player_test.sh SCONED SCONE_SERVER SCONE_PLAYER
#                             SCONE_VIDEO_CONTENT SCT_HTTP SCONED_IPTABLES
# Needs root; exits 77 (skip) without.
set -u
SCONED=$1 SERVER=$2 PLAYER=$3 CONTENT=$4 HTTP=$5 IPT=$6
. "$(dirname "$0")/lib.sh"

e2e_can_netns || { echo "SKIP: $E2E_WHY"; exit 77; }
command -v tc >/dev/null || { echo "SKIP: tc not installed"; exit 77; }
E2E_TAG=sct-e2p-$$
E2E_WORK=$(mktemp -d)
w=$E2E_WORK
trap e2e_cleanup EXIT
trap 'exit 1' INT TERM

PLAN=1500000
ADVICE=1412538 # signal 23
MEDIA=30s
CAPPED_RUNG=4

"$CONTENT" synth "$w/content" --duration 40 --seed 1 >"$w/content.log" ||
	{ cat "$w/content.log" >&2; fail "content"; }

e2e_topo_up "$IPT" 9 || { echo "SKIP: cannot create network namespaces"; exit 77; }
# The radio: 20 Mbit/s toward the client.
ip netns exec "$E2E_R" tc qdisc add dev r0 root tbf rate 20mbit burst 64kb \
	latency 50ms || { echo "SKIP: tc tbf not available"; exit 77; }
ctl=127.0.0.1:9100

e2e_start_sconed "$w/sconed.log" ip netns exec "$E2E_R" "$SCONED" \
	--nfqueue 9 --advice $PLAN --control $ctl
e2e_start_server "$w/srv.out" "$w/srv.log" ip netns exec "$E2E_S" \
	"$SERVER" --listen "$E2E_S_ADDR:4433" --state-dir "$w/state" \
	--root "$w/content" --access-log
url="https://$E2E_S_ADDR:4433/manifest.mpd"

# play NAME ARGS...: a player in the background, its record in NAME.json.
play() {
	local name=$1
	shift
	e2e_bg "$w/$name.out" "$w/$name.err" timeout 90 ip netns exec "$E2E_C" \
		"$PLAYER" "$url" --insecure --duration $MEDIA --seed 7 \
		--json "$w/$name.json" "$@"
}
play scone
p_scone=$E2E_LAST
play ignore --ignore-advice
p_ignore=$E2E_LAST

for p in scone:$p_scone ignore:$p_ignore; do
	wait_gone "${p#*:}" 80
	rc=$?
	[ $rc = 0 ] || {
		cat "$w/${p%%:*}.out" "$w/${p%%:*}.err" >&2
		fail "${p%%:*} player: exit status $rc"
	}
done

# j NAME KEY: a number (or true/false/null) of a record.
j() {
	python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print("null" if v is None else str(v).lower())' "$w/$1.json" "$2"
}
# late_rungs NAME: the rungs of the video segments from the third on (the
# first is chosen on the initial estimate, before any sample; the buffer
# fills in seconds, so time would not tell them apart).
late_rungs() {
	awk '$2 == "video" && $4 == "rung" && substr($3, 2) + 0 >= 3 { print $5 }' \
		"$w/$1.out" | sort -un | tr '\n' ' '
}
command -v python3 >/dev/null || fail "python3 is needed to read the records"

for n in scone ignore; do
	echo "--- $n: $(grep -c ' video ' "$w/$n.out") video segments; QoE record:"
	cat "$w/$n.json"
done

# With advice.
[ "$(j scone error)" = null ] || fail "scone: error $(j scone error)"
adv=$(python3 -c 'import json,sys; print(" ".join(str(e["bps"]) for e in json.load(open(sys.argv[1]))["advice_timeline"]))' "$w/scone.json")
[ "$adv" = "$ADVICE" ] || fail "scone: advice timeline '$adv', want $ADVICE"
echo "ok: scone: advice $ADVICE bit/s (signal 23) reached the player"
[ "$(j scone top_rung)" = $CAPPED_RUNG ] ||
	fail "scone: top rung $(j scone top_rung), want $CAPPED_RUNG"
late=$(late_rungs scone)
[ "$late" = "$CAPPED_RUNG " ] || fail "scone: rungs from the third segment: $late"
echo "ok: scone: settled on rung $CAPPED_RUNG (1050k), never above"
[ "$(j scone stalls)" = 0 ] || fail "scone: $(j scone stalls) stalls"
[ "$(j scone missing)" = 0 ] || fail "scone: $(j scone missing) missing"
echo "ok: scone: no stall, nothing missing, startup $(j scone startup_delay_s) s"
r67=$(j scone max_rate_67s_bps)
[ "$r67" -le $ADVICE ] || fail "scone: $r67 bit/s over 67 s > advice"
echo "ok: scone: at most $r67 bit/s over any 67 s (advice $ADVICE)"

# Without.
[ "$(j ignore use_advice)" = false ] || fail "ignore: use_advice"
top=$(j ignore top_rung)
[ "$top" -gt $CAPPED_RUNG ] || fail "ignore: top rung $top, not above $CAPPED_RUNG"
echo "ok: ignore: climbed to rung $top (rungs from the third segment: $(late_rungs ignore))"
r67=$(j ignore max_rate_67s_bps)
[ "$r67" -gt $ADVICE ] || fail "ignore: $r67 bit/s over 67 s, not above the advice"
echo "ok: ignore: $r67 bit/s over 67 s, above the advice $ADVICE"

# Every request carried CMCD; the advice player's carried rtp.
grep -q ' rtp=1300' "$w/srv.out" || fail "server saw no rtp=1300"
echo "ok: server: CMCD rtp=1300 from the advice player"
rew=$(e2e_metric 'sconed_rewrites_total{plan="default"}' \
	ip netns exec "$E2E_R" "$HTTP" GET $ctl /metrics) || exit 1
[ "$rew" -ge 2 ] || fail "sconed_rewrites_total=$rew"
echo "ok: sconed rewrote $rew SCONE packets"
e2e_stop "$E2E_SERVER" 10 || fail "scone-server exit status $? after SIGTERM"
e2e_stop "$E2E_SCONED" 10 || fail "sconed exit status $? after SIGTERM"
FAIL_LOG=
echo PASS
