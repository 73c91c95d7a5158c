#!/usr/bin/env python3
"""The Wireshark dissector (packaging/wireshark/scone.lua) in Debian's
tshark, against the scone tool's decoder (an independent implementation):
the frames, signals, rates in bit/s and the rates as text, on

  - the captures tests/cli's generator writes (several link types, both
    SCONE versions, a truncated SCONE packet, which must not count), and a
    capture of all 128 signals: the same frames, signals and rates;
  - sconed's offline output of one of them (--advice 3M): the lowered
    signals, again as the scone tool reads them;
  - with root, a live session on loopback, client -- sconed --relay
    (--advice 2M) -- server: the relay's signal 26 (1995262 bit/s) toward
    the client, 127 from the endpoints, the QUIC packets after each SCONE
    packet dissected by Wireshark's QUIC dissector, the client's
    indication, and the scone_supported transport parameter in its
    Initial.

    tshark_test.py LUA SCONE SCONED GEN_PCAP SCONE_SERVER SCONE_CLIENT
Exit 0, 1 on a mismatch, 77 without tshark.
"""
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time


def tshark(lua, cap, fields, display="scone.rate_signal && !scone.truncated"):
    r = subprocess.run(
        ["tshark", "-n", "-X", f"lua_script:{lua}", "-r", cap, "-Y", display,
         "-T", "fields", "-E", "separator=/t"] +
        [a for f in fields for a in ("-e", f)],
        capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"tshark failed on {cap}: {r.stderr}")
    bad = [x for x in r.stderr.splitlines()
           if x and "Running as user" not in x]
    if bad:
        raise SystemExit(f"tshark on {cap}: {bad}")
    return [line.split("\t") for line in r.stdout.splitlines()]


def tshark_rates(lua, cap):
    """{frame: (signal, bps or None, rate text)} as the dissector prints
    them (the text from the Info column, "SCONE signal N (TEXT), ...")."""
    out = {}
    for frame, sig, bps, info in tshark(lua, cap, ["frame.number",
                                                   "scone.rate_signal",
                                                   "scone.rate",
                                                   "_ws.col.Info"]):
        head = f"SCONE signal {sig} ("
        text = info[len(head):info.index(")")] if info.startswith(
            head) else f"Info column {info!r}"
        out[int(frame)] = (int(sig), int(bps) if bps else None, text)
    return out


def scone_rates(scone, cap):
    r = subprocess.run([scone, "decode", "--json", "--pcap", cap],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"scone decode failed on {cap}: {r.stderr}")
    return {p["frame"]: (p["signal"], p["bps"], p["rate"])
            for p in json.loads(r.stdout)["scone_packets"]}


def compare(lua, scone, cap, errors):
    got, want = tshark_rates(lua, cap), scone_rates(scone, cap)
    name = os.path.basename(cap)
    if not want:
        errors.append(f"{name}: the scone tool finds no SCONE packet")
    if got != want:
        diff = {f: (got.get(f), want.get(f)) for f in set(got) | set(want)
                if got.get(f) != want.get(f)}
        errors.append(f"{name}: tshark != scone decode: {diff}")
    else:
        print(f"ok: {name}: {len(got)} SCONE packets, "
              + ", ".join(f"frame {f} signal {s} = {b} bit/s ({t})"
                          for f, (s, b, t) in sorted(got.items())[:4])
              + (" ..." if len(got) > 4 else ""))
    return got


def all_signals(path):
    """A raw-IPv4 pcap: one datagram per signal 0..127, a SCONE packet
    before a short-header packet with the same DCID."""
    dcid = bytes(range(1, 9))
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 228))
        for s in range(128):
            ver = 0xef7dc0fd if s & 1 else 0x6f7dc0fd
            payload = (bytes([0x80 | s >> 1]) + struct.pack(">I", ver) +
                       bytes([8]) + dcid + bytes([0]) +
                       bytes([0x40]) + dcid + bytes(20))
            udp = struct.pack(">HHHH", 50000, 4433, 8 + len(payload), 0)
            ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp) +
                             len(payload), s, 0, 64, 17, 0,
                             bytes([192, 0, 2, 1]), bytes([198, 51, 100, 2]))
            csum = 0
            for i in range(0, 20, 2):
                csum += (ip[i] << 8) | ip[i + 1]
            while csum >> 16:
                csum = (csum & 0xffff) + (csum >> 16)
            ip = ip[:10] + struct.pack(">H", ~csum & 0xffff) + ip[12:]
            pkt = ip + udp + payload
            f.write(struct.pack("<IIII", s, 0, len(pkt), len(pkt)) + pkt)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(path, text, proc, secs=20):
    end = time.time() + secs
    while time.time() < end:
        if os.path.exists(path) and text in open(path, errors="replace").read():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


def live(lua, sconed, server, client, work, all_errors):
    """A real session through the relay, captured on loopback."""
    errors = []
    try:
        capture_and_check(lua, sconed, server, client, work, errors)
    finally:
        all_errors += errors


def capture_and_check(lua, sconed, server, client, work, errors):
    sport, rport = free_port(), free_port()
    cap = os.path.join(work, "live.pcapng")
    procs = []

    def start(name, args):
        log = open(os.path.join(work, name + ".log"), "w")
        p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        procs.append(p)
        return p, log.name

    try:
        t, tlog = start("tshark", ["tshark", "-n", "-i", "lo", "-f",
                                   f"udp port {sport} or udp port {rport}",
                                   "-w", cap])
        if not wait_for(tlog, "Capturing on", t):
            errors.append("live: tshark did not start capturing: "
                          + open(tlog).read())
            return
        s, slog = start("server", [server, "--listen",
                                   f"127.0.0.1:{sport}", "--state-dir",
                                   os.path.join(work, "state")])
        r, rlog = start("sconed", [sconed, "--advice", "2000000", "--relay",
                                   f"127.0.0.1:{rport}", "--upstream",
                                   f"127.0.0.1:{sport}"])
        if not (wait_for(slog, "listening on port", s) and
                wait_for(rlog, "listening on", r)):
            errors.append("live: server or relay did not start")
            return
        c = subprocess.run([client, "--insecure", "--repeat", "2",
                            "--interval", "300ms", "--output", os.devnull,
                            f"https://127.0.0.1:{rport}/bytes/300k"],
                           capture_output=True, text=True, timeout=60)
        if c.returncode != 0:
            errors.append(f"live: scone-client failed: {c.stderr}")
            return
        time.sleep(0.5)
    finally:
        for p in reversed(procs):
            p.send_signal(signal.SIGINT)
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
    # One pass: every frame, with what the dissector found in it.
    frames = tshark(lua, cap, ["frame.number", "udp.srcport",
                               "scone.rate_signal", "scone.rate",
                               "quic.header_form", "scone.indication",
                               "scone.tp.scone_supported"], "udp")
    rows = [r for r in frames if r[2]]
    to_client = {(int(r[2]), r[3]) for r in rows if r[1] == str(rport)}
    from_ends = {int(r[2]) for r in rows if r[1] != str(rport)}
    if to_client != {(26, "1995262")}:
        errors.append(f"live: relay to client carried {to_client}, "
                      "want signal 26 = 1995262 bit/s")
    if from_ends != {127}:
        errors.append(f"live: endpoints sent signals {from_ends}, want 127")
    if not rows or any(not r[4] for r in rows):
        errors.append("live: a SCONE packet without its QUIC packet "
                      "dissected after it")
    ind = [r for r in frames if r[5]]
    tp = [r for r in frames if r[6]]
    if not ind:
        errors.append("live: no SCONE indication found")
    if not tp:
        errors.append("live: no scone_supported transport parameter found")
    if not errors:
        print(f"ok: live: {len(rows)} SCONE packets, relay to client "
              f"signal 26 (1995262 bit/s), endpoints 127, each followed by "
              f"QUIC; indication in frame {ind[0][0]}, scone_supported in "
              f"frame(s) {', '.join(x[0] for x in tp)}")


def main():
    if len(sys.argv) != 7:
        raise SystemExit(__doc__)
    lua, scone, sconed, gen, server, client = sys.argv[1:]
    if not shutil.which("tshark"):
        print("SKIP: no tshark (Debian package tshark)")
        return 77
    v = subprocess.run(["tshark", "-v"], capture_output=True, text=True)
    print(v.stdout.splitlines()[0])
    errors = []
    with tempfile.TemporaryDirectory() as work:
        caps = os.path.join(work, "caps")
        os.mkdir(caps)
        subprocess.run([gen, caps], check=True)
        # Not null.pcap: its IPv6 frames carry Linux's AF_INET6 (10),
        # which Wireshark's BSD loopback dissector does not take for IPv6.
        for name in ("eth.pcap", "raw.pcap", "sll.pcap", "sll2.pcap",
                     "ipv4.pcap", "ipv6.pcap"):
            compare(lua, scone, os.path.join(caps, name), errors)
        every = os.path.join(work, "all-signals.pcap")
        all_signals(every)
        got = compare(lua, scone, every, errors)
        if sorted(v[0] for v in got.values()) != list(range(128)):
            errors.append("all-signals.pcap: not every signal 0..127")
        out = os.path.join(work, "sconed-out.pcap")
        subprocess.run([sconed, "--pcap-in", os.path.join(caps, "eth.pcap"),
                        "--pcap-out", out, "--advice", "3M", "--quiet"],
                       check=True, stdout=subprocess.DEVNULL)
        lowered = compare(lua, scone, out, errors)
        if (29, 2818383) not in [v[:2] for v in lowered.values()]:
            errors.append(f"sconed-out.pcap: no signal lowered to 29 "
                          f"(2818383 bit/s, the highest under 3M): {lowered}")
        if os.geteuid() == 0:
            live(lua, sconed, server, client, work, errors)
        else:
            print("live capture skipped: needs root")
    for e in errors:
        print(f"FAIL: {e}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
