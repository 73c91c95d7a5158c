#!/usr/bin/env python3
"""`make install` into a temporary DESTDIR, then the installed tree as a
user and a developer find it:

  - every program has its man page and every man page its program; the
    units, configuration, rules helper, dissector and dashboard are there;
  - the public headers are exactly include/scone/*.h; each compiles alone
    (C17 and C++17, -Wall -Wextra -Werror -pedantic) with only the
    installed include directory, and includes no header it does not
    install;
  - each shared library has its versioned SONAME and exports exactly the
    functions its header declares;
  - a small program built with `pkg-config --cflags --libs` runs against
    the shared libraries, and against the static ones (their .so links
    hidden) with the libraries their Requires.private and Libs.private
    name; the static one needs no libscone*.so.

    install_test.py BUILD_DIR SOURCE_DIR [EXTRA_CFLAGS]
EXTRA_CFLAGS: the sanitizer flags of the build, for the test programs.
Exit 0 or 1.
"""
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

LIBS = {"scone": "scone.h", "scone_app": "app.h", "scone_quic": "quic.h",
        "scone_video": "video.h"}

PROGRAM = r"""
#include <scone/app.h>
#include <scone/quic.h>
#include <scone/scone.h>
#include <scone/video.h>

#include <stdio.h>
#include <string.h>

int main(void) {
  scone_app_settings as;
  scone_app_settings_default(&as);
  scone_quic_settings qs;
  scone_quic_settings_default(&qs);
  const char *q = scone_quic_strerror(SCONE_QUIC_ERR_QLOG);
  const char *v = scone_video_strerror(-1);
  if (scone_rate_from_signal(40) != 10000000 || as.version == 0 ||
      qs.version == 0 || !q || !v || !*v) {
    puts("wrong answers");
    return 1;
  }
  printf("signal 40: %llu bit/s; %s\n",
         (unsigned long long)scone_rate_from_signal(40), q);
  return 0;
}
"""


def run(cmd, env=None, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, **kw)
    return r.returncode, r.stdout + r.stderr


def cache(build, key):
    with open(os.path.join(build, "CMakeCache.txt")) as f:
        for line in f:
            if line.startswith(key + ":"):
                return line.split("=", 1)[1].strip()
    raise SystemExit(f"{key} not in the build's cache")


def declared(header):
    """The functions a header declares (not its static inline ones)."""
    with open(header) as f:
        text = f.read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"static inline[^(]*\(", "(", text)
    return set(re.findall(r"\b(scone_[a-z0-9_]+)\s*\(", text))


def exported(so):
    rc, out = run(["nm", "-D", "--defined-only", so])
    return {w[2] for w in (line.split() for line in out.splitlines())
            if len(w) == 3 and w[1] == "T"}


def soname(so):
    rc, out = run(["readelf", "-d", so])
    m = re.search(r"Library soname: \[([^\]]+)\]", out)
    return m.group(1) if m else None


def needed(exe):
    rc, out = run(["readelf", "-d", exe])
    return re.findall(r"Shared library: \[([^\]]+)\]", out)


def check_files(root, prefix, errors):
    p = root + prefix
    bins = set(os.listdir(p + "/bin")) | set(os.listdir(p + "/sbin"))
    pages = set()
    for d in ("man1", "man5", "man8"):
        mdir = f"{p}/share/man/{d}"
        pages |= {x.rsplit(".", 1)[0] for x in os.listdir(mdir)}
    errors += [f"program {b} has no man page" for b in sorted(bins - pages)]
    errors += [f"man page {m} has no program" for m in sorted(
        pages - bins - {"sconed.ini"})]
    want = ["sbin/sconed", "bin/scone", "bin/scone-client",
            "bin/scone-server", "bin/scone-link", "bin/scone-video-content",
            "bin/scone-lab", "share/man/man5/sconed.ini.5",
            "share/man/man8/sconed.8", "libexec/scone/sconed-iptables",
            "share/scone/grafana/sconed.json",
            "share/doc/scone/examples/sconed.example.ini"]
    errors += [f"{w} not installed" for w in want
               if not os.path.exists(f"{p}/{w}")]
    for f in ("sconed.service", "sconed@.service"):
        units = [os.path.join(d, f) for d, _, fs in os.walk(root) if f in fs]
        if not units:
            errors.append(f"{f} not installed")
    lua = [d for d, _, fs in os.walk(root) if "scone.lua" in fs]
    if not lua or not lua[0].endswith("wireshark/plugins"):
        errors.append("scone.lua not in a wireshark/plugins folder")
    # scone-lab runs from where it was installed.
    rc, out = run([f"{p}/bin/scone-lab", "check",
                   f"{p}/share/scone/lab/scenarios/smoke.ini"])
    if rc != 0:
        errors.append(f"installed scone-lab check: {out}")
    print(f"ok: {len(bins)} programs, {len(pages)} man pages")


def check_headers(incdir, src_inc, cflags, errors):
    have = sorted(os.listdir(os.path.join(incdir, "scone")))
    want = sorted(f for f in os.listdir(os.path.join(src_inc, "scone"))
                  if f.endswith(".h"))
    if have != want:
        errors.append(f"installed headers {have}, public ones {want}")
    cc = os.environ.get("CC", "cc")
    cxx = shutil.which("c++") or shutil.which("g++")
    with tempfile.TemporaryDirectory() as tmp:
        for h in have:
            src = os.path.join(tmp, "one.c")
            with open(src, "w") as f:
                f.write(f"#include <scone/{h}>\n")
            flags = ["-I", incdir, "-Wall", "-Wextra", "-Werror", "-pedantic"]
            rc, out = run([cc, "-std=c17", *flags, "-fsyntax-only", src])
            if rc:
                errors.append(f"scone/{h} alone (C17): {out}")
            if cxx:
                rc, out = run([cxx, "-x", "c++", "-std=c++17", *flags,
                               "-fsyntax-only", src])
                if rc:
                    errors.append(f"scone/{h} alone (C++17): {out}")
            rc, out = run([cc, "-I", incdir, "-MM", "-MG", src])
            deps = out.replace("\\\n", " ").split(":", 1)[-1].split()
            for d in deps[1:]:
                if not d.startswith(incdir):
                    errors.append(f"scone/{h} includes {d}, which is "
                                  "not installed")
    print(f"ok: {len(have)} headers compile alone, C and C++")


def check_libs(libdir, incdir, source, errors):
    for lib, header in LIBS.items():
        so = os.path.join(libdir, f"lib{lib}.so")
        if not os.path.exists(so) or not os.path.exists(
                os.path.join(libdir, f"lib{lib}.a")):
            errors.append(f"lib{lib}: shared or static library missing")
            continue
        name = soname(so)
        if name != f"lib{lib}.so.0" or not os.path.exists(
                os.path.join(libdir, name)):
            errors.append(f"lib{lib}.so: SONAME {name}")
        exp, dec = exported(so), declared(os.path.join(incdir, "scone",
                                                       header))
        if exp != dec:
            errors.append(f"lib{lib}.so exports {sorted(exp - dec)} beyond "
                          f"scone/{header}, lacks {sorted(dec - exp)}")
        else:
            print(f"ok: lib{lib}.so: SONAME {name}, exports the "
                  f"{len(exp)} functions of scone/{header}")
        # The package's symbols file must list the same functions, or
        # `make deb` fails (dpkg-gensymbols) long after the change.
        symfile = os.path.join(source, "debian",
                               f"lib{lib.replace('_', '-')}0.symbols")
        if os.path.exists(symfile):
            with open(symfile) as f:
                listed = {ln.split("@")[0].strip() for ln in f
                          if ln.startswith(" ") and "@" in ln}
            if listed != exp:
                errors.append(f"{os.path.relpath(symfile, source)}: add "
                              f"{sorted(exp - listed)}, remove "
                              f"{sorted(listed - exp)}")


def build_and_run(root, libdir, pcdir, extra, static, errors):
    # The sysroot moves the installed .pc files' paths into DESTDIR; the
    # system's own packages (jansson, ngtcp2, ...) still come from the
    # default search path, their /usr/include and /usr/lib filtered out.
    env = dict(os.environ, PKG_CONFIG_SYSROOT_DIR=root, PKG_CONFIG_PATH=pcdir)
    mods = ["scone-quic", "scone-video", "scone-app", "scone"]
    args = ["pkg-config", "--cflags", "--libs"] + mods
    rc, out = run(args, env=env)
    if rc:
        errors.append(f"{' '.join(args)}: {out}")
        return
    if static:
        # Our static libraries against the system's shared ones: what
        # Requires.private and Libs.private name. (pkg-config --static
        # would also expand the system libraries' own private ones, e.g.
        # gnutls's libunistring, which only their -dev packages provide.)
        args = ["pkg-config", "--print-requires-private"] + mods
        rc, req = run(args, env=env)
        names = sorted({x.split()[0] for x in req.splitlines() if x.strip()}
                       - set(mods))
        rc2, sys_libs = run(["pkg-config", "--libs"] + names, env=env)
        if rc or rc2 or not names:
            errors.append(f"static: {req} {sys_libs}")
            return
        private = []
        for m in mods:
            with open(os.path.join(pcdir, m + ".pc")) as f:
                private += [x.split(":", 1)[1] for x in f
                            if x.startswith("Libs.private:")]
        out = " ".join([out, sys_libs] + private)
        args = ["pkg-config", "--libs", "+ Requires.private:"] + names
    what = "static" if static else "shared"
    hidden = []
    if static:
        # Both kinds sit in one directory; the linker prefers .so.
        for f in os.listdir(libdir):
            if re.fullmatch(r"libscone\w*\.so", f):
                os.rename(os.path.join(libdir, f),
                          os.path.join(libdir, f + ".hidden"))
                hidden.append(os.path.join(libdir, f))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            src, exe = os.path.join(tmp, "tiny.c"), os.path.join(tmp, "tiny")
            with open(src, "w") as f:
                f.write(PROGRAM)
            cmd = [os.environ.get("CC", "cc"), "-std=c17", "-Wall", "-Werror",
                   *extra, src, "-o", exe, *shlex.split(out)]
            rc, cout = run(cmd)
            if rc:
                errors.append(f"{what}: {' '.join(cmd)}: {cout}")
                return
            libs = needed(exe)
            mine = [n for n in libs if n.startswith("libscone")]
            if static and mine:
                errors.append(f"static: the program needs {mine}")
            if not static and "libscone_quic.so.0" not in libs:
                errors.append(f"shared: the program needs {libs}")
            rc, rout = run([exe], env=dict(os.environ,
                                           LD_LIBRARY_PATH=libdir))
            if rc:
                errors.append(f"{what}: the program: {rout}")
            else:
                flags = " ".join(x for x in out.split() if x[:2] == "-l")
                print(f"ok: {what}: {' '.join(args)} -> {flags}; runs: "
                      f"{rout.strip()}")
    finally:
        for h in hidden:
            os.rename(h + ".hidden", h)


def main():
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    build, source = sys.argv[1], sys.argv[2]
    extra = shlex.split(sys.argv[3]) if len(sys.argv) == 4 else []
    prefix = cache(build, "CMAKE_INSTALL_PREFIX")
    rel_lib = cache(build, "CMAKE_INSTALL_LIBDIR")
    errors = []
    with tempfile.TemporaryDirectory() as root:
        rc, out = run(["cmake", "--install", build],
                      env=dict(os.environ, DESTDIR=root))
        if rc:
            print(out)
            return 1
        print(f"ok: installed {prefix} into a DESTDIR")
        libdir = os.path.join(root + prefix, rel_lib)
        incdir = root + prefix + "/include"
        check_files(root, prefix, errors)
        check_headers(incdir, os.path.join(source, "include"),
                      extra, errors)
        check_libs(libdir, incdir, source, errors)
        for static in (False, True):
            build_and_run(root, libdir, os.path.join(libdir, "pkgconfig"),
                          extra, static, errors)
    for e in errors:
        print(f"FAIL: {e}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
