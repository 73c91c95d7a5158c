"""One gnuplot PNG of a session, meant to read at a glance: what the
player chose and held (bitrate, buffer, stalls) against what the path
allowed (the plan, the advice, the cell's capacity, the element's
throughput), on one time axis. Built from a session.json record only."""

import os
import shutil
import subprocess

WINDOW = 67.0  # the draft's period, over which the plan is judged
OPPORTUNITY_BITS = 1500 * 8  # one line of a Mahimahi trace


def _write(path, rows):
    with open(path, "w") as f:
        for r in rows:
            f.write(" ".join(f"{x:.6g}" for x in r) + "\n")


def throughput(samples):
    """The element's 1 s throughput and its mean over the last 67 s (the
    window the plan is judged over), in Mbit/s at each sample. Before 67 s
    the window is still 67 s long, empty at its start, as sconed counts."""
    per_s, win = [], []
    for a, b in zip(samples, samples[1:]):
        if b["t"] > a["t"]:
            per_s.append((b["t"], (b["bytes"] - a["bytes"]) * 8 /
                          (b["t"] - a["t"]) / 1e6))

    def bytes_at(t):
        if t <= samples[0]["t"]:
            return samples[0]["bytes"] if t == samples[0]["t"] else 0.0
        for a, b in zip(samples, samples[1:]):
            if a["t"] <= t <= b["t"]:
                f = (t - a["t"]) / (b["t"] - a["t"]) if b["t"] > a["t"] else 1
                return a["bytes"] + f * (b["bytes"] - a["bytes"])
        return samples[-1]["bytes"]

    for s in samples[1:]:
        win.append((s["t"], (s["bytes"] - bytes_at(s["t"] - WINDOW)) * 8 /
                    WINDOW / 1e6))
    return per_s, win


def buffer_line(segs, startup_s, span):
    """The buffer between segment arrivals and the stalls.

    The player reports its buffer only when a segment arrives; joining
    those points with straight lines hides a buffer that ran dry between
    two of them. While playing the buffer drains one second a second, so
    the line drains from each point, and where it reaches zero before the
    next arrival a stall starts; it lasts until a segment arrives with the
    player playing again. Returns (points, [(stall start, end)])."""
    pts, stalls = [], []
    stall_from = None
    for i, s in enumerate(segs):
        t, buf = s["t"], s["buf_s"]
        state = s.get("state") or ("playing" if startup_s is not None and
                                   t >= startup_s else "startup")
        if stall_from is not None and state == "playing":
            stalls.append((stall_from, t))
            stall_from = None
        pts.append((t, buf))
        nxt = segs[i + 1]["t"] if i + 1 < len(segs) else None
        if state != "playing":
            if nxt is not None:
                pts.append((nxt, buf))
            continue
        if nxt is None:
            # Play-out after the last fetch: nothing is fetched, so
            # nothing can stall; the line goes on until the session ends.
            out = min(span, t + buf)
            if out > t:
                pts.append((out, buf - (out - t)))
        elif buf - (nxt - t) > 0:
            pts.append((nxt, buf - (nxt - t)))
        else:
            pts.append((t + buf, 0.0))
            pts.append((nxt, 0.0))
            stall_from = t + buf
    if stall_from is not None:
        stalls.append((stall_from, max(span, stall_from)))
    return pts, stalls


def trace_capacity(path, lead_s, end_s):
    """The cell's downlink capacity from a Mahimahi trace, per second of
    the session, in Mbit/s; the trace's clock ran lead_s before the
    session started and the trace repeats."""
    with open(path) as f:
        offs = [int(x) for x in f.read().split()]
    period = offs[-1]
    counts = [0] * period
    for o in offs:
        # The cycle's first offset coincides with the previous cycle's
        # last one (docs/lab.md, "The model").
        counts[o % period] += 1
    out = []
    ms0 = int(round(lead_s * 1000))
    for s in range(int(end_s) + 1):
        n = sum(counts[(ms0 + s * 1000 + k) % period] for k in range(1000))
        out.append((s, n * OPPORTUNITY_BITS / 1e6))
    out.append((int(end_s) + 1, out[-1][1] if out else 0))
    return out


def plot(sc, r, out_dir, plan_bps):
    """One PNG of a session: the player's bitrate, the element's
    throughput (per second and over 67 s), the advice, the cell's capacity
    and the plan (top); the buffer (bottom); stalls shaded in both.
    Returns its path, or None without gnuplot."""
    gp = shutil.which("gnuplot")
    if gp is None:
        return None
    d = os.path.join(out_dir, f"seed-{r['seed']}")
    c = r.get("client") or {}
    q = c.get("qoe") or {}
    allsegs = sorted(c.get("segments", []), key=lambda s: s["t"])
    segs = [s for s in allsegs if s["media"] == "video"]
    el = r.get("element") or {}
    samples = el.get("samples", [])
    tput, win = throughput(samples) if len(samples) > 1 else ([], [])
    end = max([t for t, *_ in tput] + [s["t"] for s in allsegs] + [1])
    bitrate = [(s["t"], s["kbps"] / 1000) for s in segs]
    if bitrate and end > bitrate[-1][0]:
        bitrate.append((end, bitrate[-1][1]))
    buf, stalls = buffer_line(allsegs, q.get("startup_delay_s"), end)
    adv = [(a["t"], (a["bps"] or 0) / 1e6)
           for a in q.get("advice_timeline", [])]
    if adv:
        adv.append((end, adv[-1][1]))
    down = (sc.link or {}).get("down")
    cell = []
    if down is not None and down.trace and r.get("link_lead_s") is not None:
        cell = trace_capacity(down.trace, r["link_lead_s"], end)
    elif down is not None and down.rate:
        cell = [(0, down.rate / 1e6), (end, down.rate / 1e6)]

    files = {"bitrate.dat": bitrate, "buffer.dat": buf,
             "throughput.dat": tput, "window.dat": win,
             "advice.dat": adv, "cell.dat": cell}
    for name, rows in files.items():
        # Empty data files make gnuplot complain: give it a point it
        # ignores (left of the time axis).
        _write(os.path.join(d, name), rows or [(-1, 0)])

    # The scale is the plan's, not the bursts': SCONE's and the unthrottled
    # player's bursts reach 15-30 Mbit/s and would squash the plan, the
    # advice and the bitrate into the bottom tenth.
    plan = plan_bps / 1e6 if plan_bps else 0
    peak = max([v for _, v in tput] + [0])
    lines = ([v for _, v in bitrate] + [v for _, v in adv] +
             [v for _, v in win])
    ymax = None
    if plan:
        ymax = max([2.5 * plan] + [1.2 * v for v in lines])
    off = ymax is not None and peak > ymax
    cell_max = max([v for _, v in cell] + [0])
    show_cell = bool(cell) and (ymax is None or min(
        v for _, v in cell) <= ymax)

    title = f"{sc.name}, seed {r['seed']}: {sc.description}".replace(
        '"', "'")
    stats = (f"startup {q.get('startup_delay_s') or 0:.2f} s, "
             f"{q.get('stalls') or 0} stall(s) "
             f"{q.get('stall_time_s') or 0:.2f} s, mean bitrate "
             f"{(q.get('mean_bitrate_bps') or 0) / 1e6:.2f} Mbit/s, "
             f"{(q.get('bytes') or 0) / 1e6:.1f} MB")
    rects = "".join(
        f"set object {i + 1} rect from {a:.3f},graph 0 to {b:.3f},graph 1 "
        "fc rgb '#ff9999' fs solid 0.45 noborder behind\n"
        for i, (a, b) in enumerate(stalls))
    det = el.get("detected_s")
    mark = (f"set arrow 1 from {det},graph 0 to {det},graph 1 nohead "
            "lc rgb 'red' lw 2 dt 3\n"
            f"set label 1 'found non-conforming ({det:.0f} s)' at {det},"
            "graph 0.04 offset 0.5,0 tc rgb 'red'\n" if det else "")
    series = []
    if show_cell:
        what = "trace" if down.trace else "fixed"
        more = (f", up to {cell_max:.3g}" if ymax and cell_max > ymax
                else "")
        series.append(f"'{d}/cell.dat' using 1:2 with steps lw 1 lc rgb "
                      f"'#b58ee0' title 'cell capacity ({what}{more})'")
    series.append(
        f"'{d}/throughput.dat' using 1:2 with steps lw 1 lc rgb '#9fb3c8' "
        "title 'throughput, 1 s" +
        (f" (peaks {peak:.3g}, off scale)" if off else "") + "'")
    if win:
        series.append(f"'{d}/window.dat' using 1:2 with lines lw 2 lc rgb "
                      "'#4d4d4d' title 'throughput, mean of last 67 s'")
    if plan:
        series.append(f"{plan:g} title 'plan {plan:g} Mbit/s' lw 2 dt 2 "
                      "lc rgb 'black'")
    if adv:
        series.append(f"'{d}/advice.dat' using 1:2 with steps lw 2 lc rgb "
                      "'#dd6600' title 'SCONE advice'")
    series.append(f"'{d}/bitrate.dat' using 1:2 with steps lw 2.5 lc rgb "
                  "'#1166aa' title 'video bitrate chosen'")
    if stalls:
        series.append("NaN with boxes fs solid 0.45 fc rgb '#ff9999' "
                      "title 'stall'")
    png = os.path.join(out_dir, f"{sc.name}.png")
    yr = f"set yrange [0:{ymax:.2f}]" if ymax else "set yrange [0:*]"
    script = f"""
set terminal pngcairo size 1100,720 font 'sans,10'
set output '{png}'
set multiplot title "{title}\\n{stats}"
# Fixed margins: the key outside takes the right margin, and both panels
# must share one time axis so a buffer dip lines up with its throughput.
set lmargin at screen 0.07
set rmargin at screen 0.70
set grid
set key at screen 0.715,graph 1 left top Left reverse spacing 1.2
set xrange [0:{end:.1f}]
set format x ''
{yr}
set ylabel 'Mbit/s'
set size 1,0.58
set origin 0,0.34
set tmargin at screen 0.90
set bmargin at screen 0.36
{rects}{mark}plot {", ".join(series)}
unset arrow
unset label
set format x '%g'
set xlabel 'session time (s)'
set ylabel 'buffer (s)'
set yrange [0:*]
set tmargin at screen 0.33
set bmargin at screen 0.08
plot '{d}/buffer.dat' using 1:2 with lines lw 2 lc rgb '#22aa22' \\
    title 'buffer level'{", NaN with boxes fs solid 0.45 fc rgb '#ff9999' title 'stall'" if stalls else ""}
unset multiplot
"""
    with open(os.path.join(d, "plot.gp"), "w") as f:
        f.write(script)
    rc = subprocess.run([gp, os.path.join(d, "plot.gp")],
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                        text=True)
    if rc.returncode != 0:
        raise RuntimeError(f"gnuplot: {rc.stderr.strip()}")
    return png
