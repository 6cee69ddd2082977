#!/bin/sh
# The routers behind the HTTP edge. router-path: /proxy/<agent>/<rest> goes to the agent's
# default service with the prefix stripped and the query kept; /proxy/<agent>:<service>/...
# picks a service; a prefix match sets the cookie proxyd_agent=<agent>, and a later request
# without the prefix but with that cookie goes to that agent; without either it goes to
# default_agent. router-subdomain: <name>.tunnel.test goes to agent <name>'s default service,
# <name>-<port>.tunnel.test to its service "<port>". (Agent ids here have no "-digits" tail,
# which would make <name>-<port> ambiguous.)
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tunnel_lib.sh"
. "$top_srcdir/tests/http_lib.sh"
http_require_edge

A_PORT=$(free_port)
A8081_PORT=$(free_port)
B_PORT=$(free_port)
BALT_PORT=$(free_port)
B9090_PORT=$(free_port)
http_make_pki alpha beta
write_http_server_conf "" "" '{ router = "subdomain"; base_domain = "tunnel.test"; },
             { router = "path"; prefix = "/proxy/"; default_agent = "alpha"; }'
write_http_agent_conf alpha "$(http_service web "$A_PORT" default), $(http_service 8081 "$A8081_PORT")"
write_http_agent_conf beta "$(http_service web "$B_PORT" default), $(http_service alt "$BALT_PORT"), $(http_service 9090 "$B9090_PORT")"
start_httpback A back-alpha "$A_PORT"
start_httpback A8081 back-alpha-8081 "$A8081_PORT"
start_httpback B back-beta "$B_PORT"
start_httpback BALT back-beta-alt "$BALT_PORT"
start_httpback B9090 back-beta-9090 "$B9090_PORT"
start_http_server
start_agent alpha
start_agent beta
wait_http_route 10 "$HTTP_BASE/proxy/alpha/hello" "hello from back-alpha"
wait_http_route 10 "$HTTP_BASE/proxy/beta/hello" "hello from back-beta"

get() { # URL [CURL-ARGS...]: the body, or the test fails
	_u=$1
	shift
	_b=$(curl -sS --max-time 10 "$@" "$_u" 2>&1) || fail "GET $_u" "exit 0" "$_b"
	printf '%s\n' "$_b"
}

step "path: prefix stripped, query kept"
get "$HTTP_BASE/proxy/beta/echo-headers?x=1&y=two%20words" >"$TMP/p.json"
assert_eq "beta's default service" back-beta "$(json_get "$TMP/p.json" 'd["server"]')"
assert_eq "path without the prefix" /echo-headers "$(json_get "$TMP/p.json" 'd["path"]')"
assert_eq "query as sent" "x=1&y=two%20words" "$(json_get "$TMP/p.json" 'd["query"]')"

step "path: <agent>:<service>"
assert_eq "beta:alt" "hello from back-beta-alt" "$(get "$HTTP_BASE/proxy/beta:alt/hello")"
assert_eq "alpha:8081" "hello from back-alpha-8081" "$(get "$HTTP_BASE/proxy/alpha:8081/hello")"

step "path: the sticky cookie"
curl -sS --max-time 10 -D "$TMP/h.txt" -c "$TMP/jar" -o "$TMP/b.txt" "$HTTP_BASE/proxy/beta/hello" ||
	fail "GET /proxy/beta/hello" "exit 0" "$(cat "$TMP/h.txt")"
tr -d '\r' <"$TMP/h.txt" >"$TMP/h2.txt"
assert_matches "a prefix match sets proxyd_agent=beta" "$TMP/h2.txt" "^[Ss]et-[Cc]ookie: proxyd_agent=beta(;|$)"
assert_eq "no prefix, no cookie: default_agent alpha" "hello from back-alpha" "$(get "$HTTP_BASE/hello")"
assert_eq "no prefix, the cookie from the jar: beta" "hello from back-beta" "$(get "$HTTP_BASE/hello" -b "$TMP/jar")"
assert_eq "an absolute path of an app under beta" back-beta \
	"$(get "$HTTP_BASE/echo-headers" -b "proxyd_agent=beta" | python3 -c 'import json,sys; print(json.load(sys.stdin)["server"])')"
assert_eq "the prefix wins over the cookie" "hello from back-alpha" "$(get "$HTTP_BASE/proxy/alpha/hello" -b "proxyd_agent=beta")"
get "$HTTP_BASE/echo-headers" -b "other=1; proxyd_agent=beta" >"$TMP/c.json"
json_get "$TMP/c.json" 'd["headers"].get("cookie")' >"$TMP/cookie.txt"
assert_contains "the application's own cookie reaches it" "$TMP/cookie.txt" "other=1"

step "subdomain: <name>.tunnel.test and <name>-<port>.tunnel.test"
sub() { # NAME PATH
	get "http://$1.tunnel.test:$HTTP_PORT$2" --resolve "$1.tunnel.test:$HTTP_PORT:127.0.0.1"
}
assert_eq "beta.tunnel.test" "hello from back-beta" "$(sub beta /hello)"
assert_eq "alpha.tunnel.test" "hello from back-alpha" "$(sub alpha /hello)"
assert_eq "beta-9090.tunnel.test" "hello from back-beta-9090" "$(sub beta-9090 /hello)"
assert_eq "alpha-8081.tunnel.test" "hello from back-alpha-8081" "$(sub alpha-8081 /hello)"
sub beta "/echo-headers?q=1" >"$TMP/s.json"
assert_eq "subdomain: the path is untouched" /echo-headers "$(json_get "$TMP/s.json" 'd["path"]')"
assert_eq "subdomain: the query is kept" "q=1" "$(json_get "$TMP/s.json" 'd["query"]')"
curl -sS --max-time 10 -D "$TMP/sh.txt" -o /dev/null --resolve "beta.tunnel.test:$HTTP_PORT:127.0.0.1" \
	"http://beta.tunnel.test:$HTTP_PORT/hello" || fail "GET beta.tunnel.test" "exit 0"
assert_not_contains "no sticky cookie from the subdomain router" "$TMP/sh.txt" "proxyd_agent="

step "subdomain wins over the path router; other hosts fall to it"
assert_eq "Host beta.tunnel.test with a /proxy/alpha/ path goes to beta" "no such endpoint: /proxy/alpha/hello" \
	"$(sub beta /proxy/alpha/hello)"
assert_eq "Host outside tunnel.test uses the path router" "hello from back-beta" \
	"$(get "http://www.example.org:$HTTP_PORT/proxy/beta/hello" --resolve "www.example.org:$HTTP_PORT:127.0.0.1")"

step "keep-alive across routers: one connection, three agents/services"
python3 "$HTTPCLIENT" --connect "127.0.0.1:$HTTP_PORT" keepalive "http://beta.tunnel.test:$HTTP_PORT/hello" \
	"http://alpha-8081.tunnel.test:$HTTP_PORT/hello" "http://127.0.0.1:$HTTP_PORT/proxy/beta:alt/hello" \
	"http://127.0.0.1:$HTTP_PORT/hello" >"$TMP/ka.out" 2>&1 ||
	fail "mixed routes on one connection" "four answers" "$(cat "$TMP/ka.out")"
assert_eq "each request routed on its own" "1 200 hello from back-beta
2 200 hello from back-alpha-8081
3 200 hello from back-beta-alt
4 200 hello from back-alpha" "$(sed -n '2,5p' "$TMP/ka.out")"
exit 0
