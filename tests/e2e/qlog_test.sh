#!/bin/bash
# The endpoints' qlog files, from a real session through sconed --relay
# (advice 2000000, signal 26), checked by check_qlog.py: JSON-SEQ with the
# qlog 0.3 header qvis looks for, times that never go back, the QUIC
# schema's packet types, and the scone:* events as docs/qlog.md has them,
# the relay's advice among them.
#
# usage: qlog_test.sh SCONED SCONE_SERVER SCONE_CLIENT SCT_HTTP
set -u
SCONED=$1 SERVER=$2 CLIENT=$3
. "$(dirname "$0")/lib.sh"

E2E_WORK=$(mktemp -d)
w=$E2E_WORK
trap e2e_cleanup EXIT
trap 'exit 1' INT TERM

e2e_start_server "$w/srv.out" "$w/srv.log" "$SERVER" --listen 127.0.0.1:0 \
	--state-dir "$w/state" --qlog-dir "$w/qlog"
e2e_start_relay "$w/sconed.log" "$SCONED" "127.0.0.1:$E2E_SERVER_PORT" \
	"$w/control.sock" --advice 2000000
e2e_fetch relayed 2 1000000 "$CLIENT" \
	"https://127.0.0.1:$E2E_RELAY_PORT/bytes/1M" --insecure --repeat 2 \
	--interval 300ms --output /dev/null --qlog "$w/client.sqlog"
e2e_stop "$E2E_SERVER" 10 || fail "scone-server exit status $? after SIGTERM"
python3 "$(dirname "$0")/check_qlog.py" --want-advice 26 "$w/client.sqlog" \
	"$w"/qlog/*.sqlog || fail "the qlog files do not follow the schema"
echo "ok: client and server qlog files follow the qlog 0.3 schema"
