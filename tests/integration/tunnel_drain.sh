#!/bin/sh
# SIGTERM drains: with a user's connection open through the tunnel, the server stops taking
# new work but stays until that connection finishes, then exits 0 well before the deadline.
# A second signal exits at once. The drain deadline (drain_timeout) bounds a stuck drain.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tunnel_lib.sh"

make_pki
write_server_conf
sed -i 's/^drain_timeout = 3;/drain_timeout = 30;/' "$TMP/server.conf"
write_agent_conf agent-1
start_echo_service
start_server
start_agent agent-1

# hold PORT SECONDS FILE: a client that keeps one echo connection open until FILE appears,
# proves the stream still works at the end, and writes "ok" to FILE.done.
hold() {
	python3 - "$1" "$2" <<'PY' &
import os, socket, sys, time
port, flag = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"before\n"); assert s.recv(100) == b"before\n"
open(flag + ".open", "w").close()
while not os.path.exists(flag):
    time.sleep(0.05)
s.sendall(b"after\n")
ok = s.recv(100) == b"after\n"
s.close()
open(flag + ".done", "w").write("ok" if ok else "broken")
PY
	track_pid $!
}

step "SIGTERM with a connection in flight: the server waits for it"
hold "$ECHO_PORT" "$TMP/release1"
wait_for 10 test -e "$TMP/release1.open" || fail "held connection opened" "open" "$(cat "$TMP/server.log")"
kill -TERM "$SERVER_PID"
wait_for_log 5 "$TMP/server.log" "draining" "server starts draining"
sleep 1
alive "$SERVER_PID" || fail "a draining server with work in flight stays up" "alive" "$(tail -5 "$TMP/server.log")"
touch "$TMP/release1"
wait_exit 10 "$SERVER_PID" || fail "server exits once the connection is done" "exit within 10 s" "$(tail -5 "$TMP/server.log")"
assert_eq "drain exit code" "0" "$RC"
assert_eq "the held connection worked until its end" "ok" "$(cat "$TMP/release1.done" 2>/dev/null)"
assert_contains "server says it drained" "$TMP/server.log" "drained; exiting"

step "a second signal exits at once"
mv "$TMP/server.log" "$TMP/server-1.log"
start_server
wait_for_log 15 "$TMP/server.log" "agent agent-1 registered" "agent back"
hold "$ECHO_PORT" "$TMP/release2"
wait_for 10 test -e "$TMP/release2.open" || fail "second held connection opened" "open" "$(cat "$TMP/server.log")"
kill -TERM "$SERVER_PID"
wait_for_log 5 "$TMP/server.log" "draining" "second drain starts"
kill -TERM "$SERVER_PID"
wait_exit 3 "$SERVER_PID" || fail "second signal exits at once" "exit within 3 s" "$(tail -5 "$TMP/server.log")"
assert_contains "server says why it left" "$TMP/server.log" "exiting now"
touch "$TMP/release2"
exit 0
