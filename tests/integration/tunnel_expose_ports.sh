#!/bin/sh
# agent.expose_ports: a local port becomes a service named by its number, registered with the
# server, so a public port bound to service "<port>" reaches it; a configured service of that
# name keeps precedence; the agent's status lists the exposed ports.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tunnel_lib.sh"

EXPOSED_PORT=$(free_port)   # an echo service only expose_ports names
SHADOWED_PORT=$(free_port)  # exposed, but a configured service "<this port>" wins
PUB_EXPOSED=$(free_port)
PUB_SHADOWED=$(free_port)

make_pki
cat >"$TMP/server.conf" <<EOF2
log = { level = "debug"; };
admin = { socket = "$TMP/server.sock"; };
drain_timeout = 3;
server = {
  listen = ( { transport = "$TRANSPORT"; address = "127.0.0.1:$SERVER_PORT";
               cert = "pki/localhost.crt"; key = "pki/localhost.key"; client_ca = "pki/ca.crt"; } );
};
tcp = ( { listen = "127.0.0.1:$PUB_EXPOSED"; agent = "agent-1"; service = "$EXPOSED_PORT"; },
        { listen = "127.0.0.1:$PUB_SHADOWED"; agent = "agent-1"; service = "$SHADOWED_PORT"; } );
EOF2
cat >"$TMP/agent-agent-1.conf" <<EOF2
log = { level = "debug"; };
admin = { socket = "$TMP/agent-agent-1.sock"; };
drain_timeout = 3;
agent = {
  id = "agent-1";
  servers = ( { transport = "$TRANSPORT"; address = "127.0.0.1:$SERVER_PORT"; server_name = "localhost";
                ca = "pki/ca.crt"; cert = "pki/agent-1.crt"; key = "pki/agent-1.key"; } );
  services = ( { name = "$SHADOWED_PORT"; address = "127.0.0.1:$LOCAL_ECHO_PORT"; } );
  expose_ports = [ $EXPOSED_PORT, $SHADOWED_PORT ];
  reconnect_min = 0;
  reconnect_max = 1;
};
EOF2

step "proxyd -t accepts expose_ports"
run_proxyd "$TMP/out" "$TMP/err" -t -c "$TMP/agent-agent-1.conf" $PLUGIN_DIRS
assert_exit "proxyd -t agent.conf" 0 "$RC" "$TMP/out" "$TMP/err"

start_bg "$TMP/exposed-service.log" python3 "$NETCHECK" echo-server "$EXPOSED_PORT"
wait_for_log 10 "$TMP/exposed-service.log" "listening on" "the service on the exposed port"
start_echo_service
start_server
start_agent agent-1
assert_contains "the agent registers both services" "$TMP/agent-agent-1.log" "(2 service(s))"

step "a public port bound to service \"$EXPOSED_PORT\" reaches 127.0.0.1:$EXPOSED_PORT"
out=$(python3 "$NETCHECK" echo 127.0.0.1 "$PUB_EXPOSED" "hello exposed port" 2>&1) ||
	fail "echo through the exposed port" "hello exposed port" "$out"
assert_eq "echoed text" "hello exposed port" "$out"

step "a configured service of the same name wins over the exposed port"
# Nothing listens on 127.0.0.1:$SHADOWED_PORT: an answer comes from the configured service.
out=$(python3 "$NETCHECK" echo 127.0.0.1 "$PUB_SHADOWED" "hello configured" 2>&1) ||
	fail "echo through the configured service" "hello configured" "$out"
assert_eq "echoed text" "hello configured" "$out"

step "status lists the exposed port as an HTTP service"
"$PROXYCTL" status --json -s "$TMP/server.sock" >"$TMP/status.json" 2>&1 ||
	fail "proxyctl status --json" "exit 0" "$(cat "$TMP/status.json")"
assert_contains "server status names the exposed service" "$TMP/status.json" "\"name\":\"$EXPOSED_PORT\""
"$PROXYCTL" status --json -s "$TMP/agent-agent-1.sock" >"$TMP/astatus.json" 2>&1 ||
	fail "agent status" "exit 0" "$(cat "$TMP/astatus.json")"
assert_matches "agent status: the exposed port is kind http" "$TMP/astatus.json" \
	"\"name\":\"$EXPOSED_PORT\"[^}]*\"http\""
exit 0
