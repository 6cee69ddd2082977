#!/bin/sh
# Body-less responses through the HTTP edge keep a keep-alive connection in sync: HEAD (with
# the full Content-Length and no body), 304 Not Modified and 204 No Content, then normal
# requests on the same connection; curl sees the same.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tunnel_lib.sh"
. "$top_srcdir/tests/http_lib.sh"
http_require_edge

B1_PORT=$(free_port)
http_make_pki agent-1
write_http_server_conf
write_http_agent_conf agent-1 "$(http_service web "$B1_PORT" default)"
start_httpback B1 back-1 "$B1_PORT"
start_http_server
start_agent agent-1
wait_http_route 10 "$HTTP_BASE/proxy/agent-1/hello" "hello from back-1"

step "HEAD, 304, 204, GET on one connection"
python3 "$HTTPCLIENT" head-304 "$HTTP_BASE/proxy/agent-1/etag" >"$TMP/h.out" 2>&1 ||
	fail "HEAD/304/204 on one keep-alive connection" "every answer right and in sync" "$(cat "$TMP/h.out")"
cat "$TMP/h.out"

step "curl: HEAD shows the Content-Length of the GET"
curl -sS -I --max-time 10 "$HTTP_BASE/proxy/agent-1/bytes?n=100000" | tr -d '\r' >"$TMP/head.txt" ||
	fail "curl -I" "exit 0" "$(cat "$TMP/head.txt")"
assert_matches "HEAD status" "$TMP/head.txt" "^HTTP/1\.1 200"
assert_contains "HEAD Content-Length" "$TMP/head.txt" "Content-Length: 100000"

step "curl: conditional GET -> 304 and the ETag, then the same connection goes on"
curl -sS -v --max-time 10 -H 'If-None-Match: "v1"' "$HTTP_BASE/proxy/agent-1/etag" \
	--next -sS -v --max-time 10 "$HTTP_BASE/proxy/agent-1/etag" >"$TMP/c.out" 2>"$TMP/c.err" ||
	fail "curl conditional GET" "exit 0" "$(cat "$TMP/c.out" "$TMP/c.err")"
assert_contains "304 for a matching If-None-Match" "$TMP/c.err" "< HTTP/1.1 304"
assert_contains "ETag on the 304" "$TMP/c.err" '< ETag: "v1"'
assert_contains "connection reused after the 304" "$TMP/c.err" "Re-using existing connection"
assert_eq "only the 200 has a body" "etag body v1" "$(cat "$TMP/c.out")"

step "curl: 204"
code=$(http_status "$HTTP_BASE/proxy/agent-1/nocontent")
assert_eq "204 passed through" 204 "$code"
exit 0
