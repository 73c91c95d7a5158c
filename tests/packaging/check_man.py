#!/usr/bin/env python3
"""Checks one man page: it renders without a warning, has the sections a
reader looks for, and documents exactly the options the program's --help
lists.

    check_man.py PAGE [--sections A,B] [--config-source FILE]
                 [--check-example CMD] [--help-cmd CMD]...

  --help-cmd CMD     a command whose output lists options (run with shell
                     word splitting; it must exit 0). Every option it names
                     must appear in the page, and every option the page
                     describes (the tag of a .TP item) must appear in one
                     of them. "--up-" alone in a --help stands for a prefix:
                     the page's --up-rate matches --help's --rate.
  --sections A,B     sections the page must have besides NAME, SYNOPSIS,
                     DESCRIPTION, EXAMPLES and SEE ALSO
  --config-source F  sconed's config parser: every section and key it
                     knows must be an item of the page
  --check-example C  the page's .EX blocks that look like INI files must
                     pass `C FILE` (sconed --check-config)

After the checks pass, the page is checked again with its first option
item removed, which must fail (the check can fail). Exit 0 or 1.
"""
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

BASE_SECTIONS = ["NAME", "SYNOPSIS", "DESCRIPTION", "EXAMPLES", "SEE ALSO"]
OPT = re.compile(r"--[a-z][a-z0-9]*(?:-[a-z0-9]+)*-?")


def render_warnings(page):
    """Warnings from groff -ww and from man --warnings, as lines."""
    out = []
    r = subprocess.run(["groff", "-ww", "-mandoc", "-z", page],
                       capture_output=True, text=True)
    out += [f"groff: {x}" for x in r.stderr.splitlines()]
    if r.returncode != 0:
        out.append(f"groff: exit {r.returncode}")
    if shutil.which("man"):
        env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
        r = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", page],
                           capture_output=True, text=True, env=env)
        out += [f"man: {x}" for x in r.stderr.splitlines()]
        if r.returncode != 0:
            out.append(f"man: exit {r.returncode}")
    return out


def plain(roff):
    """Option names as a reader sees them: \\- is a dash, fonts dropped."""
    return re.sub(r"\\f[BIRP]", "", roff.replace("\\-", "-"))


def page_options(text):
    """(options in .TP/.TQ tags, options anywhere in the page)."""
    lines = text.splitlines()
    tags = set()
    for i, line in enumerate(lines[:-1]):
        if line.strip() in (".TP", ".TQ"):
            tags.update(OPT.findall(plain(lines[i + 1])))
    return tags, set(OPT.findall(plain(text)))


def sections(text):
    return {m.strip('" ') for m in re.findall(r"^\.SH\s+(.*)$", text, re.M)}


def help_options(cmds):
    found, errors = set(), []
    for cmd in cmds:
        r = subprocess.run(shlex.split(cmd), capture_output=True, text=True)
        if r.returncode != 0:
            errors.append(f"`{cmd}` exits {r.returncode}")
        found.update(OPT.findall(r.stdout + r.stderr))
    return found, errors


def check_options(tags, anywhere, helped):
    prefixes = {o for o in helped if o.endswith("-")}
    names = helped - prefixes
    errors = [f"{o}: in --help, not in the page"
              for o in sorted(names - anywhere)]
    for o in sorted(tags - names):
        if not any(o.startswith(p) and "--" + o[len(p):] in names
                   for p in prefixes):
            errors.append(f"{o}: in the page, not in --help")
    return errors


def config_keys(source):
    with open(source) as f:
        src = f.read()
    keys = set(re.findall(r'strcmp\(k, "([a-z_]+)"\)', src))
    secs = set(re.findall(r'strcmp\(section, "([a-z_]+)"\)', src))
    secs |= set(re.findall(r'check_name\(p, name, "([a-z_]+)"\)', src))
    return keys, secs


def check_config_page(text, source):
    keys, secs = config_keys(source)
    if not keys or not secs:
        return [f"{source}: found no keys or sections (parser changed?)"]
    p = plain(text)
    lines = p.splitlines()
    items = {re.split(r"\s", lines[i + 1].split(None, 1)[1])[0]
             for i in range(len(lines) - 1)
             if lines[i].strip() == ".TP" and len(lines[i + 1].split()) > 1}
    errors = [f"key {k}: the parser knows it, the page has no item for it"
              for k in sorted(keys - items)]
    heads = set(re.findall(r"^\.SS \[([a-z_]+)", p, re.M))
    errors += [f"section [{s}]: the parser knows it, the page does not"
               for s in sorted(secs - heads)]
    return errors


def check_examples(text, cmd):
    errors = []
    blocks = re.findall(r"^\.EX\n(.*?)^\.EE", text, re.M | re.S)
    ini = [b for b in blocks if re.search(r"^\[[a-z]", b, re.M)]
    if not ini:
        return ["no INI example in the page"]
    for b in ini:
        with tempfile.NamedTemporaryFile("w", suffix=".ini") as f:
            f.write(plain(b).replace("\\e", "\\"))
            f.flush()
            r = subprocess.run(shlex.split(cmd) + [f.name],
                               capture_output=True, text=True)
            if r.returncode != 0:
                errors.append(f"example refused: {r.stdout}{r.stderr}")
    return errors


def check(text, page, a, helped):
    errors = []
    want = BASE_SECTIONS + a["sections"]
    have = sections(text)
    errors += [f"no {s} section" for s in want if s not in have]
    if a["help"]:
        tags, anywhere = page_options(text)
        errors += check_options(tags, anywhere, helped)
    if a["config"]:
        errors += check_config_page(text, a["config"])
    if a["example"]:
        errors += check_examples(text, a["example"])
    return errors


def parse_args(argv):
    a = {"page": None, "sections": [], "help": [], "config": None,
         "example": None}
    it = iter(argv)
    for x in it:
        if x == "--sections":
            a["sections"] = [s for s in next(it).split(",") if s]
        elif x == "--help-cmd":
            a["help"].append(next(it))
        elif x == "--config-source":
            a["config"] = next(it)
        elif x == "--check-example":
            a["example"] = next(it)
        elif a["page"] is None:
            a["page"] = x
        else:
            raise SystemExit(__doc__)
    if a["page"] is None:
        raise SystemExit(__doc__)
    return a


def main():
    a = parse_args(sys.argv[1:])
    page = a["page"]
    with open(page) as f:
        text = f.read()
    errors = render_warnings(page)
    helped, herr = help_options(a["help"])
    errors += herr + check(text, page, a, helped)
    name = os.path.basename(page)
    for e in errors:
        print(f"{name}: {e}")
    if errors:
        return 1
    # The page without its first option (or config key) item must fail.
    keys = config_keys(a["config"])[0] if a["config"] else set()
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines[:-1]):
        tag = plain(lines[i + 1])
        words = tag.split()
        if line.strip() != ".TP" or not (
                (a["help"] and OPT.search(tag)) or
                (len(words) > 1 and words[1] in keys)):
            continue
        cut = "".join(lines[:i] + lines[i + 2:])
        for o in OPT.findall(tag):
            cut = cut.replace(o.replace("-", "\\-"), "")
        if not check(cut, page, a, helped):
            print(f"{name}: self-test: removing {lines[i + 1].strip()} "
                  "went unnoticed")
            return 1
        break
    else:
        if a["help"] or a["config"]:
            print(f"{name}: self-test: no item to remove")
            return 1
    print(f"{name}: renders clean, {len(helped)} --help options documented")
    return 0


if __name__ == "__main__":
    sys.exit(main())
