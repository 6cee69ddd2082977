# tests/tunnel_lib.sh — a server, an agent and local services on loopback, for the tunnel
# tests. Source after tests/lib.sh. Needs $PROXYCTL (make check sets it) and python3.
#
#   make_pki                       CA, server cert "localhost", agent cert "agent-1" in $TMP/pki
#   write_server_conf [EXTRA]      $TMP/server.conf: TLS+mTLS listener on $SERVER_PORT, a public
#                                  TCP port $ECHO_PORT -> agent-1/echo and $BULK_PORT -> bulk;
#                                  EXTRA is appended inside the server section
#   write_agent_conf ID [EXTRA_SERVER_KEYS]   $TMP/agent-ID.conf
#   start_server / start_agent ID  start and wait for readiness (sets SERVER_PID / AGENT_PID)
#   start_echo_service / start_bulk_service   the local services behind the agent

NETCHECK="$top_srcdir/tests/tools/netcheck.py"
require_cmd python3 openssl
[ -x "${PROXYCTL:-}" ] || fail "PROXYCTL is not set to the built proxyctl" "an executable" "${PROXYCTL:-unset}"

# The transport between agent and server: tcp (TLS over TCP) or quic. make check runs the
# tunnel and HTTP suites once per built transport (tests/quic/*.quic set TRANSPORT=quic).
TRANSPORT=${TRANSPORT:-tcp}
case $TRANSPORT in
tcp | quic) ;;
*) fail "TRANSPORT is tcp or quic" "tcp or quic" "$TRANSPORT" ;;
esac
ls "$top_builddir/plugins/transport-$TRANSPORT/.libs/"*.so >/dev/null 2>&1 ||
	skip "the transport-$TRANSPORT plugin is not built"
PLUGIN_DIRS="--plugin-dir $top_builddir/plugins/transport-$TRANSPORT/.libs"
SERVER_PORT=$(free_port)
ECHO_PORT=$(free_port)
BULK_PORT=$(free_port)
LOCAL_ECHO_PORT=$(free_port)
LOCAL_BULK_PORT=$(free_port)

make_pki() {
	"$PROXYCTL" pki init --dir "$TMP/pki" >/dev/null || fail "proxyctl pki init"
	"$PROXYCTL" pki issue --dir "$TMP/pki" --server localhost --san IP:127.0.0.1 >/dev/null ||
		fail "proxyctl pki issue --server"
	"$PROXYCTL" pki issue --dir "$TMP/pki" --agent agent-1 >/dev/null || fail "proxyctl pki issue --agent"
}

write_server_conf() {
	cat >"$TMP/server.conf" <<EOF
log = { level = "debug"; };
admin = { socket = "$TMP/server.sock"; };
drain_timeout = 3;
server = {
  listen = ( { transport = "$TRANSPORT"; address = "127.0.0.1:$SERVER_PORT";
               cert = "pki/localhost.crt"; key = "pki/localhost.key"; client_ca = "pki/ca.crt"; } );
  ${1:-}
};
tcp = ( { listen = "127.0.0.1:$ECHO_PORT"; agent = "agent-1"; service = "echo"; },
        { listen = "127.0.0.1:$BULK_PORT"; agent = "agent-1"; service = "bulk"; } );
EOF
}

# write_agent_conf ID [KEYS-FOR-THE-SERVER-ENTRY] [KEYS-FOR-THE-AGENT-SECTION]
# (dials $AGENT_SERVER_PORT when set, else $SERVER_PORT)
write_agent_conf() {
	_id=$1
	_srv=${2:-ca = \"pki/ca.crt\"; cert = \"pki/$_id.crt\"; key = \"pki/$_id.key\";}
	cat >"$TMP/agent-$_id.conf" <<EOF
log = { level = "debug"; };
admin = { socket = "$TMP/agent-$_id.sock"; };
drain_timeout = 3;
agent = {
  id = "$_id";
  servers = ( { transport = "$TRANSPORT"; address = "127.0.0.1:${AGENT_SERVER_PORT:-$SERVER_PORT}"; server_name = "localhost";
                $_srv } );
  services = ( { name = "echo"; address = "127.0.0.1:$LOCAL_ECHO_PORT"; },
               { name = "bulk"; address = "127.0.0.1:$LOCAL_BULK_PORT"; } );
  reconnect_min = 0;
  reconnect_max = 1;
  ${3:-}
};
EOF
}

start_server() {
	start_proxyd "$TMP/server.log" -f -c "$TMP/server.conf" $PLUGIN_DIRS
	SERVER_PID=$PROXYD_PID
	wait_for_log 10 "$TMP/server.log" "accepting agents on" "server listening"
}

# start_agent ID [WAIT-FOR-REGISTERED (default yes)]
start_agent() {
	start_proxyd "$TMP/agent-$1.log" -f -c "$TMP/agent-$1.conf" $PLUGIN_DIRS
	AGENT_PID=$PROXYD_PID
	if [ "${2:-yes}" = yes ]; then
		wait_for_log 15 "$TMP/agent-$1.log" "registered with" "agent $1 registered"
	fi
}

start_bg() { # LOG CMD...: a helper process, stopped on exit like proxyd
	_log=$1
	shift
	( run_bg "$@" ) >"$_log" 2>&1 </dev/null &
	BG_PID=$!
	track_pid $BG_PID
	wait_exec $BG_PID
}

start_echo_service() {
	start_bg "$TMP/echo-service.log" python3 "$NETCHECK" echo-server "$LOCAL_ECHO_PORT"
	ECHO_SERVICE_PID=$BG_PID
	wait_for_log 10 "$TMP/echo-service.log" "listening on" "local echo service"
}

start_bulk_service() {
	start_bg "$TMP/bulk-service.log" python3 "$NETCHECK" bulk-server "$LOCAL_BULK_PORT"
	wait_for_log 10 "$TMP/bulk-service.log" "listening on" "local bulk service"
}

# The RSS of a process in KiB.
rss_kb() {
	sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"
}
