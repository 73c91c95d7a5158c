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

With --programs, the other tests instead: the shell and Python suites
(e2e, datapath, policy, player, bridge, lab link...) run natively, but each
of the project's programs they are given (an argument that is a program
of BUILD/bin: sconed, scone-server, scone-client, scone-player, ...) is
replaced by a wrapper that execs it under valgrind, so every process of
those programs the test starts is checked, one log per process. The test
tools of BUILD/tests/bin that drive them stay native.

  scripts/memcheck.py [BUILD] --programs [-R REGEX]   (make memcheck-e2e)

A process valgrind saw errors in makes the test "error" whatever the
test's result. A test that fails with no memcheck error is "failed" (most
often its timing: valgrind runs a program 20 to 50 times slower). A
process killed with SIGKILL (the tests of kill -9 do it) leaves no leak
summary; its errors up to then are still counted.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time


VG = ["valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite",
      "--show-leak-kinds=definite", "--track-fds=no",
      # libbpf's bpf(2) calls, which valgrind 3.19 models too strictly
      "--suppressions=" + os.path.join(os.path.dirname(
          os.path.abspath(__file__)), "valgrind.supp")]
ERR_HEAD = re.compile(r"^==\d+== (Invalid (read|write|free)|Conditional jump|"
                      r"Use of uninitialised|Syscall param|Mismatched free|"
                      r"Source and destination overlap|.* definitely lost in)")
SUMMARY = re.compile(r"^==\d+== ERROR SUMMARY: (\d+) errors")


def test_env(t):
    """A ctest test's properties, and the environment it runs in."""
    props = {p["name"]: p["value"] for p in t.get("properties", [])}
    env = dict(os.environ)
    for kv in props.get("ENVIRONMENT", []):
        k, _, v = kv.partition("=")
        env[k] = v
    return props, env


def log_errors(path):
    """Errors in one valgrind log, as the reports it holds (one per
    context), and whether the process lived to write its summary. Not the
    summary's count: a forked child's (sconed's queue keeper) starts from
    its parent's, whose errors its own log does not show."""
    heads, summed = 0, False
    with open(path, errors="replace") as lf:
        for line in lf:
            summed |= bool(SUMMARY.match(line))
            heads += bool(ERR_HEAD.match(line))
    return heads, summed


def is_elf(path):
    """A compiled program (a script in BUILD/bin would check the shell)."""
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def wrap_programs(cmd, build, wrapdir, logdir, name):
    """cmd with each program of BUILD/bin replaced by a valgrind wrapper;
    the names wrapped."""
    bindir = os.path.join(build, "bin") + os.sep
    os.makedirs(wrapdir, exist_ok=True)
    out, wrapped = [], []
    for arg in cmd:
        if arg.startswith(bindir) and os.access(arg, os.X_OK) and \
                is_elf(arg):
            prog = os.path.basename(arg)
            w = os.path.join(wrapdir, prog)
            log = os.path.join(logdir, "%s.%s.%%p.log" % (name, prog))
            with open(w, "w") as f:
                f.write("#!/bin/sh\nexec %s --log-file=%s %s \"$@\"\n" % (
                    " ".join(VG), log, arg))
            os.chmod(w, 0o755)
            out.append(w)
            wrapped.append(prog)
        else:
            out.append(arg)
    return out, sorted(set(wrapped))


def run_programs(a, build, tests):
    """--programs: the suites that start the project's programs."""
    bindir = os.path.join(build, "tests", "bin") + os.sep
    logdir = os.path.join(build, "memcheck", "programs")
    os.makedirs(logdir, exist_ok=True)
    # Tests that run a program as another user (sconed_notify drops to
    # nobody with CAP_NET_ADMIN) still need its log written.
    os.chmod(logdir, 0o1777)
    counts = {"clean": 0, "error": 0, "failed": 0, "skipped": 0,
              "not finished": 0}
    procs = errs = 0
    start = time.time()
    for t in tests:
        cmd = t.get("command") or []
        # callgrind_gate runs its programs under valgrind itself.
        if not cmd or cmd[0].startswith(bindir) or "callgrind" in t["name"]:
            continue
        if a.regex and not re.search(a.regex, t["name"]):
            continue
        for old in os.listdir(logdir):
            if old.startswith(t["name"] + "."):
                os.unlink(os.path.join(logdir, old))
        wcmd, wrapped = wrap_programs(
            cmd, build, os.path.join(build, "memcheck", "wrap", t["name"]),
            logdir, t["name"])
        if not wrapped:
            continue
        props, env = test_env(t)
        out = os.path.join(logdir, t["name"] + ".out")
        t0 = time.time()
        try:
            with open(out, "w") as of:
                rc = subprocess.run(wcmd, cwd=props.get("WORKING_DIRECTORY",
                                                        build),
                                    env=env, stdout=of,
                                    stderr=subprocess.STDOUT,
                                    timeout=a.timeout).returncode
            res = "clean" if rc == 0 else "skipped" if rc == 77 else "failed"
        except subprocess.TimeoutExpired:
            res = "not finished"
        n = e = unsummed = 0
        bad = []
        for lf in sorted(os.listdir(logdir)):
            if not (lf.startswith(t["name"] + ".") and lf.endswith(".log")):
                continue
            k, summed = log_errors(os.path.join(logdir, lf))
            n += 1
            e += k
            unsummed += not summed
            if k:
                bad.append(lf)
        procs += n
        errs += e
        if e:
            res = "error"
        counts[res] += 1
        print("%-32s %-12s %7.1f s  %d processes of %s, %d errors%s" % (
            t["name"], res, time.time() - t0, n, ",".join(wrapped), e,
            " (%d killed before their summary)" % unsummed
            if unsummed else ""), flush=True)
        for lf in bad:
            print("  see " + os.path.join(logdir, lf), flush=True)
        if res == "failed":
            print("  output: " + out, flush=True)
    print("memcheck --programs: %s; %d processes checked, %d errors, in %.0f s"
          % (", ".join("%d %s" % (n, k) for k, n in counts.items()), procs,
             errs, time.time() - start))
    return 1 if counts["error"] else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default="build")
    ap.add_argument("-R", dest="regex", default="")
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--programs", action="store_true")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    tests = json.loads(
        subprocess.run(["ctest", "--show-only=json-v1"], cwd=build,
                       check=True, capture_output=True, text=True).stdout
    )["tests"]
    if a.programs:
        return run_programs(a, build, tests)
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
        props, env = test_env(t)
        log = os.path.join(logdir, t["name"] + ".log")
        vg = VG + ["--error-exitcode=99", "--log-file=" + log]
        # The QUIC tests' deadlines for a transfer (tests/quic/harness.c).
        env.setdefault("SCONE_TEST_TIME_SCALE", "30")
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
