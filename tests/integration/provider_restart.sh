#!/bin/sh
# Programs that fail: one that crashes is restarted with a doubling backoff; one that never
# prints a URL is stopped after startup_timeout and restarted; one whose URL fails its health
# checks health_failures times in a row is restarted.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/provider_lib.sh"

step "a program that crashes: restarted, 1 s then 2 s later"
cat >"$TMP/crash.sh" <<'EOF'
#!/bin/sh
echo "crashing now"
exit 3
EOF
chmod +x "$TMP/crash.sh"
write_provider_conf "
  command = \"$TMP/crash.sh\";
  url_regex = \"url=([^ ]+)\";
  restart_min = 1;
  restart_max = 4;"
start_provider_proxyd
wait_for_log 10 "$TMP/proxyd.log" "web: restarting in 2000 ms (failure 2 in a row)" "the second backoff"
assert_contains "the exit is logged" "$TMP/proxyd.log" "web: program exited with status 3"
assert_contains "the first backoff" "$TMP/proxyd.log" "web: restarting in 1000 ms (failure 1 in a row)"
assert_contains "its output is logged" "$TMP/proxyd.log" "crashing now"
# The backoff is real: the second launch comes about 1 s after the first exit.
t1=$(grep -m1 'restarting in 1000 ms' "$TMP/proxyd.log" | cut -c12-23)
t2=$(grep 'web: started' "$TMP/proxyd.log" | sed -n 2p | cut -c12-23)
ms() { echo "$1" | awk -F: '{ printf "%d", ($1 * 3600 + $2 * 60 + $3) * 1000 }'; }
gap=$(($(ms "$t2") - $(ms "$t1")))
[ "$gap" -ge 900 ] && [ "$gap" -le 1900 ] ||
	fail "the first restart waits restart_min" "900-1900 ms between 'restarting in 1000 ms' and the next launch" "$gap ms"
"$PROXYCTL" status --json -s "$TMP/admin.sock" >"$TMP/status.json" 2>&1 || fail "status" "exit 0" "$(cat "$TMP/status.json")"
assert_matches "status counts restarts" "$TMP/status.json" '"restarts":[1-9]'
kill -TERM "$PROXYD_PID"
wait_exit 10 "$PROXYD_PID" || fail "proxyd exits after SIGTERM while a restart is pending"
assert_exit "proxyd exit code" 0 "$RC" "$TMP/proxyd.log"

step "a program that never prints a URL: startup timeout, then a restart"
cat >"$TMP/silent.sh" <<'EOF'
#!/bin/sh
echo "starting, but no URL will come"
exec sleep 300
EOF
chmod +x "$TMP/silent.sh"
write_provider_conf "
  command = \"$TMP/silent.sh\";
  url_regex = \"url=([^ ]+)\";
  startup_timeout = 1;
  restart_min = 1;"
start_provider_proxyd
wait_for_log 5 "$TMP/proxyd.log" "web: no URL within 1 s (startup_timeout); stopping the program" "startup timeout"
wait_for_log 5 "$TMP/proxyd.log" "web: restarting in 1000 ms" "restart after the timeout"
assert_contains "the program was ended by SIGTERM" "$TMP/proxyd.log" "web: program killed by signal 15"
wait_for 5 eval "[ \$(count_lines '$TMP/proxyd.log' 'web: started') -ge 2 ]" ||
	fail "launched again" "two 'web: started' lines" "$(cat "$TMP/proxyd.log")"
[ ! -e "$TMP/web.url" ] || fail "no state file without a URL" "no $TMP/web.url" "$(cat "$TMP/web.url")"
kill -TERM "$PROXYD_PID"
wait_exit 10 "$PROXYD_PID" || fail "proxyd exits after SIGTERM"

step "a URL whose health check fails health_failures times: restarted"
dead_port=$(free_port)
cat >"$TMP/unhealthy.sh" <<EOF
#!/bin/sh
echo "url=http://127.0.0.1:$dead_port/"
exec sleep 300
EOF
chmod +x "$TMP/unhealthy.sh"
write_provider_conf "
  command = \"$TMP/unhealthy.sh\";
  url_regex = \"url=([^ ]+)\";
  health_interval = 1;
  health_timeout = 1;
  health_failures = 2;
  restart_min = 1;"
start_provider_proxyd
wait_for_log 5 "$TMP/proxyd.log" "web: public URL http://127.0.0.1:$dead_port/" "the URL"
wait_for_log 6 "$TMP/proxyd.log" "web: 2 health checks failed in a row; restarting the program" "restart after 2 failed checks"
assert_contains "first failure" "$TMP/proxyd.log" "web: health check failed (1 of 2): Connection refused"
assert_contains "second failure" "$TMP/proxyd.log" "web: health check failed (2 of 2): Connection refused"
wait_for 5 eval "[ \$(count_lines '$TMP/proxyd.log' 'web: started') -ge 2 ]" ||
	fail "launched again" "two 'web: started' lines" "$(cat "$TMP/proxyd.log")"

step "once the local service answers at that URL, the health check passes"
LOCAL_PORT=$dead_port
start_local_service
# ("passed" for the first check of a launch, "passes again" after a failed one)
wait_for 8 grep -qE "web: health check (passed|passes again)" "$TMP/proxyd.log" ||
	fail "a passing check" "web: health check passed (or passes again) within 8 s" "$(cat "$TMP/proxyd.log")"
launches=$(count_lines "$TMP/proxyd.log" "web: started")
sleep 2
assert_eq "no restart after it" "$launches" "$(count_lines "$TMP/proxyd.log" "web: started")"
exit 0
