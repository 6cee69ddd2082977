#!/bin/sh
# SIGHUP with a changed http section: the new routes apply to the next request, also on a
# keep-alive connection opened before the reload, and the listener keeps answering; a new
# file that fails `proxyd -t` is refused and the running routes stay.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tunnel_lib.sh"
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
wait_http_route 10 "$HTTP_BASE/hello" "hello from back-1"
wait_http_route 10 "$HTTP_BASE/proxy/agent-2/hello" "hello from back-2"

step "a keep-alive connection opened before the reload"
# One connection: a request, then wait for $TMP/go, then a second request on it.
cat >"$TMP/ka.py" <<'PY'
import os, socket, sys, time
port, go = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port), timeout=10)
f = s.makefile("rb")
def get():
    s.sendall(b"GET /hello HTTP/1.1\r\nHost: h\r\n\r\n")
    status = f.readline().decode().strip()
    n = 0
    while True:
        line = f.readline().decode().strip()
        if not line:
            break
        if line.lower().startswith("content-length:"):
            n = int(line.split(":")[1])
    print(status, f.read(n).decode().strip(), flush=True)
get()
deadline = time.time() + 20
while not os.path.exists(go) and time.time() < deadline:
    time.sleep(0.05)
get()
PY
start_bg "$TMP/ka.out" python3 "$TMP/ka.py" "$HTTP_PORT" "$TMP/go"
wait_for 10 grep -q "hello from back-1" "$TMP/ka.out" ||
	fail "the first request on the kept connection" "hello from back-1" "$(cat "$TMP/ka.out")"

step "SIGHUP with default_agent changed to agent-2"
write_http_server_conf "" "" "{ router = \"path\"; prefix = \"/proxy/\"; default_agent = \"agent-2\"; }"
kill -HUP "$SERVER_PID"
wait_for_log 10 "$TMP/server.log" "configuration reloaded" "the reload"
code_body=$(curl -sS --max-time 10 "$HTTP_BASE/hello")
assert_eq "a new connection after the reload" "hello from back-2" "$code_body"

step "the connection from before the reload follows the new routes"
touch "$TMP/go"
wait_for 10 grep -q "hello from back-2" "$TMP/ka.out" ||
	fail "the second request on the kept connection" "hello from back-2" "$(cat "$TMP/ka.out")"
assert_eq "both answers came on the one connection" "HTTP/1.1 200 OK hello from back-1
HTTP/1.1 200 OK hello from back-2" "$(cat "$TMP/ka.out")"

step "a broken file is refused and the running routes stay"
cat "$TMP/server.conf" >"$TMP/server.conf.good"
printf 'http = { bogus = 1; };\n' >>"$TMP/server.conf"
kill -HUP "$SERVER_PID"
wait_for_log 10 "$TMP/server.log" "keeping the running configuration" "the refused reload"
assert_eq "still routed by the running configuration" "hello from back-2" \
	"$(curl -sS --max-time 10 "$HTTP_BASE/hello")"
exit 0
