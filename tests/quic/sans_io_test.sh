#!/bin/sh
# libscone_quic's connection logic is sans-I/O: only the endpoint adapters
# (client.c, server.c: event loops; udp.c: sockets and the clock; cert.c:
# certificate files) may read a clock or touch a socket. Every other object
# in the archive must leave those symbols undefined-free, so time is passed
# in and datagrams are handed out, never taken from the system.
# usage: sans_io_test.sh LIBSCONE_QUIC_ARCHIVE
set -eu
AR=$1
command -v nm >/dev/null 2>&1 || { echo "SKIP: nm not installed"; exit 77; }
ADAPTERS="client.c.o server.c.o udp.c.o cert.c.o"
FORBIDDEN='clock_gettime|clock|time|gettimeofday|timespec_get|scone_quic_now|socket|bind|connect|sendto|sendmsg|sendmmsg|send|recvfrom|recvmsg|recvmmsg|recv|poll|ppoll|select|epoll_wait|sq_udp_[a-z_]+'

nm -A "$AR" >/dev/null || { echo "FAIL: nm cannot read $AR"; exit 1; }
objs=$(nm -A "$AR" 2>/dev/null | sed -n 's/^[^:]*:\([^:]*\.o\):.*/\1/p' | sort -u)
[ -n "$objs" ] || { echo "FAIL: no objects in $AR"; exit 1; }
bad=0 checked=0
for o in $objs; do
	case " $ADAPTERS " in *" $o "*) continue ;; esac
	checked=$((checked + 1))
	hits=$(nm -A "$AR" 2>/dev/null | grep ":$o:" |
		grep -E " U ($FORBIDDEN)(@.*)?\$" | awk '{print $NF}' | tr '\n' ' ')
	if [ -n "$hits" ]; then
		echo "FAIL: $o uses $hits"
		bad=1
	fi
done
# The adapters are where the clock is read: a check that found nothing
# there would be looking at the wrong archive.
nm -A "$AR" 2>/dev/null | grep ':udp.c.o:' | grep -q ' U clock_gettime' ||
	{ echo "FAIL: udp.c.o does not read the clock: wrong archive?"; exit 1; }
[ "$bad" = 0 ] || exit 1
echo "ok: $checked connection-logic objects read no clock and touch no socket"
