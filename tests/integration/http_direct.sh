#!/bin/sh
# Direct targets: a router answers with an address instead of an agent (the VM-host proxy's
# case), and the edge connects to it itself: keep-alive, headers the router adds, a 1 MiB
# chunked download intact, server-sent events event by event, a WebSocket echo, and a 502
# naming the address when nothing listens there. The router is tests/plugins/router_static.c.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tunnel_lib.sh"
. "$top_srcdir/tests/http_lib.sh"
http_require_edge
require_websockets
[ -e "$top_builddir/tests/plugins/.libs/router-test-static.so" ] ||
	skip "the test router is not built (make check builds it)"
PLUGIN_DIRS="$PLUGIN_DIRS --plugin-dir $top_builddir/tests/plugins/.libs"

B_PORT=$(free_port)
WS_PORT=$(free_port)
DEAD_PORT=$(free_port)
http_make_pki unused
write_http_server_conf "" "" "{ router = \"test-static\"; address = \"127.0.0.1:$B_PORT\"; header = \"X-Route: direct\"; }"
start_httpback B back-d "$B_PORT"
start_wsecho "$WS_PORT"
start_http_server
wait_http_route 10 "$HTTP_BASE/hello" "hello from back-d"

step "keep-alive to a direct address, with the router's header"
curl -sS -v --max-time 10 "$HTTP_BASE/hello" "$HTTP_BASE/echo-headers" >"$TMP/ka.out" 2>"$TMP/ka.err" ||
	fail "two requests on one connection" "exit 0" "$(cat "$TMP/ka.out" "$TMP/ka.err")"
assert_contains "curl reused the connection" "$TMP/ka.err" "Re-using existing connection"
assert_contains "first answer" "$TMP/ka.out" "hello from back-d"
grep '^{' "$TMP/ka.out" >"$TMP/eh.json"
assert_eq "the router's header reached the backend" direct "$(json_get "$TMP/eh.json" 'd["headers"].get("x-route")')"
assert_eq "X-Forwarded-For names the client" 127.0.0.1 "$(json_get "$TMP/eh.json" 'd["headers"].get("x-forwarded-for")')"

step "1 MiB chunked download intact"
curl -sS --max-time 30 -D "$TMP/big.h" -o "$TMP/big.bin" "$HTTP_BASE/bytes?n=1048576&chunked=1" ||
	fail "download" "exit 0" "$(cat "$TMP/big.h")"
want=$(tr -d '\r' <"$TMP/big.h" | sed -n 's/^[Xx]-[Ss]ha256: //p')
assert_eq "sha256 of the body" "$want" "$(sha256sum "$TMP/big.bin" | cut -d' ' -f1)"

step "server-sent events arrive one by one"
python3 "$HTTPCLIENT" sse "$HTTP_BASE/sse" >"$TMP/sse.out" 2>&1 || fail "sse" "exit 0" "$(cat "$TMP/sse.out")"
assert_eq "five events" 5 "$(grep -c '^event [0-9]* at' "$TMP/sse.out")"
spread=$(sed -n 's/^spread \([0-9.]*\) s$/\1/p' "$TMP/sse.out")
awk -v s="$spread" 'BEGIN { exit !(s >= 0.9) }' ||
	fail "events arrive as sent, not held until the end" "first-to-last spread >= 0.9 s" "$(cat "$TMP/sse.out")"

step "WebSocket to a direct address"
write_http_server_conf "" "" "{ router = \"test-static\"; address = \"127.0.0.1:$WS_PORT\"; }"
kill -HUP "$SERVER_PID"
wait_for_log 10 "$TMP/server.log" "configuration reloaded" "the reload"
timeout 60 "$SYS_PYTHON" "$WSCLIENT" --count 3 "ws://127.0.0.1:$HTTP_PORT/chat" >"$TMP/ws.out" 2>&1 ||
	fail "WebSocket echo to a direct address" "ok: 9 messages echoed intact" \
		"$(cat "$TMP/ws.out"; echo '[server]'; tail -20 "$TMP/server.log")"
assert_contains "all messages echoed" "$TMP/ws.out" "ok: 9 messages echoed intact"

step "nothing listens at the address: 502 naming it"
write_http_server_conf "" "" "{ router = \"test-static\"; address = \"127.0.0.1:$DEAD_PORT\"; }"
kill -HUP "$SERVER_PID"
wait_for 10 sh -c "[ \$(grep -c 'configuration reloaded' '$TMP/server.log') -ge 2 ]" ||
	fail "second reload" "configuration reloaded twice" "$(tail -5 "$TMP/server.log")"
code=$(curl -sS --max-time 10 -o "$TMP/502.txt" -w '%{http_code}' "$HTTP_BASE/x")
assert_eq "status" 502 "$code"
assert_matches "the body names the address and the reason" "$TMP/502.txt" "127\\.0\\.0\\.1:$DEAD_PORT.*refused"
exit 0
