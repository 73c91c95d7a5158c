"""A scenario's results: the QoE table over seeds (CSV and Markdown) and
one gnuplot PNG. Figures come from session.json records only, so a
results folder can be tabled and plotted again without running it."""

import csv
import os
import shutil
import statistics
import subprocess

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


# ------------------------------------------------------------------ plots

def _write(path, rows):
    with open(path, "w") as f:
        for r in rows:
            f.write(" ".join(f"{x:.6g}" for x in r) + "\n")


def plot(sc, r, out_dir, plan_bps):
    """One PNG of a session: chosen video bitrate, the element's
    throughput and the advice against the plan (top), the buffer
    (bottom). Returns its path, or None without gnuplot."""
    gp = shutil.which("gnuplot")
    if gp is None:
        return None
    d = os.path.join(out_dir, f"seed-{r['seed']}")
    c = r.get("client") or {}
    segs = [s for s in c.get("segments", []) if s["media"] == "video"]
    bitrate = [(s["t"], s["kbps"] / 1000, s["buf_s"]) for s in segs]
    samples = (r.get("element") or {}).get("samples", [])
    tput = []
    for a, b in zip(samples, samples[1:]):
        if b["t"] > a["t"]:
            tput.append((b["t"], (b["bytes"] - a["bytes"]) * 8 /
                         (b["t"] - a["t"]) / 1e6))
    _write(os.path.join(d, "throughput.dat"), tput)
    # The player records a point per segment fetched; after the last one
    # it plays out what it holds (nothing is fetched, so nothing can
    # stall), one second of buffer a second, until the session ends or
    # the buffer is empty. Without this point the lines stop at the last
    # fetch, which reads as if playback had stopped there.
    span = max([t for t, *_ in tput] + [0])
    if bitrate and span > bitrate[-1][0]:
        t, mbps, buf = bitrate[-1]
        out = min(span, t + buf)
        bitrate.append((out, mbps, buf - (out - t)))
    _write(os.path.join(d, "bitrate.dat"), bitrate)
    q = c.get("qoe") or {}
    adv = [(a["t"], (a["bps"] or 0) / 1e6)
           for a in q.get("advice_timeline", [])]
    end = max([t for t, *_ in tput] + [s["t"] for s in segs] + [1])
    if adv:
        adv.append((end, adv[-1][1]))
    _write(os.path.join(d, "advice.dat"), adv)
    det = (r.get("element") or {}).get("detected_s")
    png = os.path.join(out_dir, f"{sc.name}.png")
    title = f"{sc.name}, seed {r['seed']}: {sc.description}".replace(
        '"', "'")
    plan = (f"{plan_bps / 1e6:g} title 'plan {plan_bps / 1e6:g} Mbit/s' "
            "lw 2 dt 2 lc rgb 'black', " if plan_bps else "")
    mark = (f"set arrow from {det},graph 0 to {det},graph 1 nohead "
            "lc rgb 'red' dt 3\nset label 'non-conforming' at "
            f"{det},graph 0.95 offset 0.5,0 tc rgb 'red'\n" if det else "")
    advice = (f"  '{d}/advice.dat' using 1:2 with steps lw 2 lc rgb "
              "'#dd6600' title 'SCONE advice', \\\n" if adv else "")
    script = f"""
set terminal pngcairo size 1100,720 font 'sans,10'
set output '{png}'
set multiplot layout 2,1 title "{title}"
# Fixed margins: the key outside takes the right margin, and both panels
# must share one time axis so a buffer dip lines up with its throughput.
set lmargin at screen 0.07
set rmargin at screen 0.76
set grid
set key outside right top
set xrange [0:{end:.1f}]
set ylabel 'Mbit/s'
set size 1,0.62
set origin 0,0.33
{mark}plot {plan}\\
  '{d}/throughput.dat' using 1:2 with steps lw 1 lc rgb '#99aabb' \\
    title 'throughput at the element', \\
{advice}  '{d}/bitrate.dat' using 1:2 with steps lw 2 lc rgb '#1166aa' \\
    title 'video bitrate chosen'
unset arrow
unset label
set size 1,0.3
set origin 0,0.02
set xlabel 'session time (s)'
set ylabel 'buffer (s)'
plot '{d}/bitrate.dat' using 1:3 with lines lw 2 lc rgb '#22aa22' \\
    title 'buffer level'
unset multiplot
"""
    # Empty data files make gnuplot complain: give it a point it ignores.
    for f in ("bitrate.dat", "throughput.dat", "advice.dat"):
        p = os.path.join(d, f)
        if os.path.getsize(p) == 0:
            _write(p, [(-1, 0, 0)])
    with open(os.path.join(d, "plot.gp"), "w") as f:
        f.write(script)
    rc = subprocess.run([gp, os.path.join(d, "plot.gp")],
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                        text=True)
    if rc.returncode != 0:
        raise RuntimeError(f"gnuplot: {rc.stderr.strip()}")
    return png
