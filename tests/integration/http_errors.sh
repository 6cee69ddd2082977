#!/bin/sh
# The HTTP edge's own answers: 400 for a malformed head, 431 for a head over max_header_bytes
# and for more than max_headers headers, 408 (and a close) for a head that is not complete
# within header_timeout (slowloris) while a normal client is served meanwhile, 404 when no
# route matches, 502 when the agent is not connected and when its service refuses the
# connection, 504 when no response head comes within response_timeout. Each has a short text
# body, and the server keeps serving afterwards.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tunnel_lib.sh"
HTTP_HEADER_TIMEOUT=3
HTTP_RESPONSE_TIMEOUT=3
HTTP_MAX_HEADER_BYTES=16384
HTTP_MAX_HEADERS=100
. "$top_srcdir/tests/http_lib.sh"
http_require_edge

B1_PORT=$(free_port)
DOWN_PORT=$(free_port)
http_make_pki agent-1
# No default_agent: a path outside /proxy/ with a Host outside tunnel.test matches nothing.
write_http_server_conf "" "" '{ router = "subdomain"; base_domain = "tunnel.test"; },
             { router = "path"; prefix = "/proxy/"; }'
write_http_agent_conf agent-1 "$(http_service web "$B1_PORT" default), $(http_service down "$DOWN_PORT")"
start_httpback B1 back-1 "$B1_PORT"
start_http_server
start_agent agent-1
wait_http_route 10 "$HTTP_BASE/proxy/agent-1/hello" "hello from back-1"

# raw_status NAME: send $TMP/NAME.req as it is; the status line of the answer
raw_status() {
	python3 "$HTTPCLIENT" --timeout 10 raw 127.0.0.1 "$HTTP_PORT" "$TMP/$1.req" >"$TMP/$1.out" 2>&1
	head -n 1 "$TMP/$1.out" | tr -d '\r'
}
expect_raw() { # NAME CODE WHAT
	_sl=$(raw_status "$1")
	case $_sl in
	"HTTP/1."[01]" $2"*) ;;
	*) fail "$3" "a $2 status line" "$(cat "$TMP/$1.out")" ;;
	esac
	# closed, or reset when the edge closed with some of our bytes unread
	assert_matches "$3: the edge closes the connection afterwards" "$TMP/$1.out" "^-- (closed|reset)$"
}

step "400: malformed heads"
printf 'GET /proxy/agent-1/hello HTTP/1.1\r\nHost: x\r\nthis line has no colon\r\n\r\n' >"$TMP/nocolon.req"
expect_raw nocolon 400 "a header line without a colon"
printf 'GET /proxy/agent-1/hello\r\nHost: x\r\n\r\n' >"$TMP/noversion.req"
expect_raw noversion 400 "a request line without a version"
printf 'GET /proxy/agent-1/hello HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello' >"$TMP/twocl.req"
expect_raw twocl 400 "two different Content-Length headers"
printf 'GET /proxy/agent-1/hello HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' >"$TMP/clte.req"
expect_raw clte 400 "Content-Length with Transfer-Encoding (request smuggling)"
printf 'GET /proxy/agent-1/hello HTTP/1.1\r\nX-No-Host: 1\r\n\r\n' >"$TMP/nohost.req"
expect_raw nohost 400 "an HTTP/1.1 request without Host"

step "431: a head over max_header_bytes ($HTTP_MAX_HEADER_BYTES)"
python3 - "$TMP/big.req" <<'EOF'
import sys
open(sys.argv[1], "wb").write(b"GET /proxy/agent-1/hello HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
EOF
expect_raw big 431 "a 20 kB header"

step "431: more than max_headers ($HTTP_MAX_HEADERS) headers"
python3 - "$TMP/many.req" <<'EOF'
import sys
h = b"".join(b"X-H%d: %d\r\n" % (i, i) for i in range(150))
open(sys.argv[1], "wb").write(b"GET /proxy/agent-1/hello HTTP/1.1\r\nHost: x\r\n" + h + b"\r\n")
EOF
expect_raw many 431 "150 headers"

step "a head just under the limits is served"
python3 - "$TMP/fits.req" <<'EOF'
import sys
h = b"".join(b"X-H%d: %d\r\n" % (i, i) for i in range(80))
open(sys.argv[1], "wb").write(b"GET /proxy/agent-1/hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Pad: "
                              + b"p" * 12000 + b"\r\n" + h + b"\r\n")
EOF
sl=$(raw_status fits)
case $sl in
"HTTP/1.1 200"*) ;;
*) fail "12 kB and 83 headers are within the limits" "200" "$(cat "$TMP/fits.out")" ;;
esac

step "408: slowloris gets 408 within header_timeout + 2 s, others are served meanwhile"
python3 "$HTTPCLIENT" slowloris 127.0.0.1 "$HTTP_PORT" 30 >"$TMP/slow.out" 2>&1 &
SLOW_PID=$!
i=0
while [ $i -lt 4 ]; do
	sleep 0.5
	t0=$(date +%s%N)
	out=$(curl -sS --max-time 2 "$HTTP_BASE/proxy/agent-1/hello" 2>&1)
	assert_eq "a normal client during the slowloris ($i)" "hello from back-1" "$out"
	i=$((i + 1))
done
wait $SLOW_PID
rc=$?
cat "$TMP/slow.out"
assert_exit "slowloris ended by the server" 0 $rc "$TMP/slow.out"
assert_contains "408 for the incomplete head" "$TMP/slow.out" " 408"
t=$(sed -n 's/^answered after \([0-9.]*\) s.*/\1/p' "$TMP/slow.out")
awk -v t="$t" -v lim="$HTTP_HEADER_TIMEOUT" 'BEGIN { exit !(t != "" && t <= lim + 2) }' ||
	fail "408 in time" "within $HTTP_HEADER_TIMEOUT + 2 s" "$(cat "$TMP/slow.out")"
assert_contains "the connection is closed after the 408" "$TMP/slow.out" "then closed"

step "404: no route"
curl -sS --max-time 10 -o "$TMP/404.body" -w '%{http_code}' "$HTTP_BASE/elsewhere" >"$TMP/404.code" 2>&1
assert_eq "no route" 404 "$(cat "$TMP/404.code")"
[ -s "$TMP/404.body" ] || fail "the 404 has a short text body" "a body" "empty"

step "502: agent not connected"
code=$(http_status "$HTTP_BASE/proxy/agent-9/hello")
assert_eq "agent-9 never connected" 502 "$code"

step "502: the agent's service refuses the connection"
curl -sS --max-time 10 -o "$TMP/502.body" -w '%{http_code}' "$HTTP_BASE/proxy/agent-1:down/hello" >"$TMP/502.code" 2>&1
assert_eq "service 'down' refused" 502 "$(cat "$TMP/502.code")"
[ -s "$TMP/502.body" ] || fail "the 502 has a short text body" "a body" "empty"

step "504: no response head within response_timeout ($HTTP_RESPONSE_TIMEOUT s)"
t0=$(date +%s)
code=$(http_status "$HTTP_BASE/proxy/agent-1/sleep?ms=$(((HTTP_RESPONSE_TIMEOUT + 5) * 1000))")
el=$(($(date +%s) - t0))
assert_eq "a backend slower than response_timeout" 504 "$code"
[ $el -le $((HTTP_RESPONSE_TIMEOUT + 2)) ] ||
	fail "504 in time" "within $HTTP_RESPONSE_TIMEOUT + 2 s" "$el s"
code=$(http_status "$HTTP_BASE/proxy/agent-1/sleep?ms=1000")
assert_eq "a backend faster than response_timeout" 200 "$code"

step "after all that, the edge still serves"
wait_http_route 5 "$HTTP_BASE/proxy/agent-1/hello" "hello from back-1"
assert_eq "server still alive" "yes" "$(alive "$SERVER_PID" && echo yes)"
exit 0
