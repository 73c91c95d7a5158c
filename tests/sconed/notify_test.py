#!/usr/bin/env python3
"""sconed tells systemd (Type=notify) what it does, through the datagrams
sd_notify(3) sends to $NOTIFY_SOCKET, read here as systemd would:

  - relay (unprivileged): READY=1 only once the relay socket is bound (the
    port answers when READY arrives), RELOADING=1 then READY=1 with a
    STATUS on SIGHUP, for a good and for a bad configuration (which is kept),
    STOPPING=1 on SIGTERM, and exit 0;
  - a configuration that does not parse: no READY=1, exit 1;
  - with root, NFQUEUE in a network namespace of its own, run as the unit
    runs it: an unprivileged user, no new privileges, CAP_NET_ADMIN its
    only capability (ambient and bounding set). READY=1 then means the
    queue is bound with that capability alone; without it sconed must
    fail (exit 1, no READY=1).

    notify_test.py SCONED
Exit 0 or 1.
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time


class Notify:
    """A notify socket: the messages sd_notify sends to it."""

    def __init__(self, work):
        self.path = os.path.join(work, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o777)  # the unprivileged sconed sends too

    def next(self, secs=10):
        self.sock.settimeout(secs)
        try:
            return self.sock.recv(4096).decode()
        except socket.timeout:
            return None


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_bound(port):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind(("127.0.0.1", port))
            return False
        except OSError:
            return True


def start(cmd, notify, log):
    env = dict(os.environ, NOTIFY_SOCKET=notify.path)
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=log)


def expect(notify, want, errors, what):
    msg = notify.next()
    if msg is None or not msg.startswith(want):
        errors.append(f"{what}: got {msg!r}, want {want!r}")
        return None
    return msg


def relay(sconed, work, errors):
    notify = Notify(work)
    port, up = free_port(), free_port()
    cfg = os.path.join(work, "sconed.ini")
    with open(cfg, "w") as f:
        f.write("[plan p]\ndownlink = 2M\n[subscribers]\n"
                "subscriber = 127.0.0.0/8 p opt-in\n")
    log = open(os.path.join(work, "relay.log"), "w")
    p = start([sconed, "--config", cfg, "--relay", f"127.0.0.1:{port}",
               "--upstream", f"127.0.0.1:{up}"], notify, log)
    try:
        msg = expect(notify, "READY=1", errors, "relay start")
        if msg is not None and not port_bound(port):
            errors.append("relay: READY=1 before the socket was bound")
        p.send_signal(signal.SIGHUP)
        expect(notify, "RELOADING=1", errors, "reload")
        msg = expect(notify, "READY=1", errors, "reloaded")
        if msg is not None and "STATUS=reloaded" not in msg:
            errors.append(f"reload: status {msg!r}")
        with open(cfg, "a") as f:
            f.write("bogus = 1\n")
        p.send_signal(signal.SIGHUP)
        expect(notify, "RELOADING=1", errors, "bad reload")
        msg = expect(notify, "READY=1", errors, "bad reload kept the config")
        if msg is not None and "STATUS=reload failed: " + cfg not in msg:
            errors.append(f"bad reload: status {msg!r}")
        p.send_signal(signal.SIGTERM)
        expect(notify, "STOPPING=1", errors, "stop")
        rc = p.wait(10)
        if rc != 0:
            errors.append(f"relay: exit {rc} after SIGTERM")
    finally:
        if p.poll() is None:
            p.kill()
        notify.sock.close()
        os.unlink(notify.path)
    if not errors:
        print("ok: relay: READY=1 once bound; RELOADING=1, READY=1 with "
              "STATUS on SIGHUP (good and bad file); STOPPING=1; exit 0")

    # A file that does not parse: sconed exits before it is ready.
    notify = Notify(work)
    log = open(os.path.join(work, "bad.log"), "w")
    p = start([sconed, "--config", cfg, "--relay", f"127.0.0.1:{port}",
               "--upstream", f"127.0.0.1:{up}"], notify, log)
    rc = p.wait(10)
    msg = notify.next(0.2)
    if rc != 1 or msg is not None:
        errors.append(f"bad config: exit {rc}, notice {msg!r}")
    else:
        print("ok: a configuration that does not parse: exit 1, no READY=1")
    notify.sock.close()
    os.unlink(notify.path)


def nfqueue(sconed, work, errors):
    """As sconed.service runs it, in a network namespace of its own."""
    cfg = os.path.join(work, "empty.ini")
    with open(cfg, "w") as f:
        f.write("; no subscriber: every packet passes\n")
    os.chmod(work, 0o755)
    for caps, want in (("+net_admin", True), ("", False)):
        notify = Notify(work)
        log = open(os.path.join(work, f"nfq{caps}.log"), "w")
        setpriv = ["setpriv", "--reuid=65534", "--regid=65534",
                   "--clear-groups", "--no-new-privs",
                   f"--inh-caps=-all{',' + caps if caps else ''}",
                   f"--ambient-caps=-all{',' + caps if caps else ''}",
                   f"--bounding-set=-all{',' + caps if caps else ''}"]
        cmd = ["unshare", "--net", "--"] + setpriv + [
            sconed, "--config", cfg, "--nfqueue", "7"]
        p = start(cmd, notify, log)
        msg = notify.next(10 if want else 3)
        if want:
            if msg is None or not msg.startswith("READY=1"):
                errors.append(f"nfqueue with CAP_NET_ADMIN only: {msg!r}: "
                              + open(log.name).read())
            p.send_signal(signal.SIGTERM)
            if p.wait(10) != 0:
                errors.append("nfqueue: exit status after SIGTERM")
            elif msg is not None and msg.startswith("READY=1"):
                print("ok: nfqueue as nobody, no new privileges, "
                      "CAP_NET_ADMIN only: queue bound, READY=1; exit 0")
        else:
            rc = p.wait(10)
            if rc != 1 or msg is not None:
                errors.append(f"nfqueue without CAP_NET_ADMIN: exit {rc}, "
                              f"notice {msg!r}")
            else:
                print("ok: nfqueue without CAP_NET_ADMIN: exit 1, "
                      "no READY=1")
        if p.poll() is None:
            p.kill()
        notify.sock.close()
        os.unlink(notify.path)


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    sconed = os.path.abspath(sys.argv[1])
    errors = []
    with tempfile.TemporaryDirectory() as work:
        relay(sconed, work, errors)
        if os.geteuid() != 0:
            print("nfqueue part skipped: needs root")
        elif subprocess.run(["unshare", "--net", "true"]).returncode != 0:
            print("nfqueue part skipped: no network namespaces")
        else:
            nfqueue(sconed, work, errors)
    for e in errors:
        print(f"FAIL: {e}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
