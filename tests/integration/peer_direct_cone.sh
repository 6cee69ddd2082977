#!/bin/sh
# Two agents behind two cone-like NATs (Linux MASQUERADE) find a direct path within 2 s:
# agent-2 learns its public address from coturn (an independent STUN server), agent-1 from the
# proxyd server's own STUN port; the server hands out the punch key; both punch; QUIC with
# mutual TLS comes up on the punched sockets. Connections then go direct (echo, 32 MiB each
# way), proxyctl ping and status say "direct", and metrics count it.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/nat_lib.sh"
. "$top_srcdir/tests/peer_nat_lib.sh"

nat_require
command -v turnserver >/dev/null 2>&1 || skip "coturn (turnserver) is not installed"
pn_setup cone cone "$NAT_PUB:3479"
# coturn on 3479 of the server's address: agent-2's STUN server.
nat_start_bg "$TMP/coturn.log" pub turnserver -n --stun-only --listening-ip "$NAT_PUB" \
	--listening-port 3479 --relay-ip "$NAT_PUB" --db "$TMP/coturn.db" --pidfile "$TMP/coturn.pid" \
	--log-file stdout --simple-log --no-cli --no-tls --no-dtls --no-tcp \
	--proc-user nobody --proc-group nogroup
wait_for 10 in_ns pub sh -c "ss -uln | grep -q ':3479 '"
pn_start

step "a direct path within 2 s"
pn_wait_direct 10
took=$(sed -n 's/.*direct path to agent-1 is up after \([0-9]*\) ms.*/\1/p' "$TMP/agent-2.log" | head -1)
echo "time to direct: $took ms"
[ "$took" -le 2000 ] || fail "direct path within 2 s" "<= 2000 ms" "$took ms"

step "agent-2 learned its public address from coturn"
assert_matches "srflx candidate from coturn" "$TMP/agent-2.log" "candidates .*srflx $NAT1_PUB:[0-9]+"
assert_matches "agent-1's from the proxyd server" "$TMP/agent-1.log" "candidates .*srflx $NAT2_PUB:[0-9]+"

step "echo and 32 MiB each way over the direct path"
out=$(in_a "$NAT_PYTHON" "$NETCHECK" echo 127.0.0.1 7101 "hello direct" 2>&1) || fail "echo" "hello direct" "$out"
assert_eq "echoed" "hello direct" "$out"
out=$(in_a "$NAT_PYTHON" "$NETCHECK" bulk 127.0.0.1 7102 $((32 << 20)) $((32 << 20)) 2>&1) ||
	fail "bulk over the direct path" "digests match" "$out"
echo "direct: $out"
assert_contains "provider saw it come direct" "$TMP/agent-1.log" "over the direct path to service bulk"

step "ping and status say direct"
pn_ctl 2 ping -c 3 agent-1 >"$TMP/ping.txt" 2>&1 || fail "proxyctl ping" "exit 0" "$(cat "$TMP/ping.txt")"
cat "$TMP/ping.txt"
assert_contains "ping went direct" "$TMP/ping.txt" "(direct)"
pn_ctl 2 status --json >"$TMP/status.json" 2>&1 || fail "proxyctl status" "exit 0" "$(cat "$TMP/status.json")"
assert_contains "status shows the direct path" "$TMP/status.json" '"path":"direct"'
assert_contains "status records the attempt" "$TMP/status.json" '"ok":true'
pn_ctl 2 metrics >"$TMP/metrics.txt" || fail "proxyctl metrics" "exit 0"
assert_matches "one success" "$TMP/metrics.txt" '^proxyd_direct_success_total [1-9]'
assert_matches "a direct path up" "$TMP/metrics.txt" '^proxyd_direct_paths 1'
exit 0
