"""scone-lab's command line: run or check scenarios, clean up after runs
that were killed. Exit status: 0 done, 1 a session failed, 2 a usage or
scenario error, 77 the lab cannot run here (not root, a tool missing),
130 interrupted (after tearing everything down)."""

import argparse
import json
import os
import signal
import sys

from . import results as qoe
from . import scenario, topo
from .session import run_session
from .topo import LabError

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(HERE)
# From the source tree the programs are in build/bin. Installed (make
# install), HERE is PREFIX/share/scone/lab, the programs are in PREFIX/bin
# and PREFIX/sbin and the rules helper is PREFIX/libexec/scone.
IN_TREE = os.path.exists(os.path.join(REPO, "scripts", "sconed-iptables.sh"))
PREFIX = os.path.dirname(os.path.dirname(REPO))
PROGRAMS = ("scone-link", "sconed", "scone-server", "scone-client",
            "scone-player", "scone-video-content")


def find_programs(bindir):
    """name -> path of the programs a session runs: all in bindir when
    given, else the source tree's or the installation's."""
    if bindir:
        dirs = [os.path.abspath(bindir)]
    elif IN_TREE:
        dirs = [os.path.join(REPO, "build", "bin")]
    else:
        dirs = [os.path.join(PREFIX, "bin"), os.path.join(PREFIX, "sbin")]
    found = {}
    for prog in PROGRAMS:
        for d in dirs:
            path = os.path.join(d, prog)
            if os.access(path, os.X_OK):
                found[prog] = path
                break
    return found, dirs


class Interrupted(BaseException):
    """A signal asked the run to stop (BaseException: nothing swallows it
    on its way to the teardown)."""


def _on_signal(signum, frame):
    raise Interrupted(signal.Signals(signum).name)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _mbit(bps):
    return f"{bps / 1e6:.3f}" if bps is not None else "-"


def summary_line(r):
    c = r.get("client", {})
    sigs = sorted({(a["signal"], a["bps"]) for a in c.get("advice", [])
                   if a["dir"] == "downlink"})
    adv = ",".join(f"{s}={_mbit(b)}M" for s, b in sigs) or "none"
    link = r.get("link", {})
    el = r.get("element")
    cpu = (f"{el['cpu_s'] * 1000:.0f}" if el and el.get("cpu_s") is not None
           else "-")
    m = el["metrics"] if el else {}
    # Over every plan: a scenario's own config may name its plans.
    drops = sum(v for k, v in m.items() if k.startswith("sconed_drops_total"))
    delays = sum(v for k, v in m.items()
                 if k.startswith("sconed_delays_total"))
    enf = f"{drops:.0f}/{delays:.0f}" if el else "-"
    return (f"| {r['seed']} | {c.get('gets', 0)}/{c.get('failed', 0)} | "
            f"{c.get('bytes', 0) / 1e6:.2f} | {_mbit(c.get('goodput_bps'))} "
            f"| {adv} | {link.get('down_tx', '-')}/"
            f"{link.get('down_queue_drops', '-')}/{link.get('down_lost', '-')}"
            f" | {enf} | {cpu} |")


SUMMARY_HEAD = ("| seed | GETs ok/failed | MB | goodput Mbit/s | "
                "downlink advice (signal=rate) | link down sent/queue-drops/"
                "lost | sconed dropped/delayed | sconed CPU ms |\n"
                "|---|---|---|---|---|---|---|---|")


def describe(sc):
    def cap(c):
        return (f"trace {os.path.basename(c.trace)}" if c.trace else
                f"{_mbit(c.rate)} Mbit/s" if c.rate else "unlimited")
    el = sc.element
    lines = [f"scenario {sc.name}: {sc.description}".rstrip(": "),
             f"  link: down {cap(sc.link['down'])}, up {cap(sc.link['up'])}, "
             f"delay {sc.link['down_delay'] * 1e3:g}/"
             f"{sc.link['up_delay'] * 1e3:g} ms, loss "
             f"{sc.link['down_loss']:g}/{sc.link['up_loss']:g}, queue "
             f"{sc.link['down_queue'] or 'unbounded'}/"
             f"{sc.link['up_queue'] or 'unbounded'}"]
    if not el["sconed"]:
        lines.append("  element: none (the router only forwards)")
    elif el["config"]:
        lines.append(f"  element: sconed, config {el['config']}")
    else:
        lines.append(
            f"  element: sconed, plan {_mbit(el['plan'])} Mbit/s "
            f"({'advised' if el['advice'] else 'not advised'}), action "
            f"{el['action']}, "
            + (f"cell capacity {_mbit(el['capacity'])} Mbit/s"
               if el["capacity"] else "no cell capacity")
            + f", period {sc.period:g} s"
            + (" (shortened: not draft-conforming)"
               if sc.period < scenario.PERIOD_DRAFT else ""))
    cl = sc.client
    what = (("follows advice" if cl["follow_advice"] else
              "ignores advice") if cl["program"] == "scone-player" else
             f"GET {cl['path']} x{cl['repeat']}")
    lines.append(f"  client: {cl['program']} "
                 f"{'SCONE' if cl['scone'] else 'no SCONE'}, {what}; seeds "
                 f"{' '.join(map(str, sc.seeds))}; at most "
                 f"{sc.duration:g} s each")
    for e in sc.events:
        lines.append(f"  at {e.at:g} s: capacity {_mbit(e.bps)} Mbit/s")
    return "\n".join(lines)


def load(path):
    with open(path, errors="replace") as f:
        return scenario.parse(f.read(), path)


def _override(sc, a):
    """The command line's --seeds, --duration and --period."""
    try:
        if a.seeds:
            sc.seeds = scenario.seeds(a.seeds)
        if a.duration:
            sc.duration = scenario.duration(a.duration)
        if a.period:
            sc.period = scenario.duration(a.period)
    except ValueError as e:
        raise scenario.ScenarioError(f"{sc.path}: {e}") from None
    if not scenario.PERIOD_LAB_MIN <= sc.period <= 3600 or \
            sc.period != int(sc.period):
        raise scenario.ScenarioError(f"--period: whole seconds from 1 s to "
                                     "3600 s")
    for e in sc.events:
        if e.at >= sc.duration:
            raise scenario.ScenarioError(
                f"{sc.path}:{e.line}: the event comes after the session's "
                f"duration ({sc.duration:g} s)")


def cmd_run(a):
    scs = [load(p) for p in a.scenario]
    for sc in scs:
        _override(sc, a)
    why = topo.can_run()
    if why:
        print(f"scone-lab: SKIP: {why}", file=sys.stderr)
        return 77
    progs, dirs = find_programs(a.bin)
    need = set(PROGRAMS[:3])
    for sc in scs:
        need |= ({"scone-player", "scone-video-content"}
                 if sc.client["program"] == "scone-player" else
                 {"scone-client"})
    for prog in sorted(need):
        if prog not in progs:
            print(f"scone-lab: {prog} missing in {', '.join(dirs)}"
                  + (" (run make)" if IN_TREE and not a.bin else ""),
                  file=sys.stderr)
            return 2
    iptables = (os.path.join(REPO, "scripts", "sconed-iptables.sh")
                if IN_TREE else
                os.path.join(PREFIX, "libexec", "scone", "sconed-iptables"))
    out_dir = os.path.abspath(a.out or (
        os.path.join(REPO, "build", "lab") if IN_TREE
        else "scone-lab-results"))
    status, table, plots = 0, [], []
    for sig in STOP_SIGNALS:
        signal.signal(sig, _on_signal)
    try:
        for sc in scs:
            st, results, png = run_one(sc, a, progs, iptables, out_dir)
            status = max(status, st)
            if results and sc.client["program"] == "scone-player":
                table.append((sc.name, results))
                if png:
                    plots.append(png)
            if st == 130:
                break
    finally:
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_DFL)
    if table:
        md = qoe.write_tables(out_dir, table)
        print("\nQoE, median (min-max) over seeds:\n" + md)
        print(f"table: {os.path.join(out_dir, 'qoe.md')} and "
              f"{os.path.join(out_dir, 'qoe.csv')}")
        for p in plots:
            print(f"plot: {p}")
    return status


def run_one(sc, a, progs, iptables, out_dir):
    """One scenario's sessions: (status, results, plot path)."""
    out = os.path.join(out_dir, sc.name)
    os.makedirs(out, exist_ok=True)
    print(describe(sc), flush=True)
    if sc.period < scenario.PERIOD_DRAFT:
        print(f"  NOTE: sconed's monitoring period is shortened to "
              f"{sc.period:g} s for this run (the draft's is 67 s): not "
              "draft-conforming", flush=True)
    net = topo.Topology()
    results, status = [], 0
    try:
        print(f"  namespaces {net.tag}-{{c,l,r,s}}; results in {out}",
              flush=True)
        net.up(iptables, sc.element["sconed"])
        for seed in sc.seeds:
            r = run_session(sc, net, progs,
                            os.path.join(out, f"seed-{seed}"), seed,
                            log=lambda s: print(s, flush=True))
            results.append(r)
            if r["client"]["exit"] != 0 or r["client"]["timed_out"]:
                status = 1
    except Interrupted as e:
        print(f"scone-lab: {e}: tearing down", file=sys.stderr)
        status = 130
    except (LabError, OSError) as e:
        print(f"scone-lab: {e}", file=sys.stderr)
        status = 1
    finally:
        # A second signal must not cut the teardown short; one that came
        # meanwhile is dropped after it (the run is ending anyway).
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        net.down()
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        for sig in STOP_SIGNALS:
            signal.signal(sig, _on_signal)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)
    png = None
    if results and sc.client["program"] == "scone-player":
        print(qoe.header())
        print(qoe.row(sc.name, results))
        try:
            png = qoe.plot(sc, results[0], out, sc.element["plan"])
        except (RuntimeError, OSError) as e:
            print(f"scone-lab: plot: {e}", file=sys.stderr)
    elif results:
        print(SUMMARY_HEAD)
        for r in results:
            print(summary_line(r))
    return status, results, png


def cmd_check(a):
    for p in a.scenario:
        print(describe(load(p)))
    return 0


def cmd_cleanup(everything):
    why = topo.can_run()
    if why:
        print(f"scone-lab: SKIP: {why}", file=sys.stderr)
        return 77
    names = topo.leftovers(everything)
    topo.remove(names)
    print(f"scone-lab: removed {len(names)} namespace(s)"
          + (": " + " ".join(names) if names else ""))
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(
        prog="scone-lab",
        description="The QoE lab: client -- emulated access link -- "
        "sconed -- server in network namespaces (docs/lab.md).")
    p.add_argument("--cleanup", action="store_true",
                   help="remove what runs that died left behind "
                   "(namespaces and their processes), then exit")
    p.add_argument("--all", action="store_true",
                   help="with --cleanup: every lab namespace, live runs' "
                   "too")
    sub = p.add_subparsers(dest="cmd")
    r = sub.add_parser("run", help="run a scenario's sessions (root)")
    r.add_argument("scenario", nargs="+")
    r.add_argument("--bin",
                   help="where the programs are (default: build/bin in "
                   "the source tree, else the installed ones)")
    r.add_argument("--out",
                   help="results go to OUT/<scenario>/ (default: build/lab "
                   "in the source tree, else ./scone-lab-results)")
    r.add_argument("--seeds", help="instead of the scenario's: 1,2,3")
    r.add_argument("--duration", help="instead of the scenario's: 30s")
    r.add_argument("--period",
                   help="sconed's monitoring period instead of the "
                   "scenario's; below 67 s it is a lab's shortened period, "
                   "not draft-conforming (said in the output): 10s")
    c = sub.add_parser("check", help="parse scenarios, print what they do")
    c.add_argument("scenario", nargs="+")
    a = p.parse_args(argv)
    try:
        if a.cleanup:
            return cmd_cleanup(a.all)
        if a.cmd == "run":
            return cmd_run(a)
        if a.cmd == "check":
            return cmd_check(a)
    except (scenario.ScenarioError, OSError) as e:
        print(f"scone-lab: {e}", file=sys.stderr)
        return 2
    p.print_usage(sys.stderr)
    return 2
