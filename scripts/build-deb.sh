#!/bin/sh
# make deb: the Debian packages of the tree (its tracked files, as they are
# now), built with `dpkg-buildpackage -us -uc -b` in a copy so that nothing
# lands beside the work tree, then listed, checked for the files each must
# hold, and given to lintian. Needs debhelper and lintian (not in
# install-deps.sh: this is not part of `make test`); exits 77 without them.
#
#   scripts/build-deb.sh [OUTDIR]     (default build/deb)
#
# Fails when a package lacks a file it must hold or lintian reports an
# error; lintian's warnings and notes are printed.
set -eu
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-build/deb}")

for t in dpkg-buildpackage dh lintian; do
	command -v "$t" >/dev/null || {
		echo "build-deb: SKIP: no $t (apt-get install debhelper lintian)"
		exit 77
	}
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/scone" "$out"
rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
git ls-files -z | tar --null -T - -cf - | tar -C "$work/scone" -xf -

t0=$(date +%s)
echo "build-deb: dpkg-buildpackage -us -uc -b (log: $out/build.log)"
(cd "$work/scone" &&
	DEB_BUILD_OPTIONS="parallel=$(nproc)" dpkg-buildpackage -us -uc -b) \
	>"$out/build.log" 2>&1 || {
	tail -30 "$out/build.log"
	echo "build-deb: dpkg-buildpackage failed"
	exit 1
}
t1=$(date +%s)
mv "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out/"

# What each package must hold (a pattern its listing must match).
must() {
	dpkg-deb -c "$out/$1"_*.deb | awk '{print $6}' | grep -q -- "$2" ||
		{ echo "build-deb: $1 lacks $2"; fail=1; }
}
fail=0
for deb in "$out"/*.deb; do
	case $deb in *-dbgsym_*) continue ;; esac
	echo "== $(basename "$deb") ($(stat -c %s "$deb") bytes)"
	dpkg-deb -c "$deb" | awk '{print "   " $6 ($7 ? " " $7 " " $8 : "")}' |
		grep -v '/$'
done
must libscone0 '/libscone\.so\.0$'
must libscone-app0 '/libscone_app\.so\.0$'
must libscone-quic0 '/libscone_quic\.so\.0$'
must libscone-video0 '/libscone_video\.so\.0$'
for f in include/scone/scone.h include/scone/quic.h 'libscone_quic\.a$' \
	'libscone_video\.so$' pkgconfig/scone-quic.pc; do
	must libscone-dev "$f"
done
for f in sbin/sconed lib/systemd/system/sconed.service \
	'lib/systemd/system/sconed@.service' etc/scone/sconed.ini \
	etc/scone/sconed.env libexec/scone/sconed-iptables man8/sconed.8 \
	man5/sconed.ini.5 grafana/sconed.json examples/sconed.example.ini; do
	must sconed "$f"
done
for f in bin/scone$ bin/scone-client bin/scone-server bin/scone-link \
	bin/scone-lab bin/scone-video-content wireshark/plugins/scone.lua \
	man1/scone.1 lab/scenarios/smoke.ini; do
	must scone-tools "$f"
done
echo "== sconed conffiles"
dpkg-deb -I "$out"/sconed_*.deb conffiles | sed 's/^/   /'

echo "== lintian"
rc=0
lintian --display-info "$out"/*.changes >"$out/lintian.txt" 2>&1 || rc=$?
grep -v 'running with root privileges' "$out/lintian.txt" || true
t2=$(date +%s)
echo "build-deb: lintian: $(grep -c '^E:' "$out/lintian.txt" || true) errors," \
	"$(grep -c '^W:' "$out/lintian.txt" || true) warnings," \
	"$(grep -c '^I:' "$out/lintian.txt" || true) notes (exit $rc)"
echo "build-deb: build $((t1 - t0)) s, lintian $((t2 - t1)) s; packages in $out"
[ $rc = 0 ] && [ $fail = 0 ]
