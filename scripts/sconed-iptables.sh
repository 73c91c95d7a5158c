#!/bin/sh
# Sends a router's forwarded UDP through sconed's NFQUEUE datapath.
#
#   sconed-iptables.sh install [--queue N[:M]] [--iface IF] [--chain NAME]
#                              [--family 4|6|both] [--tcp]
#   sconed-iptables.sh remove  [--chain NAME] [--family 4|6|both]
#   sconed-iptables.sh status  [--chain NAME]
#   sconed-iptables.sh counts  [--chain NAME] [--family 4|6|both]
#
# install puts the rules in their own chain of the mangle table and jumps
# to it from FORWARD (for IPv4 and IPv6), so remove can take out exactly
# what install added and is safe to run any number of times:
#
#   -t mangle -N SCONED
#   -t mangle -A SCONED -p udp -j NFQUEUE --queue-num N --queue-bypass
#        (with N:M: --queue-balance N:M, which spreads packets by a hash of
#         the addresses, not the ports, so one client's flows share a queue)
#   -t mangle -I FORWARD -p udp [-i IF] -j SCONED    (and [-o IF] with --iface)
#
# --queue-bypass lets packets through untouched while no sconed listens
# (not started yet, restarting, killed), and sconed itself asks the kernel
# to fail open when its queue is full, so the element never blackholes
# traffic. counts prints, per family, how many packets the NFQUEUE rule
# sent toward sconed since install (iptables=iptables packets=N bytes=M):
# judged ones, and also those that passed unjudged (bypassed while no
# sconed listened, or failed open on a full queue), which nothing else
# counts; minus sconed_datapath_received_total (per sconed run) they are
# the packets that passed untouched. --iface limits it to the
# subscriber-facing interface: packets in from it (uplink) and out to it
# (downlink). --tcp queues forwarded TCP as well, the same way (for sconed
# --legacy-dpi, whose nDPI classifies and throttles TLS-over-TCP video;
# sconed's own engine passes TCP untouched). Needs root.
set -eu

cmd=${1:-}
[ $# -gt 0 ] && shift
queue=0
iface=
chain=SCONED
family=both
protos=udp

usage() {
	sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--queue) queue=${2:?}; shift 2 ;;
	--iface) iface=${2:?}; shift 2 ;;
	--chain) chain=${2:?}; shift 2 ;;
	--family) family=${2:?}; shift 2 ;;
	--tcp) protos="udp tcp"; shift ;;
	*) usage ;;
	esac
done

case $queue in
*:*)
	lo=${queue%%:*} hi=${queue#*:}
	target="--queue-balance $lo:$hi --queue-bypass" ;;
*)
	lo=$queue hi=$queue
	target="--queue-num $queue --queue-bypass" ;;
esac
for n in "$lo" "$hi"; do
	case $n in '' | *[!0-9]*) echo "sconed-iptables: bad queue '$queue'" >&2; exit 2 ;; esac
	[ "$n" -le 65535 ] || { echo "sconed-iptables: queue over 65535" >&2; exit 2; }
done
[ "$lo" -le "$hi" ] || { echo "sconed-iptables: queue range $queue is backwards" >&2; exit 2; }

case $family in
4) tools=iptables ;;
6) tools=ip6tables ;;
both) tools="iptables ip6tables" ;;
*) usage ;;
esac

remove_one() {
	t=$1
	# Every FORWARD rule that jumps to the chain, whatever its matches.
	$t -w -t mangle -S FORWARD 2>/dev/null | grep -- "-j $chain\$" |
		sed 's/^-A /-D /' | while read -r rule; do
		# shellcheck disable=SC2086
		$t -w -t mangle $rule
	done
	if $t -w -t mangle -S "$chain" >/dev/null 2>&1; then
		$t -w -t mangle -F "$chain"
		$t -w -t mangle -X "$chain"
	fi
}

install_one() {
	t=$1
	remove_one "$t"
	$t -w -t mangle -N "$chain"
	# shellcheck disable=SC2086
	for p in $protos; do
		# shellcheck disable=SC2086
		$t -w -t mangle -A "$chain" -p $p -j NFQUEUE $target
		if [ -n "$iface" ]; then
			$t -w -t mangle -I FORWARD -p $p -i "$iface" -j "$chain"
			$t -w -t mangle -I FORWARD -p $p -o "$iface" -j "$chain"
		else
			$t -w -t mangle -I FORWARD -p $p -j "$chain"
		fi
	done
}

case $cmd in
install)
	for t in $tools; do install_one "$t"; done
	echo "sconed-iptables: forwarded $(echo "$protos" | tr 'a-z ' 'A-Z/')${iface:+ via $iface} -> NFQUEUE $queue (chain $chain)" ;;
remove)
	for t in $tools; do remove_one "$t"; done ;;
status)
	for t in $tools; do
		echo "== $t"
		$t -w -t mangle -S FORWARD | grep -- "-j $chain\$" || true
		$t -w -t mangle -S "$chain" 2>/dev/null || echo "(no chain $chain)"
	done ;;
counts)
	for t in $tools; do
		$t -w -t mangle -L "$chain" -v -x -n 2>/dev/null |
			awk -v t="$t" '$3 == "NFQUEUE" {
				p += $1; b += $2; n++ }
				END { if (n) printf "%s packets=%d bytes=%d\n", t, p, b
				      else { printf "%s: no NFQUEUE rule\n", t; exit 1 } }' ||
			exit 1
	done ;;
*) usage ;;
esac
