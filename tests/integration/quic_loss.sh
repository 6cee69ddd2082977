#!/bin/sh
# QUIC under loss: 10 % of all UDP packets dropped (iptables statistic match) while streams
# run; none may fail. The whole test runs inside a network namespace of its own (re-executed
# there with `ip netns exec`), so the rule drops only this test's packets on that namespace's
# loopback; the TCP edges and local services are untouched (the rule matches UDP only).
. "$top_srcdir/tests/lib.sh"
TRANSPORT=quic
. "$top_srcdir/tests/tunnel_lib.sh"

if [ -z "${QUIC_LOSS_NETNS:-}" ]; then
	require_cmd ip iptables
	NS=proxyd-loss-$$
	ip netns add "$NS" 2>"$TMP/netns.err" || skip "cannot make a network namespace: $(cat "$TMP/netns.err")"
	# On every exit: stop what runs in the namespace, remove it, then lib.sh's cleanup.
	teardown_ns() {
		for _p in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$_p" 2>/dev/null; done
		ip netns del "$NS" 2>/dev/null
	}
	trap '_rc_ns=$?; teardown_ns; (exit $_rc_ns); _cleanup' EXIT
	ip -n "$NS" link set lo up || fail "loopback up in $NS"
	ip netns exec "$NS" iptables -A INPUT -p udp -m statistic --mode random --probability 0.1 -j DROP ||
		fail "the loss rule in $NS"
	QUIC_LOSS_NETNS=$NS ip netns exec "$NS" "$SHELL" "$0"
	RC=$?
	ip netns exec "$NS" iptables -L INPUT -v -n -x >"$TMP/rule.txt" 2>&1
	cat "$TMP/rule.txt"
	teardown_ns
	[ $RC -eq 0 ] || exit $RC
	# The rule must really have dropped packets, or the test proved nothing.
	DROPPED=$(awk '$3 == "DROP" { print $1 }' "$TMP/rule.txt")
	[ "${DROPPED:-0}" -gt 100 ] || fail "packets dropped by the 10 % rule" "more than 100" "$(cat "$TMP/rule.txt")"
	echo "dropped $DROPPED UDP packets"
	exit 0
fi

SIZE=${PROXYD_LOSS_BYTES:-33554432}
make_pki
write_server_conf
write_agent_conf agent-1
start_echo_service
start_bulk_service
start_server
start_agent agent-1

step "$SIZE bytes each way with checksums, under 10 % loss"
python3 "$NETCHECK" bulk 127.0.0.1 "$BULK_PORT" "$SIZE" "$SIZE" >"$TMP/bulk.txt" 2>&1 ||
	fail "a transfer under 10 % loss" "success" "$(cat "$TMP/bulk.txt"; tail -20 "$TMP/agent-agent-1.log")"
cat "$TMP/bulk.txt"
step "50 concurrent streams under 10 % loss"
python3 "$NETCHECK" many 127.0.0.1 "$ECHO_PORT" 50 262144 >"$TMP/many.txt" 2>&1 ||
	fail "50 concurrent streams under 10 % loss" "all finish intact" "$(cat "$TMP/many.txt")"
cat "$TMP/many.txt"
assert_eq "the agent registered once (no reconnect)" 1 "$(count_lines "$TMP/agent-agent-1.log" "registered with")"
exit 0
