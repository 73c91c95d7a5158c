"""One session of a scenario: the link, the element, the server and the
client started in their namespaces, the scenario's events played, and
what each of them measured gathered into session.json."""

import http.client
import json
import os
import re
import socket
import time

from . import topo
from .procs import Proc
from .topo import LabError

CONTROL_SOCK = "sconed.sock"
SERVER_PORT = 4433


class UnixHTTP(http.client.HTTPConnection):
    """sconed's control interface on a Unix socket: files are not
    namespaced, so the runner reaches the router's sconed directly."""

    def __init__(self, path, timeout=5):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.path)
        self.sock = s


def control(sock, method, target):
    c = UnixHTTP(sock)
    try:
        c.request(method, target)
        r = c.getresponse()
        return r.status, r.read().decode(errors="replace")
    finally:
        c.close()


def metrics(text):
    """Prometheus text to {name{labels}: value}."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, _, v = line.rpartition(" ")
            try:
                out[k] = float(v)
            except ValueError:
                pass
    return out


def sconed_config(sc):
    """sconed's config for the [element] keys, or the scenario's own."""
    el = sc.element
    if el["config"]:
        with open(el["config"]) as f:
            return f.read()
    lines = ["; written by scone-lab for scenario " + sc.name,
             "[global]", f"period = {int(sc.period)}s", "", "[plan lab]"]
    # The action always: a plan section with no key would not exist.
    lines.append(f"action = {el['action']}")
    if el["plan"] and el["advice"]:
        lines.append(f"downlink = {el['plan']}")
    if el["action"] != "none":
        lines.append(f"rate = {el['plan']}")
        if el["burst"]:
            lines.append(f"burst = {el['burst']}")
        if el["max_delay"] is not None:
            lines.append(f"max_delay = {el['max_delay'] * 1000:.0f}ms")
    sub = f"subscriber = {topo.SUBSCRIBERS} lab opt-in"
    if el["capacity"]:
        lines += ["", "[capacity cell]",
                  f"rate = {el['capacity']}"]
        sub += " capacity=cell"
    lines += ["", "[subscribers]", sub]
    if el["dpi_sni"]:
        lines += ["", "[dpi]"] + [f"sni = {n}" for n in el["dpi_sni"].split()]
    return "\n".join(lines) + "\n"


def link_args(sc, seed):
    a = ["--seed", str(seed)]
    for d in ("down", "up"):
        cap = sc.link[d]
        if cap.trace:
            a += [f"--{d}-trace", cap.trace]
        elif cap.rate:
            a += [f"--{d}-rate", str(cap.rate)]
        a += [f"--{d}-delay", f"{sc.link[d + '_delay'] * 1e6:.0f}us"]
        a += [f"--{d}-loss", repr(sc.link[d + "_loss"])]
        if sc.link[d + "_queue"]:
            a += [f"--{d}-queue", sc.link[d + "_queue"]]
    return a


def _interval(secs):
    return f"{secs * 1000:.0f}ms"


def client_result(out_path, err_path):
    """What scone-client reported: GETs, advice, its stats line."""
    res = {"gets": 0, "failed": 0, "bytes": 0, "transfer_s": 0.0,
           "advice": [], "stats": None}
    with open(err_path, errors="replace") as f:
        for line in f:
            m = re.search(r"GET \S+ #\d+: status (\d+), (\d+) bytes in "
                          r"([0-9.]+) s", line)
            if m:
                ok = m.group(1) == "200" and "RESET" not in line
                res["gets" if ok else "failed"] += 1
                res["bytes"] += int(m.group(2))
                res["transfer_s"] += float(m.group(3))
    with open(out_path, errors="replace") as f:
        for line in f:
            m = re.search(r"\[\s*([0-9.]+)\] advice path=\d+ dir=(\w+) "
                          r"signal=(\d+) rate=(\d+|unknown)", line)
            if m:
                res["advice"].append({
                    "t": float(m.group(1)), "dir": m.group(2),
                    "signal": int(m.group(3)),
                    "bps": None if m.group(4) == "unknown" else
                    int(m.group(4))})
            elif line.startswith("{"):
                try:
                    res["stats"] = json.loads(line)
                except ValueError:
                    pass
    res["goodput_bps"] = (res["bytes"] * 8 / res["transfer_s"]
                          if res["transfer_s"] > 0 else 0)
    return res


def key_values(path):
    """The last value of each key=value line (scone-link's report)."""
    out = {}
    with open(path, errors="replace") as f:
        for line in f:
            k, sep, v = line.strip().partition("=")
            if sep:
                try:
                    out[k] = float(v) if "." in v else int(v)
                except ValueError:
                    out[k] = v
    return out


def run_session(sc, net, progs, out, seed, log=print):
    """Runs one session; returns its results (also in out/session.json).
    Everything it starts is stopped before it returns or raises."""
    os.makedirs(out, exist_ok=True)
    procs = []

    def start(name, role, argv):
        p = Proc(name, net.exec_in(role) + argv,
                 os.path.join(out, name + ".out"),
                 os.path.join(out, name + ".log"))
        procs.append(p)
        return p

    res = {"scenario": sc.name, "seed": seed, "events": []}
    try:
        link = start("link", "l", [progs["scone-link"],
                                   "--client-if", "l0", "--network-if",
                                   "l1"] + link_args(sc, seed))
        link.wait_for("scone-link: serving", 10)
        el = None
        sock = os.path.join(out, CONTROL_SOCK)
        if sc.element["sconed"]:
            cfg = os.path.join(out, "sconed.ini")
            with open(cfg, "w") as f:
                f.write(sconed_config(sc))
            el = start("sconed", "r", [
                progs["sconed"], "--nfqueue",
                str(topo.NFQUEUE), "--control", sock, "--config", cfg,
                "--quiet"] + (["--legacy-dpi"] if sc.element["legacy_dpi"]
                              else []))
            el.wait_for(r"nfqueue: serving", 15)
            el.wait_for(r"control: listening", 15)
        srv_args = [progs["scone-server"], "--listen",
                    f"{topo.SERVER}:{SERVER_PORT}", "--state-dir",
                    os.path.join(out, "..", "server-state")]
        if not sc.server["scone"]:
            srv_args.append("--no-scone")
        if sc.server["scone_interval"]:
            srv_args += ["--scone-interval",
                         _interval(sc.server["scone_interval"])]
        server = start("server", "s", srv_args)
        server.wait_for("listening on port", 30)

        cl = sc.client
        cli_args = [progs["scone-client"],
                    f"https://{topo.SERVER}:{SERVER_PORT}{cl['path']}",
                    "--insecure", "--repeat", str(cl["repeat"]),
                    "--interval", _interval(cl["interval"]),
                    "--output", "/dev/null",
                    "--timeout", _interval(sc.duration)]
        if not cl["scone"]:
            cli_args.append("--no-scone")
        if cl["scone_interval"]:
            cli_args += ["--scone-interval", _interval(cl["scone_interval"])]
        if cl["sni"]:
            cli_args += ["--sni", cl["sni"]]
        cpu0 = el.cpu_seconds() if el else None
        t0 = time.monotonic()
        client = start("client", "c", cli_args)
        log(f"  seed {seed}: session running (client pid {client.p.pid})")
        pending = list(sc.events)
        while client.running() and time.monotonic() - t0 < sc.duration:
            now = time.monotonic() - t0
            while pending and pending[0].at <= now:
                e = pending.pop(0)
                st, body = control(sock, "POST",
                                   f"/capacity?name=cell&bps={e.bps}")
                res["events"].append({"at": round(now, 3), "what": e.what,
                                      "bps": e.bps, "status": st})
                log(f"  seed {seed}: {now:.1f} s: capacity {e.bps} bit/s "
                    f"-> HTTP {st}")
                if st != 200:
                    raise LabError(f"POST /capacity: {st} {body.strip()}")
            time.sleep(0.05)
        wall = time.monotonic() - t0
        timed_out = client.running()
        res["client"] = {"exit": client.stop(), "timed_out": timed_out,
                         "wall_s": round(wall, 3)}
        res["client"].update(client_result(client.out, client.err))
        if el:
            cpu1 = el.cpu_seconds()
            _, text = control(sock, "GET", "/metrics")
            res["element"] = {
                "cpu_s": (cpu1 - cpu0) if cpu0 is not None and
                cpu1 is not None else None,
                "metrics": {k: v for k, v in metrics(text).items()
                            if k.startswith("sconed_")}}
        server.stop()
        if el and el.stop() != 0:
            raise LabError(f"sconed exit status {el.rc}:\n{el.tail()}")
        if link.stop() != 0:
            raise LabError(f"scone-link exit status {link.rc}:\n"
                           f"{link.tail()}")
        res["link"] = key_values(link.out)
    finally:
        for p in procs:
            p.stop(5)
    with open(os.path.join(out, "session.json"), "w") as f:
        json.dump(res, f, indent=1, sort_keys=True)
    return res
