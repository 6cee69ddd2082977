#!/bin/sh
# A service with proxy_protocol = 1 or 2 gets a PROXY protocol header from the agent before the
# user's bytes: nginx (a real consumer, `listen ... proxy_protocol`) behind the agent reports
# curl's own address and source port, over IPv4 and IPv6; the same nginx without the option
# refuses the connection; and an echo service shows the exact bytes of both versions, with
# the service's own address as the destination (doc/PROTOCOL.md, 5.2).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tunnel_lib.sh"

NGINX=$(command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; }) ||
	skip "'nginx' is not installed (scripts/install-deps.sh --test)"
require_cmd curl

NGINX_PORT=$(free_port)
PP1_PORT=$(free_port)
PP2_PORT=$(free_port)
PLAIN_PORT=$(free_port)
RAW1_PORT=$(free_port)
RAW2_PORT=$(free_port)
V6_PORT=$(free_port)

# IPv6 loopback, where the system has it: the v6 user reaches an IPv4 service.
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
	HAVE_V6=yes
	V6_EDGE="{ listen = \"[::1]:$V6_PORT\"; agent = \"agent-1\"; service = \"web2\"; },"
else
	HAVE_V6=no
	V6_EDGE=
fi

step "nginx with a proxy_protocol listener on 127.0.0.1:$NGINX_PORT"
mkdir "$TMP/nginx"
# master_process off: one process, the one we started, so cleanup stops exactly it; every
# path nginx would write to is under $TMP.
cat >"$TMP/nginx/nginx.conf" <<EOF
daemon off;
master_process off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log info;
events { worker_connections 64; }
http {
  log_format pp '\$proxy_protocol_addr \$proxy_protocol_port';
  access_log $TMP/nginx/access.log pp;
  client_body_temp_path $TMP/nginx/body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  uwsgi_temp_path $TMP/nginx/uwsgi;
  scgi_temp_path $TMP/nginx/scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT proxy_protocol;
    location / {
      default_type text/plain;
      return 200 "pp=\$proxy_protocol_addr:\$proxy_protocol_port\n";
    }
  }
}
EOF
start_bg "$TMP/nginx.out" "$NGINX" -p "$TMP/nginx/" -e "$TMP/nginx/error.log" -c "$TMP/nginx/nginx.conf"
NGINX_PID=$BG_PID
nginx_listening() { ss -Htln "sport = :$NGINX_PORT" | grep -q .; }
wait_for 10 nginx_listening ||
	fail "nginx listens on $NGINX_PORT" "a listener" "$(cat "$TMP/nginx.out" "$TMP/nginx/error.log" 2>&1)"

make_pki
cat >"$TMP/server.conf" <<EOF
log = { level = "debug"; };
admin = { socket = "$TMP/server.sock"; };
server = {
  listen = ( { transport = "$TRANSPORT"; address = "127.0.0.1:$SERVER_PORT";
               cert = "pki/localhost.crt"; key = "pki/localhost.key"; client_ca = "pki/ca.crt"; } );
};
tcp = ( { listen = "127.0.0.1:$PP1_PORT"; agent = "agent-1"; service = "web1"; },
        { listen = "127.0.0.1:$PP2_PORT"; agent = "agent-1"; service = "web2"; },
        { listen = "127.0.0.1:$PLAIN_PORT"; agent = "agent-1"; service = "plain"; },
        { listen = "127.0.0.1:$RAW1_PORT"; agent = "agent-1"; service = "raw1"; },
        $V6_EDGE
        { listen = "127.0.0.1:$RAW2_PORT"; agent = "agent-1"; service = "raw2"; } );
EOF
cat >"$TMP/agent-agent-1.conf" <<EOF
log = { level = "debug"; };
admin = { socket = "$TMP/agent-agent-1.sock"; };
agent = {
  id = "agent-1";
  servers = ( { transport = "$TRANSPORT"; address = "127.0.0.1:$SERVER_PORT"; server_name = "localhost";
                ca = "pki/ca.crt"; cert = "pki/agent-1.crt"; key = "pki/agent-1.key"; } );
  services = ( { name = "web1"; address = "127.0.0.1:$NGINX_PORT"; proxy_protocol = 1; },
               { name = "web2"; address = "127.0.0.1:$NGINX_PORT"; proxy_protocol = 2; },
               { name = "plain"; address = "127.0.0.1:$NGINX_PORT"; },
               { name = "raw1"; address = "127.0.0.1:$LOCAL_ECHO_PORT"; proxy_protocol = 1; },
               { name = "raw2"; address = "127.0.0.1:$LOCAL_ECHO_PORT"; proxy_protocol = 2; } );
  reconnect_min = 0;
  reconnect_max = 1;
};
EOF
run_proxyd "$TMP/t.out" "$TMP/t.err" -t -c "$TMP/agent-agent-1.conf" $PLUGIN_DIRS
assert_exit "proxyd -t accepts proxy_protocol" 0 "$RC" "$TMP/t.out" "$TMP/t.err"
start_echo_service
start_server
start_agent agent-1

# curl_via PUBLIC-ADDRESS LOCAL-PORT [CURL-OPTIONS...]: the body nginx answers, from a known
# source port.
curl_via() {
	_url=$1 _lp=$2
	shift 2
	curl -sS --max-time 10 --local-port "$_lp" "$@" "$_url" 2>&1
}

for v in 1 2; do
	eval "port=\$PP${v}_PORT"
	step "PROXY v$v: nginx sees curl's address and port"
	lp=$(free_port)
	out=$(curl_via "http://127.0.0.1:$port/" "$lp") || fail "curl through web$v" "pp=127.0.0.1:$lp" "$out"
	assert_eq "nginx's \$proxy_protocol_addr:port through web$v" "pp=127.0.0.1:$lp" "$out"
	assert_contains "nginx logs the client of web$v" "$TMP/nginx/access.log" "127.0.0.1 $lp"
done

if [ "$HAVE_V6" = yes ]; then
	step "PROXY v2 from an IPv6 user to an IPv4 service"
	lp=$(free_port)
	out=$(curl_via "http://[::1]:$V6_PORT/" "$lp" -g) || fail "curl over IPv6" "pp=::1:$lp" "$out"
	assert_eq "nginx sees the IPv6 user" "pp=::1:$lp" "$out"
else
	echo "no IPv6 loopback here: the IPv6 case is not run"
fi

step "without proxy_protocol, the same nginx refuses the connection"
lp=$(free_port)
if out=$(curl_via "http://127.0.0.1:$PLAIN_PORT/" "$lp"); then
	fail "nginx answers a connection without a PROXY header" "curl fails" "$out"
fi
wait_for_log 5 "$TMP/nginx/error.log" "broken header" "nginx names the missing header"

# raw PORT LOCAL-PORT: the hex of what comes back from the echo service for "hi".
raw() {
	python3 - "$1" "$2" <<'EOF'
import socket, sys
c = socket.socket()
c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
c.bind(("127.0.0.1", int(sys.argv[2])))
c.settimeout(10)
c.connect(("127.0.0.1", int(sys.argv[1])))
c.sendall(b"hi")
c.shutdown(socket.SHUT_WR)
out = b""
while True:
    d = c.recv(65536)
    if not d:
        break
    out += d
print(out.hex())
EOF
}
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }

step "the exact v1 line: the user, then the service's own address"
lp=$(free_port)
out=$(raw "$RAW1_PORT" "$lp") || fail "echo through raw1" "the header and hi" "$out"
assert_eq "v1 header then the user's bytes" \
	"$(hex "PROXY TCP4 127.0.0.1 127.0.0.1 $lp $LOCAL_ECHO_PORT")0d0a$(hex hi)" "$out"

step "the exact v2 block"
lp=$(free_port)
out=$(raw "$RAW2_PORT" "$lp") || fail "echo through raw2" "the header and hi" "$out"
sig=0d0a0d0a000d0a515549540a
assert_eq "v2 header then the user's bytes" \
	"${sig}2111000c7f0000017f000001$(printf '%04x%04x' "$lp" "$LOCAL_ECHO_PORT")$(hex hi)" "$out"

assert_eq "nginx still running" "yes" "$(alive "$NGINX_PID" && echo yes)"
assert_eq "agent still running" "yes" "$(alive "$AGENT_PID" && echo yes)"
exit 0
