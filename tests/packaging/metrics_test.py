#!/usr/bin/env python3
"""sconed's /metrics against Prometheus' conventions, and the Grafana
dashboard against /metrics.

    metrics_test.py lint SCONED PROMLINT_SRC WORKDIR
    metrics_test.py dashboard SCONED DASHBOARD

Both start sconed --relay on loopback with two plans and a capacity, and
read /metrics from its control socket.

lint: `promtool check metrics` (Debian's prometheus package) when present,
else the same checks (the promlint package promtool calls) built from
Debian's Go sources into WORKDIR; exit 77 when neither is there. Also no
metric name with a unit Prometheus does not use as a base unit (bits, bps).

dashboard: the JSON parses; every metric an expression of a panel, an
annotation or a template variable names is one sconed serves; every panel
has a query and the dashboard's data source variable, ids are unique and
panels fit the 24-column grid. With promtool, every expression also parses
as PromQL (promtool check rules, Grafana's variables filled in).
Exit 0 or 1.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

GOPATH_DEB = "/usr/share/gocode"
PROMLINT_PKG = "github.com/prometheus/client_golang/prometheus/testutil/promlint"


def metrics(sconed, work):
    cfg = os.path.join(work, "sconed.ini")
    with open(cfg, "w") as f:
        f.write("[plan video-hd]\ndownlink = 5M\nuplink = 1M\n"
                "action = police\n[plan video-sd]\ndownlink = 1.5M\n"
                "action = shape\n[capacity cell-1]\nrate = 20M\n"
                "[subscribers]\nsubscriber = 10.1.0.0/16 video-hd opt-in "
                "capacity=cell-1\nsubscriber = 10.2.0.0/16 video-sd opt-in\n")
    ctl = os.path.join(work, "control.sock")
    log = open(os.path.join(work, "sconed.log"), "w")
    p = subprocess.Popen([sconed, "--config", cfg, "--relay", "127.0.0.1:0",
                          "--upstream", "127.0.0.1:9", "--control", ctl],
                         stdout=log, stderr=log)
    try:
        for _ in range(200):
            if os.path.exists(ctl):
                break
            time.sleep(0.05)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(ctl)
        s.sendall(b"GET /metrics HTTP/1.0\r\nHost: sconed\r\n\r\n")
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
        s.close()
    finally:
        p.terminate()
        p.wait(10)
    head, _, body = data.decode().partition("\r\n\r\n")
    if " 200 " not in head.splitlines()[0]:
        raise SystemExit(f"GET /metrics: {head}")
    return body


def names(text):
    return {line.split("{")[0].split()[0] for line in text.splitlines()
            if line and not line.startswith("#")}


def linter(src, work):
    """A command that reads metrics text on stdin, and what it is."""
    if shutil.which("promtool"):
        return ["promtool", "check", "metrics"], "promtool check metrics"
    if not shutil.which("go") or not os.path.isdir(
            os.path.join(GOPATH_DEB, "src", PROMLINT_PKG)):
        return None, None
    exe = os.path.join(work, "promlint")
    if not os.path.exists(exe):
        env = dict(os.environ, GO111MODULE="off", GOPATH=GOPATH_DEB,
                   GOFLAGS="", GOCACHE=os.path.join(work, "go-cache"))
        r = subprocess.run(["go", "build", "-o", exe, "."], cwd=src, env=env,
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"go build promlint: {r.stderr}")
    return [exe], "promlint (Debian's Go sources)"


def lint(sconed, src, work):
    os.makedirs(work, exist_ok=True)
    cmd, what = linter(src, work)
    if cmd is None:
        print("SKIP: neither promtool (package prometheus) nor go with "
              "golang-github-prometheus-client-golang-dev")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        text = metrics(sconed, tmp)
    r = subprocess.run(cmd, input=text, capture_output=True, text=True)
    errors = (r.stdout + r.stderr).splitlines() if r.returncode else []
    errors += [f"{n}: not a Prometheus base unit" for n in sorted(names(text))
               if re.search(r"_(bits?|bps|kbps|mbps)(_|$)", n)]
    for e in errors:
        print(f"FAIL: {e}")
    if not errors:
        print(f"ok: {what}: the {len(names(text))} metric families of "
              "sconed pass")
    return 1 if errors else 0


def exprs(dash):
    """(where, expression) of every query in the dashboard."""
    out = []
    for p in dash.get("panels", []):
        for t in p.get("targets", []):
            out.append((f"panel {p.get('title')!r}", t.get("expr", "")))
    for a in dash.get("annotations", {}).get("list", []):
        if "expr" in a:
            out.append((f"annotation {a.get('name')!r}", a["expr"]))
    for v in dash.get("templating", {}).get("list", []):
        q = v.get("query")
        if isinstance(q, dict):
            q = q.get("query")
        if v.get("type") == "query" and q:
            out.append((f"variable {v.get('name')!r}", q))
    return out


def fill(expr):
    """Grafana's variables as values PromQL parses."""
    expr = expr.replace("$__rate_interval", "5m").replace("$__interval", "1m")
    return re.sub(r"\$\{?\w+\}?", ".*", expr)


def dashboard(sconed, path):
    errors = []
    with open(path) as f:
        dash = json.load(f)
    with tempfile.TemporaryDirectory() as tmp:
        served = names(metrics(sconed, tmp))
    queries = exprs(dash)
    used = set()
    for where, e in queries:
        for m in re.findall(r"\bsconed_[a-z0-9_]+", e):
            used.add(m)
            if m not in served:
                errors.append(f"{where}: {m} is not in sconed's /metrics")
    ids = [p.get("id") for p in dash["panels"]]
    if len(ids) != len(set(ids)):
        errors.append(f"panel ids repeat: {ids}")
    for p in dash["panels"]:
        g = p.get("gridPos", {})
        if g.get("x", 0) + g.get("w", 0) > 24:
            errors.append(f"panel {p.get('title')!r} is wider than the grid")
        if p.get("type") == "row":
            continue
        if not p.get("targets"):
            errors.append(f"panel {p.get('title')!r} has no query")
        if p.get("datasource", {}).get("uid") != "${datasource}":
            errors.append(f"panel {p.get('title')!r}: not the dashboard's "
                          "data source")
    if shutil.which("promtool"):
        rules = {"groups": [{"name": "dashboard", "rules": [
            {"record": f"dashboard:q{i}", "expr": fill(e)}
            for i, (_, e) in enumerate(queries)
            if not e.startswith("label_values")]}]}
        with tempfile.NamedTemporaryFile("w", suffix=".yml") as f:
            json.dump(rules, f)  # JSON is YAML
            f.flush()
            r = subprocess.run(["promtool", "check", "rules", f.name],
                               capture_output=True, text=True)
            if r.returncode:
                errors.append(f"PromQL: {r.stdout}{r.stderr}")
            else:
                print(f"ok: promtool: the {len(rules['groups'][0]['rules'])}"
                      " expressions parse as PromQL")
    for e in errors:
        print(f"FAIL: {e}")
    if not errors:
        print(f"ok: {len(dash['panels'])} panels, {len(queries)} queries; "
              f"the {len(used)} metrics they use are all served "
              f"({len(served)} served)")
    return 1 if errors else 0


def main():
    a = sys.argv[1:]
    if len(a) == 4 and a[0] == "lint":
        return lint(os.path.abspath(a[1]), a[2], a[3])
    if len(a) == 3 and a[0] == "dashboard":
        return dashboard(os.path.abspath(a[1]), a[2])
    raise SystemExit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
