#!/usr/bin/env bash
# The demo: installs what is missing, builds, then starts a local web service, a proxyd
# server and a proxyd agent on loopback, prints the public URL and proves a request through
# the tunnel. `scripts/demo.sh --stay` keeps everything running until Ctrl-C.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
stay=no
[ "${1:-}" = "--stay" ] && stay=yes

"$top/scripts/install-deps.sh" --build --test
cd "$top"
[ -x configure ] || ./autogen.sh >/dev/null
mkdir -p build
cd build
[ -f Makefile ] || ../configure --quiet
make -j"$(nproc)" >/dev/null
bin=$PWD
cd "$top"

work=$(mktemp -d /tmp/proxyd-demo.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
server_port=$(free_port) public_port=$(free_port) ssh_port=$(free_port) web_port=$(free_port)

echo "== a local web service on 127.0.0.1:$web_port (only the agent can see it)"
mkdir -p "$work/www"
echo "Hello from behind the NAT, served through proxyd." >"$work/www/index.html"
python3 -m http.server "$web_port" --bind 127.0.0.1 --directory "$work/www" >"$work/web.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$web_port/" && break; sleep 0.1; done

echo "== certificates (proxyctl pki)"
"$bin/proxyctl" pki init --dir "$work/pki" >/dev/null
"$bin/proxyctl" pki issue --dir "$work/pki" --server localhost --san IP:127.0.0.1 >/dev/null
"$bin/proxyctl" pki issue --dir "$work/pki" --agent agent-1 >/dev/null

sed -e "s/127.0.0.1:9443/127.0.0.1:$server_port/" -e "s/127.0.0.1:8080/127.0.0.1:$public_port/" \
    -e "s/127.0.0.1:2222/127.0.0.1:$ssh_port/" \
    -e "s#/tmp/proxyd-server.sock#$work/server.sock#" "$top/etc/server.conf" >"$work/server.conf"
sed -e "s/127.0.0.1:9443/127.0.0.1:$server_port/" -e "s/127.0.0.1:3000/127.0.0.1:$web_port/" \
    -e "s#/tmp/proxyd-agent.sock#$work/agent.sock#" "$top/etc/agent.conf" >"$work/agent.conf"

plugins="--plugin-dir $bin/plugins/transport-tcp/.libs --plugin-dir $bin/plugins/router-path/.libs"
plugins="$plugins --plugin-dir $bin/plugins/router-subdomain/.libs"
echo "== proxyd server (agents on 127.0.0.1:$server_port, public HTTP on 127.0.0.1:$public_port)"
"$bin/proxyd" -f -c "$work/server.conf" $plugins >"$work/server.log" 2>&1 &
pids+=($!)
echo "== proxyd agent agent-1"
"$bin/proxyd" -f -c "$work/agent.conf" $plugins >"$work/agent.log" 2>&1 &
pids+=($!)

for _ in $(seq 100); do grep -q "registered with" "$work/agent.log" && break; sleep 0.1; done
grep -q "registered with" "$work/agent.log" || { cat "$work/server.log" "$work/agent.log"; echo "demo: the agent did not register" >&2; exit 1; }

url="http://127.0.0.1:$public_port/proxy/agent-1/"
echo
echo "Public URL: $url"
sub="http://agent-1.localhost.test:$public_port/"
resolve="--resolve agent-1.localhost.test:$public_port:127.0.0.1"
for u in "$url" "http://127.0.0.1:$public_port/" "$sub"; do
	extra=""
	[ "$u" = "$sub" ] && extra=$resolve
	echo "\$ curl -s ${extra:+$extra }$u"
	body=$(curl -sS --max-time 10 $extra "$u") || { cat "$work/server.log" "$work/agent.log"; exit 1; }
	echo "$body"
	[ "$body" = "Hello from behind the NAT, served through proxyd." ] || { echo "demo: unexpected answer" >&2; exit 1; }
done
echo
"$bin/proxyctl" status -s "$work/server.sock"
echo
echo "demo: OK — a request went user -> server -> TLS tunnel -> agent -> local service."
if [ "$stay" = yes ]; then
	echo "Running until Ctrl-C. Logs: $work/server.log $work/agent.log"
	wait
fi
