#!/bin/sh
# A malformed frame closes only the session that sent it: the server keeps serving the
# good agent's traffic and stays up.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tunnel_lib.sh"

make_pki
write_server_conf
write_agent_conf agent-1
start_echo_service
start_server
start_agent agent-1

step "a TLS peer that sends a frame with the reserved bit set"
python3 - "$SERVER_PORT" "$TMP/pki" <<'PY' >"$TMP/evil.txt" 2>&1 || fail "evil client ran" "exit 0" "$(cat "$TMP/evil.txt")"
import socket, ssl, sys, struct
port, pki = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=pki + "/ca.crt")
ctx.load_cert_chain(pki + "/agent-1.crt", pki + "/agent-1.key")
with socket.create_connection(("127.0.0.1", port)) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
        s.sendall(b"PRXD\x00\x00\x00\x01")
        # DATA frame, length 4, stream id with the reserved top bit set
        s.sendall(struct.pack("!I", 4)[1:] + bytes([0, 0]) + struct.pack("!I", 0x80000001) + b"evil")
        s.settimeout(10)
        try:
            while s.recv(4096):
                pass
        except (ConnectionResetError, ssl.SSLError):
            pass
print("closed by server")
PY
wait_for_log 5 "$TMP/server.log" "protocol error" "server logs the malformed frame"
out=$(python3 "$NETCHECK" echo 127.0.0.1 "$ECHO_PORT" "still serving" 2>&1) || fail "good agent still served" "still serving" "$out"
assert_eq "server alive" "yes" "$(alive "$SERVER_PID" && echo yes)"
assert_not_contains "the good agent's session was not touched" "$TMP/agent-agent-1.log" "reconnecting in"
exit 0
