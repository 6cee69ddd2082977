#!/bin/sh
# Endpoint-dependent mapping (MASQUERADE --random-fully) defeats hole punching: the port a
# NAT shows the peer is not the one STUN saw. With such a NAT on one side, then on both, the
# attempt fails at "punch", the failure is recorded (status, metrics), and connections work
# through the relay all along.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/nat_lib.sh"
. "$top_srcdir/tests/peer_nat_lib.sh"

nat_require
pn_setup random cone
pn_start

check_relay_fallback() { # LABEL
	wait_for_log 15 "$TMP/agent-2.log" "failed at punch" "$1: the attempt fails at punch"
	out=$(in_a "$NAT_PYTHON" "$NETCHECK" echo 127.0.0.1 7101 "hello relay" 2>&1) || fail "$1: echo" "hello relay" "$out"
	assert_eq "$1: echoed" "hello relay" "$out"
	out=$(in_a "$NAT_PYTHON" "$NETCHECK" bulk 127.0.0.1 7102 $((8 << 20)) $((8 << 20)) 2>&1) ||
		fail "$1: bulk through the relay" "digests match" "$out"
	echo "$1 relay: $out"
	pn_ctl 2 status --json >"$TMP/status.json" 2>&1 || fail "proxyctl status" "exit 0" "$(cat "$TMP/status.json")"
	assert_contains "$1: status shows the relay" "$TMP/status.json" '"path":"relay"'
	assert_contains "$1: status records the failed step" "$TMP/status.json" '"step":"punch"'
	pn_ctl 2 ping -c 2 agent-1 >"$TMP/ping.txt" 2>&1 || fail "$1: proxyctl ping" "exit 0" "$(cat "$TMP/ping.txt")"
	assert_contains "$1: ping goes through the relay" "$TMP/ping.txt" "(relay)"
	pn_ctl 2 metrics >"$TMP/metrics.txt" || fail "proxyctl metrics" "exit 0"
	assert_matches "$1: the failure counted by step" "$TMP/metrics.txt" \
		'^proxyd_direct_failures_total\{step="punch"\} [1-9]'
	assert_matches "$1: no direct path" "$TMP/metrics.txt" '^proxyd_direct_paths 0'
}

step "random-fully on agent-2's NAT, cone on agent-1's"
check_relay_fallback "one side"

step "random-fully on both"
# Changing a NAT's mode flushes its mappings, which breaks agent-1's session too: start both
# agents again behind the new NATs.
kill "$AGENT2_PID" "$AGENT1_PID"
wait_gone 10 "$AGENT2_PID"
wait_gone 10 "$AGENT1_PID"
nat_mode nat2 random
nat_start_bg "$TMP/agent-1.log" b "$PROXYD" -f -c "$TMP/agent-1.conf" $PN_PLUGINS
AGENT1_PID=$BG_PID
wait_for_log 15 "$TMP/agent-1.log" "registered with" "agent-1 registered again"
nat_start_bg "$TMP/agent-2.log" a "$PROXYD" -f -c "$TMP/agent-2.conf" $PN_PLUGINS
AGENT2_PID=$BG_PID
wait_for_log 15 "$TMP/agent-2.log" "registered with" "agent-2 registered again"
check_relay_fallback "both sides"
exit 0
