"""The lab's figures from session records (unprivileged): the 67 s
windows over sconed's samples, the player's lines, the table's medians
and spread, the CSV, and a plot when gnuplot is there.

usage: python3 test_results.py LAB_DIR   (the source tree's lab/)
"""

import csv
import os
import shutil
import sys
import tempfile
import unittest

LAB = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else None
sys.path.insert(0, LAB or ".")
from sconelab import plot, results, scenario  # noqa: E402
from sconelab.session import player_result, windows  # noqa: E402


def samples(rates, step=1.0):
    """sconed samples every step seconds, rates in bytes per second."""
    out, b = [{"t": 0.0, "bytes": 0}], 0
    for i, r in enumerate(rates, 1):
        b += r * step
        out.append({"t": i * step, "bytes": b})
    return out


def record(seed, startup, stalls, kbps, mb, cpu, det=None):
    return {"seed": seed,
            "client": {"program": "scone-player", "segments": [], "qoe": {
                "startup_delay_s": startup, "stalls": stalls,
                "stall_time_s": 0.5 * stalls, "rebuffering_ratio": 0.01,
                "mean_bitrate_bps": kbps * 1000, "switches": 1,
                "bytes": mb * 1e6, "advice_timeline": []}},
            "element": {"cpu_s": cpu, "max_67s": 67 * 1e6 / 8,
                        "detected_s": det, "samples": samples([1000] * 5)}}


class Windows(unittest.TestCase):
    def test_fixed_and_sliding(self):
        # 100 s at 1000 B/s, then 50 s at 5000 B/s: the first window
        # holds 67,000, the second 33 s x 1000 + 34 s x 5000, the rest.
        s = samples([1000] * 100 + [5000] * 50)
        fixed, most = windows(s, 67)
        self.assertEqual(fixed, [67000, 33000 + 34 * 5000, 16 * 5000])
        self.assertEqual(sum(fixed), 100 * 1000 + 50 * 5000)
        # The busiest 67 s: the 50 s burst and the 17 s before it.
        self.assertEqual(most, 50 * 5000 + 17 * 1000)
        self.assertEqual(windows([], 67), ([], 0))
        # A burst shorter than a period shows in the period's window only.
        s = samples([0] * 20 + [100000] * 3 + [0] * 50)
        self.assertEqual(windows(s, 10)[1], 300000)
        self.assertEqual(windows(s, 67)[0][0], 300000)


class PlayerLines(unittest.TestCase):
    def test_segments_and_record(self):
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        out = os.path.join(d, "client.out")
        with open(out, "w") as f:
            f.write("advice: 1.41M (signal 23)\n"
                    "t=0.234 video #1 rung 3 750k 201.9kB in 0.146s buf "
                    "0.0s tput 11.04M advice 1.41M cap 1.27M startup\n"
                    "t=0.300 audio #1 rung 0 128k 32.1kB in 0.010s buf "
                    "2.0s tput 11.04M advice - cap - startup\n"
                    "t=5.100 video #2 rung 3 750k 201.9kB in 3.146s buf "
                    "0.0s tput 1.04M advice 1.41M cap 1.27M stalled\n"
                    "garbage t=1\n"
                    '{"started":true,"stalls":0}\n')
        r = player_result(out, os.path.join(d, "none.json"))
        self.assertEqual(r["qoe"], {"started": True, "stalls": 0})
        v, a, v2 = r["segments"]
        self.assertEqual((v["t"], v["media"], v["kbps"], v["bytes"],
                          v["buf_s"], v["cap_bps"], v["state"]),
                         (0.234, "video", 750, 201900, 0.0, 1270000,
                          "startup"))
        self.assertEqual((a["media"], a["kbps"]), ("audio", 128))
        self.assertNotIn("cap_bps", a)
        self.assertEqual(v2["state"], "stalled")


class Table(unittest.TestCase):
    def test_medians_spread_csv(self):
        rs = [record(1, 0.6, 0, 1040, 20, 0.5),
              record(2, 0.7, 2, 1050, 22, 0.4),
              record(3, 0.9, 0, 1000, 21, 0.6, det=110.0)]
        st = results.stats(rs)
        self.assertEqual(st["startup_s"], (0.7, 0.6, 0.9, 3))
        self.assertEqual(st["stalls"][0], 0)
        self.assertEqual(st["mean_bitrate_kbps"][:3], (1040, 1000, 1050))
        # 0.5 s over 20 MB, 0.4 over 22, 0.6 over 21: ms per MB.
        self.assertAlmostEqual(st["element_cpu_ms_per_MB"][0], 25.0)
        self.assertAlmostEqual(st["max_67s_mbps"][0], 1.0)
        self.assertEqual(st["detected_s"], (110.0, 110.0, 110.0, 1))
        self.assertIsNone(st["after_detection_mbps"])
        row = results.row("s3", rs)
        self.assertIn("| s3 | 3 | 0.70 (0.60-0.90) | 0.00 (0.00-2.00) |",
                      row)
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        md = results.write_tables(d, [("s3", rs)])
        self.assertEqual(md.count("\n"), 3)
        with open(os.path.join(d, "qoe.csv")) as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(rows[0]["scenario"], "s3")
        self.assertEqual(float(rows[0]["startup_s_median"]), 0.7)
        self.assertEqual(rows[0]["after_detection_mbps_median"], "")

    @unittest.skipIf(shutil.which("gnuplot") is None, "no gnuplot")
    def test_plot(self):
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        os.makedirs(os.path.join(d, "seed-1"))
        sc = scenario.parse("[element]\nplan = 1.5M\naction = police\n"
                            "[client]\nprogram = scone-player\n",
                            os.path.join(d, "s3.ini"))
        r = record(1, 0.6, 0, 1040, 20, 0.5, det=3.0)
        r["client"]["segments"] = [
            {"t": 0.5, "media": "video", "kbps": 750, "buf_s": 0.0},
            {"t": 2.5, "media": "video", "kbps": 1050, "buf_s": 2.0}]
        png = results.plot(sc, r, d, 1500000)
        with open(png, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")


class PlotLines(unittest.TestCase):
    def test_buffer_drains_between_segments_and_stalls_show(self):
        segs = [{"t": 0.5, "buf_s": 2.0, "state": "playing"},
                {"t": 1.5, "buf_s": 3.0, "state": "playing"},
                # 3 s left at 1.5 s: dry at 4.5 s, a stall until 6.0 s.
                {"t": 6.0, "buf_s": 2.0, "state": "playing"}]
        pts, stalls = plot.buffer_line(segs, 0.5, 10.0)
        self.assertEqual(pts, [(0.5, 2.0), (1.5, 1.0), (1.5, 3.0),
                               (4.5, 0.0), (6.0, 0.0), (6.0, 2.0),
                               (8.0, 0.0)])
        self.assertEqual(stalls, [(4.5, 6.0)])

    def test_buffer_holds_while_stalled_or_starting(self):
        segs = [{"t": 1.0, "buf_s": 2.0, "state": "startup"},
                {"t": 2.0, "buf_s": 4.0, "state": "playing"},
                {"t": 7.0, "buf_s": 1.0, "state": "stalled"},
                {"t": 8.0, "buf_s": 3.0, "state": "playing"}]
        pts, stalls = plot.buffer_line(segs, 2.0, 8.5)
        self.assertEqual(pts[:2], [(1.0, 2.0), (2.0, 2.0)])
        # Dry at 6 s; the segment at 7 s is not enough to resume, so the
        # buffer holds 1 s until the next one and the stall ends at 8 s.
        self.assertIn((6.0, 0.0), pts)
        self.assertIn((8.0, 1.0), pts)
        self.assertEqual(stalls, [(6.0, 8.0)])

    def test_window_is_67_s_long_from_the_start(self):
        per_s, win = plot.throughput(samples([67000] * 100))
        self.assertAlmostEqual(per_s[0][1], 67000 * 8 / 1e6)
        self.assertAlmostEqual(win[0][1], 67000 * 8 / 67 / 1e6)
        self.assertAlmostEqual(win[66][1], 67000 * 8 / 1e6)
        self.assertAlmostEqual(win[-1][1], 67000 * 8 / 1e6)

    def test_trace_capacity_follows_the_lead_and_repeats(self):
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        p = os.path.join(d, "t.down")
        # 2 s period: 10 opportunities in the first second, 1 in the next
        # (at 2000 ms, the next cycle's 0).
        with open(p, "w") as f:
            f.write("\n".join(["0"] * 10 + ["2000"]) + "\n")
        cap = plot.trace_capacity(p, 0.0, 3)
        self.assertEqual([round(v * 1e6 / 12000) for _, v in cap[:4]],
                         [11, 0, 11, 0])
        cap = plot.trace_capacity(p, 1.0, 3)
        self.assertEqual([round(v * 1e6 / 12000) for _, v in cap[:4]],
                         [0, 11, 0, 11])


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=1)
