#!/bin/bash
# scone-lab end to end, as root: the smoke scenario (lab/scenarios/
# smoke.ini: scone-client through the emulated link and sconed) runs and
# its results say that advice arrived, followed the capacity change, and
# that goodput stayed under the link; then a run interrupted with SIGINT
# and a run killed outright leave nothing behind (the second once
# `scone-lab --cleanup` has run).
#
# usage: lab_runner_test.sh LAB_DIR BIN_DIR
# Exits 77 (skip) where scone-lab cannot run (not root, no tools).
set -u
LAB=$1 BIN=$2
. "$(dirname "$0")/../sconed/lib.sh"
work=$(mktemp -d)
runner=
trap '[ -n "$runner" ] && kill -9 $runner 2>/dev/null
	"$LAB/scone-lab" --cleanup >/dev/null 2>&1; rm -rf "$work"' EXIT
trap 'exit 1' INT TERM

# leftovers PID: how many lab namespaces the run PID has.
leftovers() {
	ip netns list | grep -c "^slab-$1-"
}
# inside PID: the processes running in the run's namespaces.
inside() {
	local r
	for r in c l r s; do ip netns pids "slab-$1-$r" 2>/dev/null; done
}
# alive PIDS...: how many of them still run (a zombie, which its parent
# or init has still to reap, does not).
alive() {
	local p n=0 st
	for p in "$@"; do
		st=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null) || continue
		[ -n "$st" ] && [ "$st" != Z ] && n=$((n + 1))
		[ -n "${LAB_DEBUG:-}" ] && echo "pid $p state $st $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" >&2
	done
	echo $n
}

"$LAB/scone-lab" run "$LAB/scenarios/smoke.ini" --bin "$BIN" \
	--out "$work/out" >"$work/smoke.txt" 2>&1 &
runner=$!
wait $runner
rc=$?
runner=
cat "$work/smoke.txt"
[ $rc = 77 ] && { echo "SKIP: $(grep SKIP "$work/smoke.txt")"; exit 77; }
[ $rc = 0 ] || fail "smoke run: exit status $rc"
python3 - "$work/out/smoke/results.json" <<'PY' || fail "smoke results"
import json, sys
r = json.load(open(sys.argv[1]))[0]
c, link, el = r["client"], r["link"], r["element"]
def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        sys.exit(1)
check(c["exit"] == 0 and c["gets"] == 2 and c["bytes"] == 4000000,
      f"client: {c['gets']} GETs, {c['bytes']} bytes")
sig = [a["signal"] for a in c["advice"] if a["dir"] == "downlink"]
check(26 in sig, f"advice: plan 2M in a 3M cell = signal 26 ({sig})")
check(sig[-1] == 20, "advice: after the cell dropped to 1M, signal 20")
check(r["events"] and r["events"][0]["status"] == 200,
      "POST /capacity answered 200")
check(c["goodput_bps"] < 4e6,
      f"goodput {c['goodput_bps']:.0f} bit/s under the 4 Mbit/s link")
check(c["goodput_bps"] > 2e6, "goodput above half the link")
check(link["down_tx"] > 2700 and link["down_oversize"] == 0,
      f"scone-link sent {link['down_tx']} frames down, none oversize")
rw = el["metrics"].get('sconed_rewrites_total{plan="lab"}', 0)
check(rw >= 1, f"sconed rewrote {rw:.0f} SCONE packets")
check(el["cpu_s"] is not None, f"sconed CPU {el['cpu_s']} s")
PY
[ "$(ls "$work/out/smoke/seed-1")" ] || fail "no session files"

# --jobs: two seeds side by side, each in namespaces of its own, both
# with the results a session alone has; their namespaces gone after.
"$LAB/scone-lab" run "$LAB/scenarios/smoke.ini" --bin "$BIN" --seeds 1,2 \
	--jobs 2 --out "$work/par" >"$work/par.txt" 2>&1 &
runner=$!
wait_for "$work/par.txt" "smoke seed 2: started" 30 $runner ||
	{ cat "$work/par.txt" >&2; fail "--jobs 2: second session not started"; }
sleep 2
kids=$(pgrep -P $runner)
[ "$(echo $kids | wc -w)" = 2 ] || fail "--jobs 2: sessions at once: $kids"
for k in $kids; do
	[ "$(leftovers $k)" = 4 ] || fail "--jobs 2: session $k's namespaces"
done
wait $runner
rc=$?
runner=
cat "$work/par.txt"
[ $rc = 0 ] || fail "--jobs 2: exit status $rc"
for k in $kids; do
	[ "$(leftovers $k)" = 0 ] || fail "--jobs 2: session $k's namespaces left"
done
python3 - "$work/par/smoke/results.json" <<'PY' || fail "--jobs 2 results"
import json, sys
rs = json.load(open(sys.argv[1]))
ok = [r["seed"] for r in rs if r["client"]["exit"] == 0 and
      r["client"]["bytes"] == 4000000 and r["events"][0]["status"] == 200 and
      r["element"]["cpu_s"] is not None and r["link"]["down_tx"] > 2700]
print(("ok: " if ok == [1, 2] else "FAIL: ") +
      f"--jobs 2: complete sessions for seeds {ok}")
sys.exit(ok != [1, 2])
PY
grep -q "^| 2 | 2/0 | 4.00 |" "$work/par.txt" || fail "--jobs 2: no table row"

# A run interrupted mid-session tears down and says so.
cat >"$work/long.ini" <<INI
[scenario]
duration = 60s
[link]
down = 2M
up = 2M
[client]
path = /bytes/50M
INI
long_run() {
	"$LAB/scone-lab" run "$work/long.ini" --bin "$BIN" \
		--out "$work/$1" >"$work/$1.txt" 2>&1 &
	runner=$!
	wait_for "$work/$1.txt" "session running" 30 $runner ||
		{ cat "$work/$1.txt" >&2; fail "$1: no session started"; }
	[ "$(leftovers $runner)" = 4 ] || fail "$1: namespaces not there"
	# scone-link, sconed and its queue keeper, scone-server, scone-client
	progs=$(inside $runner)
	[ "$(alive $progs)" = 5 ] || fail "$1: programs not running ($progs)"
}
long_run int
pid=$runner
kill -INT $runner
wait_gone $runner 30
rc=$?
runner=
[ $rc = 130 ] || { cat "$work/int.txt" >&2; fail "SIGINT: exit status $rc"; }
[ "$(leftovers $pid)" = 0 ] || fail "SIGINT: namespaces left"
[ "$(alive $progs)" = 0 ] || fail "SIGINT: programs left running"
echo "ok: SIGINT mid-session: exit 130, namespaces and programs gone"

# Killed outright, a run leaves everything; --cleanup takes it away.
long_run kill
pid=$runner
kill -9 $runner
wait $runner 2>/dev/null
runner=
[ "$(leftovers $pid)" = 4 ] || fail "SIGKILL: expected the namespaces left"
[ "$(alive $progs)" = 5 ] || fail "SIGKILL: expected the programs left"
"$LAB/scone-lab" --cleanup || fail "--cleanup failed"
[ "$(leftovers $pid)" = 0 ] || fail "--cleanup: namespaces left"
[ "$(alive $progs)" = 0 ] || fail "--cleanup: programs left running"
echo "ok: SIGKILL: --cleanup removed the namespaces and stopped the programs"
echo PASS
