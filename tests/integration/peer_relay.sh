#!/bin/sh
# Agent to agent through the relay: agent-2 (the consumer) opens a local port that reaches
# agent-1's services through the server. Access is denied unless both the server
# (server.relay.allow) and the providing agent (agent.allow) allow it, and a refusal names
# the rule; proxyctl ping measures the round trip; 64 MiB each way arrive intact.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tunnel_lib.sh"

CONSUMER_ECHO=$(free_port)
CONSUMER_BULK=$(free_port)
CONSUMER_SECRET=$(free_port)
CONSUMER_PRIVATE=$(free_port)
CONSUMER_OTHER=$(free_port)

make_pki
"$PROXYCTL" pki issue --dir "$TMP/pki" --agent agent-2 >/dev/null || fail "proxyctl pki issue --agent agent-2"
write_server_conf 'relay = { allow = ( { from = "agent-2"; to = "agent-1"; services = ( "echo", "bulk", "private" ); } ); };'
# agent-1 provides echo, bulk, and "secret" and "private" (both the echo service again).
write_agent_conf agent-1 "" \
	'allow = ( { from = "agent-2"; services = ( "echo", "bulk", "secret" ); } );'
sed -i "s|services = ( { name = \"echo\"|services = ( { name = \"secret\"; address = \"127.0.0.1:$LOCAL_ECHO_PORT\"; }, { name = \"private\"; address = \"127.0.0.1:$LOCAL_ECHO_PORT\"; }, { name = \"echo\"|" \
	"$TMP/agent-agent-1.conf"
write_agent_conf agent-2 "" "connect = (
    { agent = \"agent-1\"; service = \"echo\"; listen = \"127.0.0.1:$CONSUMER_ECHO\"; },
    { agent = \"agent-1\"; service = \"bulk\"; listen = \"127.0.0.1:$CONSUMER_BULK\"; },
    { agent = \"agent-1\"; service = \"secret\"; listen = \"127.0.0.1:$CONSUMER_SECRET\"; },
    { agent = \"agent-1\"; service = \"private\"; listen = \"127.0.0.1:$CONSUMER_PRIVATE\"; },
    { agent = \"agent-3\"; service = \"echo\"; listen = \"127.0.0.1:$CONSUMER_OTHER\"; } );"
start_echo_service
start_bulk_service
start_server
start_agent agent-1
start_agent agent-2

step "echo from agent-2's local port to agent-1's service, through the relay"
out=$(python3 "$NETCHECK" echo 127.0.0.1 "$CONSUMER_ECHO" "hello from agent-2" 2>&1) ||
	fail "echo through the relay" "hello from agent-2" "$out"
assert_eq "echoed text" "hello from agent-2" "$out"

step "64 MiB each way with SHA-256 through the relay"
out=$(python3 "$NETCHECK" bulk 127.0.0.1 "$CONSUMER_BULK" $((64 << 20)) $((64 << 20)) 2>&1) ||
	fail "bulk through the relay" "digests match" "$out"
echo "relay: $out"

step "20 connections at once"
out=$(python3 "$NETCHECK" many 127.0.0.1 "$CONSUMER_ECHO" 20 1048576 2>&1) ||
	fail "20 concurrent connections" "all complete" "$out"

step "the server refuses what server.relay.allow does not name"
out=$(python3 "$NETCHECK" expect-reset 127.0.0.1 "$CONSUMER_SECRET" 2>&1) ||
	fail "a refused service resets the user's connection" "reset" "$out"
wait_for_log 5 "$TMP/server.log" "agent agent-2 may not reach secret on agent agent-1 (server.relay.allow)" \
	"the server names the rule"
wait_for_log 5 "$TMP/agent-agent-2.log" "server.relay.allow" "the consumer logs why"

step "agent-1 refuses what its agent.allow does not name"
out=$(python3 "$NETCHECK" expect-reset 127.0.0.1 "$CONSUMER_PRIVATE" 2>&1) ||
	fail "a service the provider does not allow resets the user's connection" "reset" "$out"
wait_for_log 5 "$TMP/agent-agent-1.log" "agent agent-2 may not reach private on agent-1 (agent.allow)" \
	"the provider names the rule"

step "an agent that is not connected"
out=$(python3 "$NETCHECK" expect-reset 127.0.0.1 "$CONSUMER_OTHER" 2>&1) ||
	fail "an offline agent resets the user's connection" "reset" "$out"
wait_for_log 5 "$TMP/agent-agent-2.log" "agent-3" "the consumer names the offline agent"

step "proxyctl ping agent-1 from agent-2"
"$PROXYCTL" ping -c 5 -s "$TMP/agent-agent-2.sock" agent-1 >"$TMP/ping.txt" 2>&1 ||
	fail "proxyctl ping agent-1" "exit 0" "$(cat "$TMP/ping.txt")"
cat "$TMP/ping.txt"
assert_contains "five answers" "$TMP/ping.txt" "5/5 answered"
assert_contains "over the relay" "$TMP/ping.txt" "(relay)"
"$PROXYCTL" ping -c 1 -s "$TMP/agent-agent-1.sock" agent-2 >"$TMP/ping2.txt" 2>&1 &&
	fail "agent-1 may not ping agent-2 (no rule lets it)" "exit 1" "$(cat "$TMP/ping2.txt")"
assert_contains "the refusal is shown" "$TMP/ping2.txt" "server.relay.allow"

step "metrics count the relayed streams and the refusals"
"$PROXYCTL" metrics -s "$TMP/server.sock" >"$TMP/metrics.txt" || fail "proxyctl metrics" "exit 0" "$(cat "$TMP/metrics.txt")"
assert_matches "relayed streams counted" "$TMP/metrics.txt" '^proxyd_relay_streams_total [1-9]'
assert_matches "refusals by the rule counted" "$TMP/metrics.txt" '^proxyd_relay_refused_total{reason="acl"} [1-9]'

step "both agents and the server are still up"
assert_eq "server alive" "yes" "$(alive "$SERVER_PID" && echo yes)"
out=$(python3 "$NETCHECK" echo 127.0.0.1 "$CONSUMER_ECHO" "still here" 2>&1) || fail "echo after the refusals" "still here" "$out"
exit 0
