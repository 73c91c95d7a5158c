"""scone-lab's command line: run or check scenarios, clean up after runs
that were killed. Exit status: 0 done, 1 a session failed, 2 a usage or
scenario error, 77 the lab cannot run here (not root, a tool missing),
130 interrupted (after tearing everything down)."""

import argparse
import json
import os
import signal
import sys
import time

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
            f"{el['action']}"
            + (" of DPI-found video flows (legacy_dpi), " if el["legacy_dpi"]
               else ", ")
            + (f"cell capacity {_mbit(el['capacity'])} Mbit/s"
               if el["capacity"] else "no cell capacity")
            + f", period {sc.period:g} s"
            + (" (shortened: not draft-conforming)"
               if sc.period < scenario.PERIOD_DRAFT else ""))
    cl = sc.client
    what = (("follows advice" if cl["follow_advice"] else
              "ignores advice") if cl["program"] == "scone-player" else
             f"GET {cl['path']} x{cl['repeat']}")
    if cl["sni"]:
        what += f", SNI {cl['sni']}"
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
    if a.jobs < 1:
        raise scenario.ScenarioError("--jobs: at least 1")
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
        if a.jobs > 1:
            done = run_parallel(scs, a.jobs, progs, iptables, out_dir)
        else:
            done = (run_one(sc, a, progs, iptables, out_dir) for sc in scs)
        for sc, (st, results, png) in zip(scs, done):
            status = max(status, st)
            if results and sc.client["program"] == "scone-player":
                table.append((sc.name, results))
                if png:
                    plots.append(png)
            if st == 130:
                break
    except Interrupted as e:
        print(f"scone-lab: {e}: stopping", file=sys.stderr)
        status = 130
    finally:
        if a.jobs > 1:
            done.close()
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
    return status, results, finish_scenario(sc, out, results)


def finish_scenario(sc, out, results):
    """results.json, the scenario's row or summary, its plot's path."""
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
    return png


def _session_child(sc, progs, iptables, out, seed):
    """In a child process (--jobs): one session in namespaces of its own
    (their names carry this process's pid, so they never collide), torn
    down whatever happens. Its result is out/session.json; the exit status
    says how it went (0, 1 failed, 130 interrupted)."""
    status = 0
    os.makedirs(out, exist_ok=True)
    log = open(os.path.join(out, "runner.log"), "w", buffering=1)
    net = topo.Topology()
    try:
        net.up(iptables, sc.element["sconed"])
        r = run_session(sc, net, progs, out, seed,
                        log=lambda s: print(s, file=log))
        if r["client"]["exit"] != 0 or r["client"]["timed_out"]:
            status = 1
    except Interrupted as e:
        print(f"scone-lab: {e}: tearing down", file=log)
        status = 130
    except (LabError, OSError) as e:
        print(f"scone-lab: {e}", file=log)
        status = 1
    finally:
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        net.down()
    return status


def run_parallel(scs, jobs, progs, iptables, out_dir):
    """Every (scenario, seed) session as a child process, at most jobs at
    a time, in the order given; yields each scenario's (status, results,
    plot) in order, as soon as its sessions are done. A stop signal stops
    the children (each tears its namespaces down) before it goes on."""
    queue = []
    for i, sc in enumerate(scs):
        out = os.path.join(out_dir, sc.name)
        os.makedirs(out, exist_ok=True)
        print(describe(sc), flush=True)
        if sc.period < scenario.PERIOD_DRAFT:
            print(f"  NOTE: sconed's monitoring period is shortened to "
                  f"{sc.period:g} s for this run (the draft's is 67 s): not "
                  "draft-conforming", flush=True)
        for seed in sc.seeds:
            # The session's folder is made fresh: an old session.json
            # must not stand in for one that failed to write its own.
            path = os.path.join(out, f"seed-{seed}", "session.json")
            if os.path.exists(path):
                os.unlink(path)
            queue.append((i, seed))
    print(f"  {len(queue)} sessions, {jobs} at a time; each one's runner "
          "lines in OUT/<scenario>/seed-N/runner.log", flush=True)
    running = {}  # pid -> (scenario index, seed, start)
    status = [0] * len(scs)
    left = [len(sc.seeds) for sc in scs]
    next_out = 0
    t0 = time.monotonic()
    try:
        while queue or running:
            while queue and len(running) < jobs:
                i, seed = queue.pop(0)
                sc = scs[i]
                out = os.path.join(out_dir, sc.name, f"seed-{seed}")
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    code = 1
                    try:
                        code = _session_child(sc, progs, iptables, out, seed)
                    finally:
                        os._exit(code)
                running[pid] = (i, seed, time.monotonic())
                print(f"  [{time.monotonic() - t0:6.0f} s] {sc.name} seed "
                      f"{seed}: started", flush=True)
            pid, st = os.wait()
            if pid not in running:
                continue
            i, seed, start = running.pop(pid)
            code = os.waitstatus_to_exitcode(st)
            code = 1 if code < 0 else code
            status[i] = max(status[i], code)
            left[i] -= 1
            print(f"  [{time.monotonic() - t0:6.0f} s] {scs[i].name} seed "
                  f"{seed}: {'done' if code == 0 else f'exit {code}'} in "
                  f"{time.monotonic() - start:.0f} s", flush=True)
            while next_out < len(scs) and left[next_out] == 0:
                yield _collect(scs[next_out], out_dir, status[next_out])
                next_out += 1
    except Interrupted as e:
        print(f"scone-lab: {e}: stopping {len(running)} session(s)",
              file=sys.stderr)
        _stop_children(running)
        # The scenarios that had finished are in results.json already.
        if next_out < len(scs):
            yield 130, [], None
    finally:
        # Also when the caller stops early (a signal while it tabled).
        _stop_children(running)


def _stop_children(running):
    """Each child tears its own namespaces down on SIGTERM."""
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        for pid in running:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for pid in list(running):
            os.waitpid(pid, 0)
            del running[pid]
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def _collect(sc, out_dir, status):
    """A scenario's sessions, read back from their session.json."""
    out = os.path.join(out_dir, sc.name)
    results = []
    for seed in sc.seeds:
        path = os.path.join(out, f"seed-{seed}", "session.json")
        try:
            with open(path) as f:
                results.append(json.load(f))
        except (OSError, ValueError):
            print(f"scone-lab: {sc.name} seed {seed}: no session record; "
                  f"see {os.path.dirname(path)}/runner.log", file=sys.stderr)
            status = max(status, 1)
    print(f"{sc.name}: {len(results)} session(s)", flush=True)
    return status, results, finish_scenario(sc, out, results)


def cmd_check(a):
    for p in a.scenario:
        print(describe(load(p)))
    return 0


def cmd_table(a):
    """The QoE table again from results folders (OUT/<scenario>/
    results.json), e.g. of runs made apart."""
    rows = []
    for d in a.dir:
        for name in sorted(os.listdir(d)):
            p = os.path.join(d, name, "results.json")
            if not os.path.isfile(p):
                continue
            with open(p) as f:
                res = json.load(f)
            if res and res[0].get("client", {}).get("program") == \
                    "scone-player":
                rows.append((name, res))
    if not rows:
        print(f"scone-lab: no player results in {' '.join(a.dir)}",
              file=sys.stderr)
        return 1
    out = a.out or a.dir[0]
    os.makedirs(out, exist_ok=True)
    print(qoe.write_tables(out, rows))
    print(f"table: {os.path.join(out, 'qoe.md')} and "
          f"{os.path.join(out, 'qoe.csv')}")
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
    r.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="run up to N sessions (of any scenario and seed) "
                   "at once, each in namespaces of its own (default 1)")
    c = sub.add_parser("check", help="parse scenarios, print what they do")
    c.add_argument("scenario", nargs="+")
    t = sub.add_parser("table", help="the QoE table again from results "
                       "folders")
    t.add_argument("dir", nargs="+")
    t.add_argument("--out", help="write qoe.md and qoe.csv here (default: "
                   "the first folder)")
    a = p.parse_args(argv)
    try:
        if a.cleanup:
            return cmd_cleanup(a.all)
        if a.cmd == "run":
            return cmd_run(a)
        if a.cmd == "check":
            return cmd_check(a)
        if a.cmd == "table":
            return cmd_table(a)
    except (scenario.ScenarioError, OSError) as e:
        print(f"scone-lab: {e}", file=sys.stderr)
        return 2
    p.print_usage(sys.stderr)
    return 2
