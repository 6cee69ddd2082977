#!/bin/sh
# A response cut off behind the edge never looks complete to the client: the agent killed
# with kill -9 mid-download (Content-Length and chunked) makes curl fail with 18 (partial
# file) or 56 (receive failure), never 0, and a raw client sees a reset or a short body; the
# service resetting its connection mid-body does the same with the agent alive; the server
# goes on and serves the restarted agent.
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
SLOW="$HTTP_BASE/proxy/agent-1/slowbig?rate=2097152"

file_size() { stat -c %s "$1" 2>/dev/null || echo 0; }
bigger_than() { [ "$(file_size "$1")" -gt "$2" ]; }

kill_agent() {
	kill -KILL "$AGENT_PID"
	wait_exit 5 "$AGENT_PID" || fail "agent gone after kill -9" "exited" "still running"
}

for q in "" "&chunked=1"; do
	step "curl, agent killed mid-download (slowbig$q)"
	curl -sS --max-time 120 -o "$TMP/dl.bin" "$SLOW$q" 2>"$TMP/curl.err" &
	CURL_PID=$!
	wait_for 20 bigger_than "$TMP/dl.bin" 1048576 ||
		fail "download under way" "over 1 MiB within 20 s" "$(file_size "$TMP/dl.bin") bytes; $(cat "$TMP/curl.err")"
	kill_agent
	n=0
	while kill -0 $CURL_PID 2>/dev/null && [ $n -lt 300 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	kill -0 $CURL_PID 2>/dev/null && fail "curl ends when the agent dies" "curl exits within 30 s" "still downloading: $(file_size "$TMP/dl.bin") bytes"
	wait $CURL_PID
	rc=$?
	echo "curl exit $rc after $(file_size "$TMP/dl.bin") bytes: $(cat "$TMP/curl.err")"
	case $rc in
	18 | 56) ;;
	*) fail "curl sees an incomplete transfer (slowbig$q)" "exit 18 or 56" "exit $rc after $(file_size "$TMP/dl.bin") bytes: $(cat "$TMP/curl.err")" ;;
	esac
	[ "$(file_size "$TMP/dl.bin")" -lt 100000000 ] || fail "short body" "less than 100000000 bytes" "$(file_size "$TMP/dl.bin")"
	rm -f "$TMP/dl.bin"
	start_agent agent-1
	wait_http_route 10 "$HTTP_BASE/proxy/agent-1/hello" "hello from back-1"
done

step "raw client, agent killed mid-download"
python3 "$HTTPCLIENT" --timeout 60 abort "$SLOW" >"$TMP/abort.out" 2>&1 &
AB_PID=$!
wait_for 20 grep -q "^progress" "$TMP/abort.out" || fail "raw download under way" "a progress line" "$(cat "$TMP/abort.out")"
kill_agent
n=0
while kill -0 $AB_PID 2>/dev/null && [ $n -lt 300 ]; do
	sleep 0.1
	n=$((n + 1))
done
wait $AB_PID
rc=$?
cat "$TMP/abort.out"
assert_exit "the raw client sees an incomplete transfer" 3 $rc "$TMP/abort.out"
assert_matches "reset or short body" "$TMP/abort.out" "^incomplete: (reset|eof|bad chunk) after"
start_agent agent-1
wait_http_route 10 "$HTTP_BASE/proxy/agent-1/hello" "hello from back-1"

step "the service resets its connection mid-body (agent alive)"
curl -sS --max-time 30 -o "$TMP/die.bin" "$HTTP_BASE/proxy/agent-1/die?after=2000000" 2>"$TMP/die.err"
rc=$?
case $rc in
18 | 56) ;;
*) fail "curl sees the service's reset as an incomplete transfer" "exit 18 or 56" "exit $rc after $(file_size "$TMP/die.bin") bytes: $(cat "$TMP/die.err")" ;;
esac
python3 "$HTTPCLIENT" abort "$HTTP_BASE/proxy/agent-1/die?after=2000000" >"$TMP/die.out" 2>&1
assert_exit "raw client: service reset mid-body" 3 $? "$TMP/die.out"

step "the server and the agent go on"
wait_http_route 10 "$HTTP_BASE/proxy/agent-1/hello" "hello from back-1"
python3 "$HTTPCLIENT" abort "$HTTP_BASE/proxy/agent-1/bytes?n=3000000" >"$TMP/ok.out" 2>&1 ||
	fail "a whole download is complete" "exit 0" "$(cat "$TMP/ok.out")"
assert_contains "complete" "$TMP/ok.out" "complete 3000000 bytes"
assert_eq "server still alive" "yes" "$(alive "$SERVER_PID" && echo yes)"
exit 0
