#!/bin/sh
# proxyd --probe: times handshakes with the agent's server without starting the agent; fails
# with the transport's reason when the server is not there or refuses the agent.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tunnel_lib.sh"

make_pki
write_server_conf
write_agent_conf agent-1

step "no server yet: the probe fails and says why"
run_proxyd "$TMP/probe0.out" "$TMP/probe0.err" --probe=1 -c "$TMP/agent-agent-1.conf" $PLUGIN_DIRS
assert_exit "probe without a server" 1 "$RC" "$TMP/probe0.out" "$TMP/probe0.err"
assert_contains "the reason is given" "$TMP/probe0.err" "probe failed:"

start_server
step "20 handshakes with the running server"
run_proxyd "$TMP/probe.out" "$TMP/probe.err" --probe=20 -c "$TMP/agent-agent-1.conf" $PLUGIN_DIRS
assert_exit "probe with a server" 0 "$RC" "$TMP/probe.out" "$TMP/probe.err"
assert_contains "all connected, with a median" "$TMP/probe.out" "20 of 20 connected; median"
assert_eq "one line per handshake" 20 "$(count_lines "$TMP/probe.out" "connected in")"
assert_contains "the server's verified name" "$TMP/probe.out" "peer localhost"
cat "$TMP/probe.out" | tail -1

step "an agent certificate from another CA is refused"
"$PROXYCTL" pki init --dir "$TMP/other" >/dev/null || fail "second CA"
"$PROXYCTL" pki issue --dir "$TMP/other" --agent agent-1 >/dev/null || fail "agent cert from the other CA"
write_agent_conf agent-1 'ca = "pki/ca.crt"; cert = "other/agent-1.crt"; key = "other/agent-1.key";'
run_proxyd "$TMP/probe2.out" "$TMP/probe2.err" --probe -c "$TMP/agent-agent-1.conf" $PLUGIN_DIRS
assert_exit "probe with a refused certificate" 1 "$RC" "$TMP/probe2.out" "$TMP/probe2.err"
assert_contains "the reason is given" "$TMP/probe2.err" "probe failed:"

step "bad count"
run_proxyd "$TMP/probe3.out" "$TMP/probe3.err" --probe=0 -c "$TMP/agent-agent-1.conf" $PLUGIN_DIRS
assert_exit "--probe=0" 2 "$RC" "$TMP/probe3.err"
assert_contains "names the range" "$TMP/probe3.err" "expected 1..100000"
assert_eq "server alive" yes "$(alive "$SERVER_PID" && echo yes)"
exit 0
