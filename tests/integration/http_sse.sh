#!/bin/sh
# Streaming responses through the HTTP edge: server-sent events arrive as they are sent (5
# events 300 ms apart arrive spread over about 1.2 s, not all at the end), curl -N shows the
# first event before the last is sent; close-delimited bodies (no Content-Length, no chunked)
# arrive whole, short and 5 MB with the right SHA-256.
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

step "SSE: 5 events 300 ms apart arrive spread out"
python3 "$HTTPCLIENT" sse "$HTTP_BASE/proxy/agent-1/sse" >"$TMP/sse.out" 2>&1 ||
	fail "SSE through the edge" "5 events" "$(cat "$TMP/sse.out")"
cat "$TMP/sse.out"
assert_contains "content type passed through" "$TMP/sse.out" "status 200 content-type text/event-stream"
assert_eq "five events" 5 "$(grep -c '^event [0-9]* at' "$TMP/sse.out")"
assert_contains "last event's data intact" "$TMP/sse.out" ": event 5 of 5"
spread=$(sed -n 's/^spread \([0-9.]*\) s$/\1/p' "$TMP/sse.out")
awk -v s="$spread" 'BEGIN { exit !(s >= 0.9) }' ||
	fail "events arrive as sent, not buffered until the end" "first-to-last spread >= 0.9 s (sent over 1.2 s)" "$(cat "$TMP/sse.out")"
first=$(sed -n 's/^event 1 at \([0-9.]*\) s:.*/\1/p' "$TMP/sse.out")
awk -v s="$first" 'BEGIN { exit !(s < 0.5) }' ||
	fail "the first event comes with the head" "event 1 within 0.5 s of the response head" "$(cat "$TMP/sse.out")"

step "SSE with curl -N: the first event is there before the stream ends"
curl -sS -N --max-time 20 "$HTTP_BASE/proxy/agent-1/sse?n=10&ms=500" >"$TMP/curl-sse.out" 2>&1 &
CURL_PID=$!
wait_for 3 grep -q "data: event 1 of 10" "$TMP/curl-sse.out" ||
	fail "curl -N sees the first event early" "event 1 within 3 s (the stream lasts 4.5 s)" "$(cat "$TMP/curl-sse.out")"
if grep -q "event 10 of 10" "$TMP/curl-sse.out"; then
	fail "the stream is still going" "event 10 not yet there" "$(cat "$TMP/curl-sse.out")"
fi
wait $CURL_PID || fail "curl -N SSE" "exit 0" "$(cat "$TMP/curl-sse.out")"
assert_eq "all ten events" 10 "$(grep -c '^data: event' "$TMP/curl-sse.out")"

step "close-delimited body (no Content-Length, no chunked)"
out=$(curl -sS --max-time 10 "$HTTP_BASE/proxy/agent-1/close" 2>&1) ||
	fail "close-delimited response" "exit 0" "$out"
assert_eq "close-delimited body" "close-delimited body from back-1" "$out"
want=$(curl -sS -I --max-time 30 "$HTTP_BASE/proxy/agent-1/bytes?n=5000000" | tr -d '\r' | sed -n 's/^[Xx]-[Ss]ha256: //p')
got=$(curl -sS --max-time 30 "$HTTP_BASE/proxy/agent-1/close?n=5000000" | sha256sum | cut -d' ' -f1)
assert_eq "5 MB close-delimited body intact" "$want" "$got"

step "chunked and Content-Length downloads"
for q in "n=3000000" "n=3000000&chunked=1"; do
	curl -sS --max-time 30 -D "$TMP/h" "$HTTP_BASE/proxy/agent-1/bytes?$q" | sha256sum | cut -d' ' -f1 >"$TMP/sum"
	assert_eq "bytes?$q intact" "$(tr -d '\r' <"$TMP/h" | sed -n 's/^[Xx]-[Ss]ha256: //p')" "$(cat "$TMP/sum")"
done
exit 0
