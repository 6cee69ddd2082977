#!/bin/sh
# A server that stops answering (SIGSTOP: the TCP connection stays up, nothing is read) is
# declared dead by the agent within two PING intervals; when it resumes, the agent is back
# and registered, and traffic flows again.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tunnel_lib.sh"

make_pki
write_server_conf
write_agent_conf agent-1 "" "ping_interval = 1;"
start_echo_service
start_server
start_agent agent-1

step "freeze the server"
kill -STOP "$SERVER_PID"
t0=$(date +%s)
wait_for_log 6 "$TMP/agent-agent-1.log" "did not answer PING" "agent detects the silent server"
t1=$(date +%s)
[ $((t1 - t0)) -le 3 ] || fail "dead server detected within two 1 s intervals" "<= 3 s (2 s + 1 s of whole-second rounding)" "$((t1 - t0)) s"
kill -CONT "$SERVER_PID"

step "the server resumes: the agent registers again"
wait_for 15 eval "[ \$(count_lines '$TMP/server.log' 'agent agent-1 registered') -ge 2 ]" ||
	fail "agent registered a second time" "2 registrations" "$(cat "$TMP/server.log")"
out=$(python3 "$NETCHECK" echo 127.0.0.1 "$ECHO_PORT" "alive again" 2>&1) || fail "echo after recovery" "alive again" "$out"
exit 0
