#!/bin/sh
# 20 % of the packets crossing agent-2's NAT are lost, each way: STUN answers, punches and the
# QUIC handshake are repeated until they get through, and whatever path the agents end up on,
# connections work and 4 MiB each way arrive intact.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/nat_lib.sh"
. "$top_srcdir/tests/peer_nat_lib.sh"

nat_require
PN_RETRY=2
pn_setup cone cone
nat_loss nat1 20
pn_start

step "a direct attempt ends (up or failed) despite the loss"
wait_for 30 grep -qE "direct path to agent-1 is up|direct path to agent-1: attempt .* failed" "$TMP/agent-2.log" ||
	fail "an attempt finishes" "up or failed" "$(grep direct "$TMP/agent-2.log" | tail -5)"
grep -E "direct path to agent-1 is up|attempt .* failed" "$TMP/agent-2.log" | head -3

step "echo and 4 MiB each way with 20 % loss"
out=$(in_a "$NAT_PYTHON" "$NETCHECK" echo 127.0.0.1 7101 "lossy hello" 2>&1) || fail "echo" "lossy hello" "$out"
assert_eq "echoed" "lossy hello" "$out"
out=$(in_a "$NAT_PYTHON" "$NETCHECK" bulk 127.0.0.1 7102 $((4 << 20)) $((4 << 20)) 2>&1) ||
	fail "bulk with 20 % loss" "digests match" "$out"
echo "lossy: $out"
pn_ctl 2 status --json >"$TMP/status.json" 2>&1 || fail "proxyctl status" "exit 0"
sed -n 's/.*"peers":\[\({"agent":"agent-1","path":"[a-z]*"\).*/path now: \1/p' "$TMP/status.json"
echo "dropped: $(nat_drops nat1) packets at nat1"
[ "$(nat_drops nat1)" -gt 0 ] || fail "the loss rule dropped packets" "> 0" "$(nat_drops nat1)"
exit 0
