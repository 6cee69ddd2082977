#!/bin/sh
# QUIC: the agent's traffic moves to a new source port in the middle of a transfer, as when its
# NAT's mapping changes. The agent reaches the server through a UDP forwarder
# (tests/tools/udprebind.py) that, on a signal, drops its socket and goes on from a fresh
# port; the server must follow the connection to the new address without losing a stream:
# the transfer finishes with its checksums, and the agent never reconnects.
. "$top_srcdir/tests/lib.sh"
TRANSPORT=quic
. "$top_srcdir/tests/tunnel_lib.sh"

SIZE=${PROXYD_REBIND_BYTES:-134217728}
FWD_PORT=$(free_port)
make_pki
write_server_conf
AGENT_SERVER_PORT=$FWD_PORT write_agent_conf agent-1
start_bulk_service
start_server
start_bg "$TMP/forwarder.log" python3 "$top_srcdir/tests/tools/udprebind.py" "$FWD_PORT" "$SERVER_PORT"
FWD_PID=$BG_PID
wait_for_log 10 "$TMP/forwarder.log" "ready" "the UDP forwarder"
start_agent agent-1

step "$SIZE bytes each way; the agent's port moves twice on the way"
python3 "$NETCHECK" bulk 127.0.0.1 "$BULK_PORT" "$SIZE" "$SIZE" >"$TMP/bulk.txt" 2>&1 &
BULK_PID=$!
track_pid $BULK_PID
sleep 0.5
alive "$BULK_PID" || fail "the transfer is still running at the first move" "running" "$(cat "$TMP/bulk.txt")"
kill -USR1 "$FWD_PID"
wait_for_log 5 "$TMP/forwarder.log" "moved" "the first move"
sleep 1
alive "$BULK_PID" || fail "the transfer is still running at the second move" "running" "$(cat "$TMP/bulk.txt")"
kill -USR1 "$FWD_PID"
wait_for 5 eval '[ "$(count_lines "$TMP/forwarder.log" moved)" -ge 2 ]' ||
	fail "the second move" "two 'moved' lines" "$(cat "$TMP/forwarder.log")"
wait "$BULK_PID"
RC=$?
forget_pid "$BULK_PID"
[ "$RC" -eq 0 ] || fail "the transfer survives two moves of the agent's port" "success" \
	"$(cat "$TMP/bulk.txt" "$TMP/forwarder.log"; tail -30 "$TMP/agent-agent-1.log")"
cat "$TMP/bulk.txt"
cat "$TMP/forwarder.log"
assert_eq "the agent registered once (no reconnect)" 1 "$(count_lines "$TMP/agent-agent-1.log" "registered with")"
assert_eq "server alive" yes "$(alive "$SERVER_PID" && echo yes)"
exit 0
