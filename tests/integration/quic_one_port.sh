#!/bin/sh
# QUIC between agent and server: each side uses one UDP socket and nothing else for the
# tunnel, however many streams run. 100 concurrent streams (echoed, checked) while the
# sockets are counted from the kernel's view (ss), and no TCP connection joins the two.
. "$top_srcdir/tests/lib.sh"
TRANSPORT=quic
. "$top_srcdir/tests/tunnel_lib.sh"

make_pki
write_server_conf
write_agent_conf agent-1
start_echo_service
start_server
start_agent agent-1

# udp_sockets PID: the UDP sockets the process holds, one line each.
udp_sockets() { ss -Huanp | grep "pid=$1," || true; }

step "100 concurrent streams"
python3 "$NETCHECK" many 127.0.0.1 "$ECHO_PORT" 100 1048576 >"$TMP/many.txt" 2>&1 &
MANY_PID=$!
track_pid $MANY_PID
sleep 1
udp_sockets "$SERVER_PID" >"$TMP/server-udp.txt"
udp_sockets "$AGENT_PID" >"$TMP/agent-udp.txt"
ss -Htanp | grep -E "pid=($SERVER_PID|$AGENT_PID)," >"$TMP/tcp.txt" || true
wait "$MANY_PID"
RC=$?
forget_pid "$MANY_PID"
assert_eq "100 concurrent streams over QUIC finish intact" 0 "$RC"
cat "$TMP/many.txt"

assert_eq "UDP sockets of the server" 1 "$(wc -l <"$TMP/server-udp.txt")"
assert_contains "the server's UDP socket is its listening port" "$TMP/server-udp.txt" ":$SERVER_PORT "
assert_eq "UDP sockets of the agent" 1 "$(wc -l <"$TMP/agent-udp.txt")"
# The agent's TCP sockets go to its local echo service only; the server's are its edges.
if grep -E "127.0.0.1:$SERVER_PORT" "$TMP/tcp.txt" >/dev/null; then
	fail "no TCP between agent and server" "no TCP socket on port $SERVER_PORT" "$(cat "$TMP/tcp.txt")"
fi
step "1100 streams one after another (QUIC counts every stream opened: the limit of 1024
must be raised as streams end, or the 1025th is refused for good)"
python3 "$NETCHECK" sequential 127.0.0.1 "$ECHO_PORT" 1100 >"$TMP/seq.txt" 2>&1 ||
	fail "1100 streams one after another" "all echoed" "$(cat "$TMP/seq.txt"; tail -5 "$TMP/server.log")"
cat "$TMP/seq.txt"
echo "server: $(cat "$TMP/server-udp.txt")"
echo "agent:  $(cat "$TMP/agent-udp.txt")"
exit 0
