#!/bin/sh
# An agent-to-agent connection outlives its path: the server (the relay) is killed in the
# middle of a 192 MiB-each-way transfer and started again; both agents reconnect, the consumer
# resumes the connection over the new relay leg from the byte the provider last wrote, and
# the user's transfer finishes with intact SHA-256 digests. The user never sees the break.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tunnel_lib.sh"

CONSUMER_BULK=$(free_port)
make_pki
"$PROXYCTL" pki issue --dir "$TMP/pki" --agent agent-2 >/dev/null || fail "proxyctl pki issue --agent agent-2"
write_server_conf 'relay = { allow = ( { from = "agent-2"; to = "agent-1"; } ); };'
write_agent_conf agent-1 "" 'allow = ( { from = "agent-2"; } );'
write_agent_conf agent-2 "" "connect = ( { agent = \"agent-1\"; service = \"bulk\"; listen = \"127.0.0.1:$CONSUMER_BULK\"; } );"
start_bulk_service
start_server
start_agent agent-1
start_agent agent-2

step "192 MiB each way; the server is killed and restarted in the middle"
python3 "$NETCHECK" bulk 127.0.0.1 "$CONSUMER_BULK" $((192 << 20)) $((192 << 20)) >"$TMP/bulk.out" 2>&1 &
BULK_PID=$!
track_pid $BULK_PID
# Wait until bytes flow, then cut the relay.
wait_for 20 grep -q "connection .* from agent-2 over the relay" "$TMP/agent-agent-1.log"
sleep 0.5
kill -KILL "$SERVER_PID"
wait_gone 5 "$SERVER_PID"
wait_for_log 10 "$TMP/agent-agent-2.log" "lost its relay leg" "the consumer notices the lost leg"
start_server
wait_for_log 20 "$TMP/agent-agent-2.log" "resumed over the relay" "the consumer resumes the connection"
wait_exit 120 "$BULK_PID" || fail "bulk transfer across the server restart" "done within 120 s" "$(cat "$TMP/bulk.out")"
assert_exit "bulk transfer across the server restart" 0 "$RC" "$TMP/bulk.out"
cat "$TMP/bulk.out"
assert_contains "the transfer finished intact" "$TMP/bulk.out" "upload"
wait_for_log 5 "$TMP/agent-agent-1.log" "resumed over the relay" "the provider resumes too"

step "metrics count the move"
"$PROXYCTL" metrics -s "$TMP/agent-agent-2.sock" >"$TMP/metrics.txt" || fail "proxyctl metrics" "exit 0"
assert_matches "one move to the relay" "$TMP/metrics.txt" '^proxyd_peer_moves_total\{to="relay"\} [1-9]'
assert_matches "nothing aborted" "$TMP/metrics.txt" '^proxyd_peer_connections_aborted_total 0'
exit 0
