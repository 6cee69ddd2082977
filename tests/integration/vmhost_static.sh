#!/bin/sh
# The VM-host proxy with a static table: VMs are network namespaces on a bridge, each running
# real web servers; proxyd (no server section, no tunnel) routes <vm>[-<port>].vm.test to them
# by subdomain. What a user sees: each VM's own page, <vm>-<port> for another port, 403 for a
# port that is not on the allow-list, 404 for a name that is no VM; and everything the HTTP
# edge does works for these direct targets: several VMs on one keep-alive connection,
# X-Forwarded-*, a 1 MiB download and upload intact, server-sent events as they are sent, a
# WebSocket echo, the head-size limit and the response timeout.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tunnel_lib.sh"
. "$top_srcdir/tests/http_lib.sh"
. "$top_srcdir/tests/vmhost_lib.sh"
http_require_edge
vm_require_netns
require_websockets

vm_setup_host
vm_add web1 2
vm_add web2 3
vm_add db-1 4
vm_httpback web1 8080 web1
vm_httpback web2 8080 web2
vm_httpback web2 5000 web2-5000
vm_httpback db-1 8080 db-1
vm_start_bg "$TMP/wsecho.log" "$VM_NS_PREFIX-web1" "$SYS_PYTHON" "$WSECHO" 3000 --bind 0.0.0.0 --name ws-web1
wait_for_log 20 "$TMP/wsecho.log" "ready" "WebSocket echo in web1"

cat >"$TMP/vmhost.conf" <<CONF
log = { level = "debug"; };
admin = { socket = "$TMP/admin.sock"; };
drain_timeout = 3;
# The HTTP edge alone: routes to direct addresses need no server section.
http = {
  listen = ( { address = "127.0.0.1:$VM_HTTP_PORT"; } );
  routes = ( { router = "subdomain"; base_domain = "vm.test";
               vms = ( { name = "web1"; address = "$VM_NET.2"; ports = [ 3000 ]; },
                       { name = "web2"; address = "$VM_NET.3"; ports = [ 5000 ]; },
                       { name = "db-1"; address = "$VM_NET.4"; } );
               networks = [ "$VM_NET.0/24" ]; } );
  response_timeout = 3;
};
CONF

step "proxyd -t accepts an http section without a server"
run_proxyd "$TMP/t.out" "$TMP/t.err" -t -c "$TMP/vmhost.conf" $PLUGIN_DIRS
assert_exit "proxyd -t vmhost.conf" 0 "$RC" "$TMP/t.out" "$TMP/t.err"
vm_start_proxyd "$TMP/proxyd.log" -f -c "$TMP/vmhost.conf" $PLUGIN_DIRS
wait_for 10 in_host sh -c "ss -Htln 'sport = :$VM_HTTP_PORT' | grep -q ." ||
	fail "proxyd listens in the host namespace" "a listener on :$VM_HTTP_PORT" "$(cat "$TMP/proxyd.log")"

step "by subdomain: each VM's own page on the default port 8080"
vm_expect web1.vm.test /hello 200 "hello from web1" "VM web1"
vm_expect web2.vm.test /hello 200 "hello from web2" "VM web2"
vm_expect WEB2.vm.test:8080 /hello 200 "hello from web2" "host name in capitals, with a port"

step "by <name>-<port>: a port on the VM's own list"
vm_expect web2-5000.vm.test /hello 200 "hello from web2-5000" "web2's port 5000"
vm_expect db-1.vm.test /hello 200 "hello from db-1" "a table name ending in -<digits> is that VM"

step "refusals a user can read"
vm_expect web1-5000.vm.test /hello 403 "port 5000 is not open on web1" "port 5000 is web2's, not web1's"
vm_expect web1-22.vm.test /hello 403 "port 22 is not open on web1" "port 22 is on no list"
vm_expect nosuch.vm.test /hello 404 "no VM named nosuch" "a name that is no VM"
vm_expect a.web1.vm.test /hello 404 "no such name" "a name two labels deep"
vm_expect vm.test /hello 404 "no route" "the base domain itself"

step "what the VM's service sees: its Host, X-Forwarded-For/-Host/-Proto"
vm_get web1.vm.test /echo-headers
assert_eq "status" 200 "$CODE"
assert_eq "Host as the user sent it" web1.vm.test "$(json_get "$TMP/body" 'd["headers"]["host"]')"
assert_eq "X-Forwarded-For" 127.0.0.1 "$(json_get "$TMP/body" 'd["headers"]["x-forwarded-for"]')"
assert_eq "X-Forwarded-Host" web1.vm.test "$(json_get "$TMP/body" 'd["headers"]["x-forwarded-host"]')"
assert_eq "X-Forwarded-Proto" http "$(json_get "$TMP/body" 'd["headers"]["x-forwarded-proto"]')"
assert_matches "the connection comes from the host's bridge address" "$TMP/body" "\"peer\": \"$VM_NET\\.1:"

step "three VMs on one keep-alive connection, each request routed on its own"
in_host python3 "$HTTPCLIENT" --connect 127.0.0.1:$VM_HTTP_PORT keepalive http://web1.vm.test/hello \
	http://web2.vm.test/hello http://web2-5000.vm.test/hello http://web1.vm.test/hello >"$TMP/ka.out" 2>&1 ||
	fail "keep-alive across VMs" "exit 0" "$(cat "$TMP/ka.out")"
assert_eq "answers in order" "1 200 hello from web1
2 200 hello from web2
3 200 hello from web2-5000
4 200 hello from web1" "$(grep '^[0-9] ' "$TMP/ka.out")"
assert_contains "one connection" "$TMP/ka.out" "all 4 responses on one connection"

step "1 MiB chunked download and 1 MiB upload, intact"
vm_curl -D "$TMP/big.h" -o "$TMP/big.bin" -H "Host: web2.vm.test" \
	"http://127.0.0.1:$VM_HTTP_PORT/bytes?n=1048576&chunked=1" || fail "download" "exit 0" "$(cat "$TMP/big.h")"
want=$(tr -d '\r' <"$TMP/big.h" | sed -n 's/^[Xx]-[Ss]ha256: //p')
assert_eq "sha256 of the download" "$want" "$(sha256sum "$TMP/big.bin" | cut -d' ' -f1)"
head -c 1048576 /dev/urandom >"$TMP/up.bin"
vm_curl -H "Host: web1.vm.test" --data-binary @"$TMP/up.bin" -H "Content-Type: application/octet-stream" \
	"http://127.0.0.1:$VM_HTTP_PORT/upload" >"$TMP/up.json" || fail "upload" "exit 0" "$(cat "$TMP/up.json")"
assert_eq "the VM got the whole upload" "$(sha256sum "$TMP/up.bin" | cut -d' ' -f1)" "$(json_get "$TMP/up.json" 'd["sha256"]')"

step "server-sent events arrive one by one"
in_host python3 "$HTTPCLIENT" --connect 127.0.0.1:$VM_HTTP_PORT sse http://web2.vm.test/sse >"$TMP/sse.out" 2>&1 ||
	fail "sse" "exit 0" "$(cat "$TMP/sse.out")"
assert_eq "five events" 5 "$(grep -c '^event [0-9]* at' "$TMP/sse.out")"
spread=$(sed -n 's/^spread \([0-9.]*\) s$/\1/p' "$TMP/sse.out")
awk -v s="$spread" 'BEGIN { exit !(s >= 0.9) }' ||
	fail "events arrive as sent, not held until the end" "first-to-last spread >= 0.9 s" "$(cat "$TMP/sse.out")"

step "WebSocket to web1-3000"
in_host timeout 60 "$SYS_PYTHON" "$WSCLIENT" --host web1-3000.vm.test --count 3 \
	"ws://127.0.0.1:$VM_HTTP_PORT/chat" >"$TMP/ws.out" 2>&1 ||
	fail "WebSocket echo through the VM-host proxy" "ok: 9 messages echoed intact" \
		"$(cat "$TMP/ws.out"; echo '[wsecho]'; cat "$TMP/wsecho.log"; echo '[proxyd]'; tail -20 "$TMP/proxyd.log")"
assert_contains "all messages echoed" "$TMP/ws.out" "ok: 9 messages echoed intact"
assert_contains "the VM's WebSocket server saw the path and Host" "$TMP/wsecho.log" \
	"connection for /chat (Host web1-3000.vm.test:$VM_HTTP_PORT)"

step "the edge's limits hold for direct targets"
big=$(head -c 20000 /dev/zero | tr '\0' a)
CODE=$(in_host curl -s --max-time 20 -o "$TMP/body" -w '%{http_code}' -H "Host: web1.vm.test" \
	-H "X-Big: $big" "http://127.0.0.1:$VM_HTTP_PORT/hello")
assert_eq "a 20 kB header field: 431" 431 "$CODE"
vm_expect web1.vm.test "/sleep?ms=6000" 504 "did not answer in time" "a VM slower than response_timeout (3 s)"

step "proxyctl status: the HTTP edge alone"
"$PROXYCTL" status --json -s "$TMP/admin.sock" >"$TMP/status.json" ||
	fail "proxyctl status" "exit 0" "$(cat "$TMP/status.json")"
assert_eq "role" http "$(json_get "$TMP/status.json" 'd["role"]')"
assert_eq "the listener" "127.0.0.1:$VM_HTTP_PORT" "$(json_get "$TMP/status.json" 'd["listeners"][0]["address"]')"
exit 0
