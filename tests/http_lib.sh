# tests/http_lib.sh — the HTTP edge on loopback, for the http_*.sh tests. Source after
# tests/lib.sh and tests/tunnel_lib.sh.
#
#   http_require_edge              skip (77) when the router plugins are not built
#   http_make_pki ID...            CA, server cert "localhost", an agent cert for each ID
#   write_http_server_conf [HTTP-KEYS] [LISTEN-EXTRA] [ROUTES]
#                                  $TMP/server.conf: the agents' TLS listener on $SERVER_PORT and
#                                  an http section: plain listener on $HTTP_PORT (LISTEN-EXTRA
#                                  adds entries), routes (default: subdomain under tunnel.test,
#                                  then path /proxy/ with default_agent agent-1), the limits and
#                                  timeouts from $HTTP_* and HTTP-KEYS appended
#   write_http_agent_conf ID SERVICES   $TMP/agent-ID.conf with SERVICES as the services list
#   http_check_conf FILE           proxyd -t must accept FILE (fails the test with its errors)
#   start_http_server              start_server, then wait for the HTTP port to listen
#   start_httpback VAR NAME PORT [ARGS]  an httpback.py (waits for "ready"); VAR_PID is set
#   start_wsecho PORT              wsecho.py under /usr/bin/python3 (WSECHO_PID)
#   wait_http_route SECONDS URL BODY [CURL-ARGS]   poll until URL answers 200 with BODY in it
#   sample_rss PID FILE            one line of VmRSS (kB) a second into FILE, in the background

HTTPBACK="$top_srcdir/tests/tools/httpback.py"
HTTPCLIENT="$top_srcdir/tests/tools/httpclient.py"
WSECHO="$top_srcdir/tests/tools/wsecho.py"
WSCLIENT="$top_srcdir/tests/tools/wsclient.py"
# Debian's interpreter (python3 on PATH may be another one that does not see python3-websockets)
SYS_PYTHON=${SYS_PYTHON:-/usr/bin/python3}

require_cmd curl
HTTP_PORT=$(free_port)
HTTPS_PORT=$(free_port)
HTTP_BASE=http://127.0.0.1:$HTTP_PORT
HTTP_MAX_HEADER_BYTES=${HTTP_MAX_HEADER_BYTES:-16384}
HTTP_MAX_HEADERS=${HTTP_MAX_HEADERS:-100}
HTTP_HEADER_TIMEOUT=${HTTP_HEADER_TIMEOUT:-10}
HTTP_IDLE_TIMEOUT=${HTTP_IDLE_TIMEOUT:-60}
HTTP_RESPONSE_TIMEOUT=${HTTP_RESPONSE_TIMEOUT:-60}
ROUTER_DIRS="--plugin-dir $top_builddir/plugins/router-path/.libs --plugin-dir $top_builddir/plugins/router-subdomain/.libs"

# The HTTP tests route with router-path and router-subdomain: a build configured without
# them (--disable-router-path) skips these tests.
http_require_edge() {
	for _r in router-path router-subdomain; do
		ls "$top_builddir/plugins/$_r/.libs/"*.so >/dev/null 2>&1 ||
			skip "the $_r plugin is not built in $top_builddir/plugins/$_r/.libs"
	done
	PLUGIN_DIRS="$PLUGIN_DIRS $ROUTER_DIRS"
}

http_make_pki() {
	"$PROXYCTL" pki init --dir "$TMP/pki" >/dev/null || fail "proxyctl pki init"
	"$PROXYCTL" pki issue --dir "$TMP/pki" --server localhost --san IP:127.0.0.1 >/dev/null ||
		fail "proxyctl pki issue --server localhost"
	for _id in "$@"; do
		"$PROXYCTL" pki issue --dir "$TMP/pki" --agent "$_id" >/dev/null ||
			fail "proxyctl pki issue --agent $_id"
	done
}

HTTP_DEFAULT_ROUTES='{ router = "subdomain"; base_domain = "tunnel.test"; },
             { router = "path"; prefix = "/proxy/"; default_agent = "agent-1"; }'

write_http_server_conf() {
	cat >"$TMP/server.conf" <<EOF
log = { level = "debug"; };
admin = { socket = "$TMP/server.sock"; };
drain_timeout = ${HTTP_DRAIN_TIMEOUT:-3};
server = {
  listen = ( { transport = "$TRANSPORT"; address = "127.0.0.1:$SERVER_PORT";
               cert = "pki/localhost.crt"; key = "pki/localhost.key"; client_ca = "pki/ca.crt"; } );
};
http = {
  listen = ( { address = "127.0.0.1:$HTTP_PORT"; } ${2:-} );
  routes = ( ${3:-$HTTP_DEFAULT_ROUTES} );
  max_header_bytes = $HTTP_MAX_HEADER_BYTES;
  max_headers = $HTTP_MAX_HEADERS;
  header_timeout = $HTTP_HEADER_TIMEOUT;
  idle_timeout = $HTTP_IDLE_TIMEOUT;
  response_timeout = $HTTP_RESPONSE_TIMEOUT;
  ${1:-}
};
EOF
}

# write_http_agent_conf ID SERVICES: SERVICES is the inside of `services = ( ... );`
write_http_agent_conf() {
	cat >"$TMP/agent-$1.conf" <<EOF
log = { level = "debug"; };
admin = { socket = "$TMP/agent-$1.sock"; };
drain_timeout = 3;
agent = {
  id = "$1";
  servers = ( { transport = "$TRANSPORT"; address = "127.0.0.1:$SERVER_PORT"; server_name = "localhost";
                ca = "pki/ca.crt"; cert = "pki/$1.crt"; key = "pki/$1.key"; } );
  services = ( $2 );
  reconnect_min = 0;
  reconnect_max = 1;
};
EOF
}

# http_service NAME PORT [default]: one entry for write_http_agent_conf's list
http_service() {
	if [ "${3:-}" = default ]; then
		echo "{ name = \"$1\"; url = \"http://127.0.0.1:$2\"; default = true; }"
	else
		echo "{ name = \"$1\"; url = \"http://127.0.0.1:$2\"; }"
	fi
}

http_check_conf() {
	run_proxyd "$TMP/check.out" "$TMP/check.err" -t -c "$1" $PLUGIN_DIRS
	assert_exit "proxyd -t accepts ${1##*/} (the http section shape these tests assume)" 0 "$RC" \
		"$1" "$TMP/check.out" "$TMP/check.err"
}

port_listening() { ss -Htln "sport = :$1" | grep -q .; }

start_http_server() {
	http_check_conf "$TMP/server.conf"
	start_server
	wait_for 10 port_listening "$HTTP_PORT" ||
		fail "the HTTP edge listens on 127.0.0.1:$HTTP_PORT" "a listener within 10 s" "$(tail -30 "$TMP/server.log")"
}

# start_httpback VAR NAME PORT [EXTRA-ARGS...]: sets ${VAR}_PID; log in $TMP/NAME.log
start_httpback() {
	_var=$1 _name=$2 _port=$3
	shift 3
	start_bg "$TMP/$_name.log" python3 "$HTTPBACK" "$_port" --name "$_name" "$@"
	eval "${_var}_PID=$BG_PID"
	wait_for_log 20 "$TMP/$_name.log" "ready" "backend $_name ready on $_port"
}

require_websockets() {
	[ -x "$SYS_PYTHON" ] && "$SYS_PYTHON" -c 'import websockets' 2>/dev/null ||
		skip "$SYS_PYTHON cannot import websockets (apt-get install python3-websockets)"
}

start_wsecho() {
	start_bg "$TMP/wsecho.log" "$SYS_PYTHON" "$WSECHO" "$1" --name wsecho
	WSECHO_PID=$BG_PID
	wait_for_log 20 "$TMP/wsecho.log" "ready" "wsecho ready on $1"
}

# wait_http_route SECONDS URL BODY [CURL-ARGS...]: poll until URL answers 200 and the body
# contains BODY (the agent has registered and the route works); fails with the last answer.
wait_http_route() {
	_secs=$1 _url=$2 _want=$3
	shift 3
	_n=$((_secs * 5))
	while :; do
		_code=$(curl -sS --max-time 5 -o "$TMP/route.body" -w '%{http_code}' "$@" "$_url" 2>"$TMP/route.err")
		if [ "$_code" = 200 ] && grep -qF -- "$_want" "$TMP/route.body"; then
			return 0
		fi
		_n=$((_n - 1))
		[ $_n -gt 0 ] || break
		sleep 0.2
	done
	fail "route $_url works" "200 with '$_want' within $_secs s" "status $_code: $(cat "$TMP/route.body" "$TMP/route.err" 2>/dev/null)
[server.log]
$(tail -20 "$TMP/server.log")"
}

# http_status URL [CURL-ARGS...]: print the status code curl got (000 when none)
http_status() {
	_u=$1
	shift
	curl -s -o /dev/null --max-time 30 -w '%{http_code}' "$@" "$_u"
}

sample_rss() { # PID FILE
	# under timeout(1): start_bg waits until the child runs another program than this shell
	start_bg "$2" timeout 86400 sh -c 'while kill -0 "$1" 2>/dev/null; do
		sed -n "s/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status"; sleep 1; done' rss "$1"
	RSS_SAMPLER_PID=$BG_PID
}

# json_get FILE EXPR: evaluate a Python expression over the JSON document `d` in FILE
json_get() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print(json.dumps(v) if not isinstance(v,str) else v)' "$1" "$2"
}
