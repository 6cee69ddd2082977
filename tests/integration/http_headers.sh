#!/bin/sh
# Headers through the HTTP edge: 20 Set-Cookie response headers arrive intact and in order;
# the backend gets X-Forwarded-For (ending with the client's address), X-Forwarded-Proto http,
# X-Forwarded-Host (the Host the client sent) and Forwarded (for=, proto=); repeated request
# headers arrive as separate headers in order; an 8 KiB header value arrives intact; the
# method, the query and a request body arrive; Expect: 100-continue gets its 100 Continue.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tunnel_lib.sh"
. "$top_srcdir/tests/http_lib.sh"
http_require_edge

B_PORT=$(free_port)
http_make_pki hdragent
write_http_server_conf
write_http_agent_conf hdragent "$(http_service web "$B_PORT" default)"
start_httpback B back-h "$B_PORT"
start_http_server
start_agent hdragent
HOSTNAME_=hdragent.tunnel.test
RESOLVE="--resolve $HOSTNAME_:$HTTP_PORT:127.0.0.1"
SUB=http://$HOSTNAME_:$HTTP_PORT
wait_http_route 10 "$SUB/hello" "hello from back-h" $RESOLVE

step "20 Set-Cookie headers intact and in order (subdomain route: no sticky cookie added)"
curl -sS --max-time 10 $RESOLVE -D "$TMP/h.txt" -o /dev/null "$SUB/cookies" ||
	fail "GET /cookies" "exit 0" "$(cat "$TMP/h.txt")"
tr -d '\r' <"$TMP/h.txt" | grep -i '^set-cookie:' | sed 's/^[^:]*: //' >"$TMP/cookies.txt"
i=1
want=
while [ $i -le 20 ]; do
	want="$want$(printf 'c%02d=v%02d; Path=/; Max-Age=3600' $i $i)
"
	i=$((i + 1))
done
assert_eq "the 20 Set-Cookie values, in order" "${want%
}" "$(cat "$TMP/cookies.txt")"

step "forwarding headers"
curl -sS --max-time 10 $RESOLVE -o "$TMP/eh.json" "$SUB/echo-headers?a=1&b=two" \
	-H 'X-Multi: one' -H 'X-Multi: two' -H 'X-Multi: three' -H 'X-Forwarded-For: 10.9.8.7' ||
	fail "GET /echo-headers" "exit 0" "$(cat "$TMP/eh.json")"
cat "$TMP/eh.json"
xff=$(json_get "$TMP/eh.json" 'd["headers"].get("x-forwarded-for")')
case $xff in
*127.0.0.1) ;;
*) fail "X-Forwarded-For ends with the client's address" "..., 127.0.0.1 or 127.0.0.1" "$xff" ;;
esac
case $xff in
\[*) fail "X-Forwarded-For is one header (the edge appends to or replaces the client's)" "a string" "$xff" ;;
esac
assert_eq "X-Forwarded-Proto" http "$(json_get "$TMP/eh.json" 'd["headers"].get("x-forwarded-proto")')"
assert_eq "X-Forwarded-Host: the Host the client sent" "$HOSTNAME_:$HTTP_PORT" \
	"$(json_get "$TMP/eh.json" 'd["headers"].get("x-forwarded-host")')"
fwd=$(json_get "$TMP/eh.json" 'd["headers"].get("forwarded")')
printf '%s\n' "$fwd" >"$TMP/fwd.txt"
assert_matches "Forwarded names the client" "$TMP/fwd.txt" 'for="?127\.0\.0\.1'
assert_matches "Forwarded names the protocol" "$TMP/fwd.txt" 'proto=http([^s]|$)'
assert_matches "Forwarded names the host" "$TMP/fwd.txt" "host=\"?$HOSTNAME_"

step "repeated request headers pass through as sent"
assert_eq "X-Multi three times, in order" '["one", "two", "three"]' \
	"$(json_get "$TMP/eh.json" 'd["headers"].get("x-multi")')"
assert_eq "method" GET "$(json_get "$TMP/eh.json" 'd["method"]')"
assert_eq "query kept" "a=1&b=two" "$(json_get "$TMP/eh.json" 'd["query"]')"
assert_eq "path" "/echo-headers" "$(json_get "$TMP/eh.json" 'd["path"]')"
echo "Host as the backend saw it: $(json_get "$TMP/eh.json" 'd["headers"].get("host")')"

step "an 8 KiB header value and a POST body"
big=$(head -c 6144 /dev/urandom | base64 -w0 | head -c 8192)
curl -sS --max-time 10 $RESOLVE -o "$TMP/eh2.json" -X PUT --data-binary 'some body bytes' \
	-H "X-Big: $big" "$SUB/echo-headers" || fail "PUT /echo-headers" "exit 0" "$(cat "$TMP/eh2.json")"
assert_eq "8 KiB header intact" "$big" "$(json_get "$TMP/eh2.json" 'd["headers"].get("x-big")')"
assert_eq "method PUT" PUT "$(json_get "$TMP/eh2.json" 'd["method"]')"
assert_eq "request body length" 15 "$(json_get "$TMP/eh2.json" 'd["body_length"]')"

step "Expect: 100-continue"
python3 "$HTTPCLIENT" --connect "127.0.0.1:$HTTP_PORT" expect100 "$SUB/upload" 300000 >"$TMP/e.out" 2>&1 ||
	fail "Expect: 100-continue through the edge" "100 Continue before the body, then 200" "$(cat "$TMP/e.out")"
assert_contains "100 Continue" "$TMP/e.out" "100 after"
assert_contains "final answer" "$TMP/e.out" '200 {"length": 300000'
exit 0
