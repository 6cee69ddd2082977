#!/bin/sh
# kill -9 of the server mid-transfer: the transfer fails visibly, the agent comes back and
# registers with the restarted server. kill -9 of the agent: a new agent with the same id is
# accepted at once. A second live agent with the same id is refused; the first keeps serving.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tunnel_lib.sh"

make_pki
write_server_conf
write_agent_conf agent-1
start_echo_service
start_bulk_service
start_server
start_agent agent-1

step "kill -9 the server in the middle of a transfer"
( run_bg python3 "$NETCHECK" bulk 127.0.0.1 "$BULK_PORT" 8589934592 0 ) >"$TMP/cut.txt" 2>&1 &
bulk_pid=$!
sleep 1
kill -9 "$SERVER_PID"
if wait "$bulk_pid"; then
	fail "a transfer cut by a server crash must not look complete" "non-zero exit" "$(cat "$TMP/cut.txt")"
fi
# Over TCP the dead server's kernel resets the connection at once. A dead QUIC server sends
# nothing: the agent learns of it from the ICMP answer to its next packet, a retransmission
# within a second or two when data was in flight, else its keepalive PING (15 s).
if [ "$TRANSPORT" = quic ]; then notice=20; else notice=10; fi
wait_for_log $notice "$TMP/agent-agent-1.log" "reconnecting in" "agent notices the lost server"

step "restart the server: the agent returns and registers"
mv "$TMP/server.log" "$TMP/server-1.log"
start_server
wait_for_log 15 "$TMP/server.log" "agent agent-1 registered" "agent back after server restart"
out=$(python3 "$NETCHECK" echo 127.0.0.1 "$ECHO_PORT" "after server restart" 2>&1) ||
	fail "echo after the server restart" "after server restart" "$out"

step "a second live agent with the same id is refused; the first keeps its place"
cp "$TMP/agent-agent-1.conf" "$TMP/agent-dup.conf"
sed -i "s#agent-agent-1.sock#agent-dup.sock#" "$TMP/agent-dup.conf"
start_proxyd "$TMP/agent-dup.log" -f -c "$TMP/agent-dup.conf" $PLUGIN_DIRS
dup_pid=$PROXYD_PID
wait_for_log 10 "$TMP/server.log" "is already connected from" "server refuses a duplicate live agent"
wait_for_log 10 "$TMP/agent-dup.log" "already connected" "the newcomer is told why"
kill -9 "$dup_pid"
out=$(python3 "$NETCHECK" echo 127.0.0.1 "$ECHO_PORT" "first agent still serves" 2>&1) ||
	fail "the first agent still serves" "first agent still serves" "$out"

step "kill -9 the agent; a new one with the same id is accepted at once"
kill -9 "$AGENT_PID"
mv "$TMP/agent-agent-1.log" "$TMP/agent-agent-1-old.log"
start_agent agent-1
out=$(python3 "$NETCHECK" echo 127.0.0.1 "$ECHO_PORT" "agent returned" 2>&1) ||
	fail "echo through the returned agent" "agent returned" "$out"
assert_eq "server alive throughout" "yes" "$(alive "$SERVER_PID" && echo yes)"
exit 0
