#!/bin/sh
# Draining at the HTTP edge: after SIGTERM, a request already in flight completes with its
# whole answer, a new request gets 503 (the edge says it is going away instead of the
# connection being refused or reset), and the server exits once the in-flight request is done.
# (Assumes the edge keeps its listeners open while draining, to answer 503.)
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tunnel_lib.sh"
HTTP_DRAIN_TIMEOUT=20
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

step "a slow request in flight, then SIGTERM"
curl -sS --max-time 30 -o "$TMP/slow.out" -w '%{http_code}' "$HTTP_BASE/proxy/agent-1/sleep?ms=4000" >"$TMP/slow.code" 2>"$TMP/slow.err" &
CURL_PID=$!
wait_for 10 grep -qF "back-1 < GET /sleep?ms=4000" "$TMP/back-1.log" ||
	fail "the slow request reached the backend" "a log line" "$(cat "$TMP/back-1.log")"
kill -TERM "$SERVER_PID"
sleep 0.5

step "a new request while draining gets 503"
curl -sS --max-time 10 -o "$TMP/new.out" -w '%{http_code}' "$HTTP_BASE/proxy/agent-1/hello" >"$TMP/new.code" 2>"$TMP/new.err"
rc=$?
[ $rc -eq 0 ] || fail "a new request during the drain is answered" "503 (the listener stays open while draining)" \
	"curl exit $rc: $(cat "$TMP/new.err")"
assert_eq "new request during the drain" 503 "$(cat "$TMP/new.code")"

step "the request in flight completes"
wait $CURL_PID || fail "the in-flight request" "exit 0" "$(cat "$TMP/slow.err")"
assert_eq "in-flight request status" 200 "$(cat "$TMP/slow.code")"
assert_eq "in-flight request body" "slept 4000 ms" "$(cat "$TMP/slow.out")"
wait_exit 10 "$SERVER_PID" || fail "the server exits after the drain" "exit within 10 s" "$(tail -20 "$TMP/server.log")"
assert_eq "server exit code" 0 "$RC"
exit 0
