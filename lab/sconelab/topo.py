"""The lab's network: four namespaces in a line,

    client c0 --- l0 [link] l1 --- r0 [router] r1 --- s0 server
    10.70.1.2          (scone-link)   10.70.1.1  10.70.2.1   10.70.2.2

The link namespace has no addresses and no forwarding: scone-link moves
frames between l0 and l1, so the client and the router's r0 share a subnet
through the emulated access link. The router forwards, and with an element
sends the forwarded UDP of r0 (the subscriber side) through NFQUEUE to
sconed (scripts/sconed-iptables.sh). IPv4 only: no IPv6 autoconfiguration
frames cross the link or count in its figures.

Namespace names carry the runner's pid (slab-PID-ROLE), so runs do not
collide and `scone-lab --cleanup` can tell a dead run's leftovers.
"""

import os
import re
import signal
import subprocess
import time

PREFIX = "slab"
ROLES = ("c", "l", "r", "s")  # client, link, router, server
CLIENT, ROUTER_C, ROUTER_S, SERVER = ("10.70.1.2", "10.70.1.1", "10.70.2.1",
                                      "10.70.2.2")
SUBSCRIBERS = "10.70.1.0/24"
NFQUEUE = 7
TOOLS = ("ip", "iptables", "ethtool", "sysctl")


class LabError(Exception):
    pass


def can_run():
    """None when this process may build the lab, else the reason."""
    if os.geteuid() != 0:
        return "not root (network namespaces need it)"
    for t in TOOLS:
        if not any(os.access(os.path.join(d, t), os.X_OK)
                   for d in os.environ.get("PATH", "").split(":") +
                   ["/usr/sbin", "/sbin"]):
            return f"{t} not installed"
    return None


def run(argv, check=True):
    """Runs a set-up command; a failure names the command and its error."""
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                       text=True)
    if check and r.returncode != 0:
        raise LabError(f"{' '.join(argv)}: exit {r.returncode}: "
                       f"{r.stderr.strip() or r.stdout.strip()}")
    return r


def netns_list():
    r = run(["ip", "netns", "list"], check=False)
    return [line.split()[0] for line in r.stdout.splitlines() if line.split()]


def _kill_inside(ns):
    """Kills what runs in namespace ns: deleting a namespace does not."""
    r = run(["ip", "netns", "pids", ns], check=False)
    pids = [int(p) for p in r.stdout.split() if p.isdigit()]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for p in pids:
            try:
                os.kill(p, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 3
        while pids and time.monotonic() < deadline:
            pids = [p for p in pids if os.path.exists(f"/proc/{p}")]
            time.sleep(0.05)
        if not pids:
            return


def remove(names):
    for ns in names:
        _kill_inside(ns)
        run(["ip", "netns", "del", ns], check=False)


def leftovers(everything=False):
    """Lab namespaces whose run is gone (all of them with everything)."""
    out = []
    for ns in netns_list():
        m = re.match(rf"^{PREFIX}-(\d+)-[{''.join(ROLES)}]$", ns)
        if m and (everything or not os.path.exists(f"/proc/{m.group(1)}")):
            out.append(ns)
    return out


class Topology:
    def __init__(self, tag=None):
        self.tag = tag or f"{PREFIX}-{os.getpid()}"
        self.ns = {r: f"{self.tag}-{r}" for r in ROLES}
        self.made = []

    def exec_in(self, role):
        return ["ip", "netns", "exec", self.ns[role]]

    def _in(self, role, *argv):
        return run(self.exec_in(role) + list(argv))

    def up(self, iptables_script, element):
        """Builds the namespaces; with element, NFQUEUE rules on r0."""
        for r in ROLES:
            run(["ip", "netns", "add", self.ns[r]])
            self.made.append(self.ns[r])
            run(["ip", "-n", self.ns[r], "link", "set", "lo", "up"])
            self._in(r, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                     "net.ipv6.conf.default.disable_ipv6=1")
        c, l, r, s = (self.ns[x] for x in ROLES)
        run(["ip", "-n", l, "link", "add", "l0", "type", "veth", "peer",
             "name", "c0", "netns", c])
        run(["ip", "-n", l, "link", "add", "l1", "type", "veth", "peer",
             "name", "r0", "netns", r])
        run(["ip", "-n", r, "link", "add", "r1", "type", "veth", "peer",
             "name", "s0", "netns", s])
        for role, dev in (("c", "c0"), ("l", "l0"), ("l", "l1"),
                          ("r", "r0"), ("r", "r1"), ("s", "s0")):
            run(["ip", "-n", self.ns[role], "link", "set", dev, "up"])
            # MTU-sized frames through the emulator (no GSO/GRO
            # aggregates) and complete checksums on the wire.
            self._in(role, "ethtool", "-K", dev, "tx", "off", "gso", "off",
                     "gro", "off", "tso", "off")
        run(["ip", "-n", c, "addr", "add", f"{CLIENT}/24", "dev", "c0"])
        run(["ip", "-n", r, "addr", "add", f"{ROUTER_C}/24", "dev", "r0"])
        run(["ip", "-n", r, "addr", "add", f"{ROUTER_S}/24", "dev", "r1"])
        run(["ip", "-n", s, "addr", "add", f"{SERVER}/24", "dev", "s0"])
        run(["ip", "-n", c, "route", "add", "default", "via", ROUTER_C])
        run(["ip", "-n", s, "route", "add", "default", "via", ROUTER_S])
        self._in("r", "sysctl", "-qw", "net.ipv4.ip_forward=1")
        if element:
            self._in("r", "sh", iptables_script, "install", "--queue",
                     str(NFQUEUE), "--iface", "r0", "--family", "4")

    def down(self):
        """Stops everything inside and removes the namespaces (the rules go
        with the router's). Safe to call twice."""
        remove(self.made)
        self.made = []
