"""One session of a scenario: the link, the element, the server and the
client started in their namespaces, the scenario's events played, and
what each of them measured gathered into session.json."""

import http.client
import json
import os
import re
import socket
import subprocess
import time

from . import scenario, topo
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
             "[global]", f"period = {int(sc.period)}s"]
    if sc.period < scenario.PERIOD_DRAFT:
        # Not draft-conforming: sconed takes it only when told it is a lab.
        lines.append("lab_short_period = yes")
    lines += ["", "[plan lab]"]
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


WINDOW = 67.0  # the draft's period: the per-window byte counts

_SEGMENT = re.compile(r"^t=([0-9.]+) (video|audio) #\d+ rung (\d+) (\d+)k "
                      r"([0-9.]+)kB in ([0-9.]+)s buf ([0-9.]+)s")


_CAP = re.compile(r" cap ([0-9.]+[kMG]?) ")


def _bps(v):
    """The player's short rates: 1.27M, 750k, 800."""
    mult = {"k": 1e3, "M": 1e6, "G": 1e9}.get(v[-1], 1)
    return int(float(v.rstrip("kMG")) * mult)


def make_content(progs, root, seconds):
    """Synthetic DASH content (the video tests' kind: the real ladder's
    segment sizes, sparse files) of at least seconds, made once per
    results folder."""
    d = os.path.join(root, f"content-{seconds}s")
    if not os.path.exists(os.path.join(d, "manifest.mpd")):
        # Sessions running side by side (--jobs) may make it at once: each
        # in its own folder, the first rename wins.
        tmp = f"{d}.tmp{os.getpid()}"
        subprocess.run(["rm", "-rf", tmp], check=True)
        r = subprocess.run([progs["scone-video-content"], "synth", tmp,
                            "--duration", str(seconds), "--seed", "1"],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise LabError(f"scone-video-content synth: {r.stderr.strip()}")
        try:
            os.rename(tmp, d)
        except OSError:
            if not os.path.exists(os.path.join(d, "manifest.mpd")):
                raise
            subprocess.run(["rm", "-rf", tmp], check=True)
    return d


def player_result(out_path, json_path):
    """The player's QoE record and its per-segment lines."""
    res = {"qoe": None, "segments": []}
    with open(out_path, errors="replace") as f:
        for line in f:
            m = _SEGMENT.match(line)
            if m:
                res["segments"].append({
                    "t": float(m.group(1)), "media": m.group(2),
                    "rung": int(m.group(3)), "kbps": int(m.group(4)),
                    "bytes": int(float(m.group(5)) * 1000),
                    "dl_s": float(m.group(6)), "buf_s": float(m.group(7))})
                cap = _CAP.search(line)
                if cap:
                    res["segments"][-1]["cap_bps"] = _bps(cap.group(1))
                # The player's state once the segment is in: whether the
                # buffer drains until the next one (the plot's stalls).
                st = line.split()[-1]
                if st in ("startup", "playing", "stalled", "ended"):
                    res["segments"][-1]["state"] = st
            elif line.startswith("{"):
                try:
                    res["qoe"] = json.loads(line)
                except ValueError:
                    pass
    if res["qoe"] is None and os.path.exists(json_path):
        with open(json_path) as f:
            res["qoe"] = json.load(f)
    return res


def _sum(m, name):
    return sum(v for k, v in m.items()
               if k == name or k.startswith(name + "{"))


def sample(sock, t):
    """What sconed's /metrics says now, summed over plans."""
    _, text = control(sock, "GET", "/metrics")
    m = metrics(text)
    return {"t": round(t, 3),
            "bytes": _sum(m, "sconed_bytes_total"),
            "drops": _sum(m, "sconed_drops_total"),
            "delays": _sum(m, "sconed_delays_total"),
            "nonconforming": _sum(m, "sconed_flows_nonconforming"),
            "transitions": _sum(m, "sconed_nonconforming_transitions_total"),
            "cpu_s": m.get("sconed_cpu_seconds_total")}


def windows(samples, length):
    """Bytes the element saw in each whole window [k*length, (k+1)*length)
    from the session's start (the last one partial), and the most in any
    window of that length sliding over the samples."""
    if not samples:
        return [], 0
    b0 = samples[0]["bytes"]
    fixed, k = [], 1
    prev = b0
    for s in samples:
        while s["t"] >= k * length:
            fixed.append(s["bytes"] - prev)
            prev = s["bytes"]
            k += 1
    fixed.append(samples[-1]["bytes"] - prev)
    most, j = 0, 0
    for i, s in enumerate(samples):
        while samples[j]["t"] < s["t"] - length:
            j += 1
        most = max(most, s["bytes"] - samples[j]["bytes"])
    return [int(x) for x in fixed], int(most)


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
        # A trace's clock starts with the link, seconds before the
        # session: the plot needs the lead to put the cell's capacity on
        # the session's time axis.
        link_up = time.monotonic()
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
                              else []) + sc.element["args"])
            el.wait_for(r"nfqueue: serving", 15)
            el.wait_for(r"control: listening", 15)
        # The server's certificate is made per session: servers side by
        # side (--jobs) would race to write one shared folder.
        srv_args = [progs["scone-server"], "--listen",
                    f"{topo.SERVER}:{SERVER_PORT}", "--state-dir",
                    os.path.join(out, "server-state")]
        player = sc.client["program"] == "scone-player"
        if player:
            srv_args += ["--root", make_content(
                progs, os.path.dirname(os.path.abspath(out)),
                int(sc.duration) + 10)]
        if not sc.server["scone"]:
            srv_args.append("--no-scone")
        every = sc.server["scone_interval"]
        if every is None and sc.period < scenario.PERIOD_DRAFT:
            # The element judges a flow only in periods after ones in
            # which it applied advice, i.e. rewrote a SCONE packet: the
            # server's default 10 s between them would leave a shortened
            # period without any.
            every = max(1.0, sc.period / 5)
        if every:
            srv_args += ["--scone-interval", _interval(every)]
        server = start("server", "s", srv_args)
        server.wait_for("listening on port", 30)

        cl = sc.client
        if player:
            cli_args = player_args(sc, progs, out, seed)
        else:
            cli_args = client_args(sc, progs)
        cpu0 = el.cpu_seconds() if el else None
        samples = []
        t0 = time.monotonic()
        res["link_lead_s"] = round(t0 - link_up, 3)
        client = start("client", "c", cli_args)
        log(f"  seed {seed}: session running (client pid {client.p.pid})")
        pending = list(sc.events)
        # The player plays duration of media: startup and stalls add to
        # that, so it gets some grace before it is stopped.
        limit = sc.duration + (60 if player else 0)
        next_sample = 0.0
        while client.running() and time.monotonic() - t0 < limit:
            now = time.monotonic() - t0
            if el and now >= next_sample:
                samples.append(sample(sock, now))
                next_sample += 1.0
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
        if el:
            samples.append(sample(sock, wall))
        timed_out = client.running()
        res["client"] = {"exit": client.stop(), "timed_out": timed_out,
                         "wall_s": round(wall, 3), "program": cl["program"]}
        if player:
            res["client"].update(player_result(
                client.out, os.path.join(out, "qoe.json")))
        else:
            res["client"].update(client_result(client.out, client.err))
        if el:
            cpu1 = el.cpu_seconds()
            _, text = control(sock, "GET", "/metrics")
            res["element"] = {
                "cpu_s": (cpu1 - cpu0) if cpu0 is not None and
                cpu1 is not None else None,
                "metrics": {k: v for k, v in metrics(text).items()
                            if k.startswith("sconed_")},
                "samples": samples}
            c0, c1 = samples[0]["cpu_s"], samples[-1]["cpu_s"]
            if c0 is not None and c1 is not None:
                # sconed's own getrusage over the session.
                res["element"]["cpu_s"] = c1 - c0
            res["element"]["windows_67s"], res["element"]["max_67s"] = \
                windows(samples, WINDOW)
            res["element"]["max_period"] = windows(samples, sc.period)[1]
            det = [s["t"] for s in samples
                   if s["nonconforming"] > 0 or s["transitions"] > 0]
            res["element"]["detected_s"] = det[0] if det else None
            if det and player:
                # What enforcement leaves the flow: the bytes of the
                # segments fetched after detection over the time from
                # detection to the last one's arrival.
                after = [g for g in res["client"]["segments"]
                         if g["t"] - g["dl_s"] > det[0]]
                span = (max(g["t"] for g in after) - det[0]) if after else 0
                res["element"]["after_detection_bps"] = (
                    sum(g["bytes"] for g in after) * 8 / span
                    if span > 2 else None)
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


def player_args(sc, progs, out, seed):
    cl = sc.client
    a = [progs["scone-player"],
         f"https://{topo.SERVER}:{SERVER_PORT}/manifest.mpd", "--insecure",
         "--seed", str(seed), "--duration", f"{sc.duration:g}s",
         "--json", os.path.join(out, "qoe.json")]
    if not cl["scone"]:
        a.append("--no-scone")
    elif not cl["follow_advice"]:
        a.append("--ignore-advice")
    if cl["max_buffer"]:
        a += ["--max-buffer", _interval(cl["max_buffer"])]
    if cl["budget_period"]:
        # The draft's 67 s unless the scenario says: a window much
        # shorter than the buffer makes the budget's burst-then-wait
        # pacing run the buffer dry (docs/lab.md).
        a += ["--budget-period", f"{cl['budget_period']:g}s"]
    if cl["sni"]:
        a += ["--sni", cl["sni"]]
    return a


def client_args(sc, progs):
    cl = sc.client
    a = [progs["scone-client"],
         f"https://{topo.SERVER}:{SERVER_PORT}{cl['path']}",
         "--insecure", "--repeat", str(cl["repeat"]),
         "--interval", _interval(cl["interval"]), "--output", "/dev/null",
         "--timeout", _interval(sc.duration)]
    if not cl["scone"]:
        a.append("--no-scone")
    if cl["scone_interval"]:
        a += ["--scone-interval", _interval(cl["scone_interval"])]
    if cl["sni"]:
        a += ["--sni", cl["sni"]]
    return a
