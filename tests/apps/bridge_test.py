#!/usr/bin/env python3
"""scone-bridge against real programs on loopback, no browser:
scone-server (synthetic DASH content) behind sconed --relay with a plan
and a capacity (advice 2.82 Mbit/s, signal 29), the bridge in front.

    bridge_test.py SCONE_BRIDGE SCONE_SERVER SCONED SCONE_VIDEO_CONTENT
                   SCT_HTTP

Checks that:
  - the MPD (default upstream), a segment (/o/HOST:PORT/ prefix), a byte
    range, HEAD, a CORS preflight and an absolute-form proxy request come
    back byte for byte with the origin's status and fields;
  - every forwarded response carries CMSD-Dynamic whose last member is
    "scone-bridge";mb=<advice less 10 %, kbit/s> and
    Access-Control-Expose-Headers naming it;
  - /scone/netinfo and /scone/stats report that advice, /scone/events
    sends the view at once and again when POST /capacity lowers the
    advice (within 3 s), after which CMSD mb is the lower one;
    /scone/scone-netinfo.js is a module any page may import (CORS);
  - all of it went over one QUIC connection (the server counts one);
  - bad input gets a clear 4xx/5xx and the bridge lives on: unknown and
    malformed origins, no origin, an origin where nothing listens (502)
    or nothing answers (504), an unresolvable name, oversized head (431)
    and target (414), garbage, CONNECT, POST, a slow client holding a
    connection open while others are served;
  - a non-loopback --listen is refused without --allow-remote, a bad
    option exits 2; SIGTERM stops the bridge with status 0.
"""
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

BRIDGE, SERVER, SCONED, CONTENT, HTTP = sys.argv[1:6]
MARGIN = 10
procs = []
failed = False


def fail(msg):
    print(f"FAIL: {msg}", flush=True)
    for p in procs:
        if p.poll() is None:
            p.kill()
    for name in ("srv.log", "sconed.log", "bridge.log", "bridge2.log",
                 "bridge.out"):
        path = os.path.join(work, name)
        if os.path.exists(path):
            print(f"--- {name}\n" + open(path, errors="replace").read()[-3000:])
    sys.exit(1)


def ok(msg):
    print(f"ok: {msg}", flush=True)


def start(name, args, ready, out=None):
    log = open(os.path.join(work, name), "w")
    p = subprocess.Popen(args, stdout=out or subprocess.DEVNULL, stderr=log)
    procs.append(p)
    deadline = time.time() + 20
    while time.time() < deadline:
        text = open(os.path.join(work, name)).read()
        m = re.search(ready, text)
        if m:
            return p, m
        if p.poll() is not None:
            fail(f"{name}: exited {p.returncode}")
        time.sleep(0.05)
    fail(f"{name}: not ready")


def request(port, method, target, headers=None, timeout=15):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.request(method, target, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, body


def raw(port, data, timeout=5):
    """Sends bytes, returns the status line's code (0: closed at once)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(data)
    got = b""
    try:
        while b"\r\n" not in got:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
    finally:
        s.close()
    m = re.match(rb"HTTP/1\.[01] (\d{3})", got)
    return int(m.group(1)) if m else 0


def mb_of(fields):
    v = fields.get("cmsd-dynamic", "")
    last = v.split(",")[-1].strip()
    m = re.fullmatch(r'"scone-bridge";mb=(\d+)', last)
    return int(m.group(1)) if m else None


def signal_bps(n):
    return int(100000 * 10 ** (n / 20))


def netinfo(port, query=""):
    st, f, body = request(port, "GET", "/scone/netinfo" + query)
    if st != 200 or f.get("content-type") != "application/json":
        fail(f"/scone/netinfo: {st} {f}")
    return json.loads(body)


work = tempfile.mkdtemp(prefix="sct-bridge-")
try:
    subprocess.run([CONTENT, "synth", f"{work}/content", "--duration", "8",
                    "--seed", "5"], check=True, stdout=subprocess.DEVNULL)
    files = sorted(os.listdir(f"{work}/content"))
    seg = next(f for f in files if f.endswith(".m4s"))

    srv, m = start("srv.log", [SERVER, "--listen", "127.0.0.1:0", "--root",
                               f"{work}/content", "--state-dir",
                               f"{work}/state", "--scone-interval", "1s"],
                   r"listening on port (\d+)")
    srv_port = int(m.group(1))
    with open(f"{work}/sconed.ini", "w") as f:
        f.write("[plan p]\ndownlink = 3M\n\n[capacity cell]\nrate = 3M\n\n"
                "[subscribers]\nsubscriber = 127.0.0.0/8 p opt-in "
                "capacity=cell\n")
    ctl = f"{work}/control.sock"
    sconed, _ = start("sconed.log", [SCONED, "--relay", "127.0.0.1:0",
                                     "--upstream", f"127.0.0.1:{srv_port}",
                                     "--control", ctl, "--config",
                                     f"{work}/sconed.ini"],
                      r"control: listening")
    ss = subprocess.run(["ss", "-Hulpn"], capture_output=True, text=True).stdout
    relay_port = None
    for line in ss.splitlines():
        if f"pid={sconed.pid}," in line:
            relay_port = int(line.split()[3].rsplit(":", 1)[1])
    if relay_port is None:
        fail("cannot find the relay's port")
    origin = f"127.0.0.1:{relay_port}"
    bout = open(f"{work}/bridge.out", "w")
    bridge, m = start("bridge.log", [BRIDGE, "--listen", "127.0.0.1:0",
                                     "--upstream", f"https://{origin}",
                                     "--insecure", "--access-log",
                                     "--timeout", "5s"],
                      r"listening on port (\d+)", out=bout)
    port = int(m.group(1))
    ok(f"server {srv_port}, relay {relay_port}, bridge {port}")

    # Forwarding, byte for byte.
    want = open(f"{work}/content/manifest.mpd", "rb").read()
    st, f, body = request(port, "GET", "/manifest.mpd")
    if st != 200 or body != want or f.get("content-type") != "application/dash+xml":
        fail(f"MPD via the default upstream: {st} {len(body)} bytes {f}")
    ok(f"MPD via --upstream: 200, {len(body)} bytes as on disk")
    # The advice reaches the bridge within a few SCONE intervals.
    deadline = time.time() + 8
    while time.time() < deadline and netinfo(port)["throughputAdvice"] is None:
        request(port, "GET", "/manifest.mpd")
        time.sleep(0.2)
    ni = netinfo(port)
    adv = signal_bps(29)
    if ni["throughputAdvice"] is None or abs(ni["throughputAdvice"] - adv) > 1:
        fail(f"netinfo: {ni}, want advice {adv}")
    cap = ni["throughputAdvice"] * (100 - MARGIN) // 100 // 1000
    if ni["signal"] != 29 or ni["mediaCap"] != cap or ni["origin"] != origin \
            or ni["overheadMarginPct"] != MARGIN \
            or abs(ni["downlinkMax"] - adv / 1e6) > 1e-3:
        fail(f"netinfo: {ni}")
    ok(f"/scone/netinfo: signal 29, downlinkMax {ni['downlinkMax']}, "
       f"mediaCap {cap} kbit/s, origin {origin}")

    want = open(f"{work}/content/{seg}", "rb").read()
    st, f, body = request(port, "GET", f"/o/{origin}/{seg}",
                          {"Origin": "http://page.test"})
    if st != 200 or body != want:
        fail(f"segment via /o/: {st}, {len(body)} of {len(want)} bytes")
    if mb_of(f) != cap:
        fail(f"segment: CMSD-Dynamic {f.get('cmsd-dynamic')!r}, want mb={cap}")
    expose = [x.strip().lower()
              for x in f.get("access-control-expose-headers", "").split(",")]
    if "cmsd-dynamic" not in expose or "cmsd-static" not in expose or \
            f.get("access-control-allow-origin") != "*":
        fail(f"segment: CORS fields {f}")
    ok(f"segment via /o/{origin}/: 200, {len(body)} bytes; CMSD-Dynamic "
       f"{f['cmsd-dynamic']!r}; exposed")

    st, f, body = request(port, "GET", f"/o/{origin}/{seg}",
                          {"Range": "bytes=100-199"})
    if st != 206 or body != want[100:200] or mb_of(f) != cap:
        fail(f"range: {st} {len(body)} {f}")
    st, f, body = request(port, "HEAD", f"/{seg}")
    if st != 200 or body != b"" or f.get("content-length") != str(len(want)):
        fail(f"HEAD: {st} {f}")
    st, f, _ = request(port, "OPTIONS", f"/{seg}", {
        "Origin": "http://page.test", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "cmcd-request"})
    if st != 204 or "access-control-allow-headers" not in f:
        fail(f"preflight: {st} {f}")
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", f"http://{origin}/{seg}")
    r = c.getresponse()
    body = r.read()
    if r.status != 200 or body != want:
        fail(f"absolute form: {r.status} {len(body)}")
    ok("byte range 206, HEAD, CORS preflight 204, absolute-form proxy request")

    st, f, body = request(port, "GET", "/scone/stats")
    stats = json.loads(body)
    if st != 200 or stats["sconeNegotiated"] is not True or \
            abs(stats["throughputAdvice"] - adv) > 1:
        fail(f"/scone/stats: {st} {body!r}")
    st, f, body = request(port, "GET", "/scone/scone-netinfo.js")
    if st != 200 or not f.get("content-type", "").startswith("text/javascript") \
            or f.get("access-control-allow-origin") != "*" \
            or b"export default connection" not in body:
        fail(f"module: {st} {f}")
    ok("/scone/stats (throughputAdvice, sconeNegotiated), the ES module")

    # Events: the view at once, then on a change of advice.
    ev = socket.create_connection(("127.0.0.1", port), timeout=10)
    ev.sendall(b"GET /scone/events HTTP/1.1\r\nHost: x\r\n\r\n")
    buf = b""

    def next_view(deadline):
        global buf
        while time.time() < deadline:
            m = re.search(rb"event: change\ndata: ([^\n]*)\n\n", buf)
            if m:
                buf = buf[m.end():]
                return json.loads(m.group(1))
            ev.settimeout(max(0.05, deadline - time.time()))
            try:
                chunk = ev.recv(4096)
            except socket.timeout:
                continue
            if not chunk:
                break
            buf += chunk
        return None

    first = next_view(time.time() + 3)
    if first is None or first["signal"] != 29:
        fail(f"/scone/events: first view {first}")
    t0 = time.time()
    subprocess.run([HTTP, "POST", ctl, "/capacity?name=cell&bps=1M"],
                   check=True, stdout=subprocess.DEVNULL)
    low = None
    while low is None or low["signal"] == 29:
        low = next_view(t0 + 3.5)
        if low is None:
            fail("/scone/events: no event within 3.5 s of the capacity drop")
    took = time.time() - t0
    if low["signal"] != 20:
        fail(f"/scone/events: after the drop {low}")
    cap2 = signal_bps(20) * (100 - MARGIN) // 100 // 1000
    st, f, body = request(port, "GET", f"/{seg}")
    if mb_of(f) != low["mediaCap"] or abs(mb_of(f) - cap2) > 1:
        fail(f"after the drop: CMSD-Dynamic {f.get('cmsd-dynamic')!r}, "
             f"view {low}")
    ev.close()
    ok(f"/scone/events: view at once, signal 20 {took:.1f} s after POST "
       f"/capacity; CMSD mb now {mb_of(f)}")

    # Bad input, on this bridge and on one that forwards anywhere.
    cases = [
        ("/o/example.com:443/x", 403), ("/o/bad_host:1/x", 400),
        ("/o/127.0.0.1:99999/x", 400), ("/o/[zz]:1/x", 400),
        ("/scone/nope", 404), ("/scone/netinfo?origin=a..b", 400),
        ("/" + "a" * 9000, 414),
    ]
    for target, want_st in cases:
        st, _, body = request(port, "GET", target)
        if st != want_st or not body.startswith(b"scone-bridge: ") and want_st != 414:
            fail(f"{target[:40]}: {st} {body[:80]!r}, want {want_st}")
    st, _, body = request(port, "POST", "/x")
    if st != 405:
        fail(f"POST: {st}")
    codes = {
        "garbage": raw(port, b"garbage\r\n\r\n"),
        "CONNECT": raw(port, f"CONNECT {origin} HTTP/1.1\r\nHost: {origin}\r\n\r\n".encode()),
        "big head": raw(port, b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 70000 + b"\r\n\r\n"),
    }
    if codes["garbage"] not in (0, 400) or codes["CONNECT"] not in (0, 400, 405) \
            or codes["big head"] not in (0, 431):
        fail(f"malformed requests: {codes}")
    ok(f"refused: unknown origin 403, bad host/port 400, 414, POST 405, "
       f"{codes}")

    # A slow client holds its connection; others are served meanwhile.
    slow = socket.create_connection(("127.0.0.1", port))
    slow.sendall(b"GET /manifest.mpd HTTP/1.1\r\nHo")
    st, _, _ = request(port, "GET", "/scone/netinfo", timeout=3)
    if st != 200:
        fail("a slow client blocked the bridge")
    slow.close()

    # Nothing at the origin: nothing listens (ICMP, 502), nothing answers
    # (504 after --timeout), no such name (502).
    mute = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    mute.bind(("127.0.0.1", 0))
    closed = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    _, m = start("bridge2.log", [BRIDGE, "--listen", "127.0.0.1:0", "--allow",
                                 "*", "--insecure", "--timeout", "2s"],
                 r"listening on port (\d+)")
    port2 = int(m.group(1))
    st, _, body = request(port2, "GET", "/x")
    if st != 404 or b"no origin" not in body:
        fail(f"no origin: {st} {body!r}")
    t = time.time()
    st, _, body = request(port2, "GET", f"/o/127.0.0.1:{closed_port}/x")
    if st != 502 or time.time() - t > 2.5:
        fail(f"nothing listening: {st} {body!r}")
    t = time.time()
    st, _, body = request(port2, "GET", f"/o/127.0.0.1:{mute.getsockname()[1]}/x")
    took = time.time() - t
    if st != 504 or not 1.5 < took < 4:
        fail(f"nothing answering: {st} after {took:.1f} s {body!r}")
    st, _, body = request(port2, "GET", "/o/no-such-host.invalid/x")
    if st != 502:
        fail(f"unresolvable: {st} {body!r}")
    ok(f"origin failures: refused 502, silent 504 after {took:.1f} s, "
       f"unresolvable 502, no origin 404")

    r = subprocess.run([BRIDGE, "--listen", "0.0.0.0:0"], capture_output=True,
                       text=True, timeout=10)
    if r.returncode != 1 or "--allow-remote" not in r.stderr:
        fail(f"--listen 0.0.0.0: {r.returncode} {r.stderr}")
    r = subprocess.run([BRIDGE, "--margin", "95"], capture_output=True,
                       text=True, timeout=10)
    if r.returncode != 2:
        fail(f"--margin 95: {r.returncode}")
    ok("non-loopback --listen refused, bad option exit 2")

    if bridge.poll() is not None:
        fail("the bridge died")
    bridge.send_signal(signal.SIGTERM)
    if bridge.wait(10) != 0:
        fail(f"bridge exit {bridge.returncode}")
    srv.send_signal(signal.SIGTERM)
    srv.wait(10)
    summary = open(f"{work}/srv.log").read()
    if not re.search(r"scone-server: 1 connections,", summary):
        fail(f"server: {summary}")
    ok("one QUIC connection for every forwarded request; SIGTERM exit 0")
    print("PASS")
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    subprocess.run(["rm", "-rf", work])
