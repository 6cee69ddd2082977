#!/bin/sh
# What the core does for any route: basic_auth asks for credentials (401 with
# WWW-Authenticate; wrong ones are refused the same way; the right ones pass and the service
# never sees them) and host_rewrite changes the Host the service gets (X-Forwarded-Host keeps
# the user's). Also: no route at all is a 404 with a body, and `proxyctl status` lists the
# HTTP listener.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tunnel_lib.sh"
. "$top_srcdir/tests/http_lib.sh"
http_require_edge

B_PORT=$(free_port)
http_make_pki keys
printf 'alice:s3cret-pw\n' >"$TMP/auth.txt"
write_http_server_conf "" "" "
  { router = \"path\"; prefix = \"/private/\"; cookie = \"\"; basic_auth_file = \"auth.txt\"; realm = \"lab\"; },
  { router = \"path\"; prefix = \"/app/\"; cookie = \"\"; host_rewrite = \"app.internal:8080\"; }"
write_http_agent_conf keys "$(http_service web "$B_PORT" default)"
start_httpback B back-k "$B_PORT"
start_http_server
start_agent keys
wait_http_route 10 "$HTTP_BASE/app/keys/hello" "hello from back-k"

step "basic_auth: no credentials -> 401 with a challenge, and the service is not asked"
code=$(curl -sS --max-time 10 -o "$TMP/401.txt" -D "$TMP/401.h" -w '%{http_code}' "$HTTP_BASE/private/keys/hello")
assert_eq "status without credentials" 401 "$code"
assert_matches "the challenge names the realm" "$TMP/401.h" 'WWW-Authenticate: Basic realm="lab"'
assert_matches "the body says why" "$TMP/401.txt" '^401 Unauthorized: credentials required'
code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -u alice:wrong "$HTTP_BASE/private/keys/hello")
assert_eq "status with a wrong password" 401 "$code"
if grep -q "GET /hello" "$TMP/back-k.log" && [ "$(grep -c 'GET /hello' "$TMP/back-k.log")" -gt 2 ]; then
	fail "refused requests never reach the service" "at most the 2 readiness requests" "$(cat "$TMP/back-k.log")"
fi

step "basic_auth: the right credentials pass; the service does not see them"
curl -sS --max-time 10 -u alice:s3cret-pw -o "$TMP/ok.json" "$HTTP_BASE/private/keys/echo-headers" ||
	fail "GET with credentials" "exit 0" "$(cat "$TMP/ok.json")"
assert_eq "path after the prefix" /echo-headers "$(json_get "$TMP/ok.json" 'd["path"]')"
assert_eq "Authorization reaches the service" null "$(json_get "$TMP/ok.json" 'd["headers"].get("authorization")')"

step "host_rewrite: the service gets the configured Host, X-Forwarded-Host keeps the user's"
curl -sS --max-time 10 -o "$TMP/hr.json" "$HTTP_BASE/app/keys/echo-headers" ||
	fail "GET /app/keys/echo-headers" "exit 0" "$(cat "$TMP/hr.json")"
assert_eq "Host at the service" app.internal:8080 "$(json_get "$TMP/hr.json" 'd["headers"].get("host")')"
assert_eq "X-Forwarded-Host" "127.0.0.1:$HTTP_PORT" "$(json_get "$TMP/hr.json" 'd["headers"].get("x-forwarded-host")')"

step "no route matches: 404 with a body"
code=$(curl -sS --max-time 10 -o "$TMP/404.txt" -w '%{http_code}' "$HTTP_BASE/nowhere")
assert_eq "status" 404 "$code"
assert_matches "404 body" "$TMP/404.txt" '^404 Not Found: no route'

step "proxyctl status lists the HTTP listener"
"$PROXYCTL" status -s "$TMP/server.sock" --json >"$TMP/status.json" ||
	fail "proxyctl status" "exit 0" "$(cat "$TMP/status.json")"
assert_matches "status JSON" "$TMP/status.json" "\"kind\":\"http\",\"address\":\"127.0.0.1:$HTTP_PORT\""
exit 0
