#!/bin/sh
# The VM-host proxy with an HTTP lookup, resolve_url = "http://127.0.0.1:7070/vms/{name}",
# against a small local lookup API (tests/tools/vmapi.py) whose table the test edits: the
# address is taken from the JSON answer at resolve_path, the VM's own ports at
# resolve_ports_path. What a user sees: the VMs by name and <name>-<port> (a WebSocket too);
# 404 for a name the API does not know; 502 with the reason when the API fails, answers
# something unusable or an address outside `networks`, is too slow or is down; 403 for a port
# on no list. And the waiting itself: answers are cached (one lookup per name), a request
# that waits longer than response_timeout gets 504, a client that leaves while its request
# waits is let go, and a reload while a request waits sends it through the new configuration.
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
vm_httpback web1 8080 web1
vm_httpback web2 8080 web2
vm_start_bg "$TMP/wsecho.log" "$VM_NS_PREFIX-web1" "$SYS_PYTHON" "$WSECHO" 3000 --bind 0.0.0.0 --name ws-web1
wait_for_log 20 "$TMP/wsecho.log" "ready" "WebSocket echo in web1"

cat >"$TMP/table.json" <<JSON
{ "web1": { "ip": "$VM_NET.2", "ports": [ 3000 ] },
  "web2": { "ip": "$VM_NET.3" },
  "broken": { "status": 500 },
  "garbage": { "raw": "not json" },
  "noip": { "raw": "{\"name\": \"noip\", \"network\": {}}" },
  "outside": { "ip": "10.1.2.3" },
  "slow": { "ip": "$VM_NET.2", "delay_ms": 3000 },
  "sleepy": { "ip": "$VM_NET.2", "delay_ms": 8000 },
  "sleepy2": { "ip": "$VM_NET.2", "delay_ms": 8000 },
  "sleepy3": { "ip": "$VM_NET.3", "delay_ms": 1500 } }
JSON
start_vmapi() {
	vm_start_bg "$TMP/vmapi.log" "$VM_HOST_NS" python3 "$top_srcdir/tests/tools/vmapi.py" 7070 --table "$TMP/table.json"
	VMAPI_PID=$BG_PID
	wait_for_log 20 "$TMP/vmapi.log" "ready" "the lookup API"
}
start_vmapi
lookups() { grep -c "^lookup /vms/$1 " "$TMP/vmapi.log"; }

# Two routes on the same API: vm.test gives up on a lookup after 2 s, slow.test waits 10 s
# (longer than response_timeout, to see the edge's own timeout while a request waits).
write_conf() {
	cat >"$TMP/vmhost.conf" <<CONF
log = { level = "debug"; };
admin = { socket = "$TMP/admin.sock"; };
drain_timeout = 3;
http = {
  listen = ( { address = "127.0.0.1:$VM_HTTP_PORT"; } );
  routes = ( { router = "subdomain"; base_domain = "vm.test";
               resolve_url = "http://127.0.0.1:7070/vms/{name}";
               resolve_path = "network.ip"; resolve_ports_path = "ports";
               resolve_timeout = 2;
               cache_ttl = 300; cache_miss_ttl = 1; cache_error_ttl = 1;
               networks = [ "$VM_NET.0/24" ]; },
             { router = "subdomain"; base_domain = "slow.test";
               resolve_url = "http://127.0.0.1:7070/vms/{name}";
               resolve_path = "network.ip";
               resolve_timeout = 10; $1 } );
  response_timeout = 4;
};
CONF
}
write_conf ""
run_proxyd "$TMP/t.out" "$TMP/t.err" -t -c "$TMP/vmhost.conf" $PLUGIN_DIRS
assert_exit "proxyd -t vmhost.conf" 0 "$RC" "$TMP/t.out" "$TMP/t.err"
vm_start_proxyd "$TMP/proxyd.log" -f -c "$TMP/vmhost.conf" $PLUGIN_DIRS
wait_for 10 in_host sh -c "ss -Htln 'sport = :$VM_HTTP_PORT' | grep -q ." ||
	fail "proxyd listens in the host namespace" "a listener on :$VM_HTTP_PORT" "$(cat "$TMP/proxyd.log")"

step "by name, with the address from the JSON answer"
vm_expect web1.vm.test /hello 200 "hello from web1" "VM web1"
vm_expect web2.vm.test /hello 200 "hello from web2" "VM web2"
vm_expect web1.vm.test /hello 200 "hello from web1" "web1 again"
vm_expect web1.vm.test /echo-headers 200 "web1.vm.test" "web1 a third time"
assert_eq "one lookup per name while cached" 1 "$(lookups web1)"

step "WebSocket to web1-3000 (port 3000 from the answer's ports)"
in_host timeout 60 "$SYS_PYTHON" "$WSCLIENT" --host web1-3000.vm.test "ws://127.0.0.1:$VM_HTTP_PORT/ws" >"$TMP/ws.out" 2>&1 ||
	fail "WebSocket through an HTTP-resolved VM" "ok: 6 messages echoed intact" \
		"$(cat "$TMP/ws.out"; echo '[proxyd]'; tail -20 "$TMP/proxyd.log")"
assert_contains "all messages echoed" "$TMP/ws.out" "ok: 6 messages echoed intact"
vm_expect web2-3000.vm.test /hello 403 "port 3000 is not open on web2" "web2's answer has no port 3000"

step "names the API does not know, and answers that cannot be used"
vm_expect nosuch.vm.test /hello 404 "no VM named nosuch" "the API answered 404"
vm_expect broken.vm.test /hello 502 "cannot look up broken: the lookup service answered 500" "the API failed"
vm_expect garbage.vm.test /hello 502 "cannot look up garbage: the answer is not JSON" "an answer that is not JSON"
vm_expect noip.vm.test /hello 502 "the answer has nothing at \"network.ip\"" "JSON without the address"
vm_expect outside.vm.test /hello 502 "the resolver answered 10.1.2.3, outside 'networks'" "an address outside networks"
vm_expect slow.vm.test /hello 502 "the lookup service did not answer within 2 s" "a lookup slower than resolve_timeout"

step "the API is down, then back"
kill "$VMAPI_PID"
wait_for 5 sh -c "! in_host ss -Htln 'sport = :7070' | grep -q ." 2>/dev/null
vm_expect web3.vm.test /hello 502 "cannot look up web3: cannot reach the lookup service" "the API is down"
start_vmapi
sed -i "s/\"web2\": {/\"web3\": { \"ip\": \"$VM_NET.3\" }, \"web2\": {/" "$TMP/table.json"
sleep 1.2
vm_expect web3.vm.test /hello 200 "hello from web2" "web3 once the API is back (after cache_error_ttl)"

step "a request that waits longer than response_timeout: 504"
vm_expect sleepy.slow.test /hello 504 "no route decision in time" "the lookup takes 8 s, response_timeout is 4 s"

step "a client that leaves while its request waits"
CODE=$(in_host curl -s --max-time 1 -o /dev/null -w '%{http_code}' -H "Host: sleepy2.slow.test" \
	"http://127.0.0.1:$VM_HTTP_PORT/hello")
assert_eq "curl gave up (no answer yet)" 000 "$CODE"
wait_for_log 5 "$TMP/proxyd.log" "the client left while the request waited for a router" "the edge noticed"
wait_for 5 sh -c "'$PROXYCTL' status --json -s '$TMP/admin.sock' | grep -q '\"connections\":0'" ||
	fail "no connection is left behind" "connections 0" "$("$PROXYCTL" status --json -s "$TMP/admin.sock")"

step "a reload while a request waits: the new configuration decides"
waiting=$(count_lines "$TMP/proxyd.log" "waiting for router")
in_host curl -s --max-time 20 -o "$TMP/reload.body" -w '%{http_code}' -H "Host: sleepy3.slow.test" \
	"http://127.0.0.1:$VM_HTTP_PORT/hello" >"$TMP/reload.code" &
CURL=$!
wait_for 5 sh -c "[ \$(grep -c 'waiting for router' '$TMP/proxyd.log') -gt $waiting ]" ||
	fail "the request waits for its lookup (1.5 s)" "one more 'waiting for router' line" "$(tail -5 "$TMP/proxyd.log")"
write_conf "cache_ttl = 60;"
kill -HUP "$PROXYD_PID"
wait_for_log 10 "$TMP/proxyd.log" "configuration reloaded" "the reload"
wait "$CURL"
assert_eq "the waiting request was answered" "200 hello from web2" "$(cat "$TMP/reload.code") $(cat "$TMP/reload.body")"
wait_for 5 sh -c "[ \$(grep -c '^lookup /vms/sleepy3 ' '$TMP/vmapi.log') -eq 2 ]" ||
	fail "the old route's lookup was given up and the new route looked again" "2 lookups of sleepy3" \
		"$(cat "$TMP/vmapi.log")"
exit 0
