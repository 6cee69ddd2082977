#!/bin/sh
# The QUIC listener answers STUN Binding requests on its own UDP port (RFC 8489), beside the
# QUIC connections on the same socket: a STUN client learns the address it comes from, and an
# agent keeps working over QUIC on that port meanwhile.
TRANSPORT=quic
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tunnel_lib.sh"

make_pki
write_server_conf
write_agent_conf agent-1
start_echo_service
start_server
start_agent agent-1

step "a STUN Binding request to the QUIC port is answered with our address"
STUN_LOCAL=$(free_port)
out=$(python3 "$top_srcdir/tests/tools/stun_client.py" "127.0.0.1:$SERVER_PORT" --bind "127.0.0.1:$STUN_LOCAL" 2>&1) ||
	fail "STUN on the QUIC port" "127.0.0.1:$STUN_LOCAL" "$out"
assert_eq "the mapped address" "127.0.0.1:$STUN_LOCAL" "$out"
wait_for_log 5 "$TMP/server.log" "Binding request from 127.0.0.1:$STUN_LOCAL answered" "the server logs it"

step "garbage that is neither QUIC nor STUN is dropped; the tunnel carries on"
python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for b in (b'\x00\x01\x00\x00' + b'\x00' * 16, b'\x00' * 3, b'\x3fPXP' + b'x' * 40):
    s.sendto(b, ('127.0.0.1', $SERVER_PORT))
"
out=$(python3 "$NETCHECK" echo 127.0.0.1 "$ECHO_PORT" "still over quic" 2>&1) || fail "echo after the garbage" "still over quic" "$out"
assert_eq "echo" "still over quic" "$out"
out=$(python3 "$top_srcdir/tests/tools/stun_client.py" "127.0.0.1:$SERVER_PORT" 2>&1) ||
	fail "STUN still answered" "an address" "$out"
assert_eq "server alive" "yes" "$(alive "$SERVER_PID" && echo yes)"
exit 0
