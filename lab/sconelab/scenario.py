"""Scenario files: one lab scenario per INI file (docs/lab.md has the
format). Every unknown section or key, repeated key and bad value is refused
as FILE:LINE: reason, the way sconed refuses its config; nothing is guessed.
"""

import os
import re
from dataclasses import dataclass, field
from decimal import Decimal


class ScenarioError(Exception):
    """A refusal: str() is FILE:LINE: reason (FILE: reason without a line)."""


# ------------------------------------------------------------------ values
# The grammars match what the programs accept (scone-link's and sconed's
# parsers are the authority at run time; these catch mistakes with a line).

_RATE = re.compile(r"^(\d+(?:\.\d+)?)([kmg]?)(?:bit/s|bps|bit)?$", re.I)
_DUR = re.compile(r"^(\d+(?:\.\d+)?)(us|ms|s|min)$")
_QUEUE = re.compile(r"^(\d+)(p|pkt|packets)$|^(\d+(?:\.\d+)?)(b|kb|k|mb|m)$",
                    re.I)
_SCALE = {"": 1, "k": 1000, "m": 1000000, "g": 1000000000}


def rate(v):
    """bit/s: 5M, 1.5M, 800k, 1500000."""
    m = _RATE.match(v)
    if not m:
        raise ValueError(f"'{v}' is not a rate (5M, 1.5M, 800k, 1500000)")
    # Decimal: 1.1M must be 1100000 exactly, as sconed and scone-link
    # read it.
    bps = Decimal(m.group(1)) * _SCALE[m.group(2).lower()]
    if bps != int(bps) or bps <= 0:
        raise ValueError(f"'{v}' is not a whole number of bit/s above 0")
    return int(bps)


def duration(v):
    """Seconds (a float) from 500us, 20ms, 67s, 2min."""
    m = _DUR.match(v)
    if not m:
        raise ValueError(f"'{v}' is not a duration (20ms, 67s, 2min)")
    mult = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0}[m.group(2)]
    return float(m.group(1)) * mult


def loss(v):
    """A probability from 0.01 or 1%."""
    pct = v.endswith("%")
    try:
        p = float(v[:-1] if pct else v)
    except ValueError:
        raise ValueError(f"'{v}' is not a probability (0.01, or 1%)") from None
    p = p / 100 if pct else p
    if not 0 <= p <= 1:
        raise ValueError(f"'{v}' is not between 0 and 1 (or 0% and 100%)")
    return p


def queue(v):
    """A drop-tail bound as scone-link takes it: 100p or 150kB."""
    if v == "none":
        return None
    m = _QUEUE.match(v)
    if not m or (m.group(1) and int(m.group(1)) == 0):
        raise ValueError(f"'{v}' is not a queue bound (100p for packets, "
                         "150kB for bytes, or none)")
    return v


def size(v):
    """Bytes as sconed takes them: 64k, 1500, 1M."""
    if not re.match(r"^\d+(\.\d+)?([km]b?|b)?$", v, re.I):
        raise ValueError(f"'{v}' is not a size in bytes (64k, 1500, 1M)")
    return v


def boolean(v):
    if v in ("yes", "true", "on"):
        return True
    if v in ("no", "false", "off"):
        return False
    raise ValueError(f"'{v}' is not yes or no")


def choice(*allowed):
    def parse(v):
        if v not in allowed:
            raise ValueError(f"'{v}' is not one of: {', '.join(allowed)}")
        return v
    return parse


def optional(parse):
    """parse, or None for 'none'."""
    return lambda v: None if v == "none" else parse(v)


def seeds(v):
    out = []
    for s in v.replace(",", " ").split():
        if not s.isdigit():
            raise ValueError(f"seed '{s}' is not a whole number")
        out.append(int(s))
    if not out:
        raise ValueError("no seeds")
    if len(set(out)) != len(out):
        raise ValueError("a seed is repeated")
    return out


def text(v):
    return v


def words(v):
    """Extra program arguments, split as a shell would (no expansion)."""
    import shlex
    try:
        return shlex.split(v)
    except ValueError as e:
        raise ValueError(f"'{v}': {e}") from None


def name(v):
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*$", v):
        raise ValueError(f"'{v}' is not a name (letters, digits, . _ -)")
    return v


def http_path(v):
    if not v.startswith("/") or any(c.isspace() for c in v):
        raise ValueError(f"'{v}' is not a URL path (/bytes/2M)")
    return v


def count(v):
    if not v.isdigit() or not 1 <= int(v) <= 100000:
        raise ValueError(f"'{v}' is not a count from 1 to 100000")
    return int(v)


@dataclass
class Capacity:
    """One direction's capacity: a fixed rate, a trace file, or none."""
    rate: int = None
    trace: str = None  # absolute path


# The traces the lab ships (lab/traces/).
TRACES = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "traces")


def capacity_in(base_dir):
    def parse(v):
        if v == "none":
            return Capacity()
        if v.startswith("trace:"):
            f = v[len("trace:"):]
            if not f:
                raise ValueError("trace: needs a file (trace:FILE)")
            # Beside the scenario, else one of the shipped traces.
            for d in (base_dir, TRACES):
                p = os.path.normpath(os.path.join(d, f))
                if os.path.isfile(p):
                    return Capacity(trace=p)
            raise ValueError(f"trace file {f} not found (beside the "
                             f"scenario nor in {TRACES})")
        try:
            return Capacity(rate=rate(v))
        except ValueError:
            raise ValueError(f"'{v}' is not a capacity (5M, trace:FILE or "
                             "none)") from None
    return parse


def file_in(base_dir):
    def parse(v):
        p = os.path.normpath(os.path.join(base_dir, v))
        if not os.path.isfile(p):
            raise ValueError(f"file {p} not found")
        return p
    return parse


# ------------------------------------------------------------------ schema

PERIOD_DRAFT = 67.0  # the draft's monitoring period, and sconed's minimum
PERIOD_LAB_MIN = 1.0  # with sconed's lab_short_period, not draft-conforming


def _schema(base_dir):
    """section -> key -> (parser, default). Defaults are parsed values."""
    cap = capacity_in(base_dir)
    return {
        "scenario": {
            "name": (name, None),
            "description": (text, ""),
            "seeds": (seeds, [1]),
            "duration": (duration, 120.0),
            "period": (duration, PERIOD_DRAFT),
        },
        "link": {
            "down": (cap, Capacity()),
            "up": (cap, Capacity()),
            "delay": (duration, 0.0),
            "down_delay": (duration, None),
            "up_delay": (duration, None),
            "loss": (loss, 0.0),
            "down_loss": (loss, None),
            "up_loss": (loss, None),
            "queue": (queue, None),
            "down_queue": (queue, None),
            "up_queue": (queue, None),
        },
        "element": {
            "sconed": (boolean, True),
            "plan": (optional(rate), None),
            "advice": (boolean, True),
            "action": (choice("none", "police", "shape"), "none"),
            "burst": (size, None),
            "max_delay": (duration, None),
            "capacity": (optional(rate), None),
            "config": (file_in(base_dir), None),
            "args": (words, []),
            # Today's DPI-targeted throttling (sconed --legacy-dpi): only
            # flows nDPI finds to be video, or whose server name is
            # dpi_sni, get the plan's action.
            "legacy_dpi": (boolean, False),
            "dpi_sni": (optional(text), None),
        },
        "client": {
            "program": (choice("scone-client", "scone-player"),
                        "scone-client"),
            "scone": (boolean, True),
            "follow_advice": (boolean, True),
            "path": (http_path, "/bytes/1M"),
            "repeat": (count, 1),
            "interval": (duration, 1.0),
            "scone_interval": (duration, None),
            "max_buffer": (duration, None),
            "budget_period": (duration, None),
            # The TLS server name the client or player sends (--sni),
            # e.g. a video CDN's, for the DPI to find.
            "sni": (optional(text), None),
        },
        "server": {
            "scone": (boolean, True),
            "scone_interval": (duration, None),
        },
    }


@dataclass
class Event:
    at: float  # seconds after the client starts
    what: str  # "capacity"
    bps: int
    line: int


@dataclass
class Scenario:
    path: str
    name: str
    description: str
    seeds: list
    duration: float
    period: float
    link: dict      # down/up: Capacity; per direction: delay, loss, queue
    element: dict
    client: dict
    server: dict
    events: list = field(default_factory=list)


def _lines(text_):
    """(lineno, section, key, value) of a file's settings; section lines
    come as (lineno, section, None, None)."""
    section = None
    for n, raw in enumerate(text_.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in ";#":
            continue
        # Inline comments need a space before them, so values may hold ';'.
        line = re.split(r"\s[;#]", line, maxsplit=1)[0].strip()
        if line.startswith("["):
            if not line.endswith("]") or len(line) < 3:
                raise ScenarioError(f"{n}: a section is [name]")
            section = line[1:-1].strip()
            yield n, section, None, None
            continue
        if "=" not in line:
            raise ScenarioError(f"{n}: expected key = value")
        key, value = (s.strip() for s in line.split("=", 1))
        if not key:
            raise ScenarioError(f"{n}: a setting needs a key")
        if not value:
            raise ScenarioError(f"{n}: '{key}' has no value")
        if section is None:
            raise ScenarioError(f"{n}: '{key}' is outside any section")
        yield n, section, key, value


def _event(at_text, value, n):
    try:
        at = duration(at_text)
    except ValueError as e:
        raise ScenarioError(f"{n}: event time: {e}") from None
    words = value.split()
    if len(words) != 2 or words[0] != "capacity":
        raise ScenarioError(f"{n}: an event is 'TIME = capacity RATE' "
                            "(20s = capacity 500k)")
    try:
        bps = rate(words[1])
    except ValueError as e:
        raise ScenarioError(f"{n}: {e}") from None
    return Event(at=at, what="capacity", bps=bps, line=n)


def parse(text_, path="<scenario>"):
    """A Scenario from a file's text; ScenarioError (FILE:LINE: reason)
    when anything is wrong. Relative files are relative to path's folder."""
    base = os.path.dirname(os.path.abspath(path))
    schema = _schema(base)
    values = {s: {} for s in schema}
    lines = {}
    events = []
    seen_sections = {}
    try:
        for n, section, key, value in _lines(text_):
            if key is None:
                if section not in schema and section != "events":
                    raise ScenarioError(f"{n}: unknown section [{section}] "
                                        "(scenario, link, element, client, "
                                        "server, events)")
                if section in seen_sections:
                    raise ScenarioError(f"{n}: section [{section}] again "
                                        f"(first on line "
                                        f"{seen_sections[section]})")
                seen_sections[section] = n
                continue
            if section == "events":
                ev = _event(key, value, n)
                for e in events:
                    if e.at == ev.at:
                        raise ScenarioError(f"{n}: a second event at {key} "
                                            f"(first on line {e.line})")
                events.append(ev)
                continue
            if key not in schema[section]:
                raise ScenarioError(f"{n}: unknown key '{key}' in "
                                    f"[{section}]")
            if key in values[section]:
                raise ScenarioError(f"{n}: '{key}' again (first on line "
                                    f"{lines[(section, key)]})")
            try:
                values[section][key] = schema[section][key][0](value)
            except ValueError as e:
                raise ScenarioError(f"{n}: {key}: {e}") from None
            lines[(section, key)] = n
    except ScenarioError as e:
        raise ScenarioError(f"{path}:{e}") from None
    for section, keys in schema.items():
        for key, (_, default) in keys.items():
            values[section].setdefault(key, default)
    sc = Scenario(
        path=path,
        name=values["scenario"]["name"] or
        re.sub(r"\.ini$", "", os.path.basename(path)),
        description=values["scenario"]["description"],
        seeds=values["scenario"]["seeds"],
        duration=values["scenario"]["duration"],
        period=values["scenario"]["period"],
        link=_link(values["link"]),
        element=values["element"],
        client=values["client"],
        server=values["server"],
        events=sorted(events, key=lambda e: e.at))
    _check(sc, lines, path)
    return sc


def _link(v):
    """Per-direction settings: down_X and up_X override X."""
    out = {"down": v["down"], "up": v["up"]}
    for d in ("down", "up"):
        for k in ("delay", "loss", "queue"):
            own = v[f"{d}_{k}"]
            out[f"{d}_{k}"] = own if own is not None else v[k]
    return out


def _check(sc, lines, path):
    """Rules across keys: what cannot run, and why."""
    def refuse(section, key, reason):
        n = lines.get((section, key))
        raise ScenarioError(f"{path}:{n}: {reason}" if n else
                            f"{path}: {reason}")

    el = sc.element
    if sc.period < PERIOD_LAB_MIN:
        refuse("scenario", "period",
               "period: at least 1 s (below the draft's 67 s sconed runs "
               "it as a lab's shortened period)")
    if sc.period > 3600 or sc.period != int(sc.period):
        refuse("scenario", "period", "period: whole seconds up to 3600 s "
               "(sconed's range)")
    if el["config"]:
        for k in ("plan", "action", "burst", "max_delay", "capacity"):
            if (("element", k) in lines):
                refuse("element", k, f"'{k}' and 'config' both set: the "
                       "config file says everything")
    if not el["sconed"]:
        for k in ("plan", "action", "burst", "max_delay", "capacity",
                  "config", "args"):
            if ("element", k) in lines:
                refuse("element", k,
                       f"'{k}' needs sconed = yes (there is no element)")
    for k in ("burst", "max_delay"):
        if ("element", k) in lines and el["action"] == "none":
            refuse("element", k, f"'{k}' is the enforcement's: it needs "
                   "action = police or shape")
    if el["action"] != "none" and not el["plan"]:
        refuse("element", "action", "an action needs a plan rate to "
               "enforce (plan = 1.5M)")
    if el["legacy_dpi"] and el["advice"]:
        refuse("element", "legacy_dpi", "legacy_dpi = yes is today's "
               "element: it gives no advice (set advice = no)")
    if ("element", "dpi_sni") in lines and not el["legacy_dpi"]:
        refuse("element", "dpi_sni", "dpi_sni needs legacy_dpi = yes")
    if el["advice"] is False and not el["plan"]:
        refuse("element", "advice", "advice = no only means something with "
               "a plan (enforced without being signalled)")
    for e in sc.events:
        if not el["sconed"] or (not el["capacity"] and not el["config"]):
            raise ScenarioError(f"{path}:{e.line}: a capacity event needs "
                                "[element] capacity (the cell it changes)")
        if e.at >= sc.duration:
            raise ScenarioError(f"{path}:{e.line}: the event comes after "
                                "the session's duration")
    player = sc.client["program"] == "scone-player"
    if not player:
        for k in ("follow_advice", "max_buffer", "budget_period"):
            if ("client", k) in lines:
                refuse("client", k, f"{k} is a player setting (scone-client "
                       "does not adapt to advice)")
    else:
        for k in ("path", "repeat", "interval", "scone_interval"):
            if ("client", k) in lines:
                refuse("client", k, f"{k} is scone-client's (the player "
                       "plays the lab's content)")
