#!/usr/bin/env python3
"""Valgrind memcheck over the compiled test programs of a build.

Every ctest test whose command is a program in BUILD/tests/bin (the unit
suites and the fuzz corpus replays; not the shell and Python suites, whose
children valgrind would not follow) runs under
  valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
with the test's working directory and environment, one at a time. Prints a
line per test (result, seconds) and a summary; exits 1 when any test had a
memcheck error or failed. A test over --timeout seconds is stopped and
reported as not finished (not a pass). Exit 77 (skip) stays a skip. A
program that fails because valgrind lacks a system call it makes is
reported as such.

  scripts/memcheck.py [BUILD] [-R REGEX] [--timeout S]   (make memcheck)
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default="build")
    ap.add_argument("-R", dest="regex", default="")
    ap.add_argument("--timeout", type=float, default=900)
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    tests = json.loads(
        subprocess.run(["ctest", "--show-only=json-v1"], cwd=build,
                       check=True, capture_output=True, text=True).stdout
    )["tests"]
    bindir = os.path.join(build, "tests", "bin") + os.sep
    logdir = os.path.join(build, "memcheck")
    os.makedirs(logdir, exist_ok=True)
    counts = {"clean": 0, "error": 0, "failed": 0, "skipped": 0,
              "not finished": 0, "syscall unknown to valgrind": 0}
    start = time.time()
    for t in tests:
        cmd = t.get("command") or []
        if not cmd or not cmd[0].startswith(bindir):
            continue
        if a.regex and not re.search(a.regex, t["name"]):
            continue
        props = {p["name"]: p["value"] for p in t.get("properties", [])}
        env = dict(os.environ)
        for kv in props.get("ENVIRONMENT", []):
            k, _, v = kv.partition("=")
            env[k] = v
        log = os.path.join(logdir, t["name"] + ".log")
        vg = ["valgrind", "--error-exitcode=99", "--leak-check=full",
              "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite",
              "--track-fds=no", "--log-file=" + log]
        t0 = time.time()
        try:
            rc = subprocess.run(vg + cmd, cwd=props.get("WORKING_DIRECTORY",
                                                         build),
                                env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL,
                                timeout=a.timeout).returncode
            res = ("clean" if rc == 0 else "error" if rc == 99 else
                   "skipped" if rc == 77 else "failed")
        except subprocess.TimeoutExpired:
            res = "not finished"
        # A program that needs a system call this valgrind does not know
        # (openat2 in older ones) cannot be checked with it: said, not
        # counted as a failure of the program.
        if res == "failed":
            with open(log, errors="replace") as lf:
                if "unhandled amd64-linux syscall" in lf.read():
                    res = "syscall unknown to valgrind"
        counts[res] += 1
        print("%-40s %-12s %7.1f s" % (t["name"], res, time.time() - t0),
              flush=True)
        if res in ("error", "failed"):
            print("  see " + log, flush=True)
    print("memcheck: %s in %.0f s" % (
        ", ".join("%d %s" % (n, k) for k, n in counts.items()),
        time.time() - start))
    return 1 if counts["error"] or counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
