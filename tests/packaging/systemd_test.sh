#!/bin/bash
# sconed's units as installed: `systemd-analyze verify` finds nothing to say
# about sconed.service and an instance of sconed@.service (any word it
# prints fails the test: it exits 0 on keys it ignores), the programs and
# man pages they name exist, and `systemd-analyze security --offline` rates
# their exposure 2.0 or less. The units name their installed paths; those
# are moved into the DESTDIR for the check, since verify looks for them on
# this machine. Exit 77 without systemd-analyze.
#
# usage: systemd_test.sh BUILD_DIR
set -u
BUILD=$1
command -v systemd-analyze >/dev/null ||
	{ echo "SKIP: no systemd-analyze (package systemd)"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

DESTDIR=$work/root cmake --install "$BUILD" >/dev/null || fail "install"
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$BUILD/CMakeCache.txt")
units=$(find "$work/root" -name 'sconed*.service' -path '*systemd/system*')
[ -n "$units" ] || fail "no units installed"
mkdir "$work/units"
for u in $units; do
	sed "s|$prefix/|$work/root$prefix/|g" "$u" >"$work/units/$(basename "$u")"
done
cp "$work/units/sconed@.service" "$work/units/sconed@eth1.service"
export MANPATH=$work/root$prefix/share/man
cd "$work/units" || exit 1
for u in sconed.service sconed@eth1.service; do
	out=$(systemd-analyze verify "$u" 2>&1) || fail "$u: $out"
	[ -z "$out" ] || fail "$u: $out"
	score=$(systemd-analyze security --offline=true --threshold=20 "$u" 2>&1 |
		sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	systemd-analyze security --offline=true --threshold=20 "$u" >/dev/null 2>&1 ||
		fail "$u: exposure $score, above 2.0"
	echo "ok: $u: systemd-analyze verify says nothing; exposure $score"
done
