#!/bin/sh
# The VM-host proxy with agent-reported ports: a proxyd agent inside each VM connects to the
# host's proxyd server like any agent and reports its listening TCP ports (from
# /proc/net/tcp{,6}) with the labels of a file the VM's user writes (agent.report_ports); the
# host proxy opens exactly those ports of that VM (agent_ports = true), or only the labelled
# ones (agent_ports = "labeled"). What a user sees: a port the VM listens on is reachable, one
# it does not listen on, or only on its loopback, is 403; a service started later is
# reachable within the report interval; one VM's agent opens nothing on another VM; when
# the agent stops, its ports close.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tunnel_lib.sh"
. "$top_srcdir/tests/http_lib.sh"
. "$top_srcdir/tests/vmhost_lib.sh"
http_require_edge
vm_require_netns

vm_setup_host
vm_add vm1 2
vm_add vm2 3
vm_httpback vm1 8080 vm1-8080
vm_httpback vm1 3000 vm1-3000
vm_start_bg "$TMP/vm1-4000.log" "$VM_NS_PREFIX-vm1" python3 "$HTTPBACK" 4000 --bind 127.0.0.1 --name vm1-4000
wait_for_log 20 "$TMP/vm1-4000.log" "ready" "a loopback-only service in vm1"
vm_httpback vm2 6000 vm2-6000

http_make_pki vm1 vm2
cat >"$TMP/server.conf" <<CONF
log = { level = "debug"; };
admin = { socket = "$TMP/admin.sock"; };
drain_timeout = 3;
# Agents inside the VMs dial the host on the bridge.
server = {
  listen = ( { transport = "tcp"; address = "$VM_NET.1:9443";
               cert = "pki/localhost.crt"; key = "pki/localhost.key"; client_ca = "pki/ca.crt"; } );
};
http = {
  listen = ( { address = "127.0.0.1:$VM_HTTP_PORT"; } );
  routes = ( { router = "subdomain"; base_domain = "vm.test";
               vms = ( { name = "vm1"; address = "$VM_NET.2"; },
                       { name = "vm2"; address = "$VM_NET.3"; } );
               agent_ports = true; },
             { router = "subdomain"; base_domain = "lab.test";
               vms = ( { name = "vm1"; address = "$VM_NET.2"; } );
               agent_ports = "labeled"; } );
};
CONF
# The VM's user names the ports they mean to publish.
printf '# port label\n3000 app\n4000 local-only\n' >"$TMP/vm1-ports"
write_vm_agent() {
	cat >"$TMP/agent-$1.conf" <<CONF
log = { level = "debug"; };
admin = { socket = "$TMP/agent-$1.sock"; };
drain_timeout = 1;
agent = {
  id = "$1";
  servers = ( { transport = "tcp"; address = "$VM_NET.1:9443"; server_name = "localhost";
                ca = "pki/ca.crt"; cert = "pki/$1.crt"; key = "pki/$1.key"; } );
  report_ports = { labels = "$1-ports"; interval = 1; };
  reconnect_min = 0;
  reconnect_max = 1;
};
CONF
	run_proxyd "$TMP/t.out" "$TMP/t.err" -t -c "$TMP/agent-$1.conf" $PLUGIN_DIRS
	assert_exit "proxyd -t agent-$1.conf" 0 "$RC" "$TMP/t.out" "$TMP/t.err"
}
write_vm_agent vm1
write_vm_agent vm2
run_proxyd "$TMP/t.out" "$TMP/t.err" -t -c "$TMP/server.conf" $PLUGIN_DIRS
assert_exit "proxyd -t server.conf" 0 "$RC" "$TMP/t.out" "$TMP/t.err"

vm_start_proxyd "$TMP/proxyd.log" -f -c "$TMP/server.conf" $PLUGIN_DIRS
wait_for_log 10 "$TMP/proxyd.log" "accepting agents on" "the host's server"
vm_start_bg "$TMP/agent-vm1.log" "$VM_NS_PREFIX-vm1" "$PROXYD" -f -c "$TMP/agent-vm1.conf" $PLUGIN_DIRS
AGENT1_PID=$BG_PID
vm_start_bg "$TMP/agent-vm2.log" "$VM_NS_PREFIX-vm2" "$PROXYD" -f -c "$TMP/agent-vm2.conf" $PLUGIN_DIRS

step "the agents report what listens in their VMs"
wait_for_log 15 "$TMP/proxyd.log" "agent vm1 reports 2 listening port(s): 3000 (app), 8080" "vm1's report"
wait_for_log 15 "$TMP/proxyd.log" "agent vm2 reports 1 listening port(s): 6000" "vm2's report"
assert_contains "the agent says what it reported" "$TMP/agent-vm1.log" "reported 2 listening port(s): 3000 (app), 8080"

step "agent_ports = true: exactly the ports the VM listens on"
vm_expect vm1.vm.test /hello 200 "hello from vm1-8080" "the default port, reported"
vm_expect vm1-3000.vm.test /hello 200 "hello from vm1-3000" "port 3000, reported"
vm_expect vm1-4000.vm.test /hello 403 "port 4000 is not open on vm1" "a service on the VM's loopback only"
vm_expect vm1-5000.vm.test /hello 403 "port 5000 is not open on vm1" "nothing listens on 5000"
vm_expect vm2-6000.vm.test /hello 200 "hello from vm2-6000" "vm2's own port"
vm_expect vm1-6000.vm.test /hello 403 "port 6000 is not open on vm1" "vm2's agent opens nothing on vm1"

step "agent_ports = \"labeled\": only the ports the VM's user labelled"
vm_expect vm1-3000.lab.test /hello 200 "hello from vm1-3000" "port 3000, labelled 'app'"
vm_expect vm1.lab.test /hello 403 "port 8080 is not open on vm1" "port 8080 listens but has no label"

step "a service started later is reachable within the report interval"
vm_httpback vm1 5000 vm1-5000
wait_for_log 10 "$TMP/proxyd.log" "agent vm1 reports 3 listening port(s): 3000 (app), 5000, 8080" "the new report"
vm_expect vm1-5000.vm.test /hello 200 "hello from vm1-5000" "port 5000 once reported"
vm_expect vm1-5000.lab.test /hello 403 "port 5000 is not open on vm1" "not labelled yet"
printf '5000 api\n70000 nonsense\n' >>"$TMP/vm1-ports"
wait_for_log 10 "$TMP/proxyd.log" "3000 (app), 5000 (api), 8080" "the new label"
vm_expect vm1-5000.lab.test /hello 200 "hello from vm1-5000" "labelled now"
assert_contains "a bad line in the labels file is named in the agent's log" "$TMP/agent-vm1.log" \
	"vm1-ports:5: expected a port number from 1 to 65535 first (line ignored)"
assert_eq "and said once" 1 "$(count_lines "$TMP/agent-vm1.log" "vm1-ports:5:")"

step "proxyctl status shows the reports"
"$PROXYCTL" status --json -s "$TMP/admin.sock" >"$TMP/status.json" || fail "proxyctl status" "exit 0" "$(cat "$TMP/status.json")"
assert_eq "vm1's report: its address as the server sees it, ports and labels" \
	"[[\"$VM_NET.2\", [[3000, \"app\"], [5000, \"api\"], [8080, \"\"]]]]" \
	"$(json_get "$TMP/status.json" '[[r["address"], [[p["port"], p["label"]] for p in r["ports"]]] for r in d["reported_ports"] if r["agent"] == "vm1"]')"

step "the agent stops: its ports close"
kill -TERM "$AGENT1_PID"
wait_for_log 10 "$TMP/proxyd.log" "agent vm1 disconnected" "the server sees vm1 go"
vm_expect vm1-3000.vm.test /hello 403 "port 3000 is not open on vm1" "no agent reports vm1's ports"
vm_expect vm2-6000.vm.test /hello 200 "hello from vm2-6000" "vm2 unaffected"
exit 0
