"""scone-lab's scenario files: what they mean, what is refused (always as
FILE:LINE: reason), and that no damaged file gets through as anything but
a ScenarioError.

usage: python3 test_scenario.py LAB_DIR   (the source tree's lab/)
"""

import os
import random
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
LAB = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else None
sys.path.insert(0, LAB or ".")
from sconelab import scenario  # noqa: E402
from sconelab.scenario import ScenarioError  # noqa: E402
from sconelab.session import link_args, player_args, sconed_config  # noqa: E402

GOOD = """; a comment
[scenario]
name = s3-att
description = SCONE over a trace ; an inline comment
seeds = 1 2, 3
duration = 90s

[link]
down = trace:ATT-LTE-driving-2016.down
up = 2M
delay = 20ms
up_delay = 30ms
loss = 1%
queue = 100p
down_queue = 150kB

[element]
plan = 1.5M
action = police
burst = 64k
max_delay = 300ms
capacity = 20M

[client]
scone = yes
path = /bytes/5M
repeat = 3
interval = 500ms
scone_interval = 1s

[events]
30s = capacity 1M
10s = capacity 3M
"""


def parse(text, name="s.ini"):
    return scenario.parse(text, os.path.join(LAB, "scenarios", name))


class Meaning(unittest.TestCase):
    def test_good(self):
        sc = parse(GOOD)
        self.assertEqual(sc.name, "s3-att")
        self.assertEqual(sc.description, "SCONE over a trace")
        self.assertEqual(sc.seeds, [1, 2, 3])
        self.assertEqual(sc.duration, 90)
        self.assertEqual(sc.link["down"].trace, os.path.join(
            LAB, "traces", "ATT-LTE-driving-2016.down"))
        self.assertEqual(sc.link["up"].rate, 2000000)
        self.assertEqual(sc.link["down_delay"], 0.020)
        self.assertEqual(sc.link["up_delay"], 0.030)
        self.assertEqual(sc.link["up_loss"], 0.01)
        self.assertEqual(sc.link["up_queue"], "100p")
        self.assertEqual(sc.link["down_queue"], "150kB")
        self.assertEqual(sc.element["plan"], 1500000)
        self.assertEqual(scenario.rate("1.1M"), 1100000)
        self.assertEqual(scenario.rate("2.5Mbit/s"), 2500000)
        self.assertEqual([(e.at, e.bps) for e in sc.events],
                         [(10, 3000000), (30, 1000000)])

    def test_defaults_and_name(self):
        sc = parse("[client]\npath = /bytes/1K\n", "my-run.ini")
        self.assertEqual(sc.name, "my-run")
        self.assertEqual(sc.seeds, [1])
        self.assertIsNone(sc.link["down"].rate)
        self.assertIsNone(sc.link["down"].trace)
        self.assertTrue(sc.element["sconed"])
        self.assertEqual(sc.period, 67)

    def test_programs_arguments(self):
        sc = parse(GOOD)
        a = link_args(sc, 7)
        self.assertEqual(a[:2], ["--seed", "7"])
        self.assertIn("--down-trace", a)
        self.assertEqual(a[a.index("--up-rate") + 1], "2000000")
        self.assertEqual(a[a.index("--up-delay") + 1], "30000us")
        self.assertEqual(a[a.index("--down-queue") + 1], "150kB")
        cfg = sconed_config(sc)
        for line in ("period = 67s", "downlink = 1500000", "action = police",
                     "rate = 1500000", "burst = 64k", "max_delay = 300ms",
                     "[capacity cell]", "rate = 20000000",
                     "subscriber = 10.70.1.0/24 lab opt-in capacity=cell"):
            self.assertIn(line + "\n", cfg)
        # Enforced, not signalled: a rate without downlink advice.
        sc = parse("[element]\nplan = 1.5M\nadvice = no\naction = shape\n")
        cfg = sconed_config(sc)
        self.assertNotIn("downlink", cfg)
        self.assertIn("rate = 1500000\n", cfg)
        self.assertNotIn("[dpi]", cfg)
        # Today's DPI throttling: the [dpi] names; the client's SNI.
        sc = parse("[element]\nplan = 1.5M\nadvice = no\naction = police\n"
                   "legacy_dpi = yes\ndpi_sni = a.example .b.example\n"
                   "[client]\nsni = a.example\n")
        cfg = sconed_config(sc)
        self.assertIn("[dpi]\nsni = a.example\nsni = .b.example\n", cfg)
        self.assertEqual(sc.client["sni"], "a.example")
        # The player sends the scenario's SNI too, and connects to the
        # server's address all the same.
        sc = parse("[element]\nplan = 1.5M\nadvice = no\naction = shape\n"
                   "legacy_dpi = yes\n[client]\nprogram = scone-player\n"
                   "scone = no\nsni = v.example\n[server]\nscone = no\n")
        progs = {"scone-player": "/p"}
        a = player_args(sc, progs, "/o", 1)
        self.assertEqual(a[a.index("--sni") + 1], "v.example")
        self.assertTrue(a[1].startswith("https://10.70.2.2:"))
        self.assertNotIn("--sni", player_args(parse(
            "[client]\nprogram = scone-player\n"), progs, "/o", 1))

    def test_shipped_scenarios_parse(self):
        d = os.path.join(LAB, "scenarios")
        names = [n for n in os.listdir(d) if n.endswith(".ini")]
        self.assertTrue(names)
        for n in names:
            with open(os.path.join(d, n)) as f:
                scenario.parse(f.read(), os.path.join(d, n))


class Refusals(unittest.TestCase):
    def refused(self, text, line, words):
        with self.assertRaises(ScenarioError) as cm:
            parse(text)
        msg = str(cm.exception)
        want = f"s.ini:{line}: " if line else "s.ini: "
        self.assertIn(want, msg)
        self.assertIn(words, msg)

    def test_refusals(self):
        self.refused("[scenario]\nseeds = 1\n[nope]\n", 3, "unknown section")
        self.refused("[link]\nspeed = 5M\n", 2, "unknown key 'speed'")
        self.refused("[link]\ndown = 5M\ndown = 6M\n", 3, "first on line 2")
        self.refused("[link]\ndown = fast\n", 2, "not a capacity")
        self.refused("[link]\ndown = trace:nothing-here\n", 2, "not found")
        self.refused("[link]\ndelay = 20\n", 2, "not a duration")
        self.refused("[link]\nloss = 2\n", 2, "between 0 and 1")
        self.refused("[link]\nqueue = 100\n", 2, "not a queue bound")
        self.refused("[link]\nqueue = 0p\n", 2, "not a queue bound")
        self.refused("[link]\n\ndown\n", 3, "key = value")
        self.refused("down = 5M\n", 1, "outside any section")
        self.refused("[link]\ndown =\n", 2, "no value")
        self.refused("[link\n", 1, "[name]")
        self.refused("[link]\n[link]\n", 2, "again")
        self.refused("[scenario]\nseeds = 1 x\n", 2, "not a whole number")
        self.refused("[scenario]\nseeds = 1 1\n", 2, "repeated")
        self.refused("[scenario]\nperiod = 500ms\n", 2, "at least 1 s")
        # A shortened period is written with sconed's lab switch.
        cfg = sconed_config(parse("[scenario]\nperiod = 10s\n"))
        self.assertIn("period = 10s\nlab_short_period = yes\n", cfg)
        self.assertNotIn("lab_short_period", sconed_config(parse("")))
        self.refused("[scenario]\nperiod = 2h\n", 2, "not a duration")
        self.refused("[scenario]\nperiod = 61min\n", 2, "up to 3600 s")
        self.assertEqual(parse("[scenario]\nperiod = 2min\n").period, 120)
        self.refused("[element]\naction = police\n", 2, "needs a plan")
        self.refused("[element]\nsconed = no\nplan = 1M\n", 3, "no element")
        self.refused("[element]\nconfig = smoke.ini\nplan = 1M\n", 3,
                     "config file says everything")
        self.refused("[events]\n5s = capacity 1M\n", 2, "needs [element] "
                     "capacity")
        self.refused("[element]\ncapacity = 5M\n[events]\n5s = capacity 1M\n"
                     "5000ms = capacity 2M\n", 5, "second event")
        self.refused("[element]\ncapacity = 5M\n[events]\n5s = shrink 1M\n",
                     4, "TIME = capacity RATE")
        self.refused("[scenario]\nduration = 10s\n[element]\ncapacity = 5M\n"
                     "[events]\n20s = capacity 1M\n", 6, "after the session")
        self.refused("[client]\nfollow_advice = no\n", 2, "player setting")
        self.refused("[client]\nprogram = scone-player\npath = /x\n", 3,
                     "scone-client's")
        sc = parse("[client]\nprogram = scone-player\nfollow_advice = no\n"
                   "[element]\nargs = --foo 'a b'\n")
        self.assertFalse(sc.client["follow_advice"])
        self.assertEqual(sc.element["args"], ["--foo", "a b"])
        self.refused("[element]\nargs = 'open\n", 2, "args")
        self.refused("[element]\nsconed = no\nargs = -q\n", 3, "no element")
        self.refused("[client]\npath = bytes\n", 2, "URL path")
        self.refused("[element]\nplan = 1M\naction = police\nburst = lots\n",
                     4, "size in bytes")
        self.refused("[link]\nup = 1.0000001bit\n", 2, "not a capacity")
        self.refused("[element]\nplan = 1M\nmax_delay = 1s\n", 3,
                     "needs action")
        self.refused("[element]\nplan = 1M\nlegacy_dpi = yes\n", 3,
                     "gives no advice")
        self.refused("[element]\ndpi_sni = a.example\n", 2,
                     "needs legacy_dpi")

    def test_damaged_files(self):
        """Cut, spliced and flipped versions of a good file: each parses
        or is refused with a line of the file, never anything else."""
        rng = random.Random(11)
        lines = GOOD.count("\n") + 1
        alphabet = "[]=;#% \n:.0123456789kKmMsptrace/-_abcnoyes"
        outcomes = {"parsed": 0, "refused": 0}
        for _ in range(3000):
            t = list(GOOD)
            for _ in range(rng.randint(1, 4)):
                op = rng.randrange(3)
                i = rng.randrange(len(t) + 1)
                if op == 0 and t:
                    del t[min(i, len(t) - 1):i + rng.randint(1, 12)]
                elif op == 1:
                    t.insert(i, rng.choice(alphabet))
                elif t:
                    t[min(i, len(t) - 1)] = rng.choice(alphabet)
            text = "".join(t)
            try:
                parse(text)
                outcomes["parsed"] += 1
            except ScenarioError as e:
                outcomes["refused"] += 1
                msg = str(e)
                self.assertTrue(msg.startswith(os.path.join(
                    LAB, "scenarios", "s.ini")), msg)
                rest = msg.split("s.ini", 1)[1]
                if rest[1:2].isdigit():
                    n = int(rest[1:].split(":", 1)[0])
                    self.assertTrue(1 <= n <= lines + 20, msg)
        # Both ways out were taken, many times.
        self.assertGreater(min(outcomes.values()), 100, outcomes)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=1)
