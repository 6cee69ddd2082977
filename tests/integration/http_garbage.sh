#!/bin/sh
# Bad input loses nothing: 1500 damaged requests (a seeded mix of flipped, inserted and
# deleted bytes, CR/LF games, huge or conflicting framing fields), each on its own
# connection, while a client keeps a keep-alive connection busy with good requests. Every
# damaged request is answered or closed (none hangs, every answer is HTTP), the good client
# never fails, the server stays up, and afterwards a normal request is served. Under
# --enable-sanitizers, tests/lib.sh fails the test on any report in the server's log.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tunnel_lib.sh"
HTTP_HEADER_TIMEOUT=2
HTTP_RESPONSE_TIMEOUT=3
. "$top_srcdir/tests/http_lib.sh"
http_require_edge

B_PORT=$(free_port)
http_make_pki agent-1
write_http_server_conf
write_http_agent_conf agent-1 "$(http_service web "$B_PORT" default)"
start_httpback B back-1 "$B_PORT"
start_http_server
start_agent agent-1
wait_http_route 10 "$HTTP_BASE/proxy/agent-1/hello" "hello from back-1"

step "a good client on one keep-alive connection, alongside"
urls=""
i=0
while [ $i -lt 400 ]; do
	urls="$urls $HTTP_BASE/proxy/agent-1/hello"
	i=$((i + 1))
done
start_bg "$TMP/good.out" python3 "$HTTPCLIENT" keepalive $urls
GOOD_PID=$BG_PID

step "1500 damaged requests"
timeout 300 python3 "$top_srcdir/tests/tools/httpgarbage.py" 127.0.0.1 "$HTTP_PORT" 1500 4242 \
	>"$TMP/garbage.out" 2>&1 ||
	fail "every damaged request answered or closed in time, with HTTP" "exit 0" "$(tail -20 "$TMP/garbage.out")"
cat "$TMP/garbage.out"

step "the good client was never disturbed, and the server serves on"
wait_exit 60 "$GOOD_PID" || fail "the good client finished" "exit within 60 s" "$(tail -5 "$TMP/good.out")"
assert_eq "good client's exit status (all 400 answered on one connection)" 0 "$RC"
assert_eq "server still alive" yes "$(alive "$SERVER_PID" && echo yes)"
assert_eq "a normal request afterwards" "hello from back-1" \
	"$(curl -sS --max-time 10 "$HTTP_BASE/proxy/agent-1/hello")"
exit 0
