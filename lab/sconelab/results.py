"""A scenario's results: the QoE table over seeds (CSV and Markdown) and
one gnuplot PNG. Figures come from session.json records only, so a
results folder can be tabled and plotted again without running it. The
plot itself is in plot.py."""

import csv
import os
import statistics

from .plot import plot  # noqa: F401 (the runner plots through here)

# (column, unit, from a session record); None where it does not apply.
COLUMNS = [
    ("startup_s", "s", lambda r: _qoe(r, "startup_delay_s")),
    ("stalls", "", lambda r: _qoe(r, "stalls")),
    ("stall_s", "s", lambda r: _qoe(r, "stall_time_s")),
    ("rebuffering_pct", "%", lambda r: _pct(_qoe(r, "rebuffering_ratio"))),
    ("mean_bitrate_kbps", "kbit/s",
     lambda r: _div(_qoe(r, "mean_bitrate_bps"), 1000)),
    ("switches", "", lambda r: _qoe(r, "switches")),
    ("MB", "MB", lambda r: _div(_qoe(r, "bytes"), 1e6)),
    ("max_67s_mbps", "Mbit/s", lambda r: _max67(r)),
    ("element_cpu_ms_per_MB", "ms/MB", lambda r: _cpu_per_mb(r)),
    ("detected_s", "s", lambda r: (r.get("element") or {}).get(
        "detected_s")),
    ("after_detection_mbps", "Mbit/s", lambda r: _div((r.get("element") or
                                                       {}).get(
        "after_detection_bps"), 1e6)),
]


def _qoe(r, k):
    q = (r.get("client") or {}).get("qoe") or {}
    return q.get(k)


def _div(v, d):
    return None if v is None else v / d


def _pct(v):
    return None if v is None else v * 100


def _max67(r):
    """The most bits in any 67 s the element saw (IP bytes of the plan's
    flows, both ways, before enforcement), per second of the window."""
    el = r.get("element") or {}
    m = el.get("max_67s")
    return None if m is None else m * 8 / 67 / 1e6


def _cpu_per_mb(r):
    el = r.get("element") or {}
    cpu, mb = el.get("cpu_s"), _div(_qoe(r, "bytes"), 1e6)
    if cpu is None or not mb:
        return None
    return cpu * 1000 / mb


def stats(results):
    """column -> (median, min, max, n) over the sessions that have it."""
    out = {}
    for col, _, get in COLUMNS:
        vals = [v for v in (get(r) for r in results) if v is not None]
        out[col] = ((statistics.median(vals), min(vals), max(vals),
                     len(vals)) if vals else None)
    return out


def _fmt(v):
    if v is None:
        return "-"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def cell(st):
    """median (min-max) over the seeds, or the one value."""
    if st is None:
        return "-"
    med, lo, hi, n = st
    return _fmt(med) if n == 1 or lo == hi else \
        f"{_fmt(med)} ({_fmt(lo)}-{_fmt(hi)})"


def header():
    return ("| scenario | seeds | " + " | ".join(
        f"{c} ({u})" if u else c for c, u, _ in COLUMNS) + " |\n|---|---|"
        + "---|" * len(COLUMNS))


def row(name, results):
    st = stats(results)
    return (f"| {name} | {len(results)} | "
            + " | ".join(cell(st[c]) for c, _, _ in COLUMNS) + " |")


def write_tables(out_dir, rows):
    """rows: [(scenario name, its results)]: OUT/qoe.csv (one line per
    scenario and column: median, min, max, n) and OUT/qoe.md."""
    with open(os.path.join(out_dir, "qoe.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["scenario", "seeds"] + [
            f"{c}_{k}" for c, _, _ in COLUMNS
            for k in ("median", "min", "max")])
        for name, results in rows:
            st = stats(results)
            line = [name, len(results)]
            for c, _, _ in COLUMNS:
                line += ["" if st[c] is None else round(x, 6)
                         for x in st[c][:3]] if st[c] else ["", "", ""]
            w.writerow(line)
    md = header() + "\n" + "\n".join(row(n, r) for n, r in rows) + "\n"
    with open(os.path.join(out_dir, "qoe.md"), "w") as f:
        f.write(md)
    return md
