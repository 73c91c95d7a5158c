#!/usr/bin/env python3
"""Checks endpoint qlog files against what qvis and the qlog main schema
(draft-ietf-quic-qlog-main-schema, qlog 0.3, JSON-SEQ) ask, and the scone:*
events against docs/qlog.md.

    check_qlog.py [--want-advice SIGNAL] FILE...

Each FILE must be a JSON text sequence (RFC 7464: every record is RS, JSON,
LF) whose first record is the header qvis looks for (qlog_version "0.3",
qlog_format "JSON-SEQ", one trace with a vantage point and common fields)
and whose other records are events: a numeric time that never goes back
(qvis re-sorts and warns otherwise), a "category:event" name, a data
object. QUIC events keep the QUIC schema's packet types; scone:* events
have exactly the fields docs/qlog.md lists. --want-advice: some file must
carry a scone:advice_accepted with this signal and its rate. Exit 0 or 1.
"""
import json
import re
import sys

RS = "\x1e"
NAME = re.compile(r"^[a-z0-9_]+:[a-z0-9_]+$")
HEX = re.compile(r"^([0-9a-f]{2})*$")
PACKET_TYPES = {"initial", "handshake", "0RTT", "1RTT", "retry",
                "version_negotiation", "stateless_reset", "unknown"}
SCONE_VERSIONS = {"6f7dc0fd": 0, "ef7dc0fd": 1}  # version -> signal's low bit
REASONS = {"dcid_mismatch", "unknown_signal", "not_processed",
           "duplicate_scone", "peer_not_capable"}
TRIGGERS = {"signal", "expiry"}


def rate(signal):
    return round(100000 * 10 ** (signal / 20))


def check_advice(where, a, errors):
    if set(a) != {"rate_signal", "throughput_advice"}:
        errors.append(f"{where}: advice fields {sorted(a)}")
        return
    s, bps = a["rate_signal"], a["throughput_advice"]
    if not isinstance(s, int) or not 0 <= s <= 127:
        errors.append(f"{where}: rate_signal {s!r}")
    elif s == 127 and bps is not None:
        errors.append(f"{where}: signal 127 with advice {bps}")
    elif s < 127 and bps != rate(s):
        errors.append(f"{where}: signal {s} with advice {bps}, "
                      f"not {rate(s)}")


def check_scone(where, name, d, errors):
    """The scone:* events' fields (docs/qlog.md)."""
    ev = name.split(":", 1)[1]
    keys = set(d)
    if ev in ("packet_sent", "packet_received"):
        h = d.get("header", {})
        if not keys <= {"header", "raw", "rate_signal"} or "header" not in d:
            errors.append(f"{where}: fields {sorted(keys)}")
        if h.get("packet_type") != "scone" or not set(h) <= {
                "packet_type", "version", "dcid", "scid"}:
            errors.append(f"{where}: header {h}")
        bit = SCONE_VERSIONS.get(h.get("version"))
        s = d.get("rate_signal")
        if bit is None or not isinstance(s, int) or s & 1 != bit:
            errors.append(f"{where}: version {h.get('version')} does not "
                          f"carry signal {s}'s low bit")
        for cid in ("dcid", "scid"):
            if cid in h and not HEX.match(h[cid]):
                errors.append(f"{where}: {cid} {h[cid]!r} is not hex")
        raw = d.get("raw", {"length": 1})
        if set(raw) != {"length"} or not isinstance(raw["length"], int):
            errors.append(f"{where}: raw {raw}")
    elif ev == "advice_accepted":
        check_advice(where, d, errors)
    elif ev == "advice_rejected":
        if keys != {"rate_signal", "reason"} or d["reason"] not in REASONS:
            errors.append(f"{where}: {d}")
    elif ev == "advice_changed":
        if not {"old", "new", "trigger"} <= keys <= {
                "old", "new", "trigger", "expires_in"}:
            errors.append(f"{where}: fields {sorted(keys)}")
        else:
            check_advice(where + " old", d["old"], errors)
            check_advice(where + " new", d["new"], errors)
            if d["trigger"] not in TRIGGERS:
                errors.append(f"{where}: trigger {d['trigger']!r}")
    elif ev == "parameters_set":
        if d.get("owner") not in ("local", "remote") or not isinstance(
                d.get("scone_supported"), bool) or not keys <= {
                "owner", "scone_supported", "flow_type"}:
            errors.append(f"{where}: {d}")
    else:
        errors.append(f"{where}: {name} is not a documented scone event")


def check_file(path, seen):
    errors = []
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if not text.startswith(RS):
        return [f"{path}: does not start with RS (JSON-SEQ)"]
    records = text.split(RS)[1:]
    events = []
    for i, r in enumerate(records):
        if not r.endswith("\n"):
            errors.append(f"{path}: record {i} does not end in LF")
        try:
            events.append(json.loads(r))
        except json.JSONDecodeError as e:
            errors.append(f"{path}: record {i}: {e}")
            return errors
    head, events = events[0], events[1:]
    if head.get("qlog_version") != "0.3" or \
            head.get("qlog_format") != "JSON-SEQ":
        errors.append(f"{path}: header {head.get('qlog_version')!r} "
                      f"{head.get('qlog_format')!r}")
    trace = head.get("trace", {})
    vp = trace.get("vantage_point", {}).get("type")
    if vp not in ("client", "server"):
        errors.append(f"{path}: vantage point {vp!r}")
    cf = trace.get("common_fields", {})
    if cf.get("time_format") != "relative" or not isinstance(
            cf.get("reference_time"), (int, float)) or "QUIC" not in \
            cf.get("protocol_type", []):
        errors.append(f"{path}: common fields {cf}")
    last = 0
    for n, e in enumerate(events, 1):
        where = f"{path}: event {n}"
        name, t, d = e.get("name", ""), e.get("time"), e.get("data")
        if not NAME.match(name) or not isinstance(d, dict) or \
                not isinstance(t, (int, float)) or set(e) != {
                    "time", "name", "data"}:
            errors.append(f"{where}: not an event: {json.dumps(e)[:120]}")
            continue
        if t < last:
            errors.append(f"{where}: time {t} before {last} ({name})")
        last = max(last, t)
        seen.setdefault(name, []).append(d)
        if name.startswith("scone:"):
            check_scone(f"{where} ({name})", name, d, errors)
        elif name in ("transport:packet_sent", "transport:packet_received"):
            pt = d.get("header", {}).get("packet_type")
            if pt not in PACKET_TYPES:
                errors.append(f"{where}: packet_type {pt!r}")
    print(f"{path}: {vp}, {len(events)} events, "
          f"{sum(1 for e in events if e.get('name', '').startswith('scone:'))}"
          " scone:*")
    return errors


def main():
    args = sys.argv[1:]
    want = None
    if args[:1] == ["--want-advice"]:
        want, args = int(args[1]), args[2:]
    if not args:
        raise SystemExit(__doc__)
    seen, errors = {}, []
    for path in args:
        errors += check_file(path, seen)
    for name in ("scone:parameters_set", "scone:packet_sent",
                 "scone:packet_received"):
        if name not in seen:
            errors.append(f"no {name} event in any file")
    if want is not None and not any(
            d.get("rate_signal") == want
            for d in seen.get("scone:advice_accepted", [])):
        errors.append(f"no scone:advice_accepted with signal {want}")
    for e in errors:
        print(e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
