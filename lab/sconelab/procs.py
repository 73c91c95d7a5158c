"""The lab's programs as background processes, each with its output in
files, started through `ip netns exec` (which execs, so the pid is the
program's own and /proc/PID/stat is its CPU time)."""

import os
import re
import signal
import subprocess
import time

from .topo import LabError

_TICK = os.sysconf("SC_CLK_TCK")


class Proc:
    def __init__(self, name, argv, out, err):
        self.name, self.argv, self.out, self.err = name, argv, out, err
        with open(out, "wb") as o, open(err, "wb") as e:
            self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                      stdout=o, stderr=e,
                                      start_new_session=True)
        self.rc = None

    def running(self):
        return self.p.poll() is None

    def wait_for(self, pattern, timeout, path=None):
        """Waits until a line of its stderr (or path) matches pattern."""
        path = path or self.err
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(path, errors="replace") as f:
                for line in f:
                    if rx.search(line):
                        return line
            if not self.running():
                break
            time.sleep(0.05)
        raise LabError(f"{self.name} did not print /{pattern}/ "
                       f"(exit {self.p.poll()}):\n{self.tail()}")

    def tail(self, n=15):
        lines = []
        for path in (self.out, self.err):
            with open(path, errors="replace") as f:
                lines += f.read().splitlines()[-n:]
        return "\n".join("  " + s for s in lines)

    def cpu_seconds(self):
        """user + system CPU so far, from the kernel's accounting (what
        the program's own getrusage would say)."""
        try:
            with open(f"/proc/{self.p.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / _TICK
        except (OSError, IndexError, ValueError):
            return None

    def signal(self, sig):
        if self.running():
            try:
                os.kill(self.p.pid, sig)
            except ProcessLookupError:
                pass

    def stop(self, timeout=10):
        """SIGTERM, then SIGKILL; the exit status (negative: a signal)."""
        if self.running():
            self.signal(signal.SIGTERM)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.p.wait()
        self.rc = self.p.returncode
        return self.rc
