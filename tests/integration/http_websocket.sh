#!/bin/sh
# WebSocket through the HTTP edge: the Upgrade goes to the agent's service, the 101 comes
# back, and the connection becomes a raw splice: messages of 1 B, 1 KiB and 200 KiB echo
# intact, by path prefix and by subdomain; the backend sees the prefix stripped; after the
# WebSocket is closed, plain HTTP on the same edge still works.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tunnel_lib.sh"
. "$top_srcdir/tests/http_lib.sh"
http_require_edge
require_websockets

B1_PORT=$(free_port)
WS_PORT=$(free_port)
http_make_pki agent-1
write_http_server_conf
write_http_agent_conf agent-1 "$(http_service web "$B1_PORT" default), $(http_service ws "$WS_PORT")"
start_httpback B1 back-1 "$B1_PORT"
start_wsecho "$WS_PORT"
start_http_server
start_agent agent-1
wait_http_route 10 "$HTTP_BASE/proxy/agent-1/hello" "hello from back-1"

step "WebSocket by path: ws://127.0.0.1:$HTTP_PORT/proxy/agent-1:ws/chat"
timeout 60 "$SYS_PYTHON" "$WSCLIENT" --count 3 "ws://127.0.0.1:$HTTP_PORT/proxy/agent-1:ws/chat" >"$TMP/ws1.out" 2>&1 ||
	fail "WebSocket echo through the edge (path route)" "ok: 9 messages echoed intact" \
		"$(cat "$TMP/ws1.out"; echo '[wsecho]'; cat "$TMP/wsecho.log"; echo '[server]'; tail -20 "$TMP/server.log")"
assert_contains "all messages echoed" "$TMP/ws1.out" "ok: 9 messages echoed intact"
assert_contains "the backend got the path without the prefix" "$TMP/wsecho.log" "connection for /chat"

step "WebSocket by subdomain: Host wsagent.tunnel.test -> agent wsagent, default service"
# A second agent whose id has no '-digits' tail, so <name>-<port> parsing cannot apply.
"$PROXYCTL" pki issue --dir "$TMP/pki" --agent wsagent >/dev/null || fail "pki issue wsagent"
write_http_agent_conf wsagent "$(http_service ws "$WS_PORT" default)"
start_agent wsagent
timeout 60 "$SYS_PYTHON" "$WSCLIENT" --host wsagent.tunnel.test "ws://127.0.0.1:$HTTP_PORT/sub" >"$TMP/ws2.out" 2>&1 ||
	fail "WebSocket echo through the edge (subdomain route)" "ok: 6 messages echoed intact" \
		"$(cat "$TMP/ws2.out"; echo '[wsecho]'; tail -5 "$TMP/wsecho.log"; echo '[server]'; tail -20 "$TMP/server.log")"
assert_contains "all messages echoed" "$TMP/ws2.out" "ok: 6 messages echoed intact"
assert_contains "the backend saw the path and the Host" "$TMP/wsecho.log" "connection for /sub (Host wsagent.tunnel.test:$HTTP_PORT)"

step "two WebSockets at once, and plain HTTP alongside"
timeout 60 "$SYS_PYTHON" "$WSCLIENT" --count 5 "ws://127.0.0.1:$HTTP_PORT/proxy/agent-1:ws/a" >"$TMP/ws3.out" 2>&1 &
WS3=$!
timeout 60 "$SYS_PYTHON" "$WSCLIENT" --count 5 "ws://127.0.0.1:$HTTP_PORT/proxy/agent-1:ws/b" >"$TMP/ws4.out" 2>&1 ||
	fail "second concurrent WebSocket" "ok" "$(cat "$TMP/ws4.out")"
out=$(curl -sS --max-time 10 "$HTTP_BASE/proxy/agent-1/hello" 2>&1)
assert_eq "plain HTTP while WebSockets are open" "hello from back-1" "$out"
wait $WS3 || fail "first concurrent WebSocket" "ok" "$(cat "$TMP/ws3.out")"
assert_contains "first concurrent WebSocket" "$TMP/ws3.out" "ok: 15 messages echoed intact"

step "an Upgrade to a service that is not a WebSocket server gets its plain answer"
code=$(http_status "$HTTP_BASE/proxy/agent-1/hello" -H "Connection: Upgrade" -H "Upgrade: websocket" \
	-H "Sec-WebSocket-Version: 13" -H "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==")
assert_eq "httpback ignores the Upgrade: 200 passed through" 200 "$code"
out=$(curl -sS --max-time 10 "$HTTP_BASE/proxy/agent-1/hello" 2>&1)
assert_eq "plain HTTP afterwards" "hello from back-1" "$out"
assert_eq "server still alive" "yes" "$(alive "$SERVER_PID" && echo yes)"
exit 0
