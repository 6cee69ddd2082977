#!/bin/sh
# Keep-alive at the HTTP edge: one client connection carries requests for two agents, each
# routed on its own (curl reuses the connection; each body names the right backend); the same
# with raw requests in sequence and pipelined; backends see only their own agent's requests;
# an idle keep-alive connection is closed after idle_timeout; a subdomain that is a connected
# agent's whole id reaches it even when it looks like <name>-<port>.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tunnel_lib.sh"
HTTP_IDLE_TIMEOUT=3
. "$top_srcdir/tests/http_lib.sh"
http_require_edge

B1_PORT=$(free_port)
B2_PORT=$(free_port)
http_make_pki agent-1 agent-2
write_http_server_conf
write_http_agent_conf agent-1 "$(http_service web "$B1_PORT" default)"
write_http_agent_conf agent-2 "$(http_service web "$B2_PORT" default)"
start_httpback B1 back-1 "$B1_PORT"
start_httpback B2 back-2 "$B2_PORT"
start_http_server
start_agent agent-1
start_agent agent-2
U1=$HTTP_BASE/proxy/agent-1/hello
U2=$HTTP_BASE/proxy/agent-2/hello
wait_http_route 10 "$U1" "hello from back-1"
wait_http_route 10 "$U2" "hello from back-2"

step "subdomain: a connected agent named like <name>-<port> is reached by its whole id"
out=$(curl -sS --max-time 10 -H "Host: agent-2.tunnel.test" "$HTTP_BASE/hello" 2>&1)
assert_eq "agent-2.tunnel.test reaches agent-2 (not agent 'agent', service '2')" "hello from back-2" "$out"
out=$(curl -sS --max-time 10 -H "Host: agent-9.tunnel.test" "$HTTP_BASE/hello" 2>&1)
assert_eq "agent-9 is not connected: read as agent 'agent', service '9', which is offline" \
	"502 Bad Gateway: agent agent/9: agent offline" "$out"

step "curl: two agents on one connection"
curl -sS -v --max-time 20 "$U1" "$U2" >"$TMP/curl.out" 2>"$TMP/curl.err" ||
	fail "curl $U1 $U2" "exit 0" "$(cat "$TMP/curl.out" "$TMP/curl.err")"
assert_contains "curl reused the connection for the second agent" "$TMP/curl.err" "Re-using existing connection"
assert_eq "bodies in order: agent-1's backend, then agent-2's" \
	"hello from back-1
hello from back-2" "$(cat "$TMP/curl.out")"
assert_eq "one TCP connection" 1 "$(grep -c "Connected to 127.0.0.1" "$TMP/curl.err")"

step "raw keep-alive: six requests alternating agents on one connection"
python3 "$HTTPCLIENT" keepalive "$U1" "$U2" "$HTTP_BASE/proxy/agent-2/bytes?n=5000&chunked=1" \
	"$HTTP_BASE/proxy/agent-1/cookies" "$U2" "$U1" >"$TMP/ka.out" 2>&1 ||
	fail "six requests on one connection" "all answered on one connection" "$(cat "$TMP/ka.out")"
assert_eq "each answer from the right backend" "1 200 hello from back-1
2 200 hello from back-2
3 200 <5000 bytes of binary>
4 200 20 cookies
5 200 hello from back-2
6 200 hello from back-1" "$(sed -n '2,7p' "$TMP/ka.out")"

step "pipelined: three requests written at once, answered in order"
python3 "$HTTPCLIENT" pipeline "$HTTP_BASE/proxy/agent-2/sleep?ms=300" "$U1" "$U2" >"$TMP/pipe.out" 2>&1 ||
	fail "pipelined requests" "three answers in order" "$(cat "$TMP/pipe.out")"
assert_eq "pipelined answers in request order" "1 200 slept 300 ms
2 200 hello from back-1
3 200 hello from back-2" "$(sed -n '2,4p' "$TMP/pipe.out")"

step "each backend saw only its own agent's requests"
assert_not_contains "back-1 got none of agent-2's /sleep" "$TMP/back-1.log" "/sleep"
assert_not_contains "back-2 got none of agent-1's /cookies" "$TMP/back-2.log" "/cookies"
assert_contains "back-1 saw the prefix stripped" "$TMP/back-1.log" "back-1 GET /hello -> 200"
assert_contains "back-2 saw the chunked request" "$TMP/back-2.log" "back-2 GET /bytes?n=5000&chunked=1 -> 200"

step "an idle keep-alive connection is closed after idle_timeout ($HTTP_IDLE_TIMEOUT s)"
python3 "$HTTPCLIENT" idle "$U1" 20 >"$TMP/idle.out" 2>&1 ||
	fail "idle connection closed by the edge" "closed within $((HTTP_IDLE_TIMEOUT + 3)) s" "$(cat "$TMP/idle.out")"
t=$(sed -n 's/^\(closed\|reset\) after \([0-9.]*\) s idle$/\2/p' "$TMP/idle.out")
[ -n "$t" ] || fail "idle close reported" "closed after T s idle" "$(cat "$TMP/idle.out")"
awk -v t="$t" -v lim="$HTTP_IDLE_TIMEOUT" 'BEGIN { exit !(t >= lim - 1 && t <= lim + 3) }' ||
	fail "idle keep-alive connection closed after idle_timeout" "between $((HTTP_IDLE_TIMEOUT - 1)) and $((HTTP_IDLE_TIMEOUT + 3)) s" "$t s"

assert_eq "server still alive" "yes" "$(alive "$SERVER_PID" && echo yes)"
exit 0
