# tests/peer_nat_lib.sh — two agents behind two NATs and a server on the "internet", for the
# direct-path tests (peer_direct_*.sh). Source after tests/lib.sh and tests/nat_lib.sh.
#
#   pn_setup MODE1 MODE2 [AGENT2_STUN]   the lab (nat_setup MODE1 MODE2), certificates, and
#        configs: the server in pub (TLS on 198.18.0.1:9443, STUN on 198.18.0.1:3478, relay
#        agent-2 -> agent-1); agent-1 in b provides echo and bulk (services in b); agent-2 in
#        a connects 127.0.0.1:7101 -> echo and 127.0.0.1:7102 -> bulk. Both have direct paths
#        (udp-punch); agent-2 asks AGENT2_STUN ("ip:port", default the server's). PN_RETRY
#        sets direct.retry (seconds, default 30).
#   pn_start                 start the services, the server and both agents; wait until both
#                            agents registered
#   pn_wait_direct SECONDS   until agent-2 logs that its direct path to agent-1 is up
#   pn_ctl N ARGS...         proxyctl ARGS against agent-N's admin socket
#   in_a CMD...              run CMD in a (where agent-2's local ports are)
# Logs: $TMP/server.log, $TMP/agent-1.log, $TMP/agent-2.log.

require_cmd python3 openssl
[ -x "${PROXYCTL:-}" ] || fail "PROXYCTL is not set to the built proxyctl" "an executable" "${PROXYCTL:-unset}"
for _p in transport-tcp transport-udp-punch; do
	ls "$top_builddir/plugins/$_p/.libs/"*.so >/dev/null 2>&1 || skip "the $_p plugin is not built"
done
PN_PLUGINS="--plugin-dir $top_builddir/plugins/transport-tcp/.libs --plugin-dir $top_builddir/plugins/transport-udp-punch/.libs"
NETCHECK="$top_srcdir/tests/tools/netcheck.py"

in_a() {
	in_ns a "$@"
}

pn_ctl() {
	_n=$1 _cmd=$2
	shift 2
	"$PROXYCTL" "$_cmd" -s "$TMP/agent-$_n.sock" "$@"
}

# _pn_agent_conf ID STUN EXTRA: an agent's configuration.
_pn_agent_conf() {
	cat >"$TMP/$1.conf" <<CONFEOF
log = { level = "debug"; };
admin = { socket = "$TMP/$1.sock"; };
drain_timeout = 2;
agent = {
  id = "$1";
  servers = ( { transport = "tcp"; address = "$NAT_PUB:9443"; server_name = "relay.test";
                ca = "pki/ca.crt"; cert = "pki/$1.crt"; key = "pki/$1.key"; } );
  reconnect_min = 0;
  reconnect_max = 1;
  direct = { transport = "udp-punch"; stun = ( "$2" ); retry = ${PN_RETRY:-30};
             cert = "pki/$1.crt"; key = "pki/$1.key"; ca = "pki/ca.crt"; };
  $3
};
CONFEOF
}

pn_setup() {
	nat_setup "$1" "$2"
	"$PROXYCTL" pki init --dir "$TMP/pki" >/dev/null || fail "proxyctl pki init"
	"$PROXYCTL" pki issue --dir "$TMP/pki" --server relay.test --san "IP:$NAT_PUB" >/dev/null ||
		fail "proxyctl pki issue --server"
	for _id in agent-1 agent-2; do
		"$PROXYCTL" pki issue --dir "$TMP/pki" --agent $_id >/dev/null || fail "proxyctl pki issue $_id"
	done
	cat >"$TMP/server.conf" <<CONFEOF
log = { level = "debug"; };
admin = { socket = "$TMP/server.sock"; };
drain_timeout = 2;
server = {
  listen = ( { transport = "tcp"; address = "$NAT_PUB:9443";
               cert = "pki/relay.test.crt"; key = "pki/relay.test.key"; client_ca = "pki/ca.crt"; },
             { transport = "udp-punch"; address = "$NAT_PUB:3478"; } );
  relay = { allow = ( { from = "agent-2"; to = "agent-1"; } ); };
};
CONFEOF
	_pn_agent_conf agent-1 "$NAT_PUB:3478" 'services = ( { name = "echo"; address = "127.0.0.1:7001"; },
               { name = "bulk"; address = "127.0.0.1:7002"; } );
  allow = ( { from = "agent-2"; } );'
	_pn_agent_conf agent-2 "${3:-$NAT_PUB:3478}" 'connect = ( { agent = "agent-1"; service = "echo"; listen = "127.0.0.1:7101"; },
              { agent = "agent-1"; service = "bulk"; listen = "127.0.0.1:7102"; } );'
}

pn_start() {
	nat_start_bg "$TMP/echo-service.log" b "$NAT_PYTHON" "$NETCHECK" echo-server 7001
	nat_start_bg "$TMP/bulk-service.log" b "$NAT_PYTHON" "$NETCHECK" bulk-server 7002
	wait_for_log 10 "$TMP/echo-service.log" "listening on" "echo service in b"
	wait_for_log 10 "$TMP/bulk-service.log" "listening on" "bulk service in b"
	nat_start_bg "$TMP/server.log" pub "$PROXYD" -f -c "$TMP/server.conf" $PN_PLUGINS
	SERVER_PID=$BG_PID
	wait_for_log 10 "$TMP/server.log" "accepting agents on" "server listening"
	nat_start_bg "$TMP/agent-1.log" b "$PROXYD" -f -c "$TMP/agent-1.conf" $PN_PLUGINS
	AGENT1_PID=$BG_PID
	wait_for_log 15 "$TMP/agent-1.log" "registered with" "agent-1 registered"
	nat_start_bg "$TMP/agent-2.log" a "$PROXYD" -f -c "$TMP/agent-2.conf" $PN_PLUGINS
	AGENT2_PID=$BG_PID
	wait_for_log 15 "$TMP/agent-2.log" "registered with" "agent-2 registered"
}

pn_wait_direct() {
	wait_for_log "$1" "$TMP/agent-2.log" "direct path to agent-1 is up" "agent-2's direct path to agent-1"
}
