#!/bin/sh
# The direct path dies in the middle of a transfer (UDP between the two NATs is dropped): the
# direct QUIC connection times out, the connection moves back to the relay from the last byte
# each side acknowledged, and the user's transfer finishes intact. Once the path is open again
# a new attempt succeeds, and a connection that was opened over the relay meanwhile moves to
# the direct path while it carries data.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/nat_lib.sh"
. "$top_srcdir/tests/peer_nat_lib.sh"

nat_require
PN_RETRY=2
pn_setup cone cone
pn_start
pn_wait_direct 10

step "block the direct path during 96 MiB each way"
in_a "$NAT_PYTHON" "$NETCHECK" bulk 127.0.0.1 7102 $((96 << 20)) $((96 << 20)) >"$TMP/bulk.out" 2>&1 &
BULK_PID=$!
track_pid $BULK_PID
wait_for 20 grep -q "over the direct path to service bulk" "$TMP/agent-1.log"
sleep 0.3
nat_block_udp_between
wait_for_log 20 "$TMP/agent-2.log" "direct path to agent-1 closed" "the dead direct path is noticed"
wait_for_log 20 "$TMP/agent-2.log" "resumed over the relay" "the connection moves to the relay"
wait_exit 120 "$BULK_PID" || fail "the transfer across the failover" "done within 120 s" "$(cat "$TMP/bulk.out")"
assert_exit "the transfer across the failover" 0 "$RC" "$TMP/bulk.out"
cat "$TMP/bulk.out"
echo "blocked packets: $(nat_drops nat1) at nat1, $(nat_drops nat2) at nat2"
pn_ctl 2 metrics >"$TMP/metrics.txt" || fail "proxyctl metrics" "exit 0"
assert_matches "the move to the relay counted" "$TMP/metrics.txt" '^proxyd_peer_moves_total\{to="relay"\} [1-9]'
assert_matches "the lost path counted" "$TMP/metrics.txt" '^proxyd_direct_lost_total [1-9]'
assert_matches "nothing aborted" "$TMP/metrics.txt" '^proxyd_peer_connections_aborted_total 0'

step "a connection made while the path is blocked moves to the direct path when it returns"
in_a "$NAT_PYTHON" "$NETCHECK" trickle 127.0.0.1 7101 12 >"$TMP/trickle.out" 2>&1 &
TRICKLE_PID=$!
track_pid $TRICKLE_PID
sleep 1
nat_unblock
wait_for_log 30 "$TMP/agent-2.log" "moved to the direct path" "the live connection moves to the direct path"
wait_exit 60 "$TRICKLE_PID" || fail "trickle across the move" "done within 60 s" "$(cat "$TMP/trickle.out")"
assert_exit "trickle across the move" 0 "$RC" "$TMP/trickle.out"
cat "$TMP/trickle.out"
pn_ctl 2 metrics >"$TMP/metrics.txt" || fail "proxyctl metrics" "exit 0"
assert_matches "the move to the direct path counted" "$TMP/metrics.txt" '^proxyd_peer_moves_total\{to="direct"\} [1-9]'
pn_ctl 2 ping -c 2 agent-1 >"$TMP/ping.txt" 2>&1 || fail "proxyctl ping" "exit 0" "$(cat "$TMP/ping.txt")"
assert_contains "ping goes direct again" "$TMP/ping.txt" "(direct)"
pn_ctl 2 status >"$TMP/status.txt" 2>&1 || fail "proxyctl status" "exit 0"
cat "$TMP/status.txt"
assert_contains "the human status lists the peer" "$TMP/status.txt" "agent-1  direct"
exit 0
