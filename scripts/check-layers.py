#!/usr/bin/env python3
"""Checks that includes and CMake links only point down the layers.

    scripts/check-layers.py [ROOT]      (default: the repository of this file)
    scripts/check-layers.py --self-test [ROOT]
        checks a copy of the tree, then the copy with each kind of bad
        import added (upward, sideways, a private header, a link into
        another folder's target, an upward link): each must fail

Layers, lowest first (an arrow: "may use"):

    include/ <- lib <- app <- quic  <- apps
                       app <- video <- apps
                lib <- tools
                lib <- element <- policy <- datapath <- xdp <- sconed
                       element <- legacy <- sconed
    include/ <- lab
    everything <- packaging (the install rules)

Tests, fuzz targets and benchmarks sit on top and may use what they test;
fuzz targets and benchmarks may also include the headers a folder keeps to
itself (they time or fuzz its insides).
Fails (exit 1, one line per finding) on:
  - a C file that includes a header of a folder it may not use (upward or
    sideways), or a header another folder keeps to itself (only the folder,
    its tests and the fuzz targets may include those);
  - a CMakeLists.txt that links, includes, builds or runs something of a
    folder it may not use, or changes a target another folder defines.
"""
import os
import re
import sys

# What each folder may use, besides itself.
USES = {
    "include": [],
    "lib": ["include"],
    "app": ["include", "lib"],
    "quic": ["include", "lib", "app"],
    "apps": ["include", "lib", "app", "quic", "video"],
    "video": ["include", "lib", "app"],
    "tools": ["include", "lib"],
    "lab": ["include"],
    "element": ["include", "lib"],
    # Today's DPI throttling: nDPI in front of the engine's enforcement.
    "legacy": ["include", "lib", "element"],
    # policy/: the shared store's key layout turned into element configs,
    # and its Redis adapter; datapath renders its metrics, sconed starts it.
    "policy": ["include", "lib", "element"],
    "datapath": ["include", "lib", "element", "policy"],
    "xdp": ["include", "lib", "element", "datapath"],
    "sconed": ["include", "lib", "element", "policy", "datapath", "xdp",
               "legacy"],
    "tests": ["include", "lib"],
    "tests/cli": ["include", "lib", "tools"],
    "tests/app": ["include", "lib", "app"],
    "tests/video": ["include", "lib", "app", "video"],
    # The interop tests run through sconed --relay too.
    "tests/quic": ["include", "lib", "app", "quic", "apps", "element",
                   "datapath", "sconed", "tests/datapath"],
    "tests/element": ["include", "lib", "element"],
    # Real QUIC Initials come from the project's own client.
    # sconed --legacy-dpi runs on captures of them.
    "tests/legacy": ["include", "lib", "element", "legacy", "app", "quic",
                     "sconed"],
    "tests/policy": ["include", "lib", "element", "policy", "datapath",
                     "sconed", "tests/datapath"],
    "tests/datapath": ["include", "lib", "element", "datapath"],
    "tests/sconed": ["include", "lib", "element", "datapath", "sconed",
                     "tests/element", "tests/datapath"],
    "tests/xdp": ["include", "lib", "element", "datapath", "xdp", "sconed",
                  "tests/element", "tests/datapath", "tests/cli"],
    "tests/lab": ["include", "lib", "lab", "element", "datapath", "sconed",
                  "tests/datapath"],
    # scone-player's tests run the stalling server of tests/quic.
    # scone-bridge's test runs sconed --relay and its control client.
    "tests/apps": ["include", "lib", "app", "quic", "video", "apps",
                   "tests/quic", "element", "datapath", "sconed",
                   "tests/datapath"],
    # The browser test runs the bridge, the server and sconed.
    "tests/browser": ["include", "lib", "app", "quic", "video", "apps",
                      "element", "datapath", "sconed", "tests/datapath"],
    "tests/e2e": ["include", "lib", "app", "quic", "video", "apps",
                  "element", "datapath", "sconed", "tests/datapath"],
    "fuzz": ["include", "lib", "element", "policy", "app", "video", "lab", "quic",
             "apps", "legacy", "xdp"],
    # The install rules and what they deliver: every program and library.
    "packaging": ["include", "lib", "app", "quic", "apps", "video", "tools", "xdp",
                  "element", "datapath", "sconed", "lab", "legacy"],
    "tests/packaging": ["include", "lib", "app", "quic", "apps", "video",
                        "tools", "element", "datapath", "sconed", "lab",
                        "legacy", "packaging", "tests/cli"],
    "bench": ["include", "lib", "element", "datapath", "app", "quic", "video",
              "apps", "xdp", "legacy", "tests/legacy"],
}
# The folder each test folder tests: it may include that folder's own
# headers. The fuzz targets may include those of every folder they fuzz.
TESTS_OF = {"tests": "lib", "tests/cli": "tools", "tests/app": "app",
            "tests/apps": "apps",
            "tests/video": "video", "tests/lab": "lab",
            "tests/quic": "quic", "tests/element": "element",
            "tests/legacy": "legacy", "tests/policy": "policy",
            "tests/datapath": "datapath", "tests/sconed": "sconed",
            "tests/xdp": "xdp"}
# Headers other folders may include. A folder not named here offers none:
# libraries offer their API under include/, programs offer nothing.
PUBLIC = {
    # bytemon.h: the engine's monitoring rules on byte counts (the XDP loop).
    "element": {"engine.h", "config.h", "units.h", "bytemon.h"},
    "policy": {"policy.h", "store.h"},
    # addr.h: the ADDR:PORT strings, which the test tools read as sconed does.
    "datapath": {"dp.h", "nfq.h", "relay.h", "control.h", "pcap_path.h",
                 "addr.h"},
    "xdp": {"xdp_path.h", "xdp_mon.h"},
    "legacy": {"legacy.h"},
}
# The public headers of the libraries above lib live in include/ too.
INCLUDE_OWNER = {"include/scone/app.h": "app", "include/scone/quic.h": "quic",
                 "include/scone/video.h": "video"}
# Headers the build writes (the BPF skeleton of xdp/), not in the tree.
GENERATED = {"scone_xdp.skel.h"}
SKIP_DIRS = {".git", "docs", "scripts", ".ci", "node_modules"}
TARGET_CMDS = ("target_link_libraries", "target_include_directories",
               "target_compile_definitions", "target_compile_options",
               "target_link_options", "target_sources",
               "set_target_properties", "add_dependencies")


def folder_of(rel):
    """The layer folder of a path relative to the root, or None."""
    parts = rel.split("/")
    for n in (2, 1):
        key = "/".join(parts[:n])
        if len(parts) > n and key in USES:
            return key
    return None


def walk(root):
    for d, dirs, files in os.walk(root):
        rel_d = os.path.relpath(d, root)
        dirs[:] = [x for x in dirs if x not in SKIP_DIRS
                   and not x.startswith("build")
                   and not (rel_d == "." and x.startswith("."))]
        for f in files:
            yield os.path.normpath(os.path.join(rel_d, f))


def may_include(src, dst, header):
    if dst == src:
        return True
    if dst not in USES[src]:
        return False
    # Test helpers (harnesses, packet builders) are for any test above.
    public = PUBLIC.get(dst, None if dst.startswith("tests") else set())
    if header is None or public is None or header in public:
        return True
    return TESTS_OF.get(src) == dst or src in ("fuzz", "bench")


def check_includes(root, files, errors):
    headers = {}
    for rel in files:
        if rel.endswith(".h"):
            headers.setdefault(os.path.basename(rel), []).append(rel)
    inc = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
    for rel in files:
        if not rel.endswith((".c", ".h")):
            continue
        src = INCLUDE_OWNER.get(rel) or folder_of(rel)
        if src is None:
            errors.append(f"{rel}: in no layer (add its folder to USES)")
            continue
        with open(os.path.join(root, rel), errors="replace") as f:
            for n, line in enumerate(f, 1):
                m = inc.match(line)
                if not m:
                    continue
                kind, name = m.groups()
                if kind == "<":
                    if not name.startswith("scone/"):
                        continue  # the system's
                    target = "include/" + name
                else:
                    here = os.path.normpath(
                        os.path.join(os.path.dirname(rel), name))
                    if name in GENERATED:
                        continue  # written by the build, in its folder
                    if os.path.exists(os.path.join(root, here)):
                        target = here
                    elif "/" in name:
                        target = name  # from the root: "lib/internal.h"
                    else:
                        # The build's include directories decide between
                        # headers of one name: the folder's own first, then
                        # the one it tests, then the only one it may use.
                        cands = headers.get(name, [])
                        for pick in ([src], [TESTS_OF.get(src)], USES[src]):
                            seen = [c for c in cands if folder_of(c) in pick]
                            if seen:
                                break
                        if len(seen) > 1 or not cands:
                            what = "no" if not cands else "more than one"
                            errors.append(f"{rel}:{n}: {what} {name} in the "
                                          "tree; name the folder")
                            continue
                        target = (seen or cands)[0]
                dst = INCLUDE_OWNER.get(target) or folder_of(target)
                if target.startswith("include/"):
                    header = None  # public whoever owns it
                else:
                    header = os.path.basename(target)
                if dst is None:
                    errors.append(f"{rel}:{n}: includes {target}, in no layer")
                elif not may_include(src, dst, header):
                    why = ("a header " + dst + "/ keeps to itself"
                           if dst in USES[src] else
                           dst + "/ is not below " + src + "/")
                    errors.append(f"{rel}:{n}: includes {target}: {why}")


def cmake_commands(text):
    """(name, argument text, line) of each command, comments removed."""
    text = re.sub(r"#[^\n]*", "", text)
    for m in re.finditer(r"\b([A-Za-z_]\w*)\s*\(", text):
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        yield m.group(1), text[m.end():i - 1], text.count("\n", 0, m.start()) + 1


def check_cmake(root, files, errors):
    lists = [r for r in files if os.path.basename(r) == "CMakeLists.txt"
             and os.path.dirname(r)]
    defined = {}  # target -> folder
    for rel in lists:
        with open(os.path.join(root, rel)) as f:
            for name, args, _ in cmake_commands(f.read()):
                if name in ("add_library", "add_executable",
                            "add_custom_target") and args.split():
                    defined[args.split()[0]] = folder_of(rel)
    for rel in lists:
        src = folder_of(rel)
        if src is None:
            errors.append(f"{rel}: in no layer (add its folder to USES)")
            continue
        with open(os.path.join(root, rel)) as f:
            text = f.read()
        for name, args, n in cmake_commands(text):
            words = args.split()
            where = f"{rel}:{n}"
            if name in TARGET_CMDS and words and "${" not in words[0]:
                owner = defined.get(words[0])
                if owner is not None and owner != src:
                    errors.append(f"{where}: {name}({words[0]}): a target "
                                  f"{owner}/ defines")
            used = []
            if name in TARGET_CMDS or name in ("add_executable",
                                               "add_library"):
                used += [(w, defined[w]) for w in words[1:] if w in defined]
            used += [(t, defined[t]) for t in
                     re.findall(r"\$<TARGET_FILE:([^>]+)>", args)
                     if t in defined]
            if name != "add_subdirectory":
                for path in re.findall(r"\$\{SCONE_SOURCE_DIR\}/([\w./-]+)",
                                       args):
                    used.append((path, folder_of(path + "/x")))
            for what, dst in used:
                if dst is not None and dst != src and dst not in USES[src]:
                    errors.append(f"{where}: {name} uses {what}: {dst}/ is "
                                  f"not below {src}/")


def check(root, quiet=False):
    files = sorted(walk(root))
    errors = []
    check_includes(root, files, errors)
    check_cmake(root, files, errors)
    for e in errors if not quiet else []:
        print(e)
    if errors:
        if not quiet:
            print(f"check-layers: {len(errors)} import(s) against the layers",
                  file=sys.stderr)
        return 1
    if not quiet:
        print(f"check-layers: {sum(f.endswith(('.c', '.h')) for f in files)}"
              " sources and their CMake files point down the layers")
    return 0


# (file, line appended): each must make the check fail.
BAD_IMPORTS = [
    ("element/engine.c", '#include "options.h"\n'),          # upward
    ("element/engine.c", "#include <scone/app.h>\n"),        # sideways
    ("datapath/dp.c", '#include "config_internal.h"\n'),    # private
    ("lib/rate.c", '#include "engine.h"\n'),                 # upward
    ("datapath/CMakeLists.txt",                               # not its own
     "target_link_libraries(sconed PRIVATE sconed_datapath)\n"),
    ("element/CMakeLists.txt",                                # upward link
     "target_link_libraries(sconed_engine PUBLIC sconed_datapath)\n"),
    ("lib/CMakeLists.txt",                                    # upward path
     "target_include_directories(scone PUBLIC ${SCONE_SOURCE_DIR}/element)\n"),
]


def self_test(root):
    import shutil
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        for rel in walk(root):
            if rel.endswith((".c", ".h")) or rel.endswith("CMakeLists.txt"):
                os.makedirs(os.path.join(tmp, os.path.dirname(rel)),
                            exist_ok=True)
                shutil.copy(os.path.join(root, rel), os.path.join(tmp, rel))
        if check(tmp, quiet=True) != 0:
            print("check-layers self-test: the unchanged tree fails")
            return 1
        failed = 0
        for rel, line in BAD_IMPORTS:
            path = os.path.join(tmp, rel)
            with open(path) as f:
                orig = f.read()
            with open(path, "a") as f:
                f.write(line)
            if check(tmp, quiet=True) == 0:
                print(f"check-layers self-test: not caught: {rel} + {line}",
                      end="")
                failed = 1
            with open(path, "w") as f:
                f.write(orig)
        if not failed:
            print(f"check-layers self-test: all {len(BAD_IMPORTS)} bad "
                  "imports caught")
        return failed


def main():
    args = sys.argv[1:]
    test = bool(args) and args[0] == "--self-test"
    if test:
        args = args[1:]
    root = os.path.abspath(args[0] if args else
                           os.path.join(os.path.dirname(__file__), ".."))
    return self_test(root) if test else check(root)


if __name__ == "__main__":
    sys.exit(main())
