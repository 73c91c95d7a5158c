#!/usr/bin/env python3
"""The control endpoint under hostile clients, on a relay on loopback (no
privileges): a bearer token from --control-token-file is required (401
without it or with a wrong one; a token file everyone can read is
refused); slow clients (slowloris: a byte now and then) can neither hold
the slots nor outlive a request's deadline (408), so a good request is
answered at once while they try; a body gets 413, oversized headers 431,
and the endpoint stays up throughout.

usage: control_guard_test.py SCONED
"""
import os
import socket
import subprocess
import sys
import tempfile
import time

SCONED = sys.argv[1]
TOKEN = "s3cret-token-for-the-test"


def fail(msg, log=None):
    print("FAIL:", msg, file=sys.stderr)
    if log and os.path.exists(log):
        print(open(log).read()[-3000:], file=sys.stderr)
    sys.exit(1)


def request(port, raw, timeout=3.0):
    """Sends raw bytes, returns (status, whole reply) or (None, b'')."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(raw)
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
            if b"\r\n\r\n" in data and b"Content-Length" not in data:
                break
    except (socket.timeout, ConnectionResetError):
        pass
    finally:
        s.close()
    if not data.startswith(b"HTTP/1."):
        return None, data
    return int(data.split(b" ", 2)[1]), data


def get(port, path="/metrics", token=TOKEN, method="GET", extra=b""):
    auth = b"Authorization: Bearer " + token.encode() + b"\r\n" if token else b""
    raw = (method.encode() + b" " + path.encode() + b" HTTP/1.1\r\n"
           b"Host: x\r\nConnection: close\r\n" + auth + extra + b"\r\n")
    return request(port, raw)


def wait_listening(log, proc, secs=10):
    end = time.time() + secs
    while time.time() < end:
        if os.path.exists(log) and "control: listening" in open(log).read():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


def main():
    work = tempfile.mkdtemp()
    base = 30000 + (os.getpid() % 3000) * 10
    ctl = base + 2
    tok = os.path.join(work, "token")
    with open(tok, "w") as f:
        f.write(TOKEN + "\n")
    args = [SCONED, "--advice", "2M", "--relay", "127.0.0.1:%d" % base,
            "--upstream", "127.0.0.3:%d" % (base + 1),
            "--control", "127.0.0.1:%d" % ctl, "--control-token-file", tok]

    # A token file everyone may read guards nothing: refused.
    os.chmod(tok, 0o644)
    r = subprocess.run(args, stderr=subprocess.PIPE, timeout=10, text=True)
    if r.returncode == 0 or "readable by everyone" not in r.stderr:
        fail("world-readable token file accepted: %r" % r.stderr)
    print("ok: a token file readable by everyone is refused")
    os.chmod(tok, 0o600)

    log = os.path.join(work, "sconed.log")
    with open(log, "w") as lf:
        proc = subprocess.Popen(args, stderr=lf)
    try:
        if not wait_listening(log, proc):
            fail("sconed did not start", log)

        # 1. The token.
        st, reply = get(ctl, token=None)
        if st != 401 or b"WWW-Authenticate: Bearer" not in reply:
            fail("no token: %r" % reply[:200])
        st, _ = get(ctl, token="wrong")
        if st != 401:
            fail("wrong token: %s" % st)
        st, _ = get(ctl, token=TOKEN[:-1])
        if st != 401:
            fail("token prefix: %s" % st)
        st, _ = get(ctl, "/capacity?name=cell1&bps=100k", token=None,
                    method="POST")
        if st != 401:
            fail("POST /capacity without a token: %s" % st)
        st, reply = get(ctl)
        if st != 200 or b"sconed_packets_total" not in reply:
            fail("right token: %s" % st)
        if TOKEN.encode() in open(log, "rb").read():
            fail("the token was logged", log)
        print("ok: 401 without a token, with a wrong one or a prefix; "
              "200 with it; never logged")

        # 2. Bodies and oversized headers.
        st, _ = get(ctl, "/reload", method="POST",
                    extra=b"Content-Length: 1000000\r\n")
        if st != 413:
            fail("a 1 MB body announced: %s" % st)
        st, _ = get(ctl, extra=b"X-Big: " + b"a" * 100000 + b"\r\n")
        if st != 431:
            fail("100 kB header: %s" % st)
        print("ok: a body gets 413, a 100 kB header 431")

        # 3. Slowloris: 40 connections each sending a byte every 0.5 s.
        t0 = time.time()
        slow = []
        for _ in range(40):
            s = socket.create_connection(("127.0.0.1", ctl), timeout=10)
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            slow.append(s)
        for _ in range(3):
            time.sleep(0.5)
            for s in slow:
                try:
                    s.send(b"X")
                except OSError:
                    pass
        t = time.time()
        st, _ = get(ctl)
        if st != 200:
            fail("a good request among 40 slow clients: %s" % st, log)
        print("ok: a good request among 40 slow clients answered in "
              "%.0f ms" % ((time.time() - t) * 1000))
        # Keep dribbling: every slow one is ended with 408 within the
        # deadline (5 s) and a sweep, or pushed out by newer ones.
        got408 = ended = 0
        deadline = t0 + 9
        live = list(slow)
        while live and time.time() < deadline:
            time.sleep(0.5)
            for s in list(live):
                try:
                    s.send(b"X")
                    s.setblocking(False)
                    data = s.recv(4096)
                    s.setblocking(True)
                except BlockingIOError:
                    s.setblocking(True)
                    continue
                except OSError:
                    data = b""
                ended += 1
                got408 += data.startswith(b"HTTP/1.1 408")
                live.remove(s)
                s.close()
        if live:
            fail("%d slow clients still connected after %.1f s" %
                 (len(live), time.time() - t0), log)
        if got408 < 16:
            fail("only %d of 40 slow clients got 408" % got408)
        print("ok: all 40 slow clients ended within %.1f s, %d with 408" %
              (time.time() - t0, got408))
        st, _ = get(ctl)
        if st != 200:
            fail("after the slow clients: %s" % st, log)
        if proc.poll() is not None:
            fail("sconed exited", log)
        print("PASS")
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()


main()
