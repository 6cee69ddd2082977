#!/bin/sh
# Stopping: a program that ignores SIGTERM is killed 5 s later and proxyd exits; proxyd killed
# by SIGKILL leaves nothing behind: not the program (PR_SET_PDEATHSIG on the guard between
# them), nor what the program started (the guard kills the whole process group).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/provider_lib.sh"
require_cmd python3

# A program that ignores SIGTERM.
cat >"$TMP/stubborn.py" <<'EOF'
import signal, sys, time
signal.signal(signal.SIGTERM, lambda *a: print("ignoring SIGTERM", flush=True))
print("url=http://127.0.0.1:1/", flush=True)
while True:
    time.sleep(1)
EOF
write_provider_conf "
  command = \"python3\";
  args = [ \"$TMP/stubborn.py\" ];
  url_regex = \"url=([^ ]+)\";
  health_interval = 0;"

step "a program that ignores SIGTERM is killed after 5 s"
start_provider_proxyd
wait_for_log 10 "$TMP/proxyd.log" "web: public URL http://127.0.0.1:1/" "the program runs"
child=$(child_of "$PROXYD_PID" | head -n 1)
[ -n "$child" ] && alive "$child" || fail "proxyd has a child" "a pid" "'$child'"
kill -TERM "$PROXYD_PID"
wait_for_log 3 "$TMP/proxyd.log" "ignoring SIGTERM" "the program got SIGTERM"
sleep 3
assert_eq "still alive 3 s after SIGTERM" yes "$(alive "$child" && echo yes)"
wait_for_log 4 "$TMP/proxyd.log" "did not stop on SIGTERM; sending SIGKILL" "SIGKILL after 5 s"
wait_exit 5 "$PROXYD_PID" || fail "proxyd exits once the program is gone" "exit" "$(tail -5 "$TMP/proxyd.log")"
assert_exit "proxyd exit code" 0 "$RC" "$TMP/proxyd.log"
assert_gone "$child" "the stubborn program is gone"
assert_contains "killed by SIGKILL" "$TMP/proxyd.log" "web: program killed by signal 9"

step "proxyd killed by SIGKILL: its program, and what the program started, die with it"
cat >"$TMP/forker.sh" <<EOF
#!/bin/sh
sleep 300 &
echo "grandchild \$!"
echo "url=http://127.0.0.1:1/"
exec python3 "$TMP/stubborn.py"
EOF
chmod +x "$TMP/forker.sh"
write_provider_conf "
  command = \"$TMP/forker.sh\";
  url_regex = \"url=([^ ]+)\";
  health_interval = 0;"
start_provider_proxyd
wait_for_log 10 "$TMP/proxyd.log" "web: public URL http://127.0.0.1:1/" "the program runs"
child=$(child_of "$PROXYD_PID" | head -n 1)
program=$(child_of "$child" | head -n 1)
grandchild=$(sed -n 's/.*: grandchild \([0-9]*\)$/\1/p' "$TMP/proxyd.log")
[ -n "$child" ] && [ -n "$grandchild" ] || fail "the program and its child" "two pids" "'$child' '$grandchild'"
assert_eq "proxyd's child leads its own process group" "$child" "$(ps -o pgid= -p "$child" | tr -d ' ')"
assert_eq "the program is in that group" "$child" "$(ps -o pgid= -p "$program" | tr -d ' ')"
kill -KILL "$PROXYD_PID"
wait_exit 5 "$PROXYD_PID" || fail "proxyd dies on SIGKILL"
assert_gone "$child" "the program dies with proxyd (PR_SET_PDEATHSIG)"
assert_gone "$grandchild" "what the program started dies with it (its process group)"
[ -z "$(ps -o pid= -g "$child")" ] || fail "nothing is left in the program's process group" "no process" "$(ps -f -g "$child")"
exit 0
