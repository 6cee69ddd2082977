#!/bin/sh
# An id listed in server.load_balance may be connected several times at once; connections
# to its services are spread over the sessions. An id that is not listed keeps the
# one-session rule (tested in tunnel_restart.sh).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tunnel_lib.sh"

make_pki
write_server_conf 'load_balance = [ "agent-1" ];'
write_agent_conf agent-1
cp "$TMP/agent-agent-1.conf" "$TMP/agent-second.conf"
sed -i "s#agent-agent-1.sock#agent-second.sock#" "$TMP/agent-second.conf"
start_echo_service
start_server
start_agent agent-1
start_proxyd "$TMP/agent-second.log" -f -c "$TMP/agent-second.conf" $PLUGIN_DIRS
wait_for_log 15 "$TMP/agent-second.log" "registered with" "second agent-1 registered beside the first"

step "connections spread over both sessions"
i=0
while [ $i -lt 10 ]; do
	out=$(python3 "$NETCHECK" echo 127.0.0.1 "$ECHO_PORT" "lb $i" 2>&1) || fail "echo $i" "lb $i" "$out"
	i=$((i + 1))
done
first=$(count_lines "$TMP/agent-agent-1.log" "to service echo")
second=$(count_lines "$TMP/agent-second.log" "to service echo")
[ "$first" -ge 1 ] && [ "$second" -ge 1 ] && [ $((first + second)) -eq 10 ] ||
	fail "10 connections served by both sessions" "both >= 1, sum 10" "first $first, second $second"
echo "first session served $first, second $second"
exit 0
