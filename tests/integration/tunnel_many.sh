#!/bin/sh
# 200 concurrent streams through one session while another stream's reader is stalled:
# the stalled stream must not hold up the others, and must itself arrive intact later.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tunnel_lib.sh"

make_pki
write_server_conf
write_agent_conf agent-1
start_echo_service
start_server
start_agent agent-1

step "200 streams + 1 stalled reader"
python3 "$NETCHECK" many 127.0.0.1 "$ECHO_PORT" 200 262144 >"$TMP/many.txt" 2>&1 ||
	fail "200 concurrent streams beside a stalled one" "all finish intact" "$(cat "$TMP/many.txt")"
cat "$TMP/many.txt"
assert_eq "server alive" "yes" "$(alive "$SERVER_PID" && echo yes)"
assert_eq "agent alive" "yes" "$(alive "$AGENT_PID" && echo yes)"
exit 0
