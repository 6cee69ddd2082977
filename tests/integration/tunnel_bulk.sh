#!/bin/sh
# 1 GiB each way through the TLS tunnel with SHA-256 checks, and the same direct, in one run.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tunnel_lib.sh"

SIZE=${PROXYD_BULK_BYTES:-1073741824}
make_pki
write_server_conf
write_agent_conf agent-1
start_bulk_service
start_server
start_agent agent-1

step "direct, for comparison"
python3 "$NETCHECK" bulk 127.0.0.1 "$LOCAL_BULK_PORT" "$SIZE" "$SIZE" >"$TMP/direct.txt" 2>&1 ||
	fail "direct bulk transfer" "success" "$(cat "$TMP/direct.txt")"
step "through the tunnel: $SIZE bytes each way"
python3 "$NETCHECK" bulk 127.0.0.1 "$BULK_PORT" "$SIZE" "$SIZE" >"$TMP/tunnel.txt" 2>&1 ||
	fail "tunnelled bulk transfer with checksums" "success" "$(cat "$TMP/tunnel.txt"; tail -20 "$TMP/server.log")"
echo "direct: $(cat "$TMP/direct.txt")"
echo "tunnel: $(cat "$TMP/tunnel.txt")"
echo "RSS after transfer: server $(rss_kb "$SERVER_PID") kB, agent $(rss_kb "$AGENT_PID") kB"
exit 0
