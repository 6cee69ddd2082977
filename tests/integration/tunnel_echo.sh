#!/bin/sh
# A TCP echo through the TLS tunnel; proxyctl status shows the session; a refused local
# connection resets the user's connection and the server log names why.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tunnel_lib.sh"

make_pki
write_server_conf
write_agent_conf agent-1
start_echo_service
start_server
start_agent agent-1

step "echo through the tunnel"
out=$(python3 "$NETCHECK" echo 127.0.0.1 "$ECHO_PORT" "hello through the tunnel" 2>&1) ||
	fail "echo through the tunnel" "hello through the tunnel" "$out"
assert_eq "echoed text" "hello through the tunnel" "$out"
assert_contains "server logs the mTLS agent" "$TMP/server.log" "agent agent-1 authenticated (certificate)"

step "proxyctl status over the admin socket"
"$PROXYCTL" status --json -s "$TMP/server.sock" >"$TMP/status.json" 2>&1 ||
	fail "proxyctl status --json" "exit 0" "$(cat "$TMP/status.json")"
assert_contains "status names the agent" "$TMP/status.json" '"peer":"agent-1"'
assert_contains "status lists the service" "$TMP/status.json" '"name":"echo"'
assert_contains "status shows the role" "$TMP/status.json" '"role":"server"'
"$PROXYCTL" status -s "$TMP/server.sock" >"$TMP/status.txt" 2>&1 || fail "proxyctl status" "exit 0" "$(cat "$TMP/status.txt")"
assert_contains "human status names the agent" "$TMP/status.txt" "agent-1"
mode=$(stat -c %a "$TMP/server.sock")
assert_eq "admin socket mode" "600" "$mode"
"$PROXYCTL" status --json -s "$TMP/agent-agent-1.sock" >"$TMP/astatus.json" 2>&1 ||
	fail "agent status" "exit 0" "$(cat "$TMP/astatus.json")"
assert_contains "agent status shows its role" "$TMP/astatus.json" '"role":"agent"'

step "local service down: the user's connection is reset, the server says why"
kill "$ECHO_SERVICE_PID"
wait_for 5 eval "! kill -0 $ECHO_SERVICE_PID 2>/dev/null"
out=$(python3 "$NETCHECK" expect-reset 127.0.0.1 "$ECHO_PORT" 2>&1) || fail "reset when the service is down" "reset" "$out"
if [ "$TRANSPORT" = quic ]; then
	# A QUIC reset carries a code, not a text: the server shows the code, the agent the reason.
	wait_for_log 5 "$TMP/server.log" "reset by peer (REFUSED)" "server shows the agent's refusal"
	wait_for_log 5 "$TMP/agent-agent-1.log" "127.0.0.1:$LOCAL_ECHO_PORT: Connection refused" "agent shows the reason"
else
	wait_for_log 5 "$TMP/server.log" "connect 127.0.0.1:$LOCAL_ECHO_PORT: Connection refused" "server shows the agent's reason"
fi

step "unknown service on the agent"
assert_eq "server still alive" "yes" "$(alive "$SERVER_PID" && echo yes)"
exit 0
